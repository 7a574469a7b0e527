//! Operational alerts, the I/O: CRITICAL and WARNING alerts go through the outbox to `ALERT_WEBHOOK_URL`
//! as Discord-compatible messages; CRITICAL ones also page (`PAGER_WEBHOOK_URL`, through the outbox too).
//! INFO alerts are only logged and counted. The kinds, the routing, the dedup rule and every body are
//! [`pve_edge::alerts`], the statements and batches [`pve_edge::sql::alerts`]. The same alert key within
//! `ALERT_WINDOW_S` is counted, not re-sent (nor re-paged): [`pve_edge::alerts::raise`] decides on the
//! state as read, and the write is guarded by that state; the window bookkeeping and the outbox inserts
//! are one D1 batch, so exactly one raise per window enqueues.
//! [`resolve`] ends an alert: a `resolve` page (same `dedup_key`) and a chat message, and the next raise of
//! the key is sent again.
use crate::error::Platform;
use pve_edge::alerts::{paging, Pager, Window};
use pve_edge::config::AlertConfig;
use pve_edge::sql::alerts::{self as sql, CountRow, ResolveRow, StateRow};
use pve_edge::sql::changes_at;
use pve_edge::task::Sink;
use worker::{D1Database, Env};

use crate::bindings::DB;
use crate::context::{log, now_ms, Level};
use crate::d1;
use crate::error::EdgeError;
use crate::outbox::new_event_id;
use crate::vars;

pub use pve_edge::alerts::{Alert, Raised, Resolved, Severity};
pub use pve_edge::sql::alerts::AlertCount;

/// How many times a raise reads the alert's state again when another raise or a resolve changed it first.
/// Only window changes conflict (counting in an open window never does), so a loser meets an open window
/// on its next read; a few tries are plenty.
const RAISE_TRIES: u32 = 4;

/// Count the alert, and enqueue its message if it is the first of its key in the window. The rule is
/// [`pve_edge::alerts::raise`], applied to the state as read; the write is guarded by that state (the
/// window it saw), so a raise that lost a race to another raise or a resolve writes nothing and decides
/// again on what is there now.
pub async fn raise(env: &Env, alert: Alert) -> Result<Raised, EdgeError> {
    let cfg = AlertConfig::parse(&vars::source(env))?;
    let db = env.d1(DB).platform()?;
    let (alert, pager, line) = paging(alert, || Pager::parse(&vars::source(env)));
    if let Some(line) = line {
        log(Level::Error, &line);
    }
    for _ in 0..RAISE_TRIES {
        if let Some(raised) = try_raise(&db, &cfg, &alert, &pager, now_ms()).await? {
            let (level, line) = raised.log_line(&alert);
            crate::context::Console.write(level, &line);
            return Ok(raised);
        }
    }
    Err(EdgeError::platform(format!(
        "alert_state of {} changed under each of {RAISE_TRIES} raises",
        alert.key()
    )))
}

/// One read-decide-write of [`raise`]; `None` when the state changed between the read and the write.
async fn try_raise(
    db: &D1Database,
    cfg: &AlertConfig,
    alert: &Alert,
    pager: &Pager,
    now: u64,
) -> Result<Option<Raised>, EdgeError> {
    let key = alert.key();
    let prev: Option<StateRow> = d1::first(db, sql::state(&key)).await?;
    let window: Option<Window> = prev.map(StateRow::window);
    let (_, send) = pve_edge::alerts::raise(window, cfg.window_ms, now);
    let Some(open) = window.filter(|_| !send) else {
        // A new window: the state and the messages in one batch, the messages only if the state write won.
        let ids = [new_event_id()?, new_event_id()?];
        let (batch, raised) = sql::open_window(alert, cfg, pager, window, now, ids)?;
        let counts = d1::batch(db, batch).await?;
        return Ok((changes_at(&counts, 0)? > 0).then_some(raised));
    };
    // Counted in the window it read (still open, not resolved since).
    let statement = sql::count_in_window(&key, alert.severity(), now, open.started_at_ms);
    let count: Option<CountRow> = d1::first(db, statement).await?;
    Ok(count.map(|c| sql::counted(alert, c.count_in_window)))
}

/// Resolve the alert `key`: mark it resolved (its next raise opens a new window and is sent), and enqueue
/// a resolution message to chat (CRITICAL, WARNING) and a `resolve` page with the same `dedup_key`
/// (CRITICAL). One D1 batch; the inserts happen only if this call is the one that resolved it.
///
/// # Errors
/// `AlertNotFound` if the key was never raised.
pub async fn resolve(env: &Env, key: &str) -> Result<Resolved, EdgeError> {
    let cfg = AlertConfig::parse(&vars::source(env))?;
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    let row: ResolveRow = d1::first(&db, sql::resolve_state(key))
        .await?
        .ok_or(EdgeError::AlertNotFound)?;
    if let Some(at) = row.resolved_at {
        return Ok(Resolved::already(key, at));
    }
    let severity = Severity::parse(&row.severity)
        .ok_or_else(|| EdgeError::internal(format!("alert_state severity {:?}", row.severity)))?;
    let ids = [new_event_id()?, new_event_id()?];
    let pager = Pager::parse(&vars::source(env));
    let (batch, resolved) = sql::resolve(key, severity, &cfg, &pager, now, ids)?;
    if changes_at(&d1::batch(&db, batch).await?, 0)? == 0 {
        // Another call resolved it between the read and the update.
        return Ok(Resolved::already(key, now));
    }
    log(Level::Info, &Resolved::log_line(key, severity));
    Ok(resolved)
}

/// Per-key counts for the admin stats route.
pub async fn counts(env: &Env) -> Result<Vec<AlertCount>, EdgeError> {
    let db = env.d1(DB).platform()?;
    d1::all(&db, sql::counts()).await
}
