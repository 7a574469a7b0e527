//! `GET /healthz`'s answer: each platform check's result, the status they add up to, and the record the
//! cron run leaves for it. The Worker does the probes (a KV round trip, a Durable Object ping, D1's
//! migrations) and passes their results here.
use serde::Serialize;
use serde_json::{json, Value};

/// The KV key of the last cron run's record.
pub const LAST_CRON_KEY: &str = "meta:last_cron";
/// How long the record is kept (a week).
pub const LAST_CRON_TTL_S: u64 = 7 * 24 * 3600;
/// The prefix of the KV keys the probe writes and reads back, one key per probe.
pub const PROBE_KEY_PREFIX: &str = "meta:healthz_probe:";
/// The probe's TTL: KV's minimum.
pub const PROBE_TTL_S: u64 = 60;

/// One check's result as the answer shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Check {
    pub fn of<E: std::fmt::Display>(result: Result<Value, E>) -> Check {
        match result {
            Ok(detail) => Check {
                ok: true,
                detail: Some(detail),
                error: None,
            },
            Err(e) => Check {
                ok: false,
                detail: None,
                error: Some(e.to_string()),
            },
        }
    }
}

/// What the checks found.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub kv: Check,
    pub durable_object: Check,
    pub d1: Check,
    /// The last cron run's record; `Err` when it could not be read (reported as such, never as "the
    /// cron never ran", which is `Ok(None)`).
    pub last_cron: Result<Option<Value>, String>,
    pub upstream_base_url: Option<String>,
}

impl Health {
    /// 200 when every check passed, else 503 (`degraded`).
    pub fn status(&self) -> u16 {
        if self.kv.ok && self.durable_object.ok && self.d1.ok {
            200
        } else {
            503
        }
    }

    pub fn body(&self, engine_version: &str) -> Value {
        let last_cron = match &self.last_cron {
            Ok(v) => v.clone(),
            Err(e) => Some(json!({"error": e})),
        };
        json!({
            "status": if self.status() == 200 { "ok" } else { "degraded" },
            "engine_version": engine_version,
            "checks": {"kv": self.kv, "durable_object": self.durable_object, "d1": self.d1},
            "last_cron": last_cron,
            "upstream_base_url": self.upstream_base_url,
        })
    }
}

/// The key of one probe: its own (`nonce`: the request's random id), never a shared one. Workers KV allows
/// one write per second to the same key (<https://developers.cloudflare.com/kv/platform/limits>), so a
/// shared key fails the check of every health request beyond the first in a second; and two concurrent
/// probes of one key can each read back the other's value and report a mismatch that is not a failure.
pub fn probe_key(nonce: &str) -> String {
    format!("{PROBE_KEY_PREFIX}{nonce}")
}

/// The KV probe: what was read back must be what was written.
///
/// # Errors
/// The mismatch, in words.
pub fn kv_round_trip(written: &str, read: Option<&str>) -> Result<Value, String> {
    if read == Some(written) {
        Ok(json!({"round_trip": true}))
    } else {
        Err(format!("KV read back {read:?}, wrote {written:?}"))
    }
}

/// The Durable Object probe: the object answers `{"pong": true}`.
///
/// # Errors
/// Any other answer.
pub fn pong(answer: Value) -> Result<Value, String> {
    if answer.get("pong") == Some(&Value::Bool(true)) {
        Ok(answer)
    } else {
        Err(format!("unexpected DO answer {answer}"))
    }
}

/// The record a cron run leaves ([`LAST_CRON_KEY`]).
pub fn cron_record(cron: &str, scheduled_ms: f64, now_ms: u64) -> Value {
    json!({"cron": cron, "scheduled_time_ms": scheduled_ms, "ran_at_ms": now_ms})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(kv: bool, last_cron: Result<Option<Value>, String>) -> Health {
        let check = |ok| Check::of(if ok { Ok(json!({})) } else { Err("down") });
        Health {
            kv: check(kv),
            durable_object: check(true),
            d1: check(true),
            last_cron,
            upstream_base_url: Some("http://u".into()),
        }
    }

    #[test]
    fn every_check_must_pass_for_ok() {
        let ok = health(true, Ok(None));
        assert_eq!(ok.status(), 200);
        let body = ok.body("e1");
        assert_eq!(body["status"], "ok");
        assert_eq!(body["last_cron"], Value::Null);
        assert_eq!(body["checks"]["kv"], json!({"ok": true, "detail": {}}));
        let degraded = health(false, Ok(None));
        assert_eq!(degraded.status(), 503);
        assert_eq!(degraded.body("e1")["status"], "degraded");
        assert_eq!(
            degraded.body("e1")["checks"]["kv"],
            json!({"ok": false, "error": "down"})
        );
    }

    #[test]
    fn an_unreadable_cron_record_is_an_error_not_never_ran() {
        let body = health(true, Err("kv down".into())).body("e1");
        assert_eq!(body["last_cron"], json!({"error": "kv down"}));
    }

    #[test]
    fn probes() {
        assert!(kv_round_trip("1", Some("1")).is_ok());
        assert_eq!(
            kv_round_trip("1", None).unwrap_err(),
            "KV read back None, wrote \"1\""
        );
        assert!(pong(json!({"pong": true})).is_ok());
        assert!(pong(json!({"pong": 1})).is_err());
        assert_eq!(cron_record("* * * * *", 5.0, 6)["ran_at_ms"], 6);
    }

    #[test]
    fn each_probe_writes_its_own_key() {
        let (a, b) = (probe_key("0a1b"), probe_key("2c3d"));
        assert_ne!(a, b);
        assert_eq!(a, "meta:healthz_probe:0a1b");
    }
}
