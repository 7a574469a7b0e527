//! The platform side of configuration: `[vars]` and secrets read from the `Env`. Parsing and every rule
//! live in [`pve_edge::config`]; this module only supplies the lookup function.
pub use pve_edge::config::ConfigError;
use worker::Env;

/// The lookup [`pve_edge::config`] parses from: a var or secret by name, `None` when it is not set.
pub fn source(env: &Env) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| env.var(name).ok().map(|v| v.to_string())
}

/// The value of a var or secret, or `None` when it is not set (or blank).
pub fn text(env: &Env, var: &str) -> Option<String> {
    pve_edge::config::text(&source(env), var)
}

/// A boolean var: "true" / "false" (default when unset). Only the test routes' switch reads one here.
#[cfg(feature = "test-hooks")]
pub fn flag(env: &Env, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    pve_edge::config::flag(&source(env), var, default)
}
