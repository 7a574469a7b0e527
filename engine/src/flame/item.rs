//! Flame kinds, items, the option pool and the value of one line (FLAME_FACTS §1, §2).

use super::tables::{self, LineCountTable, StatBand, TierTable};
use super::{Error, Stat};

/// Highest item level the value tables cover.
pub const MAX_LEVEL: u32 = 250;

/// A kind of flame (환생의 불꽃).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlameKind {
    /// 강력한 환생의 불꽃: grades 1–4 at 20/30/36/14 %.
    Powerful,
    /// 영원한 환생의 불꽃: grades 2–5 at 29/45/25/1 %.
    Eternal,
    /// 검은 환생의 불꽃: the eternal table; the player keeps the better of the old and new result, so the
    /// chance that one use reaches a target is the eternal chance.
    Black,
    /// 심연의 환생의 불꽃: grades 3–5 at 63/34/3 % (community consensus; not on the stored official page).
    Abyss,
}

impl FlameKind {
    pub const ALL: [FlameKind; 4] = [
        FlameKind::Powerful,
        FlameKind::Eternal,
        FlameKind::Black,
        FlameKind::Abyss,
    ];

    pub fn key(self) -> &'static str {
        match self {
            FlameKind::Powerful => "powerful",
            FlameKind::Eternal => "eternal",
            FlameKind::Black => "black",
            FlameKind::Abyss => "abyss",
        }
    }

    /// The grade table this flame uses under `assumptions`.
    pub fn tier_table(self, assumptions: &Assumptions) -> &'static TierTable {
        match (self, assumptions.abyss_table) {
            (FlameKind::Powerful, _) => &tables::TIER_POWERFUL,
            (FlameKind::Eternal | FlameKind::Black, _) => &tables::TIER_ETERNAL,
            (FlameKind::Abyss, AbyssTable::Consensus) => &tables::TIER_ABYSS,
            (FlameKind::Abyss, AbyssTable::BrendonWorker) => &tables::TIER_ABYSS_BRENDON_WORKER,
        }
    }
}

/// What the item is; it decides the option pool (FLAME_FACTS §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemKind {
    Armor,
    /// Same pool and values as armor.
    Accessory,
    Weapon,
    /// Lapis/Lazuli: never a boss item, own ATT multiplier by level (malib). For Lazuli pass the paired
    /// Lapis base ATT ([`super::lazuli_to_lapis_base_attack`]).
    ZeroWeapon,
}

impl ItemKind {
    pub fn key(self) -> &'static str {
        match self {
            ItemKind::Armor => "armor",
            ItemKind::Accessory => "accessory",
            ItemKind::Weapon => "weapon",
            ItemKind::ZeroWeapon => "zero_weapon",
        }
    }

    pub fn is_weapon(self) -> bool {
        matches!(self, ItemKind::Weapon | ItemKind::ZeroWeapon)
    }
}

/// Whether the item is a boss reward (WZ `bossReward`): 4 lines, tiers = grade + 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Boss {
    Yes,
    No,
}

/// A flammable item: level, kind, boss flag and, for weapons, the base attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Item {
    level: u32,
    kind: ItemKind,
    boss: Boss,
    base_attack: u32,
    base_magic_attack: u32,
}

impl Item {
    /// An armor piece (hat, top, bottom, overall, shoes, gloves, cape).
    ///
    /// # Errors
    /// [`Error::LevelOutOfRange`] outside `1..=250`.
    pub fn armor(level: u32, boss: Boss) -> Result<Item, Error> {
        Item::checked(level, ItemKind::Armor, boss, 0, 0)
    }

    /// An accessory (face, eye, earrings, pendant, belt, pocket, ...): the armor pool.
    ///
    /// # Errors
    /// [`Error::LevelOutOfRange`] outside `1..=250`.
    pub fn accessory(level: u32, boss: Boss) -> Result<Item, Error> {
        Item::checked(level, ItemKind::Accessory, boss, 0, 0)
    }

    /// A weapon with its base ATT and base MATT (`item_base_option.attack_power / magic_power`).
    /// The MATT line uses the base MATT when it is larger than the base ATT, otherwise the base ATT.
    ///
    /// # Errors
    /// [`Error::LevelOutOfRange`], [`Error::BaseAttackZero`].
    pub fn weapon(level: u32, boss: Boss, base_attack: u32, base_magic_attack: u32) -> Result<Item, Error> {
        Item::checked(level, ItemKind::Weapon, boss, base_attack, base_magic_attack)
    }

    /// A Zero weapon with its (Lapis) base ATT. Zero weapons are never boss items.
    ///
    /// # Errors
    /// [`Error::LevelOutOfRange`], [`Error::BaseAttackZero`].
    pub fn zero_weapon(level: u32, lapis_base_attack: u32) -> Result<Item, Error> {
        Item::checked(level, ItemKind::ZeroWeapon, Boss::No, lapis_base_attack, 0)
    }

    /// Any kind; `base_attack`/`base_magic_attack` must be 0 for armor and accessories.
    ///
    /// # Errors
    /// As the other constructors, plus [`Error::ZeroWeaponIsNeverBoss`] and [`Error::BaseAttackOnNonWeapon`].
    pub fn new(
        level: u32,
        kind: ItemKind,
        boss: Boss,
        base_attack: u32,
        base_magic_attack: u32,
    ) -> Result<Item, Error> {
        if kind == ItemKind::ZeroWeapon && boss == Boss::Yes {
            return Err(Error::ZeroWeaponIsNeverBoss);
        }
        if !kind.is_weapon() && (base_attack != 0 || base_magic_attack != 0) {
            return Err(Error::BaseAttackOnNonWeapon);
        }
        Item::checked(level, kind, boss, base_attack, base_magic_attack)
    }

    fn checked(level: u32, kind: ItemKind, boss: Boss, att: u32, matt: u32) -> Result<Item, Error> {
        if !(1..=MAX_LEVEL).contains(&level) {
            return Err(Error::LevelOutOfRange { level });
        }
        if kind.is_weapon() && att == 0 {
            return Err(Error::BaseAttackZero);
        }
        Ok(Item {
            level,
            kind,
            boss,
            base_attack: att,
            base_magic_attack: matt,
        })
    }

    pub fn level(&self) -> u32 {
        self.level
    }

    pub fn kind(&self) -> ItemKind {
        self.kind
    }

    pub fn boss(&self) -> Boss {
        self.boss
    }

    pub fn base_attack(&self) -> u32 {
        self.base_attack
    }

    pub fn base_magic_attack(&self) -> u32 {
        self.base_magic_attack
    }

    /// The line-count table for this item under `assumptions` (boss items always have 4 lines).
    pub fn line_counts(&self, assumptions: &Assumptions) -> &'static LineCountTable {
        match (self.boss, assumptions.line_counts) {
            (Boss::Yes, _) => &tables::LINES_BOSS,
            (Boss::No, LineCounts::KmsOfficial) => &tables::LINES_OTHER_FLAME_KMS,
            (Boss::No, LineCounts::Gms) => &tables::LINES_OTHER_FLAME_GMS,
        }
    }

    /// `(tier, percent)` of one line for `flame`, zero-percent tiers left out. Tier = grade + 2 on boss items.
    pub fn tiers(&self, flame: FlameKind, assumptions: &Assumptions) -> Vec<(u32, u32)> {
        let shift = if self.boss == Boss::Yes { 2 } else { 0 };
        let table = flame.tier_table(assumptions);
        (1..=5u32)
            .zip(table.grade_percent)
            .filter(|&(_, p)| p > 0)
            .map(|(g, p)| (g + shift, p))
            .collect()
    }

    /// The options a line is drawn from (distinct, uniform), after the level restrictions.
    pub fn pool(&self) -> Vec<LineOption> {
        use LineOption as O;
        let l = self.level;
        let mut pool = vec![
            O::Single(Stat::Str),
            O::Single(Stat::Dex),
            O::Single(Stat::Int),
            O::Single(Stat::Luk),
            O::Dual(Stat::Str, Stat::Dex),
            O::Dual(Stat::Str, Stat::Int),
            O::Dual(Stat::Str, Stat::Luk),
            O::Dual(Stat::Dex, Stat::Int),
            O::Dual(Stat::Dex, Stat::Luk),
            O::Dual(Stat::Int, Stat::Luk),
            O::MaxHp,
            O::MaxMp,
            O::LevelDecrease,
            O::Defense,
        ];
        if self.kind.is_weapon() {
            pool.extend([O::Attack, O::MagicAttack]);
            if l >= 90 {
                pool.push(O::BossDamage);
            }
            pool.extend([O::Damage, O::AllStat]);
        } else {
            if l >= 60 {
                pool.extend([O::Attack, O::MagicAttack]);
            }
            pool.extend([O::Speed, O::Jump]);
            if l >= 70 {
                pool.push(O::AllStat);
            }
        }
        pool
    }

    /// What one line of `option` at `tier` adds: `(stat, value)` pairs (two for a dual stat line).
    pub fn line_value(&self, option: LineOption, tier: u32, assumptions: &Assumptions) -> LineValue {
        let l = self.level;
        let one = |stat, v| LineValue::One(stat, v);
        match option {
            LineOption::Single(s) => one(s, single_per_tier(l, assumptions) * tier),
            LineOption::Dual(a, b) => LineValue::Two(a, b, dual_per_tier(l, assumptions) * tier),
            LineOption::MaxHp => one(Stat::MaxHp, hp_per_tier(l, assumptions) * tier),
            LineOption::MaxMp => one(Stat::MaxMp, hp_per_tier(l, assumptions) * tier),
            LineOption::LevelDecrease => one(Stat::LevelDecrease, (5 * tier).min(l)),
            LineOption::Defense => one(Stat::Armor, def_per_tier(l, assumptions) * tier),
            LineOption::Attack | LineOption::MagicAttack => {
                let stat = if option == LineOption::Attack {
                    Stat::AttackPower
                } else {
                    Stat::MagicPower
                };
                let v = if self.kind.is_weapon() {
                    self.weapon_attack(stat, tier, assumptions)
                } else {
                    tier
                };
                one(stat, v)
            }
            LineOption::BossDamage => one(Stat::BossDamage, 2 * tier),
            LineOption::Damage => one(Stat::Damage, tier),
            LineOption::AllStat => one(Stat::AllStat, tier),
            LineOption::Speed => one(Stat::Speed, tier),
            LineOption::Jump => one(Stat::Jump, tier),
        }
    }

    /// The ATT (or MATT) a weapon flame line gives at `tier`: `ceil(base × pct / 100)` in exact integer
    /// arithmetic. Returns 0 for non-weapons or a tier outside the item's range.
    pub fn weapon_attack(&self, stat: Stat, tier: u32, assumptions: &Assumptions) -> u32 {
        let (lo, hi) = if self.boss == Boss::Yes { (3, 7) } else { (1, 5) };
        if !self.kind.is_weapon() || !(lo..=hi).contains(&tier) {
            return 0;
        }
        let base = if stat == Stat::MagicPower
            && self.kind == ItemKind::Weapon
            && self.base_magic_attack > self.base_attack
        {
            self.base_magic_attack
        } else {
            self.base_attack
        };
        let base = u128::from(base);
        let l = self.level;
        let boss = self.boss == Boss::Yes;
        let (num, den): (u128, u128) = match assumptions.weapon_attack {
            WeaponAttack::Malib => {
                // malib addOption.ts: multipliers ×10000, v by level band.
                const BOSS: [u128; 5] = [10000, 14666, 20166, 26630, 34166];
                const OTHER: [u128; 5] = [10000, 22220, 36300, 53250, 73200];
                let mult = if boss {
                    BOSS[(tier - 3) as usize]
                } else {
                    OTHER[(tier - 1) as usize]
                };
                let v: u128 = match (self.kind, boss) {
                    (ItemKind::ZeroWeapon, _) => match l {
                        181.. => 6,
                        161..=180 => 5,
                        111..=160 => 4,
                        _ => 3,
                    },
                    (_, true) => match l {
                        161.. => 6,
                        151..=160 => 5,
                        111..=150 => 4,
                        _ => 3,
                    },
                    (_, false) => {
                        if l > 110 {
                            4
                        } else {
                            3
                        }
                    }
                };
                let three = if boss { 3 } else { 1 };
                (base * mult * v * three, 100 * 10000)
            }
            WeaponAttack::GmsFormula => {
                // pct = (floor(L/40)+1) · t · 1.1^e with e = t−3 (boss) or t−1 (other).
                let b = u128::from(l / 40 + 1);
                let e = if boss { tier - 3 } else { tier - 1 };
                (base * b * u128::from(tier) * 11u128.pow(e), 100 * 10u128.pow(e))
            }
        };
        num.div_ceil(den) as u32
    }
}

/// One option of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineOption {
    Single(Stat),
    Dual(Stat, Stat),
    MaxHp,
    MaxMp,
    LevelDecrease,
    Defense,
    Attack,
    MagicAttack,
    BossDamage,
    Damage,
    AllStat,
    Speed,
    Jump,
}

impl LineOption {
    /// A short name: `str`, `str+dex`, `max_hp`, `attack_power`, ...
    pub fn name(self) -> String {
        match self {
            LineOption::Single(s) => s.key().to_owned(),
            LineOption::Dual(a, b) => format!("{}+{}", a.key(), b.key()),
            LineOption::MaxHp => Stat::MaxHp.key().to_owned(),
            LineOption::MaxMp => Stat::MaxMp.key().to_owned(),
            LineOption::LevelDecrease => Stat::LevelDecrease.key().to_owned(),
            LineOption::Defense => Stat::Armor.key().to_owned(),
            LineOption::Attack => Stat::AttackPower.key().to_owned(),
            LineOption::MagicAttack => Stat::MagicPower.key().to_owned(),
            LineOption::BossDamage => Stat::BossDamage.key().to_owned(),
            LineOption::Damage => Stat::Damage.key().to_owned(),
            LineOption::AllStat => Stat::AllStat.key().to_owned(),
            LineOption::Speed => Stat::Speed.key().to_owned(),
            LineOption::Jump => Stat::Jump.key().to_owned(),
        }
    }
}

/// What one line adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineValue {
    One(Stat, u32),
    /// A dual stat line: the value goes to each of the two stats.
    Two(Stat, Stat, u32),
}

fn band(level: u32) -> Option<&'static StatBand> {
    tables::STAT_BANDS.iter().find(|b| b.level == level / 10 * 10)
}

/// (single, dual, hp) per tier at `level`: the generated KMS table from Lv 100, the malib formulas below it.
fn per_tier(level: u32, a: &Assumptions) -> (u32, u32, u32) {
    match band(level) {
        Some(b) => match (b.gms, a.levels_201_to_249) {
            (Some(gms), Levels201To249::Gms) => gms,
            _ => (b.single, b.dual, b.hp_mp),
        },
        None => {
            let single = if level >= 250 { level / 20 } else { level / 20 + 1 };
            let hp = if level < 10 { 3 } else { level / 10 * 30 };
            (single, level / 40 + 1, hp)
        }
    }
}

fn single_per_tier(level: u32, a: &Assumptions) -> u32 {
    per_tier(level, a).0
}

fn dual_per_tier(level: u32, a: &Assumptions) -> u32 {
    per_tier(level, a).1
}

fn hp_per_tier(level: u32, a: &Assumptions) -> u32 {
    per_tier(level, a).2
}

fn def_per_tier(level: u32, a: &Assumptions) -> u32 {
    match a.def_below_140 {
        DefBelow140::OnePerTier if level < 140 => 1,
        _ => single_per_tier(level, a),
    }
}

/// Line counts on non-boss items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineCounts {
    /// 40/40/16/4 % (official KMS page, 환생의 불꽃류). Default.
    #[default]
    KmsOfficial,
    /// 40/40/15/5 % (GMS: brendonmay, StrategyWiki; TMS).
    Gms,
}

/// Abyss flame grade table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AbyssTable {
    /// Grades 3/4/5 at 63/34/3 % (KMS JS, RESETTS, MapleExpectation, brendonmay main.js). Default.
    #[default]
    Consensus,
    /// Grades 2/3/4/5 at 1/63/34/2 % (brendonmay worker.js).
    BrendonWorker,
}

/// Per-tier values for item levels 210–249, where KMS and GMS sources differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Levels201To249 {
    /// malib + KMS JS (single 12 at 220–239, 13 at 240–249; dual 7 at 240–249; HP 630…720). Default.
    #[default]
    Kms,
    /// GMS wiki / brendonmay (single 11 to 229, 12 from 230; dual 6; HP 620…680).
    Gms,
}

/// Weapon ATT/MATT line model; they differ only for Lv-250 boss weapons, non-boss non-Zero weapons of
/// Lv ≥ 160 and weapons of Lv ≤ 119 (both match all 26 published KMS values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeaponAttack {
    /// malib (KMS, WZ-based): multiplier table × v by level band. Default.
    #[default]
    Malib,
    /// GMS wiki / MapleExpectation doc: `(floor(L/40)+1)·t·1.1^(t−3)` boss, `·1.1^(t−1)` other.
    GmsFormula,
}

/// DEF line value below Lv 140.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DefBelow140 {
    /// Same as a single stat line (malib). Default.
    #[default]
    SingleStat,
    /// 1 per tier (KMS JS).
    OnePerTier,
}

/// Every choice the facts mark [UNCERTAIN], as named parameters. `Default` gives the defaults the engine
/// takes (listed in each enum's docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Assumptions {
    pub line_counts: LineCounts,
    pub abyss_table: AbyssTable,
    pub levels_201_to_249: Levels201To249,
    pub weapon_attack: WeaponAttack,
    pub def_below_140: DefBelow140,
}

macro_rules! keyed {
    ($t:ty { $($v:ident => $k:literal),+ $(,)? }) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$(<$t>::$v),+];
            pub fn key(self) -> &'static str {
                match self { $(<$t>::$v => $k),+ }
            }
            /// Inverse of `key`.
            pub fn parse(key: &str) -> Option<$t> {
                Self::ALL.iter().copied().find(|v| v.key() == key)
            }
        }
    };
}

keyed!(LineCounts { KmsOfficial => "kms_official", Gms => "gms" });
keyed!(AbyssTable { Consensus => "consensus", BrendonWorker => "brendon_worker" });
keyed!(Levels201To249 { Kms => "kms", Gms => "gms" });
keyed!(WeaponAttack { Malib => "malib", GmsFormula => "gms_formula" });
keyed!(DefBelow140 { SingleStat => "single_stat", OnePerTier => "one_per_tier" });
