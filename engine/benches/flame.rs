//! Criterion benchmarks of the flame engine: `cargo bench -p pve-engine --bench flame`.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use pve_engine::flame::*;

fn kms_weights(class: &str) -> ScoreWeights {
    let stats = class_profile(class).unwrap().stats;
    ScoreWeights::for_class(&stats, Convention::KmsGrade, Overrides::default()).unwrap()
}

fn bench(c: &mut Criterion) {
    let a = Assumptions::default();
    let target = Rational::integer(120).unwrap();

    // The benchmark: a flame score on armor (Lv-200 boss armor, eternal, STR + 4·ATT + 10·all%).
    let armor = Item::armor(200, Boss::Yes).unwrap();
    let hero = kms_weights("hero");
    c.bench_function("flame_score/armor_boss200_eternal_kms", |b| {
        b.iter(|| {
            let d = score_distribution(FlameKind::Eternal, black_box(&armor), black_box(&hero), &a).unwrap();
            black_box(d.reach(black_box(target)))
        })
    });

    // Non-boss armor: four line counts mixed.
    let other = Item::armor(160, Boss::No).unwrap();
    c.bench_function("flame_score/armor_nonboss160_powerful_kms", |b| {
        b.iter(|| score_distribution(FlameKind::Powerful, black_box(&other), black_box(&hero), &a).unwrap())
    });

    // Brendon's weights (sub stat 1/12): many more distinct scores.
    let bren = ScoreWeights::for_class(
        &class_profile("hero").unwrap().stats,
        Convention::BrendonGms,
        Overrides::default(),
    )
    .unwrap();
    c.bench_function("flame_score/armor_boss200_eternal_brendon", |b| {
        b.iter(|| score_distribution(FlameKind::Eternal, black_box(&armor), black_box(&bren), &a).unwrap())
    });

    // Weapon: absolute ATT lines, boss% and damage%.
    let weapon = Item::weapon(200, Boss::Yes, 283, 0).unwrap();
    c.bench_function("flame_score/weapon_boss200_eternal_kms", |b| {
        b.iter(|| score_distribution(FlameKind::Eternal, black_box(&weapon), black_box(&hero), &a).unwrap())
    });

    // Demon Avenger (HP/17.5 + 4·ATT) on Lv-250 boss armor: a wide score range (HP lines up to 4900).
    let da = kms_weights("demon_avenger");
    let eternel = Item::armor(250, Boss::Yes).unwrap();
    c.bench_function("flame_score/armor_boss250_eternal_demon_avenger", |b| {
        b.iter(|| score_distribution(FlameKind::Eternal, black_box(&eternel), black_box(&da), &a).unwrap())
    });

    // Score of current flame totals (what a character valuation does per item).
    let stats = FlameStats::from_pairs(&[(Stat::Str, 107), (Stat::Dex, 107), (Stat::AllStat, 6)]);
    c.bench_function("flame_score/current_totals", |b| {
        b.iter(|| black_box(&hero).score(black_box(&stats)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
