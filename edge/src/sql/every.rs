//! The test over every statement of the crate: each binds exactly the placeholders its text uses.
use super::statement::Statement;

/// Every statement of the crate, each built once with sample arguments.
pub(super) fn every_statement() -> Vec<Statement> {
    let mut all = Vec::new();
    all.extend(super::watches::tests::examples());
    all.extend(super::outbox::tests::examples());
    all.extend(super::alerts::tests::examples());
    all.extend(super::health::examples());
    all
}

#[test]
fn every_statement_binds_exactly_its_placeholders() {
    let all = every_statement();
    assert!(all.len() >= 40, "{} statements", all.len());
    for s in &all {
        if let Err(e) = s.check() {
            panic!("{e}");
        }
    }
}
