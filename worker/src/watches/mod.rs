//! Watches, the I/O: tell a webhook when the valuation of a character changes.
//!
//! A watch is created with an `Idempotency-Key` (same key and body → the same answer; another body →
//! 409), and its creation, its idempotency record and a `watch.created` event are one D1 batch. When a
//! refresh sees a new valuation of a watched character, [`record_valuation`] writes the new snapshot and
//! one `valuation.changed` event per active watch in one batch: never an event without its snapshot, nor
//! a snapshot without its events. The scheduled [`sweep`] refreshes watched characters within a budget.
//! Every decision on the way (unchanged or the next version, the change and its payload, the bodies, how
//! the sweep counts and when it stops) is [`pve_edge::watches`].
pub mod lookup;

use crate::error::Platform;
use pve_edge::config::WatchConfig;
use pve_edge::valuation::ValuationSummary;
use pve_edge::watches::{
    request_hash, AfterFailure, Canonical, Change, ChangeEvent, Created, Deleted, NextSnapshot, Recorded,
    Shown, Snapshot, SweepReport, Watch, VALUATION_CHANGED, WATCH_CREATED,
};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

use crate::bindings::DB;
use crate::context::{new_request_id, now_ms, Outcome, TaskContext};
use crate::d1;
use crate::error::EdgeError;
use crate::outbox::{self, dead_letter, js_num, Aggregate, NewEvent};
use crate::token;
use crate::vars;

const IDEMPOTENCY_SCOPE: &str = "watches.create";

/// The watch settings, from the vars.
pub fn config(env: &Env) -> Result<WatchConfig, EdgeError> {
    Ok(WatchConfig::parse(&vars::source(env))?)
}

/// A stored answer to replay for a repeated Idempotency-Key.
#[derive(Debug)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub replayed: bool,
}

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
    let row: Option<IdempotencyRow> = d1::first(
        db.prepare(
            "SELECT request_hash, status, response_body FROM idempotency_keys \
             WHERE scope = ?1 AND key = ?2 AND expires_at > ?3",
        )
        .bind(&[IDEMPOTENCY_SCOPE.into(), key.into(), js_num(now)]),
        None,
    )
    .await?;
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
pub async fn create(
    env: &Env,
    idempotency_key: &str,
    req: pve_edge::request::CreateWatch,
) -> Result<StoredResponse, EdgeError> {
    let cfg = config(env)?;
    let character = pve_edge::validate::character_name(&req.character)?;
    let url = crate::webhook::policy_from_env(env)?
        .check(&req.webhook_url)
        .map_err(EdgeError::InvalidWebhookUrl)?;
    let request_hash = request_hash(&character, url.as_str())?;
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    d1::run(
        db.prepare("DELETE FROM idempotency_keys WHERE scope = ?1 AND key = ?2 AND expires_at <= ?3")
            .bind(&[IDEMPOTENCY_SCOPE.into(), idempotency_key.into(), js_num(now)]),
    )
    .await?;
    if let Some(stored) = stored_response(&db, idempotency_key, &request_hash, now).await? {
        return Ok(stored);
    }

    let watch_id = token::random_id("wch_", 16).map_err(EdgeError::platform)?;
    let watch_token = token::random_id("wtk_", 32).map_err(EdgeError::platform)?;
    let event_id = outbox::new_event_id()?;
    let created = Created::new(&watch_id, &character, url.as_str(), &watch_token, now);
    let body = created.body()?;
    let event = NewEvent {
        event_id: event_id.clone(),
        aggregate: Aggregate::Watch,
        aggregate_id: watch_id.clone(),
        event_type: WATCH_CREATED.into(),
        payload: created.event_payload(&event_id, now)?,
    };
    let batch = vec![
        insert_watch(&db, &watch_id, &character, url.as_str(), &pve_edge::watches::token_hash(&watch_token), now).platform()?,
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
    d1::run(
        db.prepare("DELETE FROM idempotency_keys WHERE expires_at <= ?1")
            .bind(&[js_num(now_ms())]),
    )
    .await
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
async fn authorized_watch(db: &D1Database, id: &str, token: Option<&str>) -> Result<Watch, EdgeError> {
    let row: Option<WatchRow> = d1::first(
        db.prepare(
            "SELECT id, character, webhook_url, token_hash, created_at, last_checked_at, last_check_error \
             FROM watches WHERE id = ?1 AND status = 'active'",
        )
        .bind(&[id.into()]),
        None,
    )
    .await?;
    let row = row.ok_or(EdgeError::WatchNotFound)?;
    let token = token.ok_or(EdgeError::WatchTokenRequired)?;
    if !pve_edge::watches::token_matches(token, &row.token_hash) {
        return Err(EdgeError::InvalidWatchToken);
    }
    Ok(Watch {
        id: row.id,
        character: row.character,
        webhook_url: row.webhook_url,
        created_at: row.created_at,
        last_checked_at: row.last_checked_at,
        last_check_error: row.last_check_error,
    })
}

fn to_value(body: &impl serde::Serialize) -> Result<serde_json::Value, EdgeError> {
    serde_json::to_value(body).map_err(|e| EdgeError::internal(format!("watch answer: {e}")))
}

/// `GET /v1/watches/{id}`.
pub async fn get(env: &Env, id: &str, token: Option<&str>) -> Result<serde_json::Value, EdgeError> {
    let db = env.d1(DB).platform()?;
    let w = authorized_watch(&db, id, token).await?;
    let snapshot = latest_snapshot(&db, &w.character).await?;
    to_value(&Shown::new(&w, snapshot.as_ref()))
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
    if d1::changes_at(&results, 0)? == 0 {
        return Err(EdgeError::WatchNotFound);
    }
    to_value(&Deleted::new(&w.id, now, d1::changes_at(&results, 2)?))
}

/// The latest stored valuation of a character.
pub async fn latest_snapshot(db: &D1Database, character: &str) -> Result<Option<Snapshot>, EdgeError> {
    #[derive(Deserialize)]
    struct Row {
        version: u64,
        summary: String,
        summary_hash: String,
        created_at: u64,
    }
    let row: Option<Row> = d1::first(
        db.prepare(
            "SELECT version, summary, summary_hash, created_at FROM valuation_snapshots \
             WHERE character = ?1 ORDER BY version DESC LIMIT 1",
        )
        .bind(&[character.into()]),
        None,
    )
    .await?;
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
    let cfg = config(env)?;
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
    let canonical = Canonical::of(summary)?;
    let (version, previous_version) = match pve_edge::watches::next_snapshot(previous, &canonical.hash) {
        NextSnapshot::Unchanged { version } => return Ok(Recorded::Unchanged { version }),
        NextSnapshot::Write { version, previous: p } => (version, p),
    };
    let watch_ids: Vec<String> = {
        #[derive(Deserialize)]
        struct Row {
            id: String,
        }
        let rows: Vec<Row> = d1::all(
            db.prepare("SELECT id FROM watches WHERE character = ?1 AND status = 'active' ORDER BY id")
                .bind(&[character.into()]),
        )
        .await?;
        rows.into_iter().map(|r| r.id).collect()
    };
    if watch_ids.is_empty() {
        return Ok(Recorded::NotWatched);
    }
    let now = now_ms();
    let mut batch = vec![db
        .prepare(
            "INSERT INTO valuation_snapshots (character, version, summary, summary_hash, total, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&[
            character.into(),
            js_num(version),
            canonical.json.as_str().into(),
            canonical.hash.as_str().into(),
            JsValue::from_f64(canonical.summary.total_mean_cost),
            js_num(now),
        ])
        .platform()?];
    let mut event_ids = Vec::new();
    if let (Some(prev), Some(previous_version)) = (previous, previous_version) {
        let change = Change::between(&prev.summary, &canonical.summary);
        for watch_id in &watch_ids {
            let event_id = new_event_id()?;
            let payload = change.payload(
                &ChangeEvent {
                    event_id: &event_id,
                    watch_id,
                    character,
                    previous_version,
                    version,
                    now_ms: now,
                },
                max_payload_bytes,
            )?;
            let event = NewEvent {
                event_id: event_id.clone(),
                aggregate: Aggregate::Watch,
                aggregate_id: watch_id.clone(),
                event_type: VALUATION_CHANGED.into(),
                payload,
            };
            batch.push(event.insert(db, now).platform()?);
            event_ids.push(event_id);
        }
    }
    match db.batch(batch).await {
        Ok(_) => Ok(Recorded::written(version, previous_version, event_ids)),
        Err(e) => {
            // The snapshot (character, version) is unique: if it exists now, a concurrent refresh won.
            let winner: Option<u64> = d1::first(
                db.prepare("SELECT version FROM valuation_snapshots WHERE character = ?1 AND version = ?2")
                    .bind(&[character.into(), js_num(version)]),
                Some("version"),
            )
            .await?;
            match winner {
                Some(_) => Ok(Recorded::Superseded),
                None => Err(EdgeError::platform(e)),
            }
        }
    }
}

/// Whether anyone watches `character` (an active watch).
pub async fn is_watched(db: &D1Database, character: &str) -> Result<bool, EdgeError> {
    let found: Option<u32> = d1::first(
        db.prepare("SELECT 1 AS found FROM watches WHERE character = ?1 AND status = 'active' LIMIT 1")
            .bind(&[character.into()]),
        Some("found"),
    )
    .await?;
    Ok(found.is_some())
}

/// A character lookup loaded `character`'s equipment (`equipment`, Nexon's answer) freshly from the
/// origin: if the character is watched, value it and record the equipped set's valuation
/// ([`record_valuation`]). The caller sends the events when [`Recorded::has_events`].
pub async fn notice_valuation(
    env: &Env,
    task: &TaskContext,
    character: &str,
    equipment: &[u8],
) -> Result<Recorded, EdgeError> {
    let db = env.d1(DB).platform()?;
    if !is_watched(&db, character).await? {
        return Ok(Recorded::NotWatched);
    }
    let summary =
        lookup::equipped_summary(task, equipment).map_err(|e| EdgeError::internal(e.to_string()))?;
    let previous = latest_snapshot(&db, character).await?;
    record_valuation(env, character, &summary, previous.as_ref()).await
}

/// Refresh up to `WATCH_SWEEP_BATCH` watched characters, least recently checked first, each at most
/// once per `WATCH_SWEEP_INTERVAL_S`. The batch size is the sweep's share of the upstream budget; the
/// lookups go through the cache and its global upstream budget ([`lookup::current_valuation`]), and the
/// sweep stops at the first character the budget or the upstream refuses
/// ([`SweepReport::failed`]). Each lookup has its own log line (`watches`/`sweep_lookup`).
pub async fn sweep(env: &Env, bg: &impl crate::cache::Background) -> Result<SweepReport, EdgeError> {
    let cfg = config(env)?;
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    #[derive(Deserialize)]
    struct Due {
        character: String,
    }
    let due: Vec<Due> = d1::all(
        db.prepare(
            "SELECT character, MIN(COALESCE(last_checked_at, 0)) AS checked FROM watches WHERE status = 'active' \
             GROUP BY character HAVING checked + ?1 <= ?2 ORDER BY checked, character LIMIT ?3",
        )
        .bind(&[js_num(cfg.sweep_interval_ms), js_num(now), cfg.sweep_batch.into()]),
    )
    .await?;
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
        let (after, error_code) = match found {
            Ok(summary) => {
                let previous = latest_snapshot(&db, &character).await?;
                let recorded = record_valuation(env, &character, &summary, previous.as_ref()).await?;
                report.recorded(&recorded);
                (AfterFailure::Continue, JsValue::NULL)
            }
            Err(e) => (report.failed(&character, &e), e.code().into()),
        };
        d1::run(
            db.prepare(
                "UPDATE watches SET last_checked_at = ?2, last_check_error = ?3 WHERE character = ?1 AND status = 'active'",
            )
            .bind(&[character.as_str().into(), js_num(now), error_code]),
        )
        .await?;
        if let AfterFailure::Stop { alert } = after {
            if let Some(alert) = alert {
                crate::alerts::raise(env, alert).await?;
            }
            break;
        }
    }
    if let Some(alert) = report.degraded_alert() {
        crate::alerts::raise(env, alert).await?;
    }
    Ok(report)
}
