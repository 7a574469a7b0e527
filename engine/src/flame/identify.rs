//! Helpers for real items (Nexon Open API `item_equipment[]`): can it be flamed, is it a boss item, which
//! tier is its weapon ATT line. Each answers "unknown" rather than guessing when the facts do not decide.

use super::{Assumptions, Boss, FlameStats, Item, ItemKind, Stat};

/// Whether an item can carry flames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flammability {
    Flammable,
    NotFlammable,
    /// The slot is not one the facts cover (or a medal: some medals are flammable, which is not listed).
    Unknown,
}

/// Flammability from the Open API `item_equipment_slot` (e.g. `"모자"`, `"반지1"`) and `item_name`.
///
/// Not flammable (FLAME_FACTS §1, masonym + maple-hub): rings, shoulders (except 스칼렛 숄더), emblems,
/// badges, secondary weapons and shields, androids, mechanical hearts. Medals are `Unknown` (some listed
/// medals can be flamed).
pub fn flammability(slot: &str, name: &str) -> Flammability {
    let slot = slot.trim();
    match slot {
        "모자" | "상의" | "하의" | "한벌옷" | "신발" | "장갑" | "망토" | "무기" | "얼굴장식" | "눈장식"
        | "귀고리" | "펜던트" | "펜던트2" | "벨트" | "포켓 아이템" => Flammability::Flammable,
        "어깨장식" if name.contains("스칼렛 숄더") => Flammability::Flammable,
        "어깨장식" | "엠블렘" | "뱃지" | "보조무기" | "방패" | "안드로이드" | "기계 심장" => {
            Flammability::NotFlammable
        }
        s if s.starts_with("반지") => Flammability::NotFlammable,
        _ => Flammability::Unknown,
    }
}

/// What is known about an item's boss flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BossEvidence {
    Boss,
    NotBoss,
    /// Nothing decides it: the caller must know (the Open API has no boss flag).
    Unknown,
}

/// Weapon name prefixes of boss weapons (MapleExpectation `BossEquipmentRegistry` @ ad1d591).
const BOSS_WEAPON_PREFIXES: &[&str] = &[
    "자쿰의 포이즈닉",
    "네크로",
    "로얄 반 레온",
    "라이온하트",
    "드래곤테일",
    "팔콘윙",
    "레이븐혼",
    "샤크투스",
    "파프니르",
    "앱솔랩스",
    "아케인셰이드",
    "제네시스",
    "데스티니",
];

/// Armor set prefixes of boss armor (same source).
const BOSS_ARMOR_PREFIXES: &[&str] = &[
    "네크로",
    "로얄 반 레온",
    "라이온하트",
    "드래곤테일",
    "팔콘윙",
    "레이븐혼",
    "샤크투스",
    "이글아이",
    "트릭스터",
    "하이네스",
    "앱솔랩스",
    "아케인셰이드",
    "에테르넬",
];

/// Boss accessories by exact name (same source). The source lists only 저주받은 적의 마도서; the other three
/// colours are added because the Open API fixtures show all_stat 6–7 (a tier only boss items reach) on
/// 저주받은 청/녹의 마도서.
const BOSS_ACCESSORY_NAMES: &[&str] = &[
    "아쿠아틱 레터 눈장식",
    "블랙빈 마크",
    "파풀라투스 마크",
    "응축된 힘의 결정석",
    "골든 클로버 벨트",
    "분노한 자쿰의 벨트",
    "매커네이터 펜던트",
    "도미네이터 펜던트",
    "데아 시두스 이어링",
    "지옥의 불꽃",
    "핑크빛 성배",
    "트와일라이트 마크",
    "에스텔라 이어링",
    "데이브레이크 펜던트",
    "루즈 컨트롤 머신 마크",
    "마력이 깃든 안대",
    "몽환의 벨트",
    "고통의 근원",
    "커맨더 포스 이어링",
    "저주받은 적의 마도서",
    "저주받은 청의 마도서",
    "저주받은 녹의 마도서",
    "저주받은 황의 마도서",
    "죽음의 맹세",
    "불멸의 유산",
    "오만의 원죄",
];

/// Boss flag from the item name and kind: `Boss` for a listed boss item, `NotBoss` for Zero weapons,
/// `Unknown` otherwise (an unlisted name is not proof of a non-boss item).
pub fn boss_by_name(name: &str, kind: ItemKind) -> BossEvidence {
    let name = name.trim();
    let listed = match kind {
        ItemKind::ZeroWeapon => return BossEvidence::NotBoss,
        ItemKind::Weapon => BOSS_WEAPON_PREFIXES.iter().any(|p| name.starts_with(p)),
        ItemKind::Armor | ItemKind::Accessory => {
            BOSS_ARMOR_PREFIXES.iter().any(|p| name.starts_with(p)) || BOSS_ACCESSORY_NAMES.contains(&name)
        }
    };
    if listed {
        BossEvidence::Boss
    } else {
        BossEvidence::Unknown
    }
}

/// Boss flag from flame totals. Only one option adds all stat %, damage %, boss %, speed, jump or (on armor)
/// ATT/MATT, so each of those totals is one line's value and tells its tier: a tier above 5 proves a boss
/// item, a tier below 3 proves a non-boss item. `Unknown` when no such stat is present or they disagree.
pub fn boss_from_stats(kind: ItemKind, stats: &FlameStats) -> BossEvidence {
    let mut tiers: Vec<u32> = [Stat::AllStat, Stat::Damage, Stat::Speed, Stat::Jump]
        .iter()
        .map(|&s| stats.get(s))
        .collect();
    let boss = stats.get(Stat::BossDamage);
    if boss & 1 == 0 {
        tiers.push(boss / 2);
    }
    if !kind.is_weapon() {
        tiers.extend([stats.get(Stat::AttackPower), stats.get(Stat::MagicPower)]);
    }
    let tiers: Vec<u32> = tiers.into_iter().filter(|&t| t > 0).collect();
    let high = tiers.iter().any(|&t| t > 5);
    let low = tiers.iter().any(|&t| t < 3);
    match (high, low) {
        (true, false) => BossEvidence::Boss,
        (false, true) => BossEvidence::NotBoss,
        _ => BossEvidence::Unknown,
    }
}

/// The tier of a weapon's flame ATT (or MATT) total `value`, if exactly one tier gives it ("n추": 1추 is
/// tier 7 on boss weapons, 5 on others). `None` if no tier matches (e.g. no ATT line, or the base is wrong).
pub fn weapon_attack_tier(item: &Item, stat: Stat, value: u32, assumptions: &Assumptions) -> Option<u32> {
    let range = if item.boss() == Boss::Yes { 3..=7 } else { 1..=5 };
    let mut found = range.filter(|&t| item.weapon_attack(stat, t, assumptions) == value);
    let t = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some(t)
}

/// The paired Lapis base ATT of a Lazuli base ATT (the Zero weapon ATT line uses the Lapis base;
/// malib `_getZeroWeaponAttackPower`). `None` for an unknown Lazuli base.
pub fn lazuli_to_lapis_base_attack(lazuli_base_attack: u32) -> Option<u32> {
    const MAP: [(u32, u32); 10] = [
        (100, 102),
        (103, 105),
        (105, 107),
        (112, 114),
        (117, 121),
        (135, 139),
        (169, 173),
        (203, 207),
        (293, 297),
        (337, 342),
    ];
    MAP.iter().find(|m| m.0 == lazuli_base_attack).map(|m| m.1)
}
