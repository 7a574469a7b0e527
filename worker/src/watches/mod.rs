//! Watches, the I/O: tell a webhook when the valuation of a character changes.
//!
//! A watch is created with an `Idempotency-Key` (same key and body → the same answer; another body →
//! 409), and its creation, its idempotency record and a `watch.created` event are one D1 batch. When a
//! refresh sees a new valuation of a watched character, [`record_valuation`] writes the new snapshot and
//! one `valuation.changed` event per active watch in one batch: never an event without its snapshot, nor
//! a snapshot without its events. The scheduled [`sweep`] refreshes watched characters within a budget.
//! Every decision on the way (unchanged or the next version, the change and its payload, the bodies, how
//! the sweep counts and when it stops) is [`pve_edge::watches`]; every statement and batch is
//! [`pve_edge::sql::watches`].
pub mod lookup;

use crate::error::Platform;
use pve_edge::config::WatchConfig;
pub use pve_edge::sql::watches::StoredResponse;
use pve_edge::sql::watches::{self as sql, IdRow, IdempotencyRow, SnapshotRow, WatchRow};
use pve_edge::sql::Found;
use pve_edge::valuation::ValuationSummary;
use pve_edge::watches::{
    request_hash, AfterFailure, Canonical, Deleted, LookupError, NextSnapshot, Recorded, Shown, Snapshot,
    SweepReport, Watch,
};
use worker::{D1Database, Env};

use crate::bindings::DB;
use crate::context::{now_ms, Outcome, TaskContext};
use crate::d1;
use crate::error::EdgeError;
use crate::outbox;
use crate::token;
use crate::vars;

/// The watch settings, from the vars.
pub fn config(env: &Env) -> Result<WatchConfig, EdgeError> {
    Ok(WatchConfig::parse(&vars::source(env))?)
}

async fn stored_response(
    db: &D1Database,
    key: &str,
    request_hash: &str,
    now: u64,
) -> Result<Option<StoredResponse>, EdgeError> {
    let row: Option<IdempotencyRow> = d1::first(db, sql::stored_response(key, now)).await?;
    row.map(|r| r.replay(request_hash)).transpose()
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
    d1::run(&db, sql::delete_expired_key(idempotency_key, now)).await?;
    if let Some(stored) = stored_response(&db, idempotency_key, &request_hash, now).await? {
        return Ok(stored);
    }

    let watch_id = token::random_id("wch_", 16).map_err(EdgeError::platform)?;
    let token = token::random_id("wtk_", 32).map_err(EdgeError::platform)?;
    let (body, batch) = sql::NewWatch {
        watch_id: &watch_id,
        token: &token,
        event_id: &outbox::new_event_id()?,
        character: &character,
        webhook_url: url.as_str(),
        key: idempotency_key,
        request_hash: &request_hash,
        now_ms: now,
        expires_at: now + cfg.idempotency_ttl_ms,
    }
    .batch()?;
    match d1::batch(&db, batch).await {
        Ok(_) => Ok(StoredResponse {
            status: 201,
            body,
            replayed: false,
        }),
        // A concurrent request with the same key won the race: answer as it was answered.
        Err(e) => match stored_response(&db, idempotency_key, &request_hash, now).await? {
            Some(stored) => Ok(stored),
            None => Err(e),
        },
    }
}

/// Forget Idempotency-Keys older than `IDEMPOTENCY_TTL_S` (the cron run calls this).
pub async fn purge_idempotency_keys(env: &Env) -> Result<u64, EdgeError> {
    let db = env.d1(DB).platform()?;
    d1::run(&db, sql::purge_idempotency_keys(now_ms())).await
}

/// The active watch `id`, if `token` is the one returned at its creation.
async fn authorized_watch(db: &D1Database, id: &str, token: Option<&str>) -> Result<Watch, EdgeError> {
    let row: WatchRow = d1::first(db, sql::active_watch(id))
        .await?
        .ok_or(EdgeError::WatchNotFound)?;
    row.authorize(token)
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
    let counts = d1::batch(&db, sql::delete_watch(&w.id, now)).await?;
    to_value(&Deleted::new(&w.id, now, sql::deleted(&counts)?))
}

/// The latest stored valuation of a character.
pub async fn latest_snapshot(db: &D1Database, character: &str) -> Result<Option<Snapshot>, EdgeError> {
    let row: Option<SnapshotRow> = d1::first(db, sql::latest_snapshot(character)).await?;
    row.map(SnapshotRow::snapshot).transpose()
}

/// What recording a valuation writes, once the state is read: nothing, or the next snapshot of a
/// watched character with its events.
pub enum Pending<'a> {
    Done(Recorded),
    Write(sql::ValuationWrite<'a>),
}

/// Decide what recording `summary` writes: nothing if it is the latest snapshot's valuation
/// ([`pve_edge::watches::next_snapshot`]) or nobody watches `character`; else the write, with one
/// fresh event id per watch and the time drawn here.
pub async fn pending_valuation<'a>(
    db: &D1Database,
    character: &'a str,
    summary: &ValuationSummary,
    previous: Option<&'a Snapshot>,
    max_payload_bytes: usize,
) -> Result<Pending<'a>, EdgeError> {
    let canonical = Canonical::of(summary)?;
    let version = match pve_edge::watches::next_snapshot(previous, &canonical.hash) {
        NextSnapshot::Unchanged { version } => return Ok(Pending::Done(Recorded::Unchanged { version })),
        NextSnapshot::Write { version, .. } => version,
    };
    let rows: Vec<IdRow> = d1::all(db, sql::active_watch_ids(character)).await?;
    if rows.is_empty() {
        return Ok(Pending::Done(Recorded::NotWatched));
    }
    let event_ids = rows
        .iter()
        .map(|_| outbox::new_event_id())
        .collect::<Result<_, _>>()?;
    Ok(Pending::Write(sql::ValuationWrite {
        character,
        canonical,
        version,
        previous,
        watch_ids: rows.into_iter().map(|r| r.id).collect(),
        event_ids,
        now_ms: now_ms(),
        max_payload_bytes,
    }))
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
    match pending_valuation(&db, character, summary, previous, cfg.max_payload_bytes).await? {
        Pending::Done(recorded) => Ok(recorded),
        Pending::Write(write) => write_valuation(&db, &write).await,
    }
}

/// Write one recorded valuation's batch ([`sql::ValuationWrite`]: its event ids and time are given).
pub async fn write_valuation(
    db: &D1Database,
    write: &sql::ValuationWrite<'_>,
) -> Result<Recorded, EdgeError> {
    let (batch, event_ids) = write.batch()?;
    match d1::batch(db, batch).await {
        Ok(_) => Ok(Recorded::written(
            write.version,
            write.previous.map(|p| p.version),
            event_ids,
        )),
        Err(e) => {
            // The snapshot (character, version) is unique: if it exists now, a concurrent refresh won.
            let winner: Option<Found> =
                d1::first(db, sql::snapshot_exists(write.character, write.version)).await?;
            match winner {
                Some(_) => Ok(Recorded::Superseded),
                None => Err(e),
            }
        }
    }
}

/// What the background check of a freshly loaded character did.
pub enum Noticed {
    Recorded(Recorded),
    /// The equipment could not be valued (the engine refused it, or a bug): nothing recorded.
    NotValued(LookupError),
}

/// A character lookup loaded `character`'s equipment (`equipment`, Nexon's answer) freshly from the
/// origin: if the character is watched, value it and record the equipped set's valuation
/// ([`record_valuation`]). The caller sends the events when [`Recorded::has_events`].
pub async fn notice_valuation(
    env: &Env,
    task: &TaskContext,
    character: &str,
    equipment: &[u8],
) -> Result<Noticed, EdgeError> {
    let db = env.d1(DB).platform()?;
    if d1::first::<Found>(&db, sql::is_watched(character))
        .await?
        .is_none()
    {
        return Ok(Noticed::Recorded(Recorded::NotWatched));
    }
    let summary = match lookup::equipped_summary(task, equipment) {
        Ok(summary) => summary,
        Err(e) => return Ok(Noticed::NotValued(e)),
    };
    let previous = latest_snapshot(&db, character).await?;
    let recorded = record_valuation(env, character, &summary, previous.as_ref()).await?;
    Ok(Noticed::Recorded(recorded))
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
    let due: Vec<sql::DueRow> = d1::all(
        &db,
        sql::due_characters(cfg.sweep_interval_ms, now, cfg.sweep_batch),
    )
    .await?;
    let mut report = SweepReport::default();
    for sql::DueRow { character } in due {
        report.characters += 1;
        let task = crate::context::background("watches", "sweep_lookup", character.clone());
        let found = lookup::current_valuation(env, bg, &task, &character).await;
        match &found {
            Ok(summary) => {
                task.record("total_mean_cost", summary.total_mean_cost);
                task.finish(Outcome::Ok, None);
            }
            Err(e) => task.finish(e.outcome(), None),
        }
        let (after, error_code) = match found {
            Ok(summary) => {
                let previous = latest_snapshot(&db, &character).await?;
                let recorded = record_valuation(env, &character, &summary, previous.as_ref()).await?;
                report.recorded(&recorded);
                (AfterFailure::Continue, None)
            }
            Err(e) => (report.failed(&character, &e), Some(e.code())),
        };
        d1::run(&db, sql::mark_checked(&character, now, error_code)).await?;
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
