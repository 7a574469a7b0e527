//! Attempts until success when the grade can tier up: an absorbing Markov chain over (grade, pity counter).
//!
//! Grades are numbered 0..=n; stage i is the tier-up from grade i to grade i+1 and grade n (the top) cannot
//! tier up. One attempt made at grade i:
//! 1. tiers up with probability `rate_i`, or with certainty when the pity (ceiling) is due;
//! 2. then draws the three lines at the grade after step 1 and succeeds with `p[grade]`.
//!
//! **Pity semantics (our choice; sources differ).** `pity = N` means that at most N attempts are made at that
//! grade: the N-th attempt at the grade tiers up for certain if none of the previous N-1 did. So the number of
//! attempts to leave the grade is a geometric variable truncated at N, with mean `(1 - (1 - rate)^N) / rate`
//! ([`tier_up_mean_attempts`]). This is hanbajabo/maple-hub's reading and a KMS calculator's whose
//! repository is not known; ccnspace/MapleGround `src/utils/CubeSimulator.ts` instead forces the tier-up on attempt N + 1.
//! The counter of a grade starts at 0 when the item reaches it; the starting grade's counter may be given
//! ([`Chain::with_progress`]: attempts already made there without a tier-up, `0..pity`).
//!
//! Mean attempts, eventual success probability and mean cost are exact backward recursions. Quantiles come
//! from propagating the distribution forward one attempt at a time; once all remaining mass is at the top
//! grade (exactly, thanks to pity, or below 1e-18 for cubes without pity), the tail is geometric and the
//! quantile is solved in closed form with `libm`.
//!
//! **Budgets** ([`Chain::budget`]). The cost to success is a phase-type distribution on the lattice of whole
//! cost units (one unit = one cube, or the greatest common divisor of the per-grade meso prices). Its CDF is
//! computed exactly by the same forward propagation, indexed by units spent instead of attempts: a ring of
//! `max cost + 1` buckets holds the mass that has spent exactly `u` units and not yet succeeded, per
//! (grade, counter). When the mass below the top grade falls under 1e-18 the rest is a mixture of shifted
//! geometric variables (`v + k·c_top`, `k >= 1`), evaluated in closed form; the mass dropped there is
//! reported as the error bound (rounding aside).

use core::fmt;

/// A tier-up from one grade to the next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// Probability of a tier-up per attempt, in (0, 1].
    pub rate: f64,
    /// At most this many attempts at the grade (see the module docs); `None` when there is no ceiling.
    pub pity: Option<u32>,
}

/// The attempt process from the lowest grade (0) to the top grade (`stages.len()`).
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    stages: Vec<Stage>,
    p: Vec<f64>,
    cost: Vec<f64>,
    /// Counter of the starting grade (attempts already made there without a tier-up).
    progress: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ChainError {
    /// `p` and `cost` need one entry per grade: `stages.len() + 1`.
    LengthMismatch {
        stages: usize,
        p: usize,
        cost: usize,
    },
    RateOutOfRange {
        stage: usize,
        rate: f64,
    },
    PityZero {
        stage: usize,
    },
    ProbabilityOutOfRange {
        grade: usize,
        p: f64,
    },
    CostOutOfRange {
        grade: usize,
        cost: f64,
    },
    /// The starting counter must be below the starting grade's pity (0 when it has none).
    ProgressOutOfRange {
        progress: u32,
        pity: Option<u32>,
    },
    /// [`Chain::budget`] needs one whole cost per grade in `1..=MAX_UNIT_COST`.
    UnitCostOutOfRange {
        grade: usize,
        cost: u64,
    },
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::LengthMismatch { stages, p, cost } => write!(
                f,
                "{stages} tier-up stages need {} success probabilities and costs, got {p} and {cost}",
                stages + 1
            ),
            ChainError::RateOutOfRange { stage, rate } => {
                write!(f, "tier-up rate {rate} of stage {stage} is outside (0, 1]")
            }
            ChainError::PityZero { stage } => write!(f, "pity of stage {stage} is 0; it must be at least 1"),
            ChainError::ProbabilityOutOfRange { grade, p } => {
                write!(f, "success probability {p} at grade {grade} is outside [0, 1]")
            }
            ChainError::CostOutOfRange { grade, cost } => {
                write!(f, "cost {cost} at grade {grade} is negative or not finite")
            }
            ChainError::ProgressOutOfRange { progress, pity } => match pity {
                Some(n) => write!(
                    f,
                    "pity progress {progress} is not below the pity {n} of the starting grade (at most {} \
                     attempts can be made there without a tier-up)",
                    n - 1
                ),
                None => write!(
                    f,
                    "pity progress {progress} given, but the starting grade has no pity (it must be 0)"
                ),
            },
            ChainError::UnitCostOutOfRange { grade, cost } => write!(
                f,
                "whole cost {cost} at grade {grade} is outside 1..={MAX_UNIT_COST} cost units"
            ),
        }
    }
}

impl std::error::Error for ChainError {}

/// Attempt-count quantiles: the smallest n with P(success within n attempts) >= q; `None` when that
/// probability never reaches q.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quantiles {
    pub p50: Option<u64>,
    pub p90: Option<u64>,
    pub p99: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainOutcome {
    /// P(the goal is ever met). Below 1 only when the top grade cannot meet it.
    pub eventual_success: f64,
    /// `None` when `eventual_success < 1` (the expectation is infinite).
    pub mean_attempts: Option<f64>,
    /// Expected total cost; `None` when `mean_attempts` is.
    pub mean_cost: Option<f64>,
    pub quantiles: Quantiles,
}

impl Chain {
    /// # Errors
    /// [`ChainError`] for mismatched lengths or values out of range.
    pub fn new(stages: Vec<Stage>, p: Vec<f64>, cost: Vec<f64>) -> Result<Chain, ChainError> {
        if p.len() != stages.len() + 1 || cost.len() != stages.len() + 1 {
            return Err(ChainError::LengthMismatch {
                stages: stages.len(),
                p: p.len(),
                cost: cost.len(),
            });
        }
        for (stage, s) in stages.iter().enumerate() {
            if !(s.rate > 0.0 && s.rate <= 1.0) {
                return Err(ChainError::RateOutOfRange { stage, rate: s.rate });
            }
            if s.pity == Some(0) {
                return Err(ChainError::PityZero { stage });
            }
        }
        for (grade, &q) in p.iter().enumerate() {
            if !(0.0..=1.0).contains(&q) {
                return Err(ChainError::ProbabilityOutOfRange { grade, p: q });
            }
        }
        for (grade, &c) in cost.iter().enumerate() {
            if !(c >= 0.0 && c.is_finite()) {
                return Err(ChainError::CostOutOfRange { grade, cost: c });
            }
        }
        Ok(Chain {
            stages,
            p,
            cost,
            progress: 0,
        })
    }

    /// Start with `progress` attempts already made at the starting grade without a tier-up.
    ///
    /// # Errors
    /// [`ChainError::ProgressOutOfRange`] unless `progress < pity` of the first stage (or `progress == 0`).
    pub fn with_progress(mut self, progress: u32) -> Result<Chain, ChainError> {
        let pity = self.stages.first().and_then(|s| s.pity);
        let ok = match pity {
            Some(n) => progress < n,
            None => progress == 0,
        };
        if !ok {
            return Err(ChainError::ProgressOutOfRange { progress, pity });
        }
        self.progress = progress;
        Ok(self)
    }

    fn top(&self) -> usize {
        self.stages.len()
    }

    /// Solve from grade 0 with its pity counter at the starting progress (0 unless [`Chain::with_progress`]).
    pub fn solve(&self) -> ChainOutcome {
        let (eventual_success, mean_attempts, mean_cost) = self.backward();
        ChainOutcome {
            eventual_success,
            mean_attempts,
            mean_cost,
            quantiles: self.quantiles(),
        }
    }

    /// As [`Chain::solve`] without the quantiles (left at `Quantiles::default()`, i.e. not computed): the
    /// backward recursions only. The means are the same bits as [`Chain::solve`]'s; the quantiles' forward
    /// walk, one step per attempt over every (grade, pity counter) state, is most of `solve`'s time.
    pub fn solve_means(&self) -> ChainOutcome {
        let (eventual_success, mean_attempts, mean_cost) = self.backward();
        ChainOutcome {
            eventual_success,
            mean_attempts,
            mean_cost,
            quantiles: Quantiles::default(),
        }
    }

    /// (P(success), E[attempts], E[cost]) from grade 0 at the starting counter.
    fn backward(&self) -> (f64, Option<f64>, Option<f64>) {
        let top = self.top();
        let p_top = self.p[top];
        let finite = p_top > 0.0;
        // Values at (grade i + 1, counter 0), starting with the top.
        let mut q_next = if finite { 1.0 } else { 0.0 };
        let mut e_next = if finite { 1.0 / p_top } else { 0.0 };
        let mut c_next = if finite { self.cost[top] / p_top } else { 0.0 };
        for i in (0..top).rev() {
            let Stage { rate, pity } = self.stages[i];
            let (p, p_up) = (self.p[i], self.p[i + 1]);
            let c = self.cost[i];
            // After a tier-up: succeed now, or continue from (i + 1, 0).
            let up_q = p_up + (1.0 - p_up) * q_next;
            let up_e = (1.0 - p_up) * e_next;
            let up_c = (1.0 - p_up) * c_next;
            match pity {
                Some(n) => {
                    let (mut q, mut e, mut cc) = (0.0, 0.0, 0.0); // values at counter k + 1
                    let first = if i == 0 { self.progress } else { 0 };
                    for k in (first..n).rev() {
                        let up = if k + 1 == n { 1.0 } else { rate };
                        let stay = 1.0 - up;
                        q = up * up_q + stay * (p + (1.0 - p) * q);
                        e = 1.0 + up * up_e + stay * (1.0 - p) * e;
                        cc = c + up * up_c + stay * (1.0 - p) * cc;
                    }
                    (q_next, e_next, c_next) = (q, e, cc);
                }
                None => {
                    // 1 - (1 - rate)(1 - p), written without cancellation.
                    let denom = rate + p * (1.0 - rate);
                    q_next = (rate * up_q + (1.0 - rate) * p) / denom;
                    e_next = (1.0 + rate * up_e) / denom;
                    c_next = (c + rate * up_c) / denom;
                }
            }
        }
        if finite {
            // Every path reaches the top grade or succeeds before: success is certain (q_next is 1 up to
            // rounding).
            (1.0, Some(e_next), Some(c_next))
        } else {
            (q_next, None, None)
        }
    }

    /// State layout: grade i occupies `len[i]` slots (one per pity counter) starting at `start[i]`.
    fn layout(&self) -> (Vec<usize>, Vec<usize>) {
        let top = self.top();
        let len: Vec<usize> = (0..=top)
            .map(|i| match self.stages.get(i).and_then(|s| s.pity) {
                Some(n) => n as usize,
                None => 1,
            })
            .collect();
        let mut start = vec![0; top + 1];
        for i in 1..=top {
            start[i] = start[i - 1] + len[i - 1];
        }
        (len, start)
    }

    fn quantiles(&self) -> Quantiles {
        const THRESHOLDS: [f64; 3] = [0.5, 0.1, 0.01]; // survival targets for p50, p90, p99
        const RESIDUAL: f64 = 1e-18;
        const MAX_STEPS: u64 = 20_000_000;
        let top = self.top();
        let (len, start) = self.layout();
        let n_states = start[top] + 1;
        let mut v = vec![0.0; n_states];
        v[self.progress as usize] = 1.0;
        let mut next = vec![0.0; n_states];
        let mut found: [Option<u64>; 3] = [None; 3];
        let mut step: u64 = 0;
        let p_top = self.p[top];
        loop {
            let lower: f64 = v[..start[top]].iter().sum();
            if lower <= RESIDUAL || step >= MAX_STEPS {
                break;
            }
            next.iter_mut().for_each(|x| *x = 0.0);
            for i in 0..top {
                let Stage { rate, pity } = self.stages[i];
                let (p, p_up) = (self.p[i], self.p[i + 1]);
                for k in 0..len[i] {
                    let m = v[start[i] + k];
                    if m == 0.0 {
                        continue;
                    }
                    let up = match pity {
                        Some(n) if k + 1 == n as usize => 1.0,
                        _ => rate,
                    };
                    next[start[i + 1]] += m * up * (1.0 - p_up);
                    let stay = m * (1.0 - up) * (1.0 - p);
                    if pity.is_some() {
                        if k + 1 < len[i] {
                            next[start[i] + k + 1] += stay;
                        }
                    } else {
                        next[start[i]] += stay;
                    }
                }
            }
            next[start[top]] += v[start[top]] * (1.0 - p_top);
            core::mem::swap(&mut v, &mut next);
            step += 1;
            let survival: f64 = v.iter().sum();
            for (f, &t) in found.iter_mut().zip(&THRESHOLDS) {
                if f.is_none() && survival <= t {
                    *f = Some(step);
                }
            }
            if found.iter().all(Option::is_some) {
                break;
            }
        }
        let lower: f64 = v[..start[top]].iter().sum();
        if lower <= RESIDUAL {
            // Geometric tail from the top grade.
            let m = v[start[top]];
            for (f, &t) in found.iter_mut().zip(&THRESHOLDS) {
                if f.is_none() {
                    *f = geometric_steps(m, p_top, t).map(|extra| step + extra);
                }
            }
        }
        Quantiles {
            p50: found[0],
            p90: found[1],
            p99: found[2],
        }
    }
}

/// Largest whole cost of one attempt that [`Chain::budget`] accepts (its ring has one bucket per unit).
pub const MAX_UNIT_COST: u64 = 4096;

/// The probabilities [`BudgetOutcome::budget_for`] answers, in order: p50, p90, p99.
pub const BUDGET_TARGETS: [f64; 3] = [0.5, 0.9, 0.99];

/// P(success within a budget) and the least budgets for [`BUDGET_TARGETS`], in whole cost units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetOutcome {
    /// P(the goal is met with total cost <= the budget).
    pub p_reach: f64,
    /// Least budget (units) with P(cost <= budget) >= 0.5, 0.9, 0.99; `None` where it is never reached.
    pub budget_for: [Option<u64>; 3],
    /// Probability mass left out of the exact propagation (see the module docs); rounding aside.
    pub error_bound: f64,
}

impl Chain {
    /// P(success with total cost <= `budget`) and the least budgets for [`BUDGET_TARGETS`], where an attempt
    /// at grade i costs `unit_cost[i]` whole units. Exact up to [`BudgetOutcome::error_bound`].
    ///
    /// # Errors
    /// [`ChainError::LengthMismatch`] unless there is one cost per grade; [`ChainError::UnitCostOutOfRange`]
    /// for a cost outside `1..=MAX_UNIT_COST`.
    pub fn budget(&self, unit_cost: &[u64], budget: u64) -> Result<BudgetOutcome, ChainError> {
        const RESIDUAL: f64 = 1e-18;
        const MAX_STEPS: u64 = 20_000_000;
        const CHECK_EVERY: u64 = 64;
        let top = self.top();
        if unit_cost.len() != top + 1 {
            return Err(ChainError::LengthMismatch {
                stages: top,
                p: self.p.len(),
                cost: unit_cost.len(),
            });
        }
        for (grade, &cost) in unit_cost.iter().enumerate() {
            if !(1..=MAX_UNIT_COST).contains(&cost) {
                return Err(ChainError::UnitCostOutOfRange { grade, cost });
            }
        }
        let (len, start) = self.layout();
        let n = start[top] + 1;
        let r = unit_cost.iter().copied().max().unwrap_or(1) as usize + 1;
        // ring[slot * n + state]: mass that has spent exactly u units (slot = u mod r) and not yet succeeded.
        let mut ring = vec![0.0; r * n];
        let mut succ = vec![0.0; r]; // success mass at cost u (slot = u mod r), not yet added to `cum`
        ring[self.progress as usize] = 1.0;
        let mut cum = 0.0; // P(cost <= u)
        let mut found: [Option<u64>; 3] = [None; 3];
        let mut p_reach = None;
        let mut u: u64 = 0;
        let p_top = self.p[top];
        loop {
            let slot = (u % r as u64) as usize;
            cum += succ[slot];
            succ[slot] = 0.0;
            if u == budget {
                p_reach = Some(cum);
            }
            for (f, &t) in found.iter_mut().zip(&BUDGET_TARGETS) {
                if f.is_none() && cum >= t {
                    *f = Some(u);
                }
            }
            if let Some(p_reach) = p_reach.filter(|_| found.iter().all(Option::is_some)) {
                return Ok(BudgetOutcome {
                    p_reach,
                    budget_for: found,
                    error_bound: 0.0,
                });
            }
            if u.is_multiple_of(CHECK_EVERY) || u >= MAX_STEPS {
                // fold from +0.0: an empty f64 sum is -0.0.
                let lower = (0..r).fold(0.0, |acc, s| {
                    ring[s * n..s * n + start[top]].iter().fold(acc, |a, &m| a + m)
                });
                if lower <= RESIDUAL || u >= MAX_STEPS {
                    let tail = Tail::new(&ring, &succ, n, start[top], r, u, cum, p_top, unit_cost[top]);
                    let mut out = found;
                    for (o, &t) in out.iter_mut().zip(&BUDGET_TARGETS) {
                        *o = o.or_else(|| tail.least(t));
                    }
                    return Ok(BudgetOutcome {
                        p_reach: p_reach.unwrap_or_else(|| tail.cdf(budget)),
                        budget_for: out,
                        error_bound: lower,
                    });
                }
            }
            // One attempt from every state that has spent exactly u units.
            let base = slot * n;
            for i in 0..=top {
                let dst = (slot + unit_cost[i] as usize) % r;
                let dbase = dst * n;
                if i == top {
                    let m = core::mem::take(&mut ring[base + start[top]]);
                    if m != 0.0 {
                        succ[dst] += m * p_top;
                        ring[dbase + start[top]] += m * (1.0 - p_top);
                    }
                    continue;
                }
                let Stage { rate, pity } = self.stages[i];
                let (p, p_up) = (self.p[i], self.p[i + 1]);
                for k in 0..len[i] {
                    let m = core::mem::take(&mut ring[base + start[i] + k]);
                    if m == 0.0 {
                        continue;
                    }
                    let up = match pity {
                        Some(np) if k + 1 == np as usize => 1.0,
                        _ => rate,
                    };
                    succ[dst] += m * up * p_up + m * (1.0 - up) * p;
                    ring[dbase + start[i + 1]] += m * up * (1.0 - p_up);
                    let stay = m * (1.0 - up) * (1.0 - p);
                    if pity.is_some() {
                        if k + 1 < len[i] {
                            ring[dbase + start[i] + k + 1] += stay;
                        }
                    } else {
                        ring[dbase + start[i]] += stay;
                    }
                }
            }
            u += 1;
        }
    }
}

/// The CDF after the mass below the top grade is dropped: what is known up to `u`, the successes already
/// scheduled, and the top-grade masses `m_w` (spent `w` units) that succeed at `w + k·c`, `k >= 1`.
struct Tail {
    u: u64,
    cum: f64,
    /// (cost, success mass already scheduled at that cost), costs `u + 1 ..= u + r - 1`.
    pending: Vec<(u64, f64)>,
    /// (cost spent, top-grade mass), costs `u ..= u + r - 1`.
    top: Vec<(u64, f64)>,
    p: f64,
    c: u64,
}

impl Tail {
    #[allow(clippy::too_many_arguments)]
    fn new(
        ring: &[f64],
        succ: &[f64],
        n: usize,
        top: usize,
        r: usize,
        u: u64,
        cum: f64,
        p: f64,
        c: u64,
    ) -> Tail {
        let slot = |w: u64| (w % r as u64) as usize;
        let pending = (u + 1..u + r as u64).map(|w| (w, succ[slot(w)])).collect();
        let top = (u..u + r as u64).map(|w| (w, ring[slot(w) * n + top])).collect();
        Tail {
            u,
            cum,
            pending,
            top,
            p,
            c,
        }
    }

    /// P(cost <= x) for x >= u.
    fn cdf(&self, x: u64) -> f64 {
        let mut f = self.cum;
        for &(w, m) in &self.pending {
            if w <= x {
                f += m;
            }
        }
        if self.p > 0.0 {
            let log_q = libm::log1p(-self.p);
            for &(w, m) in &self.top {
                if x >= w && m != 0.0 {
                    let k = (x - w) / self.c;
                    if k > 0 {
                        // 1 - (1 - p)^k without cancellation.
                        f += m * -libm::expm1(k as f64 * log_q);
                    }
                }
            }
        }
        f
    }

    /// Least x >= u with P(cost <= x) >= t, or `None` if no budget reaches t.
    fn least(&self, t: f64) -> Option<u64> {
        if self.cdf(self.u) >= t {
            return Some(self.u);
        }
        let (mut lo, mut step) = (self.u, 1u64); // cdf(lo) < t
        let hi = loop {
            let x = lo.saturating_add(step);
            if self.cdf(x) >= t {
                break x;
            }
            if x == u64::MAX {
                return None;
            }
            lo = x;
            step = step.saturating_mul(2);
        };
        let mut hi = hi;
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.cdf(mid) >= t {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    }
}

/// Smallest m >= 0 with `mass * (1 - p)^m <= target`, or `None` if it never gets there (p = 0).
fn geometric_steps(mass: f64, p: f64, target: f64) -> Option<u64> {
    if mass <= target {
        return Some(0);
    }
    if p <= 0.0 {
        return None;
    }
    let survive = |m: u64| mass * libm::pow(1.0 - p, m as f64);
    let guess = libm::log(target / mass) / libm::log1p(-p);
    let mut m = if guess.is_finite() && guess > 0.0 {
        libm::ceil(guess) as u64
    } else {
        1
    };
    while survive(m) > target {
        m += 1;
    }
    while m > 0 && survive(m - 1) <= target {
        m -= 1;
    }
    Some(m)
}

/// Mean attempts to leave a grade: `1 / rate` without pity, `(1 - (1 - rate)^N) / rate` with pity N
/// (at most N attempts; see the module docs).
pub fn tier_up_mean_attempts(stage: Stage) -> f64 {
    match stage.pity {
        None => 1.0 / stage.rate,
        Some(n) => (1.0 - libm::pow(1.0 - stage.rate, f64::from(n))) / stage.rate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(stages: &[(f64, Option<u32>)], p: &[f64]) -> Chain {
        let stages = stages.iter().map(|&(rate, pity)| Stage { rate, pity }).collect();
        Chain::new(stages, p.to_vec(), vec![1.0; p.len()]).unwrap()
    }

    #[test]
    fn geometric_at_the_top() {
        // p = 0.5: P(N <= n) = 1 - 0.5^n; p50 = 1, p90 = 4 (0.9375), p99 = 7 (0.9921875).
        let out = chain(&[], &[0.5]).solve();
        assert_eq!(out.mean_attempts, Some(2.0));
        assert_eq!(out.eventual_success, 1.0);
        assert_eq!(
            out.quantiles,
            Quantiles {
                p50: Some(1),
                p90: Some(4),
                p99: Some(7)
            }
        );
        // p = 0.1: p50 = ceil(ln 0.5 / ln 0.9) = 7, p90 = 22, p99 = 44.
        let q = chain(&[], &[0.1]).solve().quantiles;
        assert_eq!(
            q,
            Quantiles {
                p50: Some(7),
                p90: Some(22),
                p99: Some(44)
            }
        );
    }

    #[test]
    fn pure_tier_up_with_pity_is_bounded() {
        // rate 0.5, pity 2, top always succeeds: N = 1 w.p. 0.5, N = 2 w.p. 0.5.
        let out = chain(&[(0.5, Some(2))], &[0.0, 1.0]).solve();
        assert_eq!(out.mean_attempts, Some(1.5));
        assert_eq!(
            out.quantiles,
            Quantiles {
                p50: Some(1),
                p90: Some(2),
                p99: Some(2)
            }
        );
        let closed = tier_up_mean_attempts(Stage {
            rate: 0.5,
            pity: Some(2),
        });
        assert_eq!(closed, 1.5);
    }

    #[test]
    fn unreachable_top_gives_partial_success() {
        // Grade 0 succeeds w.p. 0.5 per attempt, tier-up is forced on the first attempt: the only chance is
        // never taken (the attempt is made at grade 1, where p = 0).
        let out = chain(&[(1.0, None)], &[0.5, 0.0]).solve();
        assert_eq!(out.eventual_success, 0.0);
        assert_eq!(out.mean_attempts, None);
        assert_eq!(out.quantiles, Quantiles::default());
        // rate 0.5: succeed at grade 0 on the first attempt w.p. 0.5 * 0.5, then again ...
        let out = chain(&[(0.5, None)], &[0.5, 0.0]).solve();
        // q = 0.25 + 0.25 q  =>  q = 1/3
        assert!((out.eventual_success - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(out.quantiles.p50, None);
    }

    #[test]
    fn rejects_bad_chains() {
        let s = |rate, pity| Stage { rate, pity };
        assert!(matches!(
            Chain::new(vec![s(0.0, None)], vec![0.0, 1.0], vec![1.0, 1.0]),
            Err(ChainError::RateOutOfRange { .. })
        ));
        assert!(matches!(
            Chain::new(vec![s(0.5, Some(0))], vec![0.0, 1.0], vec![1.0, 1.0]),
            Err(ChainError::PityZero { .. })
        ));
        assert!(matches!(
            Chain::new(vec![], vec![1.5], vec![1.0]),
            Err(ChainError::ProbabilityOutOfRange { .. })
        ));
        assert!(matches!(
            Chain::new(vec![], vec![0.5], vec![]),
            Err(ChainError::LengthMismatch { .. })
        ));
        assert!(matches!(
            Chain::new(vec![], vec![0.5], vec![f64::NAN]),
            Err(ChainError::CostOutOfRange { .. })
        ));
    }
}
