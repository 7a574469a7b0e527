//! Bearer-token checks for operator routes. Tokens are compared in constant time and never logged.
use pve_edge::http::{bearer, ct_eq};
use worker::{Env, Request};

/// Whether the request carries `Authorization: Bearer <t>` (scheme in any case) where `t` equals one of
/// the named secrets. A secret that is not configured matches nothing.
pub fn bearer_matches(req: &Request, env: &Env, secret_names: &[&str]) -> bool {
    let Some(header) = req.headers().get("authorization").ok().flatten() else {
        return false;
    };
    let Some(presented) = bearer(&header) else {
        return false;
    };
    secret_names.iter().any(|name| {
        let expected = env.secret(name).map(|s| s.to_string()).or_else(|_| env.var(name).map(|v| v.to_string()));
        matches!(expected, Ok(expected) if !expected.is_empty() && ct_eq(presented.as_bytes(), expected.as_bytes()))
    })
}
