//! What one isolate's concurrent requests share, without I/O: the loads they make together
//! ([`IsolateFlights`]) and the work each key may have running at most once ([`Busy`]).
//!
//! A Worker isolate interleaves many requests on one thread. The first request that misses a key calls
//! the key's single-flight Durable Object and **leads** the isolate's flight; later requests **follow**:
//! they wait on the flight's slot for its result instead of a Durable Object round trip each. Followers
//! are not woken by the leader (in a Worker, code resumed by another request's wake-up runs in that
//! request's I/O context, and a response built there cannot be returned by its own request), so each
//! re-checks the slot on its own timers ([`next_poll`]), and only plain values cross between requests.
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// How a flight ended, for the requests that followed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended<R> {
    Done(R),
    /// The leading request went away before its load ended: followers load on their own.
    Abandoned,
}

/// Where a flight's leader leaves how it ended; `None` while it runs.
pub type Slot<R> = Rc<RefCell<Option<Ended<R>>>>;

/// One isolate's flights, by name (`Want::flight`: key, kind of want and generation).
pub struct IsolateFlights<R> {
    slots: HashMap<String, Slot<R>>,
}

impl<R> Default for IsolateFlights<R> {
    fn default() -> Self {
        IsolateFlights {
            slots: HashMap::new(),
        }
    }
}

/// A request's part in a flight.
pub enum Joined<R> {
    /// Another request leads it: wait on this slot.
    Follow(Slot<R>),
    /// This request leads it: load, then [`Leading::finish`].
    Lead(Leading<R>),
}

/// Join the flight `name` of `flights`, or lead it when none runs.
pub fn join<R>(flights: &Rc<RefCell<IsolateFlights<R>>>, name: String) -> Joined<R> {
    let mut map = flights.borrow_mut();
    if let Some(slot) = map.slots.get(&name) {
        return Joined::Follow(slot.clone());
    }
    map.slots.insert(name.clone(), Slot::default());
    Joined::Lead(Leading {
        flights: flights.clone(),
        name,
        result: None,
    })
}

impl<R> IsolateFlights<R> {
    /// Flights running now.
    pub fn running(&self) -> usize {
        self.slots.len()
    }
}

/// The leader's hold on its flight. It ends the flight however the leading request ends: with the
/// result given to [`Leading::finish`], or — dropped before, the request gone mid-load — as
/// [`Ended::Abandoned`].
pub struct Leading<R> {
    flights: Rc<RefCell<IsolateFlights<R>>>,
    name: String,
    result: Option<R>,
}

impl<R> Leading<R> {
    pub fn finish(mut self, result: R) {
        self.result = Some(result);
    }
}

impl<R> Drop for Leading<R> {
    fn drop(&mut self) {
        let ended = self.result.take().map_or(Ended::Abandoned, Ended::Done);
        let slot = self.flights.borrow_mut().slots.remove(&self.name);
        if let Some(slot) = slot {
            *slot.borrow_mut() = Some(ended);
        }
    }
}

/// A follower's first wait for its slot (ms).
pub const POLL_FIRST_MS: u64 = 2;
/// A follower's longest wait between two looks at its slot (ms).
pub const POLL_CAP_MS: u64 = 40;

/// The wait after one of `interval` ms: doubled, up to [`POLL_CAP_MS`].
pub fn next_poll(interval: u64) -> u64 {
    interval.saturating_mul(2).min(POLL_CAP_MS)
}

/// What a follower does after one look at its slot ([`Follower::look`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Look<R> {
    /// The flight ended with this result.
    Done(R),
    /// The leader went away before its load ended: load alone.
    LoadAlone,
    /// Nothing yet: look again after this many ms.
    Wait(u64),
    /// Nothing yet and the deadline has come.
    Deadline,
}

/// A follower's waiting: its slot and its next interval ([`POLL_FIRST_MS`], doubled by [`next_poll`]).
pub struct Follower<R> {
    slot: Slot<R>,
    interval: u64,
}

impl<R: Clone> Follower<R> {
    pub fn new(slot: Slot<R>) -> Follower<R> {
        Follower {
            slot,
            interval: POLL_FIRST_MS,
        }
    }

    /// Look at the slot at `now`; a wait never runs past `deadline`.
    pub fn look(&mut self, now: u64, deadline: u64) -> Look<R> {
        match self.slot.borrow().clone() {
            Some(Ended::Done(result)) => return Look::Done(result),
            Some(Ended::Abandoned) => return Look::LoadAlone,
            None => {}
        }
        let left = deadline.saturating_sub(now);
        if left == 0 {
            return Look::Deadline;
        }
        let wait = self.interval.min(left);
        self.interval = next_poll(self.interval);
        Look::Wait(wait)
    }
}

/// Keys with work running in this isolate (a background refresh, a KV write), each at most once at a
/// time (a burst of stale hits starts one refresh; KV allows about one write per second per key).
#[derive(Debug, Default, Clone)]
pub struct Busy {
    keys: Rc<RefCell<HashSet<String>>>,
}

impl Busy {
    /// Start work on `key`, unless some runs already; the key is free again when the guard drops.
    pub fn start(&self, key: &str) -> Option<BusyGuard> {
        self.keys.borrow_mut().insert(key.to_owned()).then(|| BusyGuard {
            keys: self.keys.clone(),
            key: key.to_owned(),
        })
    }
}

/// Work on one key is running until this drops.
#[derive(Debug)]
pub struct BusyGuard {
    keys: Rc<RefCell<HashSet<String>>>,
    key: String,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.keys.borrow_mut().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follower_waits_longer_each_time_never_past_its_deadline_and_takes_how_the_flight_ended() {
        let flights = Rc::new(RefCell::new(IsolateFlights::<u32>::default()));
        let Joined::Lead(leading) = join(&flights, "k".into()) else {
            panic!("first: lead")
        };
        let Joined::Follow(slot) = join(&flights, "k".into()) else {
            panic!("second: follow")
        };
        let mut f = Follower::new(slot.clone());
        assert_eq!(f.look(0, 100), Look::Wait(POLL_FIRST_MS));
        assert_eq!(f.look(2, 100), Look::Wait(POLL_FIRST_MS * 2));
        assert_eq!(f.look(99, 100), Look::Wait(1), "never past the deadline");
        assert_eq!(f.look(100, 100), Look::Deadline);
        leading.finish(7);
        assert_eq!(
            f.look(200, 100),
            Look::Done(7),
            "a result counts even past the deadline"
        );
        let Joined::Lead(gone) = join(&flights, "j".into()) else {
            panic!("lead j")
        };
        let Joined::Follow(slot) = join(&flights, "j".into()) else {
            panic!("follow j")
        };
        drop(gone);
        assert_eq!(Follower::new(slot).look(0, 10), Look::LoadAlone);
    }

    fn seen(slot: &Slot<u32>) -> Option<Ended<u32>> {
        slot.borrow().clone()
    }

    #[test]
    fn the_first_request_leads_and_followers_see_its_result() {
        let flights = Rc::new(RefCell::new(IsolateFlights::<u32>::default()));
        let Joined::Lead(leading) = join(&flights, "k".into()) else {
            panic!("first must lead")
        };
        let Joined::Follow(slot) = join(&flights, "k".into()) else {
            panic!("second must follow")
        };
        assert!(matches!(join(&flights, "other".into()), Joined::Lead(_)));
        assert_eq!(seen(&slot), None);
        leading.finish(7);
        assert_eq!(seen(&slot), Some(Ended::Done(7)));
        // The flight is over: the next request leads a new one.
        assert_eq!(flights.borrow().running(), 0);
        assert!(matches!(join(&flights, "k".into()), Joined::Lead(_)));
    }

    #[test]
    fn a_leader_dropped_mid_load_abandons_its_flight() {
        let flights = Rc::new(RefCell::new(IsolateFlights::<u32>::default()));
        let leading = join(&flights, "k".into());
        let Joined::Follow(slot) = join(&flights, "k".into()) else {
            panic!()
        };
        drop(leading);
        assert_eq!(seen(&slot), Some(Ended::Abandoned));
        assert_eq!(flights.borrow().running(), 0);
    }

    #[test]
    fn followers_back_off_to_the_cap() {
        let waits: Vec<u64> = std::iter::successors(Some(POLL_FIRST_MS), |w| Some(next_poll(*w)))
            .take(7)
            .collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 40, 40]);
    }

    #[test]
    fn busy_keys_run_once_at_a_time() {
        let busy = Busy::default();
        let guard = busy.start("k").unwrap();
        assert!(busy.start("k").is_none());
        assert!(busy.start("j").is_some());
        drop(guard);
        assert!(busy.start("k").is_some());
    }
}
