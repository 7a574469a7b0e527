//! The dead-letter table's rules: the listing cursor (its encoding and validation), how a page is cut,
//! the listing's query parameters, and when a dead letter may be replayed.
use crate::error::EdgeError;
use crate::http::Query;

/// The cursor's prefix: the version of its encoding. A cursor is opaque to clients.
const CURSOR_PREFIX: &str = "dl1.";

/// The cursor that continues a listing after the row with this id.
pub fn cursor(after_id: u64) -> String {
    format!("{CURSOR_PREFIX}{after_id}")
}

/// The row id a cursor continues after; no cursor starts at the beginning (0: ids start at 1).
///
/// # Errors
/// [`EdgeError::InvalidCursor`] for anything [`cursor`] did not write.
pub fn parse_cursor(cursor: Option<&str>) -> Result<u64, EdgeError> {
    let Some(c) = cursor else { return Ok(0) };
    c.strip_prefix(CURSOR_PREFIX)
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or(EdgeError::InvalidCursor)
}

/// Rows to ask D1 for: one more than the page, to know whether another page follows.
pub fn fetch_limit(limit: u32) -> u64 {
    u64::from(limit) + 1
}

/// Cuts the rows read with [`fetch_limit`] to the page, and gives the cursor of the next page when
/// more rows followed.
pub fn page<T>(mut rows: Vec<T>, limit: u32, id: impl Fn(&T) -> u64) -> (Vec<T>, Option<String>) {
    let limit = limit as usize;
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(|r| cursor(id(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}

/// The listing's parameters (`GET /v1/admin/outbox/dead-letters`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub limit: u32,
    pub after_id: u64,
    pub include_replayed: bool,
}

/// The page size when `limit` is not given, and the largest allowed.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;
/// The parameter names of the listing.
pub const LIST_PARAMS: [&str; 3] = ["limit", "cursor", "include_replayed"];

impl ListQuery {
    /// # Errors
    /// `invalid_query` for a bad `limit` or `include_replayed`, `invalid_cursor` for a bad cursor.
    pub fn parse(q: &Query) -> Result<ListQuery, EdgeError> {
        let limit = match q.get("limit") {
            None => DEFAULT_LIMIT,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| EdgeError::InvalidQuery("limit must be an integer from 1 to 200".into()))?,
        };
        let include_replayed = match q.get("include_replayed") {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(EdgeError::InvalidQuery(
                    "include_replayed must be true or false".into(),
                ))
            }
        };
        Ok(ListQuery {
            limit,
            after_id: parse_cursor(q.get("cursor"))?,
            include_replayed,
        })
    }
}

/// A dead letter's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadStatus {
    Dead,
    Replayed,
}

impl DeadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadStatus::Dead => "dead",
            DeadStatus::Replayed => "replayed",
        }
    }

    pub fn parse(s: &str) -> Option<DeadStatus> {
        [DeadStatus::Dead, DeadStatus::Replayed]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// Whether a dead letter as read may be replayed: it is still `dead`, and its stored hash matches its
/// content (a tampered event is never re-enqueued).
///
/// # Errors
/// `dead_letter_already_replayed`, `content_hash_mismatch`, or `internal` for a status this code never
/// writes.
pub fn may_replay(status: &str, hash_ok: bool) -> Result<(), EdgeError> {
    match DeadStatus::parse(status) {
        None => Err(EdgeError::internal(format!(
            "dead letter with unknown status {status:?}"
        ))),
        Some(DeadStatus::Replayed) => Err(EdgeError::DeadLetterAlreadyReplayed),
        Some(DeadStatus::Dead) if !hash_ok => Err(EdgeError::ContentHashMismatch),
        Some(DeadStatus::Dead) => Ok(()),
    }
}

/// The result of the guarded replay batch, from the row count of its `UPDATE dead_letters` (guarded by
/// status, hash and payload as read). 0: someone replayed, deleted or changed it in between.
///
/// # Errors
/// `dead_letter_already_replayed` for 0; `internal` for more than one row (the event id is unique).
pub fn replayed(changed_rows: u64) -> Result<(), EdgeError> {
    match changed_rows {
        1 => Ok(()),
        0 => Err(EdgeError::DeadLetterAlreadyReplayed),
        n => Err(EdgeError::internal(format!(
            "replay changed {n} dead letters for one event id"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code<T>(r: Result<T, EdgeError>) -> Result<T, &'static str> {
        r.map_err(|e| e.code())
    }

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        assert_eq!(code(parse_cursor(None)), Ok(0));
        assert_eq!(code(parse_cursor(Some(&cursor(42)))), Ok(42));
        assert_eq!(cursor(7), "dl1.7");
        for bad in [
            "",
            "dl1.",
            "dl1.-1",
            "dl1.+1",
            "dl1. 1",
            "dl2.5",
            "5",
            "dl1.1x",
            "DL1.5",
            "dl1.99999999999999999999",
        ] {
            assert_eq!(code(parse_cursor(Some(bad))), Err("invalid_cursor"), "{bad:?}");
        }
    }

    #[test]
    fn pages_are_cut_with_a_next_cursor() {
        let id = |n: &u64| *n;
        assert_eq!(fetch_limit(3), 4);
        assert_eq!(
            page(vec![1u64, 2, 3, 4], 3, id),
            (vec![1, 2, 3], Some("dl1.3".into()))
        );
        assert_eq!(page(vec![1u64, 2, 3], 3, id), (vec![1, 2, 3], None));
        assert_eq!(page(Vec::<u64>::new(), 3, id), (vec![], None));
    }

    fn q(pairs: &[(&str, &str)]) -> Result<ListQuery, &'static str> {
        code(Query::parse(pairs.iter().copied(), &LIST_PARAMS).and_then(|q| ListQuery::parse(&q)))
    }

    #[test]
    fn list_query_table() {
        assert_eq!(
            q(&[]),
            Ok(ListQuery {
                limit: 50,
                after_id: 0,
                include_replayed: false
            })
        );
        assert_eq!(
            q(&[
                ("limit", "200"),
                ("cursor", "dl1.9"),
                ("include_replayed", "true")
            ]),
            Ok(ListQuery {
                limit: 200,
                after_id: 9,
                include_replayed: true
            })
        );
        for bad in [
            vec![("limit", "0")],
            vec![("limit", "201")],
            vec![("limit", "x")],
            vec![("include_replayed", "1")],
        ] {
            assert_eq!(q(&bad), Err("invalid_query"), "{bad:?}");
        }
        assert_eq!(q(&[("cursor", "x")]), Err("invalid_cursor"));
    }

    #[test]
    fn replay_rules() {
        assert_eq!(code(may_replay("dead", true)), Ok(()));
        assert_eq!(code(may_replay("dead", false)), Err("content_hash_mismatch"));
        // Already replayed wins over a hash check: the event is back in the outbox either way.
        assert_eq!(
            code(may_replay("replayed", false)),
            Err("dead_letter_already_replayed")
        );
        assert_eq!(
            code(may_replay("replayed", true)),
            Err("dead_letter_already_replayed")
        );
        assert_eq!(code(may_replay("gone", true)), Err("internal"));
        assert_eq!(code(replayed(1)), Ok(()));
        assert_eq!(code(replayed(0)), Err("dead_letter_already_replayed"));
        assert_eq!(code(replayed(2)), Err("internal"));
    }

    proptest! {
        #[test]
        fn any_id_round_trips(id in any::<u64>()) {
            prop_assert_eq!(code(parse_cursor(Some(&cursor(id)))), Ok(id));
        }

        /// Paging through any ids with any page size visits each id once, in order.
        #[test]
        fn paging_visits_every_row_once(n in 0u64..60, limit in 1u32..10) {
            let rows: Vec<u64> = (1..=n).collect();
            let mut seen = Vec::new();
            let mut after = parse_cursor(None).unwrap();
            loop {
                let read: Vec<u64> = rows.iter().copied().filter(|&r| r > after).take(fetch_limit(limit) as usize).collect();
                let (items, next) = page(read, limit, |r| *r);
                seen.extend(items);
                match next {
                    Some(c) => after = parse_cursor(Some(&c)).unwrap(),
                    None => break,
                }
            }
            prop_assert_eq!(seen, rows);
        }
    }
}
