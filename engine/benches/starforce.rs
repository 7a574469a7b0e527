//! Star force: the full computation (exact moments, cost quantiles, booms PMF, per-star table, safeguard
//! advice) and the cheap moments-only path, for a level-200 item under KMS with star catching and
//! safeguard. Run: `cargo bench -p pve-engine --bench starforce`.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use pve_engine::starforce::{compute, expected, Request};

fn request(to: u32) -> Request {
    Request {
        star_catch: true,
        safeguard: true,
        spare_cost: 1e9,
        ..Request::new(200, 0, to)
    }
}

fn bench(c: &mut Criterion) {
    for to in [22, 30] {
        let req = request(to);
        c.bench_function(&format!("starforce compute 0->{to}"), |b| {
            b.iter(|| compute(black_box(&req)))
        });
        c.bench_function(&format!("starforce expected 0->{to}"), |b| {
            b.iter(|| expected(black_box(&req)))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
