//! The `/healthz` probes of D1: the applied migrations, and that the outbox table answers.
use super::statement::Statement;
use serde::Deserialize;

/// The applied migrations, in order. Rows: [`Migration`].
pub fn migrations() -> Statement {
    Statement::new("SELECT name FROM d1_migrations ORDER BY id", vec![])
}

/// A row of [`migrations`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Migration {
    pub name: String,
}

/// The outbox's row count. Row: [`Count`].
pub fn outbox_rows() -> Statement {
    Statement::new("SELECT count(*) AS n FROM outbox", vec![])
}

/// A row of [`outbox_rows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Count {
    pub n: u64,
}

#[cfg(test)]
pub(crate) fn examples() -> Vec<Statement> {
    vec![migrations(), outbox_rows()]
}
