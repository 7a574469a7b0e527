//! The stats a flame line can add, named as in the Nexon Open API `item_add_option` object.

use super::Error;

/// One flame stat. [`Stat::key`] is the Nexon Open API field name in `item_add_option`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stat {
    Str,
    Dex,
    Int,
    Luk,
    MaxHp,
    MaxMp,
    /// ATT (공격력).
    AttackPower,
    /// MATT (마력).
    MagicPower,
    /// DEF (방어력), `armor` in the API.
    Armor,
    Speed,
    Jump,
    /// Boss damage % (weapons only).
    BossDamage,
    /// Damage % (weapons only).
    Damage,
    /// All stat %.
    AllStat,
    /// Required level reduction (착용 레벨 감소), a positive magnitude.
    LevelDecrease,
}

impl Stat {
    pub const COUNT: usize = 15;
    /// Every stat, in the order of the API object.
    pub const ALL: [Stat; Stat::COUNT] = [
        Stat::Str,
        Stat::Dex,
        Stat::Int,
        Stat::Luk,
        Stat::MaxHp,
        Stat::MaxMp,
        Stat::AttackPower,
        Stat::MagicPower,
        Stat::Armor,
        Stat::Speed,
        Stat::Jump,
        Stat::BossDamage,
        Stat::Damage,
        Stat::AllStat,
        Stat::LevelDecrease,
    ];

    /// The Nexon Open API field name (`item_add_option.<key>`).
    pub fn key(self) -> &'static str {
        match self {
            Stat::Str => "str",
            Stat::Dex => "dex",
            Stat::Int => "int",
            Stat::Luk => "luk",
            Stat::MaxHp => "max_hp",
            Stat::MaxMp => "max_mp",
            Stat::AttackPower => "attack_power",
            Stat::MagicPower => "magic_power",
            Stat::Armor => "armor",
            Stat::Speed => "speed",
            Stat::Jump => "jump",
            Stat::BossDamage => "boss_damage",
            Stat::Damage => "damage",
            Stat::AllStat => "all_stat",
            Stat::LevelDecrease => "equipment_level_decrease",
        }
    }

    /// Inverse of [`Stat::key`].
    ///
    /// # Errors
    /// [`Error::UnknownStat`] for any other string.
    pub fn parse(key: &str) -> Result<Stat, Error> {
        Stat::ALL
            .iter()
            .copied()
            .find(|s| s.key() == key)
            .ok_or_else(|| Error::UnknownStat { name: key.to_owned() })
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Flame stat totals of one item (the `item_add_option` object), all non-negative.
///
/// # Examples
/// ```
/// use pve_engine::flame::{FlameStats, Stat};
/// let s = FlameStats::from_pairs(&[(Stat::Str, 84), (Stat::AllStat, 6)]);
/// assert_eq!(s.get(Stat::Str), 84);
/// assert_eq!(s.get(Stat::Dex), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlameStats {
    values: [u32; Stat::COUNT],
}

impl FlameStats {
    /// Totals from `(stat, value)` pairs; a stat given twice adds up.
    pub fn from_pairs(pairs: &[(Stat, u32)]) -> Self {
        let mut s = FlameStats::default();
        for &(stat, v) in pairs {
            s.values[stat.index()] = s.values[stat.index()].saturating_add(v);
        }
        s
    }

    pub fn get(&self, stat: Stat) -> u32 {
        self.values[stat.index()]
    }

    pub fn set(&mut self, stat: Stat, value: u32) {
        self.values[stat.index()] = value;
    }

    /// Non-zero stats in [`Stat::ALL`] order.
    pub fn nonzero(&self) -> impl Iterator<Item = (Stat, u32)> + '_ {
        Stat::ALL
            .iter()
            .map(|&s| (s, self.get(s)))
            .filter(|&(_, v)| v != 0)
    }
}
