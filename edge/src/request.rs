//! The edge's own request bodies, parsed by pve-api's one strict parser ([`pve_api::parse_request`]), so
//! a bad body gets the same error code on `/v1/watches` as on the engine routes (`malformed_json` is
//! decided on the text first; serde's "invalid value" is `out_of_range`, as in the engine).
use crate::error::EdgeError;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Parse a JSON body strictly, with pve-api's error classification.
///
/// # Errors
/// [`EdgeError::Api`] with the code [`pve_api::parse_request`] gives.
pub fn parse<T: DeserializeOwned>(body: &str) -> Result<T, EdgeError> {
    pve_api::parse_request(body).map_err(EdgeError::Api)
}

/// Requests larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body limit of an engine operation: a Nexon item-equipment answer (valuation) is about 360 KB as
/// Nexon sends it; every other request is small.
pub fn max_body_bytes(op: pve_api::Operation) -> usize {
    match op {
        pve_api::Operation::Valuation => 1024 * 1024,
        _ => MAX_BODY_BYTES,
    }
}

/// The body-size rule, applied to the declared `Content-Length` (before reading) and to the bytes read:
/// more than `limit` is `payload_too_large`. A `Content-Length` that is not a number is left to the
/// bytes read.
///
/// # Errors
/// [`EdgeError::PayloadTooLarge`].
pub fn check_len(declared: Option<&str>, read: Option<usize>, limit: usize) -> Result<(), EdgeError> {
    let declared = declared.and_then(|v| v.trim().parse::<usize>().ok());
    if declared.into_iter().chain(read).any(|n| n > limit) {
        return Err(EdgeError::PayloadTooLarge { limit });
    }
    Ok(())
}

/// A body's bytes as UTF-8 text.
///
/// # Errors
/// `malformed_json` when they are not UTF-8.
pub fn utf8(bytes: Vec<u8>) -> Result<String, EdgeError> {
    String::from_utf8(bytes).map_err(|_| {
        EdgeError::Api(pve_api::ApiError::new(
            pve_api::ErrorCode::MalformedJson,
            "the body is not valid UTF-8",
        ))
    })
}

/// `POST /v1/watches` body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWatch {
    pub character: String,
    pub webhook_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use pve_api::Operation;

    #[test]
    fn body_limits() {
        assert_eq!(max_body_bytes(Operation::Valuation), 1024 * 1024);
        assert_eq!(max_body_bytes(Operation::Starforce), MAX_BODY_BYTES);
        assert!(check_len(Some("10"), None, 10).is_ok());
        assert!(check_len(None, Some(10), 10).is_ok());
        assert!(check_len(Some("abc"), Some(3), 10).is_ok());
        assert!(check_len(None, None, 0).is_ok());
        for (declared, read) in [
            (Some("11"), None),
            (None, Some(11)),
            (Some("1"), Some(11)),
            (Some("11"), Some(1)),
        ] {
            let e = check_len(declared, read, 10).unwrap_err();
            assert_eq!(
                (e.code(), e.status()),
                ("payload_too_large", 413),
                "{declared:?} {read:?}"
            );
        }
        assert_eq!(utf8(b"ok".to_vec()).unwrap(), "ok");
        assert_eq!(utf8(vec![0xff, 0xfe]).unwrap_err().code(), "malformed_json");
    }

    fn code_on_watches(body: &str) -> &'static str {
        parse::<CreateWatch>(body).unwrap_err().code()
    }

    fn code_on_starforce(body: &str) -> &'static str {
        pve_api::handle(Operation::Starforce, body)
            .unwrap_err()
            .code
            .as_str()
    }

    /// The same bad body gets the same code on `/v1/watches` and `/v1/starforce`: both routes call these
    /// functions. Each body is bad in the same way for both request types.
    #[test]
    fn the_same_bad_body_gets_the_same_code_on_every_route() {
        for (body, code) in [
            ("", "malformed_json"),
            ("{", "malformed_json"),
            ("{\"x\": 1", "malformed_json"), // a syntax error after an unknown field: malformed first
            ("{\"character\": 1, ", "malformed_json"), // and after a mistyped one
            ("{\"x\": 1}", "unknown_field"),
            ("[]", "invalid_type"),
            ("\"text\"", "invalid_type"),
            ("null", "invalid_type"),
        ] {
            assert_eq!(code_on_watches(body), code, "/v1/watches {body:?}");
            assert_eq!(code_on_starforce(body), code, "/v1/starforce {body:?}");
        }
    }

    /// Before this parser, `/v1/watches` called serde_json directly and a truncated body that began
    /// with an unknown or mistyped field was `unknown_field` / `invalid_type` there but `malformed_json`
    /// on the engine routes; and serde's "invalid value" was `invalid_type` instead of `out_of_range`.
    #[test]
    fn regression_issue_12_watches_body_codes() {
        assert_eq!(code_on_watches("{\"x\": 1"), "malformed_json");
        assert_eq!(
            code_on_watches("{\"character\": 5, \"webhook_url\":"),
            "malformed_json"
        );
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Small {
            n: u8,
        }
        assert_eq!(parse::<Small>("{\"n\": 300}").unwrap_err().code(), "out_of_range");
        assert_eq!(parse::<Small>("{\"n\": -1}").unwrap_err().code(), "out_of_range");
        assert_eq!(
            parse::<CreateWatch>("{\"character\": \"a\"}").unwrap_err().code(),
            "missing_field"
        );
        let ok: CreateWatch = parse("{\"character\": \"a\", \"webhook_url\": \"b\"}").unwrap();
        assert_eq!(ok.character, "a");
    }
}
