//! Alert dedup windows. One alert key sends at most one message per window; later raises in the window
//! are counted. The Worker applies the same rule atomically in one D1 upsert; this is the rule itself,
//! and the suppressed count reported in the next window's message.

/// The dedup state of one alert key (`alert_state` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub started_at_ms: u64,
    pub count_in_window: u64,
}

/// Whether a window that started at `started_at_ms` is over at `now_ms` (it lasts `window_ms`).
pub fn window_over(started_at_ms: u64, window_ms: u64, now_ms: u64) -> bool {
    started_at_ms.saturating_add(window_ms) <= now_ms
}

/// What one raise does: `(new state, whether this raise sends a message)`.
pub fn raise(prev: Option<Window>, window_ms: u64, now_ms: u64) -> (Window, bool) {
    match prev {
        Some(w) if !window_over(w.started_at_ms, window_ms, now_ms) => (
            Window {
                started_at_ms: w.started_at_ms,
                count_in_window: w.count_in_window.saturating_add(1),
            },
            false,
        ),
        _ => (
            Window {
                started_at_ms: now_ms,
                count_in_window: 1,
            },
            true,
        ),
    }
}

/// How many raises the previous window suppressed, reported when a new window opens (0 otherwise).
pub fn suppressed_before(prev: Option<Window>, window_ms: u64, now_ms: u64) -> u64 {
    prev.filter(|w| window_over(w.started_at_ms, window_ms, now_ms))
        .map_or(0, |w| w.count_in_window.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const W: u64 = 900_000;

    #[test]
    fn window_table() {
        // first raise sends
        assert_eq!(
            raise(None, W, 5),
            (
                Window {
                    started_at_ms: 5,
                    count_in_window: 1
                },
                true
            )
        );
        let w = Window {
            started_at_ms: 1_000,
            count_in_window: 3,
        };
        // inside the window: counted only
        assert_eq!(
            raise(Some(w), W, 1_000),
            (
                Window {
                    started_at_ms: 1_000,
                    count_in_window: 4
                },
                false
            )
        );
        assert_eq!(
            raise(Some(w), W, 1_000 + W - 1),
            (
                Window {
                    started_at_ms: 1_000,
                    count_in_window: 4
                },
                false
            )
        );
        // the window is half-open: at exactly start + window a new one begins
        assert_eq!(
            raise(Some(w), W, 1_000 + W),
            (
                Window {
                    started_at_ms: 1_000 + W,
                    count_in_window: 1
                },
                true
            )
        );
        // a zero window sends every raise
        assert!(raise(Some(w), 0, 1_000).1);
        assert_eq!(suppressed_before(Some(w), W, 1_000 + W - 1), 0);
        assert_eq!(suppressed_before(Some(w), W, 1_000 + W), 2);
        assert_eq!(suppressed_before(None, W, 1), 0);
        // no overflow near the end of time
        assert!(!window_over(u64::MAX - 10, W, u64::MAX - 5));
    }

    proptest! {
        /// Over any sequence of raises, at most one message is sent per window, and the first raise sends.
        #[test]
        fn at_most_one_message_per_window(mut times in proptest::collection::vec(0u64..10_000_000, 1..60),
                                          window in 1u64..2_000_000) {
            times.sort_unstable();
            let mut state = None;
            let mut sent: Vec<u64> = Vec::new();
            let mut raised = 0u64;
            for &t in &times {
                let (next, send) = raise(state, window, t);
                raised += 1;
                if send { sent.push(t); }
                prop_assert!(next.count_in_window >= 1);
                state = Some(next);
            }
            prop_assert_eq!(sent.first().copied(), Some(times[0]));
            for pair in sent.windows(2) {
                prop_assert!(pair[1] - pair[0] >= window);
            }
            prop_assert!(sent.len() as u64 <= raised);
        }
    }
}
