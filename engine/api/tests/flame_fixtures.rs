//! The flame helpers on real Open API responses (`shared/fixtures/nexon/*_equip.json`): what the character
//! valuation will do for every item. Skipped with a message where the shared fixtures are absent.

use pve_engine::flame::*;
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/nexon")
        .join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).unwrap()),
        Err(_) => {
            eprintln!("skipped: {} not present", path.display());
            None
        }
    }
}

/// `item_add_option` → FlameStats (values are strings, `equipment_level_decrease` a number).
fn add_option(item: &Value) -> FlameStats {
    let mut s = FlameStats::default();
    for (k, v) in item["item_add_option"].as_object().unwrap() {
        let n = match v {
            Value::String(t) => t.parse::<u32>().unwrap(),
            Value::Number(n) => n.as_u64().unwrap() as u32,
            other => panic!("{k}: {other}"),
        };
        s.set(Stat::parse(k).unwrap(), n);
    }
    s
}

fn num(v: &Value) -> u32 {
    match v {
        Value::String(t) => t.parse().unwrap(),
        Value::Number(n) => n.as_u64().unwrap() as u32,
        other => panic!("{other}"),
    }
}

struct Seen {
    flamed: usize,
    boss_by_name: usize,
}

fn check_character(file: &str) -> Option<Seen> {
    let doc = fixture(file)?;
    let class = class_profile(doc["character_class"].as_str().unwrap()).unwrap();
    let a = Assumptions::default();
    let mut seen = Seen {
        flamed: 0,
        boss_by_name: 0,
    };
    for item in doc["item_equipment"].as_array().unwrap() {
        let slot = item["item_equipment_slot"].as_str().unwrap();
        let name = item["item_name"].as_str().unwrap();
        let stats = add_option(item);
        let flamed = stats.nonzero().next().is_some();
        let flam = flammability(slot, name);
        // Consistency with the facts: a flame only on flammable slots; no non-flammable slot carries one.
        if flamed {
            assert_eq!(flam, Flammability::Flammable, "{slot} {name} has flames");
            seen.flamed += 1;
        }
        if flam == Flammability::NotFlammable {
            assert!(!flamed, "{slot} {name}");
        }
        if !flamed {
            continue;
        }
        let level = num(&item["item_base_option"]["base_equipment_level"]);
        let weapon = slot == "무기";
        let kind = if weapon { ItemKind::Weapon } else { ItemKind::Armor };
        let by_name = boss_by_name(name, kind);
        let by_stats = boss_from_stats(kind, &stats);
        assert_ne!(
            (by_name, by_stats),
            (BossEvidence::Boss, BossEvidence::NotBoss),
            "{name}: name and stats disagree"
        );
        if by_name == BossEvidence::Boss {
            seen.boss_by_name += 1;
        }
        let boss = if by_name == BossEvidence::Boss || by_stats == BossEvidence::Boss {
            Boss::Yes
        } else {
            Boss::No
        };
        let it = if weapon {
            let att = num(&item["item_base_option"]["attack_power"]);
            let matt = num(&item["item_base_option"]["magic_power"]);
            Item::weapon(level, boss, att, matt).unwrap()
        } else {
            Item::armor(level, boss).unwrap()
        };
        // The current flame must be an outcome the model can produce: its score is within the support.
        let w = ScoreWeights::for_class(&class.stats, Convention::KmsGrade, Overrides::default()).unwrap();
        let current = w.score(&stats);
        let d = score_distribution(FlameKind::Eternal, &it, &w, &a).unwrap();
        assert!(
            current.to_f64() <= d.max_score().to_f64(),
            "{name}: {} > max",
            current.to_f64()
        );
        let target = Rational::new(current.units() as i64, current.scale()).unwrap();
        assert!(
            !d.p_at_least(target).is_zero(),
            "{name}: current score unreachable"
        );
        // Every single-option stat is one line of a tier in the item's range.
        let tiers = if boss == Boss::Yes { 3..=7 } else { 1..=5 };
        let all = stats.get(Stat::AllStat);
        assert!(all == 0 || tiers.contains(&all), "{name}: all_stat {all}");
    }
    Some(seen)
}

#[test]
fn evan_items() {
    let Some(seen) = check_character("evan_equip.json") else {
        return;
    };
    assert_eq!(seen.flamed, 14);
    // Eternel x3, Arcane x3, Genesis staff, the boss accessories and the 청 grimoire.
    assert!(seen.boss_by_name >= 12, "{}", seen.boss_by_name);
}

#[test]
fn mechanic_items() {
    let Some(seen) = check_character("mechanic_equip.json") else {
        return;
    };
    assert_eq!(seen.flamed, 14);
    assert!(seen.boss_by_name >= 12, "{}", seen.boss_by_name);
}

#[test]
fn genesis_weapons_are_top_tier() {
    let a = Assumptions::default();
    // Genesis staff (Evan): base ATT 251 / MATT 406, flame MATT 250; Genesis pistol (Mechanic): base 249,
    // flame ATT 154. Both are tier 7 ("1추").
    let Some(evan) = fixture("evan_equip.json") else {
        return;
    };
    let Some(mech) = fixture("mechanic_equip.json") else {
        return;
    };
    for (doc, stat) in [(evan, Stat::MagicPower), (mech, Stat::AttackPower)] {
        let w = doc["item_equipment"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["item_equipment_slot"] == "무기")
            .unwrap();
        let name = w["item_name"].as_str().unwrap();
        assert_eq!(boss_by_name(name, ItemKind::Weapon), BossEvidence::Boss, "{name}");
        let base = &w["item_base_option"];
        let item = Item::weapon(
            200,
            Boss::Yes,
            num(&base["attack_power"]),
            num(&base["magic_power"]),
        )
        .unwrap();
        let value = num(&w["item_add_option"][stat.key()]);
        assert_eq!(weapon_attack_tier(&item, stat, value, &a), Some(7), "{name}");
    }
}

#[test]
fn boss_evidence_from_stats() {
    let s = |pairs: &[(Stat, u32)]| FlameStats::from_pairs(pairs);
    assert_eq!(
        boss_from_stats(ItemKind::Armor, &s(&[(Stat::AllStat, 7)])),
        BossEvidence::Boss
    );
    assert_eq!(
        boss_from_stats(ItemKind::Armor, &s(&[(Stat::AttackPower, 2)])),
        BossEvidence::NotBoss
    );
    assert_eq!(
        boss_from_stats(ItemKind::Armor, &s(&[(Stat::AllStat, 4)])),
        BossEvidence::Unknown
    );
    assert_eq!(
        boss_from_stats(ItemKind::Armor, &s(&[(Stat::Str, 100)])),
        BossEvidence::Unknown
    );
    assert_eq!(
        boss_from_stats(ItemKind::Weapon, &s(&[(Stat::BossDamage, 14)])),
        BossEvidence::Boss
    );
    // On weapons ATT is absolute, not a tier.
    assert_eq!(
        boss_from_stats(ItemKind::Weapon, &s(&[(Stat::AttackPower, 2)])),
        BossEvidence::Unknown
    );
    // Contradictory single-line tiers decide nothing.
    assert_eq!(
        boss_from_stats(ItemKind::Armor, &s(&[(Stat::AllStat, 7), (Stat::Speed, 1)])),
        BossEvidence::Unknown
    );
    assert_eq!(
        boss_by_name("라피스 9형", ItemKind::ZeroWeapon),
        BossEvidence::NotBoss
    );
    assert_eq!(
        boss_by_name("무명의 모자", ItemKind::Armor),
        BossEvidence::Unknown
    );
    assert_eq!(flammability("반지3", "거대한 공포"), Flammability::NotFlammable);
    assert_eq!(flammability("어깨장식", "스칼렛 숄더"), Flammability::Flammable);
    assert_eq!(flammability("훈장", "칠요의 몬스터파커"), Flammability::Unknown);
    assert_eq!(lazuli_to_lapis_base_attack(293), Some(297));
    assert_eq!(lazuli_to_lapis_base_attack(294), None);
}
