//! The flame score: a linear function of the flame stats with exact rational weights (FLAME_FACTS §3).

use super::rational::gcd_u128;
use super::{Error, FlameStats, Rational, Stat};
use std::fmt;

/// Largest common denominator of a set of weights (the score's unit is `1/scale`).
pub const MAX_SCALE: u64 = 1_000_000_000;

/// Non-negative weights per stat; score = Σ weight(stat) · value(stat).
///
/// # Examples
/// ```
/// use pve_engine::flame::{FlameStats, Rational, ScoreWeights, Stat};
/// // KMS 급수 for a STR class: STR + 4·ATT + 10·all%.
/// let w = ScoreWeights::from_pairs(&[
///     (Stat::Str, Rational::ONE),
///     (Stat::AttackPower, Rational::integer(4).unwrap()),
///     (Stat::AllStat, Rational::integer(10).unwrap()),
/// ])
/// .unwrap();
/// let s = FlameStats::from_pairs(&[(Stat::Str, 84), (Stat::Dex, 30), (Stat::AllStat, 6)]);
/// assert_eq!(w.score(&s).to_f64(), 144.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreWeights {
    weights: [Rational; Stat::COUNT],
    scale: u64,
    rounded: bool,
}

impl ScoreWeights {
    /// Weights from `(stat, weight)` pairs; stats not named weigh 0. When their exact common denominator
    /// would be above [`MAX_SCALE`] (say 1/999999937 and 1/999999929), every weight is read to the nearest
    /// billionth ([`Rational::to_billionths`]), so the denominator divides 10^9, and [`Self::rounded`] says
    /// so: the score stays exact in integer units, for weights the caller can see.
    ///
    /// ```
    /// use pve_engine::flame::{Rational, ScoreWeights, Stat};
    /// let w = ScoreWeights::from_pairs(&[
    ///     (Stat::Str, Rational::new(1, 999_999_937).unwrap()),
    ///     (Stat::Dex, Rational::new(1, 999_999_929).unwrap()),
    /// ])
    /// .unwrap();
    /// assert!(w.rounded());
    /// assert_eq!(w.weight(Stat::Str), Rational::new(1, 1_000_000_000).unwrap());
    /// assert_eq!(w.scale(), 1_000_000_000);
    /// ```
    ///
    /// # Errors
    /// [`Error::NegativeWeight`], [`Error::DuplicateStat`].
    pub fn from_pairs(pairs: &[(Stat, Rational)]) -> Result<Self, Error> {
        let mut weights = [Rational::ZERO; Stat::COUNT];
        let mut seen = [false; Stat::COUNT];
        for &(stat, w) in pairs {
            if seen[stat.index()] {
                return Err(Error::DuplicateStat { stat });
            }
            seen[stat.index()] = true;
            if w.is_negative() {
                return Err(Error::NegativeWeight { stat });
            }
            weights[stat.index()] = w;
        }
        match common_denominator(&weights) {
            Some(scale) => Ok(ScoreWeights {
                weights,
                scale,
                rounded: false,
            }),
            None => {
                for w in &mut weights {
                    *w = w.to_billionths()?;
                }
                // Every denominator now divides 10^9, and so does their least common multiple.
                let scale = common_denominator(&weights).ok_or(Error::Overflow)?;
                Ok(ScoreWeights {
                    weights,
                    scale,
                    rounded: true,
                })
            }
        }
    }

    /// Whether the weights were read to the nearest billionth (see [`Self::from_pairs`]).
    pub fn rounded(&self) -> bool {
        self.rounded
    }

    pub fn weight(&self, stat: Stat) -> Rational {
        self.weights[stat.index()]
    }

    /// Non-zero weights in [`Stat::ALL`] order.
    pub fn nonzero(&self) -> impl Iterator<Item = (Stat, Rational)> + '_ {
        Stat::ALL
            .iter()
            .map(|&s| (s, self.weight(s)))
            .filter(|(_, w)| !w.is_zero())
    }

    /// The score unit is `1/scale`: the least common denominator of the weights.
    pub fn scale(&self) -> u64 {
        self.scale
    }

    /// Weight of `stat` in score units (`weight × scale`, an integer).
    pub(crate) fn units(&self, stat: Stat) -> i128 {
        let w = self.weight(stat);
        i128::from(w.num()) * i128::from(self.scale / w.den())
    }

    /// The score of flame totals `stats` (for example an item's current `item_add_option`).
    pub fn score(&self, stats: &FlameStats) -> Score {
        let units = Stat::ALL
            .iter()
            .map(|&s| self.units(s) * i128::from(stats.get(s)))
            .sum();
        Score {
            units,
            scale: self.scale,
        }
    }
}

/// The least common denominator of `weights`, or `None` above [`MAX_SCALE`].
fn common_denominator(weights: &[Rational]) -> Option<u64> {
    let mut scale: u128 = 1;
    for w in weights {
        let d = u128::from(w.den());
        scale = scale / gcd_u128(scale, d) * d;
        if scale > u128::from(MAX_SCALE) {
            return None;
        }
    }
    u64::try_from(scale).ok()
}

/// An exact score: `units / scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score {
    pub(crate) units: i128,
    pub(crate) scale: u64,
}

impl Score {
    pub fn units(&self) -> i128 {
        self.units
    }

    pub fn scale(&self) -> u64 {
        self.scale
    }

    pub fn to_f64(&self) -> f64 {
        self.units as f64 / self.scale as f64
    }

    /// Whether this score is at least `target` (exact).
    pub fn at_least(&self, target: Rational) -> bool {
        // units/scale >= num/den  <=>  units·den >= num·scale (den, scale > 0)
        self.units * i128::from(target.den()) >= i128::from(target.num()) * i128::from(self.scale)
    }
}

/// In lowest terms, as [`Rational`] writes itself: `"241/2"`, `"120"`.
impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = gcd_u128(self.units.unsigned_abs(), u128::from(self.scale)).max(1);
        let (num, den) = (self.units / g as i128, u128::from(self.scale) / g);
        if den == 1 {
            write!(f, "{num}")
        } else {
            write!(f, "{num}/{den}")
        }
    }
}

/// The smallest score (in units of `1/scale`) that is at least `target`.
pub fn target_units(target: Rational, scale: u64) -> i128 {
    let n = i128::from(target.num()) * i128::from(scale);
    let d = i128::from(target.den());
    n.div_euclid(d) + i128::from(n.rem_euclid(d) != 0)
}

/// A named scoring convention (score_conventions.csv).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Convention {
    /// KMS 급수 (maple-hub, KMS JS, ppt21): main + 4·ATT (MATT for magicians) + 10·all%, sub stat 0. On
    /// weapons boss% and damage% weigh 14 each (the MapleExpectation value: the KMS sources grade weapons by
    /// ATT tier and report boss/damage separately, so this weight is our choice). Xenon: (STR+DEX+LUK) +
    /// 4·ATT + 20·all% (maple-hub guide). Demon Avenger: HP/17.5 + 4·ATT (maple-hub guide). Default.
    #[default]
    KmsGrade,
    /// MapleExpectation (KMS): main 1, sub 0.1, ATT 4, all% 10, boss%/damage% 14; Xenon STR/DEX/LUK 1;
    /// Demon Avenger HP 1 + 150·ATT. Only the class's own attack stat counts (their bug (c) is not copied).
    MapleExpectation,
    /// brendonmay flameCalculator default (GMS, since 2024-04-22): main + sub/12 + 3·ATT + 10·all% +
    /// 15·(boss% + damage%). Not defined for Xenon and Demon Avenger (use explicit weights).
    BrendonGms,
}

impl Convention {
    pub const ALL: [Convention; 3] = [
        Convention::KmsGrade,
        Convention::MapleExpectation,
        Convention::BrendonGms,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Convention::KmsGrade => "kms_grade",
            Convention::MapleExpectation => "maple_expectation",
            Convention::BrendonGms => "brendon_gms",
        }
    }

    pub fn parse(key: &str) -> Option<Convention> {
        Convention::ALL.iter().copied().find(|c| c.key() == key)
    }
}

/// Which stats a class scores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassStats {
    /// One main stat, zero or more sub stats, one attack stat (ATT or MATT).
    Standard {
        main: Stat,
        subs: Vec<Stat>,
        attack: Stat,
    },
    /// STR, DEX and LUK are all main stats; ATT.
    Xenon,
    /// Max HP is the main stat; ATT.
    DemonAvenger,
}

impl ClassStats {
    /// A standard class.
    ///
    /// # Errors
    /// [`Error::NotAMainStat`] unless `main` and every sub is STR/DEX/INT/LUK, [`Error::NotAnAttackStat`],
    /// [`Error::DuplicateStat`] when a stat appears twice.
    pub fn standard(main: Stat, subs: &[Stat], attack: Stat) -> Result<ClassStats, Error> {
        let primary = |s: Stat| matches!(s, Stat::Str | Stat::Dex | Stat::Int | Stat::Luk);
        if let Some(&s) = std::iter::once(&main).chain(subs).find(|&&s| !primary(s)) {
            return Err(Error::NotAMainStat { stat: s });
        }
        if !matches!(attack, Stat::AttackPower | Stat::MagicPower) {
            return Err(Error::NotAnAttackStat { stat: attack });
        }
        for (i, s) in subs.iter().enumerate() {
            if *s == main || subs[..i].contains(s) {
                return Err(Error::DuplicateStat { stat: *s });
            }
        }
        Ok(ClassStats::Standard {
            main,
            subs: subs.to_vec(),
            attack,
        })
    }
}

/// Optional replacements for single weights of a convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Overrides {
    /// Weight of each sub stat (standard classes only).
    pub sub_stat: Option<Rational>,
    /// Weight of the class's attack stat.
    pub attack: Option<Rational>,
    pub all_stat: Option<Rational>,
    pub boss_damage: Option<Rational>,
    pub damage: Option<Rational>,
}

impl ScoreWeights {
    /// The weights of `convention` for a class, with `overrides` applied.
    ///
    /// # Errors
    /// [`Error::ConventionUndefinedForClass`], [`Error::OverrideNotApplicable`] (a sub-stat weight for
    /// Xenon or Demon Avenger), and the errors of [`ScoreWeights::from_pairs`].
    pub fn for_class(
        class: &ClassStats,
        convention: Convention,
        overrides: Overrides,
    ) -> Result<Self, Error> {
        let int = |n: i64| Rational::new(n, 1);
        let frac = |n: i64, d: u64| Rational::new(n, d);
        // (main-ish pairs, attack stat, attack, all, boss, damage)
        let mut pairs: Vec<(Stat, Rational)> = Vec::new();
        let (attack_stat, attack, all, boss, dmg) = match (class, convention) {
            (ClassStats::Standard { main, subs, attack }, c) => {
                let (sub, att, all, bd) = match c {
                    Convention::KmsGrade => (Rational::ZERO, int(4)?, int(10)?, int(14)?),
                    Convention::MapleExpectation => (frac(1, 10)?, int(4)?, int(10)?, int(14)?),
                    Convention::BrendonGms => (frac(1, 12)?, int(3)?, int(10)?, int(15)?),
                };
                let sub = overrides.sub_stat.unwrap_or(sub);
                pairs.push((*main, Rational::ONE));
                pairs.extend(subs.iter().map(|&s| (s, sub)));
                (*attack, att, all, bd, bd)
            }
            (ClassStats::Xenon | ClassStats::DemonAvenger, Convention::BrendonGms) => {
                return Err(Error::ConventionUndefinedForClass {
                    convention: convention.key(),
                })
            }
            (ClassStats::Xenon, c) => {
                if overrides.sub_stat.is_some() {
                    return Err(Error::OverrideNotApplicable {
                        what: "sub_stat_weight",
                    });
                }
                pairs.extend([Stat::Str, Stat::Dex, Stat::Luk].map(|s| (s, Rational::ONE)));
                let all = if c == Convention::KmsGrade {
                    int(20)?
                } else {
                    int(10)?
                };
                (Stat::AttackPower, int(4)?, all, int(14)?, int(14)?)
            }
            (ClassStats::DemonAvenger, c) => {
                if overrides.sub_stat.is_some() {
                    return Err(Error::OverrideNotApplicable {
                        what: "sub_stat_weight",
                    });
                }
                if c == Convention::KmsGrade {
                    pairs.push((Stat::MaxHp, frac(2, 35)?)); // HP / 17.5
                    (Stat::AttackPower, int(4)?, Rational::ZERO, int(14)?, int(14)?)
                } else {
                    pairs.push((Stat::MaxHp, Rational::ONE));
                    (
                        Stat::AttackPower,
                        int(150)?,
                        Rational::ZERO,
                        Rational::ZERO,
                        Rational::ZERO,
                    )
                }
            }
        };
        pairs.push((attack_stat, overrides.attack.unwrap_or(attack)));
        pairs.push((Stat::AllStat, overrides.all_stat.unwrap_or(all)));
        pairs.push((Stat::BossDamage, overrides.boss_damage.unwrap_or(boss)));
        pairs.push((Stat::Damage, overrides.damage.unwrap_or(dmg)));
        pairs.retain(|(_, w)| !w.is_zero());
        ScoreWeights::from_pairs(&pairs)
    }
}

/// A class as the Nexon Open API names it (`character_class`), with the stats it scores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassProfile {
    /// Canonical KMS name.
    pub name: &'static str,
    pub stats: ClassStats,
}

impl fmt::Display for ClassProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

use Stat::{AttackPower as ATT, Dex as DEX, Int as INT, Luk as LUK, MagicPower as MATT, Str as STR};

/// (KMS name, English aliases, main, subs, attack).
type ClassRow = (&'static str, &'static [&'static str], Stat, &'static [Stat], Stat);

/// The class table. Source: MapleExpectation
/// `module-app/.../flame/config/JobStatMapping.java` @ ad1d591 for the stat pairs; 배틀메이지 (INT/LUK)
/// added, 캐논마스터 and 듀얼블레이더 accepted as alternative spellings. Xenon and Demon Avenger are special.
#[rustfmt::skip]
const CLASSES: &[ClassRow] = &[
    ("히어로", &["hero"], STR, &[DEX], ATT),
    ("팔라딘", &["paladin"], STR, &[DEX], ATT),
    ("다크나이트", &["dark_knight"], STR, &[DEX], ATT),
    ("소울마스터", &["dawn_warrior", "soul_master"], STR, &[DEX], ATT),
    ("미하일", &["mihile"], STR, &[DEX], ATT),
    ("블래스터", &["blaster"], STR, &[DEX], ATT),
    ("데몬슬레이어", &["demon_slayer"], STR, &[DEX], ATT),
    ("아란", &["aran"], STR, &[DEX], ATT),
    ("아델", &["adele"], STR, &[DEX], ATT),
    ("카이저", &["kaiser"], STR, &[DEX], ATT),
    ("제로", &["zero"], STR, &[DEX], ATT),
    ("바이퍼", &["viper", "buccaneer"], STR, &[DEX], ATT),
    ("캐논슈터", &["캐논마스터", "cannoneer", "cannon_master"], STR, &[DEX], ATT),
    ("스트라이커", &["striker", "thunder_breaker"], STR, &[DEX], ATT),
    ("아크", &["ark"], STR, &[DEX], ATT),
    ("은월", &["eunwol", "shade"], STR, &[DEX], ATT),
    ("보우마스터", &["bowmaster"], DEX, &[STR], ATT),
    ("신궁", &["marksman"], DEX, &[STR], ATT),
    ("패스파인더", &["pathfinder"], DEX, &[STR], ATT),
    ("윈드브레이커", &["wind_breaker", "wind_archer"], DEX, &[STR], ATT),
    ("와일드헌터", &["wild_hunter"], DEX, &[STR], ATT),
    ("카인", &["kain"], DEX, &[STR], ATT),
    ("메르세데스", &["mercedes"], DEX, &[STR], ATT),
    ("캡틴", &["captain", "corsair"], DEX, &[STR], ATT),
    ("메카닉", &["mechanic"], DEX, &[STR], ATT),
    ("엔젤릭버스터", &["angelic_buster"], DEX, &[STR], ATT),
    ("아크메이지(불,독)", &["archmage_fp", "fire_poison"], INT, &[LUK], MATT),
    ("아크메이지(썬,콜)", &["archmage_il", "ice_lightning"], INT, &[LUK], MATT),
    ("비숍", &["bishop"], INT, &[LUK], MATT),
    ("플레임위자드", &["flame_wizard", "blaze_wizard"], INT, &[LUK], MATT),
    ("배틀메이지", &["battle_mage"], INT, &[LUK], MATT),
    ("에반", &["evan"], INT, &[LUK], MATT),
    ("루미너스", &["luminous"], INT, &[LUK], MATT),
    ("키네시스", &["kinesis"], INT, &[LUK], MATT),
    ("일리움", &["illium"], INT, &[LUK], MATT),
    ("라라", &["lara"], INT, &[LUK], MATT),
    ("나이트로드", &["night_lord"], LUK, &[DEX], ATT),
    ("나이트워커", &["night_walker"], LUK, &[DEX], ATT),
    ("팬텀", &["phantom"], LUK, &[DEX], ATT),
    ("칼리", &["khali"], LUK, &[DEX], ATT),
    ("호영", &["hoyoung"], LUK, &[DEX], ATT),
    ("섀도어", &["shadower"], LUK, &[STR, DEX], ATT),
    ("듀얼블레이드", &["듀얼블레이더", "dual_blade"], LUK, &[STR, DEX], ATT),
    ("카데나", &["cadena"], LUK, &[STR, DEX], ATT),
];

/// Every name [`class_profile`] takes untrimmed (KMS names and English aliases), without duplicates: the
/// API declares them as the enum of `score.class`.
pub fn class_names_and_aliases() -> Vec<&'static str> {
    let mut names = vec!["제논", "xenon", "데몬어벤져", "demon_avenger"];
    for &(kms, aliases, ..) in CLASSES {
        for name in std::iter::once(kms).chain(aliases.iter().copied()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// The class named `name`: a KMS name as in the Open API `character_class` (e.g. `"에반"`) or an English
/// alias (`"evan"`, `"night_lord"`, `"xenon"`, `"demon_avenger"`).
///
/// # Errors
/// [`Error::UnknownClass`] for any other name (including 1st–3rd job names).
pub fn class_profile(name: &str) -> Result<ClassProfile, Error> {
    let n = name.trim();
    match n {
        "제논" | "xenon" => {
            return Ok(ClassProfile {
                name: "제논",
                stats: ClassStats::Xenon,
            })
        }
        "데몬어벤져" | "demon_avenger" => {
            return Ok(ClassProfile {
                name: "데몬어벤져",
                stats: ClassStats::DemonAvenger,
            })
        }
        _ => {}
    }
    CLASSES
        .iter()
        .find(|(kms, aliases, ..)| *kms == n || aliases.contains(&n))
        .map(|&(kms, _, main, subs, attack)| ClassProfile {
            name: kms,
            stats: ClassStats::Standard {
                main,
                subs: subs.to_vec(),
                attack,
            },
        })
        .ok_or_else(|| Error::UnknownClass { name: n.to_owned() })
}

/// Every class name [`class_profile`] knows (KMS names), for listings and tests.
pub fn class_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = CLASSES.iter().map(|c| c.0).collect();
    v.extend(["제논", "데몬어벤져"]);
    v
}
