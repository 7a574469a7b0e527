//! What a watch notification needs of a valuation: the equipped set's total and per-item mean costs, in a
//! canonical form (checked numbers, items ordered by slot) so equal valuations have equal JSON and a
//! change is a difference of that JSON.
use crate::error::EdgeError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

impl ValuationSummary {
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

#[cfg(test)]
mod tests {
    use super::*;

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
