//! The relay's decisions, around the D1 I/O that `worker/src/outbox/relay.rs` does: the lease and
//! time budget arithmetic, where an event goes, which writes settle a claim (and which write's row count
//! tells the outcome), how the counts of that batch become the run's report, which alert a dead letter
//! raises, and when the backlog alerts.
//!
//! The fence itself is SQL (`… WHERE event_id = ? AND lease_token = ?`); what is pure is the rule that
//! every settlement write carries it, that a dead letter's outcome is read from its `DELETE` (not its
//! `INSERT`), and that a count of 0 is "fenced out", counted and never alerted.
use super::{outcome, precheck, settle, Aggregate, Attempt, DeadReason, Outcome, Settle, SettleLimits};
use crate::alerts::{Alert, AlertKind};
use crate::config::RelayConfig;
use crate::webhook::WebhookPolicy;
use serde::{Deserialize, Serialize};
use url::Url;

/// When a lease taken at `now_ms` expires. Saturates instead of wrapping.
pub fn lease_expires_at(now_ms: u64, lease_ms: u64) -> u64 {
    now_ms.saturating_add(lease_ms)
}

/// Whether a run that started at `started_ms` has spent its budget at `now_ms` (then it claims no more).
pub fn budget_spent(started_ms: u64, now_ms: u64, budget_ms: u64) -> bool {
    now_ms.saturating_sub(started_ms) >= budget_ms
}

/// Delivered events older than this (`delivered_at <`) are purged by a cron run.
pub fn purge_cutoff(now_ms: u64, retention_ms: u64) -> u64 {
    now_ms.saturating_sub(retention_ms)
}

/// A watch's delivery facts as read from D1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchTarget<'a> {
    pub webhook_url: &'a str,
    pub status: &'a str,
}

/// Where an event goes: the watch's webhook (when the watch is active), `ALERT_WEBHOOK_URL` or
/// `PAGER_WEBHOOK_URL`, checked against the webhook policy. An event with no usable destination is
/// dead-lettered with its reason, never delivered elsewhere.
pub fn destination(
    policy: &WebhookPolicy,
    aggregate_type: &str,
    watch: Option<WatchTarget<'_>>,
    alert_url: Option<&str>,
    pager_url: Option<&str>,
) -> Result<Url, (DeadReason, String)> {
    let raw = match Aggregate::parse(aggregate_type) {
        Some(Aggregate::Watch) => match watch {
            Some(w) if w.status == "active" => w.webhook_url,
            _ => return Err((DeadReason::WatchDeleted, "the watch was deleted".into())),
        },
        Some(Aggregate::Alert) => alert_url.ok_or((
            DeadReason::AlertWebhookNotConfigured,
            "ALERT_WEBHOOK_URL is not set".to_owned(),
        ))?,
        Some(Aggregate::Page) => pager_url.ok_or((
            DeadReason::PagerWebhookNotConfigured,
            "PAGER_WEBHOOK_URL is not set".to_owned(),
        ))?,
        None => {
            return Err((
                DeadReason::UnknownAggregate,
                format!("aggregate type {aggregate_type:?}"),
            ))
        }
    };
    policy
        .check(raw)
        .map_err(|e| (DeadReason::InvalidDestination, e.to_string()))
}

/// A watch's destination as D1 holds it (a row of [`crate::sql::outbox::watch_destinations`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WatchDestination {
    pub id: String,
    pub webhook_url: String,
    pub status: String,
}

/// Where the events of one claim go: the watches of its watch events as read from D1
/// ([`crate::sql::outbox::watch_destinations`]), and the alert and pager webhooks from the vars.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destinations {
    watches: std::collections::HashMap<String, (String, String)>,
    alert_url: Option<String>,
    pager_url: Option<String>,
}

impl Destinations {
    /// The ids of the watches a claim's events are about (the query of their destinations), if any.
    pub fn watch_ids(claimed: &[(String, ClaimedEvent)]) -> Vec<&str> {
        claimed
            .iter()
            .filter(|(_, c)| c.aggregate_type == Aggregate::Watch.as_str())
            .map(|(_, c)| c.aggregate_id.as_str())
            .collect()
    }

    pub fn new(
        watches: Vec<WatchDestination>,
        alert_url: Option<String>,
        pager_url: Option<String>,
    ) -> Destinations {
        Destinations {
            watches: watches
                .into_iter()
                .map(|w| (w.id, (w.webhook_url, w.status)))
                .collect(),
            alert_url,
            pager_url,
        }
    }

    /// Where `ev` goes ([`destination`]).
    pub fn resolve(&self, policy: &WebhookPolicy, ev: &ClaimedEvent) -> Result<Url, (DeadReason, String)> {
        let watch = self
            .watches
            .get(&ev.aggregate_id)
            .map(|(webhook_url, status)| WatchTarget { webhook_url, status });
        destination(
            policy,
            &ev.aggregate_type,
            watch,
            self.alert_url.as_deref(),
            self.pager_url.as_deref(),
        )
    }
}

/// An event as a claim returns it (the columns of the claim's `RETURNING`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClaimedEvent {
    pub event_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    /// The exact body to POST.
    pub payload: String,
    pub content_hash: String,
    /// Claims so far, this one included (raised at claim time).
    pub attempts: u32,
}

impl ClaimedEvent {
    /// Whether the stored content hash still matches the content ([`super::hash_matches`]).
    pub fn hash_ok(&self) -> bool {
        super::hash_matches(
            &self.event_id,
            &self.event_type,
            &self.payload,
            &self.content_hash,
        )
    }
}

/// One write of the settling batch. Every one is fenced by the event id and the claim's lease token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write<'a> {
    /// `status = 'delivered'`: one statement.
    MarkDelivered,
    /// `status = 'pending'`, due again `delay_ms` after the settle time, the error appended to the
    /// history: one statement.
    Reschedule { error: &'a str, delay_ms: u64 },
    /// Two statements with the same fence: copy the row into the dead-letter table (an upsert, so a
    /// replayed event keeps its history), then delete it from the outbox.
    MoveToDeadLetters { reason: DeadReason, error: &'a str },
}

impl Write<'_> {
    /// How many statements the write is, and which of them (0-based) carries the row count that tells
    /// the outcome: for a move, the `DELETE`, so an event counts as dead-lettered only when it left the
    /// outbox.
    pub fn statements(&self) -> (usize, usize) {
        match self {
            Write::MarkDelivered | Write::Reschedule { .. } => (1, 0),
            Write::MoveToDeadLetters { .. } => (2, 1),
        }
    }
}

/// The settling batch of one claim: one write per event, in claim order, and for each event the index
/// (among the batch's statements) of the statement whose changed-row count tells whether the
/// settlement held (1) or was fenced out (0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlePlan<'a> {
    pub writes: Vec<Write<'a>>,
    pub fence_index: Vec<usize>,
    /// Statements in the batch.
    pub statements: usize,
}

/// Plans the one batch that settles a claim.
pub fn plan(settles: &[Settle]) -> SettlePlan<'_> {
    let writes: Vec<Write> = settles
        .iter()
        .map(|settle| match settle {
            Settle::Delivered => Write::MarkDelivered,
            Settle::Retry { error, delay_ms } => Write::Reschedule {
                error,
                delay_ms: *delay_ms,
            },
            Settle::Dead { reason, error } => Write::MoveToDeadLetters {
                reason: *reason,
                error,
            },
        })
        .collect();
    let mut statements = 0;
    let fence_index = writes
        .iter()
        .map(|w| {
            let (n, fenced) = w.statements();
            statements += n;
            statements - n + fenced
        })
        .collect();
    SettlePlan {
        writes,
        fence_index,
        statements,
    }
}

/// Dead letters of one run kept in the report (for the log line).
pub const REPORT_DEAD_MAX: usize = 20;

/// What one relay run did. Serialized as the admin route's answer and into the log line; the field
/// names are a contract of that route.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub claims: u32,
    pub claimed: u32,
    pub delivered: u32,
    pub retried: u32,
    pub dead_lettered: u32,
    pub content_hash_mismatches: u32,
    /// Settlements refused because this relay's lease had been taken over.
    pub fenced_out: u32,
    pub budget_exhausted: bool,
    pub duration_ms: u64,
    /// Up to [`REPORT_DEAD_MAX`] dead-lettered events of this run (event id, reason), for the log.
    pub dead: Vec<(String, &'static str)>,
}

impl RunReport {
    /// One claim of `n` events was made.
    pub fn claimed(&mut self, n: usize) {
        self.claims += 1;
        self.claimed = self.claimed.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
    }

    /// Counts one settlement given its fenced write's changed-row count, and returns its outcome (the
    /// `outcome` label of `pve_outbox_deliveries_total`). The count is the result of I/O: the caller
    /// reads it as a `Result` and never passes a made-up 0.
    pub fn settled(&mut self, event_id: &str, settle: &Settle, changed_rows: u64) -> Outcome {
        let outcome = outcome(settle, changed_rows);
        match outcome {
            Outcome::FencedOut => self.fenced_out += 1,
            Outcome::Delivered => self.delivered += 1,
            Outcome::Retried => self.retried += 1,
            Outcome::DeadLettered | Outcome::ContentHashMismatch => {
                self.dead_lettered += 1;
                if outcome == Outcome::ContentHashMismatch {
                    self.content_hash_mismatches += 1;
                }
                if let (Settle::Dead { reason, .. }, true) = (settle, self.dead.len() < REPORT_DEAD_MAX) {
                    self.dead.push((event_id.to_owned(), reason.as_str()));
                }
            }
        }
        outcome
    }
}

/// What a dead letter raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterAlert {
    /// Nothing: a deleted watch is expected, not alarming.
    None,
    /// Only a log line: the event was itself an alert or a page, and an alert that cannot be delivered
    /// must not enqueue another one.
    LogOnly,
    /// CRITICAL: the row was changed after it was written.
    ContentHashMismatch,
    /// WARNING, keyed by the reason.
    DeadLettered,
}

/// The alert rule of a dead letter. A tampered event always alerts, whatever its aggregate.
pub fn dead_letter_alert(aggregate_type: &str, reason: DeadReason) -> DeadLetterAlert {
    let is_alert = matches!(
        Aggregate::parse(aggregate_type),
        Some(Aggregate::Alert | Aggregate::Page)
    );
    match reason {
        DeadReason::WatchDeleted => DeadLetterAlert::None,
        DeadReason::ContentHashMismatch => DeadLetterAlert::ContentHashMismatch,
        _ if is_alert => DeadLetterAlert::LogOnly,
        _ => DeadLetterAlert::DeadLettered,
    }
}

impl DeadLetterAlert {
    /// The error-level log line that stands for the alert when only a line is written ([`LogOnly`]).
    ///
    /// [`LogOnly`]: DeadLetterAlert::LogOnly
    pub fn log_line(self, ev: &ClaimedEvent, reason: DeadReason, error: &str) -> Option<serde_json::Value> {
        (self == DeadLetterAlert::LogOnly).then(|| {
            serde_json::json!({"domain": "alerts", "task": "alert_dead_lettered", "event_id": ev.event_id,
                "reason": reason.as_str(), "error": error})
        })
    }

    /// The line of a dead letter's alert that could not be raised.
    pub fn raise_failed_line(ev: &ClaimedEvent, error: impl std::fmt::Display) -> serde_json::Value {
        serde_json::json!({"domain": "alerts", "task": "raise_failed", "event_id": ev.event_id, "error": error.to_string()})
    }

    /// The alert's text for this event, or `None` when nothing is raised.
    pub fn message(self, ev: &ClaimedEvent, reason: DeadReason) -> Option<String> {
        let what = format!(
            "Event {} ({}) on {} {}",
            ev.event_id, ev.event_type, ev.aggregate_type, ev.aggregate_id
        );
        match self {
            DeadLetterAlert::None | DeadLetterAlert::LogOnly => None,
            DeadLetterAlert::ContentHashMismatch => Some(format!(
                "{what} failed its content-hash check and was dead-lettered without delivery. \
                 Its row was changed after it was written."
            )),
            DeadLetterAlert::DeadLettered => Some(format!("{what} was dead-lettered: {}.", reason.as_str())),
        }
    }
}

impl DeadLetterAlert {
    /// The alert raised for `ev`, dead-lettered for `reason` after `error`, or `None` when nothing is
    /// raised (a [`DeadLetterAlert::LogOnly`] event is only logged by the caller).
    pub fn alert(self, ev: &ClaimedEvent, reason: DeadReason, error: &str) -> Option<Alert> {
        let text = self.message(ev, reason)?;
        let alert = match self {
            DeadLetterAlert::ContentHashMismatch => Alert::new(AlertKind::ContentHashMismatch, text),
            _ => Alert::new(AlertKind::DeadLettered, text).key_suffix(reason.as_str()),
        };
        Some(
            alert
                .count("attempts", i64::from(ev.attempts))
                .detail("event_id", &ev.event_id)
                .detail("last_error", error),
        )
    }
}

/// The outbox's counts (the admin stats route's `outbox` object, and the backlog check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxCounts {
    pub pending: u64,
    pub pending_due: u64,
    pub leased: u64,
    pub leased_expired: u64,
    pub delivered: u64,
    pub oldest_undelivered_created_at: Option<u64>,
}

/// A backlog worth a WARNING.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    pub undelivered: u64,
    pub due_now: u64,
    /// Age of the oldest undelivered event in seconds; 0 when no event has a creation time.
    pub oldest_age_s: u64,
}

impl Backlog {
    /// The WARNING's text.
    pub fn message(&self, threshold: u64) -> String {
        format!(
            "{} outbox events are undelivered at the start of a cron relay run (threshold {threshold}).",
            self.undelivered
        )
    }

    /// The WARNING (`outbox.backlog`).
    pub fn alert(&self, threshold: u64) -> Alert {
        Alert::new(AlertKind::OutboxBacklog, self.message(threshold))
            .count("undelivered_events", self.undelivered as i64)
            .count("due_now", self.due_now as i64)
            .count("oldest_undelivered_age_s", self.oldest_age_s as i64)
    }
}

/// The backlog rule of a cron run: more undelivered events (pending or leased, expired or not) than
/// `threshold`.
pub fn backlog(counts: &OutboxCounts, now_ms: u64, threshold: u64) -> Option<Backlog> {
    let undelivered = counts
        .pending
        .saturating_add(counts.leased)
        .saturating_add(counts.leased_expired);
    (undelivered > threshold).then(|| Backlog {
        undelivered,
        due_now: counts.pending_due.saturating_add(counts.leased_expired),
        oldest_age_s: counts
            .oldest_undelivered_created_at
            .map_or(0, |t| now_ms.saturating_sub(t) / 1000),
    })
}

/// What the relay does with one claimed event: settle it without a delivery, or POST it here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Settled(Settle),
    Post(Url),
}

/// The settle limits of `cfg`.
pub fn limits(cfg: &RelayConfig) -> SettleLimits {
    SettleLimits {
        max_attempts: cfg.max_attempts,
        backoff_cap_ms: cfg.backoff_cap_ms,
    }
}

/// Before delivering `ev`: a hash mismatch or an exhausted lease settles it at once ([`precheck`]), and
/// so does a destination that is missing or refused ([`Destinations::resolve`]); else it is posted.
pub fn before_delivery(cfg: &RelayConfig, destinations: &Destinations, ev: &ClaimedEvent) -> Delivery {
    if let Err(settle) = precheck(ev.hash_ok(), ev.attempts, limits(cfg)) {
        return Delivery::Settled(settle);
    }
    match destinations.resolve(&cfg.webhooks, ev) {
        Ok(url) => Delivery::Post(url),
        Err((reason, error)) => {
            let attempt = Attempt::NoDestination { reason, error };
            Delivery::Settled(settle(&attempt, ev.attempts, 0, limits(cfg)))
        }
    }
}

/// How `ev` settles after its POST ended as `attempt`; `random` draws a retry's jitter
/// ([`RelayConfig::backoff_ms`]).
pub fn after_delivery(
    cfg: &RelayConfig,
    ev: &ClaimedEvent,
    attempt: &Attempt,
    random: Option<u64>,
) -> Settle {
    settle(
        attempt,
        ev.attempts,
        cfg.backoff_ms(ev.attempts, random),
        limits(cfg),
    )
}

#[cfg(test)]
mod tests {
    use super::super::{precheck, settle, Attempt, SettleLimits};
    use super::*;
    use proptest::prelude::*;

    fn dead(reason: DeadReason) -> Settle {
        Settle::Dead {
            reason,
            error: "e".into(),
        }
    }

    #[test]
    fn lease_budget_and_cutoff_arithmetic() {
        assert_eq!(lease_expires_at(1_000, 60_000), 61_000);
        assert_eq!(lease_expires_at(u64::MAX - 1, 60_000), u64::MAX);
        assert!(!budget_spent(1_000, 1_999, 1_000));
        assert!(budget_spent(1_000, 2_000, 1_000));
        // A clock that went backwards has spent nothing.
        assert!(!budget_spent(5_000, 4_000, 1));
        assert!(budget_spent(5_000, 4_000, 0));
        assert_eq!(purge_cutoff(10_000, 3_000), 7_000);
        assert_eq!(purge_cutoff(1_000, 3_000), 0);
    }

    #[test]
    fn destinations_table() {
        const W: &str = "https://hooks.example.com/w";
        const A: &str = "https://hooks.example.com/a";
        const P: &str = "https://events.example.com/p";
        let policy = WebhookPolicy {
            allow_loopback: false,
        };
        let watch = |webhook_url, status| Some(WatchTarget { webhook_url, status });
        let check = |agg: &str,
                     w: Option<WatchTarget>,
                     a: Option<&str>,
                     p: Option<&str>,
                     want: Result<&str, DeadReason>| {
            let got = destination(&policy, agg, w, a, p);
            assert_eq!(
                got.as_ref().map(Url::as_str).map_err(|(d, _)| *d),
                want,
                "{agg} {w:?} {a:?} {p:?}"
            );
        };
        use DeadReason as R;
        check("watch", watch(W, "active"), None, None, Ok(W));
        check(
            "watch",
            watch(W, "deleted"),
            Some(A),
            Some(P),
            Err(R::WatchDeleted),
        );
        check("watch", None, Some(A), Some(P), Err(R::WatchDeleted));
        check("alert", None, Some(A), None, Ok(A));
        check(
            "alert",
            watch(W, "active"),
            None,
            Some(P),
            Err(R::AlertWebhookNotConfigured),
        );
        check("page", None, None, Some(P), Ok(P));
        check("page", None, Some(A), None, Err(R::PagerWebhookNotConfigured));
        check(
            "Watch",
            watch(W, "active"),
            Some(A),
            Some(P),
            Err(R::UnknownAggregate),
        );
        check("", watch(W, "active"), Some(A), Some(P), Err(R::UnknownAggregate));
        check(
            "alert",
            None,
            Some("http://127.0.0.1/a"),
            None,
            Err(R::InvalidDestination),
        );
        check(
            "watch",
            watch("https://10.0.0.1/w", "active"),
            None,
            None,
            Err(R::InvalidDestination),
        );
        let (_, why) = destination(&policy, "nope", None, None, None).unwrap_err();
        assert_eq!(why, "aggregate type \"nope\"");
    }

    #[test]
    fn plan_fences_every_write_and_reads_the_delete_of_a_dead_letter() {
        let settles = vec![
            Settle::Delivered,
            dead(DeadReason::NonRetryableStatus),
            Settle::Retry {
                error: "HTTP 503".into(),
                delay_ms: 250,
            },
            dead(DeadReason::ContentHashMismatch),
        ];
        let p = plan(&settles);
        assert_eq!(
            p.writes,
            vec![
                Write::MarkDelivered,
                Write::MoveToDeadLetters {
                    reason: DeadReason::NonRetryableStatus,
                    error: "e"
                },
                Write::Reschedule {
                    error: "HTTP 503",
                    delay_ms: 250
                },
                Write::MoveToDeadLetters {
                    reason: DeadReason::ContentHashMismatch,
                    error: "e"
                },
            ]
        );
        // Statements: 0 delivered, 1-2 move (2 = its delete), 3 reschedule, 4-5 move (5 = its delete).
        assert_eq!(p.fence_index, vec![0, 2, 3, 5]);
        assert_eq!(p.statements, 6);
        assert_eq!(
            plan(&[]),
            SettlePlan {
                writes: vec![],
                fence_index: vec![],
                statements: 0
            }
        );
    }

    #[test]
    fn a_fenced_out_settlement_counts_only_as_fenced_out() {
        let mut r = RunReport::default();
        for s in [
            Settle::Delivered,
            dead(DeadReason::ContentHashMismatch),
            Settle::Retry {
                error: "e".into(),
                delay_ms: 1,
            },
        ] {
            assert_eq!(r.settled("evt", &s, 0), Outcome::FencedOut);
        }
        assert_eq!(
            r,
            RunReport {
                fenced_out: 3,
                ..RunReport::default()
            }
        );
        assert_eq!(
            r.settled("evt_1", &dead(DeadReason::ContentHashMismatch), 1),
            Outcome::ContentHashMismatch
        );
        assert_eq!(
            r.settled("evt_2", &dead(DeadReason::WatchDeleted), 1),
            Outcome::DeadLettered
        );
        assert_eq!(r.settled("evt_3", &Settle::Delivered, 1), Outcome::Delivered);
        assert_eq!(r.dead_lettered, 2);
        assert_eq!(r.content_hash_mismatches, 1);
        assert_eq!(r.delivered, 1);
        assert_eq!(
            r.dead,
            vec![
                ("evt_1".to_owned(), "content_hash_mismatch"),
                ("evt_2".to_owned(), "watch_deleted")
            ]
        );
    }

    #[test]
    fn the_report_keeps_at_most_twenty_dead_letters() {
        let mut r = RunReport::default();
        for i in 0..25 {
            r.settled(&format!("evt_{i}"), &dead(DeadReason::MaxAttemptsExceeded), 1);
        }
        assert_eq!(r.dead_lettered, 25);
        assert_eq!(r.dead.len(), REPORT_DEAD_MAX);
        assert_eq!(r.dead[19].0, "evt_19");
        r.claimed(6);
        r.claimed(2);
        assert_eq!((r.claims, r.claimed), (2, 8));
    }

    #[test]
    fn the_report_serializes_its_contract_fields() {
        let mut r = RunReport::default();
        r.settled("evt_1", &dead(DeadReason::NonRetryableStatus), 1);
        let v = serde_json::to_value(&r).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "budget_exhausted",
                "claimed",
                "claims",
                "content_hash_mismatches",
                "dead",
                "dead_lettered",
                "delivered",
                "duration_ms",
                "fenced_out",
                "retried"
            ]
        );
        assert_eq!(v["dead"], serde_json::json!([["evt_1", "non_retryable_status"]]));
    }

    #[test]
    fn dead_letter_alert_table() {
        use DeadLetterAlert as A;
        for (agg, reason, want) in [
            ("watch", DeadReason::WatchDeleted, A::None),
            ("alert", DeadReason::WatchDeleted, A::None),
            ("watch", DeadReason::ContentHashMismatch, A::ContentHashMismatch),
            ("alert", DeadReason::ContentHashMismatch, A::ContentHashMismatch),
            ("page", DeadReason::ContentHashMismatch, A::ContentHashMismatch),
            ("alert", DeadReason::MaxAttemptsExceeded, A::LogOnly),
            ("page", DeadReason::PagerWebhookNotConfigured, A::LogOnly),
            ("alert", DeadReason::AlertWebhookNotConfigured, A::LogOnly),
            ("watch", DeadReason::MaxAttemptsExceeded, A::DeadLettered),
            ("watch", DeadReason::NonRetryableStatus, A::DeadLettered),
            ("watch", DeadReason::InvalidDestination, A::DeadLettered),
            ("bogus", DeadReason::UnknownAggregate, A::DeadLettered),
        ] {
            assert_eq!(dead_letter_alert(agg, reason), want, "{agg} {reason:?}");
        }
    }

    fn claimed(aggregate_type: &str) -> ClaimedEvent {
        let (event_id, event_type, payload) = ("evt_1", "valuation.changed", "{}");
        ClaimedEvent {
            event_id: event_id.into(),
            aggregate_type: aggregate_type.into(),
            aggregate_id: "w_1".into(),
            event_type: event_type.into(),
            payload: payload.into(),
            content_hash: super::super::content_hash(event_id, event_type, payload),
            attempts: 2,
        }
    }

    #[test]
    fn an_event_is_settled_before_delivery_or_posted_and_then_settled() {
        let cfg = RelayConfig::parse(&|_: &str| None).unwrap();
        let hook = WatchDestination {
            id: "w_1".into(),
            webhook_url: "https://hooks.example.com/w".into(),
            status: "active".into(),
        };
        let to_watch = Destinations::new(vec![hook], None, None);
        let ev = claimed("watch");
        assert_eq!(
            before_delivery(&cfg, &to_watch, &ev),
            Delivery::Post(Url::parse("https://hooks.example.com/w").unwrap())
        );
        let nowhere = before_delivery(&cfg, &Destinations::default(), &ev);
        assert!(
            matches!(
                &nowhere,
                Delivery::Settled(Settle::Dead {
                    reason: DeadReason::WatchDeleted,
                    ..
                })
            ),
            "{nowhere:?}"
        );
        let tampered = ClaimedEvent {
            payload: "{\"x\":1}".into(),
            ..ev.clone()
        };
        assert!(matches!(
            before_delivery(&cfg, &to_watch, &tampered),
            Delivery::Settled(Settle::Dead {
                reason: DeadReason::ContentHashMismatch,
                ..
            })
        ));
        let exhausted = ClaimedEvent {
            attempts: cfg.max_attempts + 1,
            ..ev.clone()
        };
        assert!(matches!(
            before_delivery(&cfg, &to_watch, &exhausted),
            Delivery::Settled(Settle::Dead {
                reason: DeadReason::MaxAttemptsExceeded,
                ..
            })
        ));
        assert_eq!(
            after_delivery(&cfg, &ev, &Attempt::Delivered, None),
            Settle::Delivered
        );
        let retry = after_delivery(&cfg, &ev, &Attempt::unanswered("reset"), None);
        assert_eq!(
            retry,
            Settle::Retry {
                error: "reset".into(),
                delay_ms: cfg.backoff_ms(ev.attempts, None)
            }
        );
    }

    #[test]
    fn only_an_alerts_own_dead_letter_is_a_log_line_instead() {
        let page = claimed("page");
        let rule = dead_letter_alert("page", DeadReason::NonRetryableStatus);
        assert_eq!(
            rule.log_line(&page, DeadReason::NonRetryableStatus, "HTTP 410")
                .unwrap()
                .to_string(),
            r#"{"domain":"alerts","error":"HTTP 410","event_id":"evt_1","reason":"non_retryable_status","task":"alert_dead_lettered"}"#
        );
        let watch = dead_letter_alert("watch", DeadReason::NonRetryableStatus);
        assert_eq!(watch.log_line(&page, DeadReason::NonRetryableStatus, "x"), None);
        assert_eq!(
            DeadLetterAlert::raise_failed_line(&page, "d1 down")["task"],
            "raise_failed"
        );
    }

    #[test]
    fn claimed_events_check_their_hash() {
        let ev = claimed("watch");
        assert!(ev.hash_ok());
        let tampered = ClaimedEvent {
            payload: "{\"x\":1}".into(),
            ..ev.clone()
        };
        assert!(!tampered.hash_ok());
        let short = ClaimedEvent {
            content_hash: ev.content_hash[..63].into(),
            ..ev
        };
        assert!(!short.hash_ok());
    }

    #[test]
    fn dead_letter_alert_texts() {
        let ev = claimed("watch");
        let r = DeadReason::NonRetryableStatus;
        assert_eq!(DeadLetterAlert::None.message(&ev, r), None);
        assert_eq!(DeadLetterAlert::LogOnly.message(&ev, r), None);
        assert_eq!(
            DeadLetterAlert::DeadLettered.message(&ev, r).as_deref(),
            Some("Event evt_1 (valuation.changed) on watch w_1 was dead-lettered: non_retryable_status.")
        );
        assert_eq!(
            DeadLetterAlert::ContentHashMismatch
                .message(&ev, DeadReason::ContentHashMismatch)
                .as_deref(),
            Some(
                "Event evt_1 (valuation.changed) on watch w_1 failed its content-hash check and was \
                 dead-lettered without delivery. Its row was changed after it was written."
            )
        );
    }

    #[test]
    fn dead_letter_alerts_carry_their_kind_key_and_details() {
        let ev = claimed("watch");
        let a = DeadLetterAlert::DeadLettered
            .alert(&ev, DeadReason::MaxAttemptsExceeded, "503")
            .unwrap();
        assert_eq!(a.kind, AlertKind::DeadLettered);
        assert_eq!(a.key(), "outbox.dead_lettered.max_attempts_exceeded");
        assert_eq!(a.counts(), &[("attempts".to_owned(), 2)]);
        assert_eq!(
            a.details(),
            &[
                ("event_id".to_owned(), "evt_1".to_owned()),
                ("last_error".to_owned(), "503".to_owned())
            ]
        );
        let tampered = DeadLetterAlert::ContentHashMismatch
            .alert(&ev, DeadReason::ContentHashMismatch, "hash")
            .unwrap();
        assert_eq!(tampered.kind, AlertKind::ContentHashMismatch);
        assert_eq!(
            DeadLetterAlert::LogOnly.alert(&ev, DeadReason::MaxAttemptsExceeded, "e"),
            None
        );
        assert_eq!(
            DeadLetterAlert::None.alert(&ev, DeadReason::WatchDeleted, "e"),
            None
        );
    }

    #[test]
    fn destinations_of_a_claim_come_from_its_watch_rows() {
        let claim = vec![
            ("l".to_owned(), claimed("watch")),
            ("l".to_owned(), claimed("alert")),
        ];
        assert_eq!(Destinations::watch_ids(&claim), ["w_1"]);
        let policy = WebhookPolicy {
            allow_loopback: false,
        };
        let rows = vec![WatchDestination {
            id: "w_1".into(),
            webhook_url: "https://hooks.example.com/w".into(),
            status: "active".into(),
        }];
        let d = Destinations::new(rows, None, None);
        assert_eq!(
            d.resolve(&policy, &claim[0].1).unwrap().as_str(),
            "https://hooks.example.com/w"
        );
        assert_eq!(
            d.resolve(&policy, &claim[1].1).unwrap_err().0,
            DeadReason::AlertWebhookNotConfigured
        );
        let none = Destinations::new(vec![], None, None);
        assert_eq!(
            none.resolve(&policy, &claim[0].1).unwrap_err().0,
            DeadReason::WatchDeleted
        );
    }

    #[test]
    fn the_backlog_alert_counts_what_piled_up() {
        let b = Backlog {
            undelivered: 101,
            due_now: 21,
            oldest_age_s: 60,
        };
        let a = b.alert(100);
        assert_eq!(a.kind, AlertKind::OutboxBacklog);
        assert_eq!(
            a.counts(),
            &[
                ("undelivered_events".to_owned(), 101),
                ("due_now".to_owned(), 21),
                ("oldest_undelivered_age_s".to_owned(), 60)
            ]
        );
    }

    #[test]
    fn backlog_rule() {
        let c = OutboxCounts {
            pending: 60,
            pending_due: 10,
            leased: 30,
            leased_expired: 11,
            delivered: 1_000,
            oldest_undelivered_created_at: Some(40_000),
        };
        assert_eq!(
            backlog(&c, 100_999, 100),
            Some(Backlog {
                undelivered: 101,
                due_now: 21,
                oldest_age_s: 60
            })
        );
        assert_eq!(backlog(&c, 100_999, 101), None);
        assert_eq!(
            backlog(&c, 100_999, 100).unwrap().message(100),
            "101 outbox events are undelivered at the start of a cron relay run (threshold 100)."
        );
        let none_dated = OutboxCounts {
            oldest_undelivered_created_at: None,
            ..c
        };
        assert_eq!(backlog(&none_dated, 0, 0).map(|b| b.oldest_age_s), Some(0));
    }

    /// One event walked through claims as the relay makes them: the attempt counter is raised at claim
    /// time, each claim's delivery fails retryably (or its relay dies before settling), and the event
    /// ends in the dead-letter table, never retried past `max_attempts`.
    #[test]
    fn an_event_ends_dead_lettered_after_max_attempts() {
        let limits = SettleLimits {
            max_attempts: 4,
            backoff_cap_ms: 600_000,
        };
        for dies_every in [None, Some(2u32), Some(1)] {
            let mut attempts = 0u32;
            let end = loop {
                attempts += 1; // the claim
                if let Err(s) = precheck(true, attempts, limits) {
                    break s;
                }
                if dies_every.is_some_and(|k| attempts.is_multiple_of(k)) {
                    continue; // the relay died: the lease expires, the row is claimed again
                }
                let s = settle(
                    &Attempt::Retryable {
                        error: "HTTP 500".into(),
                        retry_after_ms: None,
                    },
                    attempts,
                    100,
                    limits,
                );
                if let Settle::Dead { .. } = s {
                    break s;
                }
                assert!(attempts < limits.max_attempts);
            };
            match end {
                Settle::Dead {
                    reason: DeadReason::MaxAttemptsExceeded,
                    ..
                } => {}
                other => panic!("{dies_every:?}: {other:?}"),
            }
            assert!(attempts <= limits.max_attempts + 1, "{dies_every:?}: {attempts}");
        }
    }

    proptest! {
        /// Every event has exactly one fenced write, and it belongs to that event.
        #[test]
        fn every_event_has_one_fence(kinds in proptest::collection::vec(0u8..3, 0..30)) {
            let settles: Vec<Settle> = kinds.iter().map(|k| match k {
                0 => Settle::Delivered,
                1 => Settle::Retry { error: "e".into(), delay_ms: 5 },
                _ => dead(DeadReason::NonRetryableStatus),
            }).collect();
            let p = plan(&settles);
            prop_assert_eq!(p.fence_index.len(), settles.len());
            // The statements of event i are [start_i, start_i + n_i); its fence is the last of them.
            let mut start = 0;
            for (w, &f) in p.writes.iter().zip(&p.fence_index) {
                let (n, _) = w.statements();
                prop_assert_eq!(f, start + n - 1);
                start += n;
            }
            prop_assert_eq!(start, p.statements);
            let dead_n = kinds.iter().filter(|k| **k >= 2).count();
            prop_assert_eq!(p.statements, settles.len() + dead_n);
        }

        /// The report's counters add up to the number of settlements.
        #[test]
        fn the_report_adds_up(rows in proptest::collection::vec((0u8..4, 0u64..2), 0..40)) {
            let mut r = RunReport::default();
            for (k, changed) in &rows {
                let s = match k {
                    0 => Settle::Delivered,
                    1 => Settle::Retry { error: "e".into(), delay_ms: 5 },
                    2 => dead(DeadReason::ContentHashMismatch),
                    _ => dead(DeadReason::MaxAttemptsExceeded),
                };
                r.settled("evt", &s, *changed);
            }
            prop_assert_eq!((r.delivered + r.retried + r.dead_lettered + r.fenced_out) as usize, rows.len());
            prop_assert_eq!(r.fenced_out as usize, rows.iter().filter(|(_, c)| *c == 0).count());
            prop_assert!(r.content_hash_mismatches <= r.dead_lettered);
        }
    }
}
