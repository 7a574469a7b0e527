//! Potential option strings → typed lines.
//!
//! The parser is total: every input gives a [`ParsedLine`]. A string it does not recognise is
//! [`ParsedLine::Unparsed`], never a zero-valued stat. Recognised strings fall into two kinds:
//!
//! - [`ParsedLine::Stat`]: `<name> +<n>`, `<name> +<n>%`, `<name> -<n>초` and the like, where the name maps to a
//!   [`StatKind`] that goals can target (`INT +12%` → `int_pct` 12, `스킬 재사용 대기시간 -2초` → `cooldown_sec`
//!   2). The value is the number shown; a minus sign in the text becomes a positive reduction value.
//! - [`ParsedLine::NonStat`]: proc effects, usable skills and emotes (`공격 시 20% 확률로 240의 HP 회복`,
//!   `<쓸만한 헤이스트> 스킬 사용 가능`, ...). They carry numbers but no stat a goal sums; the list of patterns
//!   is closed ([`NonStatKind`]) so that a new kind of line shows up as `Unparsed`.
//!
//! Accepted wording is the Nexon Open API's (`보스 몬스터 데미지 +40%`). The official probability page's older
//! wording is accepted too: a `" : "` separator (`STR : +12%`), `보스 몬스터 공격 시 데미지` and the long
//! cooldown form `모든 스킬의 재사용 대기시간 : -1초(10초 이하는 5%감소, 5초 미만으로 감소 불가)`.

use core::fmt;

/// A stat a potential line adds and a goal can target. [`StatKind::key`] is the goal's JSON key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum StatKind {
    Str,
    Dex,
    Int,
    Luk,
    StrPct,
    DexPct,
    IntPct,
    LukPct,
    /// `올스탯 +n`: counts toward each of the flat `str`/`dex`/`int`/`luk` goals.
    AllStat,
    /// `올스탯 +n%`: counts toward each of the `str_pct`/`dex_pct`/`int_pct`/`luk_pct` goals.
    AllStatPct,
    MaxHp,
    MaxMp,
    MaxHpPct,
    MaxMpPct,
    Att,
    Matt,
    AttPct,
    MattPct,
    Def,
    DefPct,
    Speed,
    Jump,
    CritRatePct,
    CritDmgPct,
    DamagePct,
    BossPct,
    IedPct,
    /// `스킬 재사용 대기시간 -n초`: value n (seconds of reduction).
    CooldownSec,
    MesoPct,
    DropPct,
    /// `모든 스킬의 MP 소모 -n%`: value n.
    MpCostReductionPct,
    /// `HP 회복 아이템 및 회복 스킬 효율 +n%`.
    RecoveryEfficiencyPct,
    /// `피격 후 무적시간 +n초`.
    InvincibleAfterHitSec,
    /// `캐릭터 기준 9레벨 당 STR +n`: n per 9 character levels (not converted to flat STR).
    StrPer9Lv,
    DexPer9Lv,
    IntPer9Lv,
    LukPer9Lv,
}

impl StatKind {
    pub const ALL: &'static [StatKind] = &[
        StatKind::Str,
        StatKind::Dex,
        StatKind::Int,
        StatKind::Luk,
        StatKind::StrPct,
        StatKind::DexPct,
        StatKind::IntPct,
        StatKind::LukPct,
        StatKind::AllStat,
        StatKind::AllStatPct,
        StatKind::MaxHp,
        StatKind::MaxMp,
        StatKind::MaxHpPct,
        StatKind::MaxMpPct,
        StatKind::Att,
        StatKind::Matt,
        StatKind::AttPct,
        StatKind::MattPct,
        StatKind::Def,
        StatKind::DefPct,
        StatKind::Speed,
        StatKind::Jump,
        StatKind::CritRatePct,
        StatKind::CritDmgPct,
        StatKind::DamagePct,
        StatKind::BossPct,
        StatKind::IedPct,
        StatKind::CooldownSec,
        StatKind::MesoPct,
        StatKind::DropPct,
        StatKind::MpCostReductionPct,
        StatKind::RecoveryEfficiencyPct,
        StatKind::InvincibleAfterHitSec,
        StatKind::StrPer9Lv,
        StatKind::DexPer9Lv,
        StatKind::IntPer9Lv,
        StatKind::LukPer9Lv,
    ];

    /// The stable snake_case key used in goals (`int_pct`, `boss_pct`, `cooldown_sec`, ...).
    pub fn key(self) -> &'static str {
        use StatKind::*;
        match self {
            Str => "str",
            Dex => "dex",
            Int => "int",
            Luk => "luk",
            StrPct => "str_pct",
            DexPct => "dex_pct",
            IntPct => "int_pct",
            LukPct => "luk_pct",
            AllStat => "all_stat",
            AllStatPct => "all_stat_pct",
            MaxHp => "max_hp",
            MaxMp => "max_mp",
            MaxHpPct => "max_hp_pct",
            MaxMpPct => "max_mp_pct",
            Att => "att",
            Matt => "matt",
            AttPct => "att_pct",
            MattPct => "matt_pct",
            Def => "def",
            DefPct => "def_pct",
            Speed => "speed",
            Jump => "jump",
            CritRatePct => "crit_rate_pct",
            CritDmgPct => "crit_dmg_pct",
            DamagePct => "damage_pct",
            BossPct => "boss_pct",
            IedPct => "ied_pct",
            CooldownSec => "cooldown_sec",
            MesoPct => "meso_pct",
            DropPct => "drop_pct",
            MpCostReductionPct => "mp_cost_reduction_pct",
            RecoveryEfficiencyPct => "recovery_efficiency_pct",
            InvincibleAfterHitSec => "invincible_after_hit_sec",
            StrPer9Lv => "str_per_9lv",
            DexPer9Lv => "dex_per_9lv",
            IntPer9Lv => "int_per_9lv",
            LukPer9Lv => "luk_per_9lv",
        }
    }

    /// Inverse of [`StatKind::key`].
    pub fn from_key(key: &str) -> Option<StatKind> {
        StatKind::ALL.iter().copied().find(|k| k.key() == key)
    }

    /// Whether a line of kind `self` adds to a goal on `goal`: the same kind, or 올스탯 toward one stat.
    pub fn counts_toward(self, goal: StatKind) -> bool {
        use StatKind::*;
        self == goal
            || (self == AllStatPct && matches!(goal, StrPct | DexPct | IntPct | LukPct))
            || (self == AllStat && matches!(goal, Str | Dex | Int | Luk))
    }
}

impl fmt::Display for StatKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A stat line: kind and the value shown in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatLine {
    pub kind: StatKind,
    pub value: u32,
}

/// A recognised line with no stat a goal can sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum NonStatKind {
    /// `<쓸만한 헤이스트> 스킬 사용 가능`
    UsableSkill,
    /// `피격 시 10% 확률로 10초간 행복을 느낀다.` and the other four emotions
    Emote,
    /// `공격 시 10% 확률로 2레벨 기절효과 적용` (기절, 봉인, 빙결, 슬로우, 암흑, 중독)
    StatusEffectOnAttack,
    /// `공격 시 3% 확률로 오토스틸`
    AutoSteal,
    /// `공격 시 20% 확률로 240의 HP 회복` (HP or MP)
    RecoverOnAttack,
    /// `몬스터 처치 시 15% 확률로 40의 HP 회복` (HP or MP)
    RecoverOnKill,
    /// `4초 당 10의 HP 회복` (HP or MP)
    RegenOverTime,
    /// `10% 확률로 받은 피해의 20%를 반사`
    ReflectDamage,
    /// `피격 시 20% 확률로 11의 데미지 무시`
    IgnoreDamageFlatOnHit,
    /// `피격 시 10% 확률로 데미지의 20% 무시`
    IgnoreDamagePctOnHit,
    /// `피격 시 2% 확률로 5초간 무적`
    InvincibleOnHit,
}

impl NonStatKind {
    pub const ALL: &'static [NonStatKind] = &[
        NonStatKind::UsableSkill,
        NonStatKind::Emote,
        NonStatKind::StatusEffectOnAttack,
        NonStatKind::AutoSteal,
        NonStatKind::RecoverOnAttack,
        NonStatKind::RecoverOnKill,
        NonStatKind::RegenOverTime,
        NonStatKind::ReflectDamage,
        NonStatKind::IgnoreDamageFlatOnHit,
        NonStatKind::IgnoreDamagePctOnHit,
        NonStatKind::InvincibleOnHit,
    ];

    /// A stable snake_case name.
    pub fn key(self) -> &'static str {
        use NonStatKind::*;
        match self {
            UsableSkill => "usable_skill",
            Emote => "emote",
            StatusEffectOnAttack => "status_effect_on_attack",
            AutoSteal => "auto_steal",
            RecoverOnAttack => "recover_on_attack",
            RecoverOnKill => "recover_on_kill",
            RegenOverTime => "regen_over_time",
            ReflectDamage => "reflect_damage",
            IgnoreDamageFlatOnHit => "ignore_damage_flat_on_hit",
            IgnoreDamagePctOnHit => "ignore_damage_pct_on_hit",
            InvincibleOnHit => "invincible_on_hit",
        }
    }
}

/// The result of [`parse_line`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ParsedLine {
    Stat(StatLine),
    NonStat(NonStatKind),
    /// Not a known line. Carries the input (trimmed) so callers can report it.
    Unparsed(String),
}

impl ParsedLine {
    /// The stat line, if this is one.
    pub fn stat(&self) -> Option<StatLine> {
        match self {
            ParsedLine::Stat(s) => Some(*s),
            _ => None,
        }
    }
}

/// Names of stat lines: (text before the value, sign, unit, kind). `unit` is what follows the digits.
const STAT_NAMES: &[(&str, Sign, Unit, StatKind)] = {
    use StatKind::*;
    use {Sign::*, Unit::*};
    &[
        ("STR", Plus, Flat, Str),
        ("DEX", Plus, Flat, Dex),
        ("INT", Plus, Flat, Int),
        ("LUK", Plus, Flat, Luk),
        ("STR", Plus, Pct, StrPct),
        ("DEX", Plus, Pct, DexPct),
        ("INT", Plus, Pct, IntPct),
        ("LUK", Plus, Pct, LukPct),
        ("올스탯", Plus, Flat, AllStat),
        ("올스탯", Plus, Pct, AllStatPct),
        ("최대 HP", Plus, Flat, MaxHp),
        ("최대 MP", Plus, Flat, MaxMp),
        ("최대 HP", Plus, Pct, MaxHpPct),
        ("최대 MP", Plus, Pct, MaxMpPct),
        ("공격력", Plus, Flat, Att),
        ("마력", Plus, Flat, Matt),
        ("공격력", Plus, Pct, AttPct),
        ("마력", Plus, Pct, MattPct),
        ("방어력", Plus, Flat, Def),
        ("방어력", Plus, Pct, DefPct),
        ("이동속도", Plus, Flat, Speed),
        ("점프력", Plus, Flat, Jump),
        ("크리티컬 확률", Plus, Pct, CritRatePct),
        ("크리티컬 데미지", Plus, Pct, CritDmgPct),
        ("데미지", Plus, Pct, DamagePct),
        ("보스 몬스터 데미지", Plus, Pct, BossPct),
        ("보스 몬스터 공격 시 데미지", Plus, Pct, BossPct),
        ("몬스터 방어율 무시", Plus, Pct, IedPct),
        ("스킬 재사용 대기시간", Minus, Sec, CooldownSec),
        ("모든 스킬의 재사용 대기시간", Minus, Sec, CooldownSec),
        ("메소 획득량", Plus, Pct, MesoPct),
        ("아이템 드롭률", Plus, Pct, DropPct),
        ("모든 스킬의 MP 소모", Minus, Pct, MpCostReductionPct),
        (
            "HP 회복 아이템 및 회복 스킬 효율",
            Plus,
            Pct,
            RecoveryEfficiencyPct,
        ),
        ("피격 후 무적시간", Plus, Sec, InvincibleAfterHitSec),
        ("캐릭터 기준 9레벨 당 STR", Plus, Flat, StrPer9Lv),
        ("캐릭터 기준 9레벨 당 DEX", Plus, Flat, DexPer9Lv),
        ("캐릭터 기준 9레벨 당 INT", Plus, Flat, IntPer9Lv),
        ("캐릭터 기준 9레벨 당 LUK", Plus, Flat, LukPer9Lv),
    ]
};

/// Non-stat patterns. `{n}` matches one or more ASCII digits, `{a|b|c}` one of the listed words; everything
/// else is literal.
const NON_STAT_PATTERNS: &[(&str, NonStatKind)] = {
    use NonStatKind::*;
    &[
        (
            "<쓸만한 {미스틱 도어|샤프 아이즈|어드밴스드 블레스|윈드 부스터|컴뱃 오더스|하이퍼 바디|헤이스트}> 스킬 사용 가능",
            UsableSkill,
        ),
        (
            "피격 시 {n}% 확률로 {n}초간 {감동을 느낀다|격노를 느낀다|분노를 느낀다|사랑에 빠진다|행복을 느낀다}.",
            Emote,
        ),
        (
            "공격 시 {n}% 확률로 {n}레벨 {기절|봉인|빙결|슬로우|암흑|중독}효과 적용",
            StatusEffectOnAttack,
        ),
        ("공격 시 {n}% 확률로 오토스틸", AutoSteal),
        ("공격 시 {n}% 확률로 {n}의 {HP|MP} 회복", RecoverOnAttack),
        ("몬스터 처치 시 {n}% 확률로 {n}의 {HP|MP} 회복", RecoverOnKill),
        ("{n}초 당 {n}의 {HP|MP} 회복", RegenOverTime),
        ("{n}% 확률로 받은 피해의 {n}%를 반사", ReflectDamage),
        ("피격 시 {n}% 확률로 {n}의 데미지 무시", IgnoreDamageFlatOnHit),
        ("피격 시 {n}% 확률로 데미지의 {n}% 무시", IgnoreDamagePctOnHit),
        ("피격 시 {n}% 확률로 {n}초간 무적", InvincibleOnHit),
    ]
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    Plus,
    Minus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Flat,
    Pct,
    Sec,
}

/// Parse one potential option string. Total: unknown input is [`ParsedLine::Unparsed`].
///
/// # Examples
/// ```
/// use pve_engine::potential::{parse_line, ParsedLine, StatKind, StatLine};
/// assert_eq!(parse_line("INT +12%"), ParsedLine::Stat(StatLine { kind: StatKind::IntPct, value: 12 }));
/// assert_eq!(parse_line("스킬 재사용 대기시간 -2초").stat().map(|s| s.value), Some(2));
/// assert!(matches!(parse_line("행운 +3"), ParsedLine::Unparsed(_)));
/// ```
pub fn parse_line(text: &str) -> ParsedLine {
    let s = text.trim();
    if let Some(stat) = parse_stat(s) {
        return ParsedLine::Stat(stat);
    }
    for (pattern, kind) in NON_STAT_PATTERNS {
        if matches_pattern(s, pattern) {
            return ParsedLine::NonStat(*kind);
        }
    }
    ParsedLine::Unparsed(s.to_string())
}

fn parse_stat(s: &str) -> Option<StatLine> {
    // The old page wording: "모든 스킬의 재사용 대기시간 : -1초(10초 이하는 5%감소, 5초 미만으로 감소 불가)".
    let s = match s.find("초(") {
        Some(i) if s.ends_with(')') && s.starts_with("모든 스킬의 재사용 대기시간") => {
            &s[..i + "초".len()]
        }
        _ => s,
    };
    let (name, value) = match s.split_once(" : ") {
        Some((name, value)) => (name, value),
        None => s.rsplit_once(' ')?,
    };
    let (sign, rest) = if let Some(r) = value.strip_prefix('+') {
        (Sign::Plus, r)
    } else if let Some(r) = value.strip_prefix('-') {
        (Sign::Minus, r)
    } else {
        return None;
    };
    let digits_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let (digits, unit) = rest.split_at(digits_end);
    let value = parse_uint(digits)?;
    let unit = match unit {
        "" => Unit::Flat,
        "%" => Unit::Pct,
        "초" => Unit::Sec,
        _ => return None,
    };
    STAT_NAMES
        .iter()
        .find(|(n, sg, u, _)| *n == name && *sg == sign && *u == unit)
        .map(|(_, _, _, kind)| StatLine { kind: *kind, value })
}

/// Digits only, no sign, no leading zeros (except "0" itself), fits in u32.
fn parse_uint(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    digits.parse().ok()
}

/// Match `s` against a pattern with `{n}` (digits) and `{a|b}` (alternatives) holes.
fn matches_pattern(s: &str, pattern: &str) -> bool {
    let mut s = s;
    let mut p = pattern;
    loop {
        let Some(open) = p.find('{') else {
            return s == p;
        };
        let literal = &p[..open];
        let Some(rest) = s.strip_prefix(literal) else {
            return false;
        };
        s = rest;
        let Some(close) = p[open..].find('}') else {
            return false;
        };
        let hole = &p[open + 1..open + close];
        p = &p[open + close + 1..];
        if hole == "n" {
            let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            if parse_uint(&s[..end]).is_none() {
                return false;
            }
            s = &s[end..];
        } else {
            match hole.split('|').find(|alt| s.starts_with(alt)) {
                Some(alt) => s = &s[alt.len()..],
                None => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NonStatKind as N;
    use StatKind as K;

    fn check(input: &str, expect: ParsedLine) {
        assert_eq!(parse_line(input), expect, "input {input:?}");
    }
    fn stat(kind: StatKind, value: u32) -> ParsedLine {
        ParsedLine::Stat(StatLine { kind, value })
    }
    fn non(kind: NonStatKind) -> ParsedLine {
        ParsedLine::NonStat(kind)
    }
    fn unparsed(s: &str) -> ParsedLine {
        ParsedLine::Unparsed(s.to_string())
    }

    #[test]
    fn stat_lines() {
        check("INT +12%", stat(K::IntPct, 12));
        check("STR +12", stat(K::Str, 12));
        check("LUK +9%", stat(K::LukPct, 9));
        check("DEX +32", stat(K::Dex, 32));
        check("올스탯 +9%", stat(K::AllStatPct, 9));
        check("올스탯 +6", stat(K::AllStat, 6));
        check("공격력 +12%", stat(K::AttPct, 12));
        check("공격력 +32", stat(K::Att, 32));
        check("마력 +12%", stat(K::MattPct, 12));
        check("마력 +10", stat(K::Matt, 10));
        check("보스 몬스터 데미지 +40%", stat(K::BossPct, 40));
        check("몬스터 방어율 무시 +35%", stat(K::IedPct, 35));
        check("크리티컬 데미지 +8%", stat(K::CritDmgPct, 8));
        check("크리티컬 확률 +12%", stat(K::CritRatePct, 12));
        check("스킬 재사용 대기시간 -2초", stat(K::CooldownSec, 2));
        check("데미지 +12%", stat(K::DamagePct, 12));
        check("메소 획득량 +20%", stat(K::MesoPct, 20));
        check("아이템 드롭률 +20%", stat(K::DropPct, 20));
        check("최대 HP +12%", stat(K::MaxHpPct, 12));
        check("최대 MP +375", stat(K::MaxMp, 375));
        check("방어력 +150", stat(K::Def, 150));
        check("방어력 +7%", stat(K::DefPct, 7));
        check("이동속도 +8", stat(K::Speed, 8));
        check("점프력 +9", stat(K::Jump, 9));
        check("모든 스킬의 MP 소모 -30%", stat(K::MpCostReductionPct, 30));
        check(
            "HP 회복 아이템 및 회복 스킬 효율 +40%",
            stat(K::RecoveryEfficiencyPct, 40),
        );
        check("피격 후 무적시간 +3초", stat(K::InvincibleAfterHitSec, 3));
        check("캐릭터 기준 9레벨 당 INT +2", stat(K::IntPer9Lv, 2));
        check("캐릭터 기준 9레벨 당 STR +1", stat(K::StrPer9Lv, 1));
        check("  INT +7%  ", stat(K::IntPct, 7));
    }

    #[test]
    fn old_page_wording() {
        check("STR : +12%", stat(K::StrPct, 12));
        check("보스 몬스터 공격 시 데미지 : +35%", stat(K::BossPct, 35));
        check("보스 몬스터 공격 시 데미지 +30%", stat(K::BossPct, 30));
        check(
            "모든 스킬의 재사용 대기시간 : -1초(10초 이하는 5%감소, 5초 미만으로 감소 불가)",
            stat(K::CooldownSec, 1),
        );
    }

    #[test]
    fn non_stat_lines() {
        check("<쓸만한 헤이스트> 스킬 사용 가능", non(N::UsableSkill));
        check("피격 시 10% 확률로 10초간 행복을 느낀다.", non(N::Emote));
        check(
            "공격 시 10% 확률로 2레벨 기절효과 적용",
            non(N::StatusEffectOnAttack),
        );
        check("공격 시 3% 확률로 오토스틸", non(N::AutoSteal));
        check("공격 시 20% 확률로 240의 HP 회복", non(N::RecoverOnAttack));
        check("몬스터 처치 시 15% 확률로 40의 MP 회복", non(N::RecoverOnKill));
        check("4초 당 10의 HP 회복", non(N::RegenOverTime));
        check("10% 확률로 받은 피해의 20%를 반사", non(N::ReflectDamage));
        check(
            "피격 시 20% 확률로 11의 데미지 무시",
            non(N::IgnoreDamageFlatOnHit),
        );
        check(
            "피격 시 5% 확률로 데미지의 40% 무시",
            non(N::IgnoreDamagePctOnHit),
        );
        check("피격 시 2% 확률로 7초간 무적", non(N::InvincibleOnHit));
    }

    #[test]
    fn unknown_strings_are_unparsed_never_zero() {
        check("", unparsed(""));
        check("행운 +3", unparsed("행운 +3"));
        check("INT 12%", unparsed("INT 12%"));
        check("INT +12%p", unparsed("INT +12%p"));
        check("INT +%", unparsed("INT +%"));
        check("INT -12%", unparsed("INT -12%"));
        check("INT +012%", unparsed("INT +012%"));
        check("INT +99999999999%", unparsed("INT +99999999999%"));
        check("스킬 재사용 대기시간 +2초", unparsed("스킬 재사용 대기시간 +2초"));
        check(
            "캐릭터 기준 10레벨 당 공격력 +1",
            unparsed("캐릭터 기준 10레벨 당 공격력 +1"),
        );
        check(
            "<쓸만한 블링크> 스킬 사용 가능",
            unparsed("<쓸만한 블링크> 스킬 사용 가능"),
        );
        check(
            "공격 시 20% 확률로 240의 SP 회복",
            unparsed("공격 시 20% 확률로 240의 SP 회복"),
        );
        check("피격 시 2% 확률로 7초간 무적 ", non(N::InvincibleOnHit));
        check(
            "피격 시 2% 확률로 7초간 무적!",
            unparsed("피격 시 2% 확률로 7초간 무적!"),
        );
    }

    #[test]
    fn keys_round_trip_and_are_unique() {
        for k in StatKind::ALL {
            assert_eq!(StatKind::from_key(k.key()), Some(*k));
        }
        assert_eq!(StatKind::from_key("attack"), None);
        let mut keys: Vec<_> = StatKind::ALL.iter().map(|k| k.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), StatKind::ALL.len());
    }

    #[test]
    fn all_stat_counts_toward_each_main_stat() {
        for g in [K::StrPct, K::DexPct, K::IntPct, K::LukPct] {
            assert!(K::AllStatPct.counts_toward(g));
            assert!(!K::AllStat.counts_toward(g));
        }
        for g in [K::Str, K::Dex, K::Int, K::Luk] {
            assert!(K::AllStat.counts_toward(g));
        }
        assert!(!K::AllStatPct.counts_toward(K::AttPct));
        assert!(!K::IntPct.counts_toward(K::AllStatPct));
        assert!(K::AllStatPct.counts_toward(K::AllStatPct));
    }
}
