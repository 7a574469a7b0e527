//! Random ids and tokens from the platform's CSPRNG. Hex and SHA-256 in hex are `pve_edge::hash`;
//! the constant-time comparison is `pve_edge::http::ct_eq`.
pub use pve_edge::hash::{hex, sha256_hex};

/// `prefix` followed by `bytes` random bytes in hex, from the platform's CSPRNG.
pub fn random_id(prefix: &str, bytes: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf)?;
    let mut out = String::with_capacity(prefix.len() + 2 * bytes);
    out.push_str(prefix);
    out.push_str(&hex(&buf));
    Ok(out)
}

/// A uniform random `u64`, or `None` if the CSPRNG failed (callers pick an explicit fallback).
pub fn random_u64() -> Option<u64> {
    let mut buf = [0u8; 8];
    getrandom::getrandom(&mut buf).ok()?;
    Some(u64::from_le_bytes(buf))
}
