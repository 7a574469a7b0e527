//! `potential` request/response schema: how likely and how costly given potential lines are with a cube or a
//! meso reset (`pve potential`, `POST /v1/potential`, Wasm `compute("potential", …)`).
//!
//! Request:
//! ```json
//! {"cube": "black", "part": "무기", "level": 200, "grade": "레전드리",
//!  "goal": {"at_least": {"att_pct": 21, "boss_pct": 30}, "lines": {"crit_dmg_pct": 2}}}
//! ```
//! - `cube`: `black`, `red`, `additional`, `white_additional`, `meso_reset_main`, `meso_reset_additional`,
//!   `master`, `meister`, `strange`, `strange_additional`.
//! - `part`: the official page's part name (`무기`, `엠블렘`, `보조무기`, `포스실드/소울링`, `방패`, `모자`, `상의`,
//!   `한벌옷`, `하의`, `신발`, `장갑`, `망토`, `벨트`, `어깨장식`, `얼굴장식`, `눈장식`, `귀고리`, `반지`, `펜던트`,
//!   `기계 심장`).
//! - `level`: item level 0..=300; `grade`: the item's current grade (`레어`, `에픽`, `유니크`, `레전드리`).
//! - `goal.at_least`: stat key → minimum sum over the three lines; `goal.lines`: stat key → minimum number of
//!   lines (1..=3) of that stat. All conditions must hold. 올스탯 lines count toward str/dex/int/luk goals.
//!   Stat keys: see [`pve_engine::potential::StatKind::key`] (`att_pct`, `boss_pct`, `ied_pct`, ...).
//!
//! Options (issue 13), all optional:
//! - `pity_progress`: attempts already made at `grade` without a tier-up, `0..pity` of that grade (default 0;
//!   at or above the pity, or non-zero where the grade has none → `out_of_range`).
//! - `miracle_time: true`: tier-up probabilities doubled (capped at 1), pity unchanged (KMS 미라클 타임; the
//!   rule and its source are [`pve_engine::potential::plan::MIRACLE_TIME`]); refused (`invalid_combination`)
//!   for the cubes it does not affect.
//! - `cube_price_mesos`: a cube item's price (> 0); `mean_cost` is then `mean_cubes × price`.
//! - `plan`: exactly one of `{"budget_mesos": x}` (x >= 0) or `{"budget_cubes": n}` (a whole n >= 0) →
//!   response `plan` with `p_reach` = P(the goal is met within the budget, tier-ups included) and
//!   `budget_for` {p50, p90, p99} = the least budget (same unit) with that probability, `null` with a
//!   `potential.plan_unreachable` note where none is enough. A meso budget for a cube item needs
//!   `cube_price_mesos` and buys floor(budget / price) cubes; for a meso reset it is counted exactly in
//!   units of the prices' greatest common divisor. Both or neither → `invalid_combination`; negative or
//!   fractional cubes, a negative budget → `out_of_range`.
//!
//! The game data is compiled in with the `bundled-data` feature (CLI, Worker); the browser installs it with
//! [`install_potential_data`] and gets `data_not_loaded` until then.
use crate::message::{messages_out, MessageOut};
use crate::{ApiError, ErrorCode};
use pve_engine::potential::{self as pot, Data, Grade, StatKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

static DATA: OnceLock<Data> = OnceLock::new();

#[cfg(feature = "bundled-data")]
const BUNDLED: &[u8] = include_bytes!("../../data/potential.bin");

/// The potential data: installed, or else (with `bundled-data`) the compiled-in file, decoded once.
///
/// # Errors
/// `data_not_loaded` without `bundled-data` before [`install_potential_data`]; `internal` if the bundled file
/// does not decode (a build defect).
pub fn potential_data() -> Result<&'static Data, ApiError> {
    if let Some(d) = DATA.get() {
        return Ok(d);
    }
    #[cfg(feature = "bundled-data")]
    {
        let d = Data::decode(BUNDLED)
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("the bundled potential data: {e}")))?;
        Ok(DATA.get_or_init(|| d))
    }
    #[cfg(not(feature = "bundled-data"))]
    Err(ApiError::new(
        ErrorCode::DataNotLoaded,
        "the potential data is not loaded: fetch potential.bin and pass its bytes to install_potential_data",
    ))
}

/// The installed (or bundled) data version, if any data is available.
pub fn data_version() -> Option<&'static str> {
    potential_data().ok().map(Data::version)
}

/// Install the potential data file for this process: `engine/data/potential.bin` (what the page serves) or
/// `potential.tsv` (the same facts and version, as text). Installing the same version again is a no-op.
///
/// # Errors
/// `invalid_data` if the bytes do not decode; `invalid_combination` if a different version is already
/// installed (reload to switch).
pub fn install_potential_data(bytes: &[u8]) -> Result<(), ApiError> {
    let invalid = |e: pve_engine::potential::DataError| ApiError::new(ErrorCode::InvalidData, e.to_string());
    if let Some(installed) = DATA.get() {
        // The version names the content (a hash), so the same version is the same data: skip decoding.
        if Data::peek_version(bytes).map_err(invalid)? == installed.version() {
            return Ok(());
        }
    }
    let d = Data::decode(bytes).map_err(invalid)?;
    let version = d.version().to_string();
    let installed = DATA.get_or_init(|| d);
    if installed.version() != version {
        return Err(ApiError::new(
            ErrorCode::InvalidCombination,
            format!(
                "potential data {} is already installed; cannot replace it with {version} in this process",
                installed.version()
            ),
        ));
    }
    Ok(())
}

/// Grades by their Korean names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum GradeDto {
    #[serde(rename = "레어")]
    Rare,
    #[serde(rename = "에픽")]
    Epic,
    #[serde(rename = "유니크")]
    Unique,
    #[serde(rename = "레전드리")]
    Legendary,
}

impl From<GradeDto> for Grade {
    fn from(g: GradeDto) -> Grade {
        match g {
            GradeDto::Rare => Grade::Rare,
            GradeDto::Epic => Grade::Epic,
            GradeDto::Unique => Grade::Unique,
            GradeDto::Legendary => Grade::Legendary,
        }
    }
}

impl From<Grade> for GradeDto {
    fn from(g: Grade) -> GradeDto {
        match g {
            Grade::Rare => GradeDto::Rare,
            Grade::Epic => GradeDto::Epic,
            Grade::Unique => GradeDto::Unique,
            Grade::Legendary => GradeDto::Legendary,
        }
    }
}

/// `at_least`: stat key → minimum sum (≥ 1) over the three lines; `lines`: stat key → minimum number of
/// lines (1 to 3) of that stat. At least one condition.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = goal_schema))]
#[serde(deny_unknown_fields)]
pub struct GoalDto {
    #[serde(default)]
    pub at_least: BTreeMap<String, u32>,
    #[serde(default)]
    pub lines: BTreeMap<String, u32>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = request_rules_schema))]
#[serde(deny_unknown_fields)]
pub struct PotentialRequest {
    pub cube: String,
    pub part: String,
    /// Item level, 0 to 300.
    #[cfg_attr(feature = "schema", schemars(range(max = pve_engine::potential::MAX_LEVEL)))]
    pub level: u32,
    pub grade: GradeDto,
    pub goal: GoalDto,
    /// Attempts already made at `grade` without a tier-up (default 0).
    #[serde(default)]
    pub pity_progress: Option<i64>,
    /// Miracle Time: tier-up probabilities doubled (capped at 1), pity unchanged.
    #[serde(default)]
    pub miracle_time: bool,
    /// Price of one cube in mesos (cube items only).
    #[serde(default)]
    pub cube_price_mesos: Option<f64>,
    #[serde(default)]
    pub plan: Option<PotentialPlanRequest>,
}

/// The potential data, for a schema: the names it lists are the data's (feature `schema` bundles it).
#[cfg(feature = "schema")]
pub(crate) fn schema_data() -> &'static Data {
    potential_data().expect("the bundled potential data decodes (feature schema implies bundled-data)")
}

/// [`PotentialRequest`]'s rules as JSON Schema, from the data: `cube` and `part` are the data's names, and
/// what [`pot::compute_with`] checks is three independent lists of branches, all of which must admit the
/// request: per (cube, grade), the grade is at most the cube's top grade, `miracle_time` only where it
/// applies and `pity_progress` below the pity of the grade's tier-up (0 where there is none); per cube,
/// `cube_price_mesos` (> 0) only for cube items, a cube budget only for them and a meso budget for them
/// only with a price; per place ([`place_branches`]), the levels at which every grade from the request's
/// to the cube's top has a line table (and, for a meso reset, a price) for the part.
#[cfg(feature = "schema")]
fn request_rules_schema(schema: &mut schemars::Schema) {
    use pve_engine::potential::Payment;
    use serde_json::{json, Value};
    let data = schema_data();
    let cubes: Vec<&str> = data.cubes().iter().map(|c| c.name.as_str()).collect();
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        props.insert("cube".into(), json!({"enum": cubes}));
        props.insert("part".into(), json!({"enum": data.parts()}));
    }
    let positive = json!({"type": "number", "exclusiveMinimum": 0});
    let budget = |key: &str| json!({"anyOf": [{"type": "null"}, {"required": [key], "properties": {key: {"type": "number"}}}]});
    let (mut grades, mut payments) = (Vec::new(), Vec::new());
    // Every (cube, grade) a request may name, and each (cube, grade, part)'s levels.
    let (mut pairs, mut levels) = (Vec::new(), Vec::new());
    for cube in data.cubes() {
        let name = json!({"const": cube.name});
        let max = cube.max_grade();
        let miracle = if pot::plan::miracle_time_applies(&cube.name) == Some(true) {
            json!({"type": "boolean"})
        } else {
            json!({"const": false})
        };
        for grade in Grade::ALL.into_iter().filter(|&g| g <= max) {
            let pity = match cube
                .tier_up_from(grade)
                .and_then(|t| t.pity)
                .filter(|_| grade < max)
            {
                Some(n) => {
                    json!({"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 0, "maximum": n - 1}]})
                }
                None => json!({"enum": [null, 0]}),
            };
            grades.push(json!({"properties": {
                "cube": name, "grade": {"const": GradeDto::from(grade)}, "miracle_time": miracle, "pity_progress": pity
            }}));
        }
        payments.extend(if cube.payment == Payment::Item {
            vec![
                json!({"properties": {"cube": name, "plan": budget("budget_cubes"), "cube_price_mesos": {"anyOf": [{"type": "null"}, positive]}}}),
                json!({"required": ["cube_price_mesos"], "properties": {"cube": name, "cube_price_mesos": positive}}),
            ]
        } else {
            vec![json!({"properties": {"cube": name, "plan": budget("budget_mesos"), "cube_price_mesos": {"type": "null"}}})]
        });
        for grade in Grade::ALL.into_iter().filter(|&g| g <= max) {
            pairs.push((cube.name.as_str(), grade.into()));
            for (part, intervals) in levels_by_part(data, cube, grade, max) {
                levels.push(((cube.name.as_str(), grade.into(), part), intervals));
            }
        }
    }
    let places = place_branches(data.parts(), &pairs, &levels);
    schema.insert(
        "allOf".into(),
        json!([{"anyOf": grades}, {"anyOf": payments}, {"anyOf": places}]),
    );
}

/// A (cube, grade) pair and a (cube, grade, part) triple of the place rule.
#[cfg(feature = "schema")]
type Pair<'d> = (&'d str, GradeDto);
#[cfg(feature = "schema")]
type Place<'d> = ((&'d str, GradeDto, &'d str), Vec<(u32, u32)>);
/// Level intervals, `(minimum, maximum)` inclusive.
#[cfg(feature = "schema")]
type Levels = Vec<(u32, u32)>;
/// A part's levels for each pair that has any.
#[cfg(feature = "schema")]
type PartLevels<'d, 'l> = Vec<(Pair<'d>, &'l Levels)>;

/// The place rule's branches: a request's (cube, grade, part, level) is admitted exactly when `levels`
/// lists its level for its (cube, grade, part), given that `pairs` (checked by the grade rule) lists its
/// (cube, grade). Parts whose levels agree for every pair share a branch; within such parts, the pairs
/// with one level list share one, without a cube or grade condition when they are all the pairs, else per
/// set of cubes with the same grades (no grade condition for a cube's every grade). A few dozen branches
/// instead of one per (cube, grade, parts): schemathesis' coverage phase spent 58 of its 122 s on the
/// 8,877 cases 665 branches gave.
#[cfg(feature = "schema")]
fn place_branches<'d>(
    parts: &'d [String],
    pairs: &[Pair<'d>],
    levels: &[Place<'d>],
) -> Vec<serde_json::Value> {
    use serde_json::json;
    // Per part, its levels for each pair that has any (in `pairs` order); parts alike together.
    let mut by_part: Vec<(PartLevels, Vec<&str>)> = Vec::new();
    for part in parts.iter().map(String::as_str) {
        let of_part: PartLevels = pairs
            .iter()
            .filter_map(|&(c, g)| {
                levels
                    .iter()
                    .find(|((lc, lg, lp), _)| (*lc, *lg, *lp) == (c, g, part))
                    .map(|(_, iv)| ((c, g), iv))
            })
            .collect();
        if of_part.is_empty() {
            continue;
        }
        match by_part.iter_mut().find(|(sig, _)| *sig == of_part) {
            Some((_, ps)) => ps.push(part),
            None => by_part.push((of_part, vec![part])),
        }
    }
    let mut out = Vec::new();
    for (of_part, ps) in by_part {
        let mut by_levels: Vec<(&Levels, Vec<Pair>)> = Vec::new();
        for (pair, iv) in of_part {
            match by_levels.iter_mut().find(|(l, _)| *l == iv) {
                Some((_, with)) => with.push(pair),
                None => by_levels.push((iv, vec![pair])),
            }
        }
        for (iv, with) in by_levels {
            let ranges: Vec<_> = iv
                .iter()
                .map(|&(min, max)| json!({"minimum": min, "maximum": max}))
                .collect();
            let level = json!({"anyOf": ranges});
            if with.len() == pairs.len() {
                out.push(json!({"properties": {"part": {"enum": ps}, "level": level}}));
                continue;
            }
            // Per cube, its grades here (None: all the cube's grades); cubes alike together.
            let mut by_grades: Vec<(Option<Vec<GradeDto>>, Vec<&str>)> = Vec::new();
            for (i, &(cube, _)) in with.iter().enumerate() {
                if with[..i].iter().any(|&(c, _)| c == cube) {
                    continue;
                }
                let gs: Vec<GradeDto> = with
                    .iter()
                    .filter(|&&(c, _)| c == cube)
                    .map(|&(_, g)| g)
                    .collect();
                let every = gs.len() == pairs.iter().filter(|&&(c, _)| c == cube).count();
                let key = (!every).then_some(gs);
                match by_grades.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, cubes)) => cubes.push(cube),
                    None => by_grades.push((key, vec![cube])),
                }
            }
            for (gs, cubes) in by_grades {
                let mut props = json!({"cube": {"enum": cubes}, "part": {"enum": ps}, "level": level});
                if let Some(gs) = gs {
                    props["grade"] = json!({"enum": gs});
                }
                out.push(json!({"properties": props}));
            }
        }
    }
    out
}

/// For a `cube` request at `grade`, each part with its levels (as intervals) at which every grade from
/// `grade` to `max` has a line table for the part, and for a meso reset a price. Parts with none are left out.
#[cfg(feature = "schema")]
fn levels_by_part<'d>(
    data: &'d Data,
    cube: &pot::CubeInfo,
    grade: Grade,
    max: Grade,
) -> Vec<(&'d str, Vec<(u32, u32)>)> {
    use pve_engine::potential::Payment;
    let Some(lc) = data.line_cube_index(&cube.lines) else {
        return Vec::new();
    };
    let grades: Vec<Grade> = Grade::ALL
        .into_iter()
        .filter(|&g| g >= grade && g <= max)
        .collect();
    let mut out = Vec::new();
    for (i, part) in data.parts().iter().enumerate() {
        let ok = |level: u32| {
            grades.iter().all(|&g| {
                data.band_for(lc, g, i as u8, level).is_some()
                    && (cube.payment == Payment::Item || data.meso_cost(&cube.name, g, level).is_some())
            })
        };
        let mut intervals: Vec<(u32, u32)> = Vec::new();
        for level in 0..=pot::MAX_LEVEL {
            if ok(level) {
                match intervals.last_mut() {
                    Some(last) if last.1 + 1 == level => last.1 = level,
                    _ => intervals.push((level, level)),
                }
            }
        }
        if !intervals.is_empty() {
            out.push((part.as_str(), intervals));
        }
    }
    out
}

/// Exactly one budget.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = plan_rules_schema))]
#[serde(deny_unknown_fields)]
pub struct PotentialPlanRequest {
    #[serde(default)]
    pub budget_mesos: Option<f64>,
    #[serde(default)]
    pub budget_cubes: Option<f64>,
}

/// What [`pot::Budget::try_from`] checks, as JSON Schema: exactly one budget (else
/// `invalid_combination`), `budget_mesos` ≥ 0, `budget_cubes` a whole number from 0 to `u64::MAX` (else
/// `out_of_range`).
#[cfg(feature = "schema")]
fn plan_rules_schema(schema: &mut schemars::Schema) {
    use serde_json::{json, Value};
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        if let Some(Value::Object(p)) = props.get_mut("budget_mesos") {
            p.insert("minimum".into(), json!(0));
        }
        if let Some(Value::Object(p)) = props.get_mut("budget_cubes") {
            p.insert("minimum".into(), json!(0));
            p.insert("maximum".into(), json!(u64::MAX as f64));
            p.insert("multipleOf".into(), json!(1));
        }
    }
    let one = |given: &str, other: &str| json!({"required": [given], "properties": {given: {"type": "number"}, other: {"type": "null"}}});
    schema.insert(
        "allOf".into(),
        json!([{"oneOf": [one("budget_mesos", "budget_cubes"), one("budget_cubes", "budget_mesos")]}]),
    );
}

impl TryFrom<&PotentialPlanRequest> for pot::Budget {
    type Error = ApiError;
    fn try_from(p: &PotentialPlanRequest) -> Result<pot::Budget, ApiError> {
        match (p.budget_mesos, p.budget_cubes) {
            (Some(_), Some(_)) | (None, None) => Err(ApiError::new(
                ErrorCode::InvalidCombination,
                "plan needs exactly one of budget_mesos and budget_cubes",
            )),
            (Some(m), None) if m.is_finite() && m >= 0.0 => Ok(pot::Budget::Mesos(m)),
            (Some(m), None) => Err(ApiError::new(
                ErrorCode::OutOfRange,
                format!("plan.budget_mesos {m} must be finite and at least 0"),
            )),
            (None, Some(n)) if n >= 0.0 && n.fract() == 0.0 && n <= u64::MAX as f64 => {
                Ok(pot::Budget::Cubes(n as u64))
            }
            (None, Some(n)) => Err(ApiError::new(
                ErrorCode::OutOfRange,
                format!("plan.budget_cubes {n} must be a whole number at least 0"),
            )),
        }
    }
}

/// The goal's rules as JSON Schema: known stat keys, targets ≥ 1, line counts 1 to 3, not empty.
#[cfg(feature = "schema")]
fn goal_schema(schema: &mut schemars::Schema) {
    use serde_json::json;
    let keys: Vec<&str> = StatKind::ALL.iter().map(|s| s.key()).collect();
    let props = schema
        .get_mut("properties")
        .and_then(|p| p.as_object_mut())
        .expect("GoalDto has properties");
    for (field, values) in [
        (
            "at_least",
            json!({"type": "integer", "minimum": 1, "maximum": u32::MAX}),
        ),
        ("lines", json!({"type": "integer", "minimum": 1, "maximum": 3})),
    ] {
        if let Some(p) = props.get_mut(field).and_then(|p| p.as_object_mut()) {
            p.insert("propertyNames".into(), json!({"enum": keys}));
            p.insert("additionalProperties".into(), values);
        }
    }
    schema.insert(
        "allOf".into(),
        json!([{"anyOf": [
            {"required": ["at_least"], "properties": {"at_least": {"minProperties": 1}}},
            {"required": ["lines"], "properties": {"lines": {"minProperties": 1}}}
        ]}]),
    );
}

fn stat_keys(map: &BTreeMap<String, u32>, field: &str) -> Result<Vec<(StatKind, u32)>, ApiError> {
    map.iter()
        .map(|(k, &v)| {
            StatKind::from_key(k).map(|s| (s, v)).ok_or_else(|| {
                let known: Vec<&str> = StatKind::ALL.iter().map(|s| s.key()).collect();
                ApiError::new(
                    ErrorCode::UnknownVariant,
                    format!(
                        "unknown stat `{k}` in goal.{field}; expected one of {}",
                        known.join(", ")
                    ),
                )
            })
        })
        .collect()
}

impl TryFrom<&GoalDto> for pot::Goal {
    type Error = ApiError;
    fn try_from(g: &GoalDto) -> Result<pot::Goal, ApiError> {
        let at_least = stat_keys(&g.at_least, "at_least")?;
        let lines = stat_keys(&g.lines, "lines")?;
        pot::Goal::new(&at_least, &lines).map_err(|e| {
            let code = match e {
                pot::GoalError::Empty => ErrorCode::MissingField,
                _ => ErrorCode::OutOfRange,
            };
            ApiError::new(code, format!("goal: {e}"))
        })
    }
}

impl From<pot::Error> for ApiError {
    fn from(e: pot::Error) -> Self {
        let code = match &e {
            pot::Error::UnknownCube { .. } | pot::Error::UnknownPart { .. } => ErrorCode::UnknownVariant,
            pot::Error::LevelOutOfRange { .. } => ErrorCode::OutOfRange,
            pot::Error::GradeAboveCubeMax { .. } | pot::Error::TierUpBackwards { .. } => {
                ErrorCode::InvalidCombination
            }
            pot::Error::NoTable { .. } | pot::Error::NoCost { .. } => ErrorCode::NoData,
            pot::Error::Option(o) => match o {
                pot::OptionError::PityProgress { .. }
                | pot::OptionError::CubePriceOutOfRange { .. }
                | pot::OptionError::BudgetOutOfRange { .. } => ErrorCode::OutOfRange,
                pot::OptionError::PriceGrid { .. } => ErrorCode::NoData,
                _ => ErrorCode::InvalidCombination,
            },
            _ => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BandDto {
    pub level_min: u32,
    pub level_max: u32,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GradeProbability {
    pub grade: GradeDto,
    pub p_per_attempt: f64,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QuantilesDto {
    pub p50: Option<u64>,
    pub p90: Option<u64>,
    pub p99: Option<u64>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TierUpDto {
    pub from: GradeDto,
    pub to: GradeDto,
    pub probability: f64,
    pub pity: Option<u32>,
    pub mean_attempts: f64,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentDto {
    Meso,
    Cube,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PotentialResponse {
    pub engine_version: &'static str,
    pub data_version: &'static str,
    pub cube: String,
    pub part: String,
    pub level: u32,
    pub grade: GradeDto,
    /// Level band of the tables used at `grade`.
    pub band: BandDto,
    pub impossible: bool,
    /// Why the goal cannot be met; `null` when it can.
    pub reason: Option<String>,
    /// The same as a catalogued message `{code, params, message}` (code `potential.impossible`), absent when
    /// the goal can be met.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impossible_reason: Option<crate::message::MessageOut>,
    /// P(one attempt's lines meet the goal) at `grade`, if the grade does not change.
    pub p_per_attempt: f64,
    /// The same at every grade this cube can reach from `grade`.
    pub p_per_attempt_by_grade: Vec<GradeProbability>,
    /// P(the goal is ever met), counting tier-ups.
    pub eventual_success_probability: f64,
    /// Expected attempts (tier-ups included); `null` when not finite.
    pub mean_attempts: Option<f64>,
    pub attempt_quantiles: QuantilesDto,
    /// `meso` for meso resets, `cube` for cube items.
    pub payment: PaymentDto,
    /// Expected mesos for meso resets; `null` for cube items (no price data).
    pub mean_cost: Option<f64>,
    /// Expected cubes for cube items; `null` for meso resets.
    pub mean_cubes: Option<f64>,
    /// Tier-up stages from `grade` to the cube's top grade (with `miracle_time`, the doubled probabilities).
    pub tier_up: Vec<TierUpDto>,
    pub notes: Vec<crate::message::MessageOut>,
    /// The answer to the request's `plan`; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PotentialPlanResponse>,
}

/// `mesos` or `cubes`: the unit of a plan's budget and `budget_for`.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PotentialPlanUnit {
    Mesos,
    Cubes,
}

/// The least budget (in the plan's unit) reaching each probability; `null` where none does.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PotentialBudgetFor {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PotentialPlanResponse {
    pub unit: PotentialPlanUnit,
    /// The budget as given.
    pub budget: f64,
    /// Mesos per whole cost unit (the cube price, or the meso grid of the reset prices); `null` for cubes.
    pub unit_mesos: Option<f64>,
    /// Whole units the budget buys (cubes, or floor(budget / unit_mesos)).
    pub budget_units: u64,
    /// P(the goal is met with total cost <= budget), tier-ups included.
    pub p_reach: f64,
    pub budget_for: PotentialBudgetFor,
    /// Probability mass left out of the exact computation (rounding aside).
    pub error_bound: f64,
    pub notes: Vec<MessageOut>,
}

impl From<&pot::Plan> for PotentialPlanResponse {
    fn from(p: &pot::Plan) -> Self {
        let [p50, p90, p99] = p.budget_for;
        PotentialPlanResponse {
            unit: match p.unit {
                pot::PlanUnit::Mesos => PotentialPlanUnit::Mesos,
                pot::PlanUnit::Cubes => PotentialPlanUnit::Cubes,
            },
            budget: p.budget,
            unit_mesos: p.unit_mesos,
            budget_units: p.budget_units,
            p_reach: p.p_reach,
            budget_for: PotentialBudgetFor { p50, p90, p99 },
            error_bound: p.error_bound,
            notes: messages_out(&p.notes),
        }
    }
}

/// Parse a JSON request strictly and [`compute`] it.
#[cfg(feature = "json")]
pub fn handle(json: &str) -> Result<PotentialResponse, ApiError> {
    compute(crate::parse_request(json)?)
}

/// Compute a request already deserialized (from JSON or a JS value).
pub fn compute(req: PotentialRequest) -> Result<PotentialResponse, ApiError> {
    let goal = pot::Goal::try_from(&req.goal)?;
    let pity_progress = match req.pity_progress {
        None => 0,
        Some(k) => u32::try_from(k).map_err(|_| {
            ApiError::new(
                ErrorCode::OutOfRange,
                format!("pity_progress {k} must be at least 0 and below the grade's pity"),
            )
        })?,
    };
    let opts = pot::Options {
        pity_progress,
        miracle_time: req.miracle_time,
        cube_price_mesos: req.cube_price_mesos,
        budget: req.plan.as_ref().map(pot::Budget::try_from).transpose()?,
        detail: pot::Detail::Full,
    };
    let data = potential_data()?;
    let out = pot::compute_with(
        data,
        &pot::Request {
            cube: req.cube.clone(),
            part: req.part.clone(),
            level: req.level,
            grade: req.grade.into(),
            goal,
        },
        &opts,
    )?;
    Ok(PotentialResponse {
        engine_version: crate::ENGINE_VERSION,
        data_version: data.version(),
        cube: req.cube,
        part: req.part,
        level: req.level,
        grade: req.grade,
        band: BandDto {
            level_min: out.band.0,
            level_max: out.band.1,
        },
        impossible: out.impossible.is_some(),
        reason: out.impossible.as_ref().map(|i| i.to_string()),
        impossible_reason: out
            .impossible
            .as_ref()
            .map(|i| (&i.message("potential.impossible")).into()),
        p_per_attempt: out.p_per_attempt,
        p_per_attempt_by_grade: out
            .p_by_grade
            .iter()
            .map(|&(g, p)| GradeProbability {
                grade: g.into(),
                p_per_attempt: p,
            })
            .collect(),
        eventual_success_probability: out.eventual_success,
        mean_attempts: out.mean_attempts,
        attempt_quantiles: QuantilesDto {
            p50: out.quantiles.p50,
            p90: out.quantiles.p90,
            p99: out.quantiles.p99,
        },
        payment: match out.payment {
            pot::Payment::Meso => PaymentDto::Meso,
            pot::Payment::Item => PaymentDto::Cube,
        },
        mean_cost: out.mean_cost,
        mean_cubes: out.mean_cubes,
        tier_up: out
            .tier_up
            .iter()
            .map(|s| TierUpDto {
                from: s.from.into(),
                to: s.to.into(),
                probability: s.rate,
                pity: s.pity,
                mean_attempts: s.mean_attempts,
            })
            .collect(),
        notes: out
            .notes
            .iter()
            .map(|n| crate::message::MessageOut::from(&pve_engine::message::Message::from(n)))
            .collect(),
        plan: out.plan.as_ref().map(PotentialPlanResponse::from),
    })
}
