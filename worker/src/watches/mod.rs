//! Watches: tell a webhook when the valuation of a character changes.
//!
//! A watch is created with an `Idempotency-Key` (same key and body → the same answer; another body →
//! 409), and its creation, its idempotency record and a `watch.created` event are one D1 batch. When a
//! refresh sees a new valuation of a watched character, [`record_valuation`] writes the new snapshot and
//! one `valuation.changed` event per active watch in one batch: never an event without its snapshot, nor
//! a snapshot without its events. The scheduled [`sweep`] refreshes watched characters within a budget.
pub mod lookup;

use crate::error::Platform;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

use crate::alerts::iso8601;
use crate::bindings::DB;
use crate::context::{new_request_id, now_ms, Outcome, TaskContext};
use crate::error::EdgeError;
use crate::outbox::{self, dead_letter, js_num, Aggregate, NewEvent};
use crate::token;
use crate::vars::{self, ConfigError};

const IDEMPOTENCY_SCOPE: &str = "watches.create";

/// The watch settings ([`pve_edge::config::WatchConfig`]) read from the `Env`. A wrapper only so that
/// `WatchConfig::from_env(env)` reads as before at every call site; the fields are the pure type's.
#[derive(Debug, Clone, Copy)]
pub struct WatchConfig(pve_edge::config::WatchConfig);

impl WatchConfig {
    pub fn from_env(env: &Env) -> Result<WatchConfig, ConfigError> {
        pve_edge::config::WatchConfig::parse(&vars::source(env)).map(WatchConfig)
    }
}

impl std::ops::Deref for WatchConfig {
    type Target = pve_edge::config::WatchConfig;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

pub use pve_edge::request::CreateWatch;

/// A stored answer to replay for a repeated Idempotency-Key.
#[derive(Debug)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub replayed: bool,
}

/// The game's name rule (one home: [`pve_edge::validate`]).
pub use pve_edge::validate::character_name as validate_character_name;

#[derive(Deserialize)]
struct IdempotencyRow {
    request_hash: String,
    status: u16,
    response_body: String,
}

async fn stored_response(
    db: &D1Database,
    key: &str,
    request_hash: &str,
    now: u64,
) -> Result<Option<StoredResponse>, EdgeError> {
    let row: Option<IdempotencyRow> = db
        .prepare(
            "SELECT request_hash, status, response_body FROM idempotency_keys \
             WHERE scope = ?1 AND key = ?2 AND expires_at > ?3",
        )
        .bind(&[IDEMPOTENCY_SCOPE.into(), key.into(), js_num(now)])
        .platform()?
        .first(None)
        .await
        .platform()?;
    match row {
        None => Ok(None),
        Some(r) if pve_edge::http::ct_eq(r.request_hash.as_bytes(), request_hash.as_bytes()) => {
            Ok(Some(StoredResponse {
                status: r.status,
                body: r.response_body,
                replayed: true,
            }))
        }
        Some(_) => Err(EdgeError::IdempotencyKeyReused),
    }
}

/// The one INSERT of an active watch (used by [`create`] and the test route that creates many).
pub fn insert_watch(
    db: &D1Database,
    id: &str,
    character: &str,
    webhook_url: &str,
    token_hash: &str,
    now_ms: u64,
) -> worker::Result<D1PreparedStatement> {
    db.prepare(
        "INSERT INTO watches (id, character, webhook_url, token_hash, status, created_at) \
         VALUES (?1, ?2, ?3, ?4, 'active', ?5)",
    )
    .bind(&[
        id.into(),
        character.into(),
        webhook_url.into(),
        token_hash.into(),
        js_num(now_ms),
    ])
}

/// Creates a watch, or answers again what the first request with this key got.
pub async fn create(env: &Env, idempotency_key: &str, req: CreateWatch) -> Result<StoredResponse, EdgeError> {
    let cfg = WatchConfig::from_env(env)?;
    let character = validate_character_name(&req.character)?;
    let url = crate::webhook::policy_from_env(env)?
        .check(&req.webhook_url)
        .map_err(EdgeError::InvalidWebhookUrl)?;
    let request_hash = token::sha256_hex(
        serde_json::json!({"character": character, "webhook_url": url.as_str()})
            .to_string()
            .as_bytes(),
    );
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    db.prepare("DELETE FROM idempotency_keys WHERE scope = ?1 AND key = ?2 AND expires_at <= ?3")
        .bind(&[IDEMPOTENCY_SCOPE.into(), idempotency_key.into(), js_num(now)])
        .platform()?
        .run()
        .await
        .platform()?;
    if let Some(stored) = stored_response(&db, idempotency_key, &request_hash, now).await? {
        return Ok(stored);
    }

    let watch_id = token::random_id("wch_", 16).map_err(EdgeError::platform)?;
    let watch_token = token::random_id("wtk_", 32).map_err(EdgeError::platform)?;
    let event_id = outbox::new_event_id()?;
    let body = serde_json::json!({
        "id": watch_id,
        "character": character,
        "webhook_url": url.as_str(),
        "status": "active",
        "created_at": iso8601(now),
        "token": watch_token,
    })
    .to_string();
    let event = NewEvent {
        event_id: event_id.clone(),
        aggregate: Aggregate::Watch,
        aggregate_id: watch_id.clone(),
        event_type: "watch.created".into(),
        payload: serde_json::json!({
            "event_id": event_id,
            "event_type": "watch.created",
            "occurred_at": iso8601(now),
            "watch_id": watch_id,
            "character": character,
            "data": {"message": format!("This webhook will be told when the valuation of {character} changes.")},
        })
        .to_string(),
    };
    let batch = vec![
        insert_watch(&db, &watch_id, &character, url.as_str(), &token::sha256_hex(watch_token.as_bytes()), now).platform()?,
        db.prepare(
            "INSERT INTO idempotency_keys (scope, key, request_hash, status, response_body, created_at, expires_at) \
             VALUES (?1, ?2, ?3, 201, ?4, ?5, ?6)",
        )
        .bind(&[
            IDEMPOTENCY_SCOPE.into(),
            idempotency_key.into(),
            request_hash.as_str().into(),
            body.as_str().into(),
            js_num(now),
            js_num(now + cfg.idempotency_ttl_ms),
        ]).platform()?,
        event.insert(&db, now).platform()?,
    ];
    match db.batch(batch).await {
        Ok(_) => Ok(StoredResponse {
            status: 201,
            body,
            replayed: false,
        }),
        // A concurrent request with the same key won the race: answer as it was answered.
        Err(e) => match stored_response(&db, idempotency_key, &request_hash, now).await? {
            Some(stored) => Ok(stored),
            None => Err(EdgeError::platform(e)),
        },
    }
}

/// Forget Idempotency-Keys older than `IDEMPOTENCY_TTL_S` (the cron run calls this).
pub async fn purge_idempotency_keys(env: &Env) -> Result<u64, EdgeError> {
    let db = env.d1(DB).platform()?;
    let r = db
        .prepare("DELETE FROM idempotency_keys WHERE expires_at <= ?1")
        .bind(&[js_num(now_ms())])
        .platform()?
        .run()
        .await
        .platform()?;
    crate::d1::changes(&r)
}

#[derive(Debug, Deserialize)]
struct WatchRow {
    id: String,
    character: String,
    webhook_url: String,
    token_hash: String,
    created_at: u64,
    last_checked_at: Option<u64>,
    last_check_error: Option<String>,
}

/// The active watch `id`, if `token` is the one returned at its creation.
async fn authorized_watch(db: &D1Database, id: &str, token: Option<&str>) -> Result<WatchRow, EdgeError> {
    let row: Option<WatchRow> = db
        .prepare(
            "SELECT id, character, webhook_url, token_hash, created_at, last_checked_at, last_check_error \
             FROM watches WHERE id = ?1 AND status = 'active'",
        )
        .bind(&[id.into()])
        .platform()?
        .first(None)
        .await
        .platform()?;
    let row = row.ok_or(EdgeError::WatchNotFound)?;
    let token = token.ok_or(EdgeError::WatchTokenRequired)?;
    if !pve_edge::http::ct_eq(
        token::sha256_hex(token.as_bytes()).as_bytes(),
        row.token_hash.as_bytes(),
    ) {
        return Err(EdgeError::InvalidWatchToken);
    }
    Ok(row)
}

/// `GET /v1/watches/{id}`.
pub async fn get(env: &Env, id: &str, token: Option<&str>) -> Result<serde_json::Value, EdgeError> {
    let db = env.d1(DB).platform()?;
    let w = authorized_watch(&db, id, token).await?;
    let snapshot = latest_snapshot(&db, &w.character).await?;
    Ok(serde_json::json!({
        "id": w.id,
        "character": w.character,
        "webhook_url": w.webhook_url,
        "status": "active",
        "created_at": iso8601(w.created_at),
        "last_checked_at": w.last_checked_at.map(iso8601),
        "last_check_error": w.last_check_error,
        "last_snapshot": snapshot.map(|s| serde_json::json!({
            "version": s.version,
            "total_mean_cost": s.summary.total_mean_cost,
            "created_at": iso8601(s.created_at),
        })),
    }))
}

/// `DELETE /v1/watches/{id}`: the watch stops, and its undelivered events move to the dead-letter table
/// with reason `watch_deleted` (kept, not silently dropped; no alert).
pub async fn delete(env: &Env, id: &str, token: Option<&str>) -> Result<serde_json::Value, EdgeError> {
    let db = env.d1(DB).platform()?;
    let w = authorized_watch(&db, id, token).await?;
    let now = now_ms();
    let [to_dead, from_outbox] = dead_letter::move_statements(
        &db,
        "aggregate_type = 'watch' AND aggregate_id = ?1 AND status = ?2",
        [w.id.as_str().into(), "pending".into()],
        "watch_deleted",
        "the watch was deleted",
        now,
    )
    .platform()?;
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE watches SET status = 'deleted', deleted_at = ?2 WHERE id = ?1 AND status = 'active'",
            )
            .bind(&[w.id.as_str().into(), js_num(now)])
            .platform()?,
            to_dead,
            from_outbox,
        ])
        .await
        .platform()?;
    let changes = |i: usize| crate::d1::changes_at(&results, i);
    if changes(0)? == 0 {
        return Err(EdgeError::WatchNotFound);
    }
    Ok(serde_json::json!({
        "id": w.id,
        "status": "deleted",
        "deleted_at": iso8601(now),
        "undelivered_events_dead_lettered": changes(2)?,
    }))
}

pub use pve_edge::valuation::{ItemValue, ValuationSummary};

/// The latest stored valuation of a character.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub version: u64,
    pub summary: ValuationSummary,
    pub summary_hash: String,
    pub created_at: u64,
}

pub async fn latest_snapshot(db: &D1Database, character: &str) -> Result<Option<Snapshot>, EdgeError> {
    #[derive(Deserialize)]
    struct Row {
        version: u64,
        summary: String,
        summary_hash: String,
        created_at: u64,
    }
    let row: Option<Row> = db
        .prepare(
            "SELECT version, summary, summary_hash, created_at FROM valuation_snapshots \
             WHERE character = ?1 ORDER BY version DESC LIMIT 1",
        )
        .bind(&[character.into()])
        .platform()?
        .first(None)
        .await
        .platform()?;
    row.map(|r| {
        let summary = serde_json::from_str(&r.summary)
            .map_err(|e| EdgeError::internal(format!("stored snapshot does not parse: {e}")))?;
        Ok(Snapshot {
            version: r.version,
            summary,
            summary_hash: r.summary_hash,
            created_at: r.created_at,
        })
    })
    .transpose()
}

/// What [`record_valuation`] did.
#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Recorded {
    /// Nobody watches this character: nothing stored.
    NotWatched,
    /// Same valuation as the latest snapshot: nothing stored.
    Unchanged { version: u64 },
    /// First valuation of a watched character: a snapshot, no event (nothing to compare with).
    Baseline { version: u64 },
    /// A new snapshot and one `valuation.changed` event per active watch, in one transaction.
    Changed { version: u64, event_ids: Vec<String> },
    /// Another refresh stored the next snapshot first (its batch won; ours wrote nothing).
    Superseded,
}

/// Record a freshly computed valuation of `character`. `previous` is the latest snapshot as the caller
/// read it ([`latest_snapshot`]); if another refresh stored a newer one meanwhile, this one writes
/// nothing and returns [`Recorded::Superseded`]. Call [`crate::outbox::relay::kick`] afterwards so the
/// events leave at once.
pub async fn record_valuation(
    env: &Env,
    character: &str,
    summary: &ValuationSummary,
    previous: Option<&Snapshot>,
) -> Result<Recorded, EdgeError> {
    let cfg = WatchConfig::from_env(env)?;
    let db = env.d1(DB).platform()?;
    record_valuation_with(
        &db,
        character,
        summary,
        previous,
        &mut outbox::new_event_id,
        cfg.max_payload_bytes,
    )
    .await
}

/// [`record_valuation`] with the event-id source and payload bound given (the test route injects a
/// colliding id to prove the batch is all or nothing).
pub async fn record_valuation_with(
    db: &D1Database,
    character: &str,
    summary: &ValuationSummary,
    previous: Option<&Snapshot>,
    new_event_id: &mut dyn FnMut() -> Result<String, EdgeError>,
    max_payload_bytes: usize,
) -> Result<Recorded, EdgeError> {
    let (summary, summary_json) = summary.canonical()?;
    let summary_hash = token::sha256_hex(summary_json.as_bytes());
    if previous.is_some_and(|p| p.summary_hash == summary_hash) {
        return Ok(Recorded::Unchanged {
            version: previous.map_or(0, |p| p.version),
        });
    }
    let watch_ids: Vec<String> = {
        #[derive(Deserialize)]
        struct Row {
            id: String,
        }
        let rows: Vec<Row> = db
            .prepare("SELECT id FROM watches WHERE character = ?1 AND status = 'active' ORDER BY id")
            .bind(&[character.into()])
            .platform()?
            .all()
            .await
            .platform()?
            .results()
            .platform()?;
        rows.into_iter().map(|r| r.id).collect()
    };
    if watch_ids.is_empty() {
        return Ok(Recorded::NotWatched);
    }
    let now = now_ms();
    let version = previous.map_or(1, |p| p.version + 1);
    let mut batch = vec![db
        .prepare(
            "INSERT INTO valuation_snapshots (character, version, summary, summary_hash, total, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&[
            character.into(),
            js_num(version),
            summary_json.as_str().into(),
            summary_hash.as_str().into(),
            JsValue::from_f64(summary.total_mean_cost),
            js_num(now),
        ])
        .platform()?];
    let mut event_ids = Vec::new();
    if let Some(prev) = previous {
        let change = Change::between(&prev.summary, &summary);
        for watch_id in &watch_ids {
            let event_id = new_event_id()?;
            let payload = change.payload(
                &event_id,
                watch_id,
                character,
                prev.version,
                version,
                now,
                max_payload_bytes,
            )?;
            let event = NewEvent {
                event_id: event_id.clone(),
                aggregate: Aggregate::Watch,
                aggregate_id: watch_id.clone(),
                event_type: "valuation.changed".into(),
                payload,
            };
            batch.push(event.insert(db, now).platform()?);
            event_ids.push(event_id);
        }
    }
    match db.batch(batch).await {
        Ok(_) if previous.is_none() => Ok(Recorded::Baseline { version }),
        Ok(_) => Ok(Recorded::Changed { version, event_ids }),
        Err(e) => {
            // The snapshot (character, version) is unique: if it exists now, a concurrent refresh won.
            let winner: Option<u64> = db
                .prepare("SELECT version FROM valuation_snapshots WHERE character = ?1 AND version = ?2")
                .bind(&[character.into(), js_num(version)])
                .platform()?
                .first(Some("version"))
                .await
                .platform()?;
            match winner {
                Some(_) => Ok(Recorded::Superseded),
                None => Err(EdgeError::platform(e)),
            }
        }
    }
}

/// The difference between two valuations, per slot.
struct Change {
    old_total: f64,
    new_total: f64,
    items: Vec<serde_json::Value>,
}

impl Change {
    fn between(old: &ValuationSummary, new: &ValuationSummary) -> Change {
        let old_items: BTreeMap<&str, &ItemValue> = old.items.iter().map(|i| (i.slot.as_str(), i)).collect();
        let new_items: BTreeMap<&str, &ItemValue> = new.items.iter().map(|i| (i.slot.as_str(), i)).collect();
        let mut slots: Vec<&str> = old_items.keys().chain(new_items.keys()).copied().collect();
        slots.sort_unstable();
        slots.dedup();
        let items = slots
            .into_iter()
            .filter_map(|slot| {
                let (o, n) = (old_items.get(slot), new_items.get(slot));
                if o == n {
                    return None;
                }
                // An item that appears or disappears counts as 0 on its missing side; an item whose cost
                // is not valued in mesos has no delta (null), never a made-up one.
                let cost = |i: Option<&&ItemValue>| match i {
                    None => Some(0.0),
                    Some(i) => i.mean_cost,
                };
                let delta = cost(n).zip(cost(o)).map(|(n, o)| n - o);
                Some(serde_json::json!({
                    "slot": slot,
                    "old": o.map(|i| serde_json::json!({"name": i.name, "mean_cost": i.mean_cost})),
                    "new": n.map(|i| serde_json::json!({"name": i.name, "mean_cost": i.mean_cost})),
                    "delta": delta,
                }))
            })
            .collect();
        Change {
            old_total: old.total_mean_cost,
            new_total: new.total_mean_cost,
            items,
        }
    }

    /// The webhook body, at most `max_bytes`: trailing item changes are dropped to fit and
    /// `changes_truncated` says so.
    #[allow(clippy::too_many_arguments)]
    fn payload(
        &self,
        event_id: &str,
        watch_id: &str,
        character: &str,
        old_version: u64,
        new_version: u64,
        now: u64,
        max_bytes: usize,
    ) -> Result<String, EdgeError> {
        let mut keep = self.items.len();
        loop {
            let body = serde_json::json!({
                "event_id": event_id,
                "event_type": "valuation.changed",
                "occurred_at": iso8601(now),
                "watch_id": watch_id,
                "character": character,
                "data": {
                    "old_total": self.old_total,
                    "new_total": self.new_total,
                    "delta": self.new_total - self.old_total,
                    "previous_snapshot_version": old_version,
                    "snapshot_version": new_version,
                    "changes": &self.items[..keep],
                    "changes_total": self.items.len(),
                    "changes_truncated": keep < self.items.len(),
                },
            })
            .to_string();
            if body.len() <= max_bytes {
                return Ok(body);
            }
            if keep == 0 {
                return Err(EdgeError::internal(
                    "valuation.changed payload over the bound with no changes listed",
                ));
            }
            keep = keep.saturating_sub((keep / 4).max(1));
        }
    }
}

/// A character the sweep could not refresh (the detail is for operators: logs and the admin route).
#[derive(Debug, Serialize)]
pub struct SweepError {
    pub character: String,
    pub code: &'static str,
    pub detail: String,
}

/// What one sweep did.
#[derive(Debug, Default, Serialize)]
pub struct SweepReport {
    pub characters: u32,
    pub changed: u32,
    pub unchanged: u32,
    pub baseline: u32,
    /// Another refresh stored the next snapshot first (reported only when it happened).
    #[serde(skip_serializing_if = "is_zero")]
    pub superseded: u32,
    /// The character stopped being watched during the sweep (reported only when it happened).
    #[serde(skip_serializing_if = "is_zero")]
    pub not_watched: u32,
    pub errors: Vec<SweepError>,
    /// The error that ended the sweep early (429, upstream failure, lookup not configured).
    pub stopped_by: Option<&'static str>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Whether anyone watches `character` (an active watch).
pub async fn is_watched(db: &D1Database, character: &str) -> Result<bool, EdgeError> {
    let found: Option<u32> = db
        .prepare("SELECT 1 AS found FROM watches WHERE character = ?1 AND status = 'active' LIMIT 1")
        .bind(&[character.into()])
        .platform()?
        .first(Some("found"))
        .await
        .platform()?;
    Ok(found.is_some())
}

/// A character lookup valued `character`'s equipment freshly loaded from the origin (`valued` is the
/// valuation route's cached body, `{"set":…,"valuation":…}`): if the character is watched, record the
/// equipped set's valuation ([`record_valuation`]). The caller sends the events on `Changed`.
pub async fn notice_valuation(env: &Env, character: &str, valued: &[u8]) -> Result<Recorded, EdgeError> {
    let db = env.d1(DB).platform()?;
    if !is_watched(&db, character).await? {
        return Ok(Recorded::NotWatched);
    }
    let summary = lookup::summary_from_valued(valued).map_err(|e| EdgeError::internal(e.to_string()))?;
    let previous = latest_snapshot(&db, character).await?;
    record_valuation(env, character, &summary, previous.as_ref()).await
}

/// Refresh up to `WATCH_SWEEP_BATCH` watched characters, least recently checked first, each at most
/// once per `WATCH_SWEEP_INTERVAL_S`. The batch size is the sweep's share of the upstream budget; the
/// lookups go through the cache and its global upstream budget ([`lookup::current_valuation`]), and the
/// sweep stops at the first character the budget or the upstream refuses. Each lookup has its own log
/// line (`watches`/`sweep_lookup`).
pub async fn sweep(env: &Env, bg: &impl crate::cache::Background) -> Result<SweepReport, EdgeError> {
    let cfg = WatchConfig::from_env(env)?;
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    #[derive(Deserialize)]
    struct Due {
        character: String,
    }
    let due: Vec<Due> = db
        .prepare(
            "SELECT character, MIN(COALESCE(last_checked_at, 0)) AS checked FROM watches WHERE status = 'active' \
             GROUP BY character HAVING checked + ?1 <= ?2 ORDER BY checked, character LIMIT ?3",
        )
        .bind(&[js_num(cfg.sweep_interval_ms), js_num(now), cfg.sweep_batch.into()]).platform()?
        .all()
        .await.platform()?
        .results().platform()?;
    let mut report = SweepReport::default();
    for Due { character } in due {
        report.characters += 1;
        let task = TaskContext::new(new_request_id(), "watches", "sweep_lookup");
        task.set_key(character.clone());
        let found = lookup::current_valuation(env, bg, &task, &character).await;
        match &found {
            Ok(summary) => {
                task.record("total_mean_cost", summary.total_mean_cost);
                task.finish(Outcome::Ok, None);
            }
            Err(e) => task.finish(
                Outcome::Error {
                    code: e.code(),
                    detail: e.to_string(),
                },
                None,
            ),
        }
        let error = match found {
            Ok(summary) => {
                let previous = latest_snapshot(&db, &character).await?;
                match record_valuation(env, &character, &summary, previous.as_ref()).await? {
                    Recorded::Changed { .. } => report.changed += 1,
                    Recorded::Baseline { .. } => report.baseline += 1,
                    Recorded::Unchanged { .. } => report.unchanged += 1,
                    Recorded::Superseded => report.superseded += 1,
                    Recorded::NotWatched => report.not_watched += 1,
                }
                None
            }
            Err(e) => {
                report.errors.push(SweepError {
                    character: character.clone(),
                    code: e.code(),
                    detail: e.to_string(),
                });
                Some(e)
            }
        };
        db.prepare(
            "UPDATE watches SET last_checked_at = ?2, last_check_error = ?3 WHERE character = ?1 AND status = 'active'",
        )
        .bind(&[character.as_str().into(), js_num(now), error.as_ref().map_or(JsValue::NULL, |e| e.code().into())]).platform()?
        .run()
        .await.platform()?;
        match error {
            Some(lookup::LookupError::RateLimited(detail)) => {
                report.stopped_by = Some("upstream_rate_limited");
                crate::alerts::raise(
                    env,
                    crate::alerts::Alert::new(
                        crate::alerts::AlertKind::UpstreamRateLimitExhausted,
                        "The upstream rate budget refused the watch sweep (a 429, or the token bucket is empty); \
                         the sweep stopped until the next cron run.",
                    )
                    .count("characters_checked", i64::from(report.characters))
                    .detail("character", character.as_str())
                    .detail("cause", detail.as_str()),
                )
                .await?;
                break;
            }
            Some(e) if e.stops_sweep() => {
                report.stopped_by = Some(e.code());
                break;
            }
            _ => {}
        }
    }
    if !report.errors.is_empty() {
        crate::alerts::raise(
            env,
            crate::alerts::Alert::new(
                crate::alerts::AlertKind::WatchSweepDegraded,
                format!(
                    "The watch sweep could not refresh {} character(s).",
                    report.errors.len()
                ),
            )
            .count("errors", report.errors.len() as i64),
        )
        .await?;
    }
    Ok(report)
}
