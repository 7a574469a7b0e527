//! What a user wants from the three lines.
//!
//! A goal is a conjunction of conditions, all of which must hold on one item's three lines:
//! - `AtLeast { stat, value }`: the sum over the three lines of the values of lines that count toward
//!   `stat` is at least `value` ([`StatKind::counts_toward`]: the same stat, or 올스탯 toward each main stat).
//! - `Lines { stat, count }`: at least `count` of the three lines count toward `stat`.

use super::line::StatKind;
use core::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Condition {
    AtLeast { stat: StatKind, value: u32 },
    Lines { stat: StatKind, count: u8 },
}

impl Condition {
    pub fn stat(self) -> StatKind {
        match self {
            Condition::AtLeast { stat, .. } | Condition::Lines { stat, .. } => stat,
        }
    }

    /// The threshold the (capped) running total must reach.
    pub(crate) fn target(self) -> u32 {
        match self {
            Condition::AtLeast { value, .. } => value,
            Condition::Lines { count, .. } => u32::from(count),
        }
    }

    /// What one line adds to this condition's running total.
    pub(crate) fn contribution(self, line: Option<super::StatLine>) -> u32 {
        let Some(line) = line else { return 0 };
        if !line.kind.counts_toward(self.stat()) {
            return 0;
        }
        match self {
            Condition::AtLeast { .. } => line.value,
            Condition::Lines { .. } => u32::from(line.value > 0),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::AtLeast { stat, value } => write!(f, "{stat} >= {value}"),
            Condition::Lines { stat, count } => write!(f, "at least {count} lines of {stat}"),
        }
    }
}

/// A validated goal: at least one condition, each stat at most once per condition kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Goal {
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GoalError {
    /// No conditions at all.
    Empty,
    /// A target of 0 is always met; it is almost certainly a mistake.
    ZeroTarget { stat: StatKind },
    /// An item has three lines.
    TooManyLines { stat: StatKind, count: u32 },
    /// The same stat twice in `at_least` or twice in `lines`.
    Duplicate { stat: StatKind },
}

impl fmt::Display for GoalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoalError::Empty => write!(f, "the goal has no conditions (give at_least and/or lines)"),
            GoalError::ZeroTarget { stat } => {
                write!(f, "the goal for {stat} is 0; targets must be at least 1")
            }
            GoalError::TooManyLines { stat, count } => {
                write!(
                    f,
                    "the goal asks for {count} lines of {stat}, but an item has 3 potential lines"
                )
            }
            GoalError::Duplicate { stat } => write!(f, "{stat} appears twice in the goal"),
        }
    }
}

impl std::error::Error for GoalError {}

impl Goal {
    /// # Errors
    /// [`GoalError`] for an empty goal, a zero target, more than 3 lines, or a repeated stat.
    ///
    /// # Examples
    /// ```
    /// use pve_engine::potential::{Goal, StatKind};
    /// let g = Goal::new(&[(StatKind::AttPct, 21), (StatKind::BossPct, 30)], &[(StatKind::CritDmgPct, 2)]);
    /// assert_eq!(g.unwrap().conditions().len(), 3);
    /// ```
    pub fn new(at_least: &[(StatKind, u32)], lines: &[(StatKind, u32)]) -> Result<Goal, GoalError> {
        let mut conditions = Vec::with_capacity(at_least.len() + lines.len());
        for (i, &(stat, value)) in at_least.iter().enumerate() {
            if value == 0 {
                return Err(GoalError::ZeroTarget { stat });
            }
            if at_least[..i].iter().any(|&(s, _)| s == stat) {
                return Err(GoalError::Duplicate { stat });
            }
            conditions.push(Condition::AtLeast { stat, value });
        }
        for (i, &(stat, count)) in lines.iter().enumerate() {
            if count == 0 {
                return Err(GoalError::ZeroTarget { stat });
            }
            if count > 3 {
                return Err(GoalError::TooManyLines { stat, count });
            }
            if lines[..i].iter().any(|&(s, _)| s == stat) {
                return Err(GoalError::Duplicate { stat });
            }
            conditions.push(Condition::Lines {
                stat,
                count: count as u8,
            });
        }
        if conditions.is_empty() {
            return Err(GoalError::Empty);
        }
        // A canonical order: the same goal given in any order gives the same bits (the enumeration sums in an
        // order that depends on the condition order).
        conditions.sort_unstable();
        Ok(Goal { conditions })
    }

    /// The conditions in canonical order: `at_least` before `lines`, each by stat.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// A goal of one of this goal's conditions (used to explain an impossible goal).
    pub fn single(&self, i: usize) -> Goal {
        Goal {
            conditions: vec![self.conditions[i]],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatKind as K;

    fn check(at_least: &[(StatKind, u32)], lines: &[(StatKind, u32)], expect: Result<usize, GoalError>) {
        assert_eq!(Goal::new(at_least, lines).map(|g| g.conditions().len()), expect);
    }

    #[test]
    fn validation() {
        check(&[(K::AttPct, 21)], &[], Ok(1));
        check(&[(K::AttPct, 21), (K::BossPct, 30)], &[(K::CritDmgPct, 2)], Ok(3));
        check(&[(K::AttPct, 21)], &[(K::AttPct, 2)], Ok(2));
        check(&[], &[], Err(GoalError::Empty));
        check(
            &[(K::AttPct, 0)],
            &[],
            Err(GoalError::ZeroTarget { stat: K::AttPct }),
        );
        check(
            &[],
            &[(K::AttPct, 0)],
            Err(GoalError::ZeroTarget { stat: K::AttPct }),
        );
        check(
            &[],
            &[(K::AttPct, 4)],
            Err(GoalError::TooManyLines {
                stat: K::AttPct,
                count: 4,
            }),
        );
        check(
            &[(K::IntPct, 3), (K::IntPct, 6)],
            &[],
            Err(GoalError::Duplicate { stat: K::IntPct }),
        );
    }

    #[test]
    fn contributions() {
        let line = |kind, value| Some(super::super::StatLine { kind, value });
        let int21 = Condition::AtLeast {
            stat: K::IntPct,
            value: 21,
        };
        assert_eq!(int21.contribution(line(K::IntPct, 12)), 12);
        assert_eq!(int21.contribution(line(K::AllStatPct, 9)), 9);
        assert_eq!(int21.contribution(line(K::LukPct, 12)), 0);
        assert_eq!(int21.contribution(None), 0);
        let two_cd = Condition::Lines {
            stat: K::CritDmgPct,
            count: 2,
        };
        assert_eq!(two_cd.contribution(line(K::CritDmgPct, 8)), 1);
        assert_eq!(two_cd.contribution(line(K::CritRatePct, 8)), 0);
    }
}
