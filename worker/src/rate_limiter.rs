//! The `RateLimiter` Durable Object: a token bucket per instance name, consulted before a call goes out.
//!
//! - `upstream`: the global limit on calls to the Nexon Open API. The same instance also holds the
//!   upstream's **circuit breaker** and its **429 hold** (`Retry-After`): all three are global facts about
//!   one upstream, needed at the same moment (before each call), so one round trip answers them all and
//!   every single-flight leader, in any isolate, sees the failures the others saw. (A per-isolate breaker
//!   would need each isolate to fail on its own; one per cache key would never see consecutive failures.)
//! - `refresh:{client}`: the per-client limit on `refresh=true` (no breaker).
//!
//! State is in memory only. An instance is evicted only after it has been idle for a while; by then the
//! bucket would have refilled and a hold or an open breaker would usually have expired, so what a
//! restart forgets is close to what time would have forgotten anyway.
use crate::bindings::RATE_LIMITER;
use crate::config::Config;
use crate::context::now_ms;
use crate::limits::{Breaker, BreakerPolicy, Rate, TokenBucket};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use worker::{
    durable_object, DurableObject, Env, Headers, Method, Request, RequestInit, Response, Result, State,
};

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

#[derive(Debug, Serialize, Deserialize)]
struct ReportRequest {
    outcome: CallOutcome,
    breaker: BreakerPolicy,
}

/// The upstream's rate and breaker, from the configuration.
pub fn upstream_policy(cfg: &Config) -> AcquireRequest {
    AcquireRequest {
        rate: Rate {
            per_sec: cfg.upstream_rate_per_sec,
            burst: cfg.upstream_burst,
        },
        breaker: Some(BreakerPolicy {
            failures: cfg.breaker_failures,
            open_ms: cfg.breaker_open_ms,
            probe_ms: cfg.upstream_timeout_ms + 1_000,
        }),
    }
}

/// Ask instance `name` for one token.
pub async fn acquire(env: &Env, name: &str, req: &AcquireRequest) -> Result<Admission> {
    let mut resp = call(env, name, "/acquire", &serde_json::to_string(req)?).await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "rate limiter answered {}",
            resp.status_code()
        )));
    }
    resp.json().await
}

/// Tell the upstream instance how a call ended. Returns whether this report opened the circuit breaker
/// (it was closed or half-open, and is open now): the caller raises the alert.
pub async fn report(env: &Env, cfg: &Config, outcome: CallOutcome) -> Result<bool> {
    let breaker = upstream_policy(cfg)
        .breaker
        .ok_or_else(|| worker::Error::RustError("no breaker".into()))?;
    let body = serde_json::to_string(&ReportRequest { outcome, breaker })?;
    let mut resp = call(env, UPSTREAM, "/report", &body).await?;
    #[derive(Deserialize)]
    struct Reported {
        #[serde(default)]
        opened: bool,
    }
    match resp.status_code() {
        200 => Ok(resp.json::<Reported>().await?.opened),
        s => Err(worker::Error::RustError(format!("rate limiter answered {s}"))),
    }
}

/// The upstream circuit breaker as the `pve_upstream_circuit_state` gauge: 0 closed, 1 half-open, 2 open.
pub async fn circuit_state(env: &Env) -> Result<f64> {
    #[derive(Deserialize)]
    struct State {
        circuit: f64,
    }
    let mut resp = call(env, UPSTREAM, "/state", "{}").await?;
    Ok(resp.json::<State>().await?.circuit)
}

async fn call(env: &Env, name: &str, path: &str, body: &str) -> Result<Response> {
    let stub = env.durable_object(RATE_LIMITER)?.id_from_name(name)?.get_stub()?;
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    stub.fetch_with_request(Request::new_with_init(
        &format!("https://rate-limiter{path}"),
        &init,
    )?)
    .await
}

#[derive(Debug, Default)]
struct Limiter {
    bucket: Option<TokenBucket>,
    hold_until: u64,
    breaker: Breaker,
}

impl Limiter {
    fn acquire(&mut self, now: u64, req: &AcquireRequest) -> Admission {
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

    fn report(&mut self, now: u64, report: &ReportRequest) {
        match report.outcome {
            CallOutcome::Success => self.breaker.record(now, true, report.breaker),
            CallOutcome::Failure => self.breaker.record(now, false, report.breaker),
            CallOutcome::Throttled { retry_after_ms } => {
                self.hold_until = self.hold_until.max(now + retry_after_ms);
            }
        }
    }
}

#[durable_object]
pub struct RateLimiter {
    limiter: RefCell<Limiter>,
}

impl DurableObject for RateLimiter {
    fn new(_state: State, _env: Env) -> Self {
        RateLimiter {
            limiter: RefCell::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let now = now_ms();
        match req.path().as_str() {
            "/acquire" => {
                let acquire: AcquireRequest = req.json().await?;
                let admission = self.limiter.borrow_mut().acquire(now, &acquire);
                Response::from_json(&admission)
            }
            "/report" => {
                let report: ReportRequest = req.json().await?;
                let is_open = |b: &Breaker| matches!(b, Breaker::Open { .. });
                let was_open = is_open(&self.limiter.borrow().breaker);
                self.limiter.borrow_mut().report(now, &report);
                let breaker = self.limiter.borrow().breaker;
                Response::from_json(
                    &serde_json::json!({"breaker": breaker, "opened": !was_open && is_open(&breaker)}),
                )
            }
            "/state" => {
                let limiter = self.limiter.borrow();
                let circuit = match limiter.breaker {
                    Breaker::Closed { .. } => 0,
                    Breaker::Open { until } if now < until => 2,
                    Breaker::Open { .. } | Breaker::HalfOpen { .. } => 1,
                };
                Response::from_json(&serde_json::json!({
                    "circuit": circuit,
                    "breaker": limiter.breaker,
                    "hold_until": limiter.hold_until,
                }))
            }
            _ => Response::error("no such durable object route", 404),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            &ReportRequest {
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
}
