//! Error codes shared by every operation: a JSON syntax error is `malformed_json`; valid JSON of the
//! wrong shape is never reported as malformed (regression: a number where an enum's string belongs).
use pve_api::{handle, ErrorCode, Operation};

fn check(op: Operation, body: &str, expect: ErrorCode) {
    let err = handle(op, body).expect_err(body);
    assert_eq!(err.code, expect, "{body}: {err}");
}

#[test]
fn syntax_versus_shape() {
    use Operation::*;
    check(Starforce, "{", ErrorCode::MalformedJson);
    check(Potential, "[1,", ErrorCode::MalformedJson);
    check(Flame, "nope", ErrorCode::MalformedJson);
    check(
        Starforce,
        r#"{"item_level":200,"from_star":0,"to_star":22,"ruleset":5}"#,
        ErrorCode::InvalidType,
    );
    check(
        Starforce,
        r#"{"item_level":200,"from_star":0,"to_star":22,"mvp":true}"#,
        ErrorCode::InvalidType,
    );
    check(
        Potential,
        r#"{"cube":5,"part":"무기","level":200,"grade":"레전드리","goal":{"at_least":{"att_pct":21}}}"#,
        ErrorCode::InvalidType,
    );
    check(
        Flame,
        r#"{"flame":7,"item":{"level":200,"boss":true,"kind":"armor"},"score":{"class":"히어로"},"target_score":120}"#,
        ErrorCode::InvalidType,
    );
}
