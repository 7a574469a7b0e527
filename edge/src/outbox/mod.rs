//! The outbox's decisions: the content hash, the aggregates, statuses and dead-letter reasons, and how
//! one claimed delivery settles (deliver, retry at a time, dead-letter, or fenced out because the lease
//! was taken over). [`relay`] plans a claim's settling batch and counts its results; [`dead_letter`]
//! holds the listing cursor and the replay rules.
pub mod dead_letter;
pub mod relay;

use sha2::{Digest, Sha256};

/// What an event is about; it also decides where the event is delivered. The string is the stored
/// `aggregate_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// A watch: delivered to the watch's webhook URL.
    Watch,
    /// An operational alert: delivered to `ALERT_WEBHOOK_URL`.
    Alert,
    /// A page (trigger or resolve) for a CRITICAL alert: delivered to `PAGER_WEBHOOK_URL`. Its aggregate
    /// id is the alert key, so an alert's trigger and resolve are delivered in order.
    Page,
}

impl Aggregate {
    pub const ALL: [Aggregate; 3] = [Aggregate::Watch, Aggregate::Alert, Aggregate::Page];

    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::Watch => "watch",
            Aggregate::Alert => "alert",
            Aggregate::Page => "page",
        }
    }

    pub fn parse(s: &str) -> Option<Aggregate> {
        Aggregate::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// SHA-256 in hex over a canonical encoding of (event id, event type, payload): a domain tag, then each
/// field as its byte length (u64, big-endian) followed by its UTF-8 bytes, so no two different triples
/// encode alike. The payload is hashed exactly as stored.
pub fn content_hash(event_id: &str, event_type: &str, payload: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"pve-outbox-v1\0");
    for field in [event_id, event_type, payload] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    crate::hash::hex(&h.finalize())
}

/// Whether the stored hash matches the content, compared without an early exit.
pub fn hash_matches(event_id: &str, event_type: &str, payload: &str, stored_hash: &str) -> bool {
    let computed = content_hash(event_id, event_type, payload);
    computed.len() == stored_hash.len()
        && computed
            .bytes()
            .zip(stored_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// An event about to be written. `payload` is the exact JSON body that will be POSTed. Its insert is
/// [`crate::sql::outbox::insert_event`], put in the same batch as the state change it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub event_id: String,
    pub aggregate: Aggregate,
    pub aggregate_id: String,
    pub event_type: String,
    pub payload: String,
}

impl NewEvent {
    pub fn content_hash(&self) -> String {
        content_hash(&self.event_id, &self.event_type, &self.payload)
    }
}

/// Why an event goes to the dead-letter table. The string is the stored `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadReason {
    ContentHashMismatch,
    MaxAttemptsExceeded,
    NonRetryableStatus,
    WatchDeleted,
    InvalidDestination,
    AlertWebhookNotConfigured,
    UnknownAggregate,
    /// A page event, and `PAGER_WEBHOOK_URL` is not set (it was when the page was enqueued).
    PagerWebhookNotConfigured,
}

impl DeadReason {
    pub const ALL: [DeadReason; 8] = [
        DeadReason::ContentHashMismatch,
        DeadReason::MaxAttemptsExceeded,
        DeadReason::NonRetryableStatus,
        DeadReason::WatchDeleted,
        DeadReason::InvalidDestination,
        DeadReason::AlertWebhookNotConfigured,
        DeadReason::UnknownAggregate,
        DeadReason::PagerWebhookNotConfigured,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeadReason::ContentHashMismatch => "content_hash_mismatch",
            DeadReason::MaxAttemptsExceeded => "max_attempts_exceeded",
            DeadReason::NonRetryableStatus => "non_retryable_status",
            DeadReason::WatchDeleted => "watch_deleted",
            DeadReason::InvalidDestination => "invalid_destination",
            DeadReason::AlertWebhookNotConfigured => "alert_webhook_not_configured",
            DeadReason::UnknownAggregate => "unknown_aggregate_type",
            DeadReason::PagerWebhookNotConfigured => "pager_webhook_not_configured",
        }
    }

    pub fn parse(s: &str) -> Option<DeadReason> {
        DeadReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// An event's row status (`outbox.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Leased,
    Delivered,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Leased => "leased",
            Status::Delivered => "delivered",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Pending, Status::Leased, Status::Delivered]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// What happened before a delivery could be settled (the results of I/O, as data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The stored hash does not match the content: never delivered.
    HashMismatch,
    /// Claimed again after `max_attempts` leases expired without a result.
    LeaseExhausted,
    /// No destination could be resolved.
    NoDestination { reason: DeadReason, error: String },
    /// A 2xx answer.
    Delivered,
    /// The destination refused it for good (other 4xx, or a redirect).
    Rejected { status: u16 },
    /// Worth trying again: 5xx, 408, 425, 429, timeout, network error.
    Retryable {
        error: String,
        retry_after_ms: Option<u64>,
    },
}

/// Settle limits (from the relay's configuration).
impl Attempt {
    /// How one webhook POST ended: a 2xx is delivered; 5xx, 408, 425 and 429 are worth trying again
    /// (with the answer's `Retry-After`, seconds or an HTTP-date, uncapped here: [`settle`] caps it);
    /// any other status, a 3xx included (redirects are not followed), is refused for good.
    pub fn answered(status: u16, retry_after: Option<&str>, now_ms: u64) -> Attempt {
        match status {
            200..=299 => Attempt::Delivered,
            408 | 425 | 429 | 500..=599 => Attempt::Retryable {
                error: format!("HTTP {status}"),
                retry_after_ms: retry_after.and_then(|v| crate::http::retry_after_ms(v, now_ms, u64::MAX)),
            },
            _ => Attempt::Rejected { status },
        }
    }

    /// A POST that got no answer (timeout, network error, or a request that could not be built): worth
    /// trying again.
    pub fn unanswered(error: impl Into<String>) -> Attempt {
        Attempt::Retryable {
            error: error.into(),
            retry_after_ms: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettleLimits {
    pub max_attempts: u32,
    pub backoff_cap_ms: u64,
}

/// How one claimed event settles, before the fenced write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    Delivered,
    Retry { error: String, delay_ms: u64 },
    Dead { reason: DeadReason, error: String },
}

/// Whether a claimed event may be attempted at all (hash and claim count), checked before any POST.
pub fn precheck(hash_ok: bool, attempts: u32, limits: SettleLimits) -> Result<(), Settle> {
    if !hash_ok {
        return Err(settle(&Attempt::HashMismatch, attempts, 0, limits));
    }
    if attempts > limits.max_attempts {
        return Err(settle(&Attempt::LeaseExhausted, attempts, 0, limits));
    }
    Ok(())
}

/// The settle rule. `attempts` counts this claim; `backoff_ms` is the jittered backoff drawn by the
/// caller for this attempt. A retry waits the longer of the backoff and the destination's
/// `Retry-After` (capped at `backoff_cap_ms`); the last allowed attempt dead-letters instead.
pub fn settle(attempt: &Attempt, attempts: u32, backoff_ms: u64, limits: SettleLimits) -> Settle {
    match attempt {
        Attempt::HashMismatch => Settle::Dead {
            reason: DeadReason::ContentHashMismatch,
            error: "stored content hash does not match (event id, event type, payload)".into(),
        },
        Attempt::LeaseExhausted => Settle::Dead {
            reason: DeadReason::MaxAttemptsExceeded,
            error: format!(
                "claimed {} times; its lease expired without a result",
                attempts.saturating_sub(1)
            ),
        },
        Attempt::NoDestination { reason, error } => Settle::Dead {
            reason: *reason,
            error: error.clone(),
        },
        Attempt::Delivered => Settle::Delivered,
        Attempt::Rejected { status } => Settle::Dead {
            reason: DeadReason::NonRetryableStatus,
            error: format!("HTTP {status}"),
        },
        Attempt::Retryable { error, .. } if attempts >= limits.max_attempts => Settle::Dead {
            reason: DeadReason::MaxAttemptsExceeded,
            error: format!("{error} (attempt {attempts} of {})", limits.max_attempts),
        },
        Attempt::Retryable {
            error,
            retry_after_ms,
        } => Settle::Retry {
            error: error.clone(),
            delay_ms: backoff_ms.max(retry_after_ms.unwrap_or(0).min(limits.backoff_cap_ms)),
        },
    }
}

/// The outcome of the fenced settle write, as counted in `pve_outbox_deliveries_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Retried,
    DeadLettered,
    ContentHashMismatch,
    /// The fenced update changed no row: another relay's lease had taken over.
    FencedOut,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Retried => "retried",
            Outcome::DeadLettered => "dead_lettered",
            Outcome::ContentHashMismatch => "content_hash_mismatch",
            Outcome::FencedOut => "fenced_out",
        }
    }
}

/// The outcome given the row count of the fenced statement. The count is the result of I/O: a missing
/// count is the caller's error to report, never a zero.
pub fn outcome(settle: &Settle, changed_rows: u64) -> Outcome {
    match settle {
        _ if changed_rows == 0 => Outcome::FencedOut,
        Settle::Delivered => Outcome::Delivered,
        Settle::Retry { .. } => Outcome::Retried,
        // A tampered payload is its own outcome: it pages (CRITICAL), an ordinary dead letter does not.
        Settle::Dead {
            reason: DeadReason::ContentHashMismatch,
            ..
        } => Outcome::ContentHashMismatch,
        Settle::Dead { .. } => Outcome::DeadLettered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn webhook_answers_settle_as_delivered_retryable_or_refused() {
        assert_eq!(Attempt::answered(204, None, 0), Attempt::Delivered);
        for status in [408, 425, 429, 500, 503] {
            assert!(
                matches!(Attempt::answered(status, None, 0), Attempt::Retryable { .. }),
                "{status}"
            );
        }
        for status in [301, 302, 400, 404, 410] {
            assert_eq!(Attempt::answered(status, None, 0), Attempt::Rejected { status });
        }
        assert_eq!(
            Attempt::answered(503, Some("7"), 0),
            Attempt::Retryable {
                error: "HTTP 503".into(),
                retry_after_ms: Some(7_000)
            }
        );
        // An HTTP-date, 10 s after now.
        match Attempt::answered(429, Some("Thu, 01 Jan 1970 00:00:10 GMT"), 0) {
            Attempt::Retryable { retry_after_ms, .. } => assert_eq!(retry_after_ms, Some(10_000)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Attempt::unanswered("timeout"),
            Attempt::Retryable {
                retry_after_ms: None,
                ..
            }
        ));
    }

    const L: SettleLimits = SettleLimits {
        max_attempts: 3,
        backoff_cap_ms: 600_000,
    };

    #[test]
    fn the_encoding_separates_fields() {
        assert_ne!(content_hash("a", "bc", "d"), content_hash("ab", "c", "d"));
        assert_ne!(content_hash("a", "b", "c"), content_hash("a", "b", "c "));
        assert_eq!(content_hash("a", "b", "c").len(), 64);
        assert!(hash_matches("a", "b", "c", &content_hash("a", "b", "c")));
        assert!(!hash_matches("a", "b", "x", &content_hash("a", "b", "c")));
        assert!(!hash_matches("a", "b", "c", &content_hash("a", "b", "c")[..63]));
    }

    #[test]
    fn the_hash_is_pinned() {
        // Stored rows carry this hash: changing the encoding would dead-letter every pending event.
        let mut h = Sha256::new();
        h.update(b"pve-outbox-v1\0");
        for f in ["evt_1", "valuation.changed", "{}"] {
            h.update((f.len() as u64).to_be_bytes());
            h.update(f.as_bytes());
        }
        let expect: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(content_hash("evt_1", "valuation.changed", "{}"), expect);
    }

    #[test]
    fn reasons_round_trip() {
        for r in DeadReason::ALL {
            assert_eq!(DeadReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(DeadReason::parse("nope"), None);
        for s in ["pending", "leased", "delivered"] {
            assert_eq!(Status::parse(s).map(Status::as_str), Some(s));
        }
        for s in ["watch", "alert", "page"] {
            assert_eq!(Aggregate::parse(s).map(Aggregate::as_str), Some(s));
        }
        assert_eq!(Aggregate::parse("Watch"), None);
    }

    fn dead(reason: DeadReason, error: &str) -> Settle {
        Settle::Dead {
            reason,
            error: error.into(),
        }
    }

    #[test]
    fn settle_table() {
        let retry = |after: Option<u64>| Attempt::Retryable {
            error: "HTTP 503".into(),
            retry_after_ms: after,
        };
        let rows: Vec<(Attempt, u32, u64, Settle)> = vec![
            (Attempt::Delivered, 1, 0, Settle::Delivered),
            (Attempt::Delivered, 3, 0, Settle::Delivered),
            (
                Attempt::Rejected { status: 404 },
                1,
                0,
                dead(DeadReason::NonRetryableStatus, "HTTP 404"),
            ),
            (
                Attempt::HashMismatch,
                1,
                0,
                dead(
                    DeadReason::ContentHashMismatch,
                    "stored content hash does not match (event id, event type, payload)",
                ),
            ),
            (
                Attempt::LeaseExhausted,
                4,
                0,
                dead(
                    DeadReason::MaxAttemptsExceeded,
                    "claimed 3 times; its lease expired without a result",
                ),
            ),
            (
                Attempt::NoDestination {
                    reason: DeadReason::WatchDeleted,
                    error: "gone".into(),
                },
                1,
                0,
                dead(DeadReason::WatchDeleted, "gone"),
            ),
            (
                retry(None),
                1,
                250,
                Settle::Retry {
                    error: "HTTP 503".into(),
                    delay_ms: 250,
                },
            ),
            (
                retry(Some(5_000)),
                2,
                250,
                Settle::Retry {
                    error: "HTTP 503".into(),
                    delay_ms: 5_000,
                },
            ),
            // Retry-After is capped at the backoff cap.
            (
                retry(Some(10_000_000)),
                2,
                250,
                Settle::Retry {
                    error: "HTTP 503".into(),
                    delay_ms: 600_000,
                },
            ),
            // The last allowed attempt dead-letters instead of retrying.
            (
                retry(None),
                3,
                250,
                dead(DeadReason::MaxAttemptsExceeded, "HTTP 503 (attempt 3 of 3)"),
            ),
        ];
        for (attempt, n, backoff, want) in rows {
            assert_eq!(
                settle(&attempt, n, backoff, L),
                want,
                "{attempt:?} at attempt {n}"
            );
        }
    }

    #[test]
    fn precheck_stops_tampered_and_exhausted_events() {
        assert_eq!(precheck(true, 3, L), Ok(()));
        assert!(matches!(
            precheck(false, 1, L),
            Err(Settle::Dead {
                reason: DeadReason::ContentHashMismatch,
                ..
            })
        ));
        assert!(matches!(
            precheck(true, 4, L),
            Err(Settle::Dead {
                reason: DeadReason::MaxAttemptsExceeded,
                ..
            })
        ));
    }

    #[test]
    fn fencing_table() {
        let d = dead(DeadReason::ContentHashMismatch, "x");
        let o = dead(DeadReason::NonRetryableStatus, "x");
        let r = Settle::Retry {
            error: "e".into(),
            delay_ms: 1,
        };
        for s in [&Settle::Delivered, &r, &d, &o] {
            assert_eq!(outcome(s, 0), Outcome::FencedOut);
        }
        assert_eq!(outcome(&Settle::Delivered, 1), Outcome::Delivered);
        assert_eq!(outcome(&r, 1), Outcome::Retried);
        assert_eq!(outcome(&d, 1), Outcome::ContentHashMismatch);
        assert_eq!(outcome(&o, 1), Outcome::DeadLettered);
    }

    proptest! {
        /// A retryable failure never retries past max attempts and never waits beyond max(backoff, cap).
        #[test]
        fn retries_are_bounded(attempts in 1u32..20, max in 1u32..10, backoff in 0u64..1_000_000,
                               after in proptest::option::of(0u64..u64::MAX)) {
            let limits = SettleLimits { max_attempts: max, backoff_cap_ms: 600_000 };
            let s = settle(&Attempt::Retryable { error: "e".into(), retry_after_ms: after }, attempts, backoff, limits);
            match s {
                Settle::Retry { delay_ms, .. } => {
                    prop_assert!(attempts < max);
                    prop_assert!(delay_ms >= backoff);
                    prop_assert!(delay_ms <= backoff.max(600_000));
                }
                Settle::Dead { reason, .. } => {
                    prop_assert!(attempts >= max);
                    prop_assert_eq!(reason, DeadReason::MaxAttemptsExceeded);
                }
                Settle::Delivered => prop_assert!(false),
            }
        }
    }
}
