//! Operational alerts, the I/O: CRITICAL and WARNING alerts go through the outbox to `ALERT_WEBHOOK_URL`
//! as Discord-compatible messages; CRITICAL ones also page (`PAGER_WEBHOOK_URL`, through the outbox too).
//! INFO alerts are only logged and counted. The kinds, the routing, the dedup rule and every body are
//! [`pve_edge::alerts`]. The same alert key within `ALERT_WINDOW_S` is counted, not re-sent (nor
//! re-paged): the window bookkeeping and the outbox inserts are one D1 batch (the upsert below applies
//! [`pve_edge::alerts::raise`]'s rule in SQL, atomically), so exactly one raise per window enqueues.
//! [`resolve`] ends an alert: a `resolve` page (same `dedup_key`) and a chat message, and the next raise of
//! the key is sent again.
use crate::error::Platform;
use pve_edge::alerts::{
    channels, chat_message, resolve_page, resolved_message, suppressed_before, trigger_page, Pager, Window,
};
use pve_edge::config::AlertConfig;
use serde::{Deserialize, Serialize};
use worker::{console_error, console_log, console_warn, Env};

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

/// Count the alert, and enqueue its message if it is the first of its key in the window.
pub async fn raise(env: &Env, alert: Alert) -> Result<Raised, EdgeError> {
    let cfg = AlertConfig::parse(&vars::source(env))?;
    let db = env.d1(DB).platform()?;
    let now = now_ms();
    let key = alert.key();
    let severity = alert.severity();
    let event_id = outbox::new_event_id()?;

    // Read the previous window only to report how many were suppressed; the decision is made atomically
    // by the upsert below.
    let prev: Option<PrevState> = crate::d1::first(
        db.prepare(
            "SELECT window_started_at, count_in_window, resolved_at FROM alert_state WHERE alert_key = ?1",
        )
        .bind(&[key.as_str().into()]),
        None,
    )
    .await?;
    let suppressed = suppressed_before(
        prev.map(|p| Window {
            started_at_ms: p.window_started_at,
            count_in_window: p.count_in_window,
            resolved: p.resolved_at.is_some(),
        }),
        cfg.window_ms,
        now,
    );

    let upsert = db
        .prepare(
            "INSERT INTO alert_state (alert_key, severity, window_started_at, count_in_window, total_count, \
                 last_event_id, updated_at) VALUES (?1, ?2, ?3, 1, 1, ?4, ?3) \
             ON CONFLICT (alert_key) DO UPDATE SET severity = excluded.severity, \
                 count_in_window = CASE WHEN alert_state.window_started_at + ?5 <= ?3 \
                     OR alert_state.resolved_at IS NOT NULL THEN 1 \
                     ELSE alert_state.count_in_window + 1 END, \
                 last_event_id = CASE WHEN alert_state.window_started_at + ?5 <= ?3 \
                     OR alert_state.resolved_at IS NOT NULL THEN ?4 \
                     ELSE alert_state.last_event_id END, \
                 window_started_at = CASE WHEN alert_state.window_started_at + ?5 <= ?3 \
                     OR alert_state.resolved_at IS NOT NULL THEN ?3 \
                     ELSE alert_state.window_started_at END, \
                 resolved_at = NULL, \
                 total_count = alert_state.total_count + 1, updated_at = ?3",
        )
        .bind(&[
            key.as_str().into(),
            severity.as_str().into(),
            js_num(now),
            event_id.as_str().into(),
            js_num(cfg.window_ms),
        ])
        .platform()?;

    let log_line = serde_json::json!({
        "domain": "alerts", "task": "raise", "alert_key": key, "severity": severity.as_str(),
        "what_happened": alert.what_happened(),
    })
    .to_string();

    let route = channels(severity);
    if !route.chat && !route.pager {
        db.batch(vec![upsert]).await.platform()?;
        console_log!("{log_line}");
        return Ok(Raised::Logged);
    }

    let pager = if route.pager {
        Pager::parse(&vars::source(env))
    } else {
        Pager::Off
    };
    let mut alert = alert;
    if pager == Pager::NoRoutingKey {
        console_error!(
            "{}",
            serde_json::json!({"domain": "alerts", "task": "page", "alert_key": key, "outcome": "error",
                "error_detail": "PAGER_WEBHOOK_URL is set but PAGER_ROUTING_KEY is not: nobody is paged"})
        );
        alert = alert.detail("paging", Pager::NOT_SENT);
    }
    let guard_binds = || [key.as_str().into(), event_id.as_str().into()];
    let mut statements = vec![upsert];
    if route.chat {
        let event = NewEvent {
            event_id: event_id.clone(),
            aggregate: Aggregate::Alert,
            aggregate_id: key.clone(),
            event_type: format!("alert.{}", severity.as_str().to_ascii_lowercase()),
            payload: chat_message(&alert, &cfg, now, suppressed)?,
        };
        statements.push(event.insert_if(&db, now, GUARD, guard_binds()).platform()?);
    }
    let page_event_id = match &pager {
        Pager::On { routing_key } => {
            let id = outbox::new_event_id()?;
            let event = NewEvent {
                event_id: id.clone(),
                aggregate: Aggregate::Page,
                aggregate_id: key.clone(),
                event_type: "page.trigger".into(),
                payload: trigger_page(&alert, &cfg, routing_key, now, suppressed)?,
            };
            statements.push(event.insert_if(&db, now, GUARD, guard_binds()).platform()?);
            Some(id)
        }
        Pager::Off | Pager::NoRoutingKey => None,
    };
    let results = db.batch(statements).await.platform()?;
    let enqueued = crate::d1::changes_at(&results, 1)? > 0;
    match severity {
        Severity::Critical => console_error!("{log_line}"),
        _ => console_warn!("{log_line}"),
    }
    if enqueued {
        return Ok(Raised::Enqueued {
            event_id,
            page_event_id,
        });
    }
    let count: Option<u64> = crate::d1::first(
        db.prepare("SELECT count_in_window FROM alert_state WHERE alert_key = ?1")
            .bind(&[key.as_str().into()]),
        Some("count_in_window"),
    )
    .await?;
    Ok(Raised::Counted {
        count_in_window: count
            .ok_or_else(|| EdgeError::internal("alert_state row missing right after its upsert"))?,
    })
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
