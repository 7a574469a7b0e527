//! What a watch notification needs of a valuation: the equipped set's total and per-item mean costs, in a
//! canonical form (checked numbers, items ordered by slot) so equal valuations have equal JSON and a
//! change is a difference of that JSON.
use crate::error::EdgeError;
use pve_api::valuation::ValuationResponse;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// What a refresh computed for a character, reduced to what a notification needs. The valuation engine's
/// answer is converted to this by the refresh path (one adapter, where the valuation is computed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuationSummary {
    /// Mean total cost in mesos of the equipped set.
    pub total_mean_cost: f64,
    pub items: Vec<ItemValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemValue {
    pub slot: String,
    pub name: String,
    /// Mean cost in mesos; `None` when nothing of the item is valued in mesos (never a silent 0).
    pub mean_cost: Option<f64>,
}

/// Why a valuation has no summary to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SummaryError {
    /// The engine's answer has no set of this name.
    NoSuchSet(String),
    /// The set's total is not in mesos (nothing of it is valued in mesos).
    NoMesosTotal(String),
}

impl fmt::Display for SummaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SummaryError::NoSuchSet(set) => write!(f, "the answer has no {set} set"),
            SummaryError::NoMesosTotal(set) => write!(f, "the {set} set has no total in mesos"),
        }
    }
}

impl std::error::Error for SummaryError {}

impl ValuationSummary {
    /// The summary of `set` (`equipped`, `preset_N`) of the engine's typed answer: the set's total and its
    /// items (slot, name, mean cost in mesos; `None` when nothing of the item is valued in mesos).
    ///
    /// # Errors
    /// [`SummaryError`] when the answer has no such set, or the set's total is not in mesos.
    pub fn of_set(response: &ValuationResponse, set: &str) -> Result<ValuationSummary, SummaryError> {
        let chosen = response
            .sets
            .iter()
            .find(|s| s.set == set)
            .ok_or_else(|| SummaryError::NoSuchSet(set.to_owned()))?;
        let total = chosen
            .summary
            .mean_mesos
            .ok_or_else(|| SummaryError::NoMesosTotal(set.to_owned()))?;
        Ok(ValuationSummary {
            total_mean_cost: total,
            items: chosen
                .items
                .iter()
                .map(|i| ItemValue {
                    slot: i.slot.clone(),
                    name: i.name.clone(),
                    mean_cost: i.mean_mesos,
                })
                .collect(),
        })
    }

    /// Checks the numbers and orders items by slot, so equal valuations have equal canonical JSON.
    /// # Errors
    /// [`EdgeError::InvalidValuationSummary`] for a non-finite cost or an empty or repeated slot.
    pub fn canonical(&self) -> Result<(ValuationSummary, String), EdgeError> {
        if !self.total_mean_cost.is_finite()
            || self
                .items
                .iter()
                .any(|i| i.mean_cost.is_some_and(|c| !c.is_finite()))
        {
            return Err(EdgeError::InvalidValuationSummary("costs must be finite numbers"));
        }
        let mut by_slot = BTreeMap::new();
        for item in &self.items {
            if item.slot.is_empty() || by_slot.insert(item.slot.clone(), item.clone()).is_some() {
                return Err(EdgeError::InvalidValuationSummary(
                    "item slots must be non-empty and unique",
                ));
            }
        }
        let sorted = ValuationSummary {
            total_mean_cost: self.total_mean_cost,
            items: by_slot.into_values().collect(),
        };
        let json = serde_json::to_string(&sorted).map_err(|e| EdgeError::internal(e.to_string()))?;
        Ok((sorted, json))
    }
}

/// The engine's typed valuation of a character's cached item equipment (Nexon's answer, as `pve valuation`
/// reads it with default options): the one call of the engine's valuation for a character, shared by the
/// valuation route and the watches.
///
/// # Errors
/// `Internal` for cached equipment that is not UTF-8 (we wrote it); the engine's error when it refuses it.
pub fn of_equipment(equipment: &[u8]) -> Result<ValuationResponse, EdgeError> {
    let request =
        std::str::from_utf8(equipment).map_err(|_| EdgeError::internal("cached equipment is not UTF-8"))?;
    Ok(pve_api::valuation::handle(request)?)
}

/// A one-item character's item-equipment response, with the potential data installed: the valuation
/// the edge's tests value.
#[cfg(test)]
pub(crate) fn one_item_character() -> &'static str {
    pve_api::potential::install_potential_data(include_bytes!("../../engine/data/potential.bin")).unwrap();
    r#"{"character_class": "아크메이지(불,독)", "item_equipment": [
        {"item_equipment_slot": "모자", "item_equipment_part": "모자", "item_name": "앱솔랩스 메이지크라운",
         "item_base_option": {"base_equipment_level": 160}, "starforce": "17",
         "starforce_scroll_flag": "미사용", "potential_option_grade": null,
         "additional_potential_option_grade": null, "item_add_option": {}}]}"#
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_equipment_is_valued_by_the_engine_or_refused_explicitly() {
        let response = of_equipment(one_item_character().as_bytes()).unwrap();
        assert!(response.sets.iter().any(|s| s.set == "equipped"));
        assert_eq!(of_equipment(&[0xff, 0xfe]).unwrap_err().code(), "internal");
        assert_eq!(
            of_equipment(b"[]").unwrap_err().status(),
            400,
            "the engine refuses it"
        );
    }

    fn item(slot: &str, cost: Option<f64>) -> ItemValue {
        ItemValue {
            slot: slot.into(),
            name: format!("{slot} item"),
            mean_cost: cost,
        }
    }

    fn summary(items: Vec<ItemValue>) -> ValuationSummary {
        ValuationSummary {
            total_mean_cost: 10.0,
            items,
        }
    }

    #[test]
    fn canonical_orders_by_slot_so_equal_valuations_have_equal_json() {
        let a = summary(vec![item("hat", Some(1.0)), item("glove", None)]);
        let b = summary(vec![item("glove", None), item("hat", Some(1.0))]);
        let (sa, ja) = a.canonical().unwrap();
        let (_, jb) = b.canonical().unwrap();
        assert_eq!(ja, jb);
        assert_eq!(sa.items[0].slot, "glove");
        assert!(
            ja.contains("\"mean_cost\":null"),
            "an unvalued item stays null, never 0: {ja}"
        );
    }

    /// A one-item character, valued by the engine; the summary taken from the typed answer equals the one
    /// read back from the JSON the engine writes (the route's bytes), number for number.
    #[test]
    fn the_summary_of_the_typed_answer_is_the_one_its_json_says() {
        let request = one_item_character();
        let typed = pve_api::valuation::handle(request).unwrap();
        let s = ValuationSummary::of_set(&typed, "equipped").unwrap();
        let text: serde_json::Value =
            serde_json::from_str(&pve_api::handle(pve_api::Operation::Valuation, request).unwrap()).unwrap();
        let set = text["sets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["set"] == "equipped")
            .unwrap();
        assert_eq!(Some(s.total_mean_cost), set["summary"]["mean_mesos"].as_f64());
        assert!(
            s.total_mean_cost > 0.0,
            "17 stars cost something: {}",
            s.total_mean_cost
        );
        assert_eq!(s.items.len(), set["items"].as_array().unwrap().len());
        for (mine, theirs) in s.items.iter().zip(set["items"].as_array().unwrap()) {
            assert_eq!(mine.slot, theirs["slot"].as_str().unwrap());
            assert_eq!(mine.name, theirs["name"].as_str().unwrap());
            assert_eq!(mine.mean_cost, theirs["mean_mesos"].as_f64());
        }
        assert_eq!(
            ValuationSummary::of_set(&typed, "preset_3"),
            Err(SummaryError::NoSuchSet("preset_3".into()))
        );
    }

    #[test]
    fn canonical_refuses_what_cannot_be_compared() {
        let reason = |s: ValuationSummary| match s.canonical() {
            Err(EdgeError::InvalidValuationSummary(why)) => why,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            reason(summary(vec![item("hat", Some(f64::NAN))])),
            "costs must be finite numbers"
        );
        let mut inf = summary(vec![]);
        inf.total_mean_cost = f64::INFINITY;
        assert_eq!(reason(inf), "costs must be finite numbers");
        assert_eq!(
            reason(summary(vec![item("hat", None), item("hat", None)])),
            "item slots must be non-empty and unique"
        );
        assert_eq!(
            reason(summary(vec![item("", None)])),
            "item slots must be non-empty and unique"
        );
    }
}
