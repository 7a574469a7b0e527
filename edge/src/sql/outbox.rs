//! The outbox's statements: an event's insert (next to the state it describes), the relay's claim and
//! its settles fenced by the lease token, the dead-letter table, and the counts of the stats route.
use super::statement::{Bind, Statement};
use crate::outbox::relay::{ClaimedEvent, Write};
use crate::outbox::NewEvent;
use serde::{Deserialize, Serialize};

/// The undelivered rows (alias `$row`) of the aggregate `$type`, `$id`. The `IN` repeats the `!=` so that
/// SQLite reads the partial index `outbox_undelivered` by equality (two probes) instead of walking the
/// aggregate's delivered rows.
macro_rules! undelivered_of {
    ($row:literal, $type:literal, $id:literal) => {
        concat!(
            $row,
            ".status != 'delivered' AND ",
            $row,
            ".status IN ('pending', 'leased') AND ",
            $row,
            ".aggregate_type = ",
            $type,
            " AND ",
            $row,
            ".aggregate_id = ",
            $id
        )
    };
}

/// The columns an event's insert writes; `seq` is the next number after the largest present, so the new
/// event is its aggregate's head exactly when the aggregate has no undelivered event.
macro_rules! insert_event_sql {
    () => {
        concat!(
            "INSERT INTO outbox (event_id, seq, aggregate_type, aggregate_id, event_type, payload, \
             content_hash, status, attempts, next_attempt_at, created_at, updated_at, head) \
             SELECT ?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox), ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7, ?7, \
             NOT EXISTS (SELECT 1 FROM outbox AS p WHERE ",
            undelivered_of!("p", "?2", "?3"),
            ")"
        )
    };
}

fn event_binds(ev: &NewEvent, now_ms: u64) -> Vec<Bind> {
    vec![
        ev.event_id.as_str().into(),
        ev.aggregate.as_str().into(),
        ev.aggregate_id.as_str().into(),
        ev.event_type.as_str().into(),
        ev.payload.as_str().into(),
        ev.content_hash().into(),
        now_ms.into(),
    ]
}

/// The insert of `ev`, to put in a batch next to the state change it describes.
pub fn insert_event(ev: &NewEvent, now_ms: u64) -> Statement {
    Statement::new(insert_event_sql!(), event_binds(ev, now_ms))
}

/// The insert of `ev`, done only if the alert `alert_key`'s last event is still `last_event_id`: the
/// messages of a raise or a resolve are written only by the call that changed the alert's state.
pub fn insert_event_if_alert_is(
    ev: &NewEvent,
    now_ms: u64,
    alert_key: &str,
    last_event_id: &str,
) -> Statement {
    let mut binds = event_binds(ev, now_ms);
    binds.extend([alert_key.into(), last_event_id.into()]);
    Statement::new(
        concat!(
            insert_event_sql!(),
            " WHERE EXISTS (SELECT 1 FROM alert_state WHERE alert_key = ?8 AND last_event_id = ?9)"
        ),
        binds,
    )
}

/// The counts of the admin stats route and the backlog check; one row ([`crate::outbox::relay::OutboxCounts`]).
pub fn counts(now_ms: u64) -> Statement {
    Statement::new(
        "SELECT COALESCE(SUM(status = 'pending'), 0) AS pending, \
         COALESCE(SUM(status = 'pending' AND next_attempt_at <= ?1), 0) AS pending_due, \
         COALESCE(SUM(status = 'leased' AND lease_expires_at > ?1), 0) AS leased, \
         COALESCE(SUM(status = 'leased' AND lease_expires_at <= ?1), 0) AS leased_expired, \
         COALESCE(SUM(status = 'delivered'), 0) AS delivered, \
         MIN(CASE WHEN status != 'delivered' THEN created_at END) AS oldest_undelivered_created_at \
         FROM outbox",
        vec![now_ms.into()],
    )
}

/// Claim up to `batch_size` due events, each the head of its aggregate (the lowest undelivered `seq`),
/// under the lease `token` until `lease_expires_at`; the attempt counter is raised at claim time. Rows:
/// [`ClaimedEvent`].
pub fn claim(token: &str, lease_expires_at: u64, now_ms: u64, batch_size: u32) -> Statement {
    Statement::new(
        concat!(
            "UPDATE outbox SET status = 'leased', lease_token = ?1, lease_expires_at = ?2, \
                 attempts = attempts + 1, updated_at = ?3 \
             WHERE event_id IN ( \
                 SELECT o.event_id FROM outbox AS o \
                 WHERE o.head = 1 AND o.status != 'delivered' AND o.next_attempt_at <= ?3 \
                   AND (o.status = 'pending' OR o.lease_expires_at <= ?3) \
                   AND NOT EXISTS (SELECT 1 FROM outbox AS p WHERE ",
            undelivered_of!("p", "o.aggregate_type", "o.aggregate_id"),
            " AND p.seq < o.seq) \
                 ORDER BY o.seq LIMIT ?4) \
             RETURNING event_id, aggregate_type, aggregate_id, event_type, payload, content_hash, attempts"
        ),
        vec![
            token.into(),
            lease_expires_at.into(),
            now_ms.into(),
            batch_size.into(),
        ],
    )
}

/// Which outbox rows a dead-letter move takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveRows<'a> {
    /// One claimed event, fenced by the lease token of its claim.
    Leased { event_id: &'a str, lease_token: &'a str },
    /// Every pending event of a watch (it was deleted).
    PendingOfWatch { watch_id: &'a str },
}

macro_rules! move_insert_sql {
    ($where:literal) => {
        concat!(
            "INSERT INTO dead_letters (event_id, seq, aggregate_type, aggregate_id, event_type, payload, \
                 content_hash, attempts, reason, last_error, history, status, created_at, dead_lettered_at) \
             SELECT event_id, seq, aggregate_type, aggregate_id, event_type, payload, content_hash, attempts, \
                 ?3, ?4, json_insert(history, '$[#]', json_object('at', ?5, 'attempt', attempts, 'error', ?4)), \
                 'dead', created_at, ?5 \
             FROM outbox WHERE ",
            $where,
            " ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq, payload = excluded.payload, \
                 content_hash = excluded.content_hash, attempts = excluded.attempts, reason = excluded.reason, \
                 last_error = excluded.last_error, history = excluded.history, status = 'dead', \
                 times_dead_lettered = dead_letters.times_dead_lettered + 1, \
                 dead_lettered_at = excluded.dead_lettered_at"
        )
    };
}

/// Two statements that move `rows` into the dead-letter table with `reason` and `error`; put both in
/// one batch, in this order: the `DELETE`'s row count (the second) tells whether the move happened. A
/// row dead-lettered before (and replayed since) is updated in place and keeps its whole history.
pub fn move_to_dead_letters(rows: MoveRows, reason: &str, error: &str, now_ms: u64) -> [Statement; 2] {
    let (insert, delete, key): (&'static str, &'static str, [Bind; 2]) = match rows {
        MoveRows::Leased {
            event_id,
            lease_token,
        } => (
            move_insert_sql!("event_id = ?1 AND lease_token = ?2"),
            "DELETE FROM outbox WHERE event_id = ?1 AND lease_token = ?2",
            [event_id.into(), lease_token.into()],
        ),
        MoveRows::PendingOfWatch { watch_id } => (
            move_insert_sql!("aggregate_type = 'watch' AND aggregate_id = ?1 AND status = ?2"),
            "DELETE FROM outbox WHERE aggregate_type = 'watch' AND aggregate_id = ?1 AND status = ?2",
            [watch_id.into(), "pending".into()],
        ),
    };
    let mut binds = key.to_vec();
    binds.extend([reason.into(), error.into(), now_ms.into()]);
    [
        Statement::new(insert, binds),
        Statement::new(delete, key.to_vec()),
    ]
}

/// The one batch that settles a claim: `writes[i]` (from [`crate::outbox::relay::plan`]) for the
/// `i`-th claimed event, each fenced by its event id and lease token, in claim order (so the plan's
/// `fence_index` names the statement whose row count tells the outcome).
/// When an event may have left the undelivered set (delivered or moved), the batch ends with
/// [`promote_heads`] for those events' aggregates, after every fenced statement: a fenced-out write
/// changes nothing, and promoting an aggregate whose head is still there changes nothing either.
pub fn settle(claimed: &[(String, ClaimedEvent)], writes: &[Write], now_ms: u64) -> Vec<Statement> {
    let mut statements = Vec::with_capacity(writes.len());
    for ((lease_token, ev), write) in claimed.iter().zip(writes) {
        let fence = || -> Vec<Bind> { vec![ev.event_id.as_str().into(), lease_token.as_str().into()] };
        match write {
            Write::MarkDelivered => statements.push(Statement::new(
                "UPDATE outbox SET status = 'delivered', delivered_at = ?3, updated_at = ?3, \
                 lease_token = NULL, lease_expires_at = NULL, last_error = NULL, head = 0 \
                 WHERE event_id = ?1 AND lease_token = ?2",
                [fence(), vec![now_ms.into()]].concat(),
            )),
            Write::Reschedule { error, delay_ms } => statements.push(Statement::new(
                "UPDATE outbox SET status = 'pending', next_attempt_at = ?3 + ?5, updated_at = ?3, \
                 lease_token = NULL, lease_expires_at = NULL, last_error = ?4, \
                 history = json_insert(history, '$[#]', json_object('at', ?3, 'attempt', attempts, 'error', ?4)) \
                 WHERE event_id = ?1 AND lease_token = ?2",
                [fence(), vec![now_ms.into(), (*error).into(), (*delay_ms).into()]].concat(),
            )),
            Write::MoveToDeadLetters { reason, error } => statements.extend(move_to_dead_letters(
                MoveRows::Leased {
                    event_id: &ev.event_id,
                    lease_token,
                },
                reason.as_str(),
                error,
                now_ms,
            )),
        }
    }
    let left: Vec<(&str, &str)> = claimed
        .iter()
        .zip(writes)
        .filter(|(_, w)| !matches!(w, Write::Reschedule { .. }))
        .map(|((_, ev), _)| (ev.aggregate_type.as_str(), ev.aggregate_id.as_str()))
        .collect();
    if !left.is_empty() {
        statements.push(promote_heads(&left));
    }
    statements
}

/// Marks the head of each of `aggregates` (type, id): its lowest-`seq` undelivered event, if it is not
/// marked already. The last statement of every batch that can take a head out of the undelivered set.
pub fn promote_heads(aggregates: &[(&str, &str)]) -> Statement {
    let pairs: Vec<[&str; 2]> = aggregates.iter().map(|(t, id)| [*t, *id]).collect();
    Statement::new(
        concat!(
            "UPDATE outbox SET head = 1 WHERE head = 0 AND seq IN ( \
                 SELECT (SELECT MIN(o.seq) FROM outbox AS o WHERE ",
            undelivered_of!(
                "o",
                "json_extract(a.value, '$[0]')",
                "json_extract(a.value, '$[1]')"
            ),
            ") FROM json_each(?1) AS a)"
        ),
        vec![serde_json::json!(pairs).to_string().into()],
    )
}

/// The webhook URL and status of the watches `ids` (a claim's watch events). Rows: [`crate::outbox::relay::WatchDestination`].
///
/// # Errors
/// `Internal` if the ids do not serialize (they always do).
pub fn watch_destinations(ids: &[&str]) -> Result<Statement, crate::error::EdgeError> {
    let ids = serde_json::to_string(ids).map_err(|e| crate::error::EdgeError::internal(e.to_string()))?;
    Ok(Statement::new(
        "SELECT id, webhook_url, status FROM watches WHERE id IN (SELECT value FROM json_each(?1))",
        vec![ids.into()],
    ))
}

/// Forget delivered events older than `cutoff` (epoch ms).
pub fn purge_delivered(cutoff: u64) -> Statement {
    Statement::new(
        "DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < ?1",
        vec![cutoff.into()],
    )
}

/// One dead letter as the admin API shows it (a `dead_letters` row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    #[serde(skip_serializing)]
    pub id: u64,
    pub event_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub reason: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// The stored payload, exactly as stored (a tampered one may not even be JSON).
    pub payload: String,
    pub content_hash: String,
    /// `[{at, attempt, error}]` as JSON text in the table; decoded for the answer (as text if it is not JSON).
    #[serde(serialize_with = "raw_json")]
    pub history: String,
    pub status: String,
    pub times_dead_lettered: u32,
    pub replay_count: u32,
    pub created_at: u64,
    pub dead_lettered_at: u64,
    pub replayed_at: Option<u64>,
}

fn raw_json<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => v.serialize(s),
        Err(_) => s.serialize_str(text),
    }
}

macro_rules! dead_letter_columns {
    () => {
        "id, event_id, aggregate_type, aggregate_id, event_type, reason, attempts, last_error, payload, \
         content_hash, history, status, times_dead_lettered, replay_count, created_at, dead_lettered_at, replayed_at"
    };
}

/// Dead letters with `status = 'dead'` (or every status with `include_replayed`) in the order they were
/// first dead-lettered, after the row `after_id`; `fetch_limit` rows at most
/// ([`crate::outbox::dead_letter::fetch_limit`]). Rows: [`DeadLetter`].
pub fn list_dead_letters(after_id: u64, fetch_limit: u64, include_replayed: bool) -> Statement {
    Statement::new(
        concat!(
            "SELECT ",
            dead_letter_columns!(),
            " FROM dead_letters WHERE id > ?1 AND (status = 'dead' OR ?3) ORDER BY id LIMIT ?2"
        ),
        vec![after_id.into(), fetch_limit.into(), include_replayed.into()],
    )
}

/// The dead letter of `event_id`. Row: [`DeadLetter`].
pub fn dead_letter(event_id: &str) -> Statement {
    Statement::new(
        concat!(
            "SELECT ",
            dead_letter_columns!(),
            " FROM dead_letters WHERE event_id = ?1"
        ),
        vec![event_id.into()],
    )
}

macro_rules! replay_guard {
    () => {
        "event_id = ?1 AND status = 'dead' AND content_hash = ?3 AND payload = ?4"
    };
}

/// Re-enqueue `dl` with the same event id (its history comes along, its attempt counter starts again),
/// and mark it replayed. Both statements repeat the content hash and payload that were checked, so a
/// row changed between that read and this batch is not re-enqueued; the second's row count tells
/// whether the replay happened.
pub fn replay(dl: &DeadLetter, now_ms: u64) -> [Statement; 2] {
    let binds = || -> Vec<Bind> {
        vec![
            dl.event_id.as_str().into(),
            now_ms.into(),
            dl.content_hash.as_str().into(),
            dl.payload.as_str().into(),
        ]
    };
    [
        Statement::new(
            concat!(
                "INSERT INTO outbox (event_id, seq, aggregate_type, aggregate_id, event_type, payload, content_hash, \
                     status, attempts, next_attempt_at, history, created_at, updated_at, head) \
                 SELECT event_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox), aggregate_type, aggregate_id, \
                     event_type, payload, content_hash, 'pending', 0, ?2, \
                     json_insert(history, '$[#]', json_object('at', ?2, 'attempt', 0, 'error', 'replayed by admin')), \
                     created_at, ?2, NOT EXISTS (SELECT 1 FROM outbox AS p WHERE ",
                undelivered_of!("p", "dead_letters.aggregate_type", "dead_letters.aggregate_id"),
                ") \
                 FROM dead_letters WHERE ",
                replay_guard!()
            ),
            binds(),
        ),
        Statement::new(
            concat!(
                "UPDATE dead_letters SET status = 'replayed', replayed_at = ?2, replay_count = replay_count + 1 WHERE ",
                replay_guard!()
            ),
            binds(),
        ),
    ]
}

/// The `seq` of `event_id` in the outbox. Row: [`Seq`].
pub fn seq_of(event_id: &str) -> Statement {
    Statement::new(
        "SELECT seq FROM outbox WHERE event_id = ?1",
        vec![event_id.into()],
    )
}

/// A row of [`seq_of`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Seq {
    pub seq: u64,
}

/// Delete a dead letter for good (its row count tells whether there was one).
pub fn delete_dead_letter(event_id: &str) -> Statement {
    Statement::new(
        "DELETE FROM dead_letters WHERE event_id = ?1",
        vec![event_id.into()],
    )
}

/// Dead letters per reason and status. Rows: [`ReasonCount`].
pub fn dead_letter_counts() -> Statement {
    Statement::new(
        "SELECT reason, status, COUNT(*) AS n FROM dead_letters GROUP BY reason, status ORDER BY reason, status",
        vec![],
    )
}

/// A row of [`dead_letter_counts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    pub reason: String,
    pub status: String,
    pub n: u64,
}

/// Outbox events per status, for the scrape-time gauges. Rows: [`StatusCount`].
pub fn events_by_status() -> Statement {
    Statement::new("SELECT status, count(*) AS n FROM outbox GROUP BY status", vec![])
}

/// A row of [`events_by_status`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StatusCount {
    pub status: String,
    pub n: f64,
}

/// Dead letters not replayed, for the scrape-time gauges. One row: [`super::health::Count`] (`count(*)`
/// always answers one: none is a broken answer, not zero).
pub fn dead_count() -> Statement {
    Statement::new(
        "SELECT count(*) AS n FROM dead_letters WHERE status = 'dead'",
        vec![],
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::outbox::relay::plan;
    use crate::outbox::{Aggregate, DeadReason, Settle};

    const LEASED: &str = "event_id = ?1 AND lease_token = ?2";
    const PENDING_OF_WATCH: &str = "aggregate_type = 'watch' AND aggregate_id = ?1 AND status = ?2";

    fn event() -> NewEvent {
        NewEvent {
            event_id: "evt_1".into(),
            aggregate: Aggregate::Watch,
            aggregate_id: "wch_1".into(),
            event_type: "valuation.changed".into(),
            payload: "{}".into(),
        }
    }

    fn claimed(id: &str) -> (String, ClaimedEvent) {
        (
            "lease_1".into(),
            ClaimedEvent {
                event_id: id.into(),
                aggregate_type: "watch".into(),
                aggregate_id: "wch_1".into(),
                event_type: "valuation.changed".into(),
                payload: "{}".into(),
                content_hash: "h".into(),
                attempts: 1,
            },
        )
    }

    fn dead_letter_row() -> DeadLetter {
        DeadLetter {
            id: 3,
            event_id: "evt_1".into(),
            aggregate_type: "watch".into(),
            aggregate_id: "wch_1".into(),
            event_type: "valuation.changed".into(),
            reason: "max_attempts".into(),
            attempts: 8,
            last_error: None,
            payload: "{}".into(),
            content_hash: "h".into(),
            history: "[]".into(),
            status: "dead".into(),
            times_dead_lettered: 1,
            replay_count: 0,
            created_at: 1,
            dead_lettered_at: 2,
            replayed_at: None,
        }
    }

    fn settles() -> Vec<Settle> {
        vec![
            Settle::Delivered,
            Settle::Retry {
                error: "503".into(),
                delay_ms: 500,
            },
            Settle::Dead {
                reason: DeadReason::MaxAttemptsExceeded,
                error: "gone".into(),
            },
        ]
    }

    pub(crate) fn examples() -> Vec<Statement> {
        let s = settles();
        let claims = vec![claimed("evt_1"), claimed("evt_2"), claimed("evt_3")];
        let mut all = vec![
            insert_event(&event(), 1),
            insert_event_if_alert_is(&event(), 1, "upstream.circuit_open", "evt_1"),
            counts(1),
            claim("lease_1", 2, 1, 10),
            watch_destinations(&["wch_1"]).unwrap(),
            promote_heads(&[("watch", "wch_1"), ("alert", "a")]),
            purge_delivered(1),
            list_dead_letters(0, 51, false),
            dead_letter("evt_1"),
            seq_of("evt_1"),
            delete_dead_letter("evt_1"),
            dead_letter_counts(),
            events_by_status(),
            dead_count(),
        ];
        all.extend(settle(&claims, &plan(&s).writes, 1));
        all.extend(move_to_dead_letters(
            MoveRows::PendingOfWatch { watch_id: "wch_1" },
            "watch_deleted",
            "x",
            1,
        ));
        all.extend(replay(&dead_letter_row(), 1));
        all
    }

    #[test]
    fn the_settle_batch_follows_the_plan_and_its_fence_indexes_name_the_counting_statements() {
        let s = settles();
        let p = plan(&s);
        let claim = vec![claimed("evt_1"), claimed("evt_2"), claimed("evt_3")];
        let batch = settle(&claim, &p.writes, 9);
        // The plan's statements, then the promotion of the delivered and the moved event's aggregates.
        assert_eq!(batch.len(), p.statements + 1);
        let last = batch.last().unwrap();
        assert_eq!(last, &promote_heads(&[("watch", "wch_1"), ("watch", "wch_1")]));
        // Only retries: no event left the undelivered set, so nothing to promote.
        let retry = [settles().swap_remove(1)];
        assert_eq!(settle(&claim[..1], &plan(&retry).writes, 9).len(), 1);
        assert!(batch[p.fence_index[0]]
            .sql
            .starts_with("UPDATE outbox SET status = 'delivered'"));
        assert!(batch[p.fence_index[1]]
            .sql
            .starts_with("UPDATE outbox SET status = 'pending'"));
        // A move counts by its DELETE: dead-lettered only when the row left the outbox.
        assert!(batch[p.fence_index[2]].sql.starts_with("DELETE FROM outbox"));
        assert!(batch[p.fence_index[2] - 1]
            .sql
            .starts_with("INSERT INTO dead_letters"));
        for (i, st) in batch[..p.statements].iter().enumerate() {
            let id = format!("evt_{}", [1, 2, 3, 3][i]);
            assert_eq!(
                st.binds[..2],
                [Bind::Text(id), Bind::Text("lease_1".into())],
                "{}",
                st.sql
            );
        }
        assert_eq!(
            batch[1].binds[2..],
            [Bind::Int(9), Bind::Text("503".into()), Bind::Int(500)]
        );
        assert_eq!(
            batch[2].binds[2..],
            [
                Bind::Text("max_attempts_exceeded".into()),
                Bind::Text("gone".into()),
                Bind::Int(9)
            ]
        );
    }

    #[test]
    fn an_event_insert_binds_its_content_hash() {
        let ev = event();
        let st = insert_event(&ev, 5);
        assert_eq!(st.binds[5], Bind::Text(ev.content_hash()));
        assert_eq!(st.binds[6], Bind::Int(5));
        let guarded = insert_event_if_alert_is(&ev, 5, "k", "evt_9");
        assert_eq!(guarded.binds[..7], st.binds[..]);
        assert_eq!(
            guarded.binds[7..],
            [Bind::Text("k".into()), Bind::Text("evt_9".into())]
        );
    }

    #[test]
    fn a_watch_deletion_moves_only_its_pending_events() {
        let [insert, delete] = move_to_dead_letters(
            MoveRows::PendingOfWatch { watch_id: "wch_7" },
            "watch_deleted",
            "gone",
            3,
        );
        assert!(insert.sql.contains(PENDING_OF_WATCH) && delete.sql.ends_with(PENDING_OF_WATCH));
        assert_eq!(
            delete.binds,
            [Bind::Text("wch_7".into()), Bind::Text("pending".into())]
        );
        let [insert, delete] = move_to_dead_letters(
            MoveRows::Leased {
                event_id: "evt_1",
                lease_token: "l",
            },
            "max_attempts",
            "e",
            3,
        );
        assert!(insert.sql.contains(LEASED) && delete.sql.ends_with(LEASED));
    }

    #[test]
    fn a_replay_repeats_the_checked_hash_and_payload() {
        for st in replay(&dead_letter_row(), 4) {
            assert!(
                st.sql.ends_with("content_hash = ?3 AND payload = ?4"),
                "{}",
                st.sql
            );
            assert_eq!(st.binds[2..], [Bind::Text("h".into()), Bind::Text("{}".into())]);
        }
    }

    #[test]
    fn a_dead_letter_shows_its_history_decoded_and_a_broken_one_as_text() {
        let mut dl = dead_letter_row();
        dl.history = r#"[{"at":1}]"#.into();
        let v = serde_json::to_value(&dl).unwrap();
        assert_eq!(v["history"], serde_json::json!([{"at": 1}]));
        assert!(v.get("id").is_none());
        dl.history = "not json".into();
        assert_eq!(serde_json::to_value(&dl).unwrap()["history"], "not json");
    }
}
