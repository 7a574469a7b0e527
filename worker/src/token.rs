//! Small primitives for secrets and identifiers: random ids and tokens, SHA-256 in hex. The
//! constant-time comparison is `pve_edge::http::ct_eq`.
use sha2::{Digest, Sha256};

/// `prefix` followed by `bytes` random bytes in hex, from the platform's CSPRNG.
pub fn random_id(prefix: &str, bytes: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf)?;
    let mut out = String::with_capacity(prefix.len() + 2 * bytes);
    out.push_str(prefix);
    out.push_str(&hex(&buf));
    Ok(out)
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// A uniform random `u64`, or `None` if the CSPRNG failed (callers pick an explicit fallback).
pub fn random_u64() -> Option<u64> {
    let mut buf = [0u8; 8];
    getrandom::getrandom(&mut buf).ok()?;
    Some(u64::from_le_bytes(buf))
}
