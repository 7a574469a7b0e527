//! Operational alerts, the I/O: CRITICAL and WARNING alerts go through the outbox to `ALERT_WEBHOOK_URL`
//! as Discord-compatible messages; CRITICAL ones also page (`PAGER_WEBHOOK_URL`, through the outbox too).
//! INFO alerts are only logged and counted. The kinds, the routing, the dedup rule and every body are
//! [`pve_edge::alerts`]. The same alert key within `ALERT_WINDOW_S` is counted, not re-sent (nor
//! re-paged): [`pve_edge::alerts::raise`] decides on the state as read, and the write is guarded by that
//! state; the window bookkeeping and the outbox inserts are one D1 batch, so exactly one raise per window
//! enqueues.
//! [`resolve`] ends an alert: a `resolve` page (same `dedup_key`) and a chat message, and the next raise of
//! the key is sent again.
use crate::error::Platform;
use pve_edge::alerts::{
    channels, chat_message, resolve_page, resolved_message, suppressed_before, trigger_page, Pager, Window,
};
use pve_edge::config::AlertConfig;
use serde::{Deserialize, Serialize};
use worker::{console_error, console_log, console_warn, D1Database, Env};

use crate::bindings::DB;
use crate::context::now_ms;
use crate::error::EdgeError;
use crate::outbox::{self, js_num, Aggregate, NewEvent};
use crate::vars;

pub use pve_edge::alerts::{Alert, AlertKind, Raised, Resolved, Severity};

#[derive(Deserialize)]
struct PrevState {
    window_started_at: u64,
    count_in_window: u64,
    resolved_at: Option<u64>,
}

/// The outbox inserts of a raise or a resolve happen only if that call is the one that changed the row
/// (its event id is the row's last one).
const GUARD: &str = "EXISTS (SELECT 1 FROM alert_state WHERE alert_key = ?8 AND last_event_id = ?9)";

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
    let route = channels(alert.severity());
    let pager = if route.pager {
        Pager::parse(&vars::source(env))
    } else {
        Pager::Off
    };
    let mut alert = alert;
    if pager == Pager::NoRoutingKey {
        console_error!(
            "{}",
            serde_json::json!({"domain": "alerts", "task": "page", "alert_key": alert.key(), "outcome": "error",
                "error_detail": "PAGER_WEBHOOK_URL is set but PAGER_ROUTING_KEY is not: nobody is paged"})
        );
        alert = alert.detail("paging", Pager::NOT_SENT);
    }
    for _ in 0..RAISE_TRIES {
        if let Some(raised) = try_raise(&db, &cfg, &alert, &pager, now_ms()).await? {
            let log_line = serde_json::json!({
                "domain": "alerts", "task": "raise", "alert_key": alert.key(),
                "severity": alert.severity().as_str(), "what_happened": alert.what_happened(),
            })
            .to_string();
            match (alert.severity(), &raised) {
                (_, Raised::Logged) => console_log!("{log_line}"),
                (Severity::Critical, _) => console_error!("{log_line}"),
                _ => console_warn!("{log_line}"),
            }
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
    let severity = alert.severity();
    let route = channels(severity);
    let prev: Option<PrevState> = crate::d1::first(
        db.prepare(
            "SELECT window_started_at, count_in_window, resolved_at FROM alert_state WHERE alert_key = ?1",
        )
        .bind(&[key.as_str().into()]),
        None,
    )
    .await?;
    let window = prev.map(|p| Window {
        started_at_ms: p.window_started_at,
        count_in_window: p.count_in_window,
        resolved: p.resolved_at.is_some(),
    });
    let (_, send) = pve_edge::alerts::raise(window, cfg.window_ms, now);
    let logged = !route.chat && !route.pager;
    let Some(open) = window.filter(|_| !send) else {
        return open_window(db, cfg, alert, pager, window, now).await;
    };
    // Counted in the window it read (still open, not resolved since).
    let count: Option<u64> = crate::d1::first(
        db.prepare(
            "UPDATE alert_state SET severity = ?2, count_in_window = count_in_window + 1, \
                 total_count = total_count + 1, updated_at = ?3 \
             WHERE alert_key = ?1 AND window_started_at = ?4 AND resolved_at IS NULL \
             RETURNING count_in_window",
        )
        .bind(&[
            key.as_str().into(),
            severity.as_str().into(),
            js_num(now),
            js_num(open.started_at_ms),
        ]),
        Some("count_in_window"),
    )
    .await?;
    Ok(count.map(|count_in_window| {
        if logged {
            Raised::Logged
        } else {
            Raised::Counted { count_in_window }
        }
    }))
}

/// This raise opens a new window (the first raise of the key, the last window over, or the alert resolved
/// since): the state and the messages in one batch, the messages only if the state write won.
async fn open_window(
    db: &D1Database,
    cfg: &AlertConfig,
    alert: &Alert,
    pager: &Pager,
    prev: Option<Window>,
    now: u64,
) -> Result<Option<Raised>, EdgeError> {
    let key = alert.key();
    let severity = alert.severity();
    let route = channels(severity);
    let suppressed = suppressed_before(prev, cfg.window_ms, now);
    let event_id = outbox::new_event_id()?;
    let state = match prev {
        None => db
            .prepare(
                "INSERT INTO alert_state (alert_key, severity, window_started_at, count_in_window, total_count, \
                     last_event_id, updated_at) VALUES (?1, ?2, ?3, 1, 1, ?4, ?3) \
                 ON CONFLICT (alert_key) DO NOTHING",
            )
            .bind(&[
                key.as_str().into(),
                severity.as_str().into(),
                js_num(now),
                event_id.as_str().into(),
            ]),
        // Guarded by the window it read and whether it was resolved.
        Some(w) => db
            .prepare(
                "UPDATE alert_state SET severity = ?2, window_started_at = ?3, count_in_window = 1, \
                     last_event_id = ?4, resolved_at = NULL, total_count = total_count + 1, updated_at = ?3 \
                 WHERE alert_key = ?1 AND window_started_at = ?5 AND (resolved_at IS NOT NULL) = ?6",
            )
            .bind(&[
                key.as_str().into(),
                severity.as_str().into(),
                js_num(now),
                event_id.as_str().into(),
                js_num(w.started_at_ms),
                js_num(u64::from(w.resolved)),
            ]),
    }
    .platform()?;
    let guard_binds = || [key.as_str().into(), event_id.as_str().into()];
    let mut statements = vec![state];
    if route.chat {
        let event = NewEvent {
            event_id: event_id.clone(),
            aggregate: Aggregate::Alert,
            aggregate_id: key.clone(),
            event_type: format!("alert.{}", severity.as_str().to_ascii_lowercase()),
            payload: chat_message(alert, cfg, now, suppressed)?,
        };
        statements.push(event.insert_if(db, now, GUARD, guard_binds()).platform()?);
    }
    let page_event_id = match pager {
        Pager::On { routing_key } if route.pager => {
            let id = outbox::new_event_id()?;
            let event = NewEvent {
                event_id: id.clone(),
                aggregate: Aggregate::Page,
                aggregate_id: key.clone(),
                event_type: "page.trigger".into(),
                payload: trigger_page(alert, cfg, routing_key, now, suppressed)?,
            };
            statements.push(event.insert_if(db, now, GUARD, guard_binds()).platform()?);
            Some(id)
        }
        _ => None,
    };
    let results = db.batch(statements).await.platform()?;
    if crate::d1::changes_at(&results, 0)? == 0 {
        return Ok(None);
    }
    Ok(Some(if !route.chat && !route.pager {
        Raised::Logged
    } else {
        Raised::Enqueued {
            event_id,
            page_event_id,
        }
    }))
}

/// Resolve the alert `key`: mark it resolved (its next raise opens a new window and is sent), and enqueue
/// a resolution message to chat (CRITICAL, WARNING) and a `resolve` page with the same `dedup_key`
/// (CRITICAL). One D1 batch; the inserts happen only if this call is the one that resolved it.
///
/// # Errors
/// `AlertNotFound` if the key was never raised.
pub async fn resolve(env: &Env, key: &str) -> Result<Resolved, EdgeError> {
    #[derive(Deserialize)]
    struct Row {
        severity: String,
        resolved_at: Option<u64>,
    }
    let cfg = AlertConfig::parse(&vars::source(env))?;
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    let row: Option<Row> = crate::d1::first(
        db.prepare("SELECT severity, resolved_at FROM alert_state WHERE alert_key = ?1")
            .bind(&[key.into()]),
        None,
    )
    .await?;
    let row = row.ok_or(EdgeError::AlertNotFound)?;
    if let Some(at) = row.resolved_at {
        return Ok(Resolved::AlreadyResolved {
            alert_key: key.to_owned(),
            resolved_at: pve_edge::time::iso8601(at),
        });
    }
    let severity = Severity::parse(&row.severity)
        .ok_or_else(|| EdgeError::internal(format!("alert_state severity {:?}", row.severity)))?;
    let resolution_id = outbox::new_event_id()?;
    let mark = db
        .prepare(
            "UPDATE alert_state SET resolved_at = ?2, last_event_id = ?3, updated_at = ?2 \
             WHERE alert_key = ?1 AND resolved_at IS NULL",
        )
        .bind(&[key.into(), js_num(now), resolution_id.as_str().into()])
        .platform()?;
    let guard_binds = || [key.into(), resolution_id.as_str().into()];
    let route = channels(severity);
    let mut statements = vec![mark];
    let event_id = if route.chat {
        let event = NewEvent {
            event_id: resolution_id.clone(),
            aggregate: Aggregate::Alert,
            aggregate_id: key.to_owned(),
            event_type: "alert.resolved".into(),
            payload: resolved_message(key, severity, &cfg, now)?,
        };
        statements.push(event.insert_if(&db, now, GUARD, guard_binds()).platform()?);
        Some(resolution_id.clone())
    } else {
        None
    };
    let page_event_id = match (route.pager, Pager::parse(&vars::source(env))) {
        (true, Pager::On { routing_key }) => {
            let id = outbox::new_event_id()?;
            let event = NewEvent {
                event_id: id.clone(),
                aggregate: Aggregate::Page,
                aggregate_id: key.to_owned(),
                event_type: "page.resolve".into(),
                payload: resolve_page(key, &cfg, &routing_key, now)?,
            };
            statements.push(event.insert_if(&db, now, GUARD, guard_binds()).platform()?);
            Some(id)
        }
        _ => None,
    };
    let results = db.batch(statements).await.platform()?;
    if crate::d1::changes_at(&results, 0)? == 0 {
        // Another call resolved it between the read and the update.
        return Ok(Resolved::AlreadyResolved {
            alert_key: key.to_owned(),
            resolved_at: pve_edge::time::iso8601(now),
        });
    }
    console_log!(
        "{}",
        serde_json::json!({"domain": "alerts", "task": "resolve", "alert_key": key, "severity": severity.as_str()})
    );
    Ok(Resolved::Resolved {
        alert_key: key.to_owned(),
        severity: severity.as_str(),
        event_id,
        page_event_id,
    })
}

/// Per-key counts for the admin stats route.
#[derive(Debug, Serialize, Deserialize)]
pub struct AlertCount {
    pub alert_key: String,
    pub severity: String,
    pub total_count: u64,
    pub count_in_window: u64,
    pub window_started_at: u64,
    pub last_event_id: Option<String>,
    /// When it was resolved (epoch ms), `None` while open.
    pub resolved_at: Option<u64>,
}

pub async fn counts(env: &Env) -> Result<Vec<AlertCount>, EdgeError> {
    let db = env.d1(DB).platform()?;
    crate::d1::all(Ok(db.prepare(
        "SELECT alert_key, severity, total_count, count_in_window, window_started_at, last_event_id, \
             resolved_at FROM alert_state ORDER BY alert_key",
    )))
    .await
}
