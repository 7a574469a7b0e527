//! What a request may name, checked before anything is looked up or stored: character names (the game's
//! rule), `Idempotency-Key` headers, and ocids as the upstream returns them.
use crate::error::EdgeError;
use percent_encoding::percent_decode_str;

/// Character name length bounds in Nexon's counting (a Hangul syllable counts 2).
pub const MAX_NAME_WEIGHT: usize = 12;
pub const MIN_NAME_WEIGHT: usize = 2;
/// The longest `Idempotency-Key` we accept.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// A character name as the game allows it: Hangul syllables, Latin letters and digits, 2 to 12 in
/// Nexon's counting (a Hangul syllable counts 2). The lookup routes and the watches use this one rule, so
/// a watch can only name a character that a lookup could find.
///
/// # Errors
/// [`EdgeError::InvalidCharacterName`] saying which rule failed.
pub fn character_name(name: &str) -> Result<String, EdgeError> {
    let invalid = |reason| Err(EdgeError::InvalidCharacterName { reason });
    let mut weight = 0usize;
    for c in name.chars() {
        weight += match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => 1,
            '\u{AC00}'..='\u{D7A3}' => 2,
            _ => return invalid("only Hangul syllables, Latin letters and digits are allowed"),
        };
        if weight > MAX_NAME_WEIGHT {
            return invalid("longer than 12 (a Hangul syllable counts 2)");
        }
    }
    if weight < MIN_NAME_WEIGHT {
        return invalid("shorter than 2 (a Hangul syllable counts 2)");
    }
    Ok(name.to_owned())
}

/// A character name from a raw (percent-encoded) path segment, then [`character_name`].
///
/// # Errors
/// [`EdgeError::InvalidCharacterName`]: too long before decoding, not percent-encoded UTF-8, or the rule.
pub fn character_name_segment(segment: &str) -> Result<String, EdgeError> {
    // 12 Hangul syllables percent-encoded are 108 bytes; anything longer is too long anyway.
    if segment.len() > 128 {
        return Err(EdgeError::InvalidCharacterName {
            reason: "longer than 12 (a Hangul syllable counts 2)",
        });
    }
    let name = percent_decode_str(segment)
        .decode_utf8()
        .map_err(|_| EdgeError::InvalidCharacterName {
            reason: "not percent-encoded UTF-8",
        })?;
    character_name(&name)
}

/// The `Idempotency-Key` header: required, visible ASCII, 1 to 255 characters.
///
/// # Errors
/// [`EdgeError::IdempotencyKeyMissing`] when absent, [`EdgeError::IdempotencyKeyInvalid`] otherwise.
pub fn idempotency_key(header: Option<String>) -> Result<String, EdgeError> {
    let key = header.ok_or(EdgeError::IdempotencyKeyMissing)?;
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY_LEN
        || !key.bytes().all(|b| (0x21..=0x7e).contains(&b))
    {
        return Err(EdgeError::IdempotencyKeyInvalid);
    }
    Ok(key)
}

/// Nexon ocids are 32 hex characters; accept any token of 1 to 64 URL-safe characters (`A-Za-z0-9-_`),
/// so an ocid can go into a cache key and a URL path without escaping.
pub fn is_valid_ocid(ocid: &str) -> bool {
    (1..=64).contains(&ocid.len())
        && ocid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(segment: &str, ok: bool) {
        assert_eq!(character_name_segment(segment).is_ok(), ok, "{segment:?}");
    }

    #[test]
    fn names() {
        check("%EC%97%90%EB%B0%98", true); // 에반
        check("load17", true);
        check("Ab", true);
        check("abcdefghijkl", true);
        check("%EA%B0%80", true); // 가: one syllable counts 2
        check("a", false);
        check("abcdefghijklm", false);
        check("", false);
        check("has%20space", false);
        check("a.b", false);
        check("a-b", false);
        check("%3Cscript%3E", false);
        check("%F0%9F%98%80ok", false); // emoji
        check("%FF%FE", false); // not UTF-8
        check("%ZZab", false); // not an escape: '%' is not allowed
        check("%EA%B0%80%EA%B0%80%EA%B0%80%EA%B0%80%EA%B0%80%EA%B0%80", true); // 6 syllables = 12
        check(
            "%EA%B0%80%EA%B0%80%EA%B0%80%EA%B0%80%EA%B0%80%EA%B0%80%EA%B0%80",
            false,
        ); // 7 = 14
        check(&"a".repeat(500), false);
    }

    fn reason(name: &str) -> &'static str {
        match character_name(name) {
            Err(EdgeError::InvalidCharacterName { reason }) => reason,
            other => panic!("{name:?}: {other:?}"),
        }
    }

    #[test]
    fn each_rule_says_why() {
        assert_eq!(reason("a"), "shorter than 2 (a Hangul syllable counts 2)");
        assert_eq!(reason(""), "shorter than 2 (a Hangul syllable counts 2)");
        assert_eq!(
            reason("가나다라마바사"),
            "longer than 12 (a Hangul syllable counts 2)"
        );
        assert_eq!(
            reason("ㄱㄴ"),
            "only Hangul syllables, Latin letters and digits are allowed"
        ); // jamo
        assert_eq!(
            reason("ａｂ"),
            "only Hangul syllables, Latin letters and digits are allowed"
        ); // full width
        assert!(matches!(
            character_name_segment("%C3%28ab"),
            Err(EdgeError::InvalidCharacterName {
                reason: "not percent-encoded UTF-8"
            })
        ));
        assert_eq!(character_name("가a1").unwrap(), "가a1");
    }

    #[test]
    fn idempotency_keys() {
        assert!(matches!(
            idempotency_key(None),
            Err(EdgeError::IdempotencyKeyMissing)
        ));
        for bad in ["", " ", "a b", "é", "tab\t", "\u{7f}"] {
            assert!(
                matches!(
                    idempotency_key(Some(bad.into())),
                    Err(EdgeError::IdempotencyKeyInvalid)
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            idempotency_key(Some("k".repeat(256))),
            Err(EdgeError::IdempotencyKeyInvalid)
        ));
        assert_eq!(idempotency_key(Some("k".repeat(255))).unwrap().len(), 255);
        assert_eq!(idempotency_key(Some("!~".into())).unwrap(), "!~");
    }

    #[test]
    fn ocids() {
        assert!(is_valid_ocid("e0a4f439e53c369866b55297d2f5f4eb"));
        assert!(is_valid_ocid("a-b_C"));
        assert!(is_valid_ocid(&"a".repeat(64)));
        for bad in ["", "a/b", "a b", "..", "a?x=1", "가", "%2e"] {
            assert!(!is_valid_ocid(bad), "{bad:?}");
        }
        assert!(!is_valid_ocid(&"a".repeat(65)));
    }

    proptest! {
        /// Whatever is accepted is 2 to 12 in Nexon's counting and made only of the allowed characters.
        #[test]
        fn accepted_names_obey_the_rule(name in "[a-zA-Z0-9가-힣ㄱ-ㅎ .\\-]{0,14}") {
            if let Ok(n) = character_name(&name) {
                let weight: usize = n.chars().map(|c| if c.is_ascii_alphanumeric() { 1 } else { 2 }).sum();
                prop_assert!((MIN_NAME_WEIGHT..=MAX_NAME_WEIGHT).contains(&weight));
                prop_assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || ('가'..='힣').contains(&c)));
            }
        }

        /// A name that passes also passes when it arrives percent-encoded in a path.
        #[test]
        fn encoding_does_not_change_the_verdict(name in "[a-zA-Z0-9가-힣]{0,8}") {
            let encoded: String = name.bytes().map(|b| format!("%{b:02X}")).collect();
            prop_assert_eq!(character_name(&name).is_ok(), character_name_segment(&encoded).is_ok());
        }
    }
}
