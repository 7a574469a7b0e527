//! Bearer-token checks for operator routes. Tokens are compared in constant time and never logged.
use worker::{Env, Request};

/// Whether the request carries `Authorization: Bearer <t>` where `t` equals one of the named secrets.
/// A secret that is not configured matches nothing.
pub fn bearer_matches(req: &Request, env: &Env, secret_names: &[&str]) -> bool {
    let Some(header) = req.headers().get("authorization").ok().flatten() else {
        return false;
    };
    let Some(presented) = header.strip_prefix("Bearer ") else {
        return false;
    };
    secret_names.iter().any(|name| {
        let expected = env.secret(name).map(|s| s.to_string()).or_else(|_| env.var(name).map(|v| v.to_string()));
        matches!(expected, Ok(expected) if !expected.is_empty() && constant_time_eq(presented.as_bytes(), expected.as_bytes()))
    })
}

/// Compares without an early exit on the first differing byte (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
