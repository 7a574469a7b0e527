//! The tiered cache in front of the Nexon Open API.
//!
//! A lookup tries, in order: **L1** (this isolate's memory, [`l1`]), **L2** (Workers KV, value + metadata
//! `{version, kind, fetched_at, fresh_until, stale_until, hash}`), then the **single-flight** Durable
//! Object of the key ([`crate::single_flight`]), whose leader is the only caller of the upstream and the
//! only writer of KV. Within one isolate, concurrent misses for a key share one Durable Object call. Past `fresh_until` but within the stale-while-revalidate window, a copy is answered
//! at once and refreshed in the background; when a load fails, a copy within `stale_until` answers
//! (stale-if-error). Unknown characters are cached as `not_found` entries for a short time; upstream
//! 429s, 5xx and timeouts are never cached.
//!
//! Derived values that are pure functions of their key (engine answers, valuations) use
//! [`get_derived`] / [`put_derived`]: L1 + KV, no upstream, no expiry other than the TTLs.
pub mod canonical;
pub mod l1;
pub mod purge;

use crate::config::Config;
use crate::context::{new_request_id, now_ms, Outcome, TaskContext};
use crate::error::EdgeError;
use crate::error::Platform;
use crate::metrics;
use crate::single_flight::{self, LoadError, Loaded};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;
use worker::{Context, Delay, Env, ScheduleContext};

/// Bump when the meaning of cached bytes changes: older entries are then ignored.
pub const FORMAT_VERSION: u32 = 1;
/// KV refuses expiration TTLs below 60 s.
const KV_MIN_TTL_S: u64 = 60;
/// Derived values (engine answers, valuations) stay in KV this long; their keys carry every version.
pub const DERIVED_TTL_MS: u64 = 7 * 86_400_000;

thread_local! {
    static DATA_VERSION: String = {
        // The engine reports one data version per module with game data (`pve version`): all of them.
        #[derive(Deserialize)]
        struct Versions {
            data_versions: std::collections::BTreeMap<String, Option<String>>,
        }
        match serde_json::from_str::<Versions>(&pve_api::version_json()) {
            Ok(v) => v
                .data_versions
                .iter()
                .map(|(module, version)| format!("{module}:{}", version.as_deref().unwrap_or("none")))
                .collect::<Vec<_>>()
                .join(","),
            Err(e) => format!("unreadable:{e}"),
        }
    };
}

/// The version of the engine's game data, as one string: part of derived cache keys and of answers.
pub fn data_version() -> String {
    DATA_VERSION.with(Clone::clone)
}

/// The engine + data part of the keys of derived values (engine answers, valuations).
pub fn engine_tag() -> String {
    format!("{}+{}", pve_api::ENGINE_VERSION, data_version())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Found,
    /// The upstream said this character does not exist (negative cache entry, empty body).
    NotFound,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Found => "found",
            Kind::NotFound => "not_found",
        }
    }
}

/// What KV stores next to the value (its `metadata`, well under KV's 1 KiB limit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub version: u32,
    pub kind: Kind,
    pub fetched_at: u64,
    pub fresh_until: u64,
    pub stale_until: u64,
    /// SHA-256 (hex) of the body: the content hash, and the base of ETags.
    pub hash: String,
    /// The character's purge generation the load was started under ([`purge`]); 0 before any purge and
    /// in entries written before purges existed.
    #[serde(default)]
    pub generation: u64,
}

impl Meta {
    pub fn new(kind: Kind, fetched_at: u64, fresh_until: u64, stale_until: u64, hash: String) -> Meta {
        Meta {
            version: FORMAT_VERSION,
            kind,
            fetched_at,
            fresh_until,
            stale_until,
            hash,
            generation: 0,
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct Entry {
    pub meta: Meta,
    pub body: Vec<u8>,
}

impl Entry {
    pub fn found(body: Vec<u8>, now: u64, fresh_ms: u64, stale_ms: u64) -> Entry {
        let hash = crate::token::sha256_hex(&body);
        Entry {
            meta: Meta::new(
                Kind::Found,
                now,
                now + fresh_ms,
                now + stale_ms.max(fresh_ms),
                hash,
            ),
            body,
        }
    }

    pub fn not_found(now: u64, ttl_ms: u64) -> Entry {
        Entry {
            meta: Meta::new(Kind::NotFound, now, now + ttl_ms, now + ttl_ms, String::new()),
            body: Vec::new(),
        }
    }

    pub fn is_fresh(&self, now: u64) -> bool {
        now < self.meta.fresh_until
    }

    /// Within the error window: may answer when the upstream cannot.
    pub fn is_usable_stale(&self, now: u64) -> bool {
        now < self.meta.stale_until
    }
}

/// Something loaded from the upstream, and its cache key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resource {
    /// name → ocid (`GET /maplestory/v1/id?character_name=`).
    Ocid { name: String },
    /// ocid → item equipment (`GET /maplestory/v1/character/item-equipment?ocid=`).
    Equipment { ocid: String },
}

impl Resource {
    /// The cache key: also the KV key and the name of the single-flight Durable Object.
    pub fn key(&self) -> String {
        match self {
            Resource::Ocid { name } => format!("v{FORMAT_VERSION}:ocid:{name}"),
            Resource::Equipment { ocid } => format!("v{FORMAT_VERSION}:equipment:{ocid}"),
        }
    }

    /// (fresh, stale) windows in milliseconds.
    pub fn windows(&self, cfg: &Config) -> (u64, u64) {
        match self {
            Resource::Ocid { .. } => (cfg.ocid_fresh_ms, cfg.ocid_stale_ms),
            Resource::Equipment { .. } => (cfg.equipment_fresh_ms, cfg.equipment_stale_ms),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Normal,
    /// `refresh=true`: skip the cached copy; accept only a copy fetched at or after `requested_at` minus the
    /// refresh window (so concurrent and repeated refreshes share one upstream call). When the load fails,
    /// a stale copy answers only if `stale_if_error` (the watch sweep wants the current copy or the error).
    Refresh {
        requested_at: u64,
        stale_if_error: bool,
    },
}

/// Where work after the answer runs (`wait_until`): a request's [`Context`], or a cron run's
/// [`ScheduleContext`] (the watch sweep looks characters up too).
pub trait Background {
    fn wait_until(&self, future: impl Future<Output = ()> + 'static);
}

impl Background for Context {
    fn wait_until(&self, future: impl Future<Output = ()> + 'static) {
        Context::wait_until(self, future);
    }
}

impl Background for ScheduleContext {
    fn wait_until(&self, future: impl Future<Output = ()> + 'static) {
        ScheduleContext::wait_until(self, future);
    }
}

/// How a lookup was answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum How {
    L1,
    L2,
    /// Loaded through the single-flight Durable Object: `collapsed` when another request's load (or its
    /// just-finished result) answered; `forced` for `refresh=true`.
    Origin {
        collapsed: bool,
        forced: bool,
    },
    /// Past fresh, within the stale-while-revalidate window: answered at once, refreshed in the background.
    StaleRevalidating,
    /// The load failed; a copy within the error window answered.
    StaleOnError,
    /// A derived value computed by this request.
    Computed,
}

impl How {
    /// The tier name used in `Cache-Status` and in the log line.
    pub fn tier(self) -> &'static str {
        match self {
            How::L1 => "l1",
            How::L2 => "l2",
            How::Origin { .. } | How::Computed => "origin",
            How::StaleRevalidating | How::StaleOnError => "stale",
        }
    }

    fn rank(self) -> u8 {
        match self {
            How::L1 => 0,
            How::L2 => 1,
            How::Origin { .. } | How::Computed => 2,
            How::StaleRevalidating => 3,
            How::StaleOnError => 4,
        }
    }

    /// Of two lookups behind one answer, the one that says most (stale over origin over L2 over L1).
    pub fn worst(self, other: How) -> How {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// An RFC 9211 `Cache-Status` value. `ttl` is the remaining freshness in seconds (negative: stale).
    pub fn cache_status(self, entry_meta: Option<&Meta>, now: u64) -> String {
        let ttl = entry_meta
            .filter(|m| m.fresh_until < u64::MAX / 2)
            .map(|m| format!("; ttl={}", (m.fresh_until as i64 - now as i64).div_euclid(1000)))
            .unwrap_or_default();
        let params = match self {
            How::L1 | How::L2 | How::StaleRevalidating => format!("hit{ttl}"),
            How::Origin { collapsed, forced } => format!(
                "fwd={}; stored{}{ttl}",
                if forced { "request" } else { "miss" },
                if collapsed { "; collapsed" } else { "" }
            ),
            How::StaleOnError => format!("fwd=stale{ttl}"),
            How::Computed => "fwd=miss; stored".to_owned(),
        };
        format!("pve; {params}; detail={}", self.tier())
    }
}

#[derive(Debug, Clone)]
pub struct Served {
    pub entry: Rc<Entry>,
    pub how: How,
}

/// Record which tier answered (log line, `Cache-Status` on error answers too, metric); returns the
/// `Cache-Status` value.
pub fn answered(task: &TaskContext, how: How, meta: Option<&Meta>) -> String {
    let cache_status = how.cache_status(meta, now_ms());
    task.set_cache(how.tier(), cache_status.clone());
    metrics::inc(metrics::CACHE_ANSWERS, &[("tier", how.tier())]);
    cache_status
}

thread_local! {
    static L1: RefCell<Option<l1::L1>> = const { RefCell::new(None) };
    /// Keys this isolate is refreshing in the background, so that a burst of stale hits starts one refresh.
    static REVALIDATING: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

fn with_l1<T>(cfg: &Config, f: impl FnOnce(&mut l1::L1) -> T) -> T {
    L1.with(|cell| {
        let mut slot = cell.borrow_mut();
        f(slot.get_or_insert_with(|| l1::L1::new(cfg.l1_max_entries, cfg.l1_max_bytes)))
    })
}

pub fn l1_get(cfg: &Config, key: &str, now: u64) -> Option<Rc<Entry>> {
    with_l1(cfg, |l1| l1.get(key, now))
}

pub fn l1_put(cfg: &Config, key: &str, entry: Rc<Entry>, now: u64) {
    with_l1(cfg, |l1| l1.put(key, entry, now, cfg.l1_ttl_ms));
}

pub fn l1_remove(cfg: &Config, key: &str) {
    with_l1(cfg, |l1| l1.remove(key));
}

/// Drop every L1 entry whose key starts with `prefix`; returns how many.
pub fn l1_remove_prefix(cfg: &Config, prefix: &str) -> usize {
    with_l1(cfg, |l1| l1.remove_prefix(prefix))
}

/// Read an entry from KV. A missing value, missing metadata or another format version is a miss.
pub async fn kv_read(env: &Env, key: &str) -> Result<Option<Entry>, EdgeError> {
    let kv = env.kv(crate::bindings::CACHE_KV).platform()?;
    let (body, meta) = kv.get(key).bytes_with_metadata::<Meta>().await.platform()?;
    Ok(match (body, meta) {
        (Some(body), Some(meta)) if meta.version == FORMAT_VERSION => Some(Entry { meta, body }),
        _ => None,
    })
}

/// Write an entry to KV; it expires from KV at `stale_until` (at least KV's minimum TTL).
pub async fn kv_write(env: &Env, key: &str, entry: &Entry, now: u64) -> Result<(), EdgeError> {
    let kv = env.kv(crate::bindings::CACHE_KV).platform()?;
    let ttl_s = entry
        .meta
        .stale_until
        .saturating_sub(now)
        .div_ceil(1000)
        .max(KV_MIN_TTL_S);
    kv.put_bytes(key, &entry.body)
        .platform()?
        .metadata(&entry.meta)
        .platform()?
        .expiration_ttl(ttl_s)
        .execute()
        .await
        .platform()?;
    Ok(())
}

/// Look `resource` (data of the character `character`) up through every tier. `deadline` (epoch ms)
/// bounds the wait for a load; past it the answer is a stale copy if there is one, else the load's error.
///
/// Every cached copy is judged against the character's purge generation ([`purge`]) before it answers,
/// fresh or stale: a copy loaded before the last purge never answers, and is dropped from L1.
///
/// # Errors
/// `UpstreamUnavailable` / `UpstreamRateLimited` when nothing fresh or stale can answer.
#[allow(clippy::too_many_arguments)]
pub async fn lookup(
    env: &Env,
    ctx: &impl Background,
    cfg: &Rc<Config>,
    task: &TaskContext,
    resource: &Resource,
    mode: Mode,
    deadline: u64,
    character: &str,
) -> Result<Served, EdgeError> {
    let key = resource.key();
    let now = now_ms();
    // The generation is read (from this isolate's view, or the authority when the view is old) only when
    // there is a copy to judge, or a load that must not accept an older copy.
    let mut generation: Option<u64> = None;
    let in_l1 = match l1_get(cfg, &key, now) {
        Some(entry) => {
            let g = purge::generation(env, cfg, task, character).await;
            generation = Some(g);
            if pve_edge::purge::is_current_stamp(entry.meta.generation, g) {
                Some(entry)
            } else {
                l1_remove(cfg, &key);
                task.record("purged_copy", "l1");
                None
            }
        }
        None => None,
    };
    if mode == Mode::Normal {
        if let Some(entry) = in_l1.as_ref().filter(|e| e.is_fresh(now)) {
            return Ok(Served {
                entry: entry.clone(),
                how: How::L1,
            });
        }
    }
    // L2. A refresh reads it only to have a fallback for stale-if-error, so not when L1 has one.
    let in_l2 = if mode == Mode::Normal || in_l1.is_none() {
        match kv_read(env, &key).await {
            Ok(found) => found.map(Rc::new),
            Err(e) => {
                // KV failing must not fail the request: the next tier can still answer.
                task.record("kv_read_error", e.to_string());
                None
            }
        }
    } else {
        None
    };
    let in_l2 = match in_l2 {
        Some(entry) => {
            let g = match generation {
                Some(g) => g,
                None => purge::generation(env, cfg, task, character).await,
            };
            generation = Some(g);
            if pve_edge::purge::is_current_stamp(entry.meta.generation, g) {
                Some(entry)
            } else {
                task.record("purged_copy", "l2");
                None
            }
        }
        None => None,
    };
    let now = now_ms();
    if mode == Mode::Normal {
        if let Some(entry) = in_l2.as_ref().filter(|e| e.is_fresh(now)) {
            l1_put(cfg, &key, entry.clone(), now);
            return Ok(Served {
                entry: entry.clone(),
                how: How::L2,
            });
        }
    }
    // A load accepts no copy older than the generation. The name's Durable Object is the authority of
    // the generation and applies it itself; the equipment's object is told.
    let min_generation = match (resource, generation) {
        (_, Some(g)) => g,
        (Resource::Ocid { .. }, None) => 0,
        (Resource::Equipment { .. }, None) => purge::generation(env, cfg, task, character).await,
    };
    let stale = [in_l1, in_l2]
        .into_iter()
        .flatten()
        .filter(|e| e.is_usable_stale(now))
        .max_by_key(|e| e.meta.fetched_at);
    if mode == Mode::Normal {
        let revalidate_until = |e: &Entry| e.meta.fresh_until.saturating_add(cfg.stale_while_revalidate_ms);
        if let Some(entry) = stale
            .as_ref()
            .filter(|e| e.meta.kind == Kind::Found && now < revalidate_until(e))
        {
            l1_put(cfg, &key, entry.clone(), now);
            revalidate_in_background(env, ctx, cfg, resource, min_generation, character);
            return Ok(Served {
                entry: entry.clone(),
                how: How::StaleRevalidating,
            });
        }
    }
    let want = single_flight::Want {
        min_fetched_at: match mode {
            Mode::Normal => 0,
            Mode::Refresh { requested_at, .. } => requested_at.saturating_sub(cfg.refresh_window_ms),
        },
        min_generation,
    };
    match load_once_per_isolate(env, resource, want, deadline, &task.request_id).await {
        Ok(loaded) => {
            if let Some(g) = loaded.generation {
                purge::learn(character, g, now_ms());
            }
            l1_put(cfg, &key, loaded.entry.clone(), now_ms());
            task.record("single_flight_role", loaded.role);
            if loaded.role != "leader" {
                metrics::inc(metrics::COALESCED, &[]);
            }
            let forced = matches!(mode, Mode::Refresh { .. });
            Ok(Served {
                entry: loaded.entry,
                how: How::Origin {
                    collapsed: loaded.role != "leader",
                    forced,
                },
            })
        }
        Err(e) => match stale.filter(|s| {
            s.meta.kind == Kind::Found
                && !matches!(
                    mode,
                    Mode::Refresh {
                        stale_if_error: false,
                        ..
                    }
                )
        }) {
            Some(entry) => {
                task.record("stale_because", e.code());
                Ok(Served {
                    entry,
                    how: How::StaleOnError,
                })
            }
            None => Err(e.into()),
        },
    }
}

/// Where the leading request of this isolate leaves the result of its load; `None` while it runs.
type Slot = Rc<RefCell<Option<FlightResult>>>;

#[derive(Clone)]
enum FlightResult {
    Done(Result<Loaded, LoadError>),
    /// The leading request went away before its load ended.
    Abandoned,
}

thread_local! {
    /// Loads this isolate is waiting for, by key: the first request calls the single-flight Durable Object;
    /// later ones wait for its result here.
    static FLIGHTS: RefCell<HashMap<String, Slot>> = RefCell::new(HashMap::new());
}

/// Followers re-check the slot on their own timers, starting at this interval and doubling up to the cap.
const POLL_FIRST_MS: u64 = 2;
const POLL_CAP_MS: u64 = 40;

/// [`single_flight::load`], at most once per key at a time in this isolate: the Durable Object coalesces
/// across isolates, this map within one, so a burst in one isolate costs one Durable Object round trip
/// (and one transfer of the value) instead of one per request. A flight is joined only by requests that
/// want the same generation (a request after a purge never joins a load started before it).
///
/// Followers are not woken by the leader: in a Worker, code resumed by a wake-up from another request
/// runs in that request's I/O context, and a response built there cannot be returned by its own request
/// ("Cannot perform I/O on behalf of a different request"). So each follower re-checks the slot on its
/// own timers (backing off to 40 ms), and only plain Rust values cross from one request to another.
async fn load_once_per_isolate(
    env: &Env,
    resource: &Resource,
    want: single_flight::Want,
    deadline: u64,
    request_id: &str,
) -> Result<Loaded, LoadError> {
    let flight = format!(
        "{}#{}@{}",
        resource.key(),
        if want.min_fetched_at == 0 {
            "any"
        } else {
            "refresh"
        },
        want.min_generation
    );
    let joined = FLIGHTS.with(|f| {
        let mut f = f.borrow_mut();
        match f.get(&flight) {
            Some(slot) => Some(slot.clone()),
            None => {
                f.insert(flight.clone(), Slot::default());
                None
            }
        }
    });
    if let Some(slot) = joined {
        let mut interval = POLL_FIRST_MS;
        loop {
            let seen = slot.borrow().clone();
            match seen {
                Some(FlightResult::Done(result)) => {
                    return result.map(|loaded| Loaded {
                        role: "isolate",
                        ..loaded
                    })
                }
                Some(FlightResult::Abandoned) => {
                    return single_flight::load(env, resource, want, deadline, request_id).await
                }
                None => {}
            }
            let left = deadline.saturating_sub(now_ms());
            if left == 0 {
                return Err(LoadError::unavailable(1_000, "deadline reached"));
            }
            Delay::from(Duration::from_millis(interval.min(left))).await;
            interval = (interval * 2).min(POLL_CAP_MS);
        }
    }
    /// Ends the flight however the leading request ends; if it is dropped mid-load, followers load on
    /// their own.
    struct Leading {
        flight: String,
        result: Option<FlightResult>,
    }
    impl Drop for Leading {
        fn drop(&mut self) {
            let result = self.result.take().unwrap_or(FlightResult::Abandoned);
            if let Some(slot) = FLIGHTS.with(|f| f.borrow_mut().remove(&self.flight)) {
                *slot.borrow_mut() = Some(result);
            }
        }
    }
    let mut leading = Leading { flight, result: None };
    let result = single_flight::load(env, resource, want, deadline, request_id).await;
    leading.result = Some(FlightResult::Done(result.clone()));
    drop(leading);
    result
}

/// Refresh `resource` through its single-flight Durable Object after the response is sent. At most one
/// background refresh per key and isolate at a time; the Durable Object coalesces across isolates.
fn revalidate_in_background(
    env: &Env,
    ctx: &impl Background,
    cfg: &Rc<Config>,
    resource: &Resource,
    min_generation: u64,
    character: &str,
) {
    let key = resource.key();
    let started = REVALIDATING.with(|r| r.borrow_mut().insert(key.clone()));
    if !started {
        return;
    }
    struct Done(String);
    impl Drop for Done {
        fn drop(&mut self) {
            REVALIDATING.with(|r| r.borrow_mut().remove(&self.0));
        }
    }
    let (env, cfg, resource, character) = (env.clone(), cfg.clone(), resource.clone(), character.to_owned());
    ctx.wait_until(async move {
        let _done = Done(key.clone());
        let task = TaskContext::new(new_request_id(), "cache", "revalidate");
        task.set_key(key.clone());
        let deadline = now_ms() + cfg.request_deadline_ms;
        let want = single_flight::Want {
            min_fetched_at: 0,
            min_generation,
        };
        match single_flight::load(&env, &resource, want, deadline, &task.request_id).await {
            Ok(loaded) => {
                if let Some(g) = loaded.generation {
                    purge::learn(&character, g, now_ms());
                }
                l1_put(&cfg, &key, loaded.entry, now_ms());
                task.record("single_flight_role", loaded.role);
                task.finish(Outcome::Ok, None);
            }
            Err(e) => task.finish(
                Outcome::Error {
                    code: e.code(),
                    detail: e.detail().to_owned(),
                },
                None,
            ),
        }
    });
}

impl From<LoadError> for EdgeError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::UpstreamUnavailable { retry_after_ms, .. } => {
                EdgeError::UpstreamUnavailable { retry_after_ms }
            }
            LoadError::UpstreamRateLimited { retry_after_ms, .. } => {
                EdgeError::UpstreamRateLimited { retry_after_ms }
            }
        }
    }
}

/// A derived value (engine answer, valuation) from L1, then KV.
pub async fn get_derived(env: &Env, cfg: &Config, task: &TaskContext, key: &str) -> Option<Served> {
    let now = now_ms();
    if let Some(entry) = l1_get(cfg, key, now) {
        return Some(Served { entry, how: How::L1 });
    }
    match kv_read(env, key).await {
        Ok(Some(entry)) => {
            let entry = Rc::new(entry);
            l1_put(cfg, key, entry.clone(), now_ms());
            Some(Served { entry, how: How::L2 })
        }
        Ok(None) => None,
        Err(e) => {
            task.record("kv_read_error", e.to_string());
            None
        }
    }
}

thread_local! {
    /// Derived keys this isolate is writing to KV (KV allows about one write per second per key).
    static WRITING: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// Keep a freshly computed derived value in L1 now and in KV after the response (`wait_until`).
pub fn put_derived(env: &Env, ctx: &impl Background, cfg: &Config, key: &str, body: Vec<u8>) -> Served {
    let now = now_ms();
    let entry = Rc::new(Entry::found(body, now, DERIVED_TTL_MS, DERIVED_TTL_MS));
    l1_put(cfg, key, entry.clone(), now);
    if WRITING.with(|w| w.borrow_mut().insert(key.to_owned())) {
        let (env, key, for_kv) = (env.clone(), key.to_owned(), entry.clone());
        ctx.wait_until(async move {
            if let Err(e) = kv_write(&env, &key, &for_kv, now).await {
                let task = TaskContext::new(new_request_id(), "cache", "kv_write");
                task.set_key(key.clone());
                task.finish(
                    Outcome::Error {
                        code: e.code(),
                        detail: e.to_string(),
                    },
                    None,
                );
            }
            WRITING.with(|w| w.borrow_mut().remove(&key));
        });
    }
    Served {
        entry,
        how: How::Computed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(fresh_until: u64) -> Meta {
        Meta::new(Kind::Found, 0, fresh_until, fresh_until + 10_000, "h".into())
    }

    #[test]
    fn cache_status_values() {
        let m = meta(61_000);
        assert_eq!(
            How::L1.cache_status(Some(&m), 1_000),
            "pve; hit; ttl=60; detail=l1"
        );
        assert_eq!(
            How::L2.cache_status(Some(&m), 1_000),
            "pve; hit; ttl=60; detail=l2"
        );
        assert_eq!(
            How::Origin {
                collapsed: false,
                forced: false
            }
            .cache_status(Some(&m), 1_000),
            "pve; fwd=miss; stored; ttl=60; detail=origin"
        );
        assert_eq!(
            How::Origin {
                collapsed: true,
                forced: true
            }
            .cache_status(Some(&m), 1_000),
            "pve; fwd=request; stored; collapsed; ttl=60; detail=origin"
        );
        assert_eq!(
            How::StaleRevalidating.cache_status(Some(&m), 63_500),
            "pve; hit; ttl=-3; detail=stale"
        );
        assert_eq!(
            How::StaleOnError.cache_status(Some(&m), 63_500),
            "pve; fwd=stale; ttl=-3; detail=stale"
        );
        assert_eq!(
            How::Computed.cache_status(None, 0),
            "pve; fwd=miss; stored; detail=origin"
        );
    }

    #[test]
    fn keys_carry_the_format_version() {
        assert_eq!(
            Resource::Ocid {
                name: "에반".into()
            }
            .key(),
            "v1:ocid:에반"
        );
        assert_eq!(
            Resource::Equipment { ocid: "abc".into() }.key(),
            "v1:equipment:abc"
        );
    }

    #[test]
    fn entries_know_fresh_and_stale() {
        let e = Entry::found(b"{}".to_vec(), 1000, 10, 100);
        assert!(e.is_fresh(1009) && !e.is_fresh(1010));
        assert!(e.is_usable_stale(1099) && !e.is_usable_stale(1100));
        let n = Entry::not_found(1000, 50);
        assert!(n.is_fresh(1049) && !n.is_usable_stale(1050));
    }
}
