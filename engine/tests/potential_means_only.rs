//! `potential::compute_with(.., Detail::MeansOnly)` (issue 16): the same outcome as `compute`, bit for bit,
//! except that the attempt quantiles are not computed — over every cube, grade and a spread of goals, parts
//! and levels, with and without tier-ups and pity.
use pve_engine::potential::{self as pot, Data, Detail, Goal, Grade, Quantiles, StatKind};
use std::sync::OnceLock;

fn data() -> &'static Data {
    static D: OnceLock<Data> = OnceLock::new();
    D.get_or_init(|| Data::decode(include_bytes!("../data/potential.tsv")).unwrap())
}

#[test]
fn means_only_is_compute_without_the_quantiles() {
    let means_only = pot::Options {
        detail: Detail::MeansOnly,
        ..pot::Options::default()
    };
    let d = data();
    let goals: [&[(StatKind, u32)]; 4] = [
        &[(StatKind::AttPct, 9)],
        &[(StatKind::StrPct, 12)],
        &[(StatKind::BossPct, 30), (StatKind::AttPct, 9)],
        &[(StatKind::IntPct, 21)],
    ];
    let mut compared = 0;
    let mut with_quantiles = 0;
    for cube in d.cubes() {
        for grade in Grade::ALL {
            for part in ["무기", "모자", "장갑", "엠블렘"] {
                for level in [150, 200, 250] {
                    for g in goals {
                        let req = pot::Request {
                            cube: cube.name.clone(),
                            part: part.into(),
                            level,
                            grade,
                            goal: Goal::new(g, &[]).unwrap(),
                        };
                        let (Ok(full), Ok(lean)) =
                            (pot::compute(d, &req), pot::compute_with(d, &req, &means_only))
                        else {
                            assert_eq!(
                                pot::compute(d, &req).err(),
                                pot::compute_with(d, &req, &means_only).err()
                            );
                            continue;
                        };
                        assert_eq!(lean.quantiles, Quantiles::default(), "{req:?}");
                        if full.quantiles != Quantiles::default() {
                            with_quantiles += 1;
                        }
                        let mut expect = full.clone();
                        expect.quantiles = Quantiles::default();
                        assert_eq!(lean, expect, "{req:?}");
                        // PartialEq on f64 is not bit equality for 0/-0 or NaN: compare the means' bits too.
                        assert_eq!(
                            lean.mean_attempts.map(f64::to_bits),
                            full.mean_attempts.map(f64::to_bits)
                        );
                        assert_eq!(lean.mean_cost.map(f64::to_bits), full.mean_cost.map(f64::to_bits));
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(
        compared > 300 && with_quantiles > 300,
        "{compared} compared, {with_quantiles} with quantiles"
    );
}
