//! Every D1 statement the Worker runs, as a pure value: its SQL text and its binds, in the order of the
//! text's `?N` placeholders ([`Statement`]), with the row types the queries read (`#[derive(Deserialize)]`)
//! and the rules on what a result means ([`changes`]: a missing row count is an error, never 0).
//!
//! The Worker's one executor (`worker/src/d1.rs`) turns a [`Statement`] into a prepared statement and
//! runs it; it decides nothing. Here, natively, every statement is checked to bind exactly the
//! placeholders its text uses ([`Statement::check`]), and each batch's order is what its caller relies on
//! (the index whose row count says whether the batch's write happened).
//!
//! - [`watches`]: idempotency records, watches, valuation snapshots, the sweep;
//! - [`outbox`]: an event's insert, the relay's claim and fenced settles, dead letters, counts;
//! - [`alerts`]: the alert state (dedup windows) and its guarded inserts;
//! - [`health`]: the `/healthz` probes.
pub mod alerts;
pub mod health;
pub mod outbox;
pub mod watches;

use crate::error::EdgeError;

/// One value bound to a placeholder. Integers go to D1 as JS numbers, exact only up to 2^53
/// ([`js_number`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Int(u64),
    Real(f64),
    Bool(bool),
    Null,
}

impl From<&str> for Bind {
    fn from(s: &str) -> Bind {
        Bind::Text(s.to_owned())
    }
}

impl From<&String> for Bind {
    fn from(s: &String) -> Bind {
        Bind::Text(s.clone())
    }
}

impl From<String> for Bind {
    fn from(s: String) -> Bind {
        Bind::Text(s)
    }
}

impl From<u64> for Bind {
    fn from(n: u64) -> Bind {
        Bind::Int(n)
    }
}

impl From<u32> for Bind {
    fn from(n: u32) -> Bind {
        Bind::Int(n.into())
    }
}

impl From<f64> for Bind {
    fn from(x: f64) -> Bind {
        Bind::Real(x)
    }
}

impl From<bool> for Bind {
    fn from(b: bool) -> Bind {
        Bind::Bool(b)
    }
}

impl<T: Into<Bind>> From<Option<T>> for Bind {
    fn from(v: Option<T>) -> Bind {
        v.map_or(Bind::Null, Into::into)
    }
}

/// The largest integer a JS number holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// `n` as the JS number D1 receives.
///
/// # Errors
/// `Internal` above [`MAX_SAFE_INTEGER`]: rounding it would store another number than the one meant.
pub fn js_number(n: u64) -> Result<f64, EdgeError> {
    if n > MAX_SAFE_INTEGER {
        return Err(EdgeError::internal(format!(
            "{n} does not fit a D1 number exactly"
        )));
    }
    Ok(n as f64)
}

/// A statement: its SQL text and the values of `?1`, `?2`, … in that order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: &'static str,
    pub binds: Vec<Bind>,
}

impl Statement {
    pub fn new(sql: &'static str, binds: Vec<Bind>) -> Statement {
        Statement { sql, binds }
    }

    /// The statement's numbered placeholders, in ascending order, each once.
    pub fn placeholders(&self) -> Vec<usize> {
        let bytes = self.sql.as_bytes();
        let mut found = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'?' {
                let digits: String = self.sql[i + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                found.push(digits.parse().unwrap_or(0));
                i += 1 + digits.len();
            } else {
                i += 1;
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Whether the binds fit the text: the placeholders are exactly `?1` to `?N` (no gap, no bare `?`)
    /// and there are exactly N binds.
    ///
    /// # Errors
    /// What does not fit, in words.
    pub fn check(&self) -> Result<(), String> {
        let used = self.placeholders();
        let expected: Vec<usize> = (1..=used.len()).collect();
        if used != expected {
            return Err(format!(
                "placeholders {used:?} are not ?1..?{} in `{}`",
                used.len(),
                self.sql
            ));
        }
        if used.len() != self.binds.len() {
            return Err(format!(
                "{} placeholders, {} binds in `{}`",
                used.len(),
                self.binds.len(),
                self.sql
            ));
        }
        Ok(())
    }
}

/// The rows a statement changed, from its result's `changes` count.
///
/// # Errors
/// `Internal` when D1 gave no count: never read as 0, which would turn into "fenced out" or "not found".
pub fn changes(count: Option<usize>) -> Result<u64, EdgeError> {
    count
        .map(|n| n as u64)
        .ok_or_else(|| EdgeError::internal("D1 result has no changes count"))
}

/// The rows changed by statement `index` of a batch, from the batch's `changes` counts in order.
///
/// # Errors
/// `Internal` when the batch answered fewer results than that, or that result has no count.
pub fn changes_at(counts: &[Option<usize>], index: usize) -> Result<u64, EdgeError> {
    let count = counts
        .get(index)
        .ok_or_else(|| EdgeError::internal("D1 batch returned fewer results than statements"))?;
    changes(*count)
}

/// One column of a single-column query (`SELECT 1 AS found`, `SELECT seq`, …).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Found {
    pub found: u64,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every statement of the crate, each built once with sample arguments.
    pub(crate) fn every_statement() -> Vec<Statement> {
        let mut all = Vec::new();
        all.extend(watches::tests::examples());
        all.extend(outbox::tests::examples());
        all.extend(alerts::tests::examples());
        all.extend(health::examples());
        all
    }

    #[test]
    fn every_statement_binds_exactly_its_placeholders() {
        let all = every_statement();
        assert!(all.len() >= 35, "{} statements", all.len());
        for s in &all {
            if let Err(e) = s.check() {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn check_finds_a_missing_bind_an_extra_bind_and_a_gap() {
        let s = |sql, binds| Statement::new(sql, binds);
        assert!(s("SELECT ?1, ?2", vec![1u64.into(), 2u64.into()]).check().is_ok());
        assert!(s("SELECT ?1, ?2, ?1", vec![1u64.into(), 2u64.into()])
            .check()
            .is_ok());
        assert!(s("SELECT ?1, ?2", vec![1u64.into()]).check().is_err());
        assert!(s("SELECT ?1", vec![1u64.into(), 2u64.into()]).check().is_err());
        assert!(s("SELECT ?1, ?3", vec![1u64.into(), 2u64.into()])
            .check()
            .is_err());
        assert!(s("SELECT ?", vec![1u64.into()]).check().is_err());
        assert!(s("SELECT 1", vec![]).check().is_ok());
        assert_eq!(s("SELECT ?10, ?2, ?1", vec![]).placeholders(), vec![1, 2, 10]);
    }

    #[test]
    fn a_missing_changes_count_is_an_error_not_zero() {
        assert_eq!(changes(Some(0)).unwrap(), 0);
        assert_eq!(changes(Some(3)).unwrap(), 3);
        assert_eq!(changes(None).unwrap_err().code(), "internal");
        assert_eq!(changes_at(&[Some(1), Some(0)], 1).unwrap(), 0);
        assert_eq!(changes_at(&[Some(1), None], 1).unwrap_err().code(), "internal");
        assert_eq!(changes_at(&[Some(1)], 1).unwrap_err().code(), "internal");
    }

    #[test]
    fn integers_beyond_two_to_the_53_are_refused_not_rounded() {
        assert_eq!(js_number(MAX_SAFE_INTEGER).unwrap(), 9_007_199_254_740_991.0);
        assert_eq!(js_number(MAX_SAFE_INTEGER + 1).unwrap_err().code(), "internal");
    }

    #[test]
    fn optional_values_bind_as_null() {
        assert_eq!(Bind::from(None::<&str>), Bind::Null);
        assert_eq!(Bind::from(Some("x")), Bind::Text("x".into()));
        assert_eq!(Bind::from(7u32), Bind::Int(7));
    }
}
