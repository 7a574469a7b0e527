//! HTTP helpers, one of each: query parsing, bearer tokens, ETag matching, `Retry-After`, and a
//! constant-time secret comparison.
use crate::error::EdgeError;
use crate::time;
use sha2::{Digest, Sha256};

/// A query string's parameters: only allowed names, each at most once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses decoded `(name, value)` pairs (e.g. `url.query_pairs()`). An unknown name or a repeated
    /// one is an `invalid_query` error.
    pub fn parse<K, V>(pairs: impl IntoIterator<Item = (K, V)>, allowed: &[&str]) -> Result<Query, EdgeError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut out = Query::default();
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref());
            if !allowed.contains(&k) {
                return Err(EdgeError::InvalidQuery(format!(
                    "unknown parameter {k:?}; allowed: {allowed:?}"
                )));
            }
            if out.get(k).is_some() {
                return Err(EdgeError::InvalidQuery(format!("{k} given twice")));
            }
            out.pairs.push((k.to_owned(), v.to_owned()));
        }
        Ok(out)
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The token of an `Authorization: Bearer <token>` header value. The scheme is case-insensitive
/// (RFC 7235 §2.1); an empty token is no token.
pub fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// RFC 9110 weak comparison of an `If-None-Match` list against our (quoted) ETag.
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let ours = etag.trim_start_matches("W/");
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

/// A `Retry-After` value (delay in seconds, or an HTTP-date, RFC 9110 §10.2.3) as milliseconds from
/// `now_ms`, between 1 and `cap_ms`. `None` when it is neither form.
pub fn retry_after_ms(value: &str, now_ms: u64, cap_ms: u64) -> Option<u64> {
    let value = value.trim();
    let ms = if let Ok(secs) = value.parse::<u64>() {
        secs.saturating_mul(1000)
    } else {
        time::parse_http_date(value)?.saturating_sub(now_ms)
    };
    Some(ms.clamp(1, cap_ms.max(1)))
}

/// Compares two secrets in time independent of where they differ. Both sides are hashed first, so
/// neither the position of the first difference nor the length of the expected secret shows.
pub fn ct_eq(given: &[u8], expected: &[u8]) -> bool {
    let a = Sha256::digest(given);
    let b = Sha256::digest(expected);
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The caching headers of a JSON answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheHeaders {
    /// A strong validator, quoted (`"…"`).
    pub etag: String,
    /// RFC 9211 `Cache-Status`.
    pub cache_status: String,
    pub cache_control: String,
    /// Seconds since the data was fetched from the origin, when that is meaningful.
    pub age_s: Option<u64>,
}

impl CacheHeaders {
    /// An engine answer's: a strong ETag from the first 32 hex digits of its content hash, and a day of
    /// public caching (an answer depends only on the request and the engine version, which its cache key
    /// carries); no `Age`.
    pub fn engine(content_hash: &str, cache_status: String) -> CacheHeaders {
        CacheHeaders {
            etag: format!("\"{}\"", content_hash.get(..32).unwrap_or(content_hash)),
            cache_status,
            cache_control: "public, max-age=86400".to_owned(),
            age_s: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_answers_carry_a_32_digit_etag_and_a_day_of_caching() {
        let hash = "0123456789abcdef".repeat(4);
        let h = CacheHeaders::engine(&hash, "pve; hit".into());
        assert_eq!(h.etag, "\"0123456789abcdef0123456789abcdef\"");
        assert_eq!(h.cache_control, "public, max-age=86400");
        assert_eq!(h.age_s, None);
        // A short hash (never written so) is used whole rather than panicking.
        assert_eq!(CacheHeaders::engine("ab", String::new()).etag, "\"ab\"");
    }
    use proptest::prelude::*;

    #[test]
    fn query_rejects_unknown_and_repeated_names() {
        let q = Query::parse([("preset", "2"), ("refresh", "true")], &["preset", "refresh"]).unwrap();
        assert_eq!(q.get("preset"), Some("2"));
        assert_eq!(q.get("refresh"), Some("true"));
        assert_eq!(q.get("other"), None);
        let e = Query::parse([("preset", "1"), ("preset", "2")], &["preset"]).unwrap_err();
        assert_eq!(e.code(), "invalid_query");
        assert!(e.public_message().contains("given twice"), "{e}");
        let e = Query::parse([("x", "1")], &["preset"]).unwrap_err();
        assert!(e.public_message().contains("unknown parameter"), "{e}");
        assert_eq!(
            Query::parse(Vec::<(&str, &str)>::new(), &[]).unwrap(),
            Query::default()
        );
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer(""), None);
    }

    #[test]
    fn if_none_match_lists() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", W/\"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
        assert!(!etag_matches("", "\"abc\""));
    }

    #[test]
    fn retry_after_both_forms_capped() {
        let now = 1_445_412_480_000; // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(retry_after_ms("3", now, 600_000), Some(3_000));
        assert_eq!(retry_after_ms(" 0 ", now, 600_000), Some(1));
        assert_eq!(retry_after_ms("99999999", now, 600_000), Some(600_000));
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", now, 600_000),
            Some(30_000)
        );
        // A date in the past: retry at once (but never 0).
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:00:00 GMT", now, 600_000),
            Some(1)
        );
        assert_eq!(
            retry_after_ms("Thu, 22 Oct 2015 07:28:00 GMT", now, 600_000),
            Some(600_000)
        );
        assert_eq!(retry_after_ms("soon", now, 600_000), None);
        assert_eq!(retry_after_ms("-1", now, 600_000), None);
    }

    #[test]
    fn ct_eq_is_equality() {
        assert!(ct_eq(b"secret", b"secret"));
        assert!(!ct_eq(b"secret", b"secreT"));
        assert!(!ct_eq(b"secret", b"secret1"));
        assert!(!ct_eq(b"", b"x"));
        assert!(ct_eq(b"", b""));
    }

    proptest! {
        #[test]
        fn ct_eq_agrees_with_eq(a in proptest::collection::vec(any::<u8>(), 0..40),
                                b in proptest::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(ct_eq(&a, &b), a == b);
            prop_assert!(ct_eq(&a, &a));
        }

        #[test]
        fn retry_after_stays_in_bounds(secs in any::<u64>(), cap in 1u64..10_000_000) {
            let ms = retry_after_ms(&secs.to_string(), 0, cap).unwrap();
            prop_assert!((1..=cap).contains(&ms));
        }
    }
}
