//! Structured messages: every note, warning and not-valued reason carries a stable `code` and its `params`
//! next to an English `message`, so that a page can render it in any language from the code and params.
//! The codes and their parameter names are listed once, in [`CATALOGUE`]; tests check that every emitted
//! message is in it with exactly its parameters.

/// A message parameter: a number or a name.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(i64),
    Num(f64),
    Text(String),
}

impl From<u32> for Param {
    fn from(v: u32) -> Self {
        Param::Int(i64::from(v))
    }
}
impl From<u8> for Param {
    fn from(v: u8) -> Self {
        Param::Int(i64::from(v))
    }
}
impl From<usize> for Param {
    fn from(v: usize) -> Self {
        Param::Int(v as i64)
    }
}
impl From<f64> for Param {
    fn from(v: f64) -> Self {
        Param::Num(v)
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(v)
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(v.to_owned())
    }
}

/// One note, warning or reason: a code from [`CATALOGUE`], its parameters in catalogue order, and the
/// English sentence (for humans and logs; it may change, the code and parameter names may not).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub code: &'static str,
    pub params: Vec<(&'static str, Param)>,
    pub message: String,
}

impl Message {
    pub fn new(code: &'static str, params: Vec<(&'static str, Param)>, message: impl Into<String>) -> Self {
        Message {
            code,
            params,
            message: message.into(),
        }
    }

    /// The catalogue entry's parameter names, or `None` for a code not in the catalogue.
    pub fn catalogued_params(&self) -> Option<&'static [&'static str]> {
        CATALOGUE.iter().find(|(c, _)| *c == self.code).map(|(_, p)| *p)
    }

    /// Whether the code is catalogued with exactly these parameter names, in order.
    pub fn is_catalogued(&self) -> bool {
        self.catalogued_params().is_some_and(|p| {
            p.len() == self.params.len() && p.iter().zip(&self.params).all(|(a, (b, _))| a == b)
        })
    }
}

/// Every code an operation can emit, with its parameter names in order.
pub const CATALOGUE: &[(&str, &[&str])] = &[
    // potential engine notes (potential and valuation operations)
    ("potential.pity_semantics", &[]),
    ("potential.tier_ups_accepted", &[]),
    ("potential.line_limit", &["name", "max", "source"]),
    ("potential.cube_assumption", &["cube", "about", "text"]),
    ("potential.published_sum_off", &["grade", "slot", "sum"]),
    ("potential.derived_table", &["grade", "source"]),
    ("potential.unparsed_lines", &["grade", "count"]),
    ("potential.ied_additive", &[]),
    ("potential.no_item_price", &["cube"]),
    ("potential.probability_capped", &["grade", "p"]),
    ("potential.not_limited", &["stats"]),
    ("potential.reachable_after_tier_up", &["grade", "first"]),
    ("potential.lost_at_top_grade", &["top", "eventual_success"]),
    // potential options and plan (issue 13)
    ("potential.miracle_time", &["source"]),
    ("potential.pity_progress", &["grade", "progress", "pity"]),
    ("potential.cube_price", &["price"]),
    ("potential.plan_cube_price", &["price", "cubes"]),
    ("potential.plan_meso_units", &["unit", "units"]),
    ("potential.plan_unreachable", &["p", "eventual_success"]),
    ("potential.plan_method", &["error_bound"]),
    // valuation: potential
    ("valuation.start_below_assumed", &["grade", "start_grade"]),
    ("valuation.no_potential", &[]),
    ("valuation.unknown_class", &[]),
    ("valuation.unknown_reset", &["reset"]),
    ("valuation.unparsed_line", &["index", "line"]),
    ("valuation.no_potential_table", &["slot"]),
    ("valuation.goal_rejected", &["error_code"]),
    (
        "valuation.potential_impossible",
        &["part", "level", "from_grade", "to_grade", "unreachable"],
    ),
    ("valuation.infinite_mean", &["eventual_success"]),
    ("valuation.no_meso_cost", &[]),
    ("valuation.potential_refused", &["error_code"]),
    // valuation: star force
    ("valuation.star_scroll", &["stars"]),
    ("valuation.not_starforceable_companion", &[]),
    ("valuation.not_starforceable_ring", &["level"]),
    ("valuation.not_starforceable_slot", &["slot"]),
    ("valuation.fixed_stars_genesis", &["stars"]),
    ("valuation.superior_starforce", &[]),
    ("valuation.starforce_unreachable", &["stars", "star"]),
    ("valuation.starforce_rejected", &["stars", "error_code"]),
    // issue 15: every entry structured (valuation)
    ("valuation.input_missing", &["field"]),
    ("valuation.input_invalid", &["field", "found"]),
    ("valuation.starforce_zero", &[]),
    ("valuation.potential_zero", &["class"]),
    (
        "valuation.potential_no_table",
        &["cube", "grade", "part", "level"],
    ),
    ("valuation.potential_no_cost", &["cube", "grade", "level"]),
    ("valuation.potential_grade_above_reset", &["cube", "grade", "max"]),
    ("valuation.flame_companion", &[]),
    ("valuation.flame_not_flammable", &["slot"]),
    ("valuation.flame_flammability_unknown", &["slot"]),
    ("valuation.flame_none", &[]),
    ("valuation.flame_unknown_class", &[]),
    ("valuation.flame_score_undefined", &["class", "convention"]),
    ("valuation.flame_score_zero", &["stats", "class"]),
    ("valuation.flame_boss_unknown", &["name"]),
    ("valuation.flame_no_lapis_pair", &["base_attack"]),
    ("valuation.flame_rejected", &["error_code"]),
    ("valuation.flame_impossible", &["score", "flame", "max_score"]),
    // issue 15: flame operation notes (pve-api)
    ("flame.kms_grade_weapon_weights", &[]),
    ("flame.xenon_kms_grade", &[]),
    ("flame.demon_avenger_kms_grade", &[]),
    ("flame.assume_line_counts", &[]),
    ("flame.assume_abyss_table", &[]),
    ("flame.assume_levels_201_249", &[]),
    ("flame.assume_weapon_attack", &[]),
    ("flame.assume_def_below_140", &[]),
    ("flame.black_flame", &[]),
    ("flame.target_is_current", &[]),
    ("flame.number_rounded", &["field", "given", "used"]),
    ("flame.weights_rounded", &["scale"]),
    // issue 15: star force operation warnings (their `code` predates the catalogue) and planner notes
    ("star_catch_no_effect", &[]),
    ("safeguard_no_effect", &[]),
    ("thirty_off_no_effect", &[]),
    ("boom_reduction_no_effect", &[]),
    ("five_ten_fifteen_no_effect", &[]),
    ("plus_one_no_effect", &[]),
    ("mvp_no_effect", &[]),
    ("pc_room_no_effect", &[]),
    ("spare_cost_no_effect", &[]),
    ("booms_pmf_truncated", &[]),
    ("starforce.plan_budget_null", &["level"]),
    // issue 13: the planner's bound above its target (the lattice hit its work limit)
    ("starforce.plan_bound_above_target", &["error_bound", "target"]),
    // issue 15: the star force operation's `impossible_reason`
    ("starforce.unreachable", &["from_star", "to_star", "star"]),
    // issue 15: the potential and flame operations' `impossible_reason`
    (
        "potential.impossible",
        &["part", "level", "from_grade", "to_grade", "unreachable"],
    ),
    ("flame.impossible", &["target_score", "max_score", "flame"]),
];

impl crate::potential::Impossible {
    /// This impossibility as a message with `code`'s params (`part`, `level`, `from_grade`, `to_grade`,
    /// `unreachable`): `potential.impossible` for the potential operation, `valuation.potential_impossible`
    /// for an item of a valuation.
    pub fn message(&self, code: &'static str) -> Message {
        use crate::potential::Condition;
        let conditions: Vec<String> = self
            .unreachable_alone
            .iter()
            .map(|c| match *c {
                Condition::AtLeast { stat, value } => format!("{} ≥ {value}", stat.key()),
                Condition::Lines { stat, count } => format!("{} × {count}", stat.key()),
            })
            .collect();
        Message::new(
            code,
            vec![
                ("part", self.part.as_str().into()),
                ("level", self.level.into()),
                ("from_grade", self.grades.0.to_string().into()),
                ("to_grade", self.grades.1.to_string().into()),
                ("unreachable", conditions.join(", ").into()),
            ],
            self.to_string(),
        )
    }
}

impl From<&crate::potential::Note> for Message {
    fn from(n: &crate::potential::Note) -> Self {
        use crate::potential::Note;
        let g = |g: &crate::potential::Grade| Param::Text(g.to_string());
        let (code, params): (&'static str, Vec<(&'static str, Param)>) = match n {
            Note::PitySemantics => ("potential.pity_semantics", vec![]),
            Note::TierUpsAccepted => ("potential.tier_ups_accepted", vec![]),
            Note::LineLimit { name, max, source } => (
                "potential.line_limit",
                vec![
                    ("name", name.as_str().into()),
                    ("max", (*max).into()),
                    ("source", source.as_str().into()),
                ],
            ),
            Note::CubeAssumption { cube, about, text } => (
                "potential.cube_assumption",
                vec![
                    ("cube", cube.as_str().into()),
                    ("about", (*about).into()),
                    ("text", text.as_str().into()),
                ],
            ),
            Note::PublishedSumOff { grade, slot, sum } => (
                "potential.published_sum_off",
                vec![
                    ("grade", g(grade)),
                    ("slot", (*slot).into()),
                    ("sum", (*sum).into()),
                ],
            ),
            Note::DerivedTable { grade, source } => (
                "potential.derived_table",
                vec![("grade", g(grade)), ("source", source.as_str().into())],
            ),
            Note::UnparsedLines { grade, count } => (
                "potential.unparsed_lines",
                vec![("grade", g(grade)), ("count", (*count).into())],
            ),
            Note::IedAdditive => ("potential.ied_additive", vec![]),
            Note::NoItemPrice { cube } => ("potential.no_item_price", vec![("cube", cube.as_str().into())]),
            Note::ProbabilityCapped { grade, p } => (
                "potential.probability_capped",
                vec![("grade", g(grade)), ("p", (*p).into())],
            ),
            Note::NotLimited { stats } => {
                let list: Vec<&str> = stats.iter().map(|s| s.key()).collect();
                ("potential.not_limited", vec![("stats", list.join(", ").into())])
            }
            Note::ReachableAfterTierUp { grade, first } => (
                "potential.reachable_after_tier_up",
                vec![("grade", g(grade)), ("first", g(first))],
            ),
            Note::LostAtTopGrade {
                top,
                eventual_success,
            } => (
                "potential.lost_at_top_grade",
                vec![("top", g(top)), ("eventual_success", (*eventual_success).into())],
            ),
            Note::MiracleTime { source } => {
                ("potential.miracle_time", vec![("source", source.as_str().into())])
            }
            Note::PityProgress {
                grade,
                progress,
                pity,
            } => (
                "potential.pity_progress",
                vec![
                    ("grade", g(grade)),
                    ("progress", (*progress).into()),
                    ("pity", (*pity).into()),
                ],
            ),
            Note::CubePrice { price } => ("potential.cube_price", vec![("price", (*price).into())]),
        };
        Message::new(code, params, n.to_string())
    }
}
