//! The absorbing Markov chain of one enhancement run, built from a [`RuleSet`] and the request's options.
//!
//! A state is `(current star, consecutive decreases)`; the counter only exists in rule sets with chance
//! time and is 0 otherwise. Only the states reachable from the start are built, sorted by `(star,
//! counter)`, so a state's index is deterministic. Reaching the target star is the absorbing outcome.
use super::rules::{Failure, RuleSet};
use super::{Events, Mvp};

/// The request's options, resolved against a rule set. `safeguard` is a bit mask over current stars so
/// that the safeguard advice can try per-star policies.
#[derive(Debug, Clone)]
pub(crate) struct Setup<'a> {
    pub rules: &'a RuleSet,
    pub item_level: u32,
    pub from_star: u32,
    pub to_star: u32,
    pub star_catch: bool,
    pub safeguard: u64,
    pub events: Events,
    pub mvp: Mvp,
    pub pc_room: bool,
}

/// One attempt: its outcome probabilities (summing to 1), its cost, and its success destination.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attempt {
    pub success: f64,
    pub maintain: f64,
    pub decrease: f64,
    pub destroy: f64,
    /// Mesos paid for this attempt (discounts, events and safeguard surcharge included).
    pub cost: f64,
    /// Star reached on success (after `plus_one`, never past the target).
    pub success_to: u32,
    /// Whether the safeguard surcharge is paid on this attempt.
    pub safeguarded: bool,
}

impl Setup<'_> {
    /// Discount rate from MVP grade and PC room (they add up).
    fn discount(&self) -> f64 {
        let d = &self.rules.discounts;
        let mvp = match self.mvp {
            Mvp::None => 0.0,
            Mvp::Silver => d.mvp_silver,
            Mvp::Gold => d.mvp_gold,
            Mvp::Diamond => d.mvp_diamond,
            Mvp::Red => d.mvp_red,
        };
        mvp + if self.pc_room { d.pc_room } else { 0.0 }
    }

    /// Whether safeguard is requested at `star` and the rule set offers it there.
    pub fn safeguard_at(&self, star: u32) -> bool {
        star < 64 && self.safeguard & (1 << star) != 0 && self.rules.safeguard.stars.contains(&star)
    }

    /// The attempt at `star`; `chance` is chance time (certain success, no safeguard surcharge).
    pub fn attempt(&self, star: u32, chance: bool) -> Attempt {
        let r = self.rules;
        let s = star as usize;
        let ev = &r.events;
        let guaranteed = chance || (self.events.five_ten_fifteen && ev.guaranteed_stars.contains(&star));
        let (mut p, mut d) = (r.success[s], r.destroy[s]);
        let mut fail = 1.0 - p - d;
        if guaranteed {
            (p, d, fail) = (1.0, 0.0, 0.0);
        } else {
            if self.star_catch {
                let boosted = (p * r.star_catch_factor).min(1.0);
                let shrink = if p < 1.0 { (1.0 - boosted) / (1.0 - p) } else { 0.0 };
                (p, d, fail) = (boosted, d * shrink, fail * shrink);
            }
            if self.events.boom_reduction && star <= ev.boom_reduction_max_star {
                let kept = d * ev.boom_reduction_factor;
                fail += d - kept;
                d = kept;
            }
            if self.safeguard_at(star) {
                fail += d;
                d = 0.0;
            }
        }
        let base = r.base_cost(self.item_level, star);
        let mut cost = base;
        if star <= r.discounts.max_star {
            cost *= 1.0 - self.discount();
        }
        if self.events.thirty_off {
            cost *= ev.thirty_off_factor;
        }
        let safeguarded = !guaranteed && self.safeguard_at(star);
        if safeguarded {
            cost += r.safeguard.surcharge * base;
        }
        let step = if self.events.plus_one && star <= ev.plus_one_max_star {
            1 + ev.plus_one_extra
        } else {
            1
        };
        let (maintain, decrease) = match r.failure[s] {
            Failure::Maintain => (fail, 0.0),
            Failure::Decrease => (0.0, fail),
        };
        Attempt {
            success: p,
            maintain,
            decrease,
            destroy: d,
            cost,
            success_to: (star + step).min(self.to_star),
            safeguarded,
        }
    }
}

/// A chain state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct State {
    pub star: u32,
    /// Consecutive decreases so far (always 0 without chance time).
    pub counter: u32,
}

/// A transition; `to == None` is the target (absorbing).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Edge {
    pub to: Option<usize>,
    pub prob: f64,
    pub destroy: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Chain {
    pub states: Vec<State>,
    pub start: usize,
    pub attempts: Vec<Attempt>,
    /// Edges of state `i` are `edges[first[i]..first[i + 1]]`.
    pub first: Vec<usize>,
    pub edges: Vec<Edge>,
}

impl Chain {
    /// The chain from `(from_star, 0)` to `to_star`; `None` when `from_star == to_star` (nothing to do).
    pub fn build(setup: &Setup) -> Option<Chain> {
        if setup.from_star >= setup.to_star {
            return None;
        }
        let chance_after = setup.rules.chance_time_after;
        // Outcomes of a state as (next state or target, probability, destroy?), in a fixed order.
        let outcomes = |st: State| -> ([(Option<State>, f64, bool); 4], Attempt) {
            let chance = chance_after.is_some_and(|n| st.counter >= n);
            let a = setup.attempt(st.star, chance);
            let up = (a.success_to < setup.to_star).then_some(State {
                star: a.success_to,
                counter: 0,
            });
            let stay = Some(State {
                star: st.star,
                counter: 0,
            });
            // Without chance time the counter is not tracked.
            let down = Some(State {
                star: st.star.saturating_sub(1),
                counter: if chance_after.is_some() { st.counter + 1 } else { 0 },
            });
            let boom = Some(State {
                star: setup.rules.destroy_to[st.star as usize],
                counter: 0,
            });
            (
                [
                    (up, a.success, false),
                    (stay, a.maintain, false),
                    (down, a.decrease, false),
                    (boom, a.destroy, true),
                ],
                a,
            )
        };
        // Reachable states, then sorted for a deterministic index.
        let start = State {
            star: setup.from_star,
            counter: 0,
        };
        let mut states = vec![start];
        let mut next = 0;
        while next < states.len() {
            let (outs, _) = outcomes(states[next]);
            for (to, prob, _) in outs {
                if let Some(t) = to.filter(|_| prob > 0.0) {
                    if !states.contains(&t) {
                        states.push(t);
                    }
                }
            }
            next += 1;
        }
        states.sort_unstable();
        let index = |st: State| states.binary_search(&st).ok();
        let mut chain = Chain {
            start: index(start)?,
            attempts: Vec::with_capacity(states.len()),
            first: vec![0],
            edges: Vec::new(),
            states: Vec::new(),
        };
        for &st in &states {
            let (outs, a) = outcomes(st);
            for (to, prob, destroy) in outs {
                if prob > 0.0 {
                    let to = match to {
                        Some(t) => Some(index(t)?),
                        None => None,
                    };
                    chain.edges.push(Edge { to, prob, destroy });
                }
            }
            chain.first.push(chain.edges.len());
            chain.attempts.push(a);
        }
        chain.states = states;
        Some(chain)
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// The chain restricted to the states marked in `keep`, starting at `start`; a transition into
    /// `exit` (a state not kept) becomes the absorbing outcome. `None` if any other transition leaves the
    /// kept states, or a kept state is absorbed directly while an `exit` is given.
    pub fn sub(&self, keep: &[bool], start: usize, exit: Option<usize>) -> Option<Chain> {
        let mut index = vec![usize::MAX; self.len()];
        let mut next = 0;
        for (i, &k) in keep.iter().enumerate() {
            if k {
                index[i] = next;
                next += 1;
            }
        }
        let mut out = Chain {
            states: Vec::with_capacity(next),
            start: index[start],
            attempts: Vec::with_capacity(next),
            first: vec![0],
            edges: Vec::new(),
        };
        for i in (0..self.len()).filter(|&i| keep[i]) {
            for e in self.edges(i) {
                let to = match e.to {
                    Some(j) if keep[j] => Some(index[j]),
                    Some(j) if Some(j) == exit => None,
                    None if exit.is_none() => None,
                    _ => return None,
                };
                out.edges.push(Edge { to, ..*e });
            }
            out.first.push(out.edges.len());
            out.states.push(self.states[i]);
            out.attempts.push(self.attempts[i]);
        }
        Some(out)
    }

    /// The run split where it enters, for good, the part a destroy can send it back to: `(climb, rest)`,
    /// where `climb` ends when it enters `rest`'s start. The two costs are independent and add up (KMS
    /// and GMS restore at 12★ or higher and never lose a star, so the stars below are climbed once).
    /// `None` when there is no such single entry (no destroys, the start can be returned to, or several
    /// entries).
    pub fn split(&self) -> Option<(Chain, Chain)> {
        let n = self.len();
        let mut upper = vec![false; n];
        let mut stack: Vec<usize> = self
            .edges
            .iter()
            .filter(|e| e.destroy)
            .filter_map(|e| e.to)
            .collect();
        while let Some(i) = stack.pop() {
            if !upper[i] {
                upper[i] = true;
                stack.extend(self.edges(i).iter().filter_map(|e| e.to));
            }
        }
        if upper[self.start] || !upper.contains(&true) {
            return None;
        }
        let mut entry = None;
        for i in (0..n).filter(|&i| !upper[i]) {
            for e in self.edges(i) {
                match e.to {
                    Some(j) if upper[j] && entry.is_some_and(|k| k != j) => return None,
                    Some(j) if upper[j] => entry = Some(j),
                    Some(_) => {}
                    None => return None,
                }
            }
        }
        let entry = entry?;
        let lower: Vec<bool> = upper.iter().map(|u| !u).collect();
        Some((
            self.sub(&lower, self.start, Some(entry))?,
            self.sub(&upper, entry, None)?,
        ))
    }

    pub fn edges(&self, i: usize) -> &[Edge] {
        &self.edges[self.first[i]..self.first[i + 1]]
    }

    /// The lowest star from which the target cannot be reached at all, if any (a zero success rate).
    pub fn dead_end(&self) -> Option<u32> {
        let n = self.len();
        let mut alive = vec![false; n];
        let mut changed = true;
        while changed {
            changed = false;
            for i in 0..n {
                if !alive[i] && self.edges(i).iter().any(|e| e.to.is_none_or(|j| alive[j])) {
                    alive[i] = true;
                    changed = true;
                }
            }
        }
        (0..n)
            .filter(|&i| !alive[i])
            .filter(|&i| self.attempts[i].success == 0.0)
            .map(|i| self.states[i].star)
            .min()
            .or_else(|| (0..n).find(|&i| !alive[i]).map(|i| self.states[i].star))
    }
}
