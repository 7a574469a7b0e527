//! Pure admission control: a token bucket and a circuit breaker. Time is passed in (milliseconds), so
//! both run unchanged in the `RateLimiter` Durable Object, in the per-isolate client limit and in tests.
use serde::{Deserialize, Serialize};

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

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
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
                    probe_until: now + policy.probe_ms,
                };
                true
            }
        }
    }

    pub fn record(&mut self, now: u64, success: bool, policy: BreakerPolicy) {
        *self = match (*self, success) {
            (_, true) => Breaker::Closed { failures: 0 },
            (Breaker::Closed { failures }, false) if failures + 1 < policy.failures => Breaker::Closed {
                failures: failures + 1,
            },
            (Breaker::Open { until }, false) => Breaker::Open { until },
            (_, false) => Breaker::Open {
                until: now + policy.open_ms,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
