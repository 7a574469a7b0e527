//! Potential engine benchmarks (issue 4): a three-condition goal on a weapon, and the same kind of goal on an
//! armor piece whose tables hold per-item limited options (상의: 피격 후 무적시간, on-hit guard lines), plus
//! the data decode the browser pays once.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/target-potential cargo bench -p pve-engine --bench potential`
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use pve_engine::potential::{band_probability, compute, Data, Goal, Grade, Request, StatKind};

const FILE: &[u8] = include_bytes!("../data/potential.tsv");
const BINARY: &[u8] = include_bytes!("../data/potential.bin");

fn request(part: &str, grade: Grade, goal: &Goal) -> Request {
    Request {
        cube: "black".into(),
        part: part.into(),
        level: 200,
        grade,
        goal: goal.clone(),
    }
}

fn benches(c: &mut Criterion) {
    let data = Data::decode(FILE).unwrap();
    let weapon = Goal::new(
        &[
            (StatKind::AttPct, 12),
            (StatKind::BossPct, 30),
            (StatKind::IedPct, 30),
        ],
        &[],
    )
    .unwrap();
    let armor = Goal::new(
        &[(StatKind::IntPct, 12)],
        &[(StatKind::InvincibleAfterHitSec, 1), (StatKind::IntPct, 2)],
    )
    .unwrap();

    let w = request("무기", Grade::Legendary, &weapon);
    let band = data
        .band_for(0, Grade::Legendary, data.part_index("무기").unwrap(), 200)
        .unwrap();
    c.bench_function("potential/weapon_3cond/lines_only", |b| {
        b.iter(|| band_probability(&data, black_box(band), black_box(&weapon)).unwrap())
    });
    c.bench_function("potential/weapon_3cond/legendary", |b| {
        b.iter(|| compute(&data, black_box(&w)).unwrap())
    });
    let w_epic = request("무기", Grade::Epic, &weapon);
    c.bench_function("potential/weapon_3cond/from_epic_with_tier_up", |b| {
        b.iter(|| compute(&data, black_box(&w_epic)).unwrap())
    });

    let a = request("상의", Grade::Legendary, &armor);
    let band = data
        .band_for(0, Grade::Legendary, data.part_index("상의").unwrap(), 200)
        .unwrap();
    c.bench_function("potential/armor_capped_3cond/lines_only", |b| {
        b.iter(|| band_probability(&data, black_box(band), black_box(&armor)).unwrap())
    });
    c.bench_function("potential/armor_capped_3cond/legendary", |b| {
        b.iter(|| compute(&data, black_box(&a)).unwrap())
    });

    c.bench_function("potential/decode_data_file", |b| {
        b.iter(|| Data::decode(black_box(FILE)).unwrap())
    });
    c.bench_function("potential/decode_data_file_binary", |b| {
        b.iter(|| Data::decode(black_box(BINARY)).unwrap())
    });
}

criterion_group!(potential, benches);
criterion_main!(potential);
