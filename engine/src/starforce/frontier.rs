//! The strategy frontier: every per-star safeguard policy that is Pareto-optimal in (mean attempt mesos,
//! mean destroyed items), and the spare prices at which the cheapest policy changes.
//!
//! # Method
//! A policy is a subset of the stars of the range where the rule set offers safeguard (at most `2^5`
//! here). Each is solved exactly (the same solve as the response's moments, so the request's own policy
//! appears with exactly its `mean_cost` and `mean_booms`). A policy is on the frontier when no other has
//! both means at most its own and one strictly lower; policies with equal means are all kept.
//!
//! With a spare price `s`, a policy's expected total is the line `mean_cost + s · mean_booms`. The
//! cheapest policy as `s` grows from 0 is the lower envelope of these lines, walked exactly: start at the
//! lowest `mean_cost` (ties: fewer destroys), and repeatedly move to the policy whose line crosses the
//! current one first among those with fewer destroys, at `s = Δmean_cost / Δmean_booms` (ties: the one
//! with the fewest destroys, which is the cheapest just above the crossing). The crossings are the
//! breakpoints, increasing; no arithmetic beyond that one division per candidate.
use super::chain::{Chain, Setup};
use super::moments;

/// One policy's means.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyMeans {
    /// Safeguard stars, ascending.
    pub safeguard_stars: Vec<u32>,
    pub mean_cost: f64,
    pub mean_booms: f64,
}

/// A spare price where the cheapest policy changes from `below` to `above`.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakpoint {
    pub spare_price: f64,
    pub below: Vec<u32>,
    pub above: Vec<u32>,
}

/// The Pareto frontier (ascending `mean_cost`, then `mean_booms`) and the spare-price breakpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct Frontier {
    pub policies: Vec<PolicyMeans>,
    pub breakpoints: Vec<Breakpoint>,
}

/// Every policy over `allowed` (subsets in bit order), solved; `None` on a numerical failure.
pub(crate) fn all_policies(setup: &Setup, allowed: &[u32]) -> Option<Vec<PolicyMeans>> {
    let n = allowed.len().min(16);
    (0u32..1 << n)
        .map(|bits| {
            let stars: Vec<u32> = (0..n)
                .filter(|i| bits & (1 << i) != 0)
                .map(|i| allowed[i])
                .collect();
            let policy = Setup {
                safeguard: stars.iter().fold(0u64, |m, &s| m | 1 << s),
                ..setup.clone()
            };
            let (mean_cost, mean_booms) = match Chain::build(&policy) {
                None => (0.0, 0.0),
                Some(chain) => {
                    let m = moments::solve(&chain, 0.0)?.moments;
                    (m.mean_cost, m.mean_booms)
                }
            };
            Some(PolicyMeans {
                safeguard_stars: stars,
                mean_cost,
                mean_booms,
            })
        })
        .collect()
}

/// `a` dominates `b`: no worse in both means, better in one.
fn dominates(a: &PolicyMeans, b: &PolicyMeans) -> bool {
    a.mean_cost <= b.mean_cost
        && a.mean_booms <= b.mean_booms
        && (a.mean_cost < b.mean_cost || a.mean_booms < b.mean_booms)
}

/// The frontier and the breakpoints of `policies` (see the module docs).
pub fn frontier(policies: &[PolicyMeans]) -> Frontier {
    let mut front: Vec<PolicyMeans> = policies
        .iter()
        .filter(|p| !policies.iter().any(|q| dominates(q, p)))
        .cloned()
        .collect();
    front.sort_by(|a, b| {
        a.mean_cost
            .total_cmp(&b.mean_cost)
            .then(a.mean_booms.total_cmp(&b.mean_booms))
    });
    let mut breakpoints = Vec::new();
    // `front[0]` has the lowest mean cost and, among those, the fewest destroys: cheapest at s = 0.
    let mut at = 0;
    while let Some(cur) = front.get(at) {
        let mut next: Option<(f64, usize)> = None;
        for (j, q) in front.iter().enumerate() {
            if q.mean_booms >= cur.mean_booms {
                continue;
            }
            let s = (q.mean_cost - cur.mean_cost) / (cur.mean_booms - q.mean_booms);
            let better = next.is_none_or(|(t, k)| s < t || (s == t && q.mean_booms < front[k].mean_booms));
            if better {
                next = Some((s, j));
            }
        }
        let Some((s, j)) = next else { break };
        breakpoints.push(Breakpoint {
            spare_price: s,
            below: cur.safeguard_stars.clone(),
            above: front[j].safeguard_stars.clone(),
        });
        at = j;
    }
    Frontier {
        policies: front,
        breakpoints,
    }
}
