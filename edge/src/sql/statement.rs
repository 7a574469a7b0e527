//! The statement value, its binds, and the rules on a result's row count.
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
mod tests {
    use crate::sql::statement::*;

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
