//! Rule-set tables: every rate, divisor, cap and event factor of a star force system as named data.
//!
//! A new game patch is a new [`RuleSet`] value (or an edit of one below), never a code change: the
//! chain construction in `chain.rs` reads nothing but these fields. Each table says where its numbers
//! come from. The numbers are transcribed from the project's issue 3 ("the star force engine"), which
//! in turn cites the patch notes named in each `source`.

/// What a failed, non-destroying attempt does at a star.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The star stays (30-star systems everywhere; legacy systems at their "floor" stars).
    Maintain,
    /// The star drops by one (legacy systems only); consecutive drops lead to chance time.
    Decrease,
}

/// Which rule set to use. The string names are the API's `ruleset` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum RuleSetId {
    /// KMS ver 1.2.401 (2025-03-20), the 30-star system. The default.
    #[default]
    Kms,
    /// GMS v.264 (November 2025): KMS rates, cheaper low stars, staged recovery after a destroy.
    Gms,
    /// The 25-star Savior system (decrease only from 16★, no destroy below 15★).
    Savior,
    /// The 25-star system before Savior (decrease from 11★, destroy from 12★).
    PreSavior,
}

impl RuleSetId {
    pub const ALL: [RuleSetId; 4] = [
        RuleSetId::Kms,
        RuleSetId::Gms,
        RuleSetId::Savior,
        RuleSetId::PreSavior,
    ];

    /// The stable name used in requests and responses.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSetId::Kms => "kms",
            RuleSetId::Gms => "gms",
            RuleSetId::Savior => "savior",
            RuleSetId::PreSavior => "pre_savior",
        }
    }

    /// The table of this rule set.
    pub fn rules(self) -> &'static RuleSet {
        match self {
            RuleSetId::Kms => &KMS,
            RuleSetId::Gms => &GMS,
            RuleSetId::Savior => &SAVIOR,
            RuleSetId::PreSavior => &PRE_SAVIOR,
        }
    }
}

/// Base cost of one attempt at star `s` for an item of level `lvl`:
/// `round_half_up((constant + L³ · m / divisor[s]) / rounding) · rounding`, with `L = floor(lvl/10)·10`,
/// `m = s + 1` below `exponent_from_star` and `(s + 1)^exponent` from it on.
#[derive(Debug, Clone, PartialEq)]
pub struct CostRule {
    pub constant: f64,
    pub exponent_from_star: u32,
    pub exponent: f64,
    /// One divisor per star (index = current star).
    pub divisors: &'static [f64],
    pub rounding: f64,
}

/// Safeguard: at `stars`, destroy becomes a failure, for a surcharge of `surcharge` × base cost
/// (not discounted). Not charged on an attempt that cannot fail (a 5/10/15 event star, chance time).
#[derive(Debug, Clone, PartialEq)]
pub struct SafeguardRule {
    pub stars: &'static [u32],
    pub surcharge: f64,
}

/// Discounts on the base cost (they add up) and the highest current star they apply to.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscountRule {
    pub mvp_silver: f64,
    pub mvp_gold: f64,
    pub mvp_diamond: f64,
    pub mvp_red: f64,
    pub pc_room: f64,
    pub max_star: u32,
}

/// The optional events.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRule {
    /// `thirty_off`: every attempt cost is multiplied by this (after the discounts).
    pub thirty_off_factor: f64,
    /// `boom_reduction`: destroy probability multiplied by this at current stars `≤ boom_reduction_max_star`;
    /// the removed mass becomes a failure (maintain in the 30-star systems).
    pub boom_reduction_factor: f64,
    pub boom_reduction_max_star: u32,
    /// `five_ten_fifteen`: success is certain at these current stars.
    pub guaranteed_stars: &'static [u32],
    /// `plus_one`: a success at a current star `≤ plus_one_max_star` gains `1 + plus_one_extra` stars
    /// (never past the target).
    pub plus_one_max_star: u32,
    pub plus_one_extra: u32,
}

/// One star force system. Every number the engine uses is a field here.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    pub id: RuleSetId,
    /// Where the numbers come from.
    pub source: &'static str,
    /// Highest star of the system (the length of the per-star tables).
    pub max_star: u32,
    /// `(highest item level, star cap)`, ascending; the first row whose level is `>=` the item's wins.
    pub star_caps: &'static [(u32, u32)],
    /// Success probability per current star.
    pub success: &'static [f64],
    /// Destroy probability per current star.
    pub destroy: &'static [f64],
    /// Outcome of the remaining mass (1 − success − destroy) per current star.
    pub failure: &'static [Failure],
    /// Star an item is restored to after being destroyed at this current star (unused where destroy = 0).
    pub destroy_to: &'static [u32],
    /// `Some(n)`: after `n` consecutive decreases the next attempt succeeds (chance time).
    pub chance_time_after: Option<u32>,
    pub cost: CostRule,
    pub safeguard: SafeguardRule,
    /// Star catching multiplies success by this (capped at 1); the other outcomes shrink proportionally.
    pub star_catch_factor: f64,
    pub discounts: DiscountRule,
    pub events: EventRule,
}

impl RuleSet {
    /// Star cap of an item level (levels above the last row get the last row's cap).
    pub fn max_star(&self, item_level: u32) -> u32 {
        self.star_caps
            .iter()
            .find(|&&(lvl, _)| item_level <= lvl)
            .or(self.star_caps.last())
            .map_or(self.max_star, |&(_, cap)| cap)
    }

    /// Base cost (mesos) of one attempt at current star `star`. Stars at or above `max_star` have no cost
    /// row; the caller never asks for them (validation rejects such targets first).
    pub fn base_cost(&self, item_level: u32, star: u32) -> f64 {
        let c = &self.cost;
        let l = f64::from(item_level / 10 * 10);
        let s1 = f64::from(star + 1);
        let m = if star < c.exponent_from_star {
            s1
        } else {
            libm::pow(s1, c.exponent)
        };
        let raw = (c.constant + l * l * l * m / c.divisors[star as usize]) / c.rounding;
        libm::floor(raw + 0.5) * c.rounding
    }

    /// Whether the per-star tables are consistent: lengths, probabilities in [0, 1] summing to at most 1,
    /// restore stars not above the destroying star, no decrease at 0★, positive divisors, ascending caps
    /// within `max_star`. [`compute_with`](super::compute_with) rejects a table that fails this.
    pub fn check(&self) -> bool {
        let n = self.max_star as usize;
        let lengths = [
            self.success.len(),
            self.destroy.len(),
            self.failure.len(),
            self.destroy_to.len(),
            self.cost.divisors.len(),
        ];
        lengths.iter().all(|&len| len == n)
            && (0..n).all(|s| {
                let (p, d) = (self.success[s], self.destroy[s]);
                (0.0..=1.0).contains(&p)
                    && (0.0..=1.0).contains(&d)
                    && p + d <= 1.0 + 1e-12
                    && (d == 0.0 || (self.destroy_to[s] as usize) <= s)
                    && (s > 0 || self.failure[s] == Failure::Maintain)
                    && self.cost.divisors[s] > 0.0
            })
            && self.star_caps.windows(2).all(|w| w[0].0 < w[1].0)
            && self.star_caps.iter().all(|&(_, cap)| cap <= self.max_star)
    }
}

// ---------------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------------

use Failure::{Decrease as D, Maintain as M};

/// Star caps by item level, 30-star systems (KMS 2025-03-20; GMS v.264 uses the same caps).
const CAPS_30: [(u32, u32); 6] = [(94, 5), (107, 8), (117, 10), (127, 15), (137, 20), (u32::MAX, 30)];
/// Star caps by item level, 25-star systems (Savior and before): as above with 25 on top.
const CAPS_25: [(u32, u32); 6] = [(94, 5), (107, 8), (117, 10), (127, 15), (137, 20), (u32::MAX, 25)];

/// MVP / PC-room discounts (KMS; the issue gives one table for every rule set), applied at ≤ 16★.
const DISCOUNTS: DiscountRule = DiscountRule {
    mvp_silver: 0.03,
    mvp_gold: 0.05,
    mvp_diamond: 0.10,
    mvp_red: 0.10,
    pc_room: 0.05,
    max_star: 16,
};

/// Events (the issue defines them once, for every rule set).
const EVENTS: EventRule = EventRule {
    thirty_off_factor: 0.7,
    boom_reduction_factor: 0.7,
    boom_reduction_max_star: 21,
    guaranteed_stars: &[5, 10, 15],
    plus_one_max_star: 10,
    plus_one_extra: 1,
};

/// Star catching: success × 1.05 (all rule sets).
const STAR_CATCH: f64 = 1.05;

// ---------------------------------------------------------------------------------------------------
// KMS ver 1.2.401, 2025-03-20 (30 stars)
// ---------------------------------------------------------------------------------------------------

/// Success per current star 0..29, KMS 2025-03-20 (also GMS v.264: "same rates").
const SUCCESS_30: [f64; 30] = [
    0.95, 0.90, 0.85, 0.85, 0.80, 0.75, 0.70, 0.65, 0.60, 0.55, 0.50, 0.45, 0.40, 0.35, 0.30, 0.30, 0.30,
    0.15, 0.15, 0.15, 0.30, 0.15, 0.15, 0.10, 0.10, 0.10, 0.07, 0.05, 0.03, 0.01,
];
/// Destroy per current star 0..29, KMS 2025-03-20: 0 below 15★.
const DESTROY_30: [f64; 30] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.021, 0.021, 0.068, 0.068,
    0.085, 0.105, 0.1275, 0.17, 0.18, 0.18, 0.18, 0.186, 0.19, 0.194, 0.198,
];
/// No star decreases in the 30-star systems.
const FAILURE_30: [Failure; 30] = [M; 30];
/// KMS: a destroyed item comes back at 12★.
const DESTROY_TO_KMS: [u32; 30] = [12; 30];
/// KMS cost divisors: 0–9★ 36, 10★ 571, 11★ 314, 12★ 214, 13★ 157, 14★ 107, 15–16★ 200, 17★ 150,
/// 18★ 70, 19★ 45, 20★ 200, 21★ 125, 22★+ 200.
const DIVISORS_KMS: [f64; 30] = [
    36.0, 36.0, 36.0, 36.0, 36.0, 36.0, 36.0, 36.0, 36.0, 36.0, 571.0, 314.0, 214.0, 157.0, 107.0, 200.0,
    200.0, 150.0, 70.0, 45.0, 200.0, 125.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0,
];

pub static KMS: RuleSet = RuleSet {
    id: RuleSetId::Kms,
    source: "KMS ver 1.2.401 patch notes (2025-03-20), 30-star system; transcribed in issue 3",
    max_star: 30,
    star_caps: &CAPS_30,
    success: &SUCCESS_30,
    destroy: &DESTROY_30,
    failure: &FAILURE_30,
    destroy_to: &DESTROY_TO_KMS,
    chance_time_after: None,
    cost: CostRule {
        constant: 1000.0,
        exponent_from_star: 10,
        exponent: 2.7,
        divisors: &DIVISORS_KMS,
        rounding: 100.0,
    },
    // KMS: safeguard at 15–17★ for +200% of the base cost.
    safeguard: SafeguardRule {
        stars: &[15, 16, 17],
        surcharge: 2.0,
    },
    star_catch_factor: STAR_CATCH,
    discounts: DISCOUNTS,
    events: EVENTS,
};

// ---------------------------------------------------------------------------------------------------
// GMS v.264, November 2025 (30 stars)
// ---------------------------------------------------------------------------------------------------

/// GMS v.264: restored to 12★ (destroyed at 15–19★), 15★ (20★), 17★ (21–22★), 19★ (23–25★), 20★ (26★+).
const DESTROY_TO_GMS: [u32; 30] = [
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 15, 17, 17, 19, 19, 19,
    20, 20, 20, 20,
];
/// GMS v.264 divisors: 0–9★ 25, 10★ 400, 11★ 220, 12★ 150, 13★ 110, 14★ 75, then as KMS.
const DIVISORS_GMS: [f64; 30] = [
    25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 400.0, 220.0, 150.0, 110.0, 75.0, 200.0,
    200.0, 150.0, 70.0, 45.0, 200.0, 125.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0,
];

pub static GMS: RuleSet = RuleSet {
    id: RuleSetId::Gms,
    source: "GMS v.264 (November 2025): KMS 2025-03-20 rates, GMS divisors and restore stars; issue 3",
    max_star: 30,
    star_caps: &CAPS_30,
    success: &SUCCESS_30,
    destroy: &DESTROY_30,
    failure: &FAILURE_30,
    destroy_to: &DESTROY_TO_GMS,
    chance_time_after: None,
    cost: CostRule {
        constant: 1000.0,
        exponent_from_star: 10,
        exponent: 2.7,
        divisors: &DIVISORS_GMS,
        rounding: 100.0,
    },
    // Same safeguard as KMS (the issue gives no GMS-specific rule).
    safeguard: SafeguardRule {
        stars: &[15, 16, 17],
        surcharge: 2.0,
    },
    star_catch_factor: STAR_CATCH,
    discounts: DISCOUNTS,
    events: EVENTS,
};

// ---------------------------------------------------------------------------------------------------
// The 25-star systems: pre-Savior and Savior
// ---------------------------------------------------------------------------------------------------

/// Pre-Savior success per current star 0..24. 0–10★: the long-standing 95 … 50% ladder (the issue gives
/// only "maintain on failure" for them; these are the same rates as the 30-star table's 0–10★).
/// 11★ .45, 12★ .40, 13★ .35, 14★ .30, 15–21★ .30, 22★ .03, 23★ .02, 24★ .01.
const SUCCESS_PRE_SAVIOR: [f64; 25] = [
    0.95, 0.90, 0.85, 0.85, 0.80, 0.75, 0.70, 0.65, 0.60, 0.55, 0.50, 0.45, 0.40, 0.35, 0.30, 0.30, 0.30,
    0.30, 0.30, 0.30, 0.30, 0.30, 0.03, 0.02, 0.01,
];
/// Pre-Savior destroy: 12★ .006, 13★ .013, 14★ .014, 15–17★ .021, 18–19★ .028, 20–21★ .07, 22★ .194,
/// 23★ .294, 24★ .396.
const DESTROY_PRE_SAVIOR: [f64; 25] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.006, 0.013, 0.014, 0.021, 0.021, 0.021,
    0.028, 0.028, 0.07, 0.07, 0.194, 0.294, 0.396,
];
/// Pre-Savior failure: maintain at 0–10★, 15★ and 20★; decrease elsewhere.
const FAILURE_PRE_SAVIOR: [Failure; 25] = [
    M, M, M, M, M, M, M, M, M, M, M, D, D, D, D, M, D, D, D, D, M, D, D, D, D,
];
/// Savior: like pre-Savior, except 11–14★ maintain on failure and never destroy.
const DESTROY_SAVIOR: [f64; 25] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.021, 0.021, 0.021, 0.028,
    0.028, 0.07, 0.07, 0.194, 0.294, 0.396,
];
const FAILURE_SAVIOR: [Failure; 25] = [
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, D, D, D, D, M, D, D, D, D,
];
/// Both 25-star systems restore a destroyed item at 12★.
const DESTROY_TO_25: [u32; 25] = [12; 25];
/// Pre-Savior divisors: 0–9★ 25 (m = s + 1), 10–14★ 400, 15★+ 200.
const DIVISORS_PRE_SAVIOR: [f64; 25] = [
    25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 400.0, 400.0, 400.0, 400.0, 400.0, 200.0,
    200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0,
];
/// Savior divisors: as pre-Savior except 11★ 220, 12★ 150, 13★ 110, 14★ 75.
const DIVISORS_SAVIOR: [f64; 25] = [
    25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0, 400.0, 220.0, 150.0, 110.0, 75.0, 200.0,
    200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0, 200.0,
];

pub static PRE_SAVIOR: RuleSet = RuleSet {
    id: RuleSetId::PreSavior,
    source: "GMS/KMS 25-star system before Savior; rates and divisors as transcribed in issue 3",
    max_star: 25,
    star_caps: &CAPS_25,
    success: &SUCCESS_PRE_SAVIOR,
    destroy: &DESTROY_PRE_SAVIOR,
    failure: &FAILURE_PRE_SAVIOR,
    destroy_to: &DESTROY_TO_25,
    chance_time_after: Some(2),
    cost: CostRule {
        constant: 1000.0,
        exponent_from_star: 10,
        exponent: 2.7,
        divisors: &DIVISORS_PRE_SAVIOR,
        rounding: 100.0,
    },
    // Pre-Savior: safeguard at 12–16★ for +100% of the base cost.
    safeguard: SafeguardRule {
        stars: &[12, 13, 14, 15, 16],
        surcharge: 1.0,
    },
    star_catch_factor: STAR_CATCH,
    discounts: DISCOUNTS,
    events: EVENTS,
};

pub static SAVIOR: RuleSet = RuleSet {
    id: RuleSetId::Savior,
    source: "GMS/KMS Savior 25-star system; rates and divisors as transcribed in issue 3",
    max_star: 25,
    star_caps: &CAPS_25,
    success: &SUCCESS_PRE_SAVIOR,
    destroy: &DESTROY_SAVIOR,
    failure: &FAILURE_SAVIOR,
    destroy_to: &DESTROY_TO_25,
    chance_time_after: Some(2),
    cost: CostRule {
        constant: 1000.0,
        exponent_from_star: 10,
        exponent: 2.7,
        divisors: &DIVISORS_SAVIOR,
        rounding: 100.0,
    },
    // Savior: safeguard at 15–16★ for +100% of the base cost.
    safeguard: SafeguardRule {
        stars: &[15, 16],
        surcharge: 1.0,
    },
    star_catch_factor: STAR_CATCH,
    discounts: DISCOUNTS,
    events: EVENTS,
};

// ---------------------------------------------------------------------------------------------------
// Named event presets (issue 13)
// ---------------------------------------------------------------------------------------------------

/// A named KMS event: which of the existing event toggles it sets. The toggles' numbers stay in
/// [`EventRule`] (`thirty_off`: cost × 0.7; `boom_reduction`: destroy × 0.7 at ≤ 21★; `five_ten_fifteen`:
/// certain success at 5, 10 and 15★); a preset fixes all three toggles, `plus_one` stays free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPreset {
    /// The API's `event` value.
    pub name: &'static str,
    /// The name in the game (Korean).
    pub name_ko: &'static str,
    pub thirty_off: bool,
    pub boom_reduction: bool,
    pub five_ten_fifteen: bool,
    /// Where the definition comes from: pages and files a reader can open, and what each supports.
    pub sources: &'static [&'static str],
}

const SHINING_SOURCES: &[&str] = &[
    "project issue 13 (/tmp/issue13.txt, 'The KMS 2025-26 events as data'): Shining Star Force = 30% off \
     + destroy x0.7 at <= 21 stars, and the variant that also makes 5/10/15 certain",
    "https://inven.co.kr/webzine/news/?iskin=maple&news=302243 (Inven, January 2025): the Special Sunday \
     Maple event 'Shining Star Force' (샤이닝 스타포스, 샤타포스) on 2025-01-05, a star force cost event",
];

/// 샤이닝 스타포스: 30% off and destroy × 0.7 at ≤ 21★.
pub const SHINING: EventPreset = EventPreset {
    name: "shining",
    name_ko: "샤이닝 스타포스",
    thirty_off: true,
    boom_reduction: true,
    five_ten_fifteen: false,
    sources: SHINING_SOURCES,
};

/// 샤이닝 스타포스 with 5/10/15★ certain as well.
pub const SHINING_5_10_15: EventPreset = EventPreset {
    name: "shining_5_10_15",
    name_ko: "샤이닝 스타포스 (5/10/15성 100%)",
    thirty_off: true,
    boom_reduction: true,
    five_ten_fifteen: true,
    sources: SHINING_SOURCES,
};

/// Every named preset, in API order.
pub const EVENT_PRESETS: [EventPreset; 2] = [SHINING, SHINING_5_10_15];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_tables_are_consistent() {
        for id in RuleSetId::ALL {
            let r = id.rules();
            assert_eq!(r.id, id);
            assert!(r.check(), "{} table is inconsistent", id.as_str());
        }
    }

    #[test]
    fn a_broken_table_fails_the_check() {
        let mut r = KMS.clone();
        r.destroy_to = &[20; 30];
        assert!(!r.check());
    }
}
