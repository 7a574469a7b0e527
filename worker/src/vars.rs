//! Settings read from `[vars]` (and secrets) with documented defaults. A var that is set but does not
//! parse is an explicit [`ConfigError`], never silently replaced by the default.
use std::fmt;
use std::str::FromStr;
use worker::Env;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "var {} = {:?} is not {}", self.var, self.value, self.expected)
    }
}

impl std::error::Error for ConfigError {}

/// The value of a var or secret, or `None` when it is not set (or set to the empty string).
pub fn text(env: &Env, var: &str) -> Option<String> {
    env.var(var)
        .ok()
        .map(|v| v.to_string())
        .filter(|s| !s.trim().is_empty())
}

/// A number var with a default, checked against `min..=max`.
pub fn number<T>(env: &Env, var: &'static str, default: T, min: T, max: T) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Copy,
{
    match text(env, var) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<T>() {
            Ok(v) if v >= min && v <= max => Ok(v),
            _ => Err(ConfigError {
                var,
                value: raw,
                expected: "a number in the allowed range",
            }),
        },
    }
}

/// A boolean var: "true" / "false" (default when unset).
pub fn flag(env: &Env, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match text(env, var).as_deref().map(str::trim) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ConfigError {
            var,
            value: other.to_owned(),
            expected: "\"true\" or \"false\"",
        }),
    }
}
