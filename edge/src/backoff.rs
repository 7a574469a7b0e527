//! Jittered exponential backoff. Randomness is an argument, so every bound is tested natively.

/// Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in
/// `[0, min(cap_ms, base_ms · 2^(attempt-1))]`, drawn from `random` (any `u64`, uniform).
/// `attempt` counts from 1; 0 is treated as 1.
pub fn full_jitter(attempt: u32, base_ms: u64, cap_ms: u64, random: u64) -> u64 {
    let ceiling = ceiling(attempt, base_ms, cap_ms);
    random % (ceiling + 1)
}

/// The largest wait [`full_jitter`] can return for this attempt.
pub fn ceiling(attempt: u32, base_ms: u64, cap_ms: u64) -> u64 {
    let shift = attempt.saturating_sub(1).min(40);
    base_ms.saturating_mul(1u64 << shift).min(cap_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ceilings_double_then_cap() {
        assert_eq!(ceiling(0, 100, 10_000), 100);
        assert_eq!(ceiling(1, 100, 10_000), 100);
        assert_eq!(ceiling(2, 100, 10_000), 200);
        assert_eq!(ceiling(7, 100, 10_000), 6_400);
        assert_eq!(ceiling(8, 100, 10_000), 10_000);
        assert_eq!(ceiling(u32::MAX, u64::MAX, u64::MAX), u64::MAX);
        assert_eq!(full_jitter(3, 100, 10_000, 0), 0);
        assert_eq!(full_jitter(3, 100, 10_000, 400), 400);
        assert_eq!(full_jitter(3, 100, 10_000, 401), 0);
    }

    proptest! {
        #[test]
        fn backoff_stays_within_its_ceiling(attempt in any::<u32>(), base in 0u64..1_000_000,
                                            cap in 0u64..100_000_000, r in any::<u64>()) {
            let c = ceiling(attempt, base, cap);
            prop_assert!(c <= cap);
            prop_assert!(full_jitter(attempt, base, cap, r) <= c);
        }

        #[test]
        fn ceilings_never_shrink(attempt in 1u32..100, base in 0u64..1_000_000, cap in 0u64..100_000_000) {
            prop_assert!(ceiling(attempt + 1, base, cap) >= ceiling(attempt, base, cap));
        }
    }
}
