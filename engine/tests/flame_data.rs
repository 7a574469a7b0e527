//! The generated flame tables: probabilities sum to 1, the level bands agree with the value formulas, and
//! re-running the generator on the shared facts reproduces the committed file.

use pve_engine::flame::tables::{self, LineCountTable, TierTable};
use pve_engine::flame::*;
use std::path::{Path, PathBuf};

fn check_tiers(t: &TierTable, expect_sum: u32) {
    assert_eq!(
        t.grade_percent.iter().sum::<u32>(),
        expect_sum,
        "tier table {}",
        t.key
    );
}

fn check_lines(t: &LineCountTable, expect_sum: u32) {
    assert_eq!(
        t.lines_percent.iter().sum::<u32>(),
        expect_sum,
        "line table {}",
        t.key
    );
}

#[test]
fn every_table_sums_to_one() {
    // No published deviation: every official or community table sums to exactly 100 %.
    check_tiers(&tables::TIER_POWERFUL, 100);
    check_tiers(&tables::TIER_ETERNAL, 100);
    check_tiers(&tables::TIER_ABYSS, 100);
    check_tiers(&tables::TIER_ABYSS_BRENDON_WORKER, 100);
    check_tiers(&tables::TIER_MONSTER_DROP, 100);
    check_lines(&tables::LINES_BOSS, 100);
    check_lines(&tables::LINES_OTHER_FLAME_KMS, 100);
    check_lines(&tables::LINES_OTHER_DROP_KMS, 100);
    check_lines(&tables::LINES_OTHER_FLAME_GMS, 100);
}

#[test]
fn tables_hold_the_official_rows() {
    // FLAME_FACTS §1, copied by hand: a generator that misreads a column fails here.
    assert_eq!(tables::TIER_POWERFUL.grade_percent, [20, 30, 36, 14, 0]);
    assert_eq!(tables::TIER_ETERNAL.grade_percent, [0, 29, 45, 25, 1]);
    assert_eq!(tables::TIER_ABYSS.grade_percent, [0, 0, 63, 34, 3]);
    assert_eq!(tables::LINES_OTHER_FLAME_KMS.lines_percent, [40, 40, 16, 4]);
    assert_eq!(tables::LINES_OTHER_FLAME_GMS.lines_percent, [40, 40, 15, 5]);
    assert_eq!(tables::LINES_BOSS.lines_percent, [0, 0, 0, 100]);
}

/// Issue 15: every source names a repository and path or a page a reader can open, never an internal
/// code-index number (`find_string id 68521112222` was one).
#[test]
fn every_source_can_be_opened_and_cites_no_index_id() {
    let sources = [
        tables::TIER_POWERFUL.source,
        tables::TIER_ETERNAL.source,
        tables::TIER_ABYSS.source,
        tables::TIER_ABYSS_BRENDON_WORKER.source,
        tables::TIER_MONSTER_DROP.source,
        tables::LINES_BOSS.source,
        tables::LINES_OTHER_FLAME_KMS.source,
        tables::LINES_OTHER_DROP_KMS.source,
        tables::LINES_OTHER_FLAME_GMS.source,
        tables::STAT_BANDS_SOURCE,
    ];
    for s in sources {
        for index in ["find_string", "read_file", "index id", "unnamed"] {
            assert!(!s.contains(index), "{s:?} cites an index id ({index})");
        }
        // "id" followed by a number of 5 digits or more: an index id however it is spelled.
        let words: Vec<&str> = s.split(|c: char| c.is_whitespace() || c == '`').collect();
        for w in words.windows(2) {
            let long_number = w[1].len() >= 5 && w[1].chars().all(|c| c.is_ascii_digit());
            assert!(!(w[0] == "id" && long_number), "{s:?} cites an index id");
        }
        // Something to open: a repository path (`owner/repo@commit path`) or a page (`https://…`).
        assert!(
            s.contains("https://") || (s.contains('@') && s.contains('/')),
            "{s:?} names no repository and path and no page"
        );
    }
}

/// malib's formulas (FLAME_FACTS §2): (single, dual, hp) per tier.
fn formula(level: u32) -> (u32, u32, u32) {
    let single = if level >= 250 { level / 20 } else { level / 20 + 1 };
    let hp = if level < 10 {
        3
    } else if level >= 250 {
        700
    } else {
        level / 10 * 30
    };
    (single, level / 40 + 1, hp)
}

#[test]
fn level_bands_match_the_formulas() {
    for b in &tables::STAT_BANDS {
        assert_eq!((b.single, b.dual, b.hp_mp), formula(b.level), "band {}", b.level);
        assert_eq!(b.def, b.single, "band {}", b.level);
    }
    assert_eq!(tables::STAT_BANDS.first().unwrap().level, 100);
    assert_eq!(tables::STAT_BANDS.last().unwrap().level, 250);
}

fn values(level: u32, a: &Assumptions) -> (u32, u32, u32, u32) {
    let item = Item::armor(level, Boss::No).unwrap();
    let one = |o| match item.line_value(o, 1, a) {
        LineValue::One(_, v) => v,
        LineValue::Two(_, _, v) => v,
    };
    (
        one(LineOption::Single(Stat::Str)),
        one(LineOption::Dual(Stat::Str, Stat::Dex)),
        one(LineOption::MaxHp),
        one(LineOption::Defense),
    )
}

#[test]
fn line_values_at_every_level() {
    let kms = Assumptions::default();
    for level in 1..=MAX_LEVEL {
        let (s, d, h) = formula(level);
        assert_eq!(values(level, &kms), (s, d, h, s), "Lv {level}");
    }
    // GMS values at 210-249 (stat_values_by_level.csv, disagreement column).
    let gms = Assumptions {
        levels_201_to_249: Levels201To249::Gms,
        ..Assumptions::default()
    };
    for (level, expect) in [
        (200, (11, 6, 600, 11)),
        (215, (11, 6, 620, 11)),
        (225, (11, 6, 640, 11)),
        (235, (12, 6, 660, 12)),
        (249, (12, 6, 680, 12)),
        (250, (12, 7, 700, 12)),
    ] {
        assert_eq!(values(level, &gms), expect, "GMS Lv {level}");
    }
    // KMS JS: DEF 1 per tier below Lv 140.
    let def1 = Assumptions {
        def_below_140: DefBelow140::OnePerTier,
        ..Assumptions::default()
    };
    assert_eq!(values(139, &def1).3, 1);
    assert_eq!(values(140, &def1).3, 8);
    // Published single values (MALIB tests): Eternal (Lv 250) cape STR t7 = 84, INT t5 = 60; dual t3 = 21;
    // HP t6 = 4200; AbsoLab (Lv 160) HP t7 = 3360.
    let eternal = Item::armor(250, Boss::Yes).unwrap();
    assert_eq!(
        eternal.line_value(LineOption::Single(Stat::Str), 7, &kms),
        LineValue::One(Stat::Str, 84)
    );
    assert_eq!(
        eternal.line_value(LineOption::Single(Stat::Int), 5, &kms),
        LineValue::One(Stat::Int, 60)
    );
    assert_eq!(
        eternal.line_value(LineOption::Dual(Stat::Dex, Stat::Int), 3, &kms),
        LineValue::Two(Stat::Dex, Stat::Int, 21)
    );
    assert_eq!(
        eternal.line_value(LineOption::MaxHp, 6, &kms),
        LineValue::One(Stat::MaxHp, 4200)
    );
    let absolab = Item::armor(160, Boss::Yes).unwrap();
    assert_eq!(
        absolab.line_value(LineOption::MaxHp, 7, &kms),
        LineValue::One(Stat::MaxHp, 3360)
    );
    // Level reduction is capped at the item level (malib).
    let low = Item::armor(12, Boss::No).unwrap();
    assert_eq!(
        low.line_value(LineOption::LevelDecrease, 3, &kms),
        LineValue::One(Stat::LevelDecrease, 12)
    );
}

#[test]
fn data_version_names_the_facts() {
    let v = DATA_VERSION;
    assert!(
        v.starts_with("flame-facts-") && v.len() == "flame-facts-".len() + 12,
        "{v}"
    );
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Re-running engine/data/flame/generate.py on ../shared/data/flame gives the committed tables.rs byte for
/// byte. Skipped (with a message) only where the shared facts are absent.
#[test]
fn generator_reproduces_the_committed_tables() {
    let root = repo_root();
    let facts = root.join("..").join("shared").join("data").join("flame");
    if !facts.join("tier_probabilities.csv").exists() {
        eprintln!("skipped: {} not present", facts.display());
        return;
    }
    let out = std::process::Command::new("python3")
        .arg(root.join("engine/data/flame/generate.py"))
        .arg("--facts")
        .arg(&facts)
        .arg("--stdout")
        .output()
        .expect("python3 must be installed where the shared facts are (it runs the generator)");
    assert!(
        out.status.success(),
        "generator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = std::fs::read_to_string(root.join("engine/src/flame/tables.rs")).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "engine/src/flame/tables.rs is stale: run python3 engine/data/flame/generate.py"
    );
}
