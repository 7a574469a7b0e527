//! HTTP helpers, one of each: query parsing, bearer tokens, ETag matching, `Retry-After`, a
//! constant-time secret comparison, and an answer as data ([`Reply`]).
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

/// `content-type` of our JSON answers that carry a charset.
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// An HTTP answer as data: its status, exactly the headers it carries and its body. The Worker's one
/// `respond` turns it into a platform response, so what every route answers (status, headers, 304s,
/// error bodies) is decided, and tested, here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// `None`: no body at all (204, 304, HEAD; a null-body status must not carry one).
    pub body: Option<Vec<u8>>,
}

impl Reply {
    pub fn new(status: u16, body: Option<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// The same answer with one more header.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of header `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A JSON answer (`application/json`) with `cache-control: no-store`.
    ///
    /// # Errors
    /// `Internal` when `value` does not serialize (a bug in our own types).
    pub fn json<T: serde::Serialize>(value: &T, status: u16) -> Result<Reply, EdgeError> {
        let body = serde_json::to_vec(value).map_err(|e| EdgeError::internal(format!("answer body: {e}")))?;
        Ok(Reply::new(status, Some(body))
            .header("content-type", "application/json")
            .header("cache-control", "no-store"))
    }

    /// A cacheable JSON answer with its caching headers, or `304 Not Modified` (same headers, no body)
    /// when `if_none_match` names its ETag.
    pub fn cached(body: Vec<u8>, cache: &CacheHeaders, if_none_match: Option<&str>) -> Reply {
        let not_modified = if_none_match.is_some_and(|v| etag_matches(v, &cache.etag));
        let mut reply = if not_modified {
            Reply::new(304, None)
        } else {
            Reply::new(200, Some(body))
        }
        .header("content-type", JSON_UTF8)
        .header("etag", cache.etag.clone())
        .header("cache-status", cache.cache_status.clone())
        .header("cache-control", cache.cache_control.clone());
        if let Some(age) = cache.age_s {
            reply = reply.header("age", age.to_string());
        }
        reply
    }

    /// The error answer: `{"error":{"code","message","request_id"}}`, `cache-control: no-store`, and the
    /// error's own headers (`allow`, `retry-after`, `www-authenticate`).
    pub fn error(e: &EdgeError, request_id: &str) -> Reply {
        let mut reply = Reply::new(e.status(), Some(e.body(request_id).into_bytes()))
            .header("content-type", JSON_UTF8)
            .header("cache-control", "no-store");
        reply.headers.extend(e.extra_headers());
        reply
    }

    /// A plain-text error (`Response::error`'s shape: no content type), as our Durable Objects answer a path
    /// or a body they do not know.
    pub fn text_error(status: u16, message: &str) -> Reply {
        Reply::new(status, Some(message.as_bytes().to_vec()))
    }

    /// `OPTIONS` on a declared path: 204 with the methods it allows.
    pub fn options(allow: &str) -> Reply {
        Reply::new(204, None).header("allow", allow)
    }

    /// The answer to `HEAD`: the GET answer's status and headers, without its body.
    #[must_use]
    pub fn without_body(self) -> Reply {
        Reply { body: None, ..self }
    }

    /// The fetch entry's last touches on every answer: `HEAD` drops the body, `x-request-id` names the
    /// request, and `cache-status` is the task's when the handler did not set one (error answers too).
    #[must_use]
    pub fn finish(self, head: bool, request_id: &str, cache_status: Option<String>) -> Reply {
        let mut reply = if head { self.without_body() } else { self };
        reply = reply.header("x-request-id", request_id);
        match cache_status {
            Some(status) if reply.get("cache-status").is_none() => reply.header("cache-status", status),
            _ => reply,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_answer_is_304_without_a_body_when_its_etag_is_named() {
        let cache = CacheHeaders {
            etag: "\"e1\"".into(),
            cache_status: "pve; hit".into(),
            cache_control: "max-age=60".into(),
            age_s: Some(7),
        };
        let ok = Reply::cached(b"{}".to_vec(), &cache, None);
        assert_eq!((ok.status, ok.body.as_deref()), (200, Some(&b"{}"[..])));
        assert_eq!(ok.get("content-type"), Some(JSON_UTF8));
        assert_eq!(ok.get("etag"), Some("\"e1\""));
        assert_eq!(ok.get("age"), Some("7"));
        assert_eq!(ok.get("cache-status"), Some("pve; hit"));
        assert_eq!(ok.get("cache-control"), Some("max-age=60"));
        let other = Reply::cached(b"{}".to_vec(), &cache, Some("\"e2\""));
        assert_eq!(other.status, 200);
        let not_modified = Reply::cached(b"{}".to_vec(), &cache, Some("W/\"e1\""));
        assert_eq!((not_modified.status, not_modified.body), (304, None));
        assert_eq!(
            not_modified.headers, ok.headers,
            "a 304 carries the 200's headers"
        );
        let no_age = Reply::cached(Vec::new(), &CacheHeaders { age_s: None, ..cache }, None);
        assert_eq!(no_age.get("age"), None);
    }

    #[test]
    fn error_and_json_answers_are_never_stored() {
        let e = EdgeError::MethodNotAllowed { allow: "GET, HEAD" };
        let r = Reply::error(&e, "req1");
        assert_eq!(r.status, 405);
        assert_eq!(r.get("cache-control"), Some("no-store"));
        assert_eq!(r.get("allow"), Some("GET, HEAD"));
        assert_eq!(r.get("content-type"), Some(JSON_UTF8));
        assert_eq!(r.body, Some(e.body("req1").into_bytes()));
        let j = Reply::json(&serde_json::json!({"a": 1}), 201).unwrap();
        assert_eq!((j.status, j.body.as_deref()), (201, Some(&br#"{"a":1}"#[..])));
        assert_eq!(j.get("Content-Type"), Some("application/json"));
        assert_eq!(j.get("cache-control"), Some("no-store"));
        let o = Reply::options("GET, HEAD, OPTIONS");
        assert_eq!((o.status, o.get("allow")), (204, Some("GET, HEAD, OPTIONS")));
        assert_eq!(o.body, None);
        let head = j.clone().without_body();
        assert_eq!((head.status, head.body, head.headers), (201, None, j.headers));
    }

    #[test]
    fn every_answer_names_its_request_and_keeps_a_handlers_cache_status() {
        let r =
            Reply::error(&EdgeError::CharacterNotFound, "r1").finish(false, "r1", Some("pve; hit".into()));
        assert_eq!(r.get("x-request-id"), Some("r1"));
        assert_eq!(r.get("cache-status"), Some("pve; hit"));
        assert!(r.body.is_some());
        let own = Reply::new(200, Some(vec![1]))
            .header("cache-status", "pve; fwd=miss")
            .finish(true, "r2", Some("pve; hit".into()));
        assert_eq!(own.body, None, "HEAD: no body");
        assert_eq!(
            own.headers.iter().filter(|(n, _)| *n == "cache-status").count(),
            1
        );
        assert_eq!(own.get("cache-status"), Some("pve; fwd=miss"));
        assert_eq!(
            Reply::new(204, None)
                .finish(false, "r3", None)
                .get("cache-status"),
            None
        );
    }

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
