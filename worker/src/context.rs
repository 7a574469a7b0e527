//! The task context: every request, cron run and Durable Object call runs inside one, and ends with
//! exactly one structured JSON log line (`request_id, domain, task, key, outcome, error_code,
//! duration_ms, cache_tier`). Handlers return `Result` and use `?`; the context, not try/catch boilerplate,
//! turns the outcome into the log line. Secrets and tokens are never fields of it.
use std::cell::RefCell;
use worker::{console_error, console_log, Date};

#[derive(Debug, Default)]
struct Fields {
    key: Option<String>,
    cache_tier: Option<&'static str>,
    cache_status: Option<String>,
    extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug)]
pub struct TaskContext {
    pub request_id: String,
    pub domain: &'static str,
    pub task: &'static str,
    started_ms: u64,
    fields: RefCell<Fields>,
}

/// How a task ended, for the log line.
pub enum Outcome<'a> {
    Ok,
    /// Ended with an error; `code` is the stable error code, `detail` the internal cause (logged only).
    Error {
        code: &'a str,
        detail: String,
    },
}

impl TaskContext {
    pub fn new(request_id: String, domain: &'static str, task: &'static str) -> Self {
        TaskContext {
            request_id,
            domain,
            task,
            started_ms: now_ms(),
            fields: RefCell::default(),
        }
    }

    /// A context for a request: the id is the `cf-ray` header when present, else freshly generated.
    pub fn for_request(req: &worker::Request, domain: &'static str, task: &'static str) -> Self {
        let id = req
            .headers()
            .get("cf-ray")
            .ok()
            .flatten()
            .filter(|v| !v.is_empty() && v.len() <= 64)
            .unwrap_or_else(new_request_id);
        Self::new(id, domain, task)
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
    pub fn record(&self, name: &str, value: impl Into<serde_json::Value>) {
        self.fields
            .borrow_mut()
            .extra
            .insert(name.to_owned(), value.into());
    }

    pub fn elapsed_ms(&self) -> u64 {
        now_ms().saturating_sub(self.started_ms)
    }

    /// Write the single log line of this task. Consumes the context so it cannot be written twice.
    pub fn finish(self, outcome: Outcome<'_>, status: Option<u16>) {
        let fields = self.fields.into_inner();
        let mut line = serde_json::Map::new();
        line.insert("request_id".into(), self.request_id.into());
        line.insert("domain".into(), self.domain.into());
        line.insert("task".into(), self.task.into());
        line.insert("key".into(), fields.key.into());
        let (outcome_str, code, detail) = match &outcome {
            Outcome::Ok => ("ok", None, None),
            Outcome::Error { code, detail } => ("error", Some(*code), Some(detail.clone())),
        };
        line.insert("outcome".into(), outcome_str.into());
        line.insert("error_code".into(), code.into());
        if let Some(detail) = detail {
            line.insert("error_detail".into(), detail.into());
        }
        if let Some(status) = status {
            line.insert("status".into(), status.into());
        }
        line.insert(
            "duration_ms".into(),
            now_ms().saturating_sub(self.started_ms).into(),
        );
        line.insert("cache_tier".into(), fields.cache_tier.into());
        for (k, v) in fields.extra {
            line.insert(k, v);
        }
        let text = serde_json::Value::Object(line).to_string();
        match outcome {
            Outcome::Ok => console_log!("{text}"),
            Outcome::Error { .. } => console_error!("{text}"),
        }
    }
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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
