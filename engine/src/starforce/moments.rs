//! Exact means and variances of the absorbing chain (linear solves, no simulation), the booms PMF and
//! the safeguard advice.
use super::chain::{Chain, Setup};
use super::linalg::ChainLu;

/// `Σ` starting from +0.0 (`Iterator::sum` of no terms is −0.0, which would print as `-0.0`).
pub(crate) fn total(terms: impl Iterator<Item = f64>) -> f64 {
    terms.fold(0.0, |s, t| s + t)
}

/// Means and spreads of one run (attempt mesos, destroyed items, attempts).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Expected mesos spent on attempts (discounts, events and safeguard surcharges included).
    pub mean_cost: f64,
    pub sd_cost: f64,
    /// Expected number of destroyed items.
    pub mean_booms: f64,
    pub sd_booms: f64,
    /// Probability of reaching the target without any destroy.
    pub p_no_boom: f64,
    pub mean_attempts: f64,
    pub sd_attempts: f64,
    /// `mean_cost + spare_cost · mean_booms`.
    pub mean_total_cost: f64,
}

impl Moments {
    /// The moments of doing nothing (`from_star == to_star`).
    pub const ZERO: Moments = Moments {
        mean_cost: 0.0,
        sd_cost: 0.0,
        mean_booms: 0.0,
        sd_booms: 0.0,
        p_no_boom: 1.0,
        mean_attempts: 0.0,
        sd_attempts: 0.0,
        mean_total_cost: 0.0,
    };
}

/// The solved chain: moments plus what the per-star table and the distribution need.
#[derive(Debug, Clone)]
pub(crate) struct Solved {
    pub moments: Moments,
    /// Expected number of attempts made in each state, starting from the chain's start.
    pub visits: Vec<f64>,
}

/// `I − Q` over the transient states, optionally without the destroy transitions (which then leave).
fn fundamental(chain: &Chain, with_destroy: bool) -> Option<ChainLu> {
    let n = chain.len();
    let mut moves = vec![0.0; n * n];
    let mut exits = vec![0.0; n];
    for i in 0..n {
        for e in chain.edges(i) {
            match e.to {
                Some(j) if with_destroy || !e.destroy => {
                    if j != i {
                        moves[i * n + j] += e.prob;
                    }
                }
                _ => exits[i] += e.prob,
            }
        }
    }
    ChainLu::new(n, &moves, &exits)
}

/// Expected visits to every state from the start: the start row of `(I − Q)⁻¹`.
fn visits(chain: &Chain, lu: &ChainLu) -> Vec<f64> {
    let mut v = vec![0.0; chain.len()];
    v[chain.start] = 1.0;
    lu.solve_transposed(&mut v);
    v
}

/// Mean and standard deviation of an additive reward `r(i, edge)` collected on every attempt.
///
/// Means solve `(I − Q) μ = E[r]`; variances use the law of total variance, `σ²_i = Σ_e p_e (r_e + μ_e −
/// μ_i)² + Σ_j Q_ij σ²_j`, whose right-hand side has no cancellation, so the result is never negative.
fn mean_sd(chain: &Chain, lu: &ChainLu, visits: &[f64], reward: impl Fn(usize, bool) -> f64) -> (f64, f64) {
    let n = chain.len();
    let mut mu: Vec<f64> = (0..n)
        .map(|i| total(chain.edges(i).iter().map(|e| e.prob * reward(i, e.destroy))))
        .collect();
    lu.solve(&mut mu);
    let spread: Vec<f64> = (0..n)
        .map(|i| {
            total(chain.edges(i).iter().map(|e| {
                let next = e.to.map_or(0.0, |j| mu[j]);
                let dev = reward(i, e.destroy) + next - mu[i];
                e.prob * dev * dev
            }))
        })
        .collect();
    let var = total(visits.iter().zip(&spread).map(|(v, w)| v * w));
    (mu[chain.start], libm::sqrt(var))
}

/// Solve the chain exactly. `None` only if `I − Q` is singular, which [`Chain::dead_end`] rules out first.
pub(crate) fn solve(chain: &Chain, spare_cost: f64) -> Option<Solved> {
    let lu = fundamental(chain, true)?;
    let v = visits(chain, &lu);
    let cost = |i: usize, _: bool| chain.attempts[i].cost;
    let (mean_cost, sd_cost) = mean_sd(chain, &lu, &v, cost);
    let (mean_booms, sd_booms) = mean_sd(chain, &lu, &v, |_, destroy| if destroy { 1.0 } else { 0.0 });
    let (mean_attempts, sd_attempts) = mean_sd(chain, &lu, &v, |_, _| 1.0);
    let p_no_boom = no_boom(chain)?.p_no_boom();
    Some(Solved {
        moments: Moments {
            mean_cost,
            sd_cost,
            mean_booms,
            sd_booms,
            p_no_boom,
            mean_attempts,
            sd_attempts,
            mean_total_cost: mean_cost + spare_cost * mean_booms,
        },
        visits: v,
    })
}

/// The chain cut at its first destroy: where a run ends up, from the start and from every restore star.
struct FirstBoom {
    /// Restore states (targets of destroy transitions), ascending.
    restore: Vec<usize>,
    /// `P(reach the target with no destroy)` from the start and from each restore state.
    from_start: f64,
    from_restore: Vec<f64>,
    /// `P(first destroy restores to restore[r])` from the start, and from restore state `q` (row-major).
    boom_from_start: Vec<f64>,
    boom_from_restore: Vec<f64>,
}

impl FirstBoom {
    fn p_no_boom(&self) -> f64 {
        self.from_start
    }
}

fn no_boom(chain: &Chain) -> Option<FirstBoom> {
    let n = chain.len();
    let lu = fundamental(chain, false)?;
    let mut restore: Vec<usize> = chain
        .edges
        .iter()
        .filter(|e| e.destroy)
        .filter_map(|e| e.to)
        .collect();
    restore.sort_unstable();
    restore.dedup();
    // Column solves: absorption without destroy, then one column per restore state.
    let mut absorb: Vec<f64> = (0..n)
        .map(|i| total(chain.edges(i).iter().filter(|e| e.to.is_none()).map(|e| e.prob)))
        .collect();
    lu.solve(&mut absorb);
    let columns: Vec<Vec<f64>> = restore
        .iter()
        .map(|&r| {
            let mut col: Vec<f64> = (0..n)
                .map(|i| {
                    let into_r = chain.edges(i).iter().filter(|e| e.destroy && e.to == Some(r));
                    total(into_r.map(|e| e.prob))
                })
                .collect();
            lu.solve(&mut col);
            col
        })
        .collect();
    let row = |i: usize| columns.iter().map(|c| c[i]).collect::<Vec<f64>>();
    Some(FirstBoom {
        from_start: absorb[chain.start],
        from_restore: restore.iter().map(|&r| absorb[r]).collect(),
        boom_from_start: row(chain.start),
        boom_from_restore: restore.iter().flat_map(|&r| row(r)).collect(),
        restore,
    })
}

/// Longest booms PMF a response carries; the mass beyond it is reported, never dropped silently.
pub const BOOMS_PMF_MAX_LEN: usize = 10_000;
/// The PMF stops once the probability of more booms falls below this.
pub const BOOMS_PMF_TAIL: f64 = 1e-9;

/// `P(0 booms), P(1), …` until `P(more) < BOOMS_PMF_TAIL` or [`BOOMS_PMF_MAX_LEN`] entries, and
/// `P(more)` itself. Exact: a run restarts at a restore star after each destroy, so the count is a Markov
/// chain over the restore states.
pub(crate) fn booms_pmf(chain: &Chain) -> Option<(Vec<f64>, f64)> {
    let fb = no_boom(chain)?;
    let k = fb.restore.len();
    let mut pmf = vec![fb.from_start];
    // alive[r] = P(the latest destroy so far restored to restore[r], and it was the `pmf.len()`-th).
    let mut alive = fb.boom_from_start.clone();
    let mut tail = total(alive.iter().copied());
    while tail >= BOOMS_PMF_TAIL && pmf.len() < BOOMS_PMF_MAX_LEN {
        pmf.push(total(alive.iter().zip(&fb.from_restore).map(|(a, p)| a * p)));
        alive = (0..k)
            .map(|to| total((0..k).map(|q| alive[q] * fb.boom_from_restore[q * k + to])))
            .collect();
        tail = total(alive.iter().copied());
    }
    Some((pmf, tail))
}

/// Safeguard advice at one star where the rule set allows it and it would prevent a destroy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StarAdvice {
    pub star: u32,
    /// Whether the cheapest policy uses safeguard at this star.
    pub use_safeguard: bool,
    /// Lowest expected total (attempts + spare items) with safeguard on at this star (others optimal).
    pub expected_total_with: f64,
    /// Lowest expected total with safeguard off at this star (others optimal).
    pub expected_total_without: f64,
}

/// The cheapest safeguard policy for the request's spare cost (other options as requested).
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    pub stars: Vec<StarAdvice>,
    /// Expected `attempt mesos + spare_cost · booms` under the cheapest policy.
    pub expected_total: f64,
}

/// Try every per-star safeguard policy (at most `2^5` for the rule sets here) with exact expectations.
pub(crate) fn advise(setup: &Setup, spare_cost: f64) -> Option<Advice> {
    let base = Setup {
        safeguard: 0,
        ..setup.clone()
    };
    let Some(plain) = Chain::build(&base) else {
        return Some(Advice {
            stars: Vec::new(),
            expected_total: 0.0,
        });
    };
    // Stars where safeguard is offered and some reachable attempt could destroy the item.
    let mut eligible: Vec<u32> = setup
        .rules
        .safeguard
        .stars
        .iter()
        .copied()
        .filter(|&s| (0..plain.len()).any(|i| plain.states[i].star == s && plain.attempts[i].destroy > 0.0))
        .collect();
    eligible.sort_unstable();
    let policies = 1usize << eligible.len();
    let mut totals = Vec::with_capacity(policies);
    for policy in 0..policies {
        let mask = eligible
            .iter()
            .enumerate()
            .filter(|&(b, _)| policy & (1 << b) != 0)
            .fold(0u64, |m, (_, &s)| m | 1 << s);
        let chain = Chain::build(&Setup {
            safeguard: mask,
            ..base.clone()
        })?;
        let lu = fundamental(&chain, true)?;
        let v = visits(&chain, &lu);
        let a = &chain.attempts;
        totals.push(total(
            (0..chain.len()).map(|i| v[i] * (a[i].cost + spare_cost * a[i].destroy)),
        ));
    }
    // Lowest total; ties go to the policy with the lower mask (fewer, lower safeguards).
    let best = (0..policies).fold(0, |b, p| if totals[p] < totals[b] { p } else { b });
    let min_over = |want: bool, bit: usize| {
        (0..policies)
            .filter(|p| (p & (1 << bit) != 0) == want)
            .map(|p| totals[p])
            .fold(f64::INFINITY, f64::min)
    };
    let stars = eligible
        .iter()
        .enumerate()
        .map(|(bit, &star)| StarAdvice {
            star,
            use_safeguard: best & (1 << bit) != 0,
            expected_total_with: min_over(true, bit),
            expected_total_without: min_over(false, bit),
        })
        .collect();
    Some(Advice {
        stars,
        expected_total: totals[best],
    })
}
