//! One lookup through the tiers as a state machine: [`Lookup`] owns what the lookup has read so far (the
//! L1 copy, the L2 read, the purge generation, the load's error) and [`Lookup::next`] names the one thing
//! to do next, from [`decide`]. The Worker's `cache::lookup` is a loop that performs each [`Next`]'s I/O
//! and hands the result back (`generation`, [`Lookup::read_l2`], [`Lookup::loaded`]); every choice, and
//! every impossible turn of the table (a step naming an empty tier, a refusal without an error), is here.
use super::tier::{decide, Known, Read, Step, Tier};
use super::{Entry, How, Mode, Resource, Served};
use crate::config::Config;
use crate::error::EdgeError;
use crate::single_flight::{LoadError, Loaded, Want};
use std::rc::Rc;

/// What a lookup has read so far.
#[derive(Debug, Clone)]
pub struct Lookup {
    mode: Mode,
    resource: Resource,
    l1: Option<Rc<Entry>>,
    /// `None` until KV is read; then its copy, or `None` (missing, or the read failed).
    l2: Option<Option<Rc<Entry>>>,
    /// The character's purge generation, once read.
    pub generation: Option<u64>,
    load_error: Option<LoadError>,
}

/// The next thing the Worker does for a lookup.
#[derive(Debug)]
pub enum Next {
    /// Read the character's purge generation (into [`Lookup::generation`]).
    ReadGeneration,
    /// Read KV ([`Lookup::read_l2`]).
    ReadL2,
    /// Load through single-flight ([`Lookup::loaded`]).
    Load(Want),
    /// Answer with this copy; keep it in L1 first if `keep_in_l1`; revalidate in the background with
    /// `revalidate`; record why a stale copy answered (`stale_because`, the load error's code).
    Answer {
        served: Served,
        keep_in_l1: bool,
        revalidate: Option<Want>,
        stale_because: Option<&'static str>,
    },
    /// Nothing may answer: this error is the answer.
    Fail(EdgeError),
}

/// Copies the last step found purged (loaded before the character's last purge): the Worker drops the L1
/// one and records both on the task. Each is reported once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub l1: bool,
    pub l2: bool,
}

impl Lookup {
    /// A lookup of `resource` in `mode`, with what L1 gave (L1 is always read first: it is memory).
    pub fn new(resource: Resource, mode: Mode, l1: Option<Rc<Entry>>) -> Lookup {
        Lookup {
            mode,
            resource,
            l1,
            l2: None,
            generation: None,
            load_error: None,
        }
    }

    /// What KV gave (`None`: missing, or the read failed: KV failing must not fail the request).
    pub fn read_l2(&mut self, copy: Option<Rc<Entry>>) {
        self.l2 = Some(copy);
    }

    /// The load's result: its entry answers ([`How::Origin`]), or its error is kept for the next step.
    pub fn loaded(&mut self, result: Result<Loaded, LoadError>) -> Option<Served> {
        match result {
            Ok(loaded) => Some(Served {
                entry: loaded.entry,
                how: How::Origin {
                    collapsed: loaded.role.is_coalesced(),
                    forced: matches!(self.mode, Mode::Refresh { .. }),
                },
            }),
            Err(e) => {
                self.load_error = Some(e);
                None
            }
        }
    }

    fn known(&self) -> Known<'_> {
        Known {
            l1: self.l1.as_deref(),
            l2: match &self.l2 {
                None => Read::NotRead,
                Some(None) => Read::Missing,
                Some(Some(e)) => Read::Copy(e),
            },
            generation: self.generation,
            load_error: self.load_error.as_ref(),
        }
    }

    /// The next step at `now` ([`decide`]), and the copies found purged on the way (then forgotten: a
    /// purged copy counts as absent in every later step).
    pub fn next(&mut self, now: u64, cfg: &Config) -> (Next, Purged) {
        let known = self.known();
        let step = decide(&known, &self.resource, self.mode, now, cfg);
        let purged = Purged {
            l1: known.purged_l1(),
            l2: known.purged_l2(),
        };
        if purged.l1 {
            self.l1 = None;
        }
        if purged.l2 {
            self.l2 = Some(None);
        }
        (self.act(step), purged)
    }

    fn act(&self, step: Step) -> Next {
        if let Some(answer) = step.answer() {
            let copy = match answer.tier {
                Tier::L1 => self.l1.clone(),
                Tier::L2 => self.l2.clone().flatten(),
            };
            let Some(entry) = copy else {
                let tier = answer.tier;
                return Next::Fail(EdgeError::internal(format!(
                    "the tier decision named an empty {tier:?}"
                )));
            };
            return Next::Answer {
                served: Served {
                    entry,
                    how: answer.how,
                },
                keep_in_l1: answer.keep_in_l1,
                revalidate: match step {
                    Step::ServeStaleAndRevalidate(_, want) => Some(want),
                    _ => None,
                },
                stale_because: match step {
                    Step::ServeStaleOnError(_) => self.load_error.as_ref().map(LoadError::code),
                    _ => None,
                },
            };
        }
        match step {
            Step::ReadGeneration => Next::ReadGeneration,
            Step::ReadL2 => Next::ReadL2,
            Step::Load(want) => Next::Load(want),
            Step::Refuse => Next::Fail(match &self.load_error {
                Some(e) => e.clone().into(),
                None => EdgeError::internal("the tier decision refused without a load error"),
            }),
            Step::Serve(_)
            | Step::Negative(_)
            | Step::ServeStaleAndRevalidate(..)
            | Step::ServeStaleOnError(_) => {
                Next::Fail(EdgeError::internal("an answering step was not answered"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::single_flight::Role;

    const AT: u64 = 100_000;

    fn cfg() -> Config {
        let mut cfg = Config::parse(&|_: &str| None).unwrap();
        cfg.stale_while_revalidate_ms = 500;
        cfg
    }

    /// Fetched at `fetched_at`, fresh for 1 s, usable stale for 10 s.
    fn copy(fetched_at: u64, generation: u64) -> Rc<Entry> {
        let mut e = Entry::found(b"x".to_vec(), fetched_at, 1_000, 10_000);
        e.meta.generation = generation;
        Rc::new(e)
    }

    fn equipment() -> Resource {
        Resource::Equipment { ocid: "o".into() }
    }

    fn want(min_generation: u64) -> Want {
        Want {
            min_fetched_at: 0,
            min_generation,
        }
    }

    fn loads(next: &Next) -> Option<Want> {
        match next {
            Next::Load(w) => Some(*w),
            _ => None,
        }
    }

    const NONE: Purged = Purged { l1: false, l2: false };

    #[test]
    fn a_cold_lookup_reads_l2_then_the_generation_then_loads_and_the_load_answers() {
        let cfg = cfg();
        let mut l = Lookup::new(equipment(), Mode::Normal, None);
        assert!(matches!(l.next(AT, &cfg), (Next::ReadL2, NONE)));
        l.read_l2(None);
        assert!(matches!(l.next(AT, &cfg).0, Next::ReadGeneration));
        l.generation = Some(3);
        assert_eq!(loads(&l.next(AT, &cfg).0), Some(want(3)));
        let entry = copy(AT, 3);
        let loaded = Loaded {
            entry: entry.clone(),
            role: Role::Follower,
            generation: None,
        };
        let served = l.loaded(Ok(loaded)).unwrap();
        assert_eq!(
            served.how,
            How::Origin {
                collapsed: true,
                forced: false
            }
        );
        assert!(Rc::ptr_eq(&served.entry, &entry));
        let mut refresh = Lookup::new(
            equipment(),
            Mode::Refresh {
                requested_at: AT,
                stale_if_error: true,
            },
            None,
        );
        let led = Loaded {
            entry,
            role: Role::Leader,
            generation: None,
        };
        let how = refresh.loaded(Ok(led)).unwrap().how;
        assert_eq!(
            how,
            How::Origin {
                collapsed: false,
                forced: true
            }
        );
    }

    #[test]
    fn a_fresh_l2_copy_answers_and_is_kept_in_l1() {
        let cfg = cfg();
        let mut l = Lookup::new(equipment(), Mode::Normal, None);
        l.next(AT, &cfg);
        let entry = copy(AT - 10, 0);
        l.read_l2(Some(entry.clone()));
        assert!(matches!(l.next(AT, &cfg).0, Next::ReadGeneration));
        l.generation = Some(0);
        let Next::Answer {
            served,
            keep_in_l1,
            revalidate,
            stale_because,
        } = l.next(AT, &cfg).0
        else {
            panic!("a fresh copy answers")
        };
        assert!(Rc::ptr_eq(&served.entry, &entry));
        assert_eq!(
            (served.how, keep_in_l1, revalidate, stale_because),
            (How::L2, true, None, None)
        );
    }

    #[test]
    fn a_stale_copy_within_swr_answers_at_once_and_revalidates() {
        let cfg = cfg();
        // Past fresh by 100 ms, within the 500 ms window.
        let mut l = Lookup::new(equipment(), Mode::Normal, Some(copy(AT - 1_100, 4)));
        l.generation = Some(4);
        l.read_l2(None);
        let Next::Answer {
            served, revalidate, ..
        } = l.next(AT, &cfg).0
        else {
            panic!("stale while revalidate")
        };
        assert_eq!((served.how, revalidate), (How::StaleRevalidating, Some(want(4))));
    }

    #[test]
    fn a_purged_copy_is_reported_once_and_then_absent() {
        let cfg = cfg();
        let mut l = Lookup::new(equipment(), Mode::Normal, Some(copy(AT - 10, 1)));
        assert!(matches!(l.next(AT, &cfg), (Next::ReadGeneration, NONE)));
        l.generation = Some(2);
        let (next, purged) = l.next(AT, &cfg);
        assert!(matches!(next, Next::ReadL2));
        assert_eq!(purged, Purged { l1: true, l2: false });
        l.read_l2(Some(copy(AT - 10, 1)));
        let (next, purged) = l.next(AT, &cfg);
        assert_eq!(
            (loads(&next), purged),
            (Some(want(2)), Purged { l1: false, l2: true })
        );
        let (next, purged) = l.next(AT, &cfg);
        assert_eq!((loads(&next), purged), (Some(want(2)), NONE));
    }

    #[test]
    fn after_a_failed_load_a_stale_copy_answers_with_the_reason() {
        let cfg = cfg();
        // Past fresh and past the 500 ms window, within stale_until.
        let mut l = Lookup::new(equipment(), Mode::Normal, Some(copy(AT - 5_000, 0)));
        l.generation = Some(0);
        l.read_l2(None);
        assert_eq!(loads(&l.next(AT, &cfg).0), Some(want(0)));
        assert!(l.loaded(Err(LoadError::unavailable(5, "503"))).is_none());
        let Next::Answer {
            served,
            keep_in_l1,
            stale_because,
            ..
        } = l.next(AT, &cfg).0
        else {
            panic!("stale if error")
        };
        assert_eq!(
            (served.how, keep_in_l1, stale_because),
            (How::StaleOnError, false, Some("upstream_unavailable"))
        );
    }

    #[test]
    fn a_refusal_is_the_load_error_and_a_bug_is_never_hidden_by_a_stale_copy() {
        let cfg = cfg();
        let mut l = Lookup::new(equipment(), Mode::Normal, None);
        l.read_l2(None);
        l.generation = Some(0);
        assert_eq!(loads(&l.next(AT, &cfg).0), Some(want(0)));
        l.loaded(Err(LoadError::UpstreamRateLimited {
            retry_after_ms: 7,
            detail: "429".into(),
        }));
        assert!(matches!(
            l.next(AT, &cfg).0,
            Next::Fail(EdgeError::UpstreamRateLimited { retry_after_ms: 7 })
        ));
        let mut l = Lookup::new(equipment(), Mode::Normal, Some(copy(AT - 5_000, 0)));
        l.generation = Some(0);
        l.read_l2(None);
        l.loaded(Err(LoadError::internal("bug")));
        assert!(matches!(l.next(AT, &cfg).0, Next::Fail(EdgeError::Internal(d)) if d == "bug"));
    }

    #[test]
    fn an_answer_naming_an_empty_tier_or_a_refusal_without_an_error_is_internal() {
        let l = Lookup::new(equipment(), Mode::Normal, None);
        for step in [
            Step::Serve(Tier::L1),
            Step::ServeStaleOnError(Tier::L2),
            Step::Refuse,
        ] {
            assert!(
                matches!(l.act(step), Next::Fail(EdgeError::Internal(_))),
                "{step:?}"
            );
        }
    }
}
