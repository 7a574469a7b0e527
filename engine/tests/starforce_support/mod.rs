//! Independent reference for the star force tests.
//!
//! The chain is rebuilt here from the tables, transcribed a second time as integer basis
//! points, without any engine code: probabilities are exact rationals, costs exact integers, and the
//! chain is solved by Gaussian elimination over `BigRational`. Means use `(I − Q) μ = r`; second moments
//! use the textbook `(I − Q) m₂ = Σ_j P_ij (r_ij² + 2 r_ij μ_j)` (the engine uses the law of total
//! variance instead), so a shared mistake would have to be made twice in two different ways.
#![allow(dead_code)]
// Dense matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

pub type Q = BigRational;

pub fn q(n: i64, d: i64) -> Q {
    Q::new(BigInt::from(n), BigInt::from(d))
}

/// Which system; mirrors the rule set names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sys {
    Kms,
    Gms,
    Savior,
    PreSavior,
}

/// Options as in the request, plus `unit_cost`: every base cost is 1000 (a custom table used for the
/// exact lattice reference).
#[derive(Debug, Clone, Copy)]
pub struct Opts {
    pub sys: Sys,
    pub level: u32,
    pub from: u32,
    pub to: u32,
    pub star_catch: bool,
    pub safeguard: bool,
    pub thirty_off: bool,
    pub boom_reduction: bool,
    pub five_ten_fifteen: bool,
    pub plus_one: bool,
    /// MVP + PC room, in percent (e.g. 15 for diamond + PC room).
    pub discount_pct: i64,
    pub unit_cost: bool,
}

impl Opts {
    pub fn new(sys: Sys, level: u32, from: u32, to: u32) -> Opts {
        Opts {
            sys,
            level,
            from,
            to,
            star_catch: false,
            safeguard: false,
            thirty_off: false,
            boom_reduction: false,
            five_ten_fifteen: false,
            plus_one: false,
            discount_pct: 0,
            unit_cost: false,
        }
    }
}

// Success in basis points (1/10000), KMS 2025-03-20, s = 0..29.
const KMS_SUCCESS: [i64; 30] = [
    9500, 9000, 8500, 8500, 8000, 7500, 7000, 6500, 6000, 5500, 5000, 4500, 4000, 3500, 3000, 3000, 3000,
    1500, 1500, 1500, 3000, 1500, 1500, 1000, 1000, 1000, 700, 500, 300, 100,
];
// Destroy in basis points, s = 15..29.
const KMS_DESTROY_FROM_15: [i64; 15] = [
    210, 210, 680, 680, 850, 1050, 1275, 1700, 1800, 1800, 1800, 1860, 1900, 1940, 1980,
];

fn success_bp(sys: Sys, s: u32) -> i64 {
    match sys {
        Sys::Kms | Sys::Gms => KMS_SUCCESS[s as usize],
        Sys::Savior | Sys::PreSavior => match s {
            0..=10 => KMS_SUCCESS[s as usize],
            11 => 4500,
            12 => 4000,
            13 => 3500,
            14..=21 => 3000,
            22 => 300,
            23 => 200,
            _ => 100,
        },
    }
}

fn destroy_bp(sys: Sys, s: u32) -> i64 {
    match sys {
        Sys::Kms | Sys::Gms => {
            if s < 15 {
                0
            } else {
                KMS_DESTROY_FROM_15[s as usize - 15]
            }
        }
        Sys::Savior | Sys::PreSavior => match s {
            12 if sys == Sys::PreSavior => 60,
            13 if sys == Sys::PreSavior => 130,
            14 if sys == Sys::PreSavior => 140,
            15..=17 => 210,
            18 | 19 => 280,
            20 | 21 => 700,
            22 => 1940,
            23 => 2940,
            24 => 3960,
            _ => 0,
        },
    }
}

/// Whether a failure at `s` drops a star.
fn decreases(sys: Sys, s: u32) -> bool {
    match sys {
        Sys::Kms | Sys::Gms => false,
        Sys::PreSavior => s >= 11 && s != 15 && s != 20,
        Sys::Savior => s >= 16 && s != 20,
    }
}

fn restore_star(sys: Sys, s: u32) -> u32 {
    match (sys, s) {
        (Sys::Gms, 20) => 15,
        (Sys::Gms, 21 | 22) => 17,
        (Sys::Gms, 23..=25) => 19,
        (Sys::Gms, 26..) => 20,
        _ => 12,
    }
}

fn divisor(sys: Sys, s: u32) -> f64 {
    let kms_high = |s: u32| match s {
        15 | 16 => 200.0,
        17 => 150.0,
        18 => 70.0,
        19 => 45.0,
        20 => 200.0,
        21 => 125.0,
        _ => 200.0,
    };
    match (sys, s) {
        (Sys::Kms, 0..=9) => 36.0,
        (Sys::Kms, 10) => 571.0,
        (Sys::Kms, 11) => 314.0,
        (Sys::Kms, 12) => 214.0,
        (Sys::Kms, 13) => 157.0,
        (Sys::Kms, 14) => 107.0,
        (Sys::Kms, _) => kms_high(s),
        (_, 0..=9) => 25.0,
        (Sys::PreSavior, 10..=14) => 400.0,
        (_, 10) => 400.0,
        (_, 11) => 220.0,
        (_, 12) => 150.0,
        (_, 13) => 110.0,
        (_, 14) => 75.0,
        (Sys::Gms, _) => kms_high(s),
        _ => 200.0,
    }
}

/// Base cost with std's `powf` (the engine uses `libm`); the rounding to 100 mesos absorbs the difference.
pub fn base_cost(sys: Sys, level: u32, s: u32) -> i64 {
    let l = f64::from(level / 10 * 10);
    let m = if s <= 9 {
        f64::from(s + 1)
    } else {
        f64::from(s + 1).powf(2.7)
    };
    (((1000.0 + l * l * l * m / divisor(sys, s)) / 100.0 + 0.5).floor() * 100.0) as i64
}

fn safeguard_stars(sys: Sys) -> (&'static [u32], i64) {
    match sys {
        Sys::Kms | Sys::Gms => (&[15, 16, 17], 2),
        Sys::Savior => (&[15, 16], 1),
        Sys::PreSavior => (&[12, 13, 14, 15, 16], 1),
    }
}

/// One transition: `to == None` is the target.
#[derive(Debug, Clone)]
pub struct Edge {
    pub to: Option<usize>,
    pub p: Q,
    pub destroy: bool,
}

/// The reference chain.
#[derive(Debug, Clone)]
pub struct RefChain {
    /// `(star, consecutive decreases)`.
    pub states: Vec<(u32, u32)>,
    pub start: usize,
    pub cost: Vec<Q>,
    pub edges: Vec<Vec<Edge>>,
}

/// The attempt at `s` as exact `(success, maintain, decrease, destroy, cost, success star)`.
pub fn attempt(o: &Opts, s: u32, chance: bool) -> (Q, Q, Q, Q, Q, u32) {
    let guaranteed = chance || (o.five_ten_fifteen && [5, 10, 15].contains(&s));
    let (sg_stars, surcharge) = safeguard_stars(o.sys);
    let sg = o.safeguard && sg_stars.contains(&s) && !guaranteed;
    let (mut p, mut d) = (q(success_bp(o.sys, s), 10000), q(destroy_bp(o.sys, s), 10000));
    let mut fail = Q::one() - &p - &d;
    if guaranteed {
        (p, d, fail) = (Q::one(), Q::zero(), Q::zero());
    } else {
        if o.star_catch {
            let up = (&p * q(105, 100)).min(Q::one());
            let k = (Q::one() - &up) / (Q::one() - &p);
            d = &d * &k;
            fail = &fail * &k;
            p = up;
        }
        if o.boom_reduction && s <= 21 {
            let cut = &d * q(3, 10);
            d = &d - &cut;
            fail = &fail + cut;
        }
        if sg {
            fail = &fail + &d;
            d = Q::zero();
        }
    }
    let base = if o.unit_cost {
        1000
    } else {
        base_cost(o.sys, o.level, s)
    };
    let mut cost = q(base, 1);
    if s <= 16 {
        cost *= q(100 - o.discount_pct, 100);
    }
    if o.thirty_off {
        cost *= q(7, 10);
    }
    if sg {
        cost += q(surcharge * base, 1);
    }
    let step = if o.plus_one && s <= 10 { 2 } else { 1 };
    let (maintain, decrease) = if decreases(o.sys, s) {
        (Q::zero(), fail)
    } else {
        (fail, Q::zero())
    };
    (p, maintain, decrease, d, cost, (s + step).min(o.to))
}

pub fn build(o: &Opts) -> RefChain {
    let legacy = matches!(o.sys, Sys::Savior | Sys::PreSavior);
    let mut states = vec![(o.from, 0u32)];
    let mut i = 0;
    type Out = (Option<(u32, u32)>, Q, bool);
    let mut raw: Vec<Vec<Out>> = Vec::new();
    let mut cost = Vec::new();
    while i < states.len() {
        let (s, c) = states[i];
        let chance = legacy && c >= 2;
        let (p, m, dec, d, cst, up) = attempt(o, s, chance);
        let mut out = Vec::new();
        let mut add = |to: Option<(u32, u32)>, pr: Q, destroy: bool| {
            if pr.is_positive() {
                out.push((to, pr, destroy));
            }
        };
        add((up < o.to).then_some((up, 0)), p, false);
        add(Some((s, 0)), m, false);
        add(Some((s.saturating_sub(1), c + 1)), dec, false);
        add(Some((restore_star(o.sys, s), 0)), d, true);
        for (to, _, _) in &out {
            if let Some(t) = to {
                if !states.contains(t) {
                    states.push(*t);
                }
            }
        }
        raw.push(out);
        cost.push(cst);
        i += 1;
    }
    let index = |t: (u32, u32)| states.iter().position(|&x| x == t).unwrap();
    let edges = raw
        .into_iter()
        .map(|out| {
            out.into_iter()
                .map(|(to, p, destroy)| Edge {
                    to: to.map(index),
                    p,
                    destroy,
                })
                .collect()
        })
        .collect();
    RefChain {
        start: 0,
        states: states.clone(),
        cost,
        edges,
    }
}

/// Exact LU (Doolittle, first nonzero pivot) over the rationals, factored once for several solves.
pub struct ExactLu {
    lu: Vec<Vec<Q>>,
    perm: Vec<usize>,
}

impl ExactLu {
    pub fn new(mut a: Vec<Vec<Q>>) -> ExactLu {
        let n = a.len();
        let mut perm: Vec<usize> = (0..n).collect();
        for k in 0..n {
            let p = (k..n)
                .find(|&r| !a[r][k].is_zero())
                .expect("singular reference system");
            a.swap(k, p);
            perm.swap(k, p);
            for r in k + 1..n {
                if a[r][k].is_zero() {
                    continue;
                }
                let m = &a[r][k] / &a[k][k];
                for c in k + 1..n {
                    if !a[k][c].is_zero() {
                        let t = &m * &a[k][c];
                        a[r][c] -= t;
                    }
                }
                a[r][k] = m;
            }
        }
        ExactLu { lu: a, perm }
    }

    /// Solve `A x = b` for each column of `rhs` (`rhs[row][column]`).
    pub fn solve(&self, rhs: &[Vec<Q>]) -> Vec<Vec<Q>> {
        let n = self.lu.len();
        let mut x: Vec<Vec<Q>> = self.perm.iter().map(|&r| rhs[r].clone()).collect();
        for r in 0..n {
            for c in 0..r {
                if !self.lu[r][c].is_zero() {
                    for k in 0..x[r].len() {
                        let t = &self.lu[r][c] * &x[c][k];
                        x[r][k] -= t;
                    }
                }
            }
        }
        for r in (0..n).rev() {
            for c in r + 1..n {
                if !self.lu[r][c].is_zero() {
                    for k in 0..x[r].len() {
                        let t = &self.lu[r][c] * &x[c][k];
                        x[r][k] -= t;
                    }
                }
            }
            for k in 0..x[r].len() {
                x[r][k] = &x[r][k] / &self.lu[r][r];
            }
        }
        x
    }
}

/// Exact results for one request.
#[derive(Debug, Clone)]
pub struct Exact {
    pub mean_cost: Q,
    pub var_cost: Q,
    pub mean_booms: Q,
    pub var_booms: Q,
    pub mean_attempts: Q,
    pub var_attempts: Q,
    pub p_no_boom: Q,
}

/// Mean and second moment of an additive reward per transition: `(I − Q) μ = E r`,
/// `(I − Q) m₂ = Σ_j P_ij (r_ij² + 2 r_ij μ_j)`.
pub fn exact(chain: &RefChain) -> Exact {
    let n = chain.states.len();
    let matrix = |with_destroy: bool| {
        let mut a = vec![vec![Q::zero(); n]; n];
        for i in 0..n {
            a[i][i] = Q::one();
            for e in &chain.edges[i] {
                if let (Some(j), true) = (e.to, with_destroy || !e.destroy) {
                    a[i][j] -= &e.p;
                }
            }
        }
        a
    };
    // Rewards: cost (per attempt), booms (per destroy edge), attempts (1 per attempt).
    let reward = |k: usize, i: usize, e: &Edge| -> Q {
        match k {
            0 => chain.cost[i].clone(),
            1 if e.destroy => Q::one(),
            1 => Q::zero(),
            _ => Q::one(),
        }
    };
    let first: Vec<Vec<Q>> = (0..n)
        .map(|i| {
            (0..3)
                .map(|k| chain.edges[i].iter().map(|e| &e.p * reward(k, i, e)).sum())
                .collect()
        })
        .collect();
    let full = ExactLu::new(matrix(true));
    let mu = full.solve(&first);
    let second: Vec<Vec<Q>> = (0..n)
        .map(|i| {
            (0..3)
                .map(|k| {
                    chain.edges[i]
                        .iter()
                        .map(|e| {
                            let r = reward(k, i, e);
                            let next = e.to.map_or(Q::zero(), |j| mu[j][k].clone());
                            &e.p * (&r * &r + q(2, 1) * &r * next)
                        })
                        .sum()
                })
                .collect()
        })
        .collect();
    let m2 = full.solve(&second);
    let absorb: Vec<Vec<Q>> = (0..n)
        .map(|i| {
            vec![chain.edges[i]
                .iter()
                .filter(|e| e.to.is_none())
                .map(|e| e.p.clone())
                .sum()]
        })
        .collect();
    let a = ExactLu::new(matrix(false)).solve(&absorb);
    let s = chain.start;
    let var = |k: usize| &m2[s][k] - &mu[s][k] * &mu[s][k];
    Exact {
        mean_cost: mu[s][0].clone(),
        var_cost: var(0),
        mean_booms: mu[s][1].clone(),
        var_booms: var(1),
        mean_attempts: mu[s][2].clone(),
        var_attempts: var(2),
        p_no_boom: a[s][0].clone(),
    }
}

pub fn f(x: &Q) -> f64 {
    x.to_f64().unwrap()
}

/// The chain with `f64` probabilities and integer costs, for simulation and the lattice reference.
pub struct FloatChain {
    pub start: usize,
    pub cost: Vec<f64>,
    /// `(to, cumulative probability, destroy)`, cumulative for sampling.
    pub edges: Vec<Vec<(Option<usize>, f64, bool)>>,
}

impl FloatChain {
    pub fn from(chain: &RefChain) -> FloatChain {
        FloatChain {
            start: chain.start,
            cost: chain.cost.iter().map(f).collect(),
            edges: chain
                .edges
                .iter()
                .map(|out| {
                    let mut acc = 0.0;
                    out.iter()
                        .map(|e| {
                            acc += f(&e.p);
                            (e.to, acc, e.destroy)
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// One simulated run: `(total cost, booms)`.
    pub fn run(&self, rng: &mut SplitMix64) -> (f64, u64) {
        let (mut at, mut cost, mut booms) = (self.start, 0.0, 0);
        loop {
            cost += self.cost[at];
            let u = rng.unit();
            let out = &self.edges[at];
            let e = out.iter().find(|e| u < e.1).unwrap_or(out.last().unwrap());
            booms += u64::from(e.2);
            match e.0 {
                Some(j) => at = j,
                None => return (cost, booms),
            }
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small, seeded, well-mixed generator for the Monte Carlo tests.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
