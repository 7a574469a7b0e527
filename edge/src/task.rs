//! The task log: every request, cron run and Durable Object call owns one [`TaskLog`] and ends with
//! **exactly one** structured JSON line (`request_id, domain, task, key, outcome, error_code, status,
//! duration_ms, cache_tier` and recorded extras). [`TaskLog::finish`] writes it and consumes the log, so
//! it cannot be written twice; if the log is dropped unfinished — an early `?`, a forgotten branch — its
//! `Drop` writes the line instead, as an error with code `internal` and detail [`UNFINISHED`], so no path
//! is silent and none writes two lines.
//!
//! Pure: the clock and the console are a [`Sink`] the Worker supplies. Secrets and tokens are never
//! fields of it.
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};

/// The detail of a line written by `Drop` (a task that returned without calling [`TaskLog::finish`]).
pub const UNFINISHED: &str = "bug: the task ended without recording its outcome (an early return)";

/// Where lines go and what time it is.
pub trait Sink {
    fn now_ms(&self) -> u64;
    fn write(&self, level: Level, line: &str);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    /// An explicit refusal ([`Outcome::Refused`]): worth seeing, not a failure of ours.
    Warn,
    Error,
}

/// How a task ended, for the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<'a> {
    Ok,
    /// Ended with an error; `code` is the stable error code, `detail` the internal cause (logged only).
    Error {
        code: &'a str,
        detail: String,
    },
    /// The task did what it could and was refused for a reason that is not ours (the engine refused a
    /// character's equipment): `outcome: "refused"`, with its code and detail, at warning level.
    Refused {
        code: &'a str,
        detail: String,
    },
}

impl Outcome<'static> {
    /// The outcome of a task that failed with `e`: its stable code, and its internal detail for the log.
    pub fn of(e: &crate::error::EdgeError) -> Outcome<'static> {
        Outcome::Error {
            code: e.code(),
            detail: e.to_string(),
        }
    }
}

/// The longest request id taken from a header (`cf-ray`).
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// A request's id from its `cf-ray` header, when that is usable (non-empty, at most
/// [`MAX_REQUEST_ID_LEN`] bytes); otherwise the caller draws a fresh one.
pub fn request_id_from(cf_ray: Option<&str>) -> Option<&str> {
    cf_ray.filter(|v| !v.is_empty() && v.len() <= MAX_REQUEST_ID_LEN)
}

#[derive(Debug, Default)]
struct Fields {
    key: Option<String>,
    cache_tier: Option<&'static str>,
    cache_status: Option<String>,
    extra: Map<String, Value>,
}

#[derive(Debug)]
pub struct TaskLog<S: Sink> {
    pub request_id: String,
    pub domain: &'static str,
    pub task: &'static str,
    started_ms: u64,
    fields: RefCell<Fields>,
    written: Cell<bool>,
    sink: S,
}

impl<S: Sink + Default> TaskLog<S> {
    pub fn new(request_id: String, domain: &'static str, task: &'static str) -> Self {
        TaskLog::with_sink(request_id, domain, task, S::default())
    }
}

impl<S: Sink> TaskLog<S> {
    pub fn with_sink(request_id: String, domain: &'static str, task: &'static str, sink: S) -> Self {
        TaskLog {
            request_id,
            domain,
            task,
            started_ms: sink.now_ms(),
            fields: RefCell::default(),
            written: Cell::new(false),
            sink,
        }
    }

    pub fn set_task(&mut self, domain: &'static str, task: &'static str) {
        self.domain = domain;
        self.task = task;
    }

    pub fn set_key(&self, key: impl Into<String>) {
        self.fields.borrow_mut().key = Some(key.into());
    }

    /// Which cache tier answered (for the log line) and the `Cache-Status` value to send, also on errors
    /// (a cached "not found" is still an answer from a tier).
    pub fn set_cache(&self, tier: &'static str, cache_status: String) {
        let mut fields = self.fields.borrow_mut();
        fields.cache_tier = Some(tier);
        fields.cache_status = Some(cache_status);
    }

    pub fn cache_status(&self) -> Option<String> {
        self.fields.borrow().cache_status.clone()
    }

    /// Attach one more field to the log line (never a secret).
    pub fn record(&self, name: &str, value: impl Into<Value>) {
        self.fields
            .borrow_mut()
            .extra
            .insert(name.to_owned(), value.into());
    }

    /// Record `value` serialized as field `name`; were it not to serialize, the error is recorded as
    /// `{name}_report_error` instead (never a silent null).
    pub fn record_json(&self, name: &str, value: &impl serde::Serialize) {
        match serde_json::to_value(value) {
            Ok(v) => self.record(name, v),
            Err(e) => self.record(&format!("{name}_report_error"), e.to_string()),
        }
    }

    /// Record how one step of this task ended: its value as `name` ([`TaskLog::record_json`]), or its
    /// error as `error_name` (`"{code}: {error}"`); the task goes on either way.
    pub fn record_result<T: serde::Serialize>(
        &self,
        name: &str,
        error_name: &str,
        result: &Result<T, crate::error::EdgeError>,
    ) {
        match result {
            Ok(v) => self.record_json(name, v),
            Err(e) => self.record(error_name, format!("{}: {e}", e.code())),
        }
    }

    pub fn elapsed_ms(&self) -> u64 {
        self.sink.now_ms().saturating_sub(self.started_ms)
    }

    /// [`TaskLog::finish`] with the outcome of `result` ([`Outcome::of`] for an error).
    pub fn finish_result<T>(self, result: &Result<T, crate::error::EdgeError>, status: Option<u16>) {
        match result {
            Ok(_) => self.finish(Outcome::Ok, status),
            Err(e) => self.finish(Outcome::of(e), status),
        }
    }

    /// Write the single log line of this task. Consumes the log so it cannot be written twice.
    pub fn finish(self, outcome: Outcome<'_>, status: Option<u16>) {
        self.write_once(outcome, status);
    }

    fn write_once(&self, outcome: Outcome<'_>, status: Option<u16>) {
        if self.written.replace(true) {
            return;
        }
        let fields = std::mem::take(&mut *self.fields.borrow_mut());
        let level = match outcome {
            Outcome::Ok => Level::Info,
            Outcome::Refused { .. } => Level::Warn,
            Outcome::Error { .. } => Level::Error,
        };
        let text = line(self, fields, &outcome, status).to_string();
        self.sink.write(level, &text);
    }
}

impl<S: Sink> Drop for TaskLog<S> {
    fn drop(&mut self) {
        self.write_once(
            Outcome::Error {
                code: "internal",
                detail: UNFINISHED.to_owned(),
            },
            None,
        );
    }
}

/// The line of work that has no task of its own and failed (a metrics flush after the response, a gauge
/// read, a backlog check): `{"domain","task","outcome":"error","error_detail"}`; callers may add fields
/// (`line["error_code"] = …`) before writing it at error level.
pub fn failure(domain: &str, task: &str, detail: impl std::fmt::Display) -> Value {
    serde_json::json!({"domain": domain, "task": task, "outcome": "error", "error_detail": detail.to_string()})
}

/// The JSON line of a task.
fn line<S: Sink>(task: &TaskLog<S>, fields: Fields, outcome: &Outcome<'_>, status: Option<u16>) -> Value {
    let mut line = Map::new();
    line.insert("request_id".into(), task.request_id.clone().into());
    line.insert("domain".into(), task.domain.into());
    line.insert("task".into(), task.task.into());
    line.insert("key".into(), fields.key.into());
    let (outcome_str, code, detail) = match outcome {
        Outcome::Ok => ("ok", None, None),
        Outcome::Error { code, detail } => ("error", Some(*code), Some(detail.clone())),
        Outcome::Refused { code, detail } => ("refused", Some(*code), Some(detail.clone())),
    };
    line.insert("outcome".into(), outcome_str.into());
    line.insert("error_code".into(), code.into());
    if let Some(detail) = detail {
        line.insert("error_detail".into(), detail.into());
    }
    if let Some(status) = status {
        line.insert("status".into(), status.into());
    }
    line.insert("duration_ms".into(), task.elapsed_ms().into());
    line.insert("cache_tier".into(), fields.cache_tier.into());
    for (k, v) in fields.extra {
        line.insert(k, v);
    }
    Value::Object(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn steps_are_recorded_as_their_value_or_their_error() {
        let rec = Recorder::default();
        let task = TaskLog::with_sink("r".into(), "cron", "scheduled", rec.clone());
        task.record_result("purged", "purge_error", &Ok::<u64, crate::error::EdgeError>(3));
        task.record_result::<u64>(
            "sweep",
            "sweep_error",
            &Err(crate::error::EdgeError::WatchNotFound),
        );
        task.record_json("report", &serde_json::json!({"n": 1}));
        task.finish(Outcome::Ok, None);
        let lines = rec.lines.borrow();
        let line = &lines[0].1;
        assert_eq!(line["purged"], 3);
        assert_eq!(
            line["sweep_error"],
            format!("watch_not_found: {}", crate::error::EdgeError::WatchNotFound)
        );
        assert_eq!(line["report"]["n"], 1);
        assert!(line.get("sweep").is_none());
    }

    #[test]
    fn a_failure_line_names_its_work_and_takes_more_fields() {
        let mut line = failure("metrics", "flush", "object gone");
        assert_eq!(
            line.to_string(),
            r#"{"domain":"metrics","error_detail":"object gone","outcome":"error","task":"flush"}"#
        );
        line["error_code"] = "platform".into();
        assert_eq!(line["error_code"], "platform");
    }

    /// A console that keeps what it is given, and a clock that moves 5 ms per reading.
    #[derive(Default, Clone)]
    struct Recorder {
        lines: Rc<RefCell<Vec<(Level, Value)>>>,
        clock: Rc<Cell<u64>>,
    }

    impl Sink for Recorder {
        fn now_ms(&self) -> u64 {
            self.clock.set(self.clock.get() + 5);
            self.clock.get()
        }
        fn write(&self, level: Level, line: &str) {
            self.lines
                .borrow_mut()
                .push((level, serde_json::from_str(line).unwrap()));
        }
    }

    fn task(rec: &Recorder) -> TaskLog<Recorder> {
        TaskLog::with_sink("req_1".into(), "http", "unrouted", rec.clone())
    }

    #[test]
    fn finish_writes_one_line_with_every_field() {
        let rec = Recorder::default();
        let mut t = task(&rec);
        t.set_task("engine", "starforce");
        t.set_key("k");
        t.set_cache("l1", "pve; hit".into());
        t.record("role", "leader");
        assert_eq!(t.cache_status().as_deref(), Some("pve; hit"));
        t.finish(Outcome::Ok, Some(200));
        let lines = rec.lines.borrow();
        assert_eq!(lines.len(), 1);
        let (level, v) = &lines[0];
        assert_eq!(*level, Level::Info);
        assert_eq!(
            *v,
            serde_json::json!({
                "request_id": "req_1", "domain": "engine", "task": "starforce", "key": "k", "outcome": "ok",
                "error_code": null, "status": 200, "duration_ms": 5, "cache_tier": "l1", "role": "leader"
            })
        );
    }

    #[test]
    fn an_error_outcome_is_an_error_line_with_its_detail() {
        let rec = Recorder::default();
        task(&rec).finish(
            Outcome::Error {
                code: "watch_not_found",
                detail: "no row".into(),
            },
            Some(404),
        );
        let lines = rec.lines.borrow();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].0, Level::Error);
        assert_eq!(lines[0].1["error_code"], "watch_not_found");
        assert_eq!(lines[0].1["error_detail"], "no row");
        assert_eq!(lines[0].1["status"], 404);
    }

    #[test]
    fn a_refused_outcome_is_a_warning_line_with_its_code() {
        let rec = Recorder::default();
        task(&rec).finish(
            Outcome::Refused {
                code: "valuation_failed",
                detail: "the engine refused".into(),
            },
            None,
        );
        let lines = rec.lines.borrow();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].0, Level::Warn);
        assert_eq!(lines[0].1["outcome"], "refused");
        assert_eq!(lines[0].1["error_code"], "valuation_failed");
        assert_eq!(lines[0].1["error_detail"], "the engine refused");
    }

    #[test]
    fn finish_result_writes_the_error_code_or_ok() {
        let rec = Recorder::default();
        task(&rec).finish_result(
            &Err::<(), _>(crate::error::EdgeError::DeadLetterNotFound),
            Some(404),
        );
        task(&rec).finish_result(&Ok::<_, crate::error::EdgeError>(1), None);
        let lines = rec.lines.borrow();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].0, Level::Error);
        assert_eq!(lines[0].1["error_code"], "dead_letter_not_found");
        assert_eq!(lines[0].1["error_detail"], "no such dead letter");
        assert_eq!(lines[1].1["outcome"], "ok");
    }

    #[test]
    fn request_ids_from_cf_ray() {
        assert_eq!(
            request_id_from(Some("8f1a2b3c4d5e6f70-ICN")),
            Some("8f1a2b3c4d5e6f70-ICN")
        );
        assert_eq!(request_id_from(Some("")), None);
        assert_eq!(request_id_from(None), None);
        assert_eq!(request_id_from(Some(&"a".repeat(65))), None);
        assert!(request_id_from(Some(&"a".repeat(64))).is_some());
    }

    fn parse(fail: bool) -> Result<u32, String> {
        if fail {
            Err("bad body".into())
        } else {
            Ok(1)
        }
    }

    /// A handler in the shape of the Durable Objects': an early `?` before `finish`.
    fn handler(rec: &Recorder, fail: bool) -> Result<u32, String> {
        let t = task(rec);
        t.set_key("early");
        let n = parse(fail)?;
        t.finish(Outcome::Ok, Some(200));
        Ok(n)
    }

    #[test]
    fn an_early_return_still_writes_exactly_one_line() {
        let rec = Recorder::default();
        assert!(handler(&rec, true).is_err());
        {
            let lines = rec.lines.borrow();
            assert_eq!(lines.len(), 1);
            assert_eq!(lines[0].0, Level::Error);
            assert_eq!(lines[0].1["outcome"], "error");
            assert_eq!(lines[0].1["error_code"], "internal");
            assert_eq!(lines[0].1["error_detail"], UNFINISHED);
            assert_eq!(
                lines[0].1["key"], "early",
                "fields recorded before the return are kept"
            );
        }
        assert_eq!(handler(&rec, false), Ok(1));
        let lines = rec.lines.borrow();
        assert_eq!(lines.len(), 2, "the finished path writes one line, not two");
        assert_eq!(lines[1].1["outcome"], "ok");
    }

    #[test]
    fn every_path_of_many_writes_exactly_one_line() {
        for path in 0..4 {
            let rec = Recorder::default();
            let t = task(&rec);
            match path {
                0 => t.finish(Outcome::Ok, None),
                1 => drop(t),
                2 => {
                    let moved = t;
                    moved.finish(Outcome::Ok, Some(204));
                }
                _ => std::mem::drop(Some(t)),
            }
            assert_eq!(rec.lines.borrow().len(), 1, "path {path}");
        }
    }
}
