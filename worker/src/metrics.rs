//! Prometheus metrics across isolates.
//!
//! Each isolate records counters and histograms in memory ([`inc`], [`observe`]); [`flush`] sends the
//! accumulated *deltas* to the `Metrics` Durable Object (one instance for the deployment), which sums
//! them and renders Prometheus text format 0.0.4 for `GET /metrics`. Deltas make flushing idempotent
//! with respect to isolate restarts: an isolate that dies loses at most its unflushed second.
//!
//! Every metric is declared once in [`CATALOGUE`] (name, type, help, buckets), so the exposition lists
//! every family even before it moves, and names cannot drift between the code and `ops/`.
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Histogram,
    Gauge,
}

pub struct Def {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub buckets: &'static [f64],
}

const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const ENGINE_BUCKETS: &[f64] = &[0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0];

macro_rules! defs {
    ($($id:ident = $name:literal, $kind:ident, $buckets:expr, $help:literal;)*) => {
        $(pub const $id: &Def = &Def { name: $name, kind: Kind::$kind, help: $help, buckets: $buckets };)*
        /// Every metric family this service exposes.
        pub const CATALOGUE: &[&Def] = &[$($id),*];
    };
}

defs! {
    HTTP_REQUESTS = "pve_http_requests_total", Counter, &[], "HTTP requests by route and status.";
    HTTP_DURATION = "pve_http_request_duration_seconds", Histogram, LATENCY_BUCKETS, "HTTP request latency by route.";
    CACHE_ANSWERS = "pve_cache_answers_total", Counter, &[], "Cacheable answers by the tier that served them (l1, l2, origin, stale).";
    UPSTREAM_CALLS = "pve_upstream_requests_total", Counter, &[], "Calls to the Nexon Open API by path and outcome.";
    UPSTREAM_429 = "pve_upstream_rate_limited_total", Counter, &[], "Upstream answers with status 429.";
    UPSTREAM_ERRORS = "pve_upstream_errors_total", Counter, &[], "Upstream calls that failed (5xx, timeout, network).";
    CIRCUIT_STATE = "pve_upstream_circuit_state", Gauge, &[], "Upstream circuit breaker state (0 closed, 1 half-open, 2 open).";
    COALESCED = "pve_singleflight_coalesced_waiters_total", Counter, &[], "Requests that waited on another request's in-flight load.";
    RATE_LIMITED = "pve_rate_limit_rejections_total", Counter, &[], "Requests rejected by a rate limit, by scope.";
    OUTBOX_EVENTS = "pve_outbox_events", Gauge, &[], "Outbox events by status (pending, leased, dead).";
    OUTBOX_DELIVERIES = "pve_outbox_deliveries_total", Counter, &[], "Outbox deliveries by outcome.";
    OUTBOX_ATTEMPTS = "pve_outbox_delivery_attempts_total", Counter, &[], "Outbox delivery attempts.";
    ENGINE_SECONDS = "pve_engine_compute_seconds", Histogram, ENGINE_BUCKETS, "Engine compute time by operation (Workers freeze the clock during CPU work in production; see RUNBOOK).";
}

/// One series: family name plus sorted labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    pub name: String,
    pub labels: Vec<(String, String)>,
}

impl SeriesKey {
    fn new(def: &Def, labels: &[(&str, &str)]) -> Self {
        let mut labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        labels.sort();
        SeriesKey {
            name: def.name.to_owned(),
            labels,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Non-cumulative counts per bucket of the family's bounds, plus one for +Inf.
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

/// Deltas (in an isolate) or totals (in the aggregator).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub counters: BTreeMap<String, (SeriesKey, f64)>,
    pub histograms: BTreeMap<String, (SeriesKey, Histogram)>,
}

impl Snapshot {
    pub fn is_empty(&self) -> bool {
        self.counters.is_empty() && self.histograms.is_empty()
    }

    pub fn merge(&mut self, other: Snapshot) {
        for (id, (key, v)) in other.counters {
            self.counters.entry(id).or_insert((key, 0.0)).1 += v;
        }
        for (id, (key, h)) in other.histograms {
            let slot = &mut self.histograms.entry(id).or_insert((key, Histogram::default())).1;
            if slot.counts.len() < h.counts.len() {
                slot.counts.resize(h.counts.len(), 0);
            }
            for (i, c) in h.counts.iter().enumerate() {
                slot.counts[i] += c;
            }
            slot.sum += h.sum;
            slot.count += h.count;
        }
    }
}

thread_local! {
    static LOCAL: RefCell<(Snapshot, u64)> = RefCell::new((Snapshot::default(), 0));
}

fn series_id(key: &SeriesKey) -> String {
    let mut s = key.name.clone();
    for (k, v) in &key.labels {
        s.push('|');
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// Add `by` to a counter series.
pub fn inc_by(def: &'static Def, labels: &[(&str, &str)], by: f64) {
    debug_assert_eq!(def.kind, Kind::Counter);
    let key = SeriesKey::new(def, labels);
    LOCAL.with(|l| {
        l.borrow_mut()
            .0
            .counters
            .entry(series_id(&key))
            .or_insert((key, 0.0))
            .1 += by;
    });
}

pub fn inc(def: &'static Def, labels: &[(&str, &str)]) {
    inc_by(def, labels, 1.0);
}

/// Record one observation (in the family's base unit) in a histogram series.
pub fn observe(def: &'static Def, labels: &[(&str, &str)], value: f64) {
    debug_assert_eq!(def.kind, Kind::Histogram);
    let key = SeriesKey::new(def, labels);
    let bucket = def
        .buckets
        .iter()
        .position(|b| value <= *b)
        .unwrap_or(def.buckets.len());
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        let h = &mut l
            .0
            .histograms
            .entry(series_id(&key))
            .or_insert((key, Histogram::default()))
            .1;
        if h.counts.is_empty() {
            h.counts = vec![0; def.buckets.len() + 1];
        }
        h.counts[bucket] += 1;
        h.sum += value;
        h.count += 1;
    });
}

/// Take this isolate's deltas if at least `min_interval_ms` passed since the last take (or `force`).
pub fn take_deltas(now_ms: u64, min_interval_ms: u64, force: bool) -> Option<Snapshot> {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        if l.0.is_empty() || (!force && now_ms.saturating_sub(l.1) < min_interval_ms) {
            return None;
        }
        l.1 = now_ms;
        Some(std::mem::take(&mut l.0))
    })
}

/// Put deltas back after a failed flush, so they are sent with the next one.
pub fn restore(deltas: Snapshot) {
    LOCAL.with(|l| l.borrow_mut().0.merge(deltas));
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn labels_text(labels: &[(String, String)], extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

fn fmt_value(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A point-in-time gauge reading, taken at scrape time.
pub struct GaugeValue {
    pub def: &'static Def,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// Render totals plus point-in-time gauges in Prometheus text format 0.0.4.
pub fn render(totals: &Snapshot, gauges: &[GaugeValue]) -> String {
    let mut out = String::new();
    for def in CATALOGUE {
        let kind = match def.kind {
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
            Kind::Gauge => "gauge",
        };
        out.push_str(&format!(
            "# HELP {} {}\n# TYPE {} {}\n",
            def.name, def.help, def.name, kind
        ));
        match def.kind {
            Kind::Counter => {
                for (key, v) in totals.counters.values().filter(|(k, _)| k.name == def.name) {
                    out.push_str(&format!(
                        "{}{} {}\n",
                        def.name,
                        labels_text(&key.labels, None),
                        fmt_value(*v)
                    ));
                }
            }
            Kind::Histogram => {
                for (key, h) in totals.histograms.values().filter(|(k, _)| k.name == def.name) {
                    let mut cumulative = 0u64;
                    for (i, bound) in def
                        .buckets
                        .iter()
                        .chain(std::iter::once(&f64::INFINITY))
                        .enumerate()
                    {
                        cumulative += h.counts.get(i).copied().unwrap_or(0);
                        let le = Some(("le", fmt_value(*bound)));
                        out.push_str(&format!(
                            "{}_bucket{} {}\n",
                            def.name,
                            labels_text(&key.labels, le),
                            cumulative
                        ));
                    }
                    let l = labels_text(&key.labels, None);
                    out.push_str(&format!("{}_sum{} {}\n", def.name, l, fmt_value(h.sum)));
                    out.push_str(&format!("{}_count{} {}\n", def.name, l, h.count));
                }
            }
            Kind::Gauge => {
                for g in gauges.iter().filter(|g| g.def.name == def.name) {
                    let labels = labels_text(&g.labels, None);
                    out.push_str(&format!("{}{} {}\n", def.name, labels, fmt_value(g.value)));
                }
            }
        }
    }
    out
}
