//! How a request got its entry from single-flight, as a closed set: the Durable Object names its role in
//! a response header, and an unknown or missing header is an explicit [`RoleError`] (a protocol mismatch
//! between our own Worker and Durable Object, i.e. a bug or a version skew), never a guess.
use crate::cache::{Entry, Meta, Resource};
use crate::http::Reply;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// The header in which the `SingleFlight` Durable Object names the [`Role`] of the request it answered.
pub const ROLE_HEADER: &str = "x-load-role";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Started the load: its own upstream call (or KV read) in the Durable Object.
    Leader,
    /// Joined a load in flight in the Durable Object.
    Follower,
    /// Answered from the result of a load that had just finished, kept in the Durable Object's memory.
    Memory,
    /// Joined another request's Durable Object call in this isolate (never sent in the header).
    Isolate,
}

impl Role {
    /// The roles the Durable Object sends.
    pub const SENT: [Role; 3] = [Role::Leader, Role::Follower, Role::Memory];

    /// The header value and the `single_flight_role` log field.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Memory => "memory",
            Role::Isolate => "isolate",
        }
    }

    /// Whether this request shared someone else's load (counted in `pve_single_flight_coalesced_total`).
    pub fn is_coalesced(self) -> bool {
        !matches!(self, Role::Leader)
    }

    /// The role named by the Durable Object's [`ROLE_HEADER`].
    ///
    /// # Errors
    /// [`RoleError::Missing`] without the header, [`RoleError::Unknown`] for any value the Durable Object
    /// does not send (`isolate` included: it is assigned in the Worker only).
    pub fn from_header(value: Option<&str>) -> Result<Role, RoleError> {
        let value = value.ok_or(RoleError::Missing)?;
        Role::SENT
            .into_iter()
            .find(|r| r.as_str() == value)
            .ok_or_else(|| RoleError::Unknown(value.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Durable Object's answer does not name a role we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleError {
    Missing,
    Unknown(String),
}

impl fmt::Display for RoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleError::Missing => write!(f, "bug: single flight answered without {ROLE_HEADER}"),
            RoleError::Unknown(v) => write!(f, "bug: single flight answered {ROLE_HEADER}: {v:?}"),
        }
    }
}

impl std::error::Error for RoleError {}

/// Why a load gave no entry. Crosses the Worker ↔ Durable Object boundary as JSON (`{"code": …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum LoadError {
    /// Upstream errors and timeouts, an open circuit, a missed deadline, an unreachable Durable Object.
    UpstreamUnavailable { retry_after_ms: u64, detail: String },
    /// Our upstream token bucket is empty, or the upstream answered 429.
    UpstreamRateLimited { retry_after_ms: u64, detail: String },
    /// Our own Worker ↔ Durable Object protocol is broken (a [`RoleError`], an answer without its
    /// metadata): a bug or a version skew, never an upstream failure, never hidden by a stale copy.
    Internal { detail: String },
}

impl LoadError {
    /// The error code ([`crate::error::EdgeError`]'s, for the log line).
    pub fn code(&self) -> &'static str {
        match self {
            LoadError::UpstreamUnavailable { .. } => "upstream_unavailable",
            LoadError::UpstreamRateLimited { .. } => "upstream_rate_limited",
            LoadError::Internal { .. } => "internal",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            LoadError::UpstreamUnavailable { detail, .. }
            | LoadError::UpstreamRateLimited { detail, .. }
            | LoadError::Internal { detail } => detail,
        }
    }

    pub fn unavailable(retry_after_ms: u64, detail: impl Into<String>) -> LoadError {
        LoadError::UpstreamUnavailable {
            retry_after_ms,
            detail: detail.into(),
        }
    }

    pub fn internal(detail: impl Into<String>) -> LoadError {
        LoadError::Internal {
            detail: detail.into(),
        }
    }
}

impl LoadError {
    /// The outcome of a task that ended with this error (its code, and its detail for the log).
    pub fn outcome(&self) -> crate::task::Outcome<'static> {
        crate::task::Outcome::Error {
            code: self.code(),
            detail: self.detail().to_owned(),
        }
    }
}

impl From<RoleError> for LoadError {
    fn from(e: RoleError) -> Self {
        LoadError::internal(e.to_string())
    }
}

impl From<LoadError> for crate::error::EdgeError {
    fn from(e: LoadError) -> Self {
        use crate::error::EdgeError;
        match e {
            LoadError::UpstreamUnavailable { retry_after_ms, .. } => {
                EdgeError::UpstreamUnavailable { retry_after_ms }
            }
            LoadError::UpstreamRateLimited { retry_after_ms, .. } => {
                EdgeError::UpstreamRateLimited { retry_after_ms }
            }
            LoadError::Internal { detail } => EdgeError::Internal(detail),
        }
    }
}

/// Which copies a load may answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Want {
    /// Accept a copy only if fetched at or after this instant (epoch ms); 0 for any fresh copy.
    pub min_fetched_at: u64,
    /// Accept a copy only if stamped with this purge generation or a later one.
    pub min_generation: u64,
}

impl Want {
    /// Whether `entry` answers this want at `now`: fresh, recent enough, not older than the last purge
    /// (the rule for the object's last result, its KV re-read, and nothing else).
    pub fn accepts(&self, entry: &Entry, now: u64) -> bool {
        entry.is_fresh(now)
            && entry.meta.fetched_at >= self.min_fetched_at
            && crate::purge::is_current_stamp(entry.meta.generation, self.min_generation)
    }

    /// What the Worker asks the object for this want (its waiter gives up at `deadline`).
    pub fn request(self, resource: &Resource, deadline: u64) -> LoadRequest {
        LoadRequest {
            resource: resource.clone(),
            min_fetched_at: self.min_fetched_at,
            min_generation: self.min_generation,
            deadline,
        }
    }

    /// The name of this want's flight within one isolate: requests join a flight only for the same key,
    /// the same kind of want and the same generation (a request after a purge never joins an older load).
    pub fn flight(&self, key: &str) -> String {
        let kind = if self.min_fetched_at == 0 {
            "any"
        } else {
            "refresh"
        };
        format!("{key}#{kind}@{}", self.min_generation)
    }
}

/// A loaded entry and how this request got it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub entry: Rc<Entry>,
    pub role: Role,
    /// The character's purge generation, when the answering object is its authority (ocid loads).
    pub generation: Option<u64>,
}

/// The generation header of a single-flight answer: absent, or a number.
///
/// # Errors
/// [`LoadError::Internal`] for anything else (our own object wrote it).
pub fn parse_generation(value: Option<&str>) -> Result<Option<u64>, LoadError> {
    value
        .map(|g| {
            g.parse::<u64>()
                .map_err(|_| LoadError::internal(format!("bug: single flight answered generation {g:?}")))
        })
        .transpose()
}

/// The header with the answered entry's [`Meta`] (JSON).
pub const META_HEADER: &str = "x-entry-meta";
/// The header with the character's purge generation, when the answering object is its authority.
pub const GENERATION_HEADER: &str = "x-purge-generation";
/// The durable storage key of the purge generation (in a name's ocid object).
pub const GENERATION_KEY: &str = "purge_generation";
/// A waiter that gives up on the deadline: the load is still running, so the answer comes soon.
pub const DEADLINE_RETRY_AFTER_MS: u64 = 1_000;

/// The object's routes (`https://single-flight/…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectRoute {
    Ping,
    /// `POST`: a [`LoadRequest`].
    Load,
    /// `GET`: the purge generation ([`GenerationAnswer`]).
    Generation,
    /// `POST`: raise the purge generation ([`GenerationAnswer`] with the previous one).
    Purge,
}

impl ObjectRoute {
    const ALL: [ObjectRoute; 4] = [
        ObjectRoute::Ping,
        ObjectRoute::Load,
        ObjectRoute::Generation,
        ObjectRoute::Purge,
    ];

    pub fn path(self) -> &'static str {
        match self {
            ObjectRoute::Ping => "/ping",
            ObjectRoute::Load => "/load",
            ObjectRoute::Generation => "/generation",
            ObjectRoute::Purge => "/purge",
        }
    }

    /// The URL a stub is called with.
    pub fn url(self) -> String {
        format!("https://single-flight{}", self.path())
    }

    pub fn parse(path: &str) -> Option<ObjectRoute> {
        ObjectRoute::ALL.into_iter().find(|r| r.path() == path)
    }
}

/// What the Worker asks the object (`POST /load`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadRequest {
    pub resource: Resource,
    pub min_fetched_at: u64,
    #[serde(default)]
    pub min_generation: u64,
    /// The waiter gives up at this instant (epoch ms); the load itself goes on.
    pub deadline: u64,
}

impl LoadRequest {
    /// Whether the object that answers this load is the authority of its character's purge generation
    /// (the object of a name's ocid key); other objects take the caller's generation.
    pub fn is_authority(&self) -> bool {
        matches!(self.resource, Resource::Ocid { .. })
    }

    /// The generation this load is for: the caller's, or the authority's `own` when that is higher.
    pub fn generation(&self, own: Option<u64>) -> u64 {
        own.map_or(self.min_generation, |g| g.max(self.min_generation))
    }

    /// Which copies this load may answer with, under `generation`.
    pub fn want(&self, generation: u64) -> Want {
        Want {
            min_fetched_at: self.min_fetched_at,
            min_generation: generation,
        }
    }
}

/// What a name's object answers on `/generation` and `/purge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationAnswer {
    pub generation: u64,
    /// On `/purge`: the generation before it.
    #[serde(default)]
    pub previous: u64,
}

/// The purge generation as the object knows it after reading its storage (`stored`, 0 before the first
/// purge) while `cached` may have been set meanwhile by a purge in between: never go back.
pub fn generation_read(cached: Option<u64>, stored: Option<u64>) -> u64 {
    let stored = stored.unwrap_or(0);
    cached.map_or(stored, |now| now.max(stored))
}

/// The object's answer to one load, and what its log line records.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectAnswer {
    pub reply: Reply,
    /// The `role` log field: the role, or `none` for a failed load.
    pub role: &'static str,
    pub outcome: crate::task::Outcome<'static>,
}

/// The object's answer to a load: 200 with the entry's body and its [`answer_headers`], or 503 with the
/// [`LoadError`] as JSON (which [`loaded`] reads back). Metadata that does not serialize is answered as
/// that internal error, never as a success without it.
pub fn answer(result: Result<(Role, Rc<Entry>), LoadError>, generation: Option<u64>) -> ObjectAnswer {
    let answered = result.and_then(|(role, entry)| {
        let headers = answer_headers(&entry.meta, role, generation)?;
        Ok((role, entry, headers))
    });
    match answered {
        Ok((role, entry, headers)) => ObjectAnswer {
            reply: Reply {
                status: 200,
                headers,
                body: Some(entry.body.clone()),
            },
            role: role.as_str(),
            outcome: crate::task::Outcome::Ok,
        },
        Err(e) => {
            // A LoadError always serializes (plain strings and numbers); were it not to, the Worker reads
            // the empty body as the object failing (`failed_answer`).
            let body = serde_json::to_vec(&e).unwrap_or_default();
            ObjectAnswer {
                reply: Reply::new(503, Some(body)).header("content-type", "application/json"),
                role: "none",
                outcome: e.outcome(),
            }
        }
    }
}

/// A load's answer as the Worker reads it: on 200 the entry from the body and the [`answer_headers`]
/// (`header` looks one up by name), else the [`LoadError`] of the body ([`failed_answer`]).
///
/// # Errors
/// The object's load error; [`LoadError::Internal`] for an answer [`read_answer`] refuses.
pub fn loaded(
    status: u16,
    header: impl Fn(&str) -> Option<String>,
    body: Vec<u8>,
) -> Result<Loaded, LoadError> {
    if status != 200 {
        return Err(failed_answer(&body));
    }
    let (meta, role, generation) = read_answer(
        header(META_HEADER).as_deref(),
        header(ROLE_HEADER).as_deref(),
        header(GENERATION_HEADER).as_deref(),
    )?;
    Ok(Loaded {
        entry: Rc::new(Entry { meta, body }),
        role,
        generation,
    })
}

/// The headers of a load's answer: the entry's metadata, the role, and the purge generation when the
/// object is the authority.
///
/// # Errors
/// `Internal` if the metadata does not serialize.
pub fn answer_headers(
    meta: &Meta,
    role: Role,
    generation: Option<u64>,
) -> Result<Vec<(&'static str, String)>, LoadError> {
    let meta = serde_json::to_string(meta).map_err(|e| LoadError::internal(format!("entry meta: {e}")))?;
    let mut headers = vec![(META_HEADER, meta), (ROLE_HEADER, role.as_str().to_owned())];
    if let Some(g) = generation {
        headers.push((GENERATION_HEADER, g.to_string()));
    }
    Ok(headers)
}

/// A load's answer as read from its headers ([`answer_headers`]). Our own object wrote them: anything
/// unreadable is a bug (or a version skew), an internal error — never an upstream failure, and an unknown
/// role is never counted as coalesced.
///
/// # Errors
/// [`LoadError::Internal`] for missing or unreadable metadata, an unknown role or a bad generation.
pub fn read_answer(
    meta: Option<&str>,
    role: Option<&str>,
    generation: Option<&str>,
) -> Result<(Meta, Role, Option<u64>), LoadError> {
    let meta = meta
        .and_then(|m| serde_json::from_str::<Meta>(m).ok())
        .ok_or_else(|| LoadError::internal("bug: single flight answer without readable metadata"))?;
    Ok((meta, Role::from_header(role)?, parse_generation(generation)?))
}

/// A load's failure as the object answered it (a non-200 status, its body a [`LoadError`]); a body that
/// does not read is the object failing, so the caller may retry soon.
pub fn failed_answer(body: &[u8]) -> LoadError {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, format!("single flight answered: {e}"))
    })
}

/// A waiter reached its deadline (the load goes on without it).
pub fn deadline_reached() -> LoadError {
    LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, "deadline reached")
}

/// How many last results one object keeps (one key per object in practice; bounded anyway).
pub const LAST_MAX: usize = 16;

struct Flight<L> {
    id: u64,
    /// The generation its result is stamped with.
    generation: u64,
    load: L,
}

/// The single-flight object's memory: its loads in flight and its last results, per key. `L` is the
/// shared load the Worker awaits (a shared future); the choices are made here, without I/O:
/// - a request joins the load in flight for its key only if that load started under the request's
///   generation or a later one ([`Flights::joinable`]); otherwise it leads a new one, which replaces the
///   older in the map (the older finishes for its own waiters);
/// - a load leaves the map when it ends, however it ends, but only if it is still the one registered
///   under its key ([`Flights::ended`]: a replaced load never removes its successor);
/// - a last result answers only a [`Want`] it meets ([`Flights::remembered`]); at most [`LAST_MAX`] are
///   kept (the map is cleared when full).
pub struct Flights<L> {
    in_flight: HashMap<String, Flight<L>>,
    last: HashMap<String, Rc<Entry>>,
    next_id: u64,
}

impl<L> Default for Flights<L> {
    fn default() -> Self {
        Flights {
            in_flight: HashMap::new(),
            last: HashMap::new(),
            next_id: 0,
        }
    }
}

impl<L: Clone> Flights<L> {
    /// The load in flight for `key` that a request wanting `generation` may join.
    pub fn joinable(&self, key: &str, generation: u64) -> Option<L> {
        self.in_flight
            .get(key)
            .filter(|f| crate::purge::is_current_stamp(f.generation, generation))
            .map(|f| f.load.clone())
    }

    /// A fresh id for the next load (given to its end guard before the load exists).
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Register load `id` as the one in flight for `key`, stamped `generation`.
    pub fn lead(&mut self, key: &str, id: u64, generation: u64, load: L) {
        self.in_flight
            .insert(key.to_owned(), Flight { id, generation, load });
    }

    /// Load `id` for `key` ended: remove it, unless another load has replaced it since.
    pub fn ended(&mut self, key: &str, id: u64) {
        if self.in_flight.get(key).is_some_and(|f| f.id == id) {
            self.in_flight.remove(key);
        }
    }

    /// Keep `entry` as `key`'s last result.
    pub fn remember(&mut self, key: &str, entry: Rc<Entry>) {
        if self.last.len() >= LAST_MAX && !self.last.contains_key(key) {
            self.last.clear();
        }
        self.last.insert(key.to_owned(), entry);
    }

    /// `key`'s last result, if it answers `want` at `now`.
    pub fn remembered(&self, key: &str, want: &Want, now: u64) -> Option<Rc<Entry>> {
        self.last.get(key).filter(|e| want.accepts(e, now)).cloned()
    }

    /// What a load for `key` under `want` does at `now`: answer from the last result, follow the load in
    /// flight that started under its generation or later, or lead a new one (whose guard ends it).
    pub fn admit(flights: &Rc<RefCell<Flights<L>>>, key: &str, want: &Want, now: u64) -> Admit<L> {
        let known = flights.borrow();
        if let Some(entry) = known.remembered(key, want, now) {
            return Admit::Remembered(entry);
        }
        if let Some(load) = known.joinable(key, want.min_generation) {
            return Admit::Follow(load);
        }
        drop(known);
        Admit::Lead(FlightGuard::start(flights, key))
    }

    /// Drop every last result (a purge: stamps already refuse them; this frees the memory).
    pub fn forget(&mut self) {
        self.last.clear();
    }

    /// How many loads are in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

/// What a load request does ([`Flights::admit`]).
pub enum Admit<L: Clone> {
    /// The last result answers it ([`Role::Memory`]).
    Remembered(Rc<Entry>),
    /// It joins this load in flight ([`Role::Follower`]).
    Follow(L),
    /// It starts a load ([`Role::Leader`]): register it with [`Flights::lead`] under the guard's id, and
    /// move the guard into the load.
    Lead(FlightGuard<L>),
}

/// Ends its flight in the map when the load ends, however it ends ([`Flights::ended`]): the Worker moves
/// it into the load.
pub struct FlightGuard<L: Clone> {
    flights: Rc<RefCell<Flights<L>>>,
    key: String,
    id: u64,
}

impl<L: Clone> FlightGuard<L> {
    /// A new flight for `key`: its id (for [`Flights::lead`]) is [`FlightGuard::id`].
    pub fn start(flights: &Rc<RefCell<Flights<L>>>, key: &str) -> FlightGuard<L> {
        let id = flights.borrow_mut().next_id();
        FlightGuard {
            flights: flights.clone(),
            key: key.to_owned(),
            id,
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }
}

impl<L: Clone> Drop for FlightGuard<L> {
    fn drop(&mut self) {
        self.flights.borrow_mut().ended(&self.key, self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flight_guard_ends_its_flight_and_only_its_own() {
        let flights = Rc::new(RefCell::new(Flights::<u32>::default()));
        let first = FlightGuard::start(&flights, "k");
        flights.borrow_mut().lead("k", first.id(), 0, 1);
        // A purge: a newer flight replaces the first under the same key.
        let second = FlightGuard::start(&flights, "k");
        flights.borrow_mut().lead("k", second.id(), 5, 2);
        drop(first);
        assert_eq!(
            flights.borrow().in_flight(),
            1,
            "a replaced load never removes its successor"
        );
        drop(second);
        assert_eq!(flights.borrow().in_flight(), 0);
    }

    #[test]
    fn a_load_error_ends_its_task_with_its_code_and_detail() {
        assert_eq!(
            LoadError::unavailable(5, "timeout").outcome(),
            crate::task::Outcome::Error {
                code: "upstream_unavailable",
                detail: "timeout".into()
            }
        );
    }

    #[test]
    fn the_object_routes_round_trip_and_nothing_else_parses() {
        for r in ObjectRoute::ALL {
            assert_eq!(ObjectRoute::parse(r.path()), Some(r));
        }
        assert_eq!(ObjectRoute::Load.url(), "https://single-flight/load");
        assert_eq!(ObjectRoute::parse("/loads"), None);
    }

    #[test]
    fn a_name_object_is_the_authority_and_never_answers_below_the_callers_generation() {
        let req = |resource| LoadRequest {
            resource,
            min_fetched_at: 5,
            min_generation: 7,
            deadline: 9,
        };
        let ocid = req(Resource::Ocid { name: "a".into() });
        let equipment = req(Resource::Equipment { ocid: "o".into() });
        assert!(ocid.is_authority() && !equipment.is_authority());
        assert_eq!(ocid.generation(Some(3)), 7);
        assert_eq!(ocid.generation(Some(11)), 11);
        assert_eq!(equipment.generation(None), 7);
        assert_eq!(
            ocid.want(11),
            Want {
                min_fetched_at: 5,
                min_generation: 11
            }
        );
        // An old Worker's request without a generation is generation 0.
        let old: LoadRequest = serde_json::from_str(
            r#"{"resource":{"kind":"ocid","name":"a"},"min_fetched_at":0,"deadline":1}"#,
        )
        .unwrap();
        assert_eq!(old.min_generation, 0);
    }

    #[test]
    fn answer_headers_read_back_and_anything_else_is_internal() {
        let entry = Entry::found(b"x".to_vec(), 10, 100, 200);
        let headers = answer_headers(&entry.meta, Role::Leader, Some(4)).unwrap();
        let get = |name| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str());
        let (meta, role, generation) =
            read_answer(get(META_HEADER), get(ROLE_HEADER), get(GENERATION_HEADER)).unwrap();
        assert_eq!(
            (meta, role, generation),
            (entry.meta.clone(), Role::Leader, Some(4))
        );
        let no_gen = answer_headers(&entry.meta, Role::Memory, None).unwrap();
        assert_eq!(no_gen.len(), 2);
        assert_eq!(
            read_answer(None, Some("leader"), None).unwrap_err().code(),
            "internal"
        );
        assert_eq!(
            read_answer(Some("{"), Some("leader"), None).unwrap_err().code(),
            "internal"
        );
        assert_eq!(
            read_answer(get(META_HEADER), Some("boss"), None)
                .unwrap_err()
                .code(),
            "internal"
        );
        assert_eq!(
            read_answer(get(META_HEADER), Some("leader"), Some("x"))
                .unwrap_err()
                .code(),
            "internal"
        );
    }

    #[test]
    fn an_objects_answer_reads_back_as_the_same_load_or_error() {
        let entry = Rc::new(Entry::found(b"{\"a\":1}".to_vec(), 10, 100, 200));
        let ok = answer(Ok((Role::Follower, entry.clone())), Some(3));
        assert_eq!((ok.reply.status, ok.role), (200, "follower"));
        assert_eq!(ok.outcome, crate::task::Outcome::Ok);
        let header = |name: &str| ok.reply.get(name).map(str::to_owned);
        let back = loaded(200, header, ok.reply.body.clone().unwrap()).unwrap();
        assert_eq!((back.role, back.generation), (Role::Follower, Some(3)));
        assert_eq!(*back.entry, *entry);

        let e = LoadError::UpstreamRateLimited {
            retry_after_ms: 9,
            detail: "429".into(),
        };
        let failed = answer(Err(e.clone()), Some(3));
        assert_eq!((failed.reply.status, failed.role), (503, "none"));
        assert_eq!(failed.outcome, e.outcome());
        assert_eq!(failed.reply.get("content-type"), Some("application/json"));
        assert_eq!(
            loaded(503, |_: &str| None, failed.reply.body.unwrap()).unwrap_err(),
            e
        );
        // A 200 without its headers is our own bug.
        assert_eq!(
            loaded(200, |_: &str| None, b"{}".to_vec()).unwrap_err().code(),
            "internal"
        );
    }

    #[test]
    fn a_load_request_carries_its_want_and_the_generation_never_goes_back() {
        let want = Want {
            min_fetched_at: 4,
            min_generation: 6,
        };
        let r = want.request(&Resource::Ocid { name: "a".into() }, 99);
        assert_eq!((r.min_fetched_at, r.min_generation, r.deadline), (4, 6, 99));
        assert_eq!(r.want(6), want);
        assert_eq!(generation_read(None, None), 0);
        assert_eq!(generation_read(None, Some(5)), 5);
        assert_eq!(
            generation_read(Some(8), Some(5)),
            8,
            "a purge while storage was read"
        );
        assert_eq!(generation_read(Some(2), Some(5)), 5);
    }

    #[test]
    fn a_request_is_answered_from_memory_follows_or_leads() {
        let flights = Rc::new(RefCell::new(Flights::<&str>::default()));
        let want = |g| Want {
            min_fetched_at: 0,
            min_generation: g,
        };
        let Admit::Lead(guard) = Flights::admit(&flights, "k", &want(2), 1_000) else {
            panic!("nothing in flight: lead")
        };
        flights.borrow_mut().lead("k", guard.id(), 2, "load@2");
        assert!(matches!(
            Flights::admit(&flights, "k", &want(2), 1_000),
            Admit::Follow("load@2")
        ));
        assert!(
            matches!(Flights::admit(&flights, "k", &want(3), 1_000), Admit::Lead(_)),
            "after a purge, a new load"
        );
        flights.borrow_mut().remember("k", entry(900, 2));
        assert!(matches!(
            Flights::admit(&flights, "k", &want(2), 1_000),
            Admit::Remembered(_)
        ));
        drop(guard);
        assert_eq!(flights.borrow().in_flight(), 0);
    }

    #[test]
    fn a_failed_answer_is_its_load_error_or_unavailable() {
        let e = LoadError::UpstreamRateLimited {
            retry_after_ms: 3,
            detail: "429".into(),
        };
        assert_eq!(failed_answer(serde_json::to_string(&e).unwrap().as_bytes()), e);
        assert_eq!(failed_answer(b"oops").code(), "upstream_unavailable");
        assert_eq!(deadline_reached().code(), "upstream_unavailable");
    }

    fn entry(fetched_at: u64, generation: u64) -> Rc<Entry> {
        // Fresh for an hour after it was fetched.
        let mut e = Entry::found(b"{}".to_vec(), fetched_at, 3_600_000, 3_600_000);
        e.meta.generation = generation;
        Rc::new(e)
    }

    #[test]
    fn a_request_joins_only_a_load_of_its_generation_or_later() {
        let mut f: Flights<&str> = Flights::default();
        assert_eq!(f.joinable("k", 0), None);
        let first = f.next_id();
        f.lead("k", first, 3, "load@3");
        assert_eq!(f.joinable("k", 3), Some("load@3"));
        assert_eq!(
            f.joinable("k", 2),
            Some("load@3"),
            "an older want takes a newer load"
        );
        assert_eq!(
            f.joinable("k", 4),
            None,
            "after a purge, never the load started before it"
        );
        assert_eq!(f.joinable("other", 0), None);
        // The request after the purge leads a new load, which replaces the old in the map.
        let second = f.next_id();
        assert_ne!(first, second);
        f.lead("k", second, 4, "load@4");
        // The old load ends: it must not remove its successor.
        f.ended("k", first);
        assert_eq!(f.joinable("k", 4), Some("load@4"));
        f.ended("k", second);
        assert_eq!(f.joinable("k", 0), None);
        assert_eq!(f.in_flight(), 0);
    }

    #[test]
    fn last_results_answer_only_what_they_meet_and_stay_bounded() {
        let mut f: Flights<()> = Flights::default();
        let now = 1_000;
        f.remember("k", entry(900, 2));
        let want = |min_fetched_at, min_generation| Want {
            min_fetched_at,
            min_generation,
        };
        assert!(f.remembered("k", &want(0, 2), now).is_some());
        assert!(
            f.remembered("k", &want(901, 2), now).is_none(),
            "a refresh wants a newer copy"
        );
        assert!(f.remembered("k", &want(0, 3), now).is_none(), "purged since");
        assert!(f.remembered("other", &want(0, 0), now).is_none());
        for i in 0..LAST_MAX {
            f.remember(&format!("k{i}"), entry(900, 2));
        }
        assert!(f.last.len() <= LAST_MAX);
        // Replacing a remembered key never clears the others.
        let before = f.last.len();
        f.remember(&format!("k{}", LAST_MAX - 1), entry(950, 2));
        assert_eq!(f.last.len(), before);
        f.forget();
        assert!(f
            .remembered(&format!("k{}", LAST_MAX - 1), &want(0, 0), now)
            .is_none());
    }

    #[test]
    fn every_sent_role_round_trips_through_its_header() {
        for role in Role::SENT {
            assert_eq!(Role::from_header(Some(role.as_str())), Ok(role));
        }
    }

    #[test]
    fn unknown_or_missing_roles_are_errors_not_coalesced() {
        assert_eq!(Role::from_header(None), Err(RoleError::Missing));
        for v in ["", "unknown", "Leader", "isolate", "leader "] {
            assert_eq!(
                Role::from_header(Some(v)),
                Err(RoleError::Unknown(v.into())),
                "{v:?}"
            );
        }
        assert!(RoleError::Unknown("x".into()).to_string().starts_with("bug: "));
    }

    #[test]
    fn an_unknown_role_is_an_internal_error_not_upstream_unavailable() {
        let e = LoadError::from(Role::from_header(Some("coalesced")).unwrap_err());
        assert_eq!(e.code(), "internal");
        assert!(matches!(
            crate::error::EdgeError::from(e),
            crate::error::EdgeError::Internal(_)
        ));
        let e = LoadError::from(Role::from_header(None).unwrap_err());
        assert!(matches!(e, LoadError::Internal { .. }), "{e:?}");
    }

    #[test]
    fn load_errors_cross_the_boundary_as_json_with_their_codes() {
        for e in [
            LoadError::unavailable(5, "x"),
            LoadError::UpstreamRateLimited {
                retry_after_ms: 7,
                detail: "y".into(),
            },
            LoadError::internal("z"),
        ] {
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["code"], e.code());
            assert_eq!(serde_json::from_value::<LoadError>(json).unwrap(), e);
            let edge = crate::error::EdgeError::from(e.clone());
            assert_eq!(edge.code(), e.code());
        }
    }

    #[test]
    fn wants_and_flights() {
        let mut e = Entry::found(b"x".to_vec(), 100, 50, 500);
        e.meta.generation = 5;
        let any = Want {
            min_fetched_at: 0,
            min_generation: 5,
        };
        assert!(any.accepts(&e, 149) && !any.accepts(&e, 150));
        assert!(!Want {
            min_generation: 6,
            ..any
        }
        .accepts(&e, 120));
        assert!(Want {
            min_fetched_at: 100,
            ..any
        }
        .accepts(&e, 120));
        assert!(!Want {
            min_fetched_at: 101,
            ..any
        }
        .accepts(&e, 120));
        assert_eq!(any.flight("v1:ocid:a"), "v1:ocid:a#any@5");
        assert_eq!(
            Want {
                min_fetched_at: 9,
                ..any
            }
            .flight("v1:ocid:a"),
            "v1:ocid:a#refresh@5"
        );
    }

    #[test]
    fn generation_headers() {
        assert_eq!(parse_generation(None), Ok(None));
        assert_eq!(parse_generation(Some("17")), Ok(Some(17)));
        for bad in ["", "-1", "x", "1.5"] {
            assert!(
                matches!(parse_generation(Some(bad)), Err(LoadError::Internal { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_the_leader_is_not_coalesced() {
        assert!(!Role::Leader.is_coalesced());
        for r in [Role::Follower, Role::Memory, Role::Isolate] {
            assert!(r.is_coalesced(), "{r}");
        }
    }
}
