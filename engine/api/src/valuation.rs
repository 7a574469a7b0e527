//! `valuation` request/response schema (`pve valuation`, `GET /v1/characters/{name}/valuation`, Wasm
//! `valuation`): what a character's equipment cost to make, per item, per preset and in total.
//!
//! # Request
//! Either the raw Nexon Open API `character/item-equipment` response (default options), or
//! ```json
//! {"equipment": <the raw response>, "options": {…}}
//! ```
//! A top-level object with an `equipment` or `options` key is the wrapper (unknown wrapper fields →
//! `unknown_field`); anything else is read as the raw response. Inside the raw response unknown fields are
//! tolerated (it is upstream data); the fields the valuation uses are validated, and an unusable one makes
//! only what depends on it "not valued" (reason `invalid_input`, naming the field and what was found).
//!
//! Raw response fields used: `character_class` (string or null: null → potential and flame not valued,
//! `unknown_class`), `item_equipment` (array, required), `item_equipment_preset_1..3`, `dragon_equipment`,
//! `mechanic_equipment` (arrays, optional), `preset_no` (reported back). Per item: `item_equipment_slot`,
//! `item_equipment_part`, `item_name`, `item_base_option.base_equipment_level` (and `.attack_power`,
//! `.magic_power` for weapons), `starforce`, `starforce_scroll_flag` (`사용`/`미사용`),
//! `potential_option_grade` + `potential_option_1..3`, `additional_potential_option_grade` +
//! `additional_potential_option_1..3`, `item_add_option`, `special_ring_level`. Numbers may be JSON numbers
//! or decimal strings, as the Open API mixes both.
//!
//! `options` (every field optional; defaults shown):
//! ```json
//! {
//!   "starforce": {"ruleset": "kms", "star_catch": true, "safeguard": false,
//!                 "events": {"thirty_off": false, "boom_reduction": false, "five_ten_fifteen": false, "plus_one": false},
//!                 "mvp": "none", "pc_room": false, "spare_cost": 0, "quantiles": false},
//!   "potential": {"reset": "meso_reset_main", "start_grade": "레어", "cube_price_mesos": null},
//!   "additional_potential": {"reset": "meso_reset_additional", "start_grade": "레어", "cube_price_mesos": null},
//!   "flame": {"flame": "eternal", "convention": "kms_grade", "assumptions": {}, "unknown_boss": "not_valued",
//!             "price_mesos": null}
//! }
//! ```
//! | option | meaning |
//! |---|---|
//! | `starforce.*` | as the `starforce` operation's request fields (`ruleset` `kms` \| `gms` \| `savior` \| `pre_savior`, `mvp` `none` \| `silver` \| `gold` \| `diamond` \| `red`, `spare_cost` mesos per destroyed item, added to the item's mean as `spare_cost × mean_booms`), applied to every item from 0★ to its stars |
//! | `starforce.quantiles` | bool: also compute each item's attempt-cost quantiles (the star force engine's grid, 1–3 ms per item; off by default so a whole character stays fast) |
//! | `potential.reset` | a cube or reset of the potential data that rerolls the main potential: `meso_reset_main` (잠재능력 재설정, mesos), `black`, `red` (cube items: counted in cubes) |
//! | `additional_potential.reset` | `meso_reset_additional` (에디셔널 잠재능력 재설정, mesos), `additional`, `white_additional` (cubes) |
//! | `*.start_grade` | `레어` \| `에픽` \| `유니크` \| `레전드리` (as in the Open API and the `potential` operation): the grade an item is assumed to be obtained at; the resets start there, or at the item's grade if lower |
//! | `*.cube_price_mesos` | number ≥ 0: price of one cube, to turn cube counts into mesos |
//! | `*.quantiles` | bool, default `true`: compute each item's `quantiles_attempts`; `false` gives `null` there and the same means and sums, bit for bit, much faster with tier-ups (the page's what-if recompute asks for none); echoed in `options` only when `false` |
//! | `flame.flame` | `powerful` \| `eternal` \| `black` \| `abyss` (as the `flame` operation) |
//! | `flame.convention` | `kms_grade` \| `maple_expectation` \| `brendon_gms`: the flame score (as the `flame` operation) |
//! | `flame.assumptions` | the `flame` operation's `assumptions` object |
//! | `flame.unknown_boss` | `not_valued` \| `boss` \| `not_boss`: when neither the name nor the flame tells whether the item is a boss item |
//! | `flame.price_mesos` | number ≥ 0: price of one flame, to turn flame counts into mesos |
//!
//! # Response
//! `engine_version`, `data_version` (`potential`, `flame`), `class` (what the class means for the
//! goals), `options` (resolved, defaults filled in), `equipped_preset`, `total`, `sets` (one per list:
//! `equipped`, `preset_1..3`, `dragon`, `mechanic`), `items` (distinct items, each valued once) and `notes`.
//! See [`pve_engine::valuation`] for the model and the tests' golden files for complete examples.
use crate::{ApiError, ErrorCode};
use pve_engine::flame as fl;
use pve_engine::potential::{self as pot, Grade, ParsedLine};
use pve_engine::starforce as sf;
use pve_engine::valuation as va;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------------------
// Request

/// The wrapped form of the request: `{"equipment": <the raw response>, "options": {…}}`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "ValuationRequest"))]
#[serde(deny_unknown_fields)]
pub struct Wrapper {
    /// The Nexon Open API `character/item-equipment` response.
    #[cfg_attr(feature = "schema", schemars(with = "NexonItemEquipment"))]
    pub equipment: Value,
    #[serde(default)]
    pub options: OptionsDto,
}

/// The fields of a Nexon `character/item-equipment` response the valuation reads (schema only; the
/// request is read as a JSON value). Other fields are allowed (it is upstream data); an item the
/// valuation cannot use is reported "not valued", never rejected.
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub struct NexonItemEquipment {
    /// `null` → potential and flame not valued (`unknown_class`). Required (a missing one is
    /// `missing_field`).
    #[schemars(required, extend("type" = ["string", "null"]))]
    character_class: Option<String>,
    item_equipment: Vec<Value>,
    item_equipment_preset_1: Option<Vec<Value>>,
    item_equipment_preset_2: Option<Vec<Value>>,
    item_equipment_preset_3: Option<Vec<Value>>,
    dragon_equipment: Option<Vec<Value>>,
    mechanic_equipment: Option<Vec<Value>>,
    /// The preset in use, reported back.
    #[schemars(range(min = 1, max = 3))]
    preset_no: Option<u32>,
}

/// The whole `valuation` request body: the wrapped form, or the raw response alone (default options).
/// A top-level object with an `equipment` or `options` key is read as the wrapped form.
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum ValuationBody {
    Wrapped(Wrapper),
    #[schemars(transform = raw_equipment_only)]
    Raw(NexonItemEquipment),
}

/// The raw form has neither key that makes a body the wrapped form.
#[cfg(feature = "schema")]
fn raw_equipment_only(schema: &mut schemars::Schema) {
    let named = schema.clone();
    *schema = schemars::json_schema!({
        "allOf": [named],
        "not": {"anyOf": [{"required": ["equipment"]}, {"required": ["options"]}]}
    });
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = options_names_schema))]
#[serde(deny_unknown_fields)]
pub struct OptionsDto {
    #[serde(default)]
    pub starforce: StarforceOptionsDto,
    #[serde(default)]
    pub potential: PotentialOptionsDto,
    #[serde(default)]
    pub additional_potential: PotentialOptionsDto,
    #[serde(default)]
    pub flame: FlameOptionsDto,
}

/// The names [`options_from`] takes, as JSON Schema enums (with `null`, the default), and the prices
/// bound; the resets per potential are the data's cubes for that potential.
#[cfg(feature = "schema")]
fn options_names_schema(schema: &mut schemars::Schema) {
    use serde_json::json;
    let names = |keys: Vec<&str>| {
        let mut v: Vec<Value> = keys.into_iter().map(Value::from).collect();
        v.push(Value::Null);
        json!({"enum": v})
    };
    let data = crate::potential::schema_data();
    let resets = |kind: pot::PotentialKind| {
        names(
            data.cubes()
                .iter()
                .filter(|c| c.potential == kind)
                .map(|c| c.name.as_str())
                .collect(),
        )
    };
    let price = json!({"type": ["number", "null"], "minimum": 0});
    let grades = names(Grade::ALL.iter().map(|g| g.korean()).collect());
    let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    // Each options object is a reference to its type; the per-field rules are added beside it.
    let mut narrow = |field: &str, rules: Value| {
        if let Some(p) = props.get_mut(field) {
            *p = json!({"allOf": [p.clone(), {"properties": rules}]});
        }
    };
    narrow(
        "starforce",
        json!({
            "ruleset": names(sf::RuleSetId::ALL.iter().map(|r| r.as_str()).collect()),
            "mvp": names(MVPS.iter().map(|&m| mvp_key(m)).collect()),
            "spare_cost": {"type": ["number", "null"], "minimum": 0, "maximum": sf::MAX_SPARE_COST},
        }),
    );
    for (field, kind) in [
        ("potential", pot::PotentialKind::Main),
        ("additional_potential", pot::PotentialKind::Additional),
    ] {
        narrow(
            field,
            json!({"reset": resets(kind), "start_grade": grades, "cube_price_mesos": price}),
        );
    }
    narrow(
        "flame",
        json!({
            "flame": names(fl::FlameKind::ALL.iter().map(|&k| k.key()).collect()),
            "convention": names(fl::Convention::ALL.iter().map(|&c| c.key()).collect()),
            "price_mesos": price,
        }),
    );
}

/// The `starforce` operation's options (its request without `item_level`, `from_star`, `to_star`), plus
/// `quantiles`.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StarforceOptionsDto {
    #[serde(default)]
    pub ruleset: Option<String>,
    #[serde(default)]
    pub star_catch: Option<bool>,
    #[serde(default)]
    pub safeguard: Option<bool>,
    #[serde(default)]
    pub events: EventsDto,
    #[serde(default)]
    pub mvp: Option<String>,
    #[serde(default)]
    pub pc_room: Option<bool>,
    #[serde(default)]
    pub spare_cost: Option<f64>,
    #[serde(default)]
    pub quantiles: Option<bool>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EventsDto {
    #[serde(default)]
    pub thirty_off: bool,
    #[serde(default)]
    pub boom_reduction: bool,
    #[serde(default)]
    pub five_ten_fifteen: bool,
    #[serde(default)]
    pub plus_one: bool,
}

const MVPS: [sf::Mvp; 5] = [
    sf::Mvp::None,
    sf::Mvp::Silver,
    sf::Mvp::Gold,
    sf::Mvp::Diamond,
    sf::Mvp::Red,
];

fn mvp_key(m: sf::Mvp) -> &'static str {
    match m {
        sf::Mvp::None => "none",
        sf::Mvp::Silver => "silver",
        sf::Mvp::Gold => "gold",
        sf::Mvp::Diamond => "diamond",
        sf::Mvp::Red => "red",
    }
}

fn starforce_options(dto: &StarforceOptionsDto) -> Result<va::StarforceOptions, ApiError> {
    let d = va::Options::default().starforce;
    let e = &dto.events;
    Ok(va::StarforceOptions {
        ruleset: keyed(
            "starforce.ruleset",
            &dto.ruleset,
            d.ruleset,
            &sf::RuleSetId::ALL,
            sf::RuleSetId::as_str,
        )?,
        star_catch: dto.star_catch.unwrap_or(d.star_catch),
        safeguard: dto.safeguard.unwrap_or(d.safeguard),
        events: sf::Events {
            thirty_off: e.thirty_off,
            boom_reduction: e.boom_reduction,
            five_ten_fifteen: e.five_ten_fifteen,
            plus_one: e.plus_one,
        },
        mvp: keyed("starforce.mvp", &dto.mvp, d.mvp, &MVPS, mvp_key)?,
        pc_room: dto.pc_room.unwrap_or(d.pc_room),
        spare_cost: spare_cost(dto.spare_cost)?.unwrap_or(d.spare_cost),
        quantiles: dto.quantiles.unwrap_or(d.quantiles),
    })
}

fn grade_key(g: Grade) -> &'static str {
    g.korean()
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PotentialOptionsDto {
    #[serde(default)]
    pub reset: Option<String>,
    /// `레어` | `에픽` | `유니크` | `레전드리`, as in the Open API and the `potential` operation.
    #[serde(default)]
    pub start_grade: Option<String>,
    /// Price of one cube in mesos, a finite number ≥ 0.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0)))]
    pub cube_price_mesos: Option<f64>,
    /// Also compute each item's attempt quantiles (default `true`); the means and sums are the same bits
    /// either way.
    #[serde(default)]
    pub quantiles: Option<bool>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnknownBossDto {
    NotValued,
    Boss,
    NotBoss,
}

#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FlameOptionsDto {
    #[serde(default)]
    pub flame: Option<String>,
    #[serde(default)]
    pub convention: Option<String>,
    #[serde(default)]
    /// The `flame` operation's `assumptions`, same schema and defaults.
    pub assumptions: crate::flame::AssumptionsDto,
    #[serde(default)]
    pub unknown_boss: Option<UnknownBossDto>,
    #[serde(default)]
    pub price_mesos: Option<f64>,
}

/// `value` parsed by `parse`, or the default; an unknown key is `unknown_variant` listing the known ones.
fn keyed<T: Copy>(
    field: &str,
    value: &Option<String>,
    default: T,
    all: &[T],
    key: fn(T) -> &'static str,
) -> Result<T, ApiError> {
    let Some(v) = value else { return Ok(default) };
    all.iter().copied().find(|&x| key(x) == v).ok_or_else(|| {
        let known: Vec<&str> = all.iter().map(|&x| key(x)).collect();
        ApiError::new(
            ErrorCode::UnknownVariant,
            format!(
                "options.{field}: unknown variant {v:?}, expected one of {}",
                known.join(", ")
            ),
        )
    })
}

fn price(field: &str, p: Option<f64>) -> Result<Option<f64>, ApiError> {
    match p {
        Some(x) if !(x.is_finite() && x >= 0.0) => Err(ApiError::new(
            ErrorCode::OutOfRange,
            format!("options.{field}: {x} is not a price (a finite number >= 0)"),
        )),
        _ => Ok(p),
    }
}

/// A price, and at most [`sf::MAX_SPARE_COST`] (checked here, not only by the items' star force, so that
/// a character with no star-forceable item is refused the same way).
fn spare_cost(p: Option<f64>) -> Result<Option<f64>, ApiError> {
    match price("starforce.spare_cost", p)? {
        Some(x) if x > sf::MAX_SPARE_COST => Err(ApiError::new(
            ErrorCode::OutOfRange,
            format!(
                "options.starforce.spare_cost: {x} is above {:e}",
                sf::MAX_SPARE_COST
            ),
        )),
        p => Ok(p),
    }
}

fn potential_options(
    field: &str,
    dto: &PotentialOptionsDto,
    default: va::PotentialOptions,
) -> Result<va::PotentialOptions, ApiError> {
    Ok(va::PotentialOptions {
        reset: dto.reset.clone().unwrap_or(default.reset),
        start_grade: keyed(
            &format!("{field}.start_grade"),
            &dto.start_grade,
            default.start_grade,
            &Grade::ALL,
            Grade::korean,
        )?,
        cube_price_mesos: price(&format!("{field}.cube_price_mesos"), dto.cube_price_mesos)?,
        quantiles: dto.quantiles.unwrap_or(default.quantiles),
    })
}

fn options_from(dto: &OptionsDto) -> Result<va::Options, ApiError> {
    let d = va::Options::default();
    Ok(va::Options {
        starforce: starforce_options(&dto.starforce)?,
        potential: potential_options("potential", &dto.potential, d.potential)?,
        additional_potential: potential_options(
            "additional_potential",
            &dto.additional_potential,
            d.additional_potential,
        )?,
        flame: va::FlameOptions {
            flame: keyed(
                "flame.flame",
                &dto.flame.flame,
                d.flame.flame,
                &fl::FlameKind::ALL,
                fl::FlameKind::key,
            )?,
            convention: keyed(
                "flame.convention",
                &dto.flame.convention,
                d.flame.convention,
                &fl::Convention::ALL,
                fl::Convention::key,
            )?,
            assumptions: crate::flame::assumptions_from(&dto.flame.assumptions),
            unknown_boss: dto.flame.unknown_boss.map_or(d.flame.unknown_boss, |u| match u {
                UnknownBossDto::NotValued => va::UnknownBoss::NotValued,
                UnknownBossDto::Boss => va::UnknownBoss::AssumeBoss,
                UnknownBossDto::NotBoss => va::UnknownBoss::AssumeNotBoss,
            }),
            price_mesos: price("flame.price_mesos", dto.flame.price_mesos)?,
        },
    })
}

// ---------------------------------------------------------------------------------------------------------
// Reading the Nexon response

/// JSON text of a value, shortened for messages.
fn shown(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// A non-negative integer given as a JSON number or a decimal string (`"22"`).
fn uint(v: Option<&Value>, field: &str) -> va::Field<u32> {
    const EXPECTED: &str = "a non-negative integer (number or decimal string)";
    match v {
        None | Some(Value::Null) => Err(va::InputIssue::missing(field)),
        // A whole number written with a fraction (`2.0`) is the same JSON Schema integer.
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(f))
                    .map(|f| f as u64)
            })
            .and_then(|x| u32::try_from(x).ok())
            .ok_or_else(|| va::InputIssue::invalid(field, n.to_string(), EXPECTED)),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(s.parse().expect("at most 9 ASCII digits fit in u32"))
        }
        Some(other) => Err(va::InputIssue::invalid(field, shown(other), EXPECTED)),
    }
}

/// A string or null.
fn opt_str<'a>(v: Option<&'a Value>, field: &str) -> va::Field<Option<&'a str>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(va::InputIssue::invalid(field, shown(other), "a string or null")),
    }
}

fn req_str<'a>(v: Option<&'a Value>, field: &str) -> va::Field<&'a str> {
    opt_str(v, field)?.ok_or_else(|| va::InputIssue::missing(field))
}

fn object<'a>(v: Option<&'a Value>, field: &str) -> va::Field<&'a Map<String, Value>> {
    match v {
        None | Some(Value::Null) => Err(va::InputIssue::missing(field)),
        Some(Value::Object(m)) => Ok(m),
        Some(other) => Err(va::InputIssue::invalid(field, shown(other), "an object")),
    }
}

fn potential(item: &Map<String, Value>, prefix: &str) -> va::Field<Option<va::Potential>> {
    let grade_field = format!("{prefix}potential_option_grade");
    let grade = opt_str(item.get(&grade_field), &grade_field)?;
    let mut lines = Vec::new();
    for i in 1..=3 {
        let f = format!("{prefix}potential_option_{i}");
        if let Some(text) = opt_str(item.get(&f), &f)? {
            lines.push(text.to_owned());
        }
    }
    let Some(grade) = grade else {
        if !lines.is_empty() {
            return Err(va::InputIssue::invalid(
                grade_field,
                "null",
                "a grade, since potential lines are present",
            ));
        }
        return Ok(None);
    };
    let grade = Grade::from_korean(grade).ok_or_else(|| {
        va::InputIssue::invalid(
            &grade_field,
            format!("{grade:?}"),
            "레어, 에픽, 유니크 or 레전드리",
        )
    })?;
    if lines.is_empty() {
        return Err(va::InputIssue::invalid(
            format!("{prefix}potential_option_1..3"),
            "null",
            "option strings, since the item has a potential grade",
        ));
    }
    Ok(Some(va::Potential { grade, lines }))
}

fn flame_input(item: &Map<String, Value>, slot: &str) -> va::Field<va::FlameInput> {
    let add = object(item.get("item_add_option"), "item_add_option")?;
    let mut stats = fl::FlameStats::default();
    for (key, v) in add {
        // Unknown keys are upstream's business; every known one must be a count.
        if let Ok(stat) = fl::Stat::parse(key) {
            stats.set(stat, uint(Some(v), &format!("item_add_option.{key}"))?);
        }
    }
    let (mut base_attack, mut base_magic_attack) = (0, 0);
    if slot == "무기" {
        let base = object(item.get("item_base_option"), "item_base_option")?;
        base_attack = uint(base.get("attack_power"), "item_base_option.attack_power")?;
        base_magic_attack = uint(base.get("magic_power"), "item_base_option.magic_power")?;
    }
    Ok(va::FlameInput {
        stats,
        base_attack,
        base_magic_attack,
    })
}

fn stars(item: &Map<String, Value>) -> va::Field<va::Stars> {
    let stars = uint(item.get("starforce"), "starforce")?;
    let star_scroll = match req_str(item.get("starforce_scroll_flag"), "starforce_scroll_flag")? {
        "사용" => true,
        "미사용" => false,
        other => {
            return Err(va::InputIssue::invalid(
                "starforce_scroll_flag",
                format!("{other:?}"),
                "\"사용\" or \"미사용\"",
            ))
        }
    };
    Ok(va::Stars { stars, star_scroll })
}

fn item_from(v: &Value, index: usize) -> va::Item {
    let empty = Map::new();
    let (map, not_object) = match v {
        Value::Object(m) => (m, None),
        other => (
            &empty,
            Some(va::InputIssue::invalid(
                format!("[{index}]"),
                shown(other),
                "an item object",
            )),
        ),
    };
    let text = |key: &str| req_str(map.get(key), key).map(str::to_owned);
    let (slot, part, name) = (
        text("item_equipment_slot"),
        text("item_equipment_part"),
        text("item_name"),
    );
    let identity_issue = not_object.or_else(|| {
        [&slot, &part, &name]
            .into_iter()
            .find_map(|r| r.as_ref().err().cloned())
    });
    let slot = slot.unwrap_or_else(|_| format!("#{index}"));
    let level = object(map.get("item_base_option"), "item_base_option").and_then(|b| {
        uint(
            b.get("base_equipment_level"),
            "item_base_option.base_equipment_level",
        )
    });
    let special = match map.get("special_ring_level") {
        None | Some(Value::Null) => Ok(0),
        v => uint(v, "special_ring_level"),
    };
    let (stars, special_ring_level) = match special {
        Ok(s) => (stars(map), s),
        Err(e) => (Err(e), 0),
    };
    va::Item {
        flame: flame_input(map, &slot),
        potential: potential(map, ""),
        additional: potential(map, "additional_"),
        slot,
        part: part.unwrap_or_default(),
        name: name.unwrap_or_default(),
        identity_issue,
        level,
        stars,
        special_ring_level,
    }
}

fn api_err(code: ErrorCode, msg: impl Into<String>) -> ApiError {
    ApiError::new(code, msg)
}

/// Each set's items' `item_icon` (the Open API's picture URL), in the order of the character's sets.
type Icons = Vec<Vec<Option<String>>>;

/// An item's `item_icon`, when it is a string (a picture is presentation: anything else is no picture).
fn icon_of(v: &Value) -> Option<String> {
    v.get("item_icon").and_then(Value::as_str).map(str::to_owned)
}

/// The raw response → the engine's character, `preset_no` and the items' icons.
fn character_from(raw: &Value) -> Result<(va::Character, Option<u32>, Icons), ApiError> {
    let Value::Object(top) = raw else {
        return Err(api_err(
            ErrorCode::InvalidType,
            format!(
                "the request must be a Nexon character/item-equipment response object or \
                 {{\"equipment\": …, \"options\": …}}, not {}",
                shown(raw)
            ),
        ));
    };
    let class = match top.get("character_class") {
        None => {
            return Err(api_err(
                ErrorCode::MissingField,
                "missing field `character_class` (string or null) in the item-equipment response",
            ))
        }
        Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(api_err(
                ErrorCode::InvalidType,
                format!("`character_class` must be a string or null, not {}", shown(other)),
            ))
        }
    };
    type List = (Vec<va::Item>, Vec<Option<String>>);
    let list = |key: &str, required: bool| -> Result<Option<List>, ApiError> {
        match top.get(key) {
            None | Some(Value::Null) if !required => Ok(None),
            None => Err(api_err(
                ErrorCode::MissingField,
                format!("missing field `{key}` (array) in the item-equipment response"),
            )),
            Some(Value::Array(items)) => Ok(Some((
                items.iter().enumerate().map(|(i, v)| item_from(v, i)).collect(),
                items.iter().map(icon_of).collect(),
            ))),
            Some(other) => Err(api_err(
                ErrorCode::InvalidType,
                format!("`{key}` must be an array of items, not {}", shown(other)),
            )),
        }
    };
    let mut sets = Vec::new();
    let mut icons = Vec::new();
    let (items, item_icons) = list("item_equipment", true)?.unwrap_or_default();
    sets.push((va::SetId::Equipped, items));
    icons.push(item_icons);
    for n in 1..=3u8 {
        if let Some((items, item_icons)) = list(&format!("item_equipment_preset_{n}"), false)? {
            sets.push((va::SetId::Preset(n), items));
            icons.push(item_icons);
        }
    }
    for (key, id) in [
        ("dragon_equipment", va::SetId::Dragon),
        ("mechanic_equipment", va::SetId::Mechanic),
    ] {
        if let Some((items, item_icons)) = list(key, false)? {
            if !items.is_empty() {
                sets.push((id, items));
                icons.push(item_icons);
            }
        }
    }
    let preset_no = match top.get("preset_no") {
        None | Some(Value::Null) => None,
        v => match uint(v, "preset_no") {
            Ok(n) if (1..=3).contains(&n) => Some(n),
            _ => {
                return Err(api_err(
                    ErrorCode::OutOfRange,
                    format!(
                        "`preset_no` must be 1, 2, 3 or null, not {}",
                        shown(v.unwrap_or(&Value::Null))
                    ),
                ))
            }
        },
    };
    Ok((va::Character { class, sets }, preset_no, icons))
}

// ---------------------------------------------------------------------------------------------------------
// Response

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "ValuationQuantilesOut"))]
pub struct QuantilesOut {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
}

impl From<va::Quantiles> for QuantilesOut {
    fn from(q: va::Quantiles) -> Self {
        QuantilesOut {
            p50: q.p50,
            p90: q.p90,
            p99: q.p99,
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StarforceOut {
    pub from_star: u32,
    pub to_star: u32,
    /// Attempt mesos + spare_cost × mean_booms: what the sums use.
    pub mean_mesos: f64,
    pub mean_attempt_mesos: f64,
    pub sd_attempt_mesos: f64,
    /// Only with `options.starforce.quantiles`.
    pub quantiles_attempt_mesos: Option<QuantilesOut>,
    pub mean_attempts: f64,
    pub mean_booms: f64,
    pub p_no_boom: f64,
    pub zero_reason: Option<crate::message::MessageOut>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LineOut {
    pub text: String,
    /// `"int_pct 12"`, `"non_stat ignore_damage_pct_on_hit"` or null when unparsed.
    pub parsed: Option<String>,
    /// `counted` | `not_counted` | `non_stat` | `unparsed`.
    #[serde(rename = "use")]
    pub used: &'static str,
    pub counts_toward: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GoalOut {
    pub stat: &'static str,
    pub at_least: u32,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PotentialOut {
    pub grade: &'static str,
    pub start_grade: &'static str,
    pub reset: String,
    pub unit: &'static str,
    pub lines: Vec<LineOut>,
    pub goal: Vec<GoalOut>,
    pub band: Option<[u32; 2]>,
    pub p_per_attempt_at_grade: Option<f64>,
    pub mean_attempts: f64,
    /// Null when `options.*.quantiles` is false.
    pub quantiles_attempts: Option<QuantilesOut>,
    pub mean: f64,
    pub mean_mesos: Option<f64>,
    pub zero_reason: Option<crate::message::MessageOut>,
    pub notes: Vec<crate::message::MessageOut>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FlameOut {
    pub flame: &'static str,
    pub item_kind: &'static str,
    pub boss: bool,
    pub boss_from: &'static str,
    pub score: f64,
    pub score_exact: String,
    pub p_per_flame: f64,
    pub p_per_flame_exact: String,
    pub mean_flames: f64,
    pub sd_flames: f64,
    pub quantiles_flames: QuantilesOut,
    pub mean_mesos: Option<f64>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NotValuedOut {
    pub kind: &'static str,
    pub reason_code: &'static str,
    pub code: &'static str,
    pub params: crate::message::Params,
    pub message: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "ValuationItemOut"))]
pub struct ItemOut {
    pub id: usize,
    pub slot: String,
    pub part: String,
    pub name: String,
    /// The Open API's `item_icon` URL, as upstream gave it (null: none).
    pub icon: Option<String>,
    pub level: Option<u32>,
    pub stars: Option<u32>,
    /// The sets wearing it (`equipped`, `preset_2`, …).
    pub worn_in: Vec<String>,
    /// Sum of this item's means that are in mesos (null: none is).
    pub mean_mesos: Option<f64>,
    pub starforce: Option<StarforceOut>,
    pub potential: Option<PotentialOut>,
    pub additional_potential: Option<PotentialOut>,
    pub flame: Option<FlameOut>,
    pub not_valued: Vec<NotValuedOut>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KindSummaryOut {
    pub unit: &'static str,
    pub mean: Option<f64>,
    pub mean_mesos: Option<f64>,
    pub valued: u32,
    pub not_valued: u32,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KindsOut {
    pub starforce: KindSummaryOut,
    pub potential: KindSummaryOut,
    pub additional_potential: KindSummaryOut,
    pub flame: KindSummaryOut,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SummaryOut {
    pub items: u32,
    pub mean_mesos: Option<f64>,
    pub mesos_exclude: Vec<&'static str>,
    pub by_kind: KindsOut,
    pub items_fully_valued: u32,
    pub items_partly_valued: u32,
    pub items_not_valued: u32,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EntryOut {
    pub slot: String,
    pub item: usize,
    pub name: String,
    pub mean_mesos: Option<f64>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SetOut {
    pub set: String,
    pub summary: SummaryOut,
    pub items: Vec<EntryOut>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClassOut {
    pub given: Option<String>,
    pub name: Option<&'static str>,
    pub potential_stats: Vec<&'static str>,
    /// Flame score weights by `item_add_option` key, as exact numbers (`"1"`, `"1/12"`).
    pub flame_weights: BTreeMap<&'static str, String>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DataVersionOut {
    pub potential: String,
    pub flame: &'static str,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PotentialOptionsOut {
    pub reset: String,
    pub start_grade: &'static str,
    pub cube_price_mesos: Option<f64>,
    /// Echoed only when false (the default, true, leaves the response as it was before the option).
    #[serde(skip_serializing_if = "is_true")]
    pub quantiles: bool,
}

fn is_true(b: &bool) -> bool {
    *b
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FlameOptionsOut {
    pub flame: &'static str,
    pub convention: &'static str,
    pub assumptions: crate::flame::AssumptionsOut,
    pub unknown_boss: &'static str,
    pub price_mesos: Option<f64>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StarforceOptionsOut {
    pub ruleset: &'static str,
    pub star_catch: bool,
    pub safeguard: bool,
    pub events: EventsDto,
    pub mvp: &'static str,
    pub pc_room: bool,
    pub spare_cost: f64,
    pub quantiles: bool,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OptionsOut {
    pub starforce: StarforceOptionsOut,
    pub potential: PotentialOptionsOut,
    pub additional_potential: PotentialOptionsOut,
    pub flame: FlameOptionsOut,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ValuationResponse {
    pub engine_version: &'static str,
    pub data_version: DataVersionOut,
    pub class: ClassOut,
    pub options: OptionsOut,
    pub equipped_preset: Option<u32>,
    pub total: SummaryOut,
    pub sets: Vec<SetOut>,
    pub items: Vec<ItemOut>,
    pub notes: Vec<crate::message::MessageOut>,
}

fn line_out(l: &va::LineReport) -> LineOut {
    let parsed = match &l.parsed {
        ParsedLine::Stat(s) => Some(format!("{} {}", s.kind.key(), s.value)),
        ParsedLine::NonStat(k) => Some(format!("non_stat {}", k.key())),
        _ => None,
    };
    let (used, counts_toward) = match &l.used {
        va::LineUse::Counted(stats) => ("counted", stats.iter().map(|s| s.key()).collect()),
        va::LineUse::NotCounted => ("not_counted", Vec::new()),
        va::LineUse::NonStat => ("non_stat", Vec::new()),
        _ => ("unparsed", Vec::new()),
    };
    LineOut {
        text: l.text.clone(),
        parsed,
        used,
        counts_toward,
    }
}

fn potential_out(p: &va::PotentialValue) -> PotentialOut {
    PotentialOut {
        grade: grade_key(p.grade),
        start_grade: grade_key(p.start_grade),
        reset: p.reset.clone(),
        unit: p.unit.key(),
        lines: p.lines.iter().map(line_out).collect(),
        goal: p
            .goal
            .iter()
            .map(|c| match *c {
                pot::Condition::AtLeast { stat, value } => GoalOut {
                    stat: stat.key(),
                    at_least: value,
                },
                pot::Condition::Lines { stat, count } => GoalOut {
                    stat: stat.key(),
                    at_least: u32::from(count),
                },
            })
            .collect(),
        band: p.band.map(|(a, b)| [a, b]),
        p_per_attempt_at_grade: p.p_per_attempt_at_grade,
        mean_attempts: p.mean_attempts,
        quantiles_attempts: p.quantiles_attempts.map(Into::into),
        mean: p.mean,
        mean_mesos: p.mean_mesos,
        zero_reason: p.zero_reason.as_ref().map(Into::into),
        notes: crate::message::messages_out(&p.notes),
    }
}

fn summary_out(s: &va::Summary) -> SummaryOut {
    let k = |kind: va::Kind| {
        let ks = s
            .by_kind
            .iter()
            .find(|k| k.kind == kind)
            .expect("every kind is summarized");
        KindSummaryOut {
            unit: ks.unit.key(),
            mean: ks.mean,
            mean_mesos: ks.mean_mesos,
            valued: ks.valued,
            not_valued: ks.not_valued,
        }
    };
    SummaryOut {
        items: s.items,
        mean_mesos: s.mean_mesos,
        mesos_exclude: s.mesos_exclude.iter().map(|k| k.key()).collect(),
        by_kind: KindsOut {
            starforce: k(va::Kind::Starforce),
            potential: k(va::Kind::Potential),
            additional_potential: k(va::Kind::AdditionalPotential),
            flame: k(va::Kind::Flame),
        },
        items_fully_valued: s.items_fully_valued,
        items_partly_valued: s.items_partly_valued,
        items_not_valued: s.items_not_valued,
    }
}

fn options_out(o: &va::Options) -> OptionsOut {
    let p = |p: &va::PotentialOptions| PotentialOptionsOut {
        reset: p.reset.clone(),
        start_grade: grade_key(p.start_grade),
        cube_price_mesos: p.cube_price_mesos,
        quantiles: p.quantiles,
    };
    let a = &o.flame.assumptions;
    OptionsOut {
        starforce: StarforceOptionsOut {
            ruleset: o.starforce.ruleset.as_str(),
            star_catch: o.starforce.star_catch,
            safeguard: o.starforce.safeguard,
            events: EventsDto {
                thirty_off: o.starforce.events.thirty_off,
                boom_reduction: o.starforce.events.boom_reduction,
                five_ten_fifteen: o.starforce.events.five_ten_fifteen,
                plus_one: o.starforce.events.plus_one,
            },
            mvp: mvp_key(o.starforce.mvp),
            pc_room: o.starforce.pc_room,
            spare_cost: o.starforce.spare_cost,
            quantiles: o.starforce.quantiles,
        },
        potential: p(&o.potential),
        additional_potential: p(&o.additional_potential),
        flame: FlameOptionsOut {
            flame: o.flame.flame.key(),
            convention: o.flame.convention.key(),
            assumptions: crate::flame::AssumptionsOut::from(a),
            unknown_boss: match o.flame.unknown_boss {
                va::UnknownBoss::NotValued => "not_valued",
                va::UnknownBoss::AssumeBoss => "boss",
                va::UnknownBoss::AssumeNotBoss => "not_boss",
            },
            price_mesos: o.flame.price_mesos,
        },
    }
}

fn response(
    v: &va::Valuation,
    options: &va::Options,
    data: &pot::Data,
    preset_no: Option<u32>,
    icons: &Icons,
) -> ValuationResponse {
    let mut worn_in: Vec<Vec<String>> = vec![Vec::new(); v.items.len()];
    // An item's icon: the first entry's that has one (entries of one item are the same item).
    let mut icon: Vec<Option<String>> = vec![None; v.items.len()];
    for (k, s) in v.sets.iter().enumerate() {
        for (j, e) in s.entries.iter().enumerate() {
            let key = s.set.key();
            if !worn_in[e.item].contains(&key) {
                worn_in[e.item].push(key);
            }
            if icon[e.item].is_none() {
                icon[e.item] = icons.get(k).and_then(|l| l.get(j)).cloned().flatten();
            }
        }
    }
    let items = v
        .items
        .iter()
        .zip(worn_in.into_iter().zip(icon))
        .enumerate()
        .map(|(id, (it, (worn_in, icon)))| ItemOut {
            id,
            slot: it.slot.clone(),
            part: it.part.clone(),
            name: it.name.clone(),
            icon,
            level: it.level,
            stars: it.stars,
            worn_in,
            mean_mesos: it.total_mesos(),
            starforce: it.starforce.as_ref().map(|s| StarforceOut {
                from_star: s.from_star,
                to_star: s.to_star,
                mean_mesos: s.mean_mesos,
                mean_attempt_mesos: s.mean_attempt_mesos,
                sd_attempt_mesos: s.sd_attempt_mesos,
                quantiles_attempt_mesos: s.quantiles_attempt_mesos.map(Into::into),
                mean_attempts: s.mean_attempts,
                mean_booms: s.mean_booms,
                p_no_boom: s.p_no_boom,
                zero_reason: s.zero_reason.as_ref().map(Into::into),
            }),
            potential: it.potential.as_ref().map(potential_out),
            additional_potential: it.additional_potential.as_ref().map(potential_out),
            flame: it.flame.as_ref().map(|f| FlameOut {
                flame: f.flame.key(),
                item_kind: f.item_kind.key(),
                boss: f.boss,
                boss_from: f.boss_from,
                score: f.score,
                score_exact: f.score_exact.clone(),
                p_per_flame: f.p_per_flame,
                p_per_flame_exact: f.p_per_flame_exact.clone(),
                mean_flames: f.mean_flames,
                sd_flames: f.sd_flames,
                quantiles_flames: f.quantiles_flames.into(),
                mean_mesos: f.mean_mesos,
            }),
            not_valued: it
                .not_valued
                .iter()
                .map(|n| NotValuedOut {
                    kind: n.kind.key(),
                    reason_code: n.reason.code(),
                    code: n.message.code,
                    params: crate::message::Params(n.message.params.clone()),
                    message: n.message.message.clone(),
                })
                .collect(),
        })
        .collect();
    ValuationResponse {
        engine_version: crate::ENGINE_VERSION,
        data_version: DataVersionOut {
            potential: data.version().to_owned(),
            flame: fl::DATA_VERSION,
        },
        class: ClassOut {
            given: v.class.given.clone(),
            name: v.class.name,
            potential_stats: v.class.potential_stats.clone(),
            flame_weights: v
                .class
                .flame_weights
                .iter()
                .map(|(s, w)| (*s, w.clone()))
                .collect(),
        },
        options: options_out(options),
        equipped_preset: preset_no,
        total: summary_out(&v.total),
        sets: v
            .sets
            .iter()
            .map(|s| SetOut {
                set: s.set.key(),
                summary: summary_out(&s.summary),
                items: s
                    .entries
                    .iter()
                    .map(|e| EntryOut {
                        slot: e.slot.clone(),
                        item: e.item,
                        name: v.items[e.item].name.clone(),
                        mean_mesos: v.items[e.item].total_mesos(),
                    })
                    .collect(),
            })
            .collect(),
        items,
        notes: crate::message::messages_out(&v.notes),
    }
}

impl From<va::Error> for ApiError {
    fn from(e: va::Error) -> Self {
        let code = match e {
            va::Error::UnknownReset { .. } => ErrorCode::UnknownVariant,
            _ => ErrorCode::InvalidCombination,
        };
        ApiError::new(code, e.to_string())
    }
}

// ---------------------------------------------------------------------------------------------------------

/// Split the request into the raw response and the options.
pub(crate) fn split(value: Value) -> Result<(Value, OptionsDto), ApiError> {
    let wrapped =
        matches!(&value, Value::Object(m) if m.contains_key("equipment") || m.contains_key("options"));
    if wrapped {
        // Move the equipment out (leaving null) before checking the wrapper: deserializing the wrapper
        // from the whole value would copy the whole equipment tree, about as much work as the valuation
        // itself (issue 16). The wrapper's errors are the same: same keys, and `equipment` takes any JSON.
        let mut value = value;
        let equipment = value.get_mut("equipment").map(Value::take);
        let w: Wrapper = crate::strict::from_value(value).map_err(ApiError::from_json)?;
        Ok((equipment.unwrap_or(w.equipment), w.options))
    } else {
        Ok((value, OptionsDto::default()))
    }
}

/// Parse a `valuation` request's JSON text into the JSON tree [`compute`] reads, without building what it
/// never reads: inside the item-equipment response only the fields listed in this module's doc are kept
/// (the Evan fixture is 357 KB of JSON, most of it item stats the valuation does not use; building and
/// dropping their tree cost more than the valuation itself in Wasm, issue 16). The CLI, the HTTP API and
/// the Wasm all parse with this function, so they read the same tree from the same text.
///
/// The result equals the full tree (`serde_json::from_str::<Value>`) in everything the valuation reads, so
/// every answer and every error is the same: dropped values are still parsed (syntax errors are
/// `malformed_json` as before), a top-level key is always kept (an unknown wrapper field is still
/// `unknown_field`; its value is dropped), and a value that is not an object where one is expected is kept
/// whole, since messages quote it. One difference: serde_json skips a dropped string without decoding its
/// `\u` escapes, so an unpaired surrogate escape inside a dropped field is no longer refused.
///
/// # Errors
/// [`ApiError`] `malformed_json` when the text is not JSON.
#[cfg(feature = "json")]
pub fn parse(json: &str) -> Result<Value, ApiError> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(json);
    let value = prune::Shape::Top
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(ApiError::from_json)?;
    Ok(value)
}

/// The JSON tree of a request, keeping only what the valuation reads ([`parse`]).
#[cfg(feature = "json")]
mod prune {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Number, Value};
    use std::fmt;

    /// Where a value sits in the request, which decides which of its keys are kept.
    #[derive(Clone, Copy)]
    pub enum Shape {
        /// The request: the wrapper or the raw response. Every key is kept (the wrapper refuses unknown
        /// ones by name); the values of keys neither form reads are dropped (`null`).
        Top,
        /// The raw item-equipment response under `equipment`.
        Raw,
        /// A list of items.
        Items,
        /// One item.
        Item,
        /// An item's `item_base_option`.
        BaseOption,
        /// Everything below is kept.
        Full,
    }

    /// What becomes of a key's value.
    enum Keep {
        As(Shape),
        /// Kept as `null`.
        Null,
        /// Dropped, key and value.
        Drop,
    }

    const ITEM_LISTS: [&str; 6] = [
        "item_equipment",
        "item_equipment_preset_1",
        "item_equipment_preset_2",
        "item_equipment_preset_3",
        "dragon_equipment",
        "mechanic_equipment",
    ];
    const ITEM_FIELDS: [&str; 16] = [
        "item_equipment_slot",
        "item_equipment_part",
        "item_name",
        "item_icon",
        "starforce",
        "starforce_scroll_flag",
        "special_ring_level",
        "item_add_option",
        "potential_option_grade",
        "potential_option_1",
        "potential_option_2",
        "potential_option_3",
        "additional_potential_option_grade",
        "additional_potential_option_1",
        "additional_potential_option_2",
        "additional_potential_option_3",
    ];
    const BASE_OPTION_FIELDS: [&str; 3] = ["base_equipment_level", "attack_power", "magic_power"];

    impl Shape {
        fn key(self, key: &str) -> Keep {
            let raw = |otherwise| match key {
                k if ITEM_LISTS.contains(&k) => Keep::As(Shape::Items),
                "character_class" | "preset_no" => Keep::As(Shape::Full),
                _ => otherwise,
            };
            match self {
                Shape::Top => match key {
                    "equipment" => Keep::As(Shape::Raw),
                    "options" => Keep::As(Shape::Full),
                    _ => raw(Keep::Null),
                },
                Shape::Raw => raw(Keep::Drop),
                Shape::Item => match key {
                    "item_base_option" => Keep::As(Shape::BaseOption),
                    k if ITEM_FIELDS.contains(&k) => Keep::As(Shape::Full),
                    _ => Keep::Drop,
                },
                Shape::BaseOption if BASE_OPTION_FIELDS.contains(&key) => Keep::As(Shape::Full),
                Shape::BaseOption => Keep::Drop,
                Shape::Items | Shape::Full => Keep::As(Shape::Full),
            }
        }

        /// The shape of an array's elements.
        fn element(self) -> Shape {
            match self {
                Shape::Items => Shape::Item,
                _ => Shape::Full,
            }
        }
    }

    impl<'de> DeserializeSeed<'de> for Shape {
        type Value = Value;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            match self {
                Shape::Full => serde::Deserialize::deserialize(d),
                _ => d.deserialize_any(self),
            }
        }
    }

    /// serde_json's own `Value` visitor for scalars (the same numbers and strings), with the shape deciding
    /// the keys of objects.
    impl<'de> Visitor<'de> for Shape {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any valid JSON value")
        }
        fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
            Ok(Value::Bool(b))
        }
        fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
            Ok(Value::Number(n.into()))
        }
        fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
            Ok(Value::Number(n.into()))
        }
        fn visit_f64<E>(self, x: f64) -> Result<Value, E> {
            Ok(Number::from_f64(x).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, s: &str) -> Result<Value, E> {
            Ok(Value::String(s.to_owned()))
        }
        fn visit_string<E>(self, s: String) -> Result<Value, E> {
            Ok(Value::String(s))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut items = Vec::new();
            while let Some(v) = seq.next_element_seed(self.element())? {
                items.push(v);
            }
            Ok(Value::Array(items))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                match self.key(&key) {
                    Keep::As(shape) => {
                        let v = map.next_value_seed(shape)?;
                        out.insert(key, v);
                    }
                    Keep::Null => {
                        map.next_value::<IgnoredAny>()?;
                        out.insert(key, Value::Null);
                    }
                    Keep::Drop => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(Value::Object(out))
        }
    }
}

/// Value a character with the given potential data.
///
/// # Errors
/// [`ApiError`] for malformed JSON, a wrapper with unknown fields, invalid options, or a response without
/// `character_class` / `item_equipment`.
#[cfg(feature = "json")]
pub fn handle_with(json: &str, data: &pot::Data) -> Result<ValuationResponse, ApiError> {
    compute_with(parse(json)?, data)
}

#[cfg(feature = "json")]
pub fn handle(json: &str) -> Result<ValuationResponse, ApiError> {
    handle_with(json, crate::potential::potential_data()?)
}

/// [`handle_with`] on a request already deserialized (from JSON or a JS value): the Nexon item-equipment
/// response, or `{"equipment": …, "options": …}`.
pub fn compute_with(request: Value, data: &pot::Data) -> Result<ValuationResponse, ApiError> {
    let (raw, options) = split(request)?;
    let options = options_from(&options)?;
    let (character, preset_no, icons) = character_from(&raw)?;
    let valuation = va::value(&character, &options, data)?;
    Ok(response(&valuation, &options, data, preset_no, &icons))
}

/// [`compute_with`] the installed potential data.
pub fn compute(request: Value) -> Result<ValuationResponse, ApiError> {
    compute_with(request, crate::potential::potential_data()?)
}
