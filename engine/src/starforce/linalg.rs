//! Small dense linear algebra (the chains have at most a few dozen states): a cancellation-free LU for
//! `I − Q` of an absorbing chain, and LU with partial pivoting for small general systems.

/// LU of `I − Q` for a substochastic `Q` (a nonsingular M-matrix), by the GTH idea (Grassmann, Taksar
/// and Heyman 1985): every pivot is recomputed as the sum of the non-negative probabilities of leaving
/// the state (to later states or out of the chain), never as `1 − stay`. Elimination then only adds
/// numbers of one sign, and so do the solves for a non-negative right-hand side: the results have a
/// small *relative* error however ill-conditioned the chain is (a target reached once in 10⁷ climbs).
#[derive(Debug, Clone)]
pub(crate) struct ChainLu {
    n: usize,
    /// Row-major: strictly lower part holds the multipliers (≤ 0), upper part `U` (off-diagonal ≤ 0).
    lu: Vec<f64>,
}

impl ChainLu {
    /// `moves[i * n + j]`: probability of going from `i` to `j ≠ i` (the diagonal is ignored);
    /// `exits[i]`: probability of leaving the system from `i` (absorption, or transitions left out).
    /// `None` if some state can never leave (a zero pivot).
    pub fn new(n: usize, moves: &[f64], exits: &[f64]) -> Option<ChainLu> {
        let mut a: Vec<f64> = moves.iter().map(|p| -p).collect();
        let mut exit = exits.to_vec();
        for k in 0..n {
            // Pivot: everything that leaves k towards the states not yet eliminated, or out.
            let mut pivot = exit[k];
            for j in k + 1..n {
                pivot -= a[k * n + j];
            }
            if pivot <= 0.0 {
                return None;
            }
            a[k * n + k] = pivot;
            for i in k + 1..n {
                let m = a[i * n + k] / pivot;
                if m == 0.0 {
                    continue;
                }
                a[i * n + k] = m;
                for j in k + 1..n {
                    if j != i {
                        a[i * n + j] -= m * a[k * n + j];
                    }
                }
                exit[i] -= m * exit[k];
            }
        }
        Some(ChainLu { n, lu: a })
    }

    /// Solve `(I − Q) x = b` in place.
    pub fn solve(&self, b: &mut [f64]) {
        let (n, a) = (self.n, &self.lu);
        for r in 0..n {
            let mut s = b[r];
            for c in 0..r {
                s -= a[r * n + c] * b[c];
            }
            b[r] = s;
        }
        for r in (0..n).rev() {
            let mut s = b[r];
            for c in r + 1..n {
                s -= a[r * n + c] * b[c];
            }
            b[r] = s / a[r * n + r];
        }
    }

    /// Solve `(I − Q)ᵀ x = b` in place.
    pub fn solve_transposed(&self, b: &mut [f64]) {
        let (n, a) = (self.n, &self.lu);
        for r in 0..n {
            let mut s = b[r];
            for c in 0..r {
                s -= a[c * n + r] * b[c];
            }
            b[r] = s / a[r * n + r];
        }
        for r in (0..n).rev() {
            let mut s = b[r];
            for c in r + 1..n {
                s -= a[c * n + r] * b[c];
            }
            b[r] = s;
        }
    }
}

/// `P·A = L·U` of a square row-major matrix; `swaps[k]` is the row swapped with row `k` at step `k`.
#[derive(Debug, Clone)]
pub(crate) struct Lu {
    n: usize,
    lu: Vec<f64>,
    swaps: Vec<usize>,
}

impl Lu {
    /// Factor `a` (row-major, `n × n`). `None` if a pivot is exactly zero (singular matrix).
    pub fn new(n: usize, mut a: Vec<f64>) -> Option<Lu> {
        debug_assert_eq!(a.len(), n * n);
        let mut swaps = Vec::with_capacity(n);
        for k in 0..n {
            let mut p = k;
            for r in k + 1..n {
                if a[r * n + k].abs() > a[p * n + k].abs() {
                    p = r;
                }
            }
            if a[p * n + k] == 0.0 {
                return None;
            }
            if p != k {
                for c in 0..n {
                    a.swap(k * n + c, p * n + c);
                }
            }
            swaps.push(p);
            let pivot = a[k * n + k];
            for r in k + 1..n {
                let f = a[r * n + k] / pivot;
                if f != 0.0 {
                    a[r * n + k] = f;
                    for c in k + 1..n {
                        a[r * n + c] -= f * a[k * n + c];
                    }
                } else {
                    a[r * n + k] = 0.0;
                }
            }
        }
        Some(Lu { n, lu: a, swaps })
    }

    /// The single entry of a `1 × 1` factorisation: [`Lu::solve`] then computes exactly `b[0] / pivot`
    /// (its swap and forward pass are no-ops), which a caller in a hot loop may do inline.
    pub fn scalar_pivot(&self) -> Option<f64> {
        (self.n == 1).then(|| self.lu[0])
    }

    /// Solve `A x = b` in place.
    pub fn solve(&self, b: &mut [f64]) {
        let (n, a) = (self.n, &self.lu);
        for (k, &p) in self.swaps.iter().enumerate() {
            b.swap(k, p);
        }
        for r in 0..n {
            let mut s = b[r];
            for c in 0..r {
                s -= a[r * n + c] * b[c];
            }
            b[r] = s;
        }
        for r in (0..n).rev() {
            let mut s = b[r];
            for c in r + 1..n {
                s -= a[r * n + c] * b[c];
            }
            b[r] = s / a[r * n + r];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ChainLu, Lu};

    /// A two-state loop that leaves once in 10¹² tries: plain `1 − stay` arithmetic would lose ~4 digits.
    #[test]
    fn chain_lu_keeps_relative_accuracy() {
        let eps = 1e-12;
        // 0 -> 1 with 1 - eps, 0 exits with eps; 1 -> 0 with 1.
        let lu = ChainLu::new(2, &[0.0, 1.0 - eps, 1.0, 0.0], &[eps, 0.0]).unwrap();
        let mut x = vec![1.0, 0.0];
        lu.solve(&mut x);
        // Expected visits to state 0 starting there: 1 / eps.
        assert!((x[0] * eps - 1.0).abs() < 1e-15, "{}", x[0] * eps - 1.0);
        let mut v = vec![1.0, 0.0];
        lu.solve_transposed(&mut v);
        assert!((v[0] * eps - 1.0).abs() < 1e-15 && (v[1] / v[0] - (1.0 - eps)).abs() < 1e-15);
    }

    #[test]
    fn pivoting_solve() {
        // A zero in the top-left corner forces a row swap.
        let a = [0.0, 2.0, 1.0, 1.0, 1.0, 0.0, 3.0, 0.0, 1.0];
        let lu = Lu::new(3, a.to_vec()).unwrap();
        let mut x = vec![1.0, -2.0, 0.5];
        lu.solve(&mut x);
        for (r, want) in [1.0, -2.0, 0.5].iter().enumerate() {
            let got: f64 = (0..3).map(|c| a[r * 3 + c] * x[c]).sum();
            assert!((got - want).abs() < 1e-12, "{x:?}");
        }
    }

    #[test]
    fn singular_is_reported() {
        assert!(Lu::new(2, vec![1.0, 2.0, 2.0, 4.0]).is_none());
    }
}
