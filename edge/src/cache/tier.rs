//! Which tier answers a lookup: one pure function, [`decide`], called with what the lookup has read so
//! far ([`Known`]); its [`Step`] names the one thing to do next — read more (L2, the purge generation), answer
//! from a tier, answer a stale copy and revalidate, load through single-flight, or refuse. The Worker's
//! `cache::lookup` is a loop over it that does only the I/O a step names, so every rule below is tested
//! here, natively, as a table.
//!
//! The rules, in order:
//! 1. A copy is judged only against the character's purge generation: one stamped below it, or of another
//!    format version, counts as absent (and a purged L1 copy is dropped, [`Known::purged_l1`]).
//! 2. `Normal`: a fresh copy answers (L1 before L2; a fresh `not_found` is a [`Step::Negative`]).
//!    `Refresh`: no cached copy answers first; L2 is read only as a stale-if-error fallback, so not when
//!    L1 has one.
//! 3. `Normal`: the newest copy within `stale_until` that is `found` and within `fresh_until +
//!    STALE_WHILE_REVALIDATE_MS` answers at once and is revalidated in the background.
//! 4. Otherwise a load through single-flight, accepting no copy stamped below the generation (and, for a
//!    refresh, none fetched before `requested_at - REFRESH_WINDOW_MS`).
//! 5. When the load failed with an upstream error: that stale `found` copy answers (stale-if-error), unless
//!    the refresh asked for none; else the error is the answer. A bug (an internal load error) is never
//!    hidden behind a stale copy.
use super::{Entry, How, Kind, Mode, Resource, FORMAT_VERSION};
use crate::config::Config;
use crate::purge::is_current_stamp;
use crate::single_flight::{LoadError, Want};

/// One cached tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    L1,
    L2,
}

/// What one tier gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Read<'a> {
    /// Not read (yet).
    NotRead,
    /// Read, nothing there (or the read failed: KV failing must not fail the request).
    Missing,
    Copy(&'a Entry),
}

impl<'a> Read<'a> {
    fn copy(self) -> Option<&'a Entry> {
        match self {
            Read::Copy(e) => Some(e),
            Read::NotRead | Read::Missing => None,
        }
    }
}

/// What a lookup knows so far. L1 is always read first (it is memory).
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    pub l1: Option<&'a Entry>,
    pub l2: Read<'a>,
    /// The character's purge generation, once read.
    pub generation: Option<u64>,
    /// Why the load failed, once it did.
    pub load_error: Option<&'a LoadError>,
}

impl<'a> Known<'a> {
    /// What the L1 read gave.
    pub fn new(l1: Option<&'a Entry>) -> Known<'a> {
        Known {
            l1,
            l2: Read::NotRead,
            generation: None,
            load_error: None,
        }
    }

    fn current(&self, e: &'a Entry) -> Option<&'a Entry> {
        let g = self.generation?;
        (e.meta.version == FORMAT_VERSION && is_current_stamp(e.meta.generation, g)).then_some(e)
    }

    fn l1_current(&self) -> Option<&'a Entry> {
        self.l1.and_then(|e| self.current(e))
    }

    fn l2_current(&self) -> Option<&'a Entry> {
        self.l2.copy().and_then(|e| self.current(e))
    }

    /// The L1 copy was loaded before the last purge (or is of another format): drop it from L1.
    pub fn purged_l1(&self) -> bool {
        self.l1.is_some() && self.generation.is_some() && self.l1_current().is_none()
    }

    /// The L2 copy was loaded before the last purge (or is of another format).
    pub fn purged_l2(&self) -> bool {
        self.l2.copy().is_some() && self.generation.is_some() && self.l2_current().is_none()
    }

    /// The tier's copy, if it is current.
    pub fn copy(&self, tier: Tier) -> Option<&'a Entry> {
        match tier {
            Tier::L1 => self.l1_current(),
            Tier::L2 => self.l2_current(),
        }
    }

    /// The newest current copy within its error window.
    fn stale(&self, now: u64) -> Option<(Tier, &'a Entry)> {
        [(Tier::L1, self.l1_current()), (Tier::L2, self.l2_current())]
            .into_iter()
            .filter_map(|(t, e)| Some((t, e?)))
            .filter(|(_, e)| e.is_usable_stale(now))
            .max_by_key(|(_, e)| e.meta.fetched_at)
    }
}

/// The next thing a lookup does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Read the character's purge generation: a copy must be judged, or a load must carry it.
    ReadGeneration,
    /// Read L2 (KV).
    ReadL2,
    /// A fresh `found` copy in this tier answers (from L2: keep it in L1 too).
    Serve(Tier),
    /// A fresh `not_found` copy in this tier answers: the character does not exist.
    Negative(Tier),
    /// Answer this tier's copy now (keep it in L1) and load in the background with this [`Want`].
    ServeStaleAndRevalidate(Tier, Want),
    /// Load through the key's single-flight Durable Object.
    Load(Want),
    /// The load failed with an upstream error: this tier's copy answers (stale-if-error).
    ServeStaleOnError(Tier),
    /// The load failed and nothing may answer: the load's error is the answer.
    Refuse,
}

/// A step that answers from a cached copy: which tier's copy, how the answer was served, and whether
/// the copy is kept in L1 on the way out (an L2 copy, and a stale one answered while it revalidates).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answer {
    pub tier: Tier,
    pub how: How,
    pub keep_in_l1: bool,
}

impl Step {
    /// The answer this step gives from a cached copy; `None` for a step that reads, loads or refuses.
    pub fn answer(&self) -> Option<Answer> {
        let answer = |tier, how, keep_in_l1| {
            Some(Answer {
                tier,
                how,
                keep_in_l1,
            })
        };
        match *self {
            Step::Serve(Tier::L1) | Step::Negative(Tier::L1) => answer(Tier::L1, How::L1, false),
            Step::Serve(Tier::L2) | Step::Negative(Tier::L2) => answer(Tier::L2, How::L2, true),
            Step::ServeStaleAndRevalidate(tier, _) => answer(tier, How::StaleRevalidating, true),
            Step::ServeStaleOnError(tier) => answer(tier, How::StaleOnError, false),
            Step::ReadGeneration | Step::ReadL2 | Step::Load(_) | Step::Refuse => None,
        }
    }
}

/// The next step of a lookup of `resource` in `mode` at `now`, given what is `known`.
pub fn decide(known: &Known, resource: &Resource, mode: Mode, now: u64, cfg: &Config) -> Step {
    // 1. A copy is judged against the generation before anything else.
    let unjudged = known.l1.is_some() || known.l2.copy().is_some();
    if unjudged && known.generation.is_none() {
        return Step::ReadGeneration;
    }
    // 2. Fresh copies, L1 before L2.
    let fresh = |tier| {
        let e = known.copy(tier)?;
        e.is_fresh(now).then_some(match e.meta.kind {
            Kind::Found => Step::Serve(tier),
            Kind::NotFound => Step::Negative(tier),
        })
    };
    if mode == Mode::Normal {
        if let Some(step) = fresh(Tier::L1) {
            return step;
        }
    }
    if known.l2 == Read::NotRead && (mode == Mode::Normal || known.l1_current().is_none()) {
        return Step::ReadL2;
    }
    if mode == Mode::Normal {
        if let Some(step) = fresh(Tier::L2) {
            return step;
        }
    }
    // A load carries the generation, except to the generation's own authority, which applies it itself.
    let min_generation = match known.generation {
        Some(g) => g,
        None if resource.is_generation_authority() => 0,
        None => return Step::ReadGeneration,
    };
    let stale = known.stale(now).filter(|(_, e)| e.meta.kind == Kind::Found);
    // 5. After a failed load.
    if let Some(err) = known.load_error {
        let allowed = !matches!(
            mode,
            Mode::Refresh {
                stale_if_error: false,
                ..
            }
        );
        return match stale {
            Some((tier, _)) if allowed && !matches!(err, LoadError::Internal { .. }) => {
                Step::ServeStaleOnError(tier)
            }
            _ => Step::Refuse,
        };
    }
    // 3. Stale while revalidate.
    if mode == Mode::Normal {
        if let Some((tier, _)) =
            stale.filter(|(_, e)| now < e.meta.fresh_until.saturating_add(cfg.stale_while_revalidate_ms))
        {
            return Step::ServeStaleAndRevalidate(
                tier,
                Want {
                    min_fetched_at: 0,
                    min_generation,
                },
            );
        }
    }
    // 4. Load.
    Step::Load(Want {
        min_fetched_at: match mode {
            Mode::Normal => 0,
            Mode::Refresh { requested_at, .. } => requested_at.saturating_sub(cfg.refresh_window_ms),
        },
        min_generation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Meta;

    const FRESH: u64 = 1_000;

    #[test]
    fn answering_steps_name_their_tier_how_and_whether_l1_keeps_the_copy() {
        let want = Want {
            min_fetched_at: 0,
            min_generation: 0,
        };
        let a = |step: Step| step.answer().map(|a| (a.tier, a.how, a.keep_in_l1));
        assert_eq!(a(Step::Serve(Tier::L1)), Some((Tier::L1, How::L1, false)));
        assert_eq!(a(Step::Negative(Tier::L2)), Some((Tier::L2, How::L2, true)));
        assert_eq!(
            a(Step::ServeStaleAndRevalidate(Tier::L1, want)),
            Some((Tier::L1, How::StaleRevalidating, true))
        );
        assert_eq!(
            a(Step::ServeStaleOnError(Tier::L2)),
            Some((Tier::L2, How::StaleOnError, false))
        );
        for step in [Step::ReadGeneration, Step::ReadL2, Step::Load(want), Step::Refuse] {
            assert_eq!(step.answer(), None);
        }
    }
    const STALE: u64 = 10_000;
    const SWR: u64 = 3_000;
    const REFRESH_WINDOW: u64 = 500;
    const AT: u64 = 100_000;

    fn cfg() -> Config {
        let mut cfg = Config::parse(&|_: &str| None).unwrap();
        cfg.stale_while_revalidate_ms = SWR;
        cfg.refresh_window_ms = REFRESH_WINDOW;
        cfg
    }

    fn found(fetched_at: u64, generation: u64) -> Entry {
        let mut e = Entry::found(b"x".to_vec(), fetched_at, FRESH, STALE);
        e.meta.generation = generation;
        e
    }

    fn not_found(fetched_at: u64) -> Entry {
        Entry::not_found(fetched_at, FRESH)
    }

    fn equipment() -> Resource {
        Resource::Equipment { ocid: "abc".into() }
    }

    fn ocid() -> Resource {
        Resource::Ocid {
            name: "에반".into()
        }
    }

    const NORMAL: Mode = Mode::Normal;
    const REFRESH: Mode = Mode::Refresh {
        requested_at: AT,
        stale_if_error: true,
    };
    const REFRESH_NO_STALE: Mode = Mode::Refresh {
        requested_at: AT,
        stale_if_error: false,
    };

    fn want(min_fetched_at: u64, min_generation: u64) -> Want {
        Want {
            min_fetched_at,
            min_generation,
        }
    }

    fn upstream_down() -> LoadError {
        LoadError::unavailable(1_000, "upstream answered 503")
    }

    struct Case<'a> {
        name: &'a str,
        known: Known<'a>,
        resource: Resource,
        mode: Mode,
        now: u64,
        expect: Step,
    }

    fn check(cases: &[Case]) {
        let cfg = cfg();
        for c in cases {
            assert_eq!(
                decide(&c.known, &c.resource, c.mode, c.now, &cfg),
                c.expect,
                "{}",
                c.name
            );
        }
    }

    fn with_error<'a>(k: Known<'a>, e: &'a LoadError) -> Known<'a> {
        Known {
            load_error: Some(e),
            ..k
        }
    }

    fn known<'a>(l1: Option<&'a Entry>, l2: Read<'a>, generation: Option<u64>) -> Known<'a> {
        Known {
            l1,
            l2,
            generation,
            load_error: None,
        }
    }

    #[test]
    fn the_tier_table() {
        let fresh = found(AT - 10, 0);
        let stale_in_swr = found(AT - FRESH - SWR + 1, 0); // past fresh, within SWR
        let stale_past_swr = found(AT - FRESH - SWR, 0); // past SWR, within stale_until
        let expired = found(AT - STALE, 0); // past stale_until
        let older = found(AT - FRESH - 2_000, 0);
        let newer = found(AT - FRESH - 1_000, 0);
        let negative = not_found(AT - 10);
        let stale_negative = not_found(AT - FRESH);
        let purged = found(AT - 10, 6);
        let current = found(AT - 10, 7);
        let mut other_format = found(AT - 10, 0);
        other_format.meta.version = FORMAT_VERSION + 1;
        let down = upstream_down();
        let bug = LoadError::Internal {
            detail: "bug: single flight answered x-load-role: \"?\"".into(),
        };
        let (fresh, stale_in_swr, stale_past_swr, expired, older, newer, negative, stale_negative) = (
            &fresh,
            &stale_in_swr,
            &stale_past_swr,
            &expired,
            &older,
            &newer,
            &negative,
            &stale_negative,
        );
        let (purged, current, other_format, down, bug) = (&purged, &current, &other_format, &down, &bug);
        let g0 = Some(0);
        check(&[
            Case {
                name: "a cold lookup of an equipment reads L2, then the generation, then loads",
                known: Known::new(None),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::ReadL2,
            },
            Case {
                name: "L2 missing, generation unknown: an equipment load must carry it",
                known: known(None, Read::Missing, None),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::ReadGeneration,
            },
            Case {
                name: "an ocid load goes to the generation's authority without it",
                known: known(None, Read::Missing, None),
                resource: ocid(),
                mode: NORMAL,
                now: AT,
                expect: Step::Load(want(0, 0)),
            },
            Case {
                name: "a copy is judged against the generation first",
                known: Known::new(Some(fresh)),
                resource: ocid(),
                mode: NORMAL,
                now: AT,
                expect: Step::ReadGeneration,
            },
            Case {
                name: "fresh in L1",
                known: known(Some(fresh), Read::NotRead, g0),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::Serve(Tier::L1),
            },
            Case {
                name: "fresh in L2 (L1 empty)",
                known: known(None, Read::Copy(fresh), g0),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::Serve(Tier::L2),
            },
            Case {
                name: "a fresh negative entry answers: no such character",
                known: known(Some(negative), Read::NotRead, g0),
                resource: ocid(),
                mode: NORMAL,
                now: AT,
                expect: Step::Negative(Tier::L1),
            },
            Case {
                name: "a negative entry in L2",
                known: known(None, Read::Copy(negative), g0),
                resource: ocid(),
                mode: NORMAL,
                now: AT,
                expect: Step::Negative(Tier::L2),
            },
            Case {
                name: "an expired negative entry is loaded again, never served stale",
                known: known(Some(stale_negative), Read::Missing, g0),
                resource: ocid(),
                mode: NORMAL,
                now: AT,
                expect: Step::Load(want(0, 0)),
            },
            Case {
                name: "stale L1 copy: L2 is read before anything else",
                known: known(Some(stale_in_swr), Read::NotRead, g0),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::ReadL2,
            },
            Case {
                name: "stale within SWR: answer now, revalidate",
                known: known(Some(stale_in_swr), Read::Missing, g0),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::ServeStaleAndRevalidate(Tier::L1, want(0, 0)),
            },
            Case {
                name: "the newest stale copy of both tiers answers",
                known: known(Some(older), Read::Copy(newer), g0),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::ServeStaleAndRevalidate(Tier::L2, want(0, 0)),
            },
            Case {
                name: "stale past SWR: load (the copy is kept for stale-if-error)",
                known: known(Some(stale_past_swr), Read::Missing, g0),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::Load(want(0, 0)),
            },
            Case {
                name: "stale past SWR, upstream error: stale-if-error",
                known: with_error(known(Some(stale_past_swr), Read::Missing, g0), down),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::ServeStaleOnError(Tier::L1),
            },
            Case {
                name: "past stale_until, upstream error: refuse",
                known: with_error(known(Some(expired), Read::Missing, g0), down),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::Refuse,
            },
            Case {
                name: "nothing cached, upstream error: refuse",
                known: with_error(known(None, Read::Missing, g0), down),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::Refuse,
            },
            Case {
                name: "a bug in the load is not hidden behind a stale copy",
                known: with_error(known(Some(stale_past_swr), Read::Missing, g0), bug),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::Refuse,
            },
            Case {
                name: "refresh skips a fresh L1 copy and does not read L2 when L1 has a fallback",
                known: known(Some(fresh), Read::NotRead, g0),
                resource: equipment(),
                mode: REFRESH,
                now: AT,
                expect: Step::Load(want(AT - REFRESH_WINDOW, 0)),
            },
            Case {
                name: "refresh without an L1 copy reads L2 (a fallback for stale-if-error)",
                known: Known::new(None),
                resource: equipment(),
                mode: REFRESH,
                now: AT,
                expect: Step::ReadL2,
            },
            Case {
                name: "refresh skips a fresh L2 copy",
                known: known(None, Read::Copy(fresh), g0),
                resource: equipment(),
                mode: REFRESH,
                now: AT,
                expect: Step::Load(want(AT - REFRESH_WINDOW, 0)),
            },
            Case {
                name: "refresh never answers stale while revalidating",
                known: known(Some(stale_in_swr), Read::NotRead, g0),
                resource: equipment(),
                mode: REFRESH,
                now: AT,
                expect: Step::Load(want(AT - REFRESH_WINDOW, 0)),
            },
            Case {
                name: "refresh, upstream error: stale-if-error when asked",
                known: with_error(known(Some(fresh), Read::NotRead, g0), down),
                resource: equipment(),
                mode: REFRESH,
                now: AT,
                expect: Step::ServeStaleOnError(Tier::L1),
            },
            Case {
                name: "refresh (watch sweep), upstream error: the error, not a stale copy",
                known: with_error(known(Some(fresh), Read::NotRead, g0), down),
                resource: equipment(),
                mode: REFRESH_NO_STALE,
                now: AT,
                expect: Step::Refuse,
            },
            Case {
                name: "version mismatch: a copy of another format is a miss",
                known: known(Some(other_format), Read::Copy(other_format), g0),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::Load(want(0, 0)),
            },
            Case {
                name: "purge generation: a copy stamped before the purge is refused in L1 ...",
                known: known(Some(purged), Read::NotRead, Some(7)),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::ReadL2,
            },
            Case {
                name: "... and in L2, and the load carries the generation",
                known: known(Some(purged), Read::Copy(purged), Some(7)),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::Load(want(0, 7)),
            },
            Case {
                name: "a purged copy is no stale-if-error fallback",
                known: with_error(known(Some(purged), Read::Copy(purged), Some(7)), down),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::Refuse,
            },
            Case {
                name: "a copy stamped with the current generation answers",
                known: known(Some(current), Read::NotRead, Some(7)),
                resource: equipment(),
                mode: NORMAL,
                now: AT,
                expect: Step::Serve(Tier::L1),
            },
            Case {
                name: "an L2 copy read after L1's judgement needs no second generation read",
                known: known(None, Read::Copy(current), Some(7)),
                resource: ocid(),
                mode: NORMAL,
                now: AT,
                expect: Step::Serve(Tier::L2),
            },
        ]);
    }

    #[test]
    fn purged_copies_are_named_for_dropping() {
        let purged = found(AT, 6);
        let current = found(AT, 7);
        let k = known(Some(&purged), Read::Copy(&current), Some(7));
        assert!(k.purged_l1() && !k.purged_l2());
        let k = known(Some(&current), Read::Copy(&purged), Some(7));
        assert!(!k.purged_l1() && k.purged_l2());
        // not judged yet: nothing is called purged
        let k = known(Some(&purged), Read::Copy(&purged), None);
        assert!(!k.purged_l1() && !k.purged_l2());
    }

    /// Driving `decide` to its end, reading from fixed tiers, gives one of the terminal steps and reads
    /// each tier at most once: the loop in the Worker terminates.
    #[test]
    fn a_lookup_ends_in_a_bounded_number_of_steps() {
        let cfg = cfg();
        let stamped = |mut e: Entry, generation| {
            e.meta.generation = generation;
            e
        };
        let entries = [
            None,
            Some(found(AT - 10, 3)),
            Some(found(AT - FRESH - 1, 3)),
            Some(found(AT - FRESH - SWR, 4)),
            Some(found(AT - STALE, 3)),
            Some(stamped(not_found(AT - 10), 3)),
            Some(found(AT - 10, 2)),
        ];
        let errors = [None, Some(upstream_down())];
        for l1 in &entries {
            for l2 in &entries {
                for mode in [NORMAL, REFRESH, REFRESH_NO_STALE] {
                    for resource in [ocid(), equipment()] {
                        for err in &errors {
                            let mut k = Known::new(l1.as_ref());
                            let mut steps = 0;
                            let end = loop {
                                steps += 1;
                                assert!(steps <= 5, "no end: {k:?}");
                                match decide(&k, &resource, mode, AT, &cfg) {
                                    Step::ReadL2 => {
                                        assert_eq!(k.l2, Read::NotRead);
                                        k.l2 = l2.as_ref().map_or(Read::Missing, Read::Copy);
                                    }
                                    Step::ReadGeneration => {
                                        assert_eq!(k.generation, None);
                                        k.generation = Some(3);
                                    }
                                    Step::Load(w) if k.load_error.is_none() && err.is_some() => {
                                        assert!(w.min_generation == 3 || resource == ocid());
                                        k.load_error = err.as_ref();
                                    }
                                    step => break step,
                                }
                            };
                            if let Some(tier) = match end {
                                Step::Serve(t)
                                | Step::Negative(t)
                                | Step::ServeStaleAndRevalidate(t, _)
                                | Step::ServeStaleOnError(t) => Some(t),
                                _ => None,
                            } {
                                let e = k.copy(tier).expect("a served tier has a current copy");
                                assert!(e.meta.generation >= 3, "{end:?} served a purged copy");
                                assert!(e.is_usable_stale(AT) || e.is_fresh(AT));
                            }
                            if matches!(mode, Mode::Refresh { .. }) {
                                assert!(!matches!(end, Step::Serve(_) | Step::Negative(_)), "{end:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn meta_defaults_keep_old_entries_readable() {
        // Entries written before purges existed have no generation: they are generation 0.
        let m: Meta = serde_json::from_str(
            r#"{"version":1,"kind":"found","fetched_at":1,"fresh_until":2,"stale_until":3,"hash":"h"}"#,
        )
        .unwrap();
        assert_eq!(m.generation, 0);
    }
}
