//! The alert state's statements (one `alert_state` row per alert key: its dedup window, counts and
//! last event) and the batches of a raise that opens a window and of a resolve: the state write first,
//! then the outbox inserts guarded by that write ([`super::outbox::insert_event_if_alert_is`]), so the
//! messages are enqueued only by the call whose state write won. The batch's first row count says so.
use super::outbox::insert_event_if_alert_is;
use super::statement::{Bind, Statement};
use crate::alerts::{
    channels, chat_message, resolve_page, resolved_message, suppressed_before, trigger_page, Alert, Pager,
    Raised, Resolved, Severity, Window,
};
use crate::config::AlertConfig;
use crate::error::EdgeError;
use crate::outbox::{Aggregate, NewEvent};
use serde::{Deserialize, Serialize};

/// The state of alert `key`. Row: [`StateRow`].
pub fn state(key: &str) -> Statement {
    Statement::new(
        "SELECT window_started_at, count_in_window, resolved_at FROM alert_state WHERE alert_key = ?1",
        vec![key.into()],
    )
}

/// A row of [`state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct StateRow {
    pub window_started_at: u64,
    pub count_in_window: u64,
    pub resolved_at: Option<u64>,
}

impl StateRow {
    pub fn window(self) -> Window {
        Window {
            started_at_ms: self.window_started_at,
            count_in_window: self.count_in_window,
            resolved: self.resolved_at.is_some(),
        }
    }
}

/// Count a raise in the window it read (`started_at`), if that window is still open and not resolved
/// since; `RETURNING count_in_window` (no row: the state changed under the raise).
pub fn count_in_window(key: &str, severity: Severity, now_ms: u64, started_at: u64) -> Statement {
    Statement::new(
        "UPDATE alert_state SET severity = ?2, count_in_window = count_in_window + 1, \
             total_count = total_count + 1, updated_at = ?3 \
         WHERE alert_key = ?1 AND window_started_at = ?4 AND resolved_at IS NULL \
         RETURNING count_in_window",
        vec![
            key.into(),
            severity.as_str().into(),
            now_ms.into(),
            started_at.into(),
        ],
    )
}

/// A row of [`count_in_window`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct CountRow {
    pub count_in_window: u64,
}

/// What a raise that counted in an open window did.
pub fn counted(alert: &Alert, count_in_window: u64) -> Raised {
    let route = channels(alert.severity());
    if !route.chat && !route.pager {
        Raised::Logged
    } else {
        Raised::Counted { count_in_window }
    }
}

/// The batch of a raise that opens a new window (the key's first raise, the last window over, or the
/// alert resolved since `prev`), and what it did if its state write (statement 0) changed a row.
/// `ids` are two fresh event ids: the chat message's (also the state's `last_event_id`) and the page's.
///
/// # Errors
/// `Internal` if a body does not serialize.
pub fn open_window(
    alert: &Alert,
    cfg: &AlertConfig,
    pager: &Pager,
    prev: Option<Window>,
    now_ms: u64,
    ids: [String; 2],
) -> Result<(Vec<Statement>, Raised), EdgeError> {
    let [event_id, page_id] = ids;
    let key = alert.key();
    let severity = alert.severity();
    let route = channels(severity);
    let suppressed = suppressed_before(prev, cfg.window_ms, now_ms);
    let state = match prev {
        None => Statement::new(
            "INSERT INTO alert_state (alert_key, severity, window_started_at, count_in_window, total_count, \
                 last_event_id, updated_at) VALUES (?1, ?2, ?3, 1, 1, ?4, ?3) \
             ON CONFLICT (alert_key) DO NOTHING",
            vec![
                key.as_str().into(),
                severity.as_str().into(),
                now_ms.into(),
                event_id.as_str().into(),
            ],
        ),
        // Guarded by the window it read and whether it was resolved.
        Some(w) => Statement::new(
            "UPDATE alert_state SET severity = ?2, window_started_at = ?3, count_in_window = 1, \
                 last_event_id = ?4, resolved_at = NULL, total_count = total_count + 1, updated_at = ?3 \
             WHERE alert_key = ?1 AND window_started_at = ?5 AND (resolved_at IS NOT NULL) = ?6",
            vec![
                key.as_str().into(),
                severity.as_str().into(),
                now_ms.into(),
                event_id.as_str().into(),
                w.started_at_ms.into(),
                u64::from(w.resolved).into(),
            ],
        ),
    };
    let mut batch = vec![state];
    if route.chat {
        let event = NewEvent {
            event_id: event_id.clone(),
            aggregate: Aggregate::Alert,
            aggregate_id: key.clone(),
            event_type: format!("alert.{}", severity.as_str().to_ascii_lowercase()),
            payload: chat_message(alert, cfg, now_ms, suppressed)?,
        };
        batch.push(insert_event_if_alert_is(&event, now_ms, &key, &event_id));
    }
    let page_event_id = match pager {
        Pager::On { routing_key } if route.pager => {
            let event = NewEvent {
                event_id: page_id.clone(),
                aggregate: Aggregate::Page,
                aggregate_id: key.clone(),
                event_type: "page.trigger".into(),
                payload: trigger_page(alert, cfg, routing_key, now_ms, suppressed)?,
            };
            batch.push(insert_event_if_alert_is(&event, now_ms, &key, &event_id));
            Some(page_id)
        }
        _ => None,
    };
    let raised = if !route.chat && !route.pager {
        Raised::Logged
    } else {
        Raised::Enqueued {
            event_id,
            page_event_id,
        }
    };
    Ok((batch, raised))
}

/// What a resolve reads of alert `key`. Row: [`ResolveRow`].
pub fn resolve_state(key: &str) -> Statement {
    Statement::new(
        "SELECT severity, resolved_at FROM alert_state WHERE alert_key = ?1",
        vec![key.into()],
    )
}

/// A row of [`resolve_state`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResolveRow {
    pub severity: String,
    pub resolved_at: Option<u64>,
}

/// The batch that resolves alert `key` of `severity` (marked resolved, so its next raise opens a new
/// window and is sent), with a resolution message to chat (CRITICAL, WARNING) and a `resolve` page with
/// the same `dedup_key` (CRITICAL, with a pager), and what it did if its first statement changed a row.
/// `ids`: the resolution's event id (also the state's `last_event_id`) and the page's.
///
/// # Errors
/// `Internal` if a body does not serialize.
pub fn resolve(
    key: &str,
    severity: Severity,
    cfg: &AlertConfig,
    pager: &Pager,
    now_ms: u64,
    ids: [String; 2],
) -> Result<(Vec<Statement>, Resolved), EdgeError> {
    let [resolution_id, page_id] = ids;
    let route = channels(severity);
    let mut batch = vec![Statement::new(
        "UPDATE alert_state SET resolved_at = ?2, last_event_id = ?3, updated_at = ?2 \
         WHERE alert_key = ?1 AND resolved_at IS NULL",
        vec![key.into(), now_ms.into(), resolution_id.as_str().into()],
    )];
    let event_id = if route.chat {
        let event = NewEvent {
            event_id: resolution_id.clone(),
            aggregate: Aggregate::Alert,
            aggregate_id: key.to_owned(),
            event_type: "alert.resolved".into(),
            payload: resolved_message(key, severity, cfg, now_ms)?,
        };
        batch.push(insert_event_if_alert_is(&event, now_ms, key, &resolution_id));
        Some(resolution_id.clone())
    } else {
        None
    };
    let page_event_id = match pager {
        Pager::On { routing_key } if route.pager => {
            let event = NewEvent {
                event_id: page_id.clone(),
                aggregate: Aggregate::Page,
                aggregate_id: key.to_owned(),
                event_type: "page.resolve".into(),
                payload: resolve_page(key, cfg, routing_key, now_ms)?,
            };
            batch.push(insert_event_if_alert_is(&event, now_ms, key, &resolution_id));
            Some(page_id)
        }
        _ => None,
    };
    let resolved = Resolved::Resolved {
        alert_key: key.to_owned(),
        severity: severity.as_str(),
        event_id,
        page_event_id,
    };
    Ok((batch, resolved))
}

/// Per-key counts for the admin stats route. Rows: [`AlertCount`].
pub fn counts() -> Statement {
    Statement::new(
        "SELECT alert_key, severity, total_count, count_in_window, window_started_at, last_event_id, \
             resolved_at FROM alert_state ORDER BY alert_key",
        Vec::<Bind>::new(),
    )
}

/// A row of [`counts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::alerts::AlertKind;

    fn cfg() -> AlertConfig {
        AlertConfig::parse(&|_: &str| None).unwrap()
    }

    fn ids() -> [String; 2] {
        ["evt_a".into(), "evt_p".into()]
    }

    fn pager() -> Pager {
        Pager::On {
            routing_key: "rk".into(),
        }
    }

    fn critical() -> Alert {
        Alert::new(AlertKind::ContentHashMismatch, "tampered")
    }

    pub(crate) fn examples() -> Vec<Statement> {
        let prev = Window {
            started_at_ms: 1,
            count_in_window: 2,
            resolved: true,
        };
        let mut all = vec![
            state("k"),
            count_in_window("k", Severity::Warning, 1, 1),
            resolve_state("k"),
            counts(),
        ];
        all.extend(
            open_window(&critical(), &cfg(), &pager(), None, 5, ids())
                .unwrap()
                .0,
        );
        all.extend(
            open_window(&critical(), &cfg(), &pager(), Some(prev), 5, ids())
                .unwrap()
                .0,
        );
        all.extend(
            resolve("k", Severity::Critical, &cfg(), &pager(), 5, ids())
                .unwrap()
                .0,
        );
        all
    }

    #[test]
    fn a_critical_raise_writes_its_state_then_chat_and_page_both_guarded_by_the_chat_event_id() {
        let (batch, raised) = open_window(&critical(), &cfg(), &pager(), None, 5, ids()).unwrap();
        assert_eq!(batch.len(), 3);
        assert!(batch[0].sql.starts_with("INSERT INTO alert_state"));
        for st in &batch[1..] {
            assert_eq!(
                st.binds[7..],
                [Bind::Text(critical().key()), Bind::Text("evt_a".into())]
            );
        }
        assert_eq!(batch[2].binds[0], Bind::Text("evt_p".into()));
        assert_eq!(
            raised,
            Raised::Enqueued {
                event_id: "evt_a".into(),
                page_event_id: Some("evt_p".into())
            }
        );
    }

    #[test]
    fn a_warning_goes_to_chat_only_and_without_a_pager_a_critical_one_too() {
        let warning = Alert::new(AlertKind::OutboxBacklog, "backlog");
        let (batch, raised) = open_window(&warning, &cfg(), &pager(), None, 5, ids()).unwrap();
        assert_eq!(batch.len(), 2);
        assert!(matches!(
            raised,
            Raised::Enqueued {
                page_event_id: None,
                ..
            }
        ));
        let (batch, _) = open_window(&critical(), &cfg(), &Pager::NoRoutingKey, None, 5, ids()).unwrap();
        assert_eq!(batch.len(), 2);
    }

    #[test]
    fn an_info_alert_only_keeps_its_state() {
        let info = Alert::new(AlertKind::WatchSweepDegraded, "some");
        let (batch, raised) = open_window(&info, &cfg(), &pager(), None, 5, ids()).unwrap();
        assert_eq!(batch.len(), 1);
        assert_eq!(raised, Raised::Logged);
        assert_eq!(counted(&info, 3), Raised::Logged);
        assert_eq!(counted(&critical(), 3), Raised::Counted { count_in_window: 3 });
    }

    #[test]
    fn reopening_a_window_is_guarded_by_the_window_read_and_its_resolution() {
        let prev = Window {
            started_at_ms: 77,
            count_in_window: 4,
            resolved: true,
        };
        let (batch, _) = open_window(&critical(), &cfg(), &Pager::Off, Some(prev), 100, ids()).unwrap();
        assert!(batch[0].sql.starts_with("UPDATE alert_state"));
        assert_eq!(batch[0].binds[4..], [Bind::Int(77), Bind::Int(1)]);
    }

    #[test]
    fn a_critical_resolve_sends_a_chat_message_and_a_resolve_page() {
        let (batch, resolved) = resolve("k", Severity::Critical, &cfg(), &pager(), 5, ids()).unwrap();
        assert_eq!(batch.len(), 3);
        assert!(batch[2].binds.contains(&Bind::Text("page.resolve".into())));
        assert_eq!(
            resolved,
            Resolved::Resolved {
                alert_key: "k".into(),
                severity: "CRITICAL",
                event_id: Some("evt_a".into()),
                page_event_id: Some("evt_p".into()),
            }
        );
        let (batch, _) = resolve("k", Severity::Info, &cfg(), &pager(), 5, ids()).unwrap();
        assert_eq!(batch.len(), 1);
    }
}
