//! The character as the valuation reads it: plain values that the caller (pve-api) took out of a Nexon
//! Open API `character/item-equipment` response.
//!
//! Upstream data is not ours, so a field the caller could not read does not fail the whole valuation: it is
//! an [`InputIssue`] stored in place of the value, and only what depends on that field is reported as not
//! valued (with the field's name and what was found).

use crate::flame::FlameStats;
use crate::potential::Grade;
use core::fmt;

/// A field of an upstream item that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputIssue {
    /// Path of the field inside the item, as in the Open API (`starforce`, `item_add_option.str`, ...).
    pub field: String,
    pub problem: Problem,
}

/// What is wrong with an upstream field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Absent or `null` where a value is needed.
    Missing,
    /// Present but not usable: `found` is the JSON text, `expected` says what would have been.
    Invalid { found: String, expected: &'static str },
}

impl InputIssue {
    pub fn missing(field: impl Into<String>) -> Self {
        InputIssue {
            field: field.into(),
            problem: Problem::Missing,
        }
    }

    pub fn invalid(field: impl Into<String>, found: impl Into<String>, expected: &'static str) -> Self {
        InputIssue {
            field: field.into(),
            problem: Problem::Invalid {
                found: found.into(),
                expected,
            },
        }
    }
}

impl fmt::Display for InputIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Missing => write!(f, "field `{}` is missing or null", self.field),
            Problem::Invalid { found, expected } => {
                write!(f, "field `{}` is {found}, expected {expected}", self.field)
            }
        }
    }
}

/// A value read from upstream, or why it could not be read.
pub type Field<T> = Result<T, InputIssue>;

/// Star force state of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stars {
    /// Current stars (`starforce`).
    pub stars: u32,
    /// Enhanced with star scrolls (`starforce_scroll_flag` = `사용`, 놀라운 장비강화 주문서).
    pub star_scroll: bool,
}

/// One potential (main or additional) of an item: its grade and its option strings, in slot order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Potential {
    pub grade: Grade,
    /// The non-null `*_option_1..3` strings. Slots that are `null` are absent here.
    pub lines: Vec<String>,
}

/// What the flame valuation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlameInput {
    /// `item_add_option`, the flame totals.
    pub stats: FlameStats,
    /// `item_base_option.attack_power` / `magic_power` (used for weapons).
    pub base_attack: u32,
    pub base_magic_attack: u32,
}

/// One equipped item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `item_equipment_slot` (`모자`, `반지1`, `펜던트2`, ...).
    pub slot: String,
    /// `item_equipment_part` (`스태프`, `반지`, `문서`, ...).
    pub part: String,
    /// `item_name`.
    pub name: String,
    /// Set when the item's identity (slot, part or name) could not be read: nothing of it is valued.
    pub identity_issue: Option<InputIssue>,
    /// `item_base_option.base_equipment_level`.
    pub level: Field<u32>,
    pub stars: Field<Stars>,
    /// `None`: the item has no potential (`potential_option_grade` is `null`).
    pub potential: Field<Option<Potential>>,
    pub additional: Field<Option<Potential>>,
    pub flame: Field<FlameInput>,
    /// `special_ring_level` (special skill rings; 0 for every other item).
    pub special_ring_level: u32,
}

impl Item {
    /// Whether `other` is the same item worn in a (possibly) different slot: everything the valuation
    /// reads is equal except the slot. Presets reuse items, and the total counts such an item once.
    pub fn same_as(&self, other: &Item) -> bool {
        self.part == other.part
            && self.name == other.name
            && self.identity_issue == other.identity_issue
            && self.level == other.level
            && self.stars == other.stars
            && self.potential == other.potential
            && self.additional == other.additional
            && self.flame == other.flame
            && self.special_ring_level == other.special_ring_level
            && slot_family(&self.slot) == slot_family(&other.slot)
    }
}

/// Slots that hold the same kind of item (`반지1`..`반지4`, `펜던트`/`펜던트2`).
fn slot_family(slot: &str) -> &str {
    if slot.starts_with("반지") {
        "반지"
    } else if slot.starts_with("펜던트") {
        "펜던트"
    } else {
        slot
    }
}

/// Which list of the response a set of items comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SetId {
    /// `item_equipment`: what the character wears now.
    Equipped,
    /// `item_equipment_preset_1..3`.
    Preset(u8),
    /// `dragon_equipment` (Evan).
    Dragon,
    /// `mechanic_equipment` (Mechanic).
    Mechanic,
}

impl SetId {
    /// The response key: `equipped`, `preset_1`, `dragon`, `mechanic`.
    pub fn key(self) -> String {
        match self {
            SetId::Equipped => "equipped".to_owned(),
            SetId::Preset(n) => format!("preset_{n}"),
            SetId::Dragon => "dragon".to_owned(),
            SetId::Mechanic => "mechanic".to_owned(),
        }
    }

    /// Dragon and mechanic equipment: worn by Evan's dragon / the Mechanic's machine.
    pub fn is_companion(self) -> bool {
        matches!(self, SetId::Dragon | SetId::Mechanic)
    }
}

/// A character's equipment: its class and its item lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Character {
    /// `character_class` (KMS name, e.g. `에반`); `None` when the response has none.
    pub class: Option<String>,
    /// The lists in response order: equipped, presets 1–3 (those present), dragon, mechanic.
    pub sets: Vec<(SetId, Vec<Item>)>,
}
