//! Exact probability that one attempt's three lines meet a goal, by enumeration over the three slots.
//!
//! Each slot draws one row from its own table, slots in order 1, 2, 3. Options in a limit group
//! ([`super::data::LimitRule`]) may appear at most `max` times per item: when a slot would draw an option
//! whose group is full, the draw is repeated, which is the same as renormalising that slot's table over
//! the allowed rows: `P(row) = p(row) / (1 - p(disallowed rows))`. Published probabilities are used as
//! published (the tables are not renormalised to sum to 1).
//!
//! Rows are grouped into classes that are equivalent for the goal: the same per-condition contribution
//! (capped at the condition's target, since a running total only matters up to its target) and the same
//! limit group. The state after each slot is (capped running totals, counts per limit group); a map from
//! state to probability is carried from slot to slot. Everything is summed in a fixed order (`BTreeMap`),
//! so results are bit-identical on every platform.

use super::data::{Data, Row};
use super::goal::Goal;
use std::collections::BTreeMap;

/// Every row of a slot was disallowed by the per-item limits: the data cannot be right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoAllowedLine {
    /// 1, 2 or 3.
    pub slot: u8,
}

struct Class {
    contribution: Vec<u32>,
    group: Option<u8>,
    p: f64,
}

fn classes(data: &Data, rows: &[Row], goal: &Goal) -> Vec<Class> {
    let options = data.options();
    let k = goal.conditions().len();
    // Key: the contributions, then the limit group as 0 (none) or group + 1. Every key has k + 1 entries,
    // so it sorts as `(contributions, group)` would, and the sums are the same in the same order. The key
    // is built in place and allocated only when new (issue 16: one `Vec` per row was most of the
    // allocations of a valuation).
    let mut merged: BTreeMap<Vec<u32>, f64> = BTreeMap::new();
    let mut key = vec![0; k + 1];
    for row in rows {
        let option = &options[row.option as usize];
        let stat = option.parsed.stat();
        for (slot, c) in key.iter_mut().zip(goal.conditions()) {
            *slot = c.contribution(stat).min(c.target());
        }
        key[k] = option.limit.map_or(0, |g| u32::from(g) + 1);
        match merged.get_mut(key.as_slice()) {
            Some(p) => *p += row.probability,
            None => {
                merged.insert(key.clone(), 0.0 + row.probability);
            }
        }
    }
    merged
        .into_iter()
        .map(|(mut contribution, p)| {
            let group = contribution.pop().and_then(|g| g.checked_sub(1)).map(|g| g as u8);
            Class {
                contribution,
                group,
                p,
            }
        })
        .collect()
}

/// P(the three lines drawn from `slots` meet `goal`).
///
/// # Errors
/// [`NoAllowedLine`] if a slot has no row left after the per-item limits (impossible with valid data).
pub fn goal_probability(data: &Data, slots: [&[Row]; 3], goal: &Goal) -> Result<f64, NoAllowedLine> {
    let targets: Vec<u32> = goal.conditions().iter().map(|c| c.target()).collect();
    let k = targets.len();
    let max: Vec<u32> = data.limits().iter().map(|l| u32::from(l.max)).collect();
    let mut states: BTreeMap<Vec<u32>, f64> = BTreeMap::new();
    states.insert(vec![0; k + max.len()], 1.0);
    let mut success = 0.0;
    // The state after a draw, built in place: a new key is allocated only when the map does not hold it
    // yet (issue 16: a fresh `Vec` per transition and its free were most of this function's time in Wasm).
    let mut s = vec![0; k + max.len()];
    for (slot, rows) in slots.iter().enumerate() {
        let classes = classes(data, rows, goal);
        let last = slot == 2;
        let mut next: BTreeMap<Vec<u32>, f64> = BTreeMap::new();
        for (state, &mass) in &states {
            let blocked = |c: &Class| c.group.is_some_and(|g| state[k + g as usize] >= max[g as usize]);
            let disallowed: f64 = classes.iter().filter(|c| blocked(c)).map(|c| c.p).sum();
            let allowed = 1.0 - disallowed;
            if allowed <= 0.0 {
                return Err(NoAllowedLine { slot: slot as u8 + 1 });
            }
            for class in classes.iter().filter(|c| !blocked(c)) {
                let m = mass * class.p / allowed;
                s.copy_from_slice(state);
                for i in 0..k {
                    s[i] = (s[i] + class.contribution[i]).min(targets[i]);
                }
                if last {
                    if s[..k] == targets[..] {
                        success += m;
                    }
                } else {
                    if let Some(g) = class.group {
                        s[k + g as usize] += 1;
                    }
                    // The same sums in the same order as `*next.entry(s).or_insert(0.0) += m`.
                    match next.get_mut(s.as_slice()) {
                        Some(v) => *v += m,
                        None => {
                            next.insert(s.clone(), 0.0 + m);
                        }
                    }
                }
            }
        }
        states = next;
    }
    Ok(success)
}
