//! A small exact rational for score weights and targets, so that ties (a score exactly on the target)
//! are decided exactly and never by floating-point rounding.

use super::Error;
use std::fmt;

/// Largest denominator accepted for a weight or a target (also bounds the decimals of a decimal number).
pub const MAX_DENOMINATOR: u64 = 1_000_000_000;
/// Largest magnitude accepted for a weight or a target.
pub const MAX_MAGNITUDE: i64 = 1_000_000_000;

/// An exact rational `num/den` in lowest terms with `den > 0`.
///
/// # Examples
/// ```
/// use pve_engine::flame::Rational;
/// assert_eq!(Rational::parse("0.1").unwrap(), Rational::new(1, 10).unwrap());
/// assert_eq!(Rational::parse("2/24").unwrap().to_string(), "1/12");
/// assert_eq!(Rational::from_f64(17.5).unwrap(), Rational::new(35, 2).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rational {
    num: i64,
    den: u64,
}

pub(crate) fn gcd_u128(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

impl Rational {
    pub const ZERO: Rational = Rational { num: 0, den: 1 };
    pub const ONE: Rational = Rational { num: 1, den: 1 };

    /// `num/den`, reduced.
    ///
    /// # Errors
    /// [`Error::ZeroDenominator`]; [`Error::NumberOutOfRange`] when the reduced value has a denominator above
    /// [`MAX_DENOMINATOR`] or a magnitude above [`MAX_MAGNITUDE`].
    pub fn new(num: i64, den: u64) -> Result<Self, Error> {
        if den == 0 {
            return Err(Error::ZeroDenominator);
        }
        let g = gcd_u128(u128::from(num.unsigned_abs()), u128::from(den)) as u64;
        let (num, den) = if g > 1 {
            (num / g as i64, den / g)
        } else {
            (num, den)
        };
        let r = Rational { num, den };
        // |num/den| <= MAX_MAGNITUDE exactly (1000000000.5 is above it).
        if den > MAX_DENOMINATOR
            || u128::from(num.unsigned_abs()) > u128::from(MAX_MAGNITUDE as u64) * u128::from(den)
        {
            return Err(Error::NumberOutOfRange {
                text: format!("{num}/{den}"),
            });
        }
        Ok(r)
    }

    /// The integer `n`.
    ///
    /// # Errors
    /// [`Error::NumberOutOfRange`] above [`MAX_MAGNITUDE`].
    pub fn integer(n: i64) -> Result<Self, Error> {
        Rational::new(n, 1)
    }

    /// Parse `"12"`, `"-3"`, `"0.125"` (exact decimal, at most 9 decimals) or `"1/12"` (a fraction of
    /// integers, each at most [`MAX_MAGNITUDE`] as written), with no spaces: exactly what the OpenAPI
    /// document's pattern for a number string admits.
    ///
    /// # Errors
    /// [`Error::InvalidNumber`] for anything else, [`Error::NumberOutOfRange`] for a fraction's part above
    /// [`MAX_MAGNITUDE`], plus the errors of [`Rational::new`].
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidNumber {
            text: text.to_owned(),
        };
        let t = text;
        if let Some((n, d)) = t.split_once('/') {
            let digits = |s: &str| {
                let s = s.strip_prefix(['+', '-']).unwrap_or(s);
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
            };
            // A sign only before the numerator, `+` or `-`, and `+` alone before the denominator.
            if !digits(n) || !digits(d) || d.starts_with('-') {
                return Err(bad());
            }
            let out_of_range = || Error::NumberOutOfRange { text: t.to_owned() };
            let n: i64 = n.parse().map_err(|_| out_of_range())?;
            let d: u64 = d.parse().map_err(|_| out_of_range())?;
            if n.unsigned_abs() > MAX_MAGNITUDE as u64 || d > MAX_DENOMINATOR {
                return Err(out_of_range());
            }
            return Rational::new(n, d);
        }
        let (neg, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if int_part.is_empty() && frac_part.is_empty()
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let frac_part = frac_part.trim_end_matches('0');
        if frac_part.len() > 9 || int_part.trim_start_matches('0').len() > 10 {
            return Err(Error::NumberOutOfRange { text: t.to_owned() });
        }
        // At most 19 significant digits: fits an i128 with room to spare, checked into i64 below.
        let mut num: i128 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            num = num * 10 + i128::from(b - b'0');
        }
        let num = i64::try_from(if neg { -num } else { num })
            .map_err(|_| Error::NumberOutOfRange { text: t.to_owned() })?;
        Rational::new(num, 10u64.pow(frac_part.len() as u32))
    }

    /// The decimal number `x` as written in its shortest round-trip form (so `0.1` is exactly 1/10).
    ///
    /// # Errors
    /// [`Error::InvalidNumber`] for NaN or infinities, plus the errors of [`Rational::parse`].
    pub fn from_f64(x: f64) -> Result<Self, Error> {
        if !x.is_finite() {
            return Err(Error::InvalidNumber { text: format!("{x}") });
        }
        Rational::parse(&format!("{x}"))
    }

    /// The decimal number `x` as [`Rational::from_f64`] reads it, except that a shortest form with more
    /// than 9 decimals (`1.5e-10`, `0.1234567891`) is rounded to 9, half away from zero, on that decimal
    /// form. Returns whether it was rounded, so the caller can say so. A JSON number cannot be kept to 9
    /// decimals by the document (JSON Schema has no such rule), so one that has more is read, not refused.
    ///
    /// # Errors
    /// As [`Rational::from_f64`], for what remains (NaN, infinities, a magnitude above [`MAX_MAGNITUDE`]).
    pub fn from_f64_rounded(x: f64) -> Result<(Self, bool), Error> {
        if !x.is_finite() {
            return Err(Error::InvalidNumber { text: format!("{x}") });
        }
        // Rust writes every finite f64 in plain decimal (no exponent), in its shortest round-trip form.
        let text = format!("{x}");
        let (neg, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let Some((int_part, frac_part)) = digits.split_once('.').filter(|(_, f)| f.len() > 9) else {
            return Rational::parse(&text).map(|r| (r, false));
        };
        let out_of_range = || Error::NumberOutOfRange { text: text.clone() };
        // A float with a 10th decimal is below 2^53 in magnitude: its billionths fit an i128.
        let int: i128 = int_part.parse().map_err(|_| out_of_range())?;
        let kept: i128 = frac_part[..9].parse().map_err(|_| out_of_range())?;
        let up = i128::from(frac_part.as_bytes()[9] >= b'5');
        let billionths = int * 1_000_000_000 + kept + up;
        let num = i64::try_from(if neg { -billionths } else { billionths }).map_err(|_| out_of_range())?;
        Rational::new(num, MAX_DENOMINATOR).map(|r| (r, true))
    }

    pub fn num(self) -> i64 {
        self.num
    }

    pub fn den(self) -> u64 {
        self.den
    }

    pub fn is_negative(self) -> bool {
        self.num < 0
    }

    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    /// The nearest multiple of 10^-9 (a half rounds away from zero): what every weight becomes when the
    /// weights' exact common denominator would be above [`MAX_SCALE`](super::MAX_SCALE).
    ///
    /// ```
    /// use pve_engine::flame::Rational;
    /// let r = Rational::new(1, 3).unwrap().to_billionths().unwrap();
    /// assert_eq!(r, Rational::new(333_333_333, 1_000_000_000).unwrap());
    /// ```
    ///
    /// # Errors
    /// None for a value within [`MAX_MAGNITUDE`] (its billionths fit an `i64`).
    pub fn to_billionths(self) -> Result<Self, Error> {
        let scaled = i128::from(self.num) * i128::from(MAX_DENOMINATOR);
        let den = i128::from(self.den);
        let (q, r) = (scaled / den, scaled % den);
        let q = if 2 * r.abs() >= den {
            q + scaled.signum()
        } else {
            q
        };
        let out_of_range = || Error::NumberOutOfRange {
            text: self.to_string(),
        };
        Rational::new(i64::try_from(q).map_err(|_| out_of_range())?, MAX_DENOMINATOR)
    }

    /// Nearest `f64` (one rounding of each part, then a correctly rounded division).
    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}
