//! The test-only admin routes' bodies and plans (`/v1/admin/test/…`), compiled only with the
//! `test-hooks` feature, which the Worker's own `test-hooks` feature turns on (end-to-end tests only;
//! never a release build).
use crate::alerts::{Alert, AlertKind};
use crate::error::EdgeError;
use crate::outbox::{Aggregate, NewEvent};
use crate::sql::outbox::insert_event;
use crate::sql::watches::insert_watch;
use crate::sql::Statement;
use crate::valuation::ValuationSummary;
use serde::Deserialize;
use serde_json::{json, Value};

/// `POST /v1/admin/test/alerts`: raise an alert of any kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaiseAlert {
    pub kind: AlertKind,
    pub what_happened: String,
    pub key_suffix: Option<String>,
}

impl RaiseAlert {
    pub fn alert(self) -> Alert {
        let alert = Alert::new(self.kind, self.what_happened);
        match self.key_suffix {
            Some(s) => alert.key_suffix(s),
            None => alert,
        }
    }
}

/// `POST /v1/admin/test/valuation`: what a refresh that computed `summary` would record.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuationChange {
    pub character: String,
    pub summary: ValuationSummary,
    /// Make the first event reuse this existing event id, so the batch's second statement fails.
    pub collide_with_event_id: Option<String>,
}

/// `POST /v1/admin/test/outbox/events`: `aggregates` watches on `webhook_url` with
/// `events_per_aggregate` `test.event` events each.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkEvents {
    pub webhook_url: String,
    pub aggregates: u32,
    pub events_per_aggregate: u32,
}

/// The most events one bulk request writes.
pub const MAX_BULK_EVENTS: u64 = 10_000;

/// The fresh ids one watch of a bulk request draws.
pub struct BulkWatch {
    pub id: String,
    /// Never shown: the watch's token is not needed by the tests.
    pub token: String,
}

impl BulkEvents {
    /// How many watches and events, checked before anything is drawn.
    ///
    /// # Errors
    /// `InvalidQuery` unless there are 1 to [`MAX_BULK_EVENTS`] events in all (computed in 64 bits: two
    /// `u32`s multiplied in 32 wrapped in release builds and defeated the limit).
    pub fn counts(&self) -> Result<(u32, u32), EdgeError> {
        let total = u64::from(self.aggregates) * u64::from(self.events_per_aggregate);
        if total == 0 || total > MAX_BULK_EVENTS {
            return Err(EdgeError::InvalidQuery("1 to 10000 events in all".into()));
        }
        Ok((self.aggregates, self.events_per_aggregate))
    }

    /// The statements (every watch, then the events interleaved so that `seq` order within a watch is
    /// event order) and the answer's body, from the ids drawn for them: `event_ids[n * watches + i]` is
    /// event `n` of watch `i`. `webhook_url` has passed the policy.
    ///
    /// # Errors
    /// `Internal` when fewer event ids than events are given.
    pub fn plan(
        &self,
        webhook_url: &str,
        watches: &[BulkWatch],
        event_ids: &[String],
        now_ms: u64,
    ) -> Result<(Vec<Statement>, Value), EdgeError> {
        let events_per_watch = self.events_per_aggregate as usize;
        if event_ids.len() < watches.len() * events_per_watch {
            return Err(EdgeError::internal("fewer event ids than events"));
        }
        let mut statements: Vec<Statement> = watches
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let token_hash = crate::watches::token_hash(&w.token);
                insert_watch(&w.id, &format!("bulk{i}"), webhook_url, &token_hash, now_ms)
            })
            .collect();
        let mut events = Vec::new();
        let mut ids = event_ids.iter();
        for n in 0..self.events_per_aggregate {
            for w in watches {
                let event_id = ids.next().cloned().unwrap_or_default();
                let payload =
                    json!({"event_id": event_id, "event_type": "test.event", "watch_id": w.id, "n": n})
                        .to_string();
                let event = NewEvent {
                    event_id: event_id.clone(),
                    aggregate: Aggregate::Watch,
                    aggregate_id: w.id.clone(),
                    event_type: "test.event".into(),
                    payload,
                };
                statements.push(insert_event(&event, now_ms));
                events.push(json!({"event_id": event_id, "watch_id": w.id, "n": n}));
            }
        }
        let watch_ids: Vec<&str> = watches.iter().map(|w| w.id.as_str()).collect();
        Ok((statements, json!({"watch_ids": watch_ids, "events": events})))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(aggregates: u32, events_per_aggregate: u32) -> BulkEvents {
        BulkEvents {
            webhook_url: "http://127.0.0.1:1/h".into(),
            aggregates,
            events_per_aggregate,
        }
    }

    #[test]
    fn bulk_counts_are_checked_in_64_bits() {
        assert_eq!(bulk(2, 3).counts().unwrap(), (2, 3));
        assert!(bulk(0, 3).counts().is_err());
        assert!(bulk(100, 101).counts().is_err());
        // 65,536 × 65,536 wraps to 0 in 32 bits.
        assert!(bulk(65_536, 65_536).counts().is_err());
    }

    #[test]
    fn bulk_events_interleave_so_each_watch_is_in_order() {
        let watches: Vec<BulkWatch> = ["w0", "w1"]
            .iter()
            .map(|id| BulkWatch {
                id: (*id).into(),
                token: "t".into(),
            })
            .collect();
        let ids: Vec<String> = (0..4).map(|i| format!("evt_{i}")).collect();
        let (statements, body) = bulk(2, 2)
            .plan("http://127.0.0.1:1/h", &watches, &ids, 5)
            .unwrap();
        assert_eq!(statements.len(), 2 + 4);
        let order: Vec<(String, u64)> = body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["watch_id"].as_str().unwrap().to_owned(),
                    e["n"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("w0".into(), 0),
                ("w1".into(), 0),
                ("w0".into(), 1),
                ("w1".into(), 1)
            ]
        );
        assert_eq!(body["watch_ids"], json!(["w0", "w1"]));
        assert!(bulk(2, 2).plan("u", &watches, &ids[..3], 5).is_err());
        for s in &statements {
            s.check().unwrap();
        }
    }

    #[test]
    fn a_raised_test_alert_keeps_its_suffix() {
        let r: RaiseAlert =
            serde_json::from_str(r#"{"kind":"outbox_backlog","what_happened":"x","key_suffix":"a"}"#)
                .unwrap();
        assert_eq!(r.alert().key(), "outbox.backlog.a");
    }
}
