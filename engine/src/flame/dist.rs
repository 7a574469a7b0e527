//! Exact score distribution of one flame, and the number of flames to reach a target.
//!
//! The enumeration is exact over line counts, line choices and tiers. The pool's options are grouped by
//! their per-line score distribution (for a STR class all options that add nothing to the score form one
//! group, the three STR+X dual lines another, ...). Choosing `c` distinct options from a group of `m`
//! identical ones has `C(m, c)` ways and the `c`-fold convolution of the group's line distribution as score.
//! A subset-size DP over the groups then gives, for each line count `k`, the sum over all `C(n, k)` subsets.
//! Every probability is an integer numerator over a common integer denominator (percent tables, `C(n, k)`
//! subsets), so the result is the exact rational, converted to `f64` once at the end.

use super::rational::gcd_u128;
use super::score::target_units;
use super::{Assumptions, Error, FlameKind, Item, LineValue, Rational, Score, ScoreWeights};
use std::collections::BTreeMap;

/// An exact probability `num/den` in lowest terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probability {
    num: u128,
    den: u128,
}

impl Probability {
    fn new(num: u128, den: u128) -> Self {
        let g = gcd_u128(num, den).max(1);
        Probability {
            num: num / g,
            den: den / g,
        }
    }

    pub fn num(&self) -> u128 {
        self.num
    }

    pub fn den(&self) -> u128 {
        self.den
    }

    pub fn is_zero(&self) -> bool {
        self.num == 0
    }

    /// The nearest `f64` (numerator and denominator are below 2^53, so this is one correct rounding).
    pub fn to_f64(&self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl std::fmt::Display for Probability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// The exact distribution of the score of one flame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreDistribution {
    scale: u64,
    den: u128,
    /// `(score units, numerator)`, ascending score, every numerator > 0, numerators sum to `den`.
    points: Vec<(i128, u128)>,
}

type Dist = BTreeMap<i128, u128>;

fn convolve(a: &Dist, b: &Dist) -> Result<Dist, Error> {
    let mut out = Dist::new();
    for (&sa, &pa) in a {
        for (&sb, &pb) in b {
            let s = sa.checked_add(sb).ok_or(Error::Overflow)?;
            let p = pa.checked_mul(pb).ok_or(Error::Overflow)?;
            let e = out.entry(s).or_insert(0);
            *e = e.checked_add(p).ok_or(Error::Overflow)?;
        }
    }
    Ok(out)
}

fn binomial(n: u128, k: u128) -> u128 {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}

/// The exact score distribution of one use of `flame` on `item` under `weights`.
///
/// # Errors
/// [`Error::Overflow`] if the score units overflow (only with extreme weights).
///
/// # Examples
/// ```
/// use pve_engine::flame::*;
/// let item = Item::armor(200, Boss::Yes).unwrap();
/// let class = class_profile("hero").unwrap();
/// let w = ScoreWeights::for_class(&class.stats, Convention::KmsGrade, Overrides::default()).unwrap();
/// let d = score_distribution(FlameKind::Eternal, &item, &w, &Assumptions::default()).unwrap();
/// // FLAME_FACTS §5: P(STR + 4·ATT + 10·all% >= 120) = 295552881/12920000000.
/// let p = d.p_at_least(Rational::integer(120).unwrap());
/// assert_eq!((p.num(), p.den()), (295552881, 12920000000));
/// ```
pub fn score_distribution(
    flame: FlameKind,
    item: &Item,
    weights: &ScoreWeights,
    assumptions: &Assumptions,
) -> Result<ScoreDistribution, Error> {
    let pool = item.pool();
    let tiers = item.tiers(flame, assumptions);
    let lines = item.line_counts(assumptions).lines_percent;
    let k_max = (1..=4).rev().find(|&k| lines[k - 1] > 0).unwrap_or(0);

    // Per option: its one-line score distribution (numerators over 100). Group identical ones.
    let mut groups: BTreeMap<Vec<(i128, u128)>, u128> = BTreeMap::new();
    for &option in &pool {
        let mut d = Dist::new();
        for &(tier, pct) in &tiers {
            let units = match item.line_value(option, tier, assumptions) {
                LineValue::One(s, v) => weights.units(s).checked_mul(i128::from(v)),
                LineValue::Two(a, b, v) => (weights.units(a) + weights.units(b)).checked_mul(i128::from(v)),
            }
            .ok_or(Error::Overflow)?;
            *d.entry(units).or_insert(0) += u128::from(pct);
        }
        *groups.entry(d.into_iter().collect()).or_insert(0) += 1;
    }

    // rows[j]: Σ over j-subsets of the pool of Π line distributions (numerators over 100^j), by score.
    let groups: Vec<(Vec<(i128, u128)>, u128)> = groups.into_iter().collect();
    let rows = match dense_width(&groups, k_max) {
        Some(width) => dense_rows(&groups, k_max, width)?,
        None => sparse_rows(&groups, k_max)?,
    };

    // P(k lines) = lines[k]/100; each k-subset has probability 1/C(n,k); tier numerators are over 100^k.
    let n = pool.len() as u128;
    let unit_den = |k: usize| 100 * binomial(n, k as u128) * 100u128.pow(k as u32);
    let den = (1..=k_max)
        .filter(|&k| lines[k - 1] > 0)
        .fold(1u128, |acc, k| acc / gcd_u128(acc, unit_den(k)) * unit_den(k));
    let mut all: Vec<(i128, u128)> = Vec::new();
    for k in (1..=k_max).filter(|&k| lines[k - 1] > 0) {
        let factor = u128::from(lines[k - 1]) * (den / unit_den(k));
        for &(s, p) in &rows[k] {
            all.push((s, p.checked_mul(factor).ok_or(Error::Overflow)?));
        }
    }
    all.sort_unstable_by_key(|&(s, _)| s);
    let mut points: Vec<(i128, u128)> = Vec::with_capacity(all.len());
    for (s, p) in all {
        match points.last_mut() {
            Some(last) if last.0 == s => last.1 = last.1.checked_add(p).ok_or(Error::Overflow)?,
            _ => points.push((s, p)),
        }
    }
    points.retain(|&(_, p)| p > 0);
    debug_assert_eq!(points.iter().map(|p| p.1).sum::<u128>(), den);
    Ok(ScoreDistribution {
        scale: weights.scale(),
        den,
        points,
    })
}

/// Widest score range (in units) the dense DP handles; wider ranges (extreme weights) go sparse.
const DENSE_LIMIT: i128 = 1 << 14;

/// `Some(width)` when every score fits `0..width` densely: scores are ≥ 0 (weights are non-negative) and at
/// most `k_max` times the largest one-line score.
fn dense_width(groups: &[(Vec<(i128, u128)>, u128)], k_max: usize) -> Option<usize> {
    let max_line = groups
        .iter()
        .filter_map(|(line, _)| line.last().map(|p| p.0))
        .max()
        .unwrap_or(0);
    let min_line = groups
        .iter()
        .filter_map(|(line, _)| line.first().map(|p| p.0))
        .min()
        .unwrap_or(0);
    let width = max_line.checked_mul(k_max as i128)?.checked_add(1)?;
    (min_line >= 0 && width <= DENSE_LIMIT).then_some(width as usize)
}

/// `c`-fold convolutions of a one-line distribution, `c = 0..=c_max`, as sorted sparse lists.
fn powers(line: &[(i128, u128)], c_max: usize) -> Result<Vec<Vec<(i128, u128)>>, Error> {
    let line: Dist = line.iter().copied().collect();
    let mut out = vec![vec![(0, 1)]];
    let mut power = Dist::from([(0, 1)]);
    for _ in 0..c_max {
        power = convolve(&power, &line)?;
        out.push(power.iter().map(|(&s, &p)| (s, p)).collect());
    }
    Ok(out)
}

/// The subset-size DP on dense rows, updated in place: for each group, `j` descends so that `rows[j]` is
/// read before this group adds to it. Every entry is a count of (subset, tier tuple) weights bounded by
/// C(n, j)·100^j < 2^64, so u64 cannot overflow.
fn dense_rows(
    groups: &[(Vec<(i128, u128)>, u128)],
    k_max: usize,
    width: usize,
) -> Result<Vec<Vec<(i128, u128)>>, Error> {
    let mut rows = vec![vec![0u64; width]; k_max + 1];
    rows[0][0] = 1;
    let max_line = groups
        .iter()
        .filter_map(|(line, _)| line.last().map(|p| p.0 as usize))
        .max()
        .unwrap_or(0);
    for (line, m) in groups {
        let c_max = (*m as usize).min(k_max);
        // c-fold powers are tiny (at most 35 points for 4 lines of 4 tiers); u64 holds 100^4·C(m,c).
        let pw: Vec<Vec<(usize, u64)>> = powers(line, c_max)?
            .into_iter()
            .map(|p| p.into_iter().map(|(s, q)| (s as usize, q as u64)).collect())
            .collect();
        for j in (0..k_max).rev() {
            for (c, power) in pw.iter().enumerate().take(c_max.min(k_max - j) + 1).skip(1) {
                let ways = binomial(*m, c as u128) as u64;
                let (lo, hi) = rows.split_at_mut(j + c);
                // Row j is zero beyond j lines of the largest line score: scan only its possible support.
                let (src, dst) = (&lo[j][..=(j * max_line).min(width - 1)], &mut hi[0]);
                for (s, &v) in src.iter().enumerate().filter(|(_, &v)| v != 0) {
                    let v = v * ways;
                    for &(u, q) in power {
                        dst[s + u] += v * q;
                    }
                }
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .enumerate()
                .filter(|&(_, v)| v != 0)
                .map(|(s, v)| (s as i128, u128::from(v)))
                .collect()
        })
        .collect())
}

/// The same DP on sparse maps, for score ranges too wide for [`dense_rows`].
fn sparse_rows(groups: &[(Vec<(i128, u128)>, u128)], k_max: usize) -> Result<Vec<Vec<(i128, u128)>>, Error> {
    let mut dp: Vec<Dist> = vec![Dist::new(); k_max + 1];
    dp[0].insert(0, 1);
    for (line, m) in groups {
        let c_max = (*m as usize).min(k_max);
        let pw = powers(line, c_max)?;
        for j in (0..k_max).rev() {
            for c in 1..=c_max.min(k_max - j) {
                let ways = binomial(*m, c as u128);
                let power: Dist = pw[c].iter().copied().collect();
                for (s, p) in convolve(&dp[j], &power)? {
                    let add = p.checked_mul(ways).ok_or(Error::Overflow)?;
                    let e = dp[j + c].entry(s).or_insert(0);
                    *e = e.checked_add(add).ok_or(Error::Overflow)?;
                }
            }
        }
    }
    Ok(dp.into_iter().map(|d| d.into_iter().collect()).collect())
}

impl ScoreDistribution {
    /// P(score ≥ `target`), exact.
    pub fn p_at_least(&self, target: Rational) -> Probability {
        self.p_at_least_units(target_units(target, self.scale))
    }

    /// P(score ≥ `units / scale`), exact, for a target in this distribution's units (such as the
    /// [`Score`] of a current flame under the same weights, whose value can be above any [`Rational`]).
    pub fn p_at_least_units(&self, units: i128) -> Probability {
        let start = self.points.partition_point(|&(s, _)| s < units);
        Probability::new(self.points[start..].iter().map(|p| p.1).sum(), self.den)
    }

    /// The score unit is `1/scale` (that of the weights the distribution was built with).
    pub fn scale(&self) -> u64 {
        self.scale
    }

    pub fn max_score(&self) -> Score {
        self.score(self.points.last().map_or(0, |p| p.0))
    }

    pub fn min_score(&self) -> Score {
        self.score(self.points.first().map_or(0, |p| p.0))
    }

    /// E[score]: an exact sum and one division when the sum fits an `i128`; with extreme weights, where it
    /// would not, a sum of `f64` terms (each correctly rounded, so within a relative 2^-50 or so of the
    /// exact mean for the at most few thousand points).
    pub fn mean_score(&self) -> f64 {
        let exact = self.points.iter().try_fold(0i128, |acc, &(s, p)| {
            acc.checked_add(s.checked_mul(i128::try_from(p).ok()?)?)
        });
        match exact {
            Some(sum) => sum as f64 / (self.den as f64 * self.scale as f64),
            None => self
                .points
                .iter()
                .map(|&(s, p)| (s as f64 / self.scale as f64) * (p as f64 / self.den as f64))
                .sum(),
        }
    }

    /// The common denominator of all probabilities.
    pub fn denominator(&self) -> u128 {
        self.den
    }

    /// `(score, probability)` in ascending score; probabilities sum to exactly 1.
    pub fn points(&self) -> impl Iterator<Item = (Score, Probability)> + '_ {
        self.points
            .iter()
            .map(|&(s, p)| (self.score(s), Probability::new(p, self.den)))
    }

    /// How many flames it takes to reach `target`.
    pub fn reach(&self, target: Rational) -> Reach {
        self.reach_units(target_units(target, self.scale))
    }

    /// [`Self::reach`] for a target in this distribution's units ([`Self::p_at_least_units`]).
    pub fn reach_units(&self, units: i128) -> Reach {
        let p = self.p_at_least_units(units);
        if p.is_zero() {
            Reach::Impossible {
                max_score: self.max_score(),
            }
        } else {
            Reach::Possible(Attempts::new(p))
        }
    }

    fn score(&self, units: i128) -> Score {
        Score {
            units,
            scale: self.scale,
        }
    }
}

/// The outcome of "flame until the score is at least the target".
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reach {
    Possible(Attempts),
    /// No outcome of this flame reaches the target; `max_score` is the best one.
    Impossible {
        max_score: Score,
    },
}

/// Number of flames N until the first success: geometric on {1, 2, ...} with success chance `p` per use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attempts {
    p: Probability,
    p_f64: f64,
}

/// Quantiles of the number of flames: the smallest n with P(N ≤ n) ≥ q.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

impl Attempts {
    fn new(p: Probability) -> Self {
        Attempts { p, p_f64: p.to_f64() }
    }

    /// P(success) of one flame, exact.
    pub fn p_exact(&self) -> Probability {
        self.p
    }

    /// P(success) of one flame.
    pub fn p(&self) -> f64 {
        self.p_f64
    }

    /// E[N] = 1/p.
    pub fn mean(&self) -> f64 {
        self.p.den as f64 / self.p.num as f64
    }

    /// sd(N) = √(1−p)/p.
    pub fn sd(&self) -> f64 {
        libm::sqrt((self.p.den - self.p.num) as f64 / self.p.den as f64) * self.mean()
    }

    /// P(N ≤ n) = 1 − (1−p)^n.
    pub fn cdf(&self, n: f64) -> f64 {
        if self.p.num == self.p.den {
            return 1.0;
        }
        -libm::expm1(n * libm::log1p(-self.p_f64))
    }

    /// The smallest n ≥ 1 with P(N ≤ n) ≥ q, for q in (0, 1).
    pub fn quantile(&self, q: f64) -> f64 {
        if self.p.num == self.p.den {
            return 1.0;
        }
        let mut n = libm::ceil(libm::log1p(-q) / libm::log1p(-self.p_f64)).max(1.0);
        if n < 1e15 {
            // Guard the closed form against rounding at the boundary.
            while n > 1.0 && self.cdf(n - 1.0) >= q {
                n -= 1.0;
            }
            while self.cdf(n) < q {
                n += 1.0;
            }
        }
        n
    }

    pub fn quantiles(&self) -> Quantiles {
        Quantiles {
            p50: self.quantile(0.5),
            p90: self.quantile(0.9),
            p99: self.quantile(0.99),
        }
    }
}

/// One-call form: the reach of `target` for `flame` on `item` under `weights`.
///
/// # Errors
/// As [`score_distribution`].
pub fn flames_to_reach(
    flame: FlameKind,
    item: &Item,
    weights: &ScoreWeights,
    target: Rational,
    assumptions: &Assumptions,
) -> Result<Reach, Error> {
    Ok(score_distribution(flame, item, weights, assumptions)?.reach(target))
}
