//! The watches' statements: the `Idempotency-Key` records of watch creation, the watches, the valuation
//! snapshots, and the sweep's choice of characters. The batches (a creation, a deletion, a recorded
//! valuation) are built here in the order their callers read the row counts of.
use super::outbox::{insert_event, move_to_dead_letters, promote_heads, MoveRows};
use super::statement::Statement;
use crate::error::EdgeError;
use crate::outbox::{Aggregate, NewEvent};
use crate::watches::{
    token_hash, Canonical, Change, ChangeEvent, Created, Snapshot, Watch, VALUATION_CHANGED, WATCH_CREATED,
};
use serde::Deserialize;

/// The `scope` of the idempotency records of `POST /v1/watches`.
pub const IDEMPOTENCY_SCOPE: &str = "watches.create";

/// Forget `key`'s record if it expired (so the key may be used again).
pub fn delete_expired_key(key: &str, now_ms: u64) -> Statement {
    Statement::new(
        "DELETE FROM idempotency_keys WHERE scope = ?1 AND key = ?2 AND expires_at <= ?3",
        vec![IDEMPOTENCY_SCOPE.into(), key.into(), now_ms.into()],
    )
}

/// Forget every expired idempotency record (the cron run).
pub fn purge_idempotency_keys(now_ms: u64) -> Statement {
    Statement::new(
        "DELETE FROM idempotency_keys WHERE expires_at <= ?1",
        vec![now_ms.into()],
    )
}

/// The live record of `key`. Row: [`IdempotencyRow`].
pub fn stored_response(key: &str, now_ms: u64) -> Statement {
    Statement::new(
        "SELECT request_hash, status, response_body FROM idempotency_keys \
         WHERE scope = ?1 AND key = ?2 AND expires_at > ?3",
        vec![IDEMPOTENCY_SCOPE.into(), key.into(), now_ms.into()],
    )
}

/// A row of [`stored_response`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdempotencyRow {
    pub request_hash: String,
    pub status: u16,
    pub response_body: String,
}

/// An answer of `POST /v1/watches`: the first one, or the stored one replayed for a repeated key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub replayed: bool,
}

impl StoredResponse {
    /// The HTTP answer: its JSON body, never stored by caches, and `idempotent-replayed: true` on a replay.
    pub fn reply(&self) -> crate::http::Reply {
        let reply = crate::http::Reply::new(self.status, Some(self.body.clone().into_bytes()))
            .header("content-type", crate::http::JSON_UTF8)
            .header("cache-control", "no-store");
        if self.replayed {
            reply.header("idempotent-replayed", "true")
        } else {
            reply
        }
    }
}

impl IdempotencyRow {
    /// The stored answer, replayed for a request with the same key and the same body (its hash,
    /// compared in constant time).
    ///
    /// # Errors
    /// `IdempotencyKeyReused` when the key was used with another body.
    pub fn replay(self, request_hash: &str) -> Result<StoredResponse, EdgeError> {
        if !crate::http::ct_eq(self.request_hash.as_bytes(), request_hash.as_bytes()) {
            return Err(EdgeError::IdempotencyKeyReused);
        }
        Ok(StoredResponse {
            status: self.status,
            body: self.response_body,
            replayed: true,
        })
    }
}

/// The one insert of an active watch (a creation, and the test route that creates many).
pub fn insert_watch(
    id: &str,
    character: &str,
    webhook_url: &str,
    token_hash: &str,
    now_ms: u64,
) -> Statement {
    Statement::new(
        "INSERT INTO watches (id, character, webhook_url, token_hash, status, created_at) \
         VALUES (?1, ?2, ?3, ?4, 'active', ?5)",
        vec![
            id.into(),
            character.into(),
            webhook_url.into(),
            token_hash.into(),
            now_ms.into(),
        ],
    )
}

/// A watch's creation: its fresh ids (drawn by the caller), what it watches, and the request's
/// `Idempotency-Key` with the hash of its body.
pub struct NewWatch<'a> {
    pub watch_id: &'a str,
    /// The watch's own token: answered once, stored only as its SHA-256.
    pub token: &'a str,
    pub event_id: &'a str,
    pub character: &'a str,
    pub webhook_url: &'a str,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub now_ms: u64,
    /// When the idempotency record expires.
    pub expires_at: u64,
}

impl NewWatch<'_> {
    /// The answer's body and the creation's one batch: the watch, the idempotency record that replays
    /// that body (201) until `expires_at`, and the `watch.created` event.
    ///
    /// # Errors
    /// `Internal` if a body does not serialize.
    pub fn batch(&self) -> Result<(String, Vec<Statement>), EdgeError> {
        let created = Created::new(
            self.watch_id,
            self.character,
            self.webhook_url,
            self.token,
            self.now_ms,
        );
        let body = created.body()?;
        let event = NewEvent {
            event_id: self.event_id.to_owned(),
            aggregate: Aggregate::Watch,
            aggregate_id: self.watch_id.to_owned(),
            event_type: WATCH_CREATED.into(),
            payload: created.event_payload(self.event_id, self.now_ms)?,
        };
        let token_hash = token_hash(self.token);
        let batch = vec![
            insert_watch(self.watch_id, self.character, self.webhook_url, &token_hash, self.now_ms),
            Statement::new(
                "INSERT INTO idempotency_keys (scope, key, request_hash, status, response_body, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, 201, ?4, ?5, ?6)",
                vec![
                    IDEMPOTENCY_SCOPE.into(),
                    self.key.into(),
                    self.request_hash.into(),
                    body.as_str().into(),
                    self.now_ms.into(),
                    self.expires_at.into(),
                ],
            ),
            insert_event(&event, self.now_ms),
        ];
        Ok((body, batch))
    }
}

/// The active watch `id`. Row: [`WatchRow`].
pub fn active_watch(id: &str) -> Statement {
    Statement::new(
        "SELECT id, character, webhook_url, token_hash, created_at, last_checked_at, last_check_error \
         FROM watches WHERE id = ?1 AND status = 'active'",
        vec![id.into()],
    )
}

/// A row of [`active_watch`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WatchRow {
    pub id: String,
    pub character: String,
    pub webhook_url: String,
    pub token_hash: String,
    pub created_at: u64,
    pub last_checked_at: Option<u64>,
    pub last_check_error: Option<String>,
}

impl WatchRow {
    /// The watch, for the holder of the token returned at its creation.
    ///
    /// # Errors
    /// `WatchTokenRequired` without a token; `InvalidWatchToken` for another one (compared by hash, in
    /// constant time).
    pub fn authorize(self, token: Option<&str>) -> Result<Watch, EdgeError> {
        let token = token.ok_or(EdgeError::WatchTokenRequired)?;
        if !crate::watches::token_matches(token, &self.token_hash) {
            return Err(EdgeError::InvalidWatchToken);
        }
        Ok(self.watch())
    }

    /// The watch, without its token hash.
    pub fn watch(self) -> Watch {
        Watch {
            id: self.id,
            character: self.character,
            webhook_url: self.webhook_url,
            created_at: self.created_at,
            last_checked_at: self.last_checked_at,
            last_check_error: self.last_check_error,
        }
    }
}

/// A watch's deletion, as one batch: the watch stops (statement 0's row count: 0 means it was not
/// active any more), and its undelivered events move to the dead letters with reason `watch_deleted`
/// (statement 2's row count: how many), and the watch's next head, if any, is marked (statement 3).
pub fn delete_watch(watch_id: &str, now_ms: u64) -> Vec<Statement> {
    let [to_dead, from_outbox] = move_to_dead_letters(
        MoveRows::PendingOfWatch { watch_id },
        "watch_deleted",
        "the watch was deleted",
        now_ms,
    );
    vec![
        Statement::new(
            "UPDATE watches SET status = 'deleted', deleted_at = ?2 WHERE id = ?1 AND status = 'active'",
            vec![watch_id.into(), now_ms.into()],
        ),
        to_dead,
        from_outbox,
        // A leased head stays (only pending events move), and is then still marked: nothing changes.
        promote_heads(&[("watch", watch_id)]),
    ]
}

/// What [`delete_watch`]'s batch did, from its row counts: how many undelivered events it moved to the
/// dead letters.
///
/// # Errors
/// `WatchNotFound` when the watch was no longer active (deleted meanwhile); `Internal` without counts.
pub fn deleted(counts: &[Option<usize>]) -> Result<u64, EdgeError> {
    if super::statement::changes_at(counts, 0)? == 0 {
        return Err(EdgeError::WatchNotFound);
    }
    super::statement::changes_at(counts, 2)
}

/// The latest snapshot of `character`. Row: [`SnapshotRow`].
pub fn latest_snapshot(character: &str) -> Statement {
    Statement::new(
        "SELECT version, summary, summary_hash, created_at FROM valuation_snapshots \
         WHERE character = ?1 ORDER BY version DESC LIMIT 1",
        vec![character.into()],
    )
}

/// A row of [`latest_snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SnapshotRow {
    pub version: u64,
    pub summary: String,
    pub summary_hash: String,
    pub created_at: u64,
}

impl SnapshotRow {
    /// # Errors
    /// `Internal` when the stored summary does not parse (we wrote it).
    pub fn snapshot(self) -> Result<Snapshot, EdgeError> {
        let summary = serde_json::from_str(&self.summary)
            .map_err(|e| EdgeError::internal(format!("stored snapshot does not parse: {e}")))?;
        Ok(Snapshot {
            version: self.version,
            summary,
            summary_hash: self.summary_hash,
            created_at: self.created_at,
        })
    }
}

/// The active watches of `character`, by id. Rows: [`IdRow`].
pub fn active_watch_ids(character: &str) -> Statement {
    Statement::new(
        "SELECT id FROM watches WHERE character = ?1 AND status = 'active' ORDER BY id",
        vec![character.into()],
    )
}

/// A row of [`active_watch_ids`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdRow {
    pub id: String,
}

/// Whether `character` has an active watch. Row: [`super::Found`].
pub fn is_watched(character: &str) -> Statement {
    Statement::new(
        "SELECT 1 AS found FROM watches WHERE character = ?1 AND status = 'active' LIMIT 1",
        vec![character.into()],
    )
}

/// Snapshot `version` of `character`, if stored (a concurrent refresh won the race). Row: [`super::Found`].
pub fn snapshot_exists(character: &str, version: u64) -> Statement {
    Statement::new(
        "SELECT 1 AS found FROM valuation_snapshots WHERE character = ?1 AND version = ?2",
        vec![character.into(), version.into()],
    )
}

/// A recorded valuation of a watched character, as one batch: snapshot `version`, and — when there is
/// a previous snapshot to compare with — one `valuation.changed` event per active watch.
pub struct ValuationWrite<'a> {
    pub character: &'a str,
    pub canonical: Canonical,
    pub version: u64,
    /// The snapshot it follows (`None`: this one is the baseline, with no events).
    pub previous: Option<&'a Snapshot>,
    pub watch_ids: Vec<String>,
    /// One fresh event id per watch (drawn by the caller).
    pub event_ids: Vec<String>,
    pub now_ms: u64,
    pub max_payload_bytes: usize,
}

impl ValuationWrite<'_> {
    /// The batch, and the ids of the events it writes.
    ///
    /// # Errors
    /// `Internal` when fewer event ids than watches are given, or a body does not serialize.
    pub fn batch(&self) -> Result<(Vec<Statement>, Vec<String>), EdgeError> {
        let mut batch = vec![Statement::new(
            "INSERT INTO valuation_snapshots (character, version, summary, summary_hash, total, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            vec![
                self.character.into(),
                self.version.into(),
                self.canonical.json.as_str().into(),
                self.canonical.hash.as_str().into(),
                self.canonical.summary.total_mean_cost.into(),
                self.now_ms.into(),
            ],
        )];
        let Some(prev) = self.previous else {
            return Ok((batch, Vec::new()));
        };
        if self.event_ids.len() < self.watch_ids.len() {
            return Err(EdgeError::internal(format!(
                "{} event ids for {} watches",
                self.event_ids.len(),
                self.watch_ids.len()
            )));
        }
        let change = Change::between(&prev.summary, &self.canonical.summary);
        let mut written = Vec::with_capacity(self.watch_ids.len());
        for (watch_id, event_id) in self.watch_ids.iter().zip(&self.event_ids) {
            let payload = change.payload(
                &ChangeEvent {
                    event_id,
                    watch_id,
                    character: self.character,
                    previous_version: prev.version,
                    version: self.version,
                    now_ms: self.now_ms,
                },
                self.max_payload_bytes,
            )?;
            let event = NewEvent {
                event_id: event_id.clone(),
                aggregate: Aggregate::Watch,
                aggregate_id: watch_id.clone(),
                event_type: VALUATION_CHANGED.into(),
                payload,
            };
            batch.push(insert_event(&event, self.now_ms));
            written.push(event_id.clone());
        }
        Ok((batch, written))
    }
}

/// Up to `batch` watched characters due for a sweep (least recently checked first, each at most once
/// per `interval_ms`). Rows: [`DueRow`].
pub fn due_characters(interval_ms: u64, now_ms: u64, batch: u32) -> Statement {
    Statement::new(
        "SELECT character, MIN(COALESCE(last_checked_at, 0)) AS checked FROM watches WHERE status = 'active' \
         GROUP BY character HAVING checked + ?1 <= ?2 ORDER BY checked, character LIMIT ?3",
        vec![interval_ms.into(), now_ms.into(), batch.into()],
    )
}

/// A row of [`due_characters`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DueRow {
    pub character: String,
}

/// Record the sweep's check of `character` (and its error code, `None` when it succeeded).
pub fn mark_checked(character: &str, now_ms: u64, error_code: Option<&str>) -> Statement {
    Statement::new(
        "UPDATE watches SET last_checked_at = ?2, last_check_error = ?3 WHERE character = ?1 AND status = 'active'",
        vec![character.into(), now_ms.into(), error_code.into()],
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::statement::Bind;
    use super::*;
    use crate::valuation::{ItemValue, ValuationSummary};

    fn canonical(total: f64) -> Canonical {
        Canonical::of(&ValuationSummary {
            total_mean_cost: total,
            items: vec![ItemValue {
                slot: "hat".into(),
                name: "Hat".into(),
                mean_cost: Some(total),
            }],
        })
        .unwrap()
    }

    fn previous() -> Snapshot {
        let c = canonical(1.0);
        Snapshot {
            version: 4,
            summary: c.summary,
            summary_hash: c.hash,
            created_at: 1,
        }
    }

    fn new_watch() -> NewWatch<'static> {
        NewWatch {
            watch_id: "wch_1",
            token: "wtk_1",
            event_id: "evt_c",
            character: "a",
            webhook_url: "https://x.example/h",
            key: "k",
            request_hash: "r",
            now_ms: 1,
            expires_at: 2,
        }
    }

    pub(crate) fn examples() -> Vec<Statement> {
        let prev = previous();
        let write = ValuationWrite {
            character: "a",
            canonical: canonical(2.0),
            version: 5,
            previous: Some(&prev),
            watch_ids: vec!["wch_1".into(), "wch_2".into()],
            event_ids: vec!["evt_1".into(), "evt_2".into()],
            now_ms: 9,
            max_payload_bytes: 65_536,
        };
        let creation = new_watch();
        let mut all = vec![
            delete_expired_key("k", 1),
            purge_idempotency_keys(1),
            stored_response("k", 1),
            active_watch("wch_1"),
            latest_snapshot("a"),
            active_watch_ids("a"),
            is_watched("a"),
            snapshot_exists("a", 1),
            due_characters(1, 2, 3),
            mark_checked("a", 1, None),
        ];
        all.extend(creation.batch().unwrap().1);
        all.extend(delete_watch("wch_1", 1));
        all.extend(write.batch().unwrap().0);
        all
    }

    #[test]
    fn a_changed_valuation_writes_its_snapshot_then_one_event_per_watch() {
        let prev = previous();
        let write = ValuationWrite {
            character: "a",
            canonical: canonical(2.0),
            version: 5,
            previous: Some(&prev),
            watch_ids: vec!["wch_1".into(), "wch_2".into()],
            event_ids: vec!["evt_1".into(), "evt_2".into(), "evt_unused".into()],
            now_ms: 9,
            max_payload_bytes: 65_536,
        };
        let (batch, written) = write.batch().unwrap();
        assert_eq!(written, ["evt_1", "evt_2"]);
        assert_eq!(batch.len(), 3);
        assert!(batch[0].sql.starts_with("INSERT INTO valuation_snapshots"));
        assert_eq!(batch[0].binds[1], Bind::Int(5));
        assert_eq!(batch[0].binds[4], Bind::Real(2.0));
        assert_eq!(batch[2].binds[0], Bind::Text("evt_2".into()));
        assert_eq!(batch[2].binds[2], Bind::Text("wch_2".into()));

        let baseline = ValuationWrite {
            previous: None,
            event_ids: vec![],
            canonical: canonical(2.0),
            watch_ids: write.watch_ids.clone(),
            ..write
        };
        let (batch, written) = baseline.batch().unwrap();
        assert_eq!((batch.len(), written.len()), (1, 0));

        let short = ValuationWrite {
            previous: Some(&prev),
            event_ids: vec!["evt_1".into()],
            ..baseline
        };
        assert_eq!(short.batch().unwrap_err().code(), "internal");
    }

    #[test]
    fn a_creation_stores_the_token_hash_and_replays_its_own_body() {
        let (body, batch) = new_watch().batch().unwrap();
        assert_eq!(batch.len(), 3);
        assert_eq!(batch[0].binds[3], Bind::Text(token_hash("wtk_1")));
        assert!(
            !batch[0].binds.contains(&Bind::Text("wtk_1".into())),
            "the token itself is never stored"
        );
        assert_eq!(batch[1].binds[3], Bind::Text(body.clone()));
        assert!(body.contains(r#""token":"wtk_1""#), "{body}");
        assert_eq!(batch[2].binds[0], Bind::Text("evt_c".into()));
    }

    #[test]
    fn a_repeated_key_replays_with_the_same_body_and_is_refused_with_another() {
        let row = IdempotencyRow {
            request_hash: "h1".into(),
            status: 201,
            response_body: "{}".into(),
        };
        assert_eq!(
            row.clone().replay("h1").unwrap(),
            StoredResponse {
                status: 201,
                body: "{}".into(),
                replayed: true
            }
        );
        assert_eq!(row.replay("h2").unwrap_err().code(), "idempotency_key_reused");
    }

    #[test]
    fn only_a_replayed_answer_says_so() {
        let first = StoredResponse {
            status: 201,
            body: "{}".into(),
            replayed: false,
        };
        let r = first.reply();
        assert_eq!((r.status, r.body.as_deref()), (201, Some(&b"{}"[..])));
        assert_eq!(r.get("cache-control"), Some("no-store"));
        assert_eq!(r.get("content-type"), Some(crate::http::JSON_UTF8));
        assert_eq!(r.get("idempotent-replayed"), None);
        let again = StoredResponse {
            replayed: true,
            ..first
        };
        assert_eq!(again.reply().get("idempotent-replayed"), Some("true"));
    }

    #[test]
    fn a_deletion_reports_its_dead_letters_or_that_the_watch_was_gone() {
        let batch = delete_watch("wch_1", 3);
        assert!(batch[0].sql.starts_with("UPDATE watches SET status = 'deleted'"));
        assert!(batch[2].sql.starts_with("DELETE FROM outbox"));
        assert_eq!(deleted(&[Some(1), Some(4), Some(4)]).unwrap(), 4);
        assert_eq!(
            deleted(&[Some(0), Some(0), Some(0)]).unwrap_err().code(),
            "watch_not_found"
        );
        assert_eq!(deleted(&[Some(1), Some(4), None]).unwrap_err().code(), "internal");
    }

    #[test]
    fn a_watch_needs_its_own_token() {
        let row = WatchRow {
            id: "wch_1".into(),
            character: "a".into(),
            webhook_url: "https://x.example/h".into(),
            token_hash: token_hash("wtk_1"),
            created_at: 1,
            last_checked_at: None,
            last_check_error: None,
        };
        assert_eq!(row.clone().authorize(Some("wtk_1")).unwrap().id, "wch_1");
        assert_eq!(
            row.clone().authorize(Some("wtk_2")).unwrap_err().code(),
            "invalid_watch_token"
        );
        assert_eq!(row.authorize(None).unwrap_err().code(), "watch_token_required");
    }

    #[test]
    fn a_sweep_check_without_an_error_stores_null() {
        assert_eq!(mark_checked("a", 1, None).binds[2], Bind::Null);
        assert_eq!(
            mark_checked("a", 1, Some("upstream_unavailable")).binds[2],
            Bind::Text("upstream_unavailable".into())
        );
    }

    #[test]
    fn a_stored_snapshot_that_does_not_parse_is_an_internal_error() {
        let row = SnapshotRow {
            version: 1,
            summary: "{".into(),
            summary_hash: "h".into(),
            created_at: 1,
        };
        assert_eq!(row.snapshot().unwrap_err().code(), "internal");
    }
}
