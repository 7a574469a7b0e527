//! The distribution of the total attempt cost on a grid: deterministic, no sampling.
//!
//! # Method
//! The cost axis is cut into cells of width `h`. An attempt of cost `c = (k + f)·h` (integer `k`,
//! `0 ≤ f < 1`) moves probability mass `k` cells up with weight `1 − f` and `k + 1` cells with weight `f`.
//! Then `p_i[x]`, the probability that a run from state `i` costs `x·h`, satisfies
//! `p_i[x] = (1 − f_i)·G_i[x − k_i] + f_i·G_i[x − k_i − 1]`, `G_i[y] = Σ_j Q_ij p_j[y] + P(i → target)·[y = 0]`,
//! computed cell by cell upwards (states whose attempts cost less than a cell are coupled within a cell:
//! a band LU plus a Woodbury correction for the destroy transitions, factored once per walk). A walk
//! stops when the CDF of the start state reaches the highest level asked for. Work: cells × states.
//!
//! Grid choice: the first walk spans `mean + 4 sd` with [`Precision::cells_for`]`(states)` cells; the
//! width is nudged (at most +25%) so that the most visited states' costs are whole multiples of it, which
//! removes their rounding noise. A level whose quantile has fewer than `min(cells / 4, REFINE_CELLS)` cells below
//! it (a median far below a long destroy tail) is walked again on a grid scaled to it.
//!
//! Climb split: when the stars below the restore star are climbed once and never revisited (KMS and GMS
//! never lose a star and restore at 12★ or higher), the run's cost is `climb + rest`, independent. The
//! climb is walked on its own (a few cells), the rest is walked from its entry star, and the start's CDF
//! is their convolution `Σ_j climb[j]·CDF_rest(x − j)`, evaluated only where a level can be reached (it
//! never exceeds `CDF_rest`). Same grid, same numbers up to the climb's cut tail (`1e-11`), fewer states.
//!
//! Reading: a cell's mass is spread evenly over the cell and the quantile is interpolated, except when
//! the level falls inside an isolated cluster of at most [`ATOM_CELLS`] non-empty cells: that cluster is
//! one atom of the distribution (a few attempts, no other path nearby) and is read at its centre of mass.
//! A level counts as reached within [`LEVEL_TOLERANCE`], so that a CDF plateau exactly at a level (one
//! star at 50%: `P(≤ 2 attempts) = 0.75`) resolves to its lower atom, as `q_p = inf{x : F(x) ≥ p}`
//! requires.
//!
//! # Error bound
//! The split keeps every attempt's cost exact *in expectation*: the grid distribution is exactly the
//! distribution of `C + E`, where `C` is the true total and, given the attempts made, `E` is a sum of
//! independent zero-mean terms, one per attempt, each within one cell. Hence:
//! * the grid has exactly the true mean, and the variance it adds, `Var E = h² Σ_i v_i f_i (1 − f_i)`
//!   (`v_i`: expected attempts in state `i`), is known exactly and reported (`noise_sd`);
//! * an isolated atom keeps its exact position (its cells' centre of mass), which the reading uses;
//! * elsewhere `E` moves a quantile only to second order where the distribution is smooth (many attempts:
//!   a fraction of a cell), and by at most about ±3 cells inside a cluster of merged atoms.
//!
//! Every reported quantile has at least `min(cells / 4, 4096)` cells below it: 4 096 for chains of up to
//! 8 states (few attempts, the lumpiest distributions), 1 024 from 32 states on. The bound we document is
//! [`QUANTILE_REL_ERROR_BOUND`] = 0.1% relative. It is not a theorem: it is the error model above, checked
//! by the test suite against an exact integer-lattice reference (every attempt costing the same, the
//! lumpiest case), seeded Monte Carlo with 3σ bands, and a calibration sweep of 5 424 requests against a
//! grid budget 32 times larger at every level of the cost CDF (`calibration_against_a_finer_grid` in
//! `tests/starforce_distribution.rs`; largest error found 8.9e-4, at the five quantile levels 5.9e-4).
//! Halving the refinement walks' cells (every level still above the floor) broke the bound at a CDF level:
//! 1.3e-3 at p = 0.0625, PreSavior 160 22→23★ with star catch and safeguard, where merged atoms make the
//! error about 3 cells; the refinement's `cells` below the lowest level are what keeps it under 1e-3.
use super::chain::Chain;
use super::linalg::Lu;
use super::moments::total;

/// How fine the cost grid is: its work budget in grid cells × chain states. Small chains (few states,
/// few attempts, lumpy distributions) get fine grids, large chains (smooth distributions) coarser ones:
/// `cells = clamp(budget / states, budget / 32, budget / 2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precision {
    pub cell_state_budget: usize,
}

impl Default for Precision {
    /// The documented setting: `2¹⁷`, i.e. 4 096 to 65 536 cells.
    fn default() -> Precision {
        Precision {
            cell_state_budget: 1 << 17,
        }
    }
}

impl Precision {
    /// Cells of the first walk for a chain of `states` states.
    pub fn cells_for(self, states: usize) -> usize {
        let b = self.cell_state_budget.max(64);
        (b / states.max(1)).clamp(b / 32, b / 2)
    }
}

/// The walk may run this many times past the target cell count before giving up (Cantelli: the 99.9th
/// percentile, the cost CDF's last level, is below `mean + 31.6 sd`, inside `8 · (mean + 4 sd)`).
const MAX_GROWTH: usize = 8;
/// Walks of one distribution at most (the first and the refinements); more is [`GridError::NoConvergence`].
const MAX_PASSES: u32 = 48;
/// A quantile with fewer cells than `min(cells / 4, REFINE_CELLS)` below it is refined.
pub const REFINE_CELLS: usize = 4096;
/// Documented relative error bound of the reported quantiles (see the module docs).
pub const QUANTILE_REL_ERROR_BOUND: f64 = 1e-3;
/// A level `p` counts as reached once the CDF is within this of it. Star force distributions have
/// plateaus at exactly representable levels (one star at 50% success: `P(≤ 2 attempts) = 0.75`); the
/// quantile `inf{x : F(x) ≥ p}` is then the lower atom, which rounding in the last bit must not move.
pub const LEVEL_TOLERANCE: f64 = 1e-9;

/// The grid a distribution was computed on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Cell width `h` of the first walk (mesos).
    pub step: f64,
    /// Cells walked, all walks together.
    pub cells: usize,
    /// `√Var E` of the first walk: the standard deviation its rounding adds to the cost.
    pub noise_sd: f64,
    /// Walks: 1, or more when low quantiles were refined on finer grids.
    pub passes: u32,
}

/// The per-cell system `(I − D·Q) y = b`, `D = diag(1 − f_i)` on the states whose attempts cost less
/// than a cell: a band LU (no pivoting needed: the matrix is a nonsingular M-matrix) of the non-destroy
/// part, plus a Woodbury correction for the destroy columns (few restore states).
struct CellSolver {
    n: usize,
    lower: usize,
    upper: usize,
    /// Row `r`: multipliers for columns `r − lower .. r` (`n × lower`).
    l: Vec<f64>,
    /// Row `r`: `U[r][r + 1 ..= r + upper]` (`n × upper`).
    u: Vec<f64>,
    inv_diag: Vec<f64>,
    /// `uu[r] = u[r]·u[r+1]` (with `upper == 1`), for the paired back substitution.
    uu: Vec<f64>,
    /// Rows that are not identity rows (states whose attempts cost less than a cell), ascending.
    coupled: Vec<usize>,
    restore: Vec<usize>,
    /// `B⁻¹ U`, `n × restore.len()`, row-major.
    w: Vec<f64>,
    capacitance: Option<Lu>,
}

impl CellSolver {
    fn new(chain: &Chain, weight: &[f64]) -> Option<CellSolver> {
        let n = chain.len();
        let mut b = vec![0.0; n * n];
        let (mut lower, mut upper) = (0, 0);
        let mut restore = Vec::new();
        for i in 0..n {
            b[i * n + i] += 1.0;
            if weight[i] == 0.0 {
                continue;
            }
            for e in chain.edges(i) {
                match e.to {
                    Some(j) if e.destroy => restore.push(j),
                    Some(j) => {
                        b[i * n + j] -= weight[i] * e.prob;
                        lower = lower.max(i.saturating_sub(j));
                        upper = upper.max(j.saturating_sub(i));
                    }
                    None => {}
                }
            }
        }
        restore.sort_unstable();
        restore.dedup();
        for k in 0..n {
            let pivot = b[k * n + k];
            if pivot <= 0.0 {
                return None;
            }
            for r in k + 1..n.min(k + lower + 1) {
                let f = b[r * n + k] / pivot;
                b[r * n + k] = f;
                if f != 0.0 {
                    for c in k + 1..n.min(k + upper + 1) {
                        b[r * n + c] -= f * b[k * n + c];
                    }
                }
            }
        }
        let mut l = vec![0.0; n * lower];
        let mut u = vec![0.0; n * upper];
        for r in 0..n {
            let inv = 1.0 / b[r * n + r];
            for d in 1..=lower {
                if r >= d {
                    l[r * lower + lower - d] = b[r * n + r - d];
                }
            }
            for d in 1..=upper {
                if r + d < n {
                    u[r * upper + d - 1] = b[r * n + r + d] * inv;
                }
            }
        }
        let uu = if upper == 1 {
            (0..n)
                .map(|r| if r + 1 < n { u[r] * u[r + 1] } else { 0.0 })
                .collect()
        } else {
            Vec::new()
        };
        let mut solver = CellSolver {
            n,
            lower,
            upper,
            l,
            u,
            uu,
            inv_diag: (0..n).map(|r| 1.0 / b[r * n + r]).collect(),
            coupled: (0..n).filter(|&i| weight[i] != 0.0).collect(),
            w: vec![0.0; n * restore.len()],
            capacitance: None,
            restore,
        };
        let k = solver.restore.len();
        if k > 0 {
            for (col, &r) in solver.restore.iter().enumerate() {
                let mut u: Vec<f64> = (0..n)
                    .map(|i| {
                        let into_r = chain.edges(i).iter().filter(|e| e.destroy && e.to == Some(r));
                        weight[i] * total(into_r.map(|e| e.prob))
                    })
                    .collect();
                solver.band_solve(&mut u);
                for (i, ui) in u.iter().enumerate() {
                    solver.w[i * k + col] = *ui;
                }
            }
            let mut cap = vec![0.0; k * k];
            for (row, &r) in solver.restore.iter().enumerate() {
                for col in 0..k {
                    cap[row * k + col] = f64::from(u8::from(row == col)) - solver.w[r * k + col];
                }
            }
            solver.capacitance = Some(Lu::new(k, cap)?);
        }
        Some(solver)
    }

    /// Solve `B y = b` in place. Identity rows (states with a shift of at least one cell) are skipped:
    /// the forward pass is needed only with decreases (`lower > 0`), and the backward pass, a serial
    /// dependency chain, runs over the coupled rows only, with `U` pre-divided by its diagonal.
    #[inline]
    fn band_solve(&self, y: &mut [f64]) {
        let n = self.n;
        let (lo, up) = (self.lower, self.upper);
        if lo > 0 {
            for r in 1..n {
                let first = r.saturating_sub(lo);
                let row = &self.l[r * lo + lo - (r - first)..r * lo + lo];
                let mut s = y[r];
                for (m, yc) in row.iter().zip(&y[first..r]) {
                    s -= m * yc;
                }
                y[r] = s;
            }
        }
        if up == 1 {
            // y_r = a_r − c_r·y_{r+1}, a serial chain; in pairs of adjacent coupled rows the lower one
            // is y_{r−1} = (a_{r−1} − c_{r−1}·a_r) + (c_{r−1}·c_r)·y_{r+1}, computed alongside y_r, which
            // halves the chain.
            let c = &self.coupled;
            let mut k = c.len();
            while k > 0 {
                let r = c[k - 1];
                let next = if r + 1 < n { y[r + 1] } else { 0.0 };
                let a_r = y[r] * self.inv_diag[r];
                if k >= 2 && c[k - 2] + 1 == r {
                    let q = r - 1;
                    let a_q = y[q] * self.inv_diag[q];
                    y[q] = (a_q - self.u[q] * a_r) + self.uu[q] * next;
                    y[r] = a_r - self.u[r] * next;
                    k -= 2;
                } else {
                    y[r] = a_r - self.u[r] * next;
                    k -= 1;
                }
            }
            return;
        }
        for &r in self.coupled.iter().rev() {
            let last = n.min(r + up + 1);
            let row = &self.u[r * up..r * up + (last - r - 1)];
            let mut s = y[r] * self.inv_diag[r];
            for (a, yc) in row.iter().zip(&y[r + 1..last]) {
                s -= a * yc;
            }
            y[r] = s;
        }
    }

    #[inline]
    fn solve(&self, y: &mut [f64], scratch: &mut [f64]) {
        self.band_solve(y);
        if let Some(cap) = &self.capacitance {
            let k = self.restore.len();
            for (t, &r) in scratch.iter_mut().zip(&self.restore) {
                *t = y[r];
            }
            cap.solve(scratch);
            for (yi, w) in y.iter_mut().zip(self.w.chunks_exact(k)) {
                *yi += total(w.iter().zip(scratch.iter()).map(|(a, b)| a * b));
            }
        }
    }
}

/// Quantiles of the total attempt cost at the ascending `levels` (each in (0, 1)), with the grid used.
///
/// A first walk spans `mean + 4 sd`. A level whose quantile lies fewer than `min(cells / 4, 4096)` cells up
/// that grid (a median far below a long destroy tail) is walked again on a grid scaled to it (levels
/// within a factor 4 of each other share a walk), so every reported quantile has at least that many
/// cells below it.
pub(crate) fn cost_quantiles(
    chain: &Chain,
    visits: &[f64],
    (mean, sd): (f64, f64),
    levels: &[f64],
    precision: Precision,
) -> Result<(Vec<f64>, Grid), GridError> {
    let planned = precision.cells_for(chain.len());
    let costs: Vec<f64> = chain.attempts.iter().map(|a| a.cost).collect();
    let split = chain.split();
    let h = cell_width(&costs, visits, (mean + 4.0 * sd) / planned as f64);
    let first = walk_split(chain, split.as_ref(), h, levels, planned * MAX_GROWTH)?;
    let mut grid = Grid {
        step: h,
        cells: first.cells,
        noise_sd: libm::sqrt(rounding_variance(&costs, visits, h)),
        passes: 1,
    };
    let mut quantiles = first.quantiles;
    let floor_cells = (planned / 4).min(REFINE_CELLS) as f64;
    // The cell width each reading came from; a reading with too few cells below it is walked again.
    let mut width = vec![h; levels.len()];
    let mut coarse: Vec<bool> = quantiles.iter().map(|&q| q < floor_cells * h).collect();
    while let Some(k) = coarse.iter().position(|&c| c) {
        if grid.passes >= MAX_PASSES {
            return Err(GridError::NoConvergence);
        }
        // A reading in the first half cell (a low level under a long tail) says only `q < width / 2`:
        // that is the scale of the next grid, and a reading still too coarse on it is refined again
        // (each round narrows the cells at least threefold).
        let scale = quantiles[k].max(width[k] / 2.0);
        let near = |j: &usize| coarse[*j] && quantiles[*j] <= 4.0 * scale;
        let last = (k..levels.len()).filter(near).max().unwrap_or(k);
        let fine = cell_width(&costs, visits, scale / planned as f64);
        let reach = ((quantiles[last] + width[k]) / fine) as usize + planned;
        let pass = walk_split(chain, split.as_ref(), fine, &levels[k..=last], reach * MAX_GROWTH)?;
        grid.cells += pass.cells;
        grid.passes += 1;
        quantiles[k..=last].copy_from_slice(&pass.quantiles);
        for j in k..=last {
            width[j] = fine;
            coarse[j] = quantiles[j] < floor_cells * fine;
        }
    }
    Ok((quantiles, grid))
}

/// Climb mass left out of the convolution (the climb's PMF is cut once this little remains).
const CLIMB_TAIL: f64 = 1e-11;

/// A walk of `chain`, or, when it splits into an independent climb and the rest and the climb spans
/// fewer cells than it has states, a walk of the rest convolved with the climb's PMF (same grid, so the
/// same numbers up to the climb's cut tail, for less work).
fn walk_split(
    chain: &Chain,
    split: Option<&(Chain, Chain)>,
    h: f64,
    levels: &[f64],
    max_cells: usize,
) -> Result<Walk, GridError> {
    if let Some((climb, rest)) = split {
        // The climb's walk costs its states × its cells, and each level then costs about its cells²
        // multiply-adds; walking the climb's states along would cost them × all cells.
        let r = walk(climb, h, Stop::Mass(1.0 - CLIMB_TAIL), max_cells / 16, &[1.0]);
        if let Ok(c) = r {
            return walk(rest, h, Stop::Levels(levels), max_cells, &c.pmf);
        }
    }
    walk(chain, h, Stop::Levels(levels), max_cells, &[1.0])
}

/// One walk's result.
struct Walk {
    quantiles: Vec<f64>,
    cells: usize,
    /// PMF of the walked chain's own start state (before any prefix convolution), cell by cell.
    pmf: Vec<f64>,
    /// Whether the walk ran [`FastCell`] (for the test that compares it with the general step).
    #[cfg(test)]
    fast: bool,
}

/// One state as the walk sees it: its cost split `shift + frac` (in cells), its ring buffer, and its
/// outcomes (unused slots have probability 0).
#[derive(Debug, Clone, Copy)]
struct Lane {
    shift: usize,
    frac: f64,
    keep: f64,
    absorb: f64,
    ring_at: usize,
    mask: usize,
    to: [usize; 4],
    p: [f64; 4],
}

/// When a walk stops.
enum Stop<'a> {
    /// Once the CDF reaches every level (ascending) and the last one's cluster is closed.
    Levels(&'a [f64]),
    /// Once the CDF reaches this mass.
    Mass(f64),
    /// After exactly this many cells.
    Cells(usize),
}

/// Walk the grid of cell width `h` upwards (see the module docs). The start state's PMF is convolved with
/// `prefix` (the PMF of an independent cost paid first; `[1.0]` for none).
fn walk(chain: &Chain, h: f64, stop: Stop, max_cells: usize, prefix: &[f64]) -> Result<Walk, GridError> {
    walk_with(chain, h, stop, max_cells, prefix, Step::FastWhereItFits)
}

/// Which per-cell step [`walk_with`] runs. Both perform the same floating-point operations on the same
/// operands in the same order ([`FastCell`]); only the unit tests ask for the general one, to prove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// [`FastCell`] when the chain has its shape, else the general step.
    FastWhereItFits,
    /// Always the general step.
    #[cfg(test)]
    General,
}

fn walk_with(
    chain: &Chain,
    h: f64,
    stop: Stop,
    max_cells: usize,
    prefix: &[f64],
    step: Step,
) -> Result<Walk, GridError> {
    let n = chain.len();
    let costs: Vec<f64> = chain.attempts.iter().map(|a| a.cost).collect();
    let levels = match stop {
        Stop::Levels(l) => l,
        Stop::Mass(_) | Stop::Cells(_) => &[],
    };
    // Everything the walk needs about a state, packed together; at most 4 outcomes per state.
    let mut lanes = Vec::with_capacity(n);
    let mut ring_len = 0;
    for (i, cost) in costs.iter().enumerate() {
        // A cost beyond the grid lands past every cell the walk reads (it stops at `max_cells`), so its
        // shift is capped there: the ring, whose size follows the shift, stays bounded (a 10^307 spare
        // cost on a 10^-5 cell asked for 3.6 PB), and no value read changes.
        let q = (cost / h).min((max_cells + 2) as f64);
        let k = libm::floor(q);
        let mut lane = Lane {
            shift: k as usize,
            frac: q - k,
            keep: 1.0 - (q - k),
            absorb: 0.0,
            ring_at: ring_len,
            mask: 0,
            to: [0; 4],
            p: [0.0; 4],
        };
        let mut slot = 0;
        for e in chain.edges(i) {
            match e.to {
                Some(j) if slot < 4 => {
                    lane.to[slot] = j;
                    lane.p[slot] = e.prob;
                    slot += 1;
                }
                Some(_) => return Err(GridError::Singular),
                None => lane.absorb += e.prob,
            }
        }
        // Ring buffer for a state with shift k ≥ 1: the slot of cell x + k receives, at cell x,
        // S_i[x] = (1 − f_i)·G_i[x] + f_i·G_i[x − 1], which is exactly p_i's known part at cell x + k.
        // At least k + 1 slots (a power of two) hold every pending value; the initial zeros are the cells
        // below k.
        if lane.shift > 0 {
            let size = (lane.shift + 1).next_power_of_two();
            lane.mask = size - 1;
            ring_len += size;
        }
        lanes.push(lane);
    }
    // Same-cell weight of each state's own successors (only for attempts cheaper than a cell).
    let weight: Vec<f64> = lanes
        .iter()
        .map(|l| if l.shift == 0 { l.keep } else { 0.0 })
        .collect();
    let solver = CellSolver::new(chain, &weight).ok_or(GridError::Singular)?;
    let fast = match step {
        Step::FastWhereItFits => FastCell::new(&lanes, &solver),
        #[cfg(test)]
        Step::General => None,
    };
    let mut ring = vec![0.0; ring_len];
    // The fast step works on fixed arrays of FAST_LANES (indices masked, so no bounds checks); the
    // general step on the first n entries.
    let lanes_len = if fast.is_some() { FAST_LANES } else { n };
    let mut prev_g = vec![0.0; lanes_len];
    let mut y = vec![0.0; lanes_len];
    let mut scratch = vec![0.0; solver.restore.len()];
    // The start state's own PMF and CDF, cell by cell. The reported distribution is their convolution
    // with `prefix`, evaluated only where needed: it cannot reach a level before the own CDF does.
    let mut own: Vec<f64> = Vec::with_capacity(max_cells.min(1 << 16));
    let mut own_cdf: Vec<f64> = Vec::with_capacity(max_cells.min(1 << 16));
    let pmf_at =
        |own: &[f64], c: usize| total(prefix.iter().take(c + 1).enumerate().map(|(j, a)| a * own[c - j]));
    let cdf_at = |own_cdf: &[f64], c: usize| {
        total(
            prefix
                .iter()
                .take(c + 1)
                .enumerate()
                .map(|(j, a)| a * own_cdf[c - j]),
        )
    };
    let below = PrefixBound::new(prefix);
    // (cell where the CDF reaches the level, interpolated reading) per level.
    let mut crossings: Vec<(usize, f64)> = Vec::with_capacity(levels.len());
    let mut x = 0;
    // Walk until every level is reached and the cluster holding the last one is closed on the right.
    loop {
        let done = match stop {
            Stop::Mass(m) => own_cdf.last().is_some_and(|&c| c >= m),
            Stop::Cells(c) => x >= c,
            Stop::Levels(_) => {
                crossings.len() == levels.len()
                    && (pmf_at(&own, x - 1) == 0.0 || x - crossings[crossings.len() - 1].0 > ATOM_CELLS)
            }
        };
        if done {
            break;
        }
        if x >= max_cells {
            return Err(GridError::NoConvergence);
        }
        let first = if x == 0 { 1.0 } else { 0.0 };
        if let Some(fast) = &fast {
            fast.cell(x == 0, &solver, &mut y, &mut prev_g);
        } else {
            for (yi, (l, g)) in y.iter_mut().zip(lanes.iter().zip(&prev_g)) {
                *yi = if l.shift == 0 {
                    first * l.keep * l.absorb + l.frac * g
                } else {
                    ring[l.ring_at + (x & l.mask)]
                };
            }
            solver.solve(&mut y, &mut scratch);
            for (l, prev) in lanes.iter().zip(prev_g.iter_mut()) {
                let g = first * l.absorb
                    + (l.p[0] * y[l.to[0]] + l.p[1] * y[l.to[1]])
                    + (l.p[2] * y[l.to[2]] + l.p[3] * y[l.to[3]]);
                if l.shift > 0 {
                    ring[l.ring_at + ((x + l.shift) & l.mask)] = l.keep * g + l.frac * *prev;
                }
                *prev = g;
            }
        }
        own.push(y[chain.start]);
        own_cdf.push(own_cdf.last().copied().unwrap_or(0.0) + y[chain.start]);
        while let Some(&p) = levels.get(crossings.len()) {
            if own_cdf[x] < p - LEVEL_TOLERANCE {
                break;
            }
            // The convolution costs one term per prefix cell; a cheap upper bound skips it where it
            // would be below the level anyway (the same break as below, so the same walk).
            if below
                .as_ref()
                .is_some_and(|b| b.certainly_below(&own_cdf, x, p - LEVEL_TOLERANCE))
            {
                break;
            }
            let cdf = cdf_at(&own_cdf, x);
            if cdf < p - LEVEL_TOLERANCE {
                break;
            }
            // Mass of cell x is read as spread evenly over [(x − ½)h, (x + ½)h].
            let before = if x > 0 { cdf_at(&own_cdf, x - 1) } else { 0.0 };
            let within = if cdf > before {
                ((p - before) / (cdf - before)).clamp(0.0, 1.0)
            } else {
                1.0
            };
            crossings.push((x, ((x as f64 - 0.5 + within) * h).max(0.0)));
        }
        x += 1;
    }
    let quantiles = crossings
        .iter()
        .map(|&(cell, read)| atom(|c| pmf_at(&own, c), x, cell).map_or(read, |c| c * h))
        .collect();
    Ok(Walk {
        quantiles,
        cells: x,
        #[cfg(test)]
        fast: fast.is_some(),
        pmf: own,
    })
}

/// The per-cell step of [`walk`] for its common shape (issue 16): every attempt cheaper than a cell (no
/// ring buffers), no decreases (`lower == 0`), successors at most one state up (`upper == 1`, every row
/// coupled) and at most one restore state. It performs exactly the floating-point operations of the
/// general step, in the same order and on the same operands (the `first` terms are precomputed as the
/// same products, `(first · keep) · absorb` and `first · absorb`), so every result is bit-identical; it
/// only drops the general step's per-lane branches, ring indexing and loops over the band and the
/// restore columns.
struct FastCell {
    /// Per lane: `(1 · keep) · absorb` and `(0 · keep) · absorb`, the first cell's and later cells' term.
    keep_absorb: [Vec<f64>; 2],
    /// Per lane: `1 · absorb` and `0 · absorb`.
    absorb: [Vec<f64>; 2],
    frac: Vec<f64>,
    to: Vec<[usize; 4]>,
    p: Vec<[f64; 4]>,
    /// The `1 × 1` capacitance's pivot, with a restore state.
    restore_pivot: Option<f64>,
}

impl FastCell {
    fn new(lanes: &[Lane], solver: &CellSolver) -> Option<FastCell> {
        let shape = lanes.iter().all(|l| l.shift == 0)
            && solver.lower == 0
            && solver.upper == 1
            && solver.coupled.len() == solver.n
            && solver.restore.len() <= 1
            && solver.n <= FAST_LANES;
        shape.then(|| FastCell {
            keep_absorb: [
                lanes.iter().map(|l| 1.0 * l.keep * l.absorb).collect(),
                lanes.iter().map(|l| 0.0 * l.keep * l.absorb).collect(),
            ],
            absorb: [
                lanes.iter().map(|l| 1.0 * l.absorb).collect(),
                lanes.iter().map(|l| 0.0 * l.absorb).collect(),
            ],
            frac: lanes.iter().map(|l| l.frac).collect(),
            to: lanes.iter().map(|l| l.to).collect(),
            p: lanes.iter().map(|l| l.p).collect(),
            restore_pivot: solver.capacitance.as_ref().and_then(Lu::scalar_pivot),
        })
    }

    /// One cell: `y` from the previous cell's `g` (`prev`), the band solve and the restore correction
    /// (as [`CellSolver::solve`]), then this cell's `g` into `prev`.
    #[inline]
    fn cell(&self, first: bool, s: &CellSolver, y: &mut [f64], prev: &mut [f64]) {
        const M: usize = FAST_LANES - 1;
        let which = usize::from(!first);
        let n = s.n;
        let y: &mut [f64; FAST_LANES] = (&mut y[..FAST_LANES]).try_into().expect("FAST_LANES entries");
        let prev = &mut prev[..n];
        let (ka, ab) = (&self.keep_absorb[which][..n], &self.absorb[which][..n]);
        let frac = &self.frac[..n];
        for i in 0..n {
            y[i & M] = ka[i] + frac[i] * prev[i];
        }
        // CellSolver::band_solve with upper == 1 and every row coupled: the same pairs, top down;
        // `next` (the row above's result) stays in a register instead of a store and reload.
        let (inv, u, uu) = (&s.inv_diag[..n], &s.u[..n], &s.uu[..n]);
        let mut k = n;
        let mut next = 0.0;
        while k > 0 {
            let r = k - 1;
            let a_r = y[r & M] * inv[r];
            if k >= 2 {
                let q = r - 1;
                let a_q = y[q & M] * inv[q];
                y[r & M] = a_r - u[r] * next;
                next = (a_q - u[q] * a_r) + uu[q] * next;
                y[q & M] = next;
                k -= 2;
            } else {
                next = a_r - u[r] * next;
                y[r & M] = next;
                k -= 1;
            }
        }
        if let (Some(pivot), Some(&r)) = (self.restore_pivot, s.restore.first()) {
            // `Lu::solve` of the 1 × 1 capacitance, inline: the same single division.
            let t = y[r & M] / pivot;
            for (yi, w) in y.iter_mut().zip(&s.w[..n]) {
                *yi += 0.0 + w * t;
            }
        }
        for (i, g) in prev.iter_mut().enumerate() {
            let (to, p) = (&self.to[i], &self.p[i]);
            *g = ab[i]
                + (p[0] * y[to[0] & M] + p[1] * y[to[1] & M])
                + (p[2] * y[to[2] & M] + p[3] * y[to[3] & M]);
        }
    }
}

/// Upper bounds of the prefix convolution `cdf_at(c) = Σ_j prefix[j]·own_cdf[c − j]` in a few terms
/// instead of one per prefix cell (issue 16: with a climb prefix of thousands of cells, e.g. 0→18★ at
/// level 200 with star catch, evaluating the convolution at every cell between the own CDF's and the
/// convolved CDF's crossing of a level was 99% of the work). The prefix is cut into segments
/// `[k_i, k_{i+1})` of mass `m_i`; `own_cdf` never decreases, so every term of segment `i` is at most
/// `prefix[j]·own_cdf[c − k_i]`, and `Σ_i m_i·own_cdf[c − k_i]` bounds the sum (segments starting above
/// `c` have no terms). A coarse tier is tried first and a fine one where it is not enough. The bounds only
/// decide to skip an evaluation whose result would be below the level, with margins far above the
/// rounding of either sum, so every walk takes the same steps and reports the same bits as without them.
struct PrefixBound {
    /// Per tier, coarse first: `(k_i, m_i)` per segment.
    tiers: Vec<Vec<(usize, f64)>>,
}

impl PrefixBound {
    /// Segments per tier, coarse first; a tier is used only on a prefix longer than twice its count.
    const TIERS: [usize; 3] = [16, 128, 1024];
    /// Relative margin: far above the rounding of a sum of up to `max_cells` non-negative terms.
    const REL_MARGIN: f64 = 1e-9;
    /// Absolute margin, for rounding-level dips of `own_cdf`.
    const ABS_MARGIN: f64 = 1e-12;

    /// `None` when the prefix is short enough that the convolution itself is as cheap.
    fn new(prefix: &[f64]) -> Option<PrefixBound> {
        let len = prefix.len();
        let tiers: Vec<Vec<(usize, f64)>> = Self::TIERS
            .iter()
            .filter(|&&n| len > 2 * n)
            .map(|&n| {
                (0..n)
                    .map(|i| {
                        let (from, to) = (i * len / n, (i + 1) * len / n);
                        (from, total(prefix[from..to].iter().copied()))
                    })
                    .collect()
            })
            .collect();
        (!tiers.is_empty()).then_some(PrefixBound { tiers })
    }

    /// Whether `cdf_at(own_cdf, c)` is certainly below `level`.
    fn certainly_below(&self, own_cdf: &[f64], c: usize, level: f64) -> bool {
        self.tiers.iter().any(|segments| {
            let bound = total(
                segments
                    .iter()
                    .take_while(|(k, _)| *k <= c)
                    .map(|(k, m)| m * own_cdf[c - k]),
            );
            bound * (1.0 + Self::REL_MARGIN) + Self::ABS_MARGIN < level
        })
    }
}

/// Most states the fast step handles (a power of two; the 30-star chains without decreases have at most 30).
const FAST_LANES: usize = 32;

/// The PMF of the start state's cost on the integer lattice, cells `0..cells`, for a chain whose
/// attempt costs are whole numbers of cells (so the walk adds no rounding: `frac = 0` everywhere).
/// Mass lost through missing transitions (a substochastic chain) never reaches the target.
pub(crate) fn lattice_pmf(chain: &Chain, cells: usize) -> Result<Vec<f64>, GridError> {
    walk(chain, 1.0, Stop::Cells(cells), cells + 1, &[1.0]).map(|w| w.pmf)
}

/// Widest cluster of cells read as one atom. An atom made of a few attempts is spread over at most one
/// cell more than it has attempts; a wider cluster holds several atoms, and its centre of mass is no
/// better than the interpolation.
const ATOM_CELLS: usize = 6;

/// If `cell` lies in an isolated cluster of non-zero cells (at most [`ATOM_CELLS`] wide, empty cells on
/// both sides), the cluster's centre of mass in cells. The rounding keeps every atom's mean exact, so for
/// a single atom this is its exact position; a level that falls inside it belongs to that atom.
fn atom(pmf: impl Fn(usize) -> f64, cells: usize, cell: usize) -> Option<f64> {
    let mut lo = cell;
    while lo > 0 && pmf(lo - 1) > 0.0 {
        lo -= 1;
        if cell - lo >= ATOM_CELLS {
            return None;
        }
    }
    let mut hi = cell;
    while hi + 1 < cells && pmf(hi + 1) > 0.0 {
        hi += 1;
        if hi - lo >= ATOM_CELLS {
            return None;
        }
    }
    if hi + 1 >= cells {
        return None;
    }
    let (mut m, mut w) = (0.0, 0.0);
    for c in lo..=hi {
        let p = pmf(c);
        m += p;
        w += c as f64 * p;
    }
    (m > 0.0).then(|| w / m)
}

/// `Var E = h² Σ_i v_i f_i (1 − f_i)`: the variance the grid's rounding adds to the total cost.
fn rounding_variance(costs: &[f64], visits: &[f64], h: f64) -> f64 {
    let terms = costs.iter().zip(visits).map(|(c, v)| {
        let q = c / h;
        let f = q - libm::floor(q);
        v * f * (1.0 - f)
    });
    h * h * total(terms)
}

/// The cell width: at least `h0`, at most 25% wider, chosen among `h0` and `cost / k` for the most
/// visited states to minimise the rounding variance. A state whose cost is a multiple of the cell adds
/// no noise, so a lattice-like distribution (one cost dominating the attempts) keeps its atoms exact.
fn cell_width(costs: &[f64], visits: &[f64], h0: f64) -> f64 {
    let mut by_visits: Vec<usize> = (0..costs.len()).collect();
    by_visits.sort_by(|&a, &b| visits[b].total_cmp(&visits[a]).then(a.cmp(&b)));
    let mut best = (rounding_variance(costs, visits, h0), h0);
    for &i in by_visits.iter().take(CELL_WIDTH_CANDIDATES) {
        // The widest cell c/k that is still at least h0, and the next few narrower... wider ones.
        let k_max = libm::floor(costs[i] / h0);
        for k in 0..4 {
            let k = k_max - f64::from(k);
            if k < 1.0 {
                break;
            }
            let h = costs[i] / k;
            if h > 1.25 * h0 {
                break;
            }
            let v = rounding_variance(costs, visits, h);
            if v < best.0 {
                best = (v, h);
            }
        }
    }
    best.1
}

/// How many of the most visited states propose a cell width.
const CELL_WIDTH_CANDIDATES: usize = 4;

/// Why a distribution could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GridError {
    /// The per-cell system was singular (a cost of 0 on a loop; impossible with the built-in tables).
    Singular,
    /// The CDF did not reach the highest level within `MAX_GROWTH` times the planned cells.
    NoConvergence,
}

#[cfg(test)]
mod tests {
    use super::super::{rules::RuleSetId, validate, Chain, Events, Request};
    use super::{walk_with, Step, Stop};

    /// The Shining Star Force event's toggles.
    fn shining() -> Events {
        Events {
            thirty_off: true,
            boom_reduction: true,
            ..Events::default()
        }
    }

    use super::{total, PrefixBound};
    use proptest::prelude::*;

    proptest! {
        /// The convolution bound (issue 16) never skips an evaluation that would reach the level: where it
        /// says "certainly below", the convolution, summed as the walk sums it, is below the level.
        #[test]
        fn the_prefix_bound_never_skips_a_crossing(
            weights in prop::collection::vec(0.0f64..1.0, 65..3000),
            steps in prop::collection::vec(0.0f64..1.0, 1..4000),
            at in 0.0f64..1.0,
            level in 0.0f64..1.0,
        ) {
            let sum: f64 = weights.iter().sum();
            let prefix: Vec<f64> = weights.iter().map(|w| w / sum).collect();
            let step_sum: f64 = steps.iter().sum();
            let mut acc = 0.0;
            let own_cdf: Vec<f64> = steps.iter().map(|s| { acc += s / step_sum; acc }).collect();
            let c = ((at * own_cdf.len() as f64) as usize).min(own_cdf.len() - 1);
            let bound = PrefixBound::new(&prefix).expect("a prefix longer than 64 cells has a bound");
            let cdf = total(prefix.iter().take(c + 1).enumerate().map(|(j, a)| a * own_cdf[c - j]));
            if bound.certainly_below(&own_cdf, c, level) {
                prop_assert!(cdf < level, "cdf {cdf} at {c} reaches {level}");
            }
        }
    }

    /// The bound is tight enough to skip: with the whole prefix mass at its far end, the convolution at a
    /// cell below that end is 0 and is skipped for any level.
    #[test]
    fn the_prefix_bound_skips_where_the_prefix_has_no_mass_yet() {
        let mut prefix = vec![0.0; 1000];
        prefix[999] = 1.0;
        let own_cdf = vec![1.0; 2000];
        let bound = PrefixBound::new(&prefix).expect("bound");
        assert!(bound.certainly_below(&own_cdf, 900, 0.001));
        assert!(!bound.certainly_below(&own_cdf, 1500, 0.999));
    }

    /// The fast per-cell step (issue 16) gives the general step's numbers bit for bit: every cell of the
    /// start state's PMF and every quantile, on the walks star force runs (whole chains and the rests of
    /// split ones, on coarse and fine grids), for every rule set, with and without star catch and events.
    #[test]
    fn the_fast_step_equals_the_general_step_bit_for_bit() {
        let levels = super::super::cdf_levels();
        let mut fast_walks = 0;
        for ruleset in RuleSetId::ALL {
            for (level, from, to) in [
                (200, 0, 22),
                (250, 0, 30),
                (160, 10, 25),
                (150, 12, 17),
                (250, 15, 30),
            ] {
                for (star_catch, events) in [(false, Events::default()), (true, shining())] {
                    let req = Request {
                        ruleset,
                        star_catch,
                        events,
                        ..Request::new(level, from, to)
                    };
                    let Ok(setup) = validate(ruleset.rules(), &req) else {
                        continue; // above this rule set's cap
                    };
                    let Some(chain) = Chain::build(&setup) else {
                        continue;
                    };
                    let split = chain.split();
                    let walked: Vec<&Chain> = match &split {
                        Some((climb, rest)) => vec![&chain, climb, rest],
                        None => vec![&chain],
                    };
                    for c in walked {
                        let mean = super::super::moments::solve(c, 0.0)
                            .expect("solvable")
                            .moments
                            .mean_cost;
                        // Cells from far narrower than the mean cost to wider than it: cells narrower than
                        // every attempt (the fast step) and wider than some (the general one, ring buffers).
                        for h in [mean / 2048.0, mean / 64.0, mean * 4.0] {
                            let run = |step| walk_with(c, h, Stop::Levels(&levels), 1 << 20, &[1.0], step);
                            let (fast, general) = (run(Step::FastWhereItFits), run(Step::General));
                            match (fast, general) {
                                (Ok(f), Ok(g)) => {
                                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                                    let at =
                                        format!("{ruleset:?} {level} {from}->{to} catch {star_catch} h {h}");
                                    assert_eq!(bits(&f.pmf), bits(&g.pmf), "pmf, {at}");
                                    assert_eq!(bits(&f.quantiles), bits(&g.quantiles), "quantiles, {at}");
                                    assert_eq!(f.cells, g.cells, "{at}");
                                    fast_walks += usize::from(f.fast);
                                }
                                (f, g) => assert_eq!(f.err(), g.err()),
                            }
                        }
                    }
                }
            }
        }
        // The comparison is not vacuous: the fast step ran on many of these walks.
        assert!(fast_walks >= 20, "fast step used on {fast_walks} walks");
    }
}
