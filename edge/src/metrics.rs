//! The metric catalogue, the series and histogram arithmetic, and the Prometheus text exposition
//! (format 0.0.4). Pure: the Worker keeps one [`Registry`] per isolate and passes the time in.
//!
//! Each isolate records counters and histograms in memory; it sends the accumulated *deltas* to the
//! `Metrics` Durable Object (one instance for the deployment), which [`Snapshot::merge`]s them and
//! [`render`]s `GET /metrics`. Deltas make flushing idempotent with respect to isolate restarts: an
//! isolate that dies loses at most its unflushed second.
//!
//! Every metric is declared once in [`CATALOGUE`] (name, type, help, buckets), so the exposition lists
//! every family even before it moves, and names cannot drift between the code and `ops/`.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Histogram,
    Gauge,
}

#[derive(Debug, PartialEq)]
pub struct Def {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub buckets: &'static [f64],
}

pub const LATENCY_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
pub const ENGINE_BUCKETS: &[f64] = &[0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0];

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
    pub fn new(def: &Def, labels: &[(&str, &str)]) -> Self {
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
    /// Add `by` to a counter series.
    pub fn inc_by(&mut self, def: &'static Def, labels: &[(&str, &str)], by: f64) {
        debug_assert_eq!(def.kind, Kind::Counter);
        let key = SeriesKey::new(def, labels);
        self.counters.entry(series_id(&key)).or_insert((key, 0.0)).1 += by;
    }

    /// Record one observation (in the family's base unit) in a histogram series.
    pub fn observe(&mut self, def: &'static Def, labels: &[(&str, &str)], value: f64) {
        debug_assert_eq!(def.kind, Kind::Histogram);
        let key = SeriesKey::new(def, labels);
        let bucket = def
            .buckets
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(def.buckets.len());
        let h = &mut self
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
    }

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

/// One isolate's deltas since its last flush.
#[derive(Debug, Default)]
pub struct Registry {
    deltas: Snapshot,
    last_take_ms: u64,
}

impl Registry {
    pub fn inc_by(&mut self, def: &'static Def, labels: &[(&str, &str)], by: f64) {
        self.deltas.inc_by(def, labels, by);
    }

    pub fn observe(&mut self, def: &'static Def, labels: &[(&str, &str)], value: f64) {
        self.deltas.observe(def, labels, value);
    }

    /// Take the deltas if there are any and at least `min_interval_ms` passed since the last take (or
    /// `force`).
    pub fn take_deltas(&mut self, now_ms: u64, min_interval_ms: u64, force: bool) -> Option<Snapshot> {
        if self.deltas.is_empty() || (!force && now_ms.saturating_sub(self.last_take_ms) < min_interval_ms) {
            return None;
        }
        self.last_take_ms = now_ms;
        Some(std::mem::take(&mut self.deltas))
    }

    /// Put deltas back after a failed flush, so they are sent with the next one.
    pub fn restore(&mut self, deltas: Snapshot) {
        self.deltas.merge(deltas);
    }
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
#[derive(Debug, Clone, PartialEq)]
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

/// The `pve_outbox_events` gauges from the outbox's `(status, count)` rows and the dead-letter count:
/// one series per status, 0 for a status with no row (a `GROUP BY` has no row for an empty group).
pub fn outbox_gauges(rows: &[(String, f64)], dead: f64) -> Vec<GaugeValue> {
    ["delivered", "leased", "pending"]
        .iter()
        .map(|s| GaugeValue {
            def: OUTBOX_EVENTS,
            labels: vec![("status".to_owned(), (*s).to_owned())],
            value: rows
                .iter()
                .find(|(status, _)| status == s)
                .map_or(0.0, |(_, n)| *n),
        })
        .chain(std::iter::once(GaugeValue {
            def: OUTBOX_EVENTS,
            labels: vec![("status".to_owned(), "dead".to_owned())],
            value: dead,
        }))
        .collect()
}

/// The `Metrics` Durable Object's answer to `method` `path` with `body`, over its `totals`:
/// `POST /ingest` merges an isolate's deltas (204; the second value says the totals changed and must be
/// stored before answering), `GET /totals` answers them; 404 for anything else.
///
/// # Errors
/// Deltas that do not read (our own Worker wrote them: a bug), with the reason.
pub fn serve_store(
    totals: &mut Snapshot,
    method: &str,
    path: &str,
    body: &str,
) -> Result<(crate::http::Reply, bool), String> {
    use crate::http::Reply;
    match (method, path) {
        ("POST", "/ingest") => {
            let deltas: Snapshot =
                serde_json::from_str(body).map_err(|e| format!("bug: unreadable deltas: {e}"))?;
            totals.merge(deltas);
            Ok((Reply::new(204, None), true))
        }
        ("GET", "/totals") => Ok((Reply::json(totals, 200).map_err(|e| e.to_string())?, false)),
        _ => Ok((Reply::text_error(404, "no such metrics route"), false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_merges_ingested_deltas_and_answers_its_totals() {
        let mut deltas = Registry::default();
        deltas.inc_by(
            HTTP_REQUESTS,
            &[("route", "healthz"), ("method", "GET"), ("status", "200")],
            2.0,
        );
        let deltas = deltas.take_deltas(0, 0, true).unwrap();
        let mut totals = Snapshot::default();
        let body = serde_json::to_string(&deltas).unwrap();
        for _ in 0..2 {
            let (reply, changed) = serve_store(&mut totals, "POST", "/ingest", &body).unwrap();
            assert_eq!((reply.status, reply.body, changed), (204, None, true));
        }
        let mut twice = deltas.clone();
        twice.merge(deltas);
        assert_eq!(totals, twice);
        let (reply, changed) = serve_store(&mut totals, "GET", "/totals", "").unwrap();
        assert_eq!((reply.status, changed), (200, false));
        assert_eq!(
            serde_json::from_slice::<Snapshot>(&reply.body.unwrap()).unwrap(),
            twice
        );
        assert_eq!(
            serve_store(&mut totals, "GET", "/ingest", "").unwrap().0.status,
            404
        );
        assert!(serve_store(&mut totals, "POST", "/ingest", "{").is_err());
    }
    use proptest::prelude::*;

    fn valid_name(n: &str) -> bool {
        let mut chars = n.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    /// The names are a contract with `ops/` (alert rules, dashboard): pinned here.
    #[test]
    fn the_catalogue_is_pinned_and_well_formed() {
        let names: Vec<&str> = CATALOGUE.iter().map(|d| d.name).collect();
        assert_eq!(
            names,
            [
                "pve_http_requests_total",
                "pve_http_request_duration_seconds",
                "pve_cache_answers_total",
                "pve_upstream_requests_total",
                "pve_upstream_rate_limited_total",
                "pve_upstream_errors_total",
                "pve_upstream_circuit_state",
                "pve_singleflight_coalesced_waiters_total",
                "pve_rate_limit_rejections_total",
                "pve_outbox_events",
                "pve_outbox_deliveries_total",
                "pve_outbox_delivery_attempts_total",
                "pve_engine_compute_seconds",
            ]
        );
        for d in CATALOGUE {
            assert!(valid_name(d.name), "{}", d.name);
            assert_eq!(d.kind == Kind::Counter, d.name.ends_with("_total"), "{}", d.name);
            assert_eq!(d.kind == Kind::Histogram, !d.buckets.is_empty(), "{}", d.name);
            assert!(
                d.buckets.windows(2).all(|w| w[0] < w[1]),
                "{} buckets ascend",
                d.name
            );
            assert!(!d.help.is_empty() && !d.help.contains('\n'));
        }
    }

    #[test]
    fn exposition_of_counters_histograms_and_gauges() {
        let mut s = Snapshot::default();
        s.inc_by(
            HTTP_REQUESTS,
            &[("status", "200"), ("route", "starforce"), ("method", "POST")],
            1.0,
        );
        s.inc_by(
            HTTP_REQUESTS,
            &[("method", "POST"), ("route", "starforce"), ("status", "200")],
            2.0,
        );
        s.observe(ENGINE_SECONDS, &[("op", "starforce")], 0.003);
        s.observe(ENGINE_SECONDS, &[("op", "starforce")], 7.0);
        s.inc_by(RATE_LIMITED, &[("scope", "a\"b\\c\nd")], 1.0);
        let gauges = [GaugeValue {
            def: CIRCUIT_STATE,
            labels: Vec::new(),
            value: 2.0,
        }];
        let text = render(&s, &gauges);
        let has = |line: &str| assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        has("# TYPE pve_http_requests_total counter");
        has(r#"pve_http_requests_total{method="POST",route="starforce",status="200"} 3"#);
        has("# TYPE pve_engine_compute_seconds histogram");
        has(r#"pve_engine_compute_seconds_bucket{op="starforce",le="0.001"} 0"#);
        has(r#"pve_engine_compute_seconds_bucket{op="starforce",le="0.005"} 1"#);
        has(r#"pve_engine_compute_seconds_bucket{op="starforce",le="1"} 1"#);
        has(r#"pve_engine_compute_seconds_bucket{op="starforce",le="+Inf"} 2"#);
        has(r#"pve_engine_compute_seconds_sum{op="starforce"} 7.003"#);
        has(r#"pve_engine_compute_seconds_count{op="starforce"} 2"#);
        has(r#"pve_rate_limit_rejections_total{scope="a\"b\\c\nd"} 1"#);
        has("pve_upstream_circuit_state 2");
        // Every family is announced, moved or not, with HELP before TYPE.
        for d in CATALOGUE {
            let help = text.find(&format!("# HELP {} ", d.name)).unwrap();
            let ty = text.find(&format!("# TYPE {} ", d.name)).unwrap();
            assert!(help < ty);
        }
    }

    #[test]
    fn deltas_are_taken_at_most_once_per_interval_and_restored_on_failure() {
        let mut r = Registry::default();
        assert_eq!(r.take_deltas(10_000, 1000, true), None, "nothing to take");
        r.inc_by(COALESCED, &[], 1.0);
        let d = r.take_deltas(10_000, 1000, false).unwrap();
        r.inc_by(COALESCED, &[], 1.0);
        assert_eq!(r.take_deltas(10_500, 1000, false), None, "too soon");
        r.restore(d);
        let d = r.take_deltas(10_500, 1000, true).unwrap();
        assert_eq!(d.counters.values().next().unwrap().1, 2.0);
        assert!(r.take_deltas(20_000, 1000, true).is_none());
    }

    #[test]
    fn outbox_gauges_name_every_status() {
        let g = outbox_gauges(&[("pending".into(), 3.0), ("delivered".into(), 9.0)], 1.0);
        let values: Vec<(&str, f64)> = g.iter().map(|g| (g.labels[0].1.as_str(), g.value)).collect();
        assert_eq!(
            values,
            [
                ("delivered", 9.0),
                ("leased", 0.0),
                ("pending", 3.0),
                ("dead", 1.0)
            ]
        );
    }

    proptest! {
        /// Merging deltas in any split gives the totals of recording everything in one place, and the
        /// rendered buckets are cumulative, ending in `count`.
        #[test]
        fn merged_deltas_equal_one_registry(obs in proptest::collection::vec(0.0f64..20.0, 0..60), split in 0usize..60) {
            let split = split.min(obs.len());
            let (mut whole, mut a, mut b) = (Snapshot::default(), Snapshot::default(), Snapshot::default());
            for (i, v) in obs.iter().enumerate() {
                whole.observe(HTTP_DURATION, &[("route", "r")], *v);
                if i < split { a.observe(HTTP_DURATION, &[("route", "r")], *v) } else { b.observe(HTTP_DURATION, &[("route", "r")], *v) }
            }
            a.merge(b);
            let (text_whole, text_merged) = (render(&whole, &[]), render(&a, &[]));
            let buckets = |t: &str| -> Vec<u64> {
                t.lines().filter(|l| l.starts_with("pve_http_request_duration_seconds_bucket"))
                    .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap()).collect()
            };
            prop_assert_eq!(buckets(&text_whole), buckets(&text_merged));
            let b = buckets(&text_whole);
            prop_assert!(b.windows(2).all(|w| w[0] <= w[1]));
            prop_assert_eq!(b.last().copied().unwrap_or(0), obs.len() as u64);
        }
    }
}
