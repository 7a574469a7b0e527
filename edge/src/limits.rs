//! Pure admission control: a token bucket, a circuit breaker, and the limiter that combines them with the
//! upstream's 429 hold. Time is passed in (milliseconds), so the same code runs in the `RateLimiter`
//! Durable Object, in the per-isolate client limit and in tests.
//!
//! Invariants (property-tested below): a bucket never holds more tokens than its burst; no call is
//! admitted while the breaker is open; a half-open breaker admits exactly one probe until the probe's
//! result (or its lease) is in.
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A sustained rate and the burst allowed on top of it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub per_sec: f64,
    pub burst: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    updated_ms: u64,
}

impl TokenBucket {
    /// A bucket that starts full.
    pub fn full(rate: Rate, now: u64) -> TokenBucket {
        TokenBucket {
            tokens: rate.burst,
            updated_ms: now,
        }
    }

    /// The tokens held after refilling up to `now` (never more than `rate.burst`).
    pub fn tokens(&mut self, now: u64, rate: Rate) -> f64 {
        self.refill(now, rate);
        self.tokens
    }

    fn refill(&mut self, now: u64, rate: Rate) {
        let elapsed_s = now.saturating_sub(self.updated_ms) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed_s * rate.per_sec).min(rate.burst);
        self.updated_ms = self.updated_ms.max(now);
    }

    /// Take one token, or say in how many milliseconds one will be there.
    pub fn take(&mut self, now: u64, rate: Rate) -> Result<(), u64> {
        self.refill(now, rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - self.tokens) / rate.per_sec) * 1000.0).ceil() as u64)
        }
    }

    /// Whether the bucket has refilled completely (an idle client: its state can be forgotten).
    pub fn is_full(&mut self, now: u64, rate: Rate) -> bool {
        self.refill(now, rate);
        self.tokens >= rate.burst
    }
}

/// When the breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the circuit.
    pub failures: u32,
    /// How long it stays open before one probe is let through.
    pub open_ms: u64,
    /// How long a probe may take before another probe is allowed (the first one is presumed lost).
    pub probe_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Breaker {
    Closed {
        failures: u32,
    },
    Open {
        until: u64,
    },
    /// One probe is out; everything else waits for its result.
    HalfOpen {
        probe_until: u64,
    },
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker::Closed { failures: 0 }
    }
}

impl Breaker {
    /// `Some(ms)` while calls are refused (open, or half-open with a probe out), without changing state.
    pub fn refusal(&self, now: u64) -> Option<u64> {
        match *self {
            Breaker::Closed { .. } => None,
            Breaker::Open { until } if now < until => Some(until - now),
            Breaker::HalfOpen { probe_until } if now < probe_until => Some(probe_until - now),
            Breaker::Open { .. } | Breaker::HalfOpen { .. } => None,
        }
    }

    /// Let one call through (call [`Breaker::refusal`] first). Returns whether the call is the half-open probe.
    pub fn admit(&mut self, now: u64, policy: BreakerPolicy) -> bool {
        match *self {
            Breaker::Closed { .. } => false,
            Breaker::Open { .. } | Breaker::HalfOpen { .. } => {
                *self = Breaker::HalfOpen {
                    probe_until: now.saturating_add(policy.probe_ms),
                };
                true
            }
        }
    }

    /// Whether going from `before` to `after` opened the circuit (it was closed or half-open, and is open
    /// now): the one transition that raises the `upstream.circuit_open` alert, once per opening.
    pub fn opened(before: Breaker, after: Breaker) -> bool {
        !matches!(before, Breaker::Open { .. }) && matches!(after, Breaker::Open { .. })
    }

    pub fn record(&mut self, now: u64, success: bool, policy: BreakerPolicy) {
        *self = match (*self, success) {
            (_, true) => Breaker::Closed { failures: 0 },
            (Breaker::Closed { failures }, false) if failures + 1 < policy.failures => Breaker::Closed {
                failures: failures + 1,
            },
            (Breaker::Open { until }, false) => Breaker::Open { until },
            (_, false) => Breaker::Open {
                until: now.saturating_add(policy.open_ms),
            },
        };
    }
}

/// The instance that guards the upstream.
pub const UPSTREAM: &str = "upstream";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AcquireRequest {
    pub rate: Rate,
    /// `None` for limits without a breaker.
    pub breaker: Option<BreakerPolicy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// The token bucket is empty.
    RateLimited,
    /// The upstream answered 429; its `Retry-After` has not passed.
    Throttled,
    /// The circuit breaker is open (or a half-open probe is out).
    CircuitOpen,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "admission", rename_all = "snake_case")]
pub enum Admission {
    Granted { probe: bool },
    Denied { reason: DenyReason, retry_after_ms: u64 },
}

/// How an upstream call ended, for the breaker and the hold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CallOutcome {
    Success,
    Failure,
    Throttled { retry_after_ms: u64 },
}

/// How a call ended, with the breaker policy to apply (the Durable Object holds no configuration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub outcome: CallOutcome,
    pub breaker: BreakerPolicy,
}

/// The upstream's rate and breaker, from the configuration.
pub fn upstream_policy(cfg: &crate::config::Config) -> AcquireRequest {
    AcquireRequest {
        rate: Rate {
            per_sec: cfg.upstream_rate_per_sec,
            burst: cfg.upstream_burst,
        },
        breaker: Some(upstream_breaker(cfg)),
    }
}

/// The upstream's breaker policy, sent with every report (the Durable Object holds no configuration).
pub fn upstream_breaker(cfg: &crate::config::Config) -> BreakerPolicy {
    BreakerPolicy {
        failures: cfg.breaker_failures,
        open_ms: cfg.breaker_open_ms,
        // A probe is presumed lost after one attempt's timeout and a second of slack.
        probe_ms: cfg.upstream_timeout_ms.saturating_add(1_000),
    }
}

/// The client key used when `cf-connecting-ip` is absent (local development and tests).
pub const LOCAL_CLIENT: &str = "local";
/// The longest client key taken from the header; a longer (or empty) value is not an address.
pub const MAX_CLIENT_KEY_LEN: usize = 64;

/// The key of a client's limits: its `cf-connecting-ip`, which Cloudflare always sets in production;
/// [`LOCAL_CLIENT`] when it is absent, empty or too long to be an address (under `wrangler dev`).
pub fn client_key(cf_connecting_ip: Option<&str>) -> &str {
    cf_connecting_ip
        .filter(|ip| !ip.is_empty() && ip.len() <= MAX_CLIENT_KEY_LEN)
        .unwrap_or(LOCAL_CLIENT)
}

/// A client's per-isolate rate on `/v1/*`.
pub fn client_rate(cfg: &crate::config::Config) -> Rate {
    Rate {
        per_sec: cfg.client_rate_per_sec,
        burst: cfg.client_burst,
    }
}

/// A client's `refresh=true` limit (global, no breaker), and the `RateLimiter` instance that holds it.
pub fn refresh_policy(cfg: &crate::config::Config, client: &str) -> (String, AcquireRequest) {
    (
        format!("refresh:{client}"),
        AcquireRequest {
            rate: Rate {
                per_sec: cfg.refresh_per_min / 60.0,
                burst: cfg.refresh_burst,
            },
            breaker: None,
        },
    )
}

/// The `RateLimiter` object's answer to `/report`: the breaker after the report, and whether this
/// report opened it (the caller raises the alert).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reported {
    pub breaker: Breaker,
    pub opened: bool,
}

/// The `RateLimiter` object's answer to `/state`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StateView {
    /// [`CircuitState::gauge_value`].
    pub circuit: u8,
    pub breaker: Breaker,
    pub hold_until: u64,
}

/// One `RateLimiter` instance's state: a bucket, the 429 hold and the breaker.
#[derive(Debug, Default)]
pub struct Limiter {
    bucket: Option<TokenBucket>,
    hold_until: u64,
    breaker: Breaker,
}

impl Limiter {
    /// Admit one call or say why not and for how long. A refused call takes no token; only an admitted
    /// call can become the half-open probe.
    pub fn acquire(&mut self, now: u64, req: &AcquireRequest) -> Admission {
        if now < self.hold_until {
            return Admission::Denied {
                reason: DenyReason::Throttled,
                retry_after_ms: self.hold_until - now,
            };
        }
        if req.breaker.is_some() {
            if let Some(ms) = self.breaker.refusal(now) {
                return Admission::Denied {
                    reason: DenyReason::CircuitOpen,
                    retry_after_ms: ms,
                };
            }
        }
        let bucket = self
            .bucket
            .get_or_insert_with(|| TokenBucket::full(req.rate, now));
        if let Err(ms) = bucket.take(now, req.rate) {
            return Admission::Denied {
                reason: DenyReason::RateLimited,
                retry_after_ms: ms,
            };
        }
        let probe = req.breaker.is_some_and(|policy| self.breaker.admit(now, policy));
        Admission::Granted { probe }
    }

    /// Record how a call ended: successes and failures drive the breaker, a 429 extends the hold.
    pub fn report(&mut self, now: u64, report: &Report) {
        match report.outcome {
            CallOutcome::Success => self.breaker.record(now, true, report.breaker),
            CallOutcome::Failure => self.breaker.record(now, false, report.breaker),
            CallOutcome::Throttled { retry_after_ms } => {
                self.hold_until = self.hold_until.max(now.saturating_add(retry_after_ms));
            }
        }
    }

    /// [`Limiter::report`], answered as the Durable Object's `/report` answer.
    pub fn reported(&mut self, now: u64, report: &Report) -> Reported {
        let before = self.breaker;
        self.report(now, report);
        Reported {
            breaker: self.breaker,
            opened: Breaker::opened(before, self.breaker),
        }
    }

    /// The Durable Object's `/state` answer.
    pub fn view(&self, now: u64) -> StateView {
        StateView {
            circuit: self.circuit(now).gauge_value(),
            breaker: self.breaker,
            hold_until: self.hold_until,
        }
    }

    /// The `RateLimiter` Durable Object's answer to a request for `path` with JSON `body` at `now`:
    /// `/acquire` ([`Limiter::acquire`]), `/report` ([`Limiter::reported`]) or `/state`
    /// ([`Limiter::view`]); 404 for another path, 400 for a body that does not read (our own Worker wrote
    /// it: a bug or a version skew, answered explicitly).
    pub fn serve(&mut self, path: &str, body: &str, now: u64) -> crate::http::Reply {
        use crate::http::Reply;
        fn read<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, Reply> {
            serde_json::from_str(body)
                .map_err(|e| Reply::text_error(400, &format!("bug: unreadable body: {e}")))
        }
        let answer = match path {
            "/acquire" => read(body).map(|req: AcquireRequest| Reply::json(&self.acquire(now, &req), 200)),
            "/report" => read(body).map(|report: Report| Reply::json(&self.reported(now, &report), 200)),
            "/state" => Ok(Reply::json(&self.view(now), 200)),
            _ => return Reply::text_error(404, "no such durable object route"),
        };
        match answer {
            Ok(Ok(reply)) => reply,
            Ok(Err(e)) => Reply::text_error(500, &e.to_string()),
            Err(refused) => refused,
        }
    }

    /// The breaker, for the Durable Object's `/report` and `/state` answers.
    pub fn breaker(&self) -> Breaker {
        self.breaker
    }

    pub fn hold_until(&self) -> u64 {
        self.hold_until
    }

    /// The breaker as the `pve_upstream_circuit_state` gauge reads it.
    pub fn circuit(&self, now: u64) -> CircuitState {
        match self.breaker {
            Breaker::Closed { .. } => CircuitState::Closed,
            Breaker::Open { until } if now < until => CircuitState::Open,
            Breaker::Open { .. } | Breaker::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }
}

/// The circuit as a gauge: 0 closed, 1 half-open (or open past its time: the next call is the probe),
/// 2 open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    Closed,
    HalfOpen,
    Open,
}

impl CircuitState {
    pub fn gauge_value(self) -> u8 {
        match self {
            CircuitState::Closed => 0,
            CircuitState::HalfOpen => 1,
            CircuitState::Open => 2,
        }
    }
}

/// Per-client buckets held in one isolate's memory, at most `max_clients` of them: when a new client
/// would exceed the bound, idle (refilled) buckets are forgotten first; if none is idle, all are (the
/// limit is per isolate and approximate by design, and memory must stay bounded).
#[derive(Debug)]
pub struct ClientBuckets {
    buckets: HashMap<String, TokenBucket>,
    max_clients: usize,
}

impl ClientBuckets {
    pub fn new(max_clients: usize) -> ClientBuckets {
        ClientBuckets {
            buckets: HashMap::new(),
            max_clients,
        }
    }

    /// Take one token from `client`'s bucket, or say in how many milliseconds one will be there.
    pub fn take(&mut self, client: &str, now: u64, rate: Rate) -> Result<(), u64> {
        if self.buckets.len() >= self.max_clients && !self.buckets.contains_key(client) {
            self.buckets.retain(|_, bucket| !bucket.is_full(now, rate));
            if self.buckets.len() >= self.max_clients {
                self.buckets.clear();
            }
        }
        self.buckets
            .entry(client.to_owned())
            .or_insert_with(|| TokenBucket::full(rate, now))
            .take(now, rate)
    }

    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_objects_routes_answer_json_and_refuse_what_they_do_not_know() {
        let mut l = Limiter::default();
        let req = AcquireRequest {
            rate: RATE,
            breaker: None,
        };
        let ok = l.serve("/acquire", &serde_json::to_string(&req).unwrap(), 1_000);
        assert_eq!(ok.status, 200);
        let admission: Admission = serde_json::from_slice(ok.body.as_deref().unwrap()).unwrap();
        assert!(matches!(admission, Admission::Granted { probe: false }));
        let state = l.serve("/state", "", 1_000);
        let view: StateView = serde_json::from_slice(state.body.as_deref().unwrap()).unwrap();
        assert_eq!(view, l.view(1_000));
        assert_eq!(l.serve("/acquire", "{", 1_000).status, 400);
        assert_eq!(l.serve("/report", "[]", 1_000).status, 400);
        assert_eq!(l.serve("/other", "{}", 1_000).status, 404);
    }

    const RATE: Rate = Rate {
        per_sec: 2.0,
        burst: 3.0,
    };
    const POLICY: BreakerPolicy = BreakerPolicy {
        failures: 3,
        open_ms: 1000,
        probe_ms: 500,
    };

    #[test]
    fn client_keys() {
        assert_eq!(client_key(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(client_key(Some("2001:db8::1")), "2001:db8::1");
        assert_eq!(client_key(None), LOCAL_CLIENT);
        assert_eq!(client_key(Some("")), LOCAL_CLIENT);
        assert_eq!(client_key(Some(&"1".repeat(64))), "1".repeat(64));
        assert_eq!(client_key(Some(&"1".repeat(65))), LOCAL_CLIENT);
    }

    #[test]
    fn policies_from_the_config() {
        let cfg = crate::config::Config::default();
        let (name, refresh) = refresh_policy(&cfg, "203.0.113.7");
        assert_eq!(name, "refresh:203.0.113.7");
        assert_eq!(refresh.breaker, None);
        assert_eq!(refresh.rate.burst, cfg.refresh_burst);
        assert!((refresh.rate.per_sec * 60.0 - cfg.refresh_per_min).abs() < 1e-9);
        assert_eq!(client_rate(&cfg).burst, cfg.client_burst);
        assert_eq!(upstream_policy(&cfg).breaker, Some(upstream_breaker(&cfg)));
        assert_eq!(upstream_breaker(&cfg).probe_ms, cfg.upstream_timeout_ms + 1_000);
    }

    /// The object's answers to `/report` and `/state` read back as the Worker reads them.
    #[test]
    fn the_objects_answers_round_trip() {
        let reported = Reported {
            breaker: Breaker::Open { until: 9 },
            opened: true,
        };
        let back: Reported = serde_json::from_str(&serde_json::to_string(&reported).unwrap()).unwrap();
        assert_eq!(back, reported);
        let view = Limiter::default().view(5);
        let back: StateView = serde_json::from_str(&serde_json::to_string(&view).unwrap()).unwrap();
        assert_eq!(back, view);
    }

    #[test]
    fn reported_says_when_this_report_opened_the_breaker() {
        let mut l = Limiter::default();
        let fail = Report {
            outcome: CallOutcome::Failure,
            breaker: POLICY,
        };
        let opened: Vec<bool> = (0..5).map(|i| l.reported(10 + i, &fail).opened).collect();
        // Only the Nth consecutive failure opens it; failures while open do not open it again.
        assert_eq!(opened, [false, false, true, false, false]);
        let v = l.view(20);
        assert_eq!(v.circuit, CircuitState::Open.gauge_value());
        assert_eq!(v.breaker, l.breaker());
        assert_eq!(
            l.view(20 + POLICY.open_ms).circuit,
            CircuitState::HalfOpen.gauge_value()
        );
        let throttled = Report {
            outcome: CallOutcome::Throttled { retry_after_ms: 700 },
            breaker: POLICY,
        };
        assert!(!l.reported(100, &throttled).opened);
        assert_eq!(l.view(100).hold_until, 800);
    }

    #[test]
    fn bucket_allows_the_burst_then_refills_at_the_rate() {
        let mut b = TokenBucket::full(RATE, 0);
        for _ in 0..3 {
            assert_eq!(b.take(0, RATE), Ok(()));
        }
        assert_eq!(b.take(0, RATE), Err(500));
        assert_eq!(b.take(250, RATE), Err(250));
        assert_eq!(b.take(500, RATE), Ok(()));
        assert!(!b.is_full(500, RATE));
        assert!(b.is_full(10_000, RATE));
        // never more than the burst after a long idle time
        for _ in 0..3 {
            assert_eq!(b.take(10_000, RATE), Ok(()));
        }
        assert!(b.take(10_000, RATE).is_err());
    }

    #[test]
    fn bucket_ignores_time_going_backwards() {
        let mut b = TokenBucket::full(RATE, 1000);
        for _ in 0..3 {
            b.take(1000, RATE).unwrap();
        }
        assert!(b.take(900, RATE).is_err());
        assert!(b.take(1500, RATE).is_ok());
    }

    #[test]
    fn breaker_opens_after_consecutive_failures_only() {
        let mut br = Breaker::default();
        br.record(0, false, POLICY);
        br.record(0, false, POLICY);
        br.record(0, true, POLICY); // a success resets the count
        br.record(0, false, POLICY);
        br.record(0, false, POLICY);
        assert_eq!(br.refusal(0), None);
        br.record(10, false, POLICY);
        assert_eq!(br, Breaker::Open { until: 1010 });
        assert_eq!(br.refusal(10), Some(1000));
    }

    #[test]
    fn breaker_half_open_lets_one_probe_through() {
        let mut br = Breaker::Open { until: 1000 };
        assert_eq!(br.refusal(999), Some(1));
        assert_eq!(br.refusal(1000), None);
        assert!(br.admit(1000, POLICY));
        assert_eq!(br.refusal(1001), Some(499), "a second caller waits for the probe");
        // the probe fails: open again for the full time
        br.record(1100, false, POLICY);
        assert_eq!(br, Breaker::Open { until: 2100 });
        // the next probe succeeds: closed
        assert!(br.admit(2100, POLICY));
        br.record(2200, true, POLICY);
        assert_eq!(br, Breaker::Closed { failures: 0 });
        assert!(!br.admit(2200, POLICY));
    }

    #[test]
    fn a_lost_probe_is_replaced_after_its_lease() {
        let mut br = Breaker::HalfOpen { probe_until: 500 };
        assert_eq!(br.refusal(499), Some(1));
        assert_eq!(br.refusal(500), None);
        assert!(br.admit(500, POLICY));
    }

    // --- the limiter ---

    fn upstream() -> AcquireRequest {
        AcquireRequest {
            rate: Rate {
                per_sec: 1.0,
                burst: 2.0,
            },
            breaker: Some(BreakerPolicy {
                failures: 2,
                open_ms: 1_000,
                probe_ms: 500,
            }),
        }
    }

    fn report(l: &mut Limiter, now: u64, outcome: CallOutcome) {
        l.report(
            now,
            &Report {
                outcome,
                breaker: upstream().breaker.unwrap(),
            },
        );
    }

    #[test]
    fn the_bucket_limits_calls() {
        let mut l = Limiter::default();
        assert_eq!(l.acquire(0, &upstream()), Admission::Granted { probe: false });
        assert_eq!(l.acquire(0, &upstream()), Admission::Granted { probe: false });
        assert_eq!(
            l.acquire(0, &upstream()),
            Admission::Denied {
                reason: DenyReason::RateLimited,
                retry_after_ms: 1000
            }
        );
    }

    #[test]
    fn a_429_holds_every_call_until_retry_after() {
        let mut l = Limiter::default();
        report(
            &mut l,
            0,
            CallOutcome::Throttled {
                retry_after_ms: 3_000,
            },
        );
        assert_eq!(
            l.acquire(1_000, &upstream()),
            Admission::Denied {
                reason: DenyReason::Throttled,
                retry_after_ms: 2_000
            }
        );
        assert_eq!(l.acquire(3_000, &upstream()), Admission::Granted { probe: false });
    }

    #[test]
    fn failures_open_the_breaker_then_one_probe_closes_it() {
        let mut l = Limiter::default();
        report(&mut l, 0, CallOutcome::Failure);
        report(&mut l, 0, CallOutcome::Failure);
        assert_eq!(
            l.acquire(10, &upstream()),
            Admission::Denied {
                reason: DenyReason::CircuitOpen,
                retry_after_ms: 990
            }
        );
        assert_eq!(l.acquire(1_000, &upstream()), Admission::Granted { probe: true });
        assert!(matches!(
            l.acquire(1_001, &upstream()),
            Admission::Denied {
                reason: DenyReason::CircuitOpen,
                ..
            }
        ));
        report(&mut l, 1_100, CallOutcome::Success);
        assert_eq!(l.acquire(1_100, &upstream()), Admission::Granted { probe: false });
    }

    #[test]
    fn limits_without_a_breaker_ignore_it() {
        let mut l = Limiter::default();
        let refresh = AcquireRequest {
            rate: Rate {
                per_sec: 0.1,
                burst: 1.0,
            },
            breaker: None,
        };
        assert_eq!(l.acquire(0, &refresh), Admission::Granted { probe: false });
        assert_eq!(
            l.acquire(0, &refresh),
            Admission::Denied {
                reason: DenyReason::RateLimited,
                retry_after_ms: 10_000
            }
        );
    }

    // --- invariants ---
    use proptest::prelude::*;

    /// One step of a random history: a call at `dt` ms after the previous step, and how it ended.
    #[derive(Debug, Clone)]
    enum Step {
        Acquire { dt: u64 },
        Report { dt: u64, outcome: CallOutcome },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u64..2_000).prop_map(|dt| Step::Acquire { dt }),
            (0u64..2_000).prop_map(|dt| Step::Report {
                dt,
                outcome: CallOutcome::Success
            }),
            (0u64..2_000).prop_map(|dt| Step::Report {
                dt,
                outcome: CallOutcome::Failure
            }),
            (0u64..2_000, 0u64..5_000).prop_map(|(dt, ms)| Step::Report {
                dt,
                outcome: CallOutcome::Throttled { retry_after_ms: ms }
            }),
        ]
    }

    fn rate() -> impl Strategy<Value = Rate> {
        (0.001f64..100.0, 1.0f64..50.0).prop_map(|(per_sec, burst)| Rate { per_sec, burst })
    }

    fn policy() -> impl Strategy<Value = BreakerPolicy> {
        (1u32..6, 0u64..3_000, 0u64..3_000).prop_map(|(failures, open_ms, probe_ms)| BreakerPolicy {
            failures,
            open_ms,
            probe_ms,
        })
    }

    proptest! {
        /// Whatever the history (including time standing still or going backwards), a bucket never holds
        /// more than its burst, and never admits more than the burst plus what the rate refilled.
        #[test]
        fn a_bucket_never_holds_more_than_its_burst(
            rate in rate(),
            times in proptest::collection::vec(0u64..100_000, 1..200),
        ) {
            let start = times[0];
            let mut bucket = TokenBucket::full(rate, start);
            let (mut granted, mut latest) = (0u64, start);
            for now in times {
                let _ = bucket.take(now, rate).map(|()| granted += 1);
                latest = latest.max(now);
                let held = bucket.tokens(now, rate);
                prop_assert!(held <= rate.burst + 1e-9, "{} > {}", held, rate.burst);
                prop_assert!(held >= 0.0);
            }
            let refilled = (latest - start) as f64 / 1000.0 * rate.per_sec;
            prop_assert!(granted as f64 <= rate.burst + refilled + 1e-6);
        }

        /// No call is admitted while the breaker is open, and while a half-open probe is out no second
        /// call is admitted: from each half-open moment to the probe's result, at most one grant, and it
        /// is marked as the probe.
        #[test]
        fn open_refuses_and_half_open_admits_one_probe(
            rate in rate(),
            breaker in policy(),
            steps in proptest::collection::vec(step(), 1..150),
        ) {
            let req = AcquireRequest { rate, breaker: Some(breaker) };
            let mut l = Limiter::default();
            let mut now = 1_000u64;
            for s in steps {
                match s {
                    Step::Acquire { dt } => {
                        now += dt;
                        let before = l.breaker();
                        let admission = l.acquire(now, &req);
                        match before {
                            Breaker::Open { until } if now < until => {
                                prop_assert!(!matches!(admission, Admission::Granted { .. }), "granted while open");
                            }
                            Breaker::HalfOpen { probe_until } if now < probe_until => {
                                prop_assert!(!matches!(admission, Admission::Granted { .. }), "second call while a probe is out");
                            }
                            Breaker::Open { .. } | Breaker::HalfOpen { .. } => {
                                if let Admission::Granted { probe } = admission {
                                    prop_assert!(probe, "the first call after open is the probe");
                                    prop_assert!(matches!(l.breaker(), Breaker::HalfOpen { .. }), "a probe leaves the breaker half-open");
                                }
                            }
                            Breaker::Closed { .. } => {
                                prop_assert!(!matches!(admission, Admission::Granted { probe: true }), "no probe while closed");
                            }
                        }
                    }
                    Step::Report { dt, outcome } => {
                        now += dt;
                        l.report(now, &Report { outcome, breaker });
                    }
                }
            }
        }

        /// A breaker opens only after `failures` consecutive failures.
        #[test]
        fn the_breaker_opens_on_the_nth_consecutive_failure(breaker in policy(), n in 0u32..10) {
            let mut b = Breaker::default();
            for _ in 0..n {
                b.record(0, false, breaker);
            }
            prop_assert_eq!(matches!(b, Breaker::Open { .. }), n >= breaker.failures);
        }
    }

    #[test]
    fn client_buckets_stay_bounded_and_forget_idle_clients_first() {
        let rate = Rate {
            per_sec: 1.0,
            burst: 2.0,
        };
        let mut c = ClientBuckets::new(2);
        assert_eq!(c.take("a", 0, rate), Ok(()));
        assert_eq!(c.take("b", 0, rate), Ok(()));
        assert_eq!(c.take("a", 0, rate), Ok(()));
        assert_eq!(c.take("a", 0, rate), Err(1000));
        // "b" refilled by t=1000, "a" has not: "b" is forgotten, "a" keeps its (empty) bucket.
        assert_eq!(c.take("c", 1000, rate), Ok(()));
        assert_eq!(c.len(), 2);
        assert_eq!(c.take("a", 1000, rate), Ok(()));
        assert_eq!(c.take("a", 1000, rate), Err(1000));
    }

    #[test]
    fn circuit_gauge() {
        let mut l = Limiter::default();
        assert_eq!(l.circuit(0).gauge_value(), 0);
        let breaker = BreakerPolicy {
            failures: 1,
            open_ms: 100,
            probe_ms: 10,
        };
        l.report(
            0,
            &Report {
                outcome: CallOutcome::Failure,
                breaker,
            },
        );
        assert_eq!(l.circuit(50), CircuitState::Open);
        assert_eq!(l.circuit(100), CircuitState::HalfOpen);
        assert_eq!(CircuitState::Open.gauge_value(), 2);
    }

    #[test]
    fn opening_is_reported_once_per_opening() {
        let policy = BreakerPolicy {
            failures: 2,
            open_ms: 1_000,
            probe_ms: 500,
        };
        let mut b = Breaker::default();
        let mut openings = 0;
        for (now, success) in [
            (0, false),
            (1, false),
            (2, false),
            (1_500, false),
            (3_000, true),
            (3_001, false),
            (3_002, false),
        ] {
            if matches!(b, Breaker::Open { until } if now >= until) {
                b.admit(now, policy); // the half-open probe (at acquire time, before the report)
            }
            let before = b;
            b.record(now, success, policy);
            if Breaker::opened(before, b) {
                openings += 1;
            }
        }
        // opened at t=1 (second failure), re-opened by the failed probe at t=1500, and after closing at
        // t=3000, opened again at t=3002; the failure at t=2 (already open) opened nothing.
        assert_eq!(openings, 3);
        assert!(!Breaker::opened(
            Breaker::Open { until: 5 },
            Breaker::Open { until: 5 }
        ));
        assert!(Breaker::opened(
            Breaker::HalfOpen { probe_until: 5 },
            Breaker::Open { until: 9 }
        ));
        assert!(!Breaker::opened(
            Breaker::Open { until: 5 },
            Breaker::Closed { failures: 0 }
        ));
    }
}
