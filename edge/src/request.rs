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
