//! Star force enhancement (vertical slice: plain expected cost under the KMS rules).
//! The full model (rule sets, options, variances, distribution) replaces this module.

/// Success probability per current star, KMS 2025-03-20 (30-star system).
const SUCCESS: [f64; 30] = [
    0.95, 0.90, 0.85, 0.85, 0.80, 0.75, 0.70, 0.65, 0.60, 0.55, 0.50, 0.45, 0.40, 0.35, 0.30, 0.30, 0.30,
    0.15, 0.15, 0.15, 0.30, 0.15, 0.15, 0.10, 0.10, 0.10, 0.07, 0.05, 0.03, 0.01,
];
/// Destroy probability per current star (0 below 15★).
const DESTROY: [f64; 30] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.021, 0.021, 0.068, 0.068,
    0.085, 0.105, 0.1275, 0.17, 0.18, 0.18, 0.18, 0.186, 0.19, 0.194, 0.198,
];

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub item_level: u32,
    pub from_star: u32,
    pub to_star: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub mean_cost: f64,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    LevelOutOfRange(u32),
    StarAboveCap { to_star: u32, cap: u32 },
    FromAboveTo { from_star: u32, to_star: u32 },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::LevelOutOfRange(l) => write!(f, "item_level {l} is outside 0..=300"),
            Error::StarAboveCap { to_star, cap } => {
                write!(f, "to_star {to_star} is above this item level's cap of {cap}")
            }
            Error::FromAboveTo { from_star, to_star } => {
                write!(f, "from_star {from_star} is above to_star {to_star}")
            }
        }
    }
}

impl std::error::Error for Error {}

pub fn max_star(item_level: u32) -> u32 {
    match item_level {
        0..=94 => 5,
        95..=107 => 8,
        108..=117 => 10,
        118..=127 => 15,
        128..=137 => 20,
        _ => 30,
    }
}

/// KMS base cost of one attempt at `star`.
pub fn base_cost(item_level: u32, star: u32) -> f64 {
    let l = f64::from(item_level / 10 * 10);
    let s = f64::from(star);
    let (m, d) = match star {
        0..=9 => (s + 1.0, 36.0),
        _ => {
            let d = match star {
                10 => 571.0,
                11 => 314.0,
                12 => 214.0,
                13 => 157.0,
                14 => 107.0,
                15 | 16 => 200.0,
                17 => 150.0,
                18 => 70.0,
                19 => 45.0,
                20 => 200.0,
                21 => 125.0,
                _ => 200.0,
            };
            (libm::pow(s + 1.0, 2.7), d)
        }
    };
    let raw = (1000.0 + l * l * l * m / d) / 100.0;
    libm::floor(raw + 0.5) * 100.0
}

/// Expected attempt cost from `from_star` to `to_star`.
///
/// # Errors
/// Out-of-range levels, targets above the level's cap, or `from_star > to_star`.
pub fn compute(req: &Request) -> Result<Outcome, Error> {
    if req.item_level > 300 {
        return Err(Error::LevelOutOfRange(req.item_level));
    }
    let cap = max_star(req.item_level);
    if req.to_star > cap {
        return Err(Error::StarAboveCap {
            to_star: req.to_star,
            cap,
        });
    }
    if req.from_star > req.to_star {
        return Err(Error::FromAboveTo {
            from_star: req.from_star,
            to_star: req.to_star,
        });
    }
    // E[s] = cost(s) + p_s E[s+1] + m_s E[s] + d_s E[12]: solve E[s] = a_s + b_s E[12] backwards.
    let t = req.to_star as usize;
    let mut a = vec![0.0; t + 1];
    let mut b = vec![0.0; t + 1];
    for s in (0..t).rev() {
        let p = SUCCESS[s];
        let d = DESTROY[s];
        a[s] = (base_cost(req.item_level, s as u32) + p * a[s + 1]) / (p + d);
        b[s] = (p * b[s + 1] + d) / (p + d);
    }
    let from = req.from_star as usize;
    let mean_cost = if t > 12 {
        let e12 = a[12] / (1.0 - b[12]);
        a[from] + b[from] * e12
    } else {
        a[from]
    };
    Ok(Outcome { mean_cost })
}
