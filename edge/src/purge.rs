//! Cache purge by generation: the decisions, pure.
//!
//! Every character has a **generation** (0 until its first purge), held by one authority (the Worker keeps
//! it in the character's Durable Object storage). Every cached copy of the character's data, in every tier
//! (isolate memory, KV, the single-flight object's memory), is **stamped** with the generation its load was
//! started under. A purge raises the generation; from then on a copy with an older stamp is stale wherever
//! it sits, so no tier can hand a purged copy back to another ("invalidate L2, then L1, then broadcast, or
//! the tiers disagree": with stamps, a lower tier refilling an upper one with a purged copy is refused by
//! the same compare at every tier).
//!
//! An isolate does not ask the authority on every read: it keeps a **view** of each character's generation
//! and trusts it for `check_ms` after it was read. So the staleness bound of a purge in another isolate is
//! `check_ms` after the purge returns; in the isolate that ran it, and for every load through the
//! single-flight object, it is zero.
//!
//! Generations are not small counters but `max(previous + 1, now_ms)`: if the authority's record is ever
//! lost (0 again), the next purge still lands above every stamp handed out before.

use crate::cache::{valuation_prefix, Entry, Kind, Resource};

/// An isolate's knowledge of one character's generation: the value and when it was read (epoch ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub generation: u64,
    pub checked_at_ms: u64,
}

impl View {
    /// Whether the view may be trusted at `now_ms` without asking the authority again.
    pub fn is_current(&self, now_ms: u64, check_ms: u64) -> bool {
        now_ms < self.checked_at_ms.saturating_add(check_ms)
    }
}

/// A copy stamped `stamp` belongs to generation `generation` or a later one (the one compare every tier
/// makes: the isolate's memory, KV's copy, the single-flight object's last result and its load in flight).
pub fn is_current_stamp(stamp: u64, generation: u64) -> bool {
    stamp >= generation
}

/// The generation a purge sets, given the authority's `current` one and its clock: strictly above
/// `current`, and not below `now_ms` (so a lost record cannot bring back old stamps).
pub fn next_generation(current: u64, now_ms: u64) -> u64 {
    current.saturating_add(1).max(now_ms)
}

/// Merge what a reader learnt (`seen`, read from the authority or carried by a load's answer at
/// `now_ms`) into its `view`: generations never go back, and the check time is the newest.
pub fn learn(view: Option<View>, seen: u64, now_ms: u64) -> View {
    match view {
        Some(v) => View {
            generation: v.generation.max(seen),
            checked_at_ms: v.checked_at_ms.max(now_ms),
        },
        None => View {
            generation: seen,
            checked_at_ms: now_ms,
        },
    }
}

/// An isolate's views, by character. At most `max` are kept; when full, the map is cleared (a
/// forgotten view is asked again: safe, one more call).
#[derive(Debug, Clone, Default)]
pub struct Views {
    views: std::collections::HashMap<String, View>,
    max: usize,
}

impl Views {
    pub fn new(max: usize) -> Views {
        Views {
            views: std::collections::HashMap::new(),
            max,
        }
    }

    pub fn get(&self, character: &str) -> Option<View> {
        self.views.get(character).copied()
    }

    /// Record that `character`'s generation was `generation` at `now_ms` ([`learn`]).
    pub fn learn(&mut self, character: &str, generation: u64, now_ms: u64) {
        if self.views.len() >= self.max && !self.views.contains_key(character) {
            self.views.clear();
        }
        let learnt = learn(self.get(character), generation, now_ms);
        self.views.insert(character.to_owned(), learnt);
    }
}

/// The generation a read uses after asking the authority: its `answer`, never below the `known` view;
/// when the authority could not be asked (`None`), the known view's, or 0 — an outage of the authority
/// lengthens a purge's bound, it does not fail reads.
pub fn after_asking(known: Option<View>, answer: Option<u64>) -> u64 {
    let known = known.map_or(0, |v| v.generation);
    answer.map_or(known, |g| g.max(known))
}

/// What a purge of a name removes: its ocid entry and — when a cached copy knows the ocid — its
/// equipment entry and every derived valuation of that ocid (by key prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    pub ocid: Option<String>,
    /// The keys to delete from KV and drop from L1, the ocid's first.
    pub keys: Vec<String>,
    /// The prefix of the derived valuations' keys, listed in KV and dropped from L1.
    pub derived_prefix: Option<String>,
}

impl Targets {
    /// `cached` is a copy of the name's ocid entry, from L1 or KV, whatever its stamp: a `found` one names
    /// the ocid (a `not_found` one, or an unreadable body, names none).
    pub fn of(name: &str, cached: Option<&Entry>) -> Targets {
        let ocid = cached
            .filter(|e| e.meta.kind == Kind::Found)
            .and_then(|e| String::from_utf8(e.body.clone()).ok());
        let mut keys = vec![Resource::Ocid {
            name: name.to_owned(),
        }
        .key()];
        keys.extend(
            ocid.iter()
                .map(|ocid| Resource::Equipment { ocid: ocid.clone() }.key()),
        );
        Targets {
            derived_prefix: ocid.as_deref().map(valuation_prefix),
            keys,
            ocid,
        }
    }
}

/// What a purge did (`POST /v1/admin/characters/{name}/purge`'s answer).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub character_name: String,
    /// The ocid, when a cached copy knew it (else only the ocid entry is deleted; equipment copies under
    /// an unknown ocid are made stale by the generation alone).
    pub ocid: Option<String>,
    pub generation: u64,
    pub previous_generation: u64,
    /// KV keys deleted (each existed or not: KV deletes are idempotent).
    pub kv_deleted: Vec<String>,
    /// Entries dropped from this isolate's L1.
    pub l1_dropped: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHECK: u64 = 1_000;

    #[test]
    fn a_purge_targets_the_ocid_and_what_a_found_copy_names() {
        let found = Entry::found(b"ocid1".to_vec(), 1, 2, 3);
        let t = Targets::of("a", Some(&found));
        assert_eq!(t.ocid.as_deref(), Some("ocid1"));
        assert_eq!(
            t.keys,
            [
                Resource::Ocid { name: "a".into() }.key(),
                Resource::Equipment { ocid: "ocid1".into() }.key()
            ]
        );
        assert_eq!(t.derived_prefix, Some(valuation_prefix("ocid1")));
        let mut not_found = Entry::found(b"ocid1".to_vec(), 1, 2, 3);
        not_found.meta.kind = Kind::NotFound;
        for cached in [None, Some(&not_found)] {
            let t = Targets::of("a", cached);
            assert_eq!((t.ocid, t.keys.len(), t.derived_prefix), (None, 1, None));
        }
    }

    #[test]
    fn views_are_bounded_and_learn_never_goes_back() {
        let mut views = Views::new(2);
        views.learn("a", 5, 10);
        views.learn("a", 3, 20);
        assert_eq!(views.get("a"), view(5, 20));
        views.learn("b", 1, 1);
        // Full: a new character clears the map first.
        views.learn("c", 2, 2);
        assert_eq!((views.get("a"), views.get("c")), (None, view(2, 2)));
    }

    #[test]
    fn after_asking_takes_the_answer_never_below_the_view_and_the_view_when_unanswered() {
        assert_eq!(after_asking(view(5, 0), Some(9)), 9);
        assert_eq!(after_asking(view(5, 0), Some(3)), 5);
        assert_eq!(after_asking(view(5, 0), None), 5);
        assert_eq!(after_asking(None, None), 0);
        assert_eq!(after_asking(None, Some(4)), 4);
    }

    fn view(generation: u64, checked_at_ms: u64) -> Option<View> {
        Some(View {
            generation,
            checked_at_ms,
        })
    }

    #[test]
    fn views_and_stamps() {
        let v = View {
            generation: 7,
            checked_at_ms: 100,
        };
        // the view is trusted for CHECK ms after it was read, not at CHECK
        assert!(v.is_current(100, CHECK));
        assert!(v.is_current(100 + CHECK - 1, CHECK));
        assert!(!v.is_current(100 + CHECK, CHECK));
        // a zero check interval asks on every read
        assert!(!v.is_current(100, 0));
        // no overflow near the end of time
        let late = View {
            generation: 7,
            checked_at_ms: u64::MAX - 1,
        };
        assert!(late.is_current(u64::MAX - 1, CHECK));
        // never purged: every copy is current
        assert!(is_current_stamp(0, 0));
        // loaded under the current generation, or a later one (another isolate purged and reloaded)
        assert!(is_current_stamp(7, 7) && is_current_stamp(9, 7));
        // loaded before the purge
        assert!(!is_current_stamp(6, 7) && !is_current_stamp(0, 7));
    }

    #[test]
    fn next_generation_table() {
        assert_eq!(next_generation(0, 1_700_000_000_000), 1_700_000_000_000);
        // two purges in the same millisecond still differ
        assert_eq!(
            next_generation(1_700_000_000_000, 1_700_000_000_000),
            1_700_000_000_001
        );
        // a clock behind the record does not move the generation back
        assert_eq!(next_generation(5_000, 10), 5_001);
        assert_eq!(next_generation(u64::MAX, 0), u64::MAX);
    }

    #[test]
    fn learn_never_goes_back() {
        assert_eq!(
            learn(None, 5, 10),
            View {
                generation: 5,
                checked_at_ms: 10
            }
        );
        assert_eq!(
            learn(view(9, 20), 5, 30),
            View {
                generation: 9,
                checked_at_ms: 30
            }
        );
        assert_eq!(
            learn(view(9, 20), 12, 15),
            View {
                generation: 12,
                checked_at_ms: 20
            }
        );
    }

    proptest! {
        /// A purge invalidates every copy stamped before it, whatever the clock says, and never one
        /// stamped after it: after `next_generation`, a reader that learnt it refuses every earlier stamp
        /// and accepts the new one.
        #[test]
        fn a_purge_invalidates_exactly_the_older_stamps(current in 0u64..1 << 50, now in 0u64..1 << 50,
                                                        older in 0u64..1 << 50, at in 0u64..1 << 40) {
            let stamp = older.min(current);
            let next = next_generation(current, now);
            prop_assert!(next > current);
            let v = learn(Some(View { generation: current, checked_at_ms: at }), next, at);
            prop_assert!(v.is_current(at, CHECK));
            prop_assert!(!is_current_stamp(stamp, v.generation));
            prop_assert!(is_current_stamp(next, v.generation));
        }
    }
}
