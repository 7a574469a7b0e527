//! The task context: every request, cron run and Durable Object call runs inside one, and ends with
//! exactly one structured JSON log line — written by `finish`, or by its `Drop` on any other path (an
//! early `?`). The line, the once-guard and the fields are [`pve_edge::task::TaskLog`]; this module is
//! the platform side: the clock, the console and request ids.
use pve_edge::task::Sink;
pub use pve_edge::task::{failure, Level, Outcome};
use worker::{console_error, console_log, console_warn, Date};

/// The Workers console and clock.
#[derive(Debug, Default)]
pub struct Console;

impl Sink for Console {
    fn now_ms(&self) -> u64 {
        now_ms()
    }

    fn write(&self, level: Level, line: &str) {
        match level {
            Level::Info => console_log!("{line}"),
            Level::Warn => console_warn!("{line}"),
            Level::Error => console_error!("{line}"),
        }
    }
}

pub type TaskContext = pve_edge::task::TaskLog<Console>;

/// A context for a request: the id is the `cf-ray` header when usable
/// ([`pve_edge::task::request_id_from`]), else freshly generated.
pub fn for_request(req: &worker::Request, domain: &'static str, task: &'static str) -> TaskContext {
    let cf_ray = req.headers().get("cf-ray").ok().flatten();
    let id = pve_edge::task::request_id_from(cf_ray.as_deref())
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    TaskContext::new(id, domain, task)
}

/// Write one line of work that has no task of its own (e.g. [`pve_edge::task::failure`]) at `level`.
pub fn log(level: Level, line: &serde_json::Value) {
    Console.write(level, &line.to_string());
}

/// A task of work that no request owns (a background refresh, a cron run, a leader's load) about `key`,
/// with a fresh request id.
pub fn background(domain: &'static str, task: &'static str, key: impl Into<String>) -> TaskContext {
    let context = TaskContext::new(new_request_id(), domain, task);
    context.set_key(key);
    context
}

pub fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// 128 random bits as hex, from the platform's CSPRNG.
pub fn new_request_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        // The platform always has crypto.getRandomValues; if it ever fails, a time-based id still
        // keeps log lines apart.
        return format!("t{:x}", now_ms());
    }
    pve_edge::hash::hex(&bytes)
}
