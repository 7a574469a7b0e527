//! The budget-and-spares planner: the probability of reaching the target star with the attempt mesos
//! within a budget and at most `spares` destroyed items (each destroy uses one owned replacement; a
//! destroy with none left is a failure). The budget counts attempt mesos only: the spares are owned.
//!
//! # Method
//! The chain is augmented with the number of destroys so far, `k = 0..=spares`: a destroy at `k`
//! moves to the restore star at `k + 1`, and a destroy at `k = spares` leaves the chain (its mass never
//! reaches the target). The attempt costs are then put on a lattice of cell width `h` twice: rounded
//! **down** to whole cells and rounded **up**. Both lattices are walked exactly (the grid walker of
//! [`distribution`](super::distribution) with no fractional parts), giving `P↓ = P(Σ⌊c/h⌋ ≤ ⌊b/h⌋)` and
//! `P↑ = P(Σ⌈c/h⌉ ≤ ⌊b/h⌋)` for budget `b`. Every path's true cost lies between its two rounded costs,
//! so `P↑ ≤ p_reach ≤ P↓`: the reported `p_reach` is the midpoint and `error_bound = (P↓ − P↑) / 2` is
//! a rigorous bound (up to `f64` rounding), not an estimate. The grid is refined (4× the cells) until
//! the bound is at most [`ERROR_TARGET`] or the work limit [`MAX_WORK`] is reached (then the larger
//! bound is reported as it is).
//!
//! Without a budget, `p_reach = P(destroys ≤ spares)` from the exact booms PMF (bound: its cut tail);
//! without a spares limit, the destroy edges are kept and only the cost is bounded.
//!
//! # Many attempts
//! The ceil lattice charges every attempt at least one cell, so a chain of millions of expected
//! attempts (0→30 at level 250: 2·10⁷) keeps `P↑` near 0 on any grid within [`MAX_WORK`]. Both brackets
//! are therefore also clipped by Cantelli's inequality on the exact mean `μ` and sd `σ` of the attempt
//! cost (from [`moments`](super::moments), destroys unlimited): for `b > μ`,
//! `P(C ≤ b) ≥ (b − μ)² / (σ² + (b − μ)²)`, for `b < μ`, `P(C ≤ b) ≤ σ² / (σ² + (μ − b)²)`; with a spares
//! limit, `P(C ≤ b, D ≤ s) ≥ P(D ≤ s) − P(C > b)` and `≤ P(D ≤ s)`. Every clipped bracket is still
//! rigorous. It lets `budget_for` always end (the lower bound passes every level below `P(D ≤ s)` at a
//! finite budget) and resolves budgets far from the distribution's bulk on the first grid. The grid is
//! not refined when it cannot help: once a walk at the work limit would still have fewer cells than the
//! chain's expected attempts, the bound is reported as it is (`starforce.plan_bound_above_target`).
use super::chain::{Chain, Edge};
use super::distribution::lattice_pmf;
use super::moments::{booms_pmf, solve, total};

/// The bound the grid is refined towards.
pub const ERROR_TARGET: f64 = 1e-3;
/// Work limit of one lattice walk: cells × augmented states.
pub const MAX_WORK: usize = 1 << 24;
/// Cells of the first lattice.
const FIRST_CELLS: usize = 1 << 10;

/// `p_reach` and its rigorous absolute error bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanReach {
    pub p_reach: f64,
    pub error_bound: f64,
    /// Cells of the lattice used (0 when no lattice was needed).
    pub cells: usize,
}

/// What brackets `P(reach, C ≤ b, D ≤ s)` besides the lattices (module docs, "Many attempts"): the
/// exact moments of the attempt cost `C` with destroys unlimited, and `P(D ≤ s)` (1 without a limit).
#[derive(Debug, Clone, Copy)]
struct Outer {
    mean: f64,
    sd: f64,
    mean_attempts: f64,
    /// `P(D ≤ s)` as a bracket (its cut tail: the booms PMF stops below `BOOMS_PMF_TAIL`).
    cap_lo: f64,
    cap_hi: f64,
}

impl Outer {
    fn of(chain: &Chain, spares: Option<u32>) -> Option<Outer> {
        let m = solve(chain, 0.0)?.moments;
        let (cap_lo, cap_hi) = match spares {
            None => (1.0, 1.0),
            Some(s) => {
                let (pmf, tail) = booms_pmf(chain)?;
                let p = total(pmf.iter().take(s as usize + 1).copied()).min(1.0);
                if s as usize >= pmf.len() {
                    (p, (p + tail).min(1.0))
                } else {
                    (p, p)
                }
            }
        };
        Some(Outer {
            mean: m.mean_cost,
            sd: m.sd_cost,
            mean_attempts: m.mean_attempts,
            cap_lo,
            cap_hi,
        })
    }

    /// `(low, high)` clipped: Cantelli's bounds on `P(C ≤ b)` and `P(D ≤ s)`.
    fn clip(&self, b: f64, low: f64, high: f64) -> (f64, f64) {
        // σ²/(σ² + d²) = 1/(1 + (d/σ)²), written so that neither square overflows.
        let d = b - self.mean;
        let tail = if self.sd > 0.0 {
            let r = self.sd / d.abs();
            r * r / (1.0 + r * r)
        } else {
            0.0
        };
        let (c_lo, c_hi) = if d > 0.0 {
            (1.0 - tail, 1.0)
        } else if d < 0.0 {
            (0.0, tail)
        } else {
            (0.0, 1.0)
        };
        let lo = low.max(self.cap_lo - (1.0 - c_lo)).max(0.0);
        let hi = high.min(c_hi).min(self.cap_hi);
        // The lattices and the inequalities bound the same number: only f64 rounding can cross them.
        (lo.min(hi), hi)
    }
}

/// `spares` as walked: a limit at or above the booms PMF's length (the PMF stops once the tail is
/// below `BOOMS_PMF_TAIL`, 1e-9, or at `BOOMS_PMF_MAX_LEN` entries) is walked as unlimited, with that
/// tail added to the error bound, so that the augmented chain stays small.
fn effective(chain: &Chain, spares: Option<u32>) -> Option<(Option<u32>, f64)> {
    match spares {
        None => Some((None, 0.0)),
        Some(s) => {
            let (pmf, tail) = booms_pmf(chain)?;
            Some(if s as usize >= pmf.len() {
                (None, tail)
            } else {
                (Some(s), 0.0)
            })
        }
    }
}

/// The chain with the destroy count as part of the state (destroys past `spares` leave the chain).
fn augmented(chain: &Chain, spares: u32) -> Chain {
    let n = chain.len();
    let blocks = spares as usize + 1;
    let mut out = Chain {
        states: Vec::with_capacity(n * blocks),
        start: chain.start,
        attempts: Vec::with_capacity(n * blocks),
        first: vec![0],
        edges: Vec::new(),
    };
    for k in 0..blocks {
        for i in 0..n {
            for e in chain.edges(i) {
                match e.to {
                    Some(j) if e.destroy => {
                        if k + 1 < blocks {
                            out.edges.push(Edge {
                                to: Some((k + 1) * n + j),
                                ..*e
                            });
                        }
                    }
                    Some(j) => out.edges.push(Edge {
                        to: Some(k * n + j),
                        ..*e
                    }),
                    None => out.edges.push(*e),
                }
            }
            out.first.push(out.edges.len());
            out.states.push(chain.states[i]);
            out.attempts.push(chain.attempts[i]);
        }
    }
    out
}

/// The chain with every attempt cost replaced by whole cells of width `h`, rounded down or up.
fn on_lattice(chain: &Chain, h: f64, up: bool) -> Chain {
    let mut out = chain.clone();
    for a in &mut out.attempts {
        let q = a.cost / h;
        a.cost = if up { libm::ceil(q) } else { libm::floor(q) };
    }
    out
}

/// `P(reach with attempt mesos ≤ budget and destroys ≤ spares)`; `None` for both unlimited or a
/// numerical failure. `chain` must reach its target (no dead end).
pub(crate) fn p_reach(chain: &Chain, budget: Option<f64>, spares: Option<u32>) -> Option<PlanReach> {
    let Some(budget) = budget else {
        let spares = spares? as usize;
        let (pmf, tail) = booms_pmf(chain)?;
        let p = total(pmf.iter().take(spares + 1).copied());
        let cut = if spares >= pmf.len() { tail } else { 0.0 };
        return Some(PlanReach {
            p_reach: (p + cut / 2.0).min(1.0),
            error_bound: cut / 2.0,
            cells: 0,
        });
    };
    if budget <= 0.0 {
        let free = chain.attempts.iter().all(|a| a.cost == 0.0);
        return (!free).then_some(PlanReach {
            p_reach: 0.0,
            error_bound: 0.0,
            cells: 0,
        });
    }
    let outer = Outer::of(chain, spares)?;
    let (spares, extra) = effective(chain, spares)?;
    let walked = match spares {
        Some(s) => augmented(chain, s),
        None => chain.clone(),
    };
    let max_cells = MAX_WORK / walked.len().max(1);
    let mut cells = FIRST_CELLS;
    loop {
        let h = budget / cells as f64;
        let read = |up: bool| -> Option<f64> {
            let pmf = lattice_pmf(&on_lattice(&walked, h, up), cells + 1).ok()?;
            Some(total(pmf.iter().copied()).min(1.0))
        };
        // Walked as unlimited, a spares limit past the booms PMF costs at most its cut tail `extra`.
        let (low, high) = outer.clip(budget, read(true)? - extra, read(false)?);
        let bound = (high - low).max(0.0) / 2.0;
        let next = cells * 4;
        // A finer grid helps the ceil lattice only if it can hold the attempts a run makes.
        let hopeless = (max_cells as f64) < outer.mean_attempts;
        if bound <= ERROR_TARGET || next > max_cells || hopeless {
            return Some(PlanReach {
                p_reach: (low + high) / 2.0,
                error_bound: bound,
                cells,
            });
        }
        cells = next;
    }
}

/// Cells of the lattice `budget_for` reads its budgets from.
const BUDGET_CELLS: usize = 1 << 12;

/// The least budgets with `p_reach ≥ p` for each level `p` given `spares` (`None` where
/// `P(destroys ≤ spares) < p`), read on a lattice of [`BUDGET_CELLS`] cells spanning a budget grown
/// from `start` (doubling) until the pessimistic CDF passes every reachable level; the midpoint of the
/// two bracketing CDFs is read, so each budget is within one cell (returned as the second value) of
/// the budget where the bracket crosses `p`. When only the optimistic CDF passes (many attempts, each
/// rounded up to a whole cell) and doubling the budget no longer raises the pessimistic one, the cells
/// are refined fourfold at the same budget, up to [`MAX_WORK`] (not at all when the grid cannot hold the
/// expected attempts); past that the midpoint is read as it is. Both CDFs are clipped as in [`p_reach`], so
/// the pessimistic one passes every level below `P(D ≤ s)` at a finite budget and the doubling ends.
pub(crate) fn budget_for(
    chain: &Chain,
    spares: Option<u32>,
    levels: &[f64],
    start: f64,
) -> Option<(Vec<Option<f64>>, f64)> {
    let outer = Outer::of(chain, spares)?;
    // Levels above what `P(D ≤ s)` surely reaches get no budget.
    let cap = outer.cap_lo;
    let (spares, extra) = effective(chain, spares)?;
    let walked = match spares {
        Some(s) => augmented(chain, s),
        None => chain.clone(),
    };
    let wanted = levels
        .iter()
        .copied()
        .filter(|&p| p <= cap - 1e-9)
        .fold(0.0, f64::max);
    let mut budget = start.max(1.0);
    let mut cells = BUDGET_CELLS;
    let mut last_lo = -1.0;
    let max_cells = MAX_WORK / walked.len().max(1);
    let hopeless = (max_cells as f64) < outer.mean_attempts;
    for _ in 0..64 {
        let h = budget / cells as f64;
        let cdf = |up: bool| -> Option<Vec<f64>> {
            let pmf = lattice_pmf(&on_lattice(&walked, h, up), cells + 1).ok()?;
            let mut acc = 0.0;
            Some(
                pmf.iter()
                    .map(|p| {
                        acc += p;
                        acc
                    })
                    .collect(),
            )
        };
        let (mut low, mut high) = (cdf(true)?, cdf(false)?);
        for (x, (l, u)) in low.iter_mut().zip(high.iter_mut()).enumerate() {
            (*l, *u) = outer.clip(x as f64 * h, *l - extra, *u);
        }
        let (lo, hi) = (
            low.last().copied().unwrap_or(0.0),
            high.last().copied().unwrap_or(0.0),
        );
        // The pessimistic lattice rounds every attempt up to a cell: with many attempts it can stay below
        // the level at any budget, while the optimistic one passes it. Once doubling the budget stops
        // raising it, the cells are too coarse: refine them (same budget) up to the work limit, and past
        // it read the midpoint as it is.
        let finer = cells * 4;
        let refine = lo < wanted && hi >= wanted && lo <= last_lo + 1e-9;
        last_lo = lo;
        if refine && finer <= max_cells && !hopeless {
            cells = finer;
            continue;
        }
        if lo >= wanted || (refine && (lo + hi) / 2.0 >= wanted) {
            let out = levels
                .iter()
                .map(|&p| {
                    (p <= cap - 1e-9).then(|| {
                        let x = (0..low.len())
                            .find(|&x| (low[x] + high[x]) / 2.0 >= p)
                            .unwrap_or(low.len() - 1);
                        x as f64 * h
                    })
                })
                .collect();
            return Some((out, h));
        }
        budget *= 2.0;
    }
    None
}
