//! `flame` request/response schema (`pve flame`, `POST /v1/flame`, Wasm `flame`).
//!
//! The probability that ONE flame reaches a flame score, the expected number of flames and its quantiles,
//! computed by exact enumeration in [`pve_engine::flame`] (see its docs for the model).
//!
//! # Request
//! ```json
//! {
//!   "flame": "eternal",
//!   "item": {"level": 200, "kind": "armor", "boss": true},
//!   "score": {"class": "히어로"},
//!   "target_score": 120
//! }
//! ```
//! | field | type | meaning |
//! |---|---|---|
//! | `flame` | `"powerful"` \| `"eternal"` \| `"black"` \| `"abyss"` | required. `black` uses the eternal table (you keep the better result, so the chance per use is the same) |
//! | `item.level` | integer 1..=250 | required; the level the value formulas use (`item_base_option.base_equipment_level`) |
//! | `item.kind` | `"armor"` \| `"accessory"` \| `"weapon"` \| `"zero_weapon"` | required |
//! | `item.boss` | bool | required except for `zero_weapon` (never boss): boss items have 4 lines and tiers 3–7 |
//! | `item.base_attack` | integer ≥ 1 | weapons only, required: base ATT (Lazuli: the paired Lapis base) |
//! | `item.base_magic_attack` | integer | weapons only, optional (default 0): the MATT line uses it when larger than base ATT |
//! | `score` | object | required, exactly one of `class`, `main_stat`, `weights` (below) |
//! | `target_score` | number or string (`"120"`, `"120.5"`, `"241/2"`) | the score to reach (inclusive); optional only when `current` is given, then the current score is the target |
//! | `current` | object | optional: the item's flame totals in the Open API `item_add_option` shape (values as numbers or numeric strings); reported back as `current_score` |
//! | `assumptions` | object | optional: choices the facts mark uncertain (below) |
//! | `include_distribution` | bool | optional (default false): add the full score distribution |
//!
//! `score`:
//! - `{"class": "에반"}`: a KMS class name as in the Open API `character_class`, or an English alias
//!   (`"evan"`, `"night_lord"`, `"xenon"`, `"demon_avenger"`, ...);
//! - `{"main_stat": "str", "sub_stats": ["dex"], "attack": "attack_power"}`: a class by its stats
//!   (`attack` defaults to `magic_power` for an `int` main stat, else `attack_power`; `sub_stats` to none);
//! - both forms take `"convention"`: `"kms_grade"` (default) \| `"maple_expectation"` \| `"brendon_gms"`, and
//!   overrides `sub_stat_weight`, `attack_weight`, `all_stat_weight`, `boss_damage_weight`, `damage_weight`;
//! - `{"weights": {"str": 1, "dex": "1/12", "attack_power": 3, "all_stat": 10}}`: explicit non-negative
//!   weights keyed by `item_add_option` field names (`str dex int luk max_hp max_mp attack_power
//!   magic_power armor speed jump boss_damage damage all_stat equipment_level_decrease`).
//!
//! The conventions (score_conventions.csv): `kms_grade` = main + 4·ATT (MATT for magicians) + 10·all%, sub
//! stats 0, boss%/damage% 14 on weapons (our choice, from MapleExpectation); Xenon (STR+DEX+LUK) + 4·ATT +
//! 20·all%; Demon Avenger HP/17.5 + 4·ATT. `maple_expectation` = main + 0.1·sub + 4·ATT + 10·all% +
//! 14·(boss%+damage%). `brendon_gms` = main + sub/12 + 3·ATT + 10·all% + 15·(boss%+damage%).
//!
//! `assumptions` (each optional; the defaults are listed first and echoed in the response):
//! `line_counts` `"kms_official"` (40/40/16/4) \| `"gms"` (40/40/15/5); `abyss_table` `"consensus"`
//! (63/34/3) \| `"brendon_worker"` (1/63/34/2); `levels_201_249` `"kms"` \| `"gms"`; `weapon_attack`
//! `"malib"` \| `"gms_formula"`; `def_below_140` `"single_stat"` \| `"one_per_tier"`.
//!
//! # Response
//! ```json
//! {"engine_version":"0.1.0","data_version":"flame-facts-…","flame":"eternal",
//!  "item":{"level":200,"kind":"armor","boss":true,"pool":["str",…],"tiers":[{"tier":4,"percent":29},…],
//!          "line_count_percent":[0,0,0,100]},
//!  "score":{"class":"히어로","convention":"kms_grade","weights":{"str":"1","attack_power":"4","all_stat":"10"}},
//!  "target_score":120.0,"target_score_exact":"120","current_score":null,
//!  "impossible":false,"reason":null,
//!  "p_success":0.0228756…,"p_per_attempt":0.0228756…,"p_success_exact":"295552881/12920000000",
//!  "mean_flames":43.71…,"sd_flames":43.2…,"flame_quantiles":{"p50":31.0,"p90":100.0,"p99":199.0},
//!  "max_score":…,"min_score":0.0,"mean_score":45.08…,"distribution":null,
//!  "assumptions":{"line_counts":"kms_official",…},"notes":["…"]}
//! ```
//! `p_success` (alias `p_per_attempt`) is P(score ≥ target) for one flame; `mean_flames` = 1/p;
//! `flame_quantiles.pXX` is the smallest n with P(success within n flames) ≥ XX %. When no outcome reaches
//! the target: `impossible: true`, `reason`, `p_success: 0` and `mean_flames`/`sd_flames`/`flame_quantiles`
//! null. `distribution` (when asked) is `[{"score":…,"p":…,"p_exact":"a/b"}]` in ascending score.
use crate::{ApiError, ErrorCode};
use pve_engine::flame as fl;
use pve_engine::message::Message;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FlameDto {
    Powerful,
    Eternal,
    Black,
    Abyss,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum KindDto {
    Armor,
    Accessory,
    Weapon,
    ZeroWeapon,
}

/// `boss` is required except for `zero_weapon` (never boss); `base_attack` is required for weapons
/// and, like `base_magic_attack`, not given (or 0) for armor and accessories.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = item_rules_schema))]
#[serde(deny_unknown_fields)]
pub struct ItemDto {
    /// 1 to 250: the level the value formulas use.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = pve_engine::flame::MAX_LEVEL)))]
    pub level: u32,
    pub kind: KindDto,
    #[serde(default)]
    pub boss: Option<bool>,
    /// Weapons only, required for them: base ATT, ≥ 1 (on armor and accessories null or 0, meaning none).
    #[serde(default)]
    pub base_attack: Option<u32>,
    #[serde(default)]
    pub base_magic_attack: Option<u32>,
}

/// The per-kind rules of [`ItemDto`] as JSON Schema.
#[cfg(feature = "schema")]
fn item_rules_schema(schema: &mut schemars::Schema) {
    let boss = serde_json::json!({"type": "boolean"});
    let attack = serde_json::json!({"type": "integer", "minimum": 1, "maximum": u32::MAX});
    let none = serde_json::json!({"enum": [0, null]});
    schema.insert(
        "allOf".into(),
        serde_json::json!([{"anyOf": [
            {"required": ["boss", "base_attack"], "properties": {"kind": {"const": "weapon"}, "boss": boss, "base_attack": attack}},
            {"required": ["base_attack"], "properties": {"kind": {"const": "zero_weapon"}, "boss": {"enum": [false, null]}, "base_attack": attack}},
            {"required": ["boss"], "properties": {"kind": {"enum": ["armor", "accessory"]}, "boss": boss, "base_attack": none, "base_magic_attack": none}}
        ]}]),
    );
}

/// A number as JSON number or as a string (`"0.1"`, `"1/12"`).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = number_schema))]
#[serde(untagged)]
pub enum NumberDto {
    Number(f64),
    Text(String),
}

/// What [`fl::Rational::parse`] takes, as a pattern: a decimal of at most 9 decimals and a magnitude of at
/// most 10^9, or a fraction of integers each at most 10^9 (denominator ≥ 1). No spaces. `signed`: a `-`
/// is admitted (a target); a weight takes `+` only.
#[cfg(feature = "schema")]
fn number_text(signed: bool) -> String {
    let sign = if signed { "[+-]?" } else { r"\+?" };
    format!(
        r"^(?:{sign}(?:0*[0-9]{{1,9}}(?:\.[0-9]{{0,9}}0*)?|0*1000000000(?:\.0*)?|\.[0-9]{{1,9}}0*)|{sign}0*(?:[0-9]{{1,9}}|1000000000)/\+?0*(?:[1-9][0-9]{{0,8}}|1000000000))$"
    )
}

/// A weight: a [`NumberDto`] that is not negative.
#[cfg(feature = "schema")]
fn weight_schema() -> serde_json::Value {
    serde_json::json!({"anyOf": [
        {"type": "number", "minimum": 0, "maximum": fl::MAX_MAGNITUDE},
        {"type": "string", "pattern": number_text(false)}
    ]})
}

/// A whole number from 0 to 10^9 as text (a `current` value).
#[cfg(feature = "schema")]
const WHOLE_TEXT: &str = r"^\+?0*(?:[0-9]{1,9}|1000000000)(?:\.0*)?$";

/// [`NumberDto`] as JSON Schema: a number within ±10^9 (one with more than 9 decimals is read to 9, and
/// the response's notes say so: `flame.number_rounded`), or a string matching [`number_text`].
#[cfg(feature = "schema")]
fn number_schema(schema: &mut schemars::Schema) {
    let max = fl::MAX_MAGNITUDE;
    *schema = schemars::json_schema!({
        "description": "A number as JSON number (within ±10^9; more than 9 decimals are read to 9, with a \
            `flame.number_rounded` note) or as a string, exact (`\"0.1\"`, `\"1/12\"`: at most 9 decimals, \
            fraction parts at most 10^9, no spaces).",
        "anyOf": [
            {"type": "number", "minimum": -max, "maximum": max},
            {"type": "string", "pattern": number_text(true)}
        ]
    });
}

impl NumberDto {
    /// The exact value, and whether a JSON number was rounded to 9 decimals to get it
    /// ([`fl::Rational::from_f64_rounded`]; a string is exact or refused).
    fn to_rational(&self) -> Result<(fl::Rational, bool), fl::Error> {
        match self {
            NumberDto::Number(x) => fl::Rational::from_f64_rounded(*x),
            NumberDto::Text(t) => fl::Rational::parse(t).map(|r| (r, false)),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConventionDto {
    KmsGrade,
    MapleExpectation,
    BrendonGms,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = score_rules_schema))]
#[serde(deny_unknown_fields)]
pub struct ScoreDto {
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub main_stat: Option<String>,
    #[serde(default)]
    pub sub_stats: Option<Vec<String>>,
    #[serde(default)]
    pub attack: Option<String>,
    #[serde(default)]
    pub convention: Option<ConventionDto>,
    #[serde(default)]
    pub sub_stat_weight: Option<NumberDto>,
    #[serde(default)]
    pub attack_weight: Option<NumberDto>,
    #[serde(default)]
    pub all_stat_weight: Option<NumberDto>,
    #[serde(default)]
    pub boss_damage_weight: Option<NumberDto>,
    #[serde(default)]
    pub damage_weight: Option<NumberDto>,
    /// Explicit weights by stat name. When their exact common denominator (with the other weights) would
    /// be above 10^9, each weight is read to the nearest billionth, and the notes say so
    /// (`flame.weights_rounded`); `score.weights` in the response lists the weights used.
    #[serde(default)]
    pub weights: Option<BTreeMap<String, NumberDto>>,
}

/// The score's rules as JSON Schema (what [`score_from`] checks): `class` one of the class names and
/// aliases the engine knows (else `unknown_variant`); `main_stat` and `sub_stats` from STR/DEX/INT/LUK,
/// no stat twice, `attack` ATT or MATT; exactly one of `class`, `main_stat`, `weights`; `sub_stats` and
/// `attack` only with `main_stat`; `convention` and the `*_weight` overrides not with `weights` (else
/// `invalid_combination`); Xenon and Demon Avenger without `sub_stat_weight` or `brendon_gms`; `weights`
/// keyed by stat names.
#[cfg(feature = "schema")]
fn score_rules_schema(schema: &mut schemars::Schema) {
    use serde_json::{json, Value};
    let mut classes: Vec<Value> = fl::class_names_and_aliases()
        .into_iter()
        .map(Value::from)
        .collect();
    classes.push(Value::Null);
    let primary = ["str", "dex", "int", "luk"];
    let stats: Vec<&str> = fl::Stat::ALL.iter().map(|s| s.key()).collect();
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        let set = |props: &mut serde_json::Map<String, Value>, key: &str, extra: Value| {
            if let (Some(Value::Object(p)), Value::Object(extra)) = (props.get_mut(key), extra) {
                p.extend(extra);
            }
        };
        set(props, "class", json!({"enum": classes}));
        set(
            props,
            "main_stat",
            json!({"enum": [primary[0], primary[1], primary[2], primary[3], null]}),
        );
        set(
            props,
            "sub_stats",
            json!({"items": {"enum": primary}, "uniqueItems": true}),
        );
        set(
            props,
            "attack",
            json!({"enum": ["attack_power", "magic_power", null]}),
        );
        set(
            props,
            "weights",
            json!({"propertyNames": {"enum": stats}, "additionalProperties": weight_schema()}),
        );
        for key in [
            "sub_stat_weight",
            "attack_weight",
            "all_stat_weight",
            "boss_damage_weight",
            "damage_weight",
        ] {
            if let Some(p) = props.get_mut(key) {
                *p = json!({"anyOf": [weight_schema(), {"type": "null"}], "description": "A weight, ≥ 0."});
            }
        }
    }
    let absent = |keys: &[&str]| {
        let props: serde_json::Map<String, Value> = keys
            .iter()
            .map(|k| ((*k).to_owned(), json!({"type": "null"})))
            .collect();
        json!({"properties": props})
    };
    let overrides = [
        "convention",
        "sub_stat_weight",
        "attack_weight",
        "all_stat_weight",
        "boss_damage_weight",
        "damage_weight",
    ];
    let mut rules = vec![json!({"anyOf": [
        {"allOf": [given("class"), absent(&["main_stat", "weights", "sub_stats", "attack"])]},
        {"allOf": [given("main_stat"), absent(&["class", "weights"])]},
        {"allOf": [given("weights"), absent(&[&["class", "main_stat", "sub_stats", "attack"][..], &overrides[..]].concat())]}
    ]})];
    // Xenon and Demon Avenger score by their own stats: no sub stat weight, no brendon_gms preset.
    let special = ["제논", "xenon", "데몬어벤져", "demon_avenger"];
    debug_assert!(special
        .iter()
        .all(|n| fl::class_profile(n).is_ok_and(|p| !matches!(p.stats, fl::ClassStats::Standard { .. }))));
    rules.push(json!({
        "if": {"properties": {"class": {"enum": special}}, "required": ["class"]},
        "then": {"properties": {
            "convention": {"not": {"const": "brendon_gms"}},
            "sub_stat_weight": {"type": "null"}
        }}
    }));
    for main in primary {
        rules.push(json!({
            "if": {"properties": {"main_stat": {"const": main}}, "required": ["main_stat"]},
            "then": {"properties": {"sub_stats": {"items": {"not": {"const": main}}}}}
        }));
    }
    schema.insert("allOf".into(), Value::Array(rules));
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LineCountsDto {
    KmsOfficial,
    Gms,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AbyssTableDto {
    Consensus,
    BrendonWorker,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LevelsDto {
    Kms,
    Gms,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum WeaponAttackDto {
    Malib,
    GmsFormula,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DefBelow140Dto {
    SingleStat,
    OnePerTier,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AssumptionsDto {
    #[serde(default)]
    pub line_counts: Option<LineCountsDto>,
    #[serde(default)]
    pub abyss_table: Option<AbyssTableDto>,
    #[serde(default)]
    pub levels_201_249: Option<LevelsDto>,
    #[serde(default)]
    pub weapon_attack: Option<WeaponAttackDto>,
    #[serde(default)]
    pub def_below_140: Option<DefBelow140Dto>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = request_rules_schema))]
#[serde(deny_unknown_fields)]
pub struct FlameRequest {
    pub flame: FlameDto,
    pub item: ItemDto,
    pub score: ScoreDto,
    #[serde(default)]
    pub target_score: Option<NumberDto>,
    #[serde(default)]
    pub current: Option<BTreeMap<String, NumberDto>>,
    #[serde(default)]
    pub assumptions: AssumptionsDto,
    #[serde(default)]
    pub include_distribution: bool,
}

/// JSON Schema: `key` is present and not null.
#[cfg(feature = "schema")]
fn given(key: &str) -> serde_json::Value {
    serde_json::json!({"required": [key], "not": {"properties": {key: {"type": "null"}}}})
}

/// [`FlameRequest`]'s rule as JSON Schema: a target, given as `target_score` or as the `current` flame
/// (whose score is the target), so at least one of the two is given and not null.
#[cfg(feature = "schema")]
fn request_rules_schema(schema: &mut schemars::Schema) {
    let keys: Vec<&str> = fl::Stat::ALL.iter().map(|s| s.key()).collect();
    if let Some(props) = schema
        .get_mut("properties")
        .and_then(serde_json::Value::as_object_mut)
    {
        props.insert(
            "current".into(),
            serde_json::json!({
                "description": "The item's flame now (`item_add_option`): stat → a whole number from 0 to 10^9.",
                "type": ["object", "null"],
                "propertyNames": {"enum": keys},
                "additionalProperties": {"anyOf": [
                    {"type": "integer", "minimum": 0, "maximum": fl::MAX_MAGNITUDE},
                    {"type": "string", "pattern": WHOLE_TEXT}
                ]}
            }),
        );
    }
    schema.insert(
        "anyOf".into(),
        serde_json::json!([given("target_score"), given("current")]),
    );
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TierOut {
    pub tier: u32,
    pub percent: u32,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "FlameItemOut"))]
pub struct ItemOut {
    pub level: u32,
    pub kind: &'static str,
    pub boss: bool,
    pub base_attack: Option<u32>,
    pub base_magic_attack: Option<u32>,
    pub pool: Vec<String>,
    pub tiers: Vec<TierOut>,
    pub line_count_percent: [u32; 4],
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScoreOut {
    pub class: Option<&'static str>,
    pub convention: Option<&'static str>,
    /// Non-zero weights as exact strings ("1", "1/12").
    pub weights: BTreeMap<&'static str, String>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "FlameQuantilesOut"))]
pub struct QuantilesOut {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PointOut {
    pub score: f64,
    pub p: f64,
    pub p_exact: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AssumptionsOut {
    pub line_counts: &'static str,
    pub abyss_table: &'static str,
    pub levels_201_249: &'static str,
    pub weapon_attack: &'static str,
    pub def_below_140: &'static str,
}

impl From<&fl::Assumptions> for AssumptionsOut {
    fn from(a: &fl::Assumptions) -> Self {
        AssumptionsOut {
            line_counts: a.line_counts.key(),
            abyss_table: a.abyss_table.key(),
            levels_201_249: a.levels_201_to_249.key(),
            weapon_attack: a.weapon_attack.key(),
            def_below_140: a.def_below_140.key(),
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FlameResponse {
    pub engine_version: &'static str,
    pub data_version: &'static str,
    pub flame: &'static str,
    pub item: ItemOut,
    pub score: ScoreOut,
    pub target_score: f64,
    pub target_score_exact: String,
    pub current_score: Option<f64>,
    pub impossible: bool,
    pub reason: Option<String>,
    /// `reason` as a catalogued message `{code, params, message}` (code `flame.impossible`), absent when the
    /// target can be reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impossible_reason: Option<crate::message::MessageOut>,
    pub p_success: f64,
    pub p_per_attempt: f64,
    pub p_success_exact: String,
    pub mean_flames: Option<f64>,
    pub sd_flames: Option<f64>,
    pub flame_quantiles: Option<QuantilesOut>,
    pub max_score: f64,
    pub min_score: f64,
    pub mean_score: f64,
    pub distribution: Option<Vec<PointOut>>,
    pub assumptions: AssumptionsOut,
    pub notes: Vec<crate::message::MessageOut>,
}

impl From<fl::Error> for ApiError {
    fn from(e: fl::Error) -> Self {
        use fl::Error as E;
        let code = match &e {
            E::UnknownClass { .. } | E::UnknownStat { .. } => ErrorCode::UnknownVariant,
            E::InvalidNumber { .. } => ErrorCode::InvalidType,
            E::LevelOutOfRange { .. }
            | E::BaseAttackZero
            | E::NegativeWeight { .. }
            | E::ZeroDenominator
            | E::NumberOutOfRange { .. }
            | E::Overflow => ErrorCode::OutOfRange,
            E::BaseAttackOnNonWeapon
            | E::ZeroWeaponIsNeverBoss
            | E::NotAMainStat { .. }
            | E::NotAnAttackStat { .. }
            | E::DuplicateStat { .. }
            | E::ConventionUndefinedForClass { .. }
            | E::OverrideNotApplicable { .. } => ErrorCode::InvalidCombination,
            _ => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

fn combo(msg: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidCombination, msg)
}

/// A number of the request, with its field for errors ("score.weights.dex: ..."); a JSON number with more
/// than 9 decimals is read to 9, and `notes` says so (`flame.number_rounded`).
fn num(field: &str, n: &NumberDto, notes: &mut Vec<Message>) -> Result<fl::Rational, ApiError> {
    let (r, rounded) = n.to_rational().map_err(|e| {
        let e = ApiError::from(e);
        ApiError::new(e.code, format!("{field}: {}", e.message))
    })?;
    if let (true, NumberDto::Number(x)) = (rounded, n) {
        notes.push(Message::new(
            "flame.number_rounded",
            vec![
                ("field", field.into()),
                ("given", format!("{x}").into()),
                ("used", r.to_string().into()),
            ],
            format!("{field}: {x} has more than 9 decimals; read as {r}"),
        ));
    }
    Ok(r)
}

fn item_from(dto: &ItemDto) -> Result<fl::Item, ApiError> {
    let kind = match dto.kind {
        KindDto::Armor => fl::ItemKind::Armor,
        KindDto::Accessory => fl::ItemKind::Accessory,
        KindDto::Weapon => fl::ItemKind::Weapon,
        KindDto::ZeroWeapon => fl::ItemKind::ZeroWeapon,
    };
    let boss = match (dto.boss, kind) {
        (Some(true), _) => fl::Boss::Yes,
        (Some(false), _) | (None, fl::ItemKind::ZeroWeapon) => fl::Boss::No,
        (None, _) => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                "missing field `item.boss` (true for boss rewards: 4 lines, tiers 3-7)",
            ))
        }
    };
    if kind.is_weapon() && dto.base_attack.is_none() {
        return Err(ApiError::new(
            ErrorCode::MissingField,
            "missing field `item.base_attack` (weapons: base ATT, item_base_option.attack_power)",
        ));
    }
    Ok(fl::Item::new(
        dto.level,
        kind,
        boss,
        dto.base_attack.unwrap_or(0),
        dto.base_magic_attack.unwrap_or(0),
    )?)
}

fn stat(field: &str, name: &str) -> Result<fl::Stat, ApiError> {
    fl::Stat::parse(name).map_err(|e| ApiError::new(ErrorCode::UnknownVariant, format!("{field}: {e}")))
}

struct ResolvedScore {
    weights: fl::ScoreWeights,
    class: Option<&'static str>,
    convention: Option<fl::Convention>,
    notes: Vec<Message>,
}

fn score_from(dto: &ScoreDto, item: &fl::Item) -> Result<ResolvedScore, ApiError> {
    let mut rounded = Vec::new();
    let chosen = [
        dto.class.is_some(),
        dto.main_stat.is_some(),
        dto.weights.is_some(),
    ];
    if chosen.iter().filter(|&&c| c).count() != 1 {
        return Err(combo(
            "score: give exactly one of `class`, `main_stat` or `weights`",
        ));
    }
    if (dto.sub_stats.is_some() || dto.attack.is_some()) && dto.main_stat.is_none() {
        return Err(combo("score: `sub_stats` and `attack` go with `main_stat`"));
    }
    let overrides_given = [
        &dto.sub_stat_weight,
        &dto.attack_weight,
        &dto.all_stat_weight,
        &dto.boss_damage_weight,
        &dto.damage_weight,
    ]
    .iter()
    .any(|o| o.is_some());
    if let Some(weights) = &dto.weights {
        if dto.convention.is_some() || overrides_given {
            return Err(combo(
                "score: `weights` are explicit; `convention` and `*_weight` overrides go with `class` or `main_stat`",
            ));
        }
        let mut pairs = Vec::with_capacity(weights.len());
        for (k, v) in weights {
            let w = num(&format!("score.weights.{k}"), v, &mut rounded)?;
            pairs.push((stat("score.weights", k)?, w));
        }
        return Ok(ResolvedScore {
            weights: fl::ScoreWeights::from_pairs(&pairs)?,
            class: None,
            convention: None,
            notes: rounded,
        });
    }
    let mut opt =
        |field: &str, o: &Option<NumberDto>| o.as_ref().map(|n| num(field, n, &mut rounded)).transpose();
    let overrides = fl::Overrides {
        sub_stat: opt("score.sub_stat_weight", &dto.sub_stat_weight)?,
        attack: opt("score.attack_weight", &dto.attack_weight)?,
        all_stat: opt("score.all_stat_weight", &dto.all_stat_weight)?,
        boss_damage: opt("score.boss_damage_weight", &dto.boss_damage_weight)?,
        damage: opt("score.damage_weight", &dto.damage_weight)?,
    };
    let convention = match dto.convention {
        None | Some(ConventionDto::KmsGrade) => fl::Convention::KmsGrade,
        Some(ConventionDto::MapleExpectation) => fl::Convention::MapleExpectation,
        Some(ConventionDto::BrendonGms) => fl::Convention::BrendonGms,
    };
    let (class_name, stats) = match (&dto.class, &dto.main_stat) {
        (Some(name), _) => {
            // The names exactly as declared (the engine's lookup also takes them padded with spaces,
            // which the documented enum does not admit).
            if name.trim() != name {
                return Err(ApiError::new(
                    ErrorCode::UnknownVariant,
                    format!("score.class: unknown class {name:?} (no surrounding spaces)"),
                ));
            }
            let p = fl::class_profile(name)?;
            (Some(p.name), p.stats)
        }
        (None, Some(main)) => {
            let main = stat("score.main_stat", main)?;
            let subs = dto
                .sub_stats
                .iter()
                .flatten()
                .map(|s| stat("score.sub_stats", s))
                .collect::<Result<Vec<_>, _>>()?;
            let attack = match &dto.attack {
                Some(a) => stat("score.attack", a)?,
                None if main == fl::Stat::Int => fl::Stat::MagicPower,
                None => fl::Stat::AttackPower,
            };
            (None, fl::ClassStats::standard(main, &subs, attack)?)
        }
        (None, None) => {
            return Err(combo(
                "score: give exactly one of `class`, `main_stat` or `weights`",
            ))
        }
    };
    let mut notes = rounded;
    if convention == fl::Convention::KmsGrade
        && item.kind().is_weapon()
        && (overrides.boss_damage.is_none() || overrides.damage.is_none())
    {
        notes.push(Message::new("flame.kms_grade_weapon_weights", vec![], "score: kms_grade weighs boss% and damage% 14 each on weapons (MapleExpectation's value; the KMS \
             sources grade weapons by ATT tier and report boss/damage separately); override with \
             boss_damage_weight/damage_weight"));
    }
    match (&stats, convention) {
        (fl::ClassStats::Xenon, fl::Convention::KmsGrade) => notes.push(Message::new("flame.xenon_kms_grade", vec![], "score: Xenon kms_grade = (STR+DEX+LUK) + 4·ATT + 20·all% (maple-hub guide; its code uses \
             0.5·(STR+DEX+LUK)) [UNCERTAIN]")),
        (fl::ClassStats::DemonAvenger, fl::Convention::KmsGrade) => notes.push(Message::new("flame.demon_avenger_kms_grade", vec![], "score: Demon Avenger kms_grade = HP/17.5 + 4·ATT (maple-hub guide; alternatives HP/21 + 4·ATT + \
             10·all%, HP + 150·ATT) [UNCERTAIN]")),
        _ => {}
    }
    Ok(ResolvedScore {
        weights: fl::ScoreWeights::for_class(&stats, convention, overrides)?,
        class: class_name,
        convention: Some(convention),
        notes,
    })
}

fn current_from(
    map: &BTreeMap<String, NumberDto>,
    notes: &mut Vec<Message>,
) -> Result<fl::FlameStats, ApiError> {
    let mut stats = fl::FlameStats::default();
    for (k, v) in map {
        let s = fl::Stat::parse(k).map_err(|_| {
            ApiError::new(
                ErrorCode::UnknownField,
                format!("unknown field `current.{k}` (expected an item_add_option field)"),
            )
        })?;
        // A whole number: a fractional JSON number is refused here, not read to 9 decimals first.
        let fractional = matches!(v, NumberDto::Number(x) if x.fract() != 0.0);
        let r = num(&format!("current.{k}"), v, notes)?;
        if fractional || r.den() != 1 || r.is_negative() || r.num() > i64::from(u32::MAX) {
            return Err(ApiError::new(
                ErrorCode::OutOfRange,
                format!("current.{k}: {r} is not a non-negative integer"),
            ));
        }
        stats.set(s, r.num() as u32);
    }
    Ok(stats)
}

pub(crate) fn assumptions_from(dto: &AssumptionsDto) -> fl::Assumptions {
    fl::Assumptions {
        line_counts: match dto.line_counts {
            None | Some(LineCountsDto::KmsOfficial) => fl::LineCounts::KmsOfficial,
            Some(LineCountsDto::Gms) => fl::LineCounts::Gms,
        },
        abyss_table: match dto.abyss_table {
            None | Some(AbyssTableDto::Consensus) => fl::AbyssTable::Consensus,
            Some(AbyssTableDto::BrendonWorker) => fl::AbyssTable::BrendonWorker,
        },
        levels_201_to_249: match dto.levels_201_249 {
            None | Some(LevelsDto::Kms) => fl::Levels201To249::Kms,
            Some(LevelsDto::Gms) => fl::Levels201To249::Gms,
        },
        weapon_attack: match dto.weapon_attack {
            None | Some(WeaponAttackDto::Malib) => fl::WeaponAttack::Malib,
            Some(WeaponAttackDto::GmsFormula) => fl::WeaponAttack::GmsFormula,
        },
        def_below_140: match dto.def_below_140 {
            None | Some(DefBelow140Dto::SingleStat) => fl::DefBelow140::SingleStat,
            Some(DefBelow140Dto::OnePerTier) => fl::DefBelow140::OnePerTier,
        },
    }
}

/// Notes for the defaults actually taken where they matter for this request.
fn assumption_notes(dto: &AssumptionsDto, flame: fl::FlameKind, item: &fl::Item) -> Vec<Message> {
    let mut notes = Vec::new();
    let boss = item.boss() == fl::Boss::Yes;
    if dto.line_counts.is_none() && !boss {
        notes.push(Message::new(
            "flame.assume_line_counts",
            vec![],
            "assumption line_counts=kms_official: 1/2/3/4 lines at 40/40/16/4 % (official KMS); \
             \"gms\" = 40/40/15/5",
        ));
    }
    if dto.abyss_table.is_none() && flame == fl::FlameKind::Abyss {
        notes.push(Message::new(
            "flame.assume_abyss_table",
            vec![],
            "assumption abyss_table=consensus: grades 3/4/5 at 63/34/3 % (not on the stored official page) \
             [UNCERTAIN]; \"brendon_worker\" = 1/63/34/2",
        ));
    }
    if dto.levels_201_249.is_none() && (210..250).contains(&item.level()) {
        notes.push(Message::new("flame.assume_levels_201_249", vec![], "assumption levels_201_249=kms: malib/KMS JS line values at Lv 210-249 [UNCERTAIN]; \"gms\" = GMS wiki values"));
    }
    if dto.weapon_attack.is_none() && item.kind().is_weapon() {
        notes.push(Message::new("flame.assume_weapon_attack", vec![], "assumption weapon_attack=malib: KMS malib ATT table (differs from the GMS formula only at Lv-250 boss, \
             Lv>=160 non-boss non-Zero and Lv<=119 weapons) [UNCERTAIN]"));
    }
    if dto.def_below_140.is_none() && item.level() < 140 {
        notes.push(Message::new("flame.assume_def_below_140", vec![], "assumption def_below_140=single_stat: DEF line = single stat value (malib); \"one_per_tier\" = KMS JS"));
    }
    if flame == fl::FlameKind::Black {
        notes.push(Message::new("flame.black_flame", vec![], "black flame: eternal grade table; you keep the better of the old and new result, so the chance per \
             use of reaching the target is the eternal one"));
    }
    notes
}

/// Parse a JSON request strictly and [`compute`] it.
#[cfg(feature = "json")]
pub fn handle(json: &str) -> Result<FlameResponse, ApiError> {
    compute(crate::parse_request(json)?)
}

/// Compute a request already deserialized (from JSON or a JS value).
pub fn compute(req: FlameRequest) -> Result<FlameResponse, ApiError> {
    let flame = match req.flame {
        FlameDto::Powerful => fl::FlameKind::Powerful,
        FlameDto::Eternal => fl::FlameKind::Eternal,
        FlameDto::Black => fl::FlameKind::Black,
        FlameDto::Abyss => fl::FlameKind::Abyss,
    };
    let item = item_from(&req.item)?;
    let resolved = score_from(&req.score, &item)?;
    let assumptions = assumptions_from(&req.assumptions);
    let weights = &resolved.weights;
    let mut notes = resolved.notes;
    let current_score = req
        .current
        .as_ref()
        .map(|c| current_from(c, &mut notes))
        .transpose()?
        .map(|s| weights.score(&s));

    notes.extend(assumption_notes(&req.assumptions, flame, &item));
    // The target in the distribution's units, with its exact text and value for the response: a
    // current score is one of these scores already (the same weights), and may be above any Rational.
    let dist = fl::score_distribution(flame, &item, weights, &assumptions)?;
    let (target_units, target_exact, target_f64) = match (&req.target_score, &current_score) {
        (Some(t), _) => {
            let t = num("target_score", t, &mut notes)?;
            (fl::target_units(t, dist.scale()), t.to_string(), t.to_f64())
        }
        (None, Some(c)) => {
            notes.push(Message::new(
                "flame.target_is_current",
                vec![],
                "target_score: not given, so the current flame score is the target",
            ));
            if c.scale() != dist.scale() {
                return Err(ApiError::new(
                    ErrorCode::Internal,
                    "the current score and the distribution have different units",
                ));
            }
            (c.units(), c.to_string(), c.to_f64())
        }
        (None, None) => {
            return Err(ApiError::new(
                ErrorCode::MissingField,
                "missing field `target_score` (or give `current` to target the current flame score)",
            ))
        }
    };
    if weights.rounded() {
        notes.push(Message::new(
            "flame.weights_rounded",
            vec![("scale", (fl::MAX_SCALE as f64).into())],
            format!(
                "score: the weights' exact common denominator is above {}, so each weight was read to the \
                 nearest billionth (score.weights lists the weights used)",
                fl::MAX_SCALE
            ),
        ));
    }

    let max_score = dist.max_score();
    let (impossible, reason, p, mean, sd, quantiles) = match dist.reach_units(target_units) {
        fl::Reach::Possible(a) => (
            false,
            None,
            a.p_exact(),
            Some(a.mean()),
            Some(a.sd()),
            Some({
                let q = a.quantiles();
                QuantilesOut {
                    p50: q.p50,
                    p90: q.p90,
                    p99: q.p99,
                }
            }),
        ),
        fl::Reach::Impossible { max_score } => (
            true,
            Some(pve_engine::message::Message::new(
                "flame.impossible",
                vec![
                    ("target_score", target_f64.into()),
                    ("max_score", max_score.to_f64().into()),
                    ("flame", flame.key().into()),
                ],
                format!(
                    "target_score {} is above the best score {} that one {} flame can give on this item",
                    target_f64,
                    max_score.to_f64(),
                    flame.key()
                ),
            )),
            dist.p_at_least_units(target_units),
            None,
            None,
            None,
        ),
    };
    let distribution = req.include_distribution.then(|| {
        dist.points()
            .map(|(s, p)| PointOut {
                score: s.to_f64(),
                p: p.to_f64(),
                p_exact: p.to_string(),
            })
            .collect()
    });
    let boss = item.boss() == fl::Boss::Yes;
    let weapon = item.kind().is_weapon();
    Ok(FlameResponse {
        engine_version: crate::ENGINE_VERSION,
        data_version: fl::DATA_VERSION,
        flame: flame.key(),
        item: ItemOut {
            level: item.level(),
            kind: item.kind().key(),
            boss,
            base_attack: weapon.then(|| item.base_attack()),
            base_magic_attack: weapon.then(|| item.base_magic_attack()),
            pool: item.pool().into_iter().map(fl::LineOption::name).collect(),
            tiers: item
                .tiers(flame, &assumptions)
                .into_iter()
                .map(|(tier, percent)| TierOut { tier, percent })
                .collect(),
            line_count_percent: item.line_counts(&assumptions).lines_percent,
        },
        score: ScoreOut {
            class: resolved.class,
            convention: resolved.convention.map(fl::Convention::key),
            weights: weights.nonzero().map(|(s, w)| (s.key(), w.to_string())).collect(),
        },
        target_score: target_f64,
        target_score_exact: target_exact,
        current_score: current_score.map(|s| s.to_f64()),
        impossible,
        reason: reason.as_ref().map(|m| m.message.clone()),
        impossible_reason: reason.as_ref().map(Into::into),
        p_success: p.to_f64(),
        p_per_attempt: p.to_f64(),
        p_success_exact: p.to_string(),
        mean_flames: mean,
        sd_flames: sd,
        flame_quantiles: quantiles,
        max_score: max_score.to_f64(),
        min_score: dist.min_score().to_f64(),
        mean_score: dist.mean_score(),
        distribution,
        assumptions: AssumptionsOut::from(&assumptions),
        notes: crate::message::messages_out(&notes),
    })
}
