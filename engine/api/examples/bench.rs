//! Native engine timing for `scripts/bench.sh`: runs `pve_api::handle` on each case of
//! `tests/bench/engine-cases.json` (the same cases `tests/bench/engine-wasm.mjs` runs in Wasm under node)
//! and prints one JSON line per case: the median and mean wall time per call over repeated runs.
//!
//! Usage: `cargo run --release -p pve-api --features bundled-data --example bench -- tests/bench/engine-cases.json`
use std::time::{Duration, Instant};

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "tests/bench/engine-cases.json".into());
    let root = std::path::Path::new(&path)
        .parent()
        .and_then(|p| p.parent())
        .and_then(|p| p.parent());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&text).expect("engine-cases.json is a JSON array");
    for case in cases {
        let name = case["name"].as_str().expect("case name");
        let op = pve_api::Operation::parse(case["op"].as_str().expect("case op")).expect("known op");
        let request = match case.get("request_file").and_then(|f| f.as_str()) {
            Some(file) => {
                let file = root.map_or_else(|| file.into(), |r| r.join(file));
                let text = std::fs::read_to_string(&file)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
                // With `options`, the file is the equipment of a `{equipment, options}` request.
                match case.get("options") {
                    Some(options) => format!("{{\"equipment\":{text},\"options\":{options}}}"),
                    None => text,
                }
            }
            None => case["request"].to_string(),
        };
        // Fail loudly: a benchmark of an error path would be a lie.
        if let Err(e) = pve_api::handle(op, &request) {
            panic!("case {name:?} does not compute: {e}");
        }
        let mut samples = Vec::new();
        let budget = Duration::from_millis(case["budget_ms"].as_u64().unwrap_or(1000));
        let started = Instant::now();
        while samples.len() < 5 || (started.elapsed() < budget && samples.len() < 100_000) {
            let t = Instant::now();
            let out = pve_api::handle(op, &request);
            samples.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(out).ok();
        }
        samples.sort_by(f64::total_cmp);
        let median = samples[samples.len() / 2];
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        println!(
            "{}",
            serde_json::json!({"name": name, "op": op.as_str(), "runtime": "native", "iterations": samples.len(),
                               "median_us": median, "mean_us": mean})
        );
    }
}
