//! The tiered cache's I/O. The entries, keys, L1's LRU, canonical JSON and which tier answers
//! ([`pve_edge::cache::tier::decide`]) are `pve_edge::cache`'s; this module reads and writes the tiers
//! the decision names: **L1** (this isolate's memory, [`l1`]), **L2** (Workers KV, [`kv`]), the purge
//! generation ([`purge`]) and the key's **single-flight** Durable Object ([`crate::single_flight`]), whose
//! leader is the only caller of the upstream and the only writer of KV. Within one isolate, concurrent
//! misses for a key share one Durable Object call.
//!
//! Derived values that are pure functions of their key (engine answers, valuations) use
//! [`get_derived`] / [`put_derived`]: L1 + KV, no upstream, no expiry other than the TTLs.
pub mod kv;
pub mod l1;
pub mod purge;

use crate::config::Config;
use crate::context::{background, now_ms, Outcome, TaskContext};
use crate::error::EdgeError;
use crate::metrics;
use crate::single_flight;
use pve_edge::cache::isolate::{self, Busy, Follower, IsolateFlights, Joined, Look};
use pve_edge::cache::lookup::{Lookup, Next};
pub use pve_edge::cache::{
    bundled_data_version as data_version, bundled_engine_tag as engine_tag, canonical, Entry, How, Kind,
    Meta, Mode, Resource, Served, DERIVED_TTL_MS,
};
use pve_edge::single_flight::{deadline_reached, LoadError, Loaded, Role, Want};
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;
use worker::{Context, Delay, Env, ScheduleContext};

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

/// Record which tier answered (log line, `Cache-Status` on error answers too, metric); returns the
/// `Cache-Status` value.
pub fn answered(task: &TaskContext, how: How, meta: Option<&Meta>) -> String {
    let cache_status = how.cache_status(meta, now_ms());
    task.set_cache(how.tier(), cache_status.clone());
    metrics::inc(metrics::CACHE_ANSWERS, &[("tier", how.tier())]);
    cache_status
}

thread_local! {
    /// Keys this isolate is refreshing in the background, so that a burst of stale hits starts one refresh.
    static REVALIDATING: Busy = Busy::default();
    /// Derived keys this isolate is writing to KV (KV allows about one write per second per key).
    static WRITING: Busy = Busy::default();
    /// Loads this isolate is waiting for ([`load_once_per_isolate`]).
    static FLIGHTS: Rc<RefCell<IsolateFlights<Result<Loaded, LoadError>>>> = Rc::default();
}

/// Look `resource` (data of the character `character`) up through every tier. `deadline` (epoch ms)
/// bounds the wait for a load; past it the answer is a stale copy if there is one, else the load's error.
///
/// Which tier answers is [`pve_edge::cache::lookup::Lookup`]'s (over `tier::decide`): this loop does the
/// I/O its steps name (L1, KV, the purge generation ([`purge`]), the single-flight load) and nothing else. Every cached copy is
/// judged against the character's purge generation before it answers; a purged L1 copy is dropped.
///
/// # Errors
/// `UpstreamUnavailable` / `UpstreamRateLimited` when nothing fresh or stale can answer; `Internal` when
/// the single-flight protocol is broken (an unknown role, an answer without metadata).
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
    let mut lookup = Lookup::new(resource.clone(), mode, l1::get(cfg, &key, now_ms()));
    loop {
        let (next, purged) = lookup.next(now_ms(), cfg);
        if purged.l1 {
            l1::remove(cfg, &key);
            task.record("purged_copy", "l1");
        }
        if purged.l2 {
            task.record("purged_copy", "l2");
        }
        match next {
            Next::ReadGeneration => {
                lookup.generation = Some(purge::generation(env, cfg, task, character).await)
            }
            Next::ReadL2 => lookup.read_l2(match kv::read(env, &key).await {
                Ok(found) => found.map(Rc::new),
                Err(e) => {
                    // KV failing must not fail the request: the next tier can still answer.
                    task.record("kv_read_error", e.to_string());
                    None
                }
            }),
            Next::Load(want) => {
                let result = load_once_per_isolate(env, resource, want, deadline, &task.request_id).await;
                if let Ok(loaded) = &result {
                    arrived(cfg, task, &key, character, loaded);
                    if loaded.role.is_coalesced() {
                        metrics::inc(metrics::COALESCED, &[]);
                    }
                }
                if let Some(served) = lookup.loaded(result) {
                    return Ok(served);
                }
            }
            Next::Answer {
                served,
                keep_in_l1,
                revalidate,
                stale_because,
            } => {
                if keep_in_l1 {
                    l1::put(cfg, &key, served.entry.clone(), now_ms());
                }
                if let Some(want) = revalidate {
                    revalidate_in_background(env, ctx, cfg, resource, want, character);
                }
                if let Some(code) = stale_because {
                    task.record("stale_because", code);
                }
                return Ok(served);
            }
            Next::Fail(e) => return Err(e),
        }
    }
}

/// A load through the single-flight object arrived: learn the purge generation it carries, keep the
/// entry in L1, and record the role on the task.
fn arrived(cfg: &Config, task: &TaskContext, key: &str, character: &str, loaded: &Loaded) {
    if let Some(g) = loaded.generation {
        purge::learn(character, g, now_ms());
    }
    l1::put(cfg, key, loaded.entry.clone(), now_ms());
    task.record("single_flight_role", loaded.role.as_str());
}

/// [`single_flight::load`], at most once per key at a time in this isolate: the Durable Object coalesces
/// across isolates, this map within one, so a burst in one isolate costs one Durable Object round trip
/// (and one transfer of the value) instead of one per request. A flight is joined only by requests that
/// want the same generation (a request after a purge never joins a load started before it).
///
/// Followers wait on the leader's slot ([`pve_edge::cache::isolate`]: why they poll, on their own timers).
async fn load_once_per_isolate(
    env: &Env,
    resource: &Resource,
    want: Want,
    deadline: u64,
    request_id: &str,
) -> Result<Loaded, LoadError> {
    let slot = match FLIGHTS.with(|f| isolate::join(f, want.flight(&resource.key()))) {
        Joined::Lead(leading) => {
            let result = single_flight::load(env, resource, want, deadline, request_id).await;
            leading.finish(result.clone());
            return result;
        }
        Joined::Follow(slot) => slot,
    };
    let mut follower = Follower::new(slot);
    loop {
        match follower.look(now_ms(), deadline) {
            Look::Done(result) => {
                return result.map(|loaded| Loaded {
                    role: Role::Isolate,
                    ..loaded
                })
            }
            Look::LoadAlone => return single_flight::load(env, resource, want, deadline, request_id).await,
            Look::Wait(ms) => Delay::from(Duration::from_millis(ms)).await,
            Look::Deadline => return Err(deadline_reached()),
        }
    }
}

/// Refresh `resource` through its single-flight Durable Object after the response is sent. At most one
/// background refresh per key and isolate at a time; the Durable Object coalesces across isolates.
fn revalidate_in_background(
    env: &Env,
    ctx: &impl Background,
    cfg: &Rc<Config>,
    resource: &Resource,
    want: Want,
    character: &str,
) {
    let key = resource.key();
    let Some(busy) = REVALIDATING.with(|r| r.start(&key)) else {
        return;
    };
    let (env, cfg, resource, character) = (env.clone(), cfg.clone(), resource.clone(), character.to_owned());
    ctx.wait_until(async move {
        let _busy = busy;
        let task = background("cache", "revalidate", key.clone());
        let deadline = now_ms() + cfg.request_deadline_ms;
        match single_flight::load(&env, &resource, want, deadline, &task.request_id).await {
            Ok(loaded) => {
                arrived(&cfg, &task, &key, &character, &loaded);
                task.finish(Outcome::Ok, None);
            }
            Err(e) => task.finish(e.outcome(), None),
        }
    });
}

/// A derived value (engine answer, valuation) from L1, then KV.
pub async fn get_derived(env: &Env, cfg: &Config, task: &TaskContext, key: &str) -> Option<Served> {
    let now = now_ms();
    if let Some(entry) = l1::get(cfg, key, now) {
        return Some(Served { entry, how: How::L1 });
    }
    match kv::read(env, key).await {
        Ok(Some(entry)) => {
            let entry = Rc::new(entry);
            l1::put(cfg, key, entry.clone(), now_ms());
            Some(Served { entry, how: How::L2 })
        }
        Ok(None) => None,
        Err(e) => {
            task.record("kv_read_error", e.to_string());
            None
        }
    }
}

/// Keep a freshly computed derived value in L1 now and in KV after the response (`wait_until`).
pub fn put_derived(env: &Env, ctx: &impl Background, cfg: &Config, key: &str, body: Vec<u8>) -> Served {
    let now = now_ms();
    let entry = Rc::new(Entry::found(body, now, DERIVED_TTL_MS, DERIVED_TTL_MS));
    l1::put(cfg, key, entry.clone(), now);
    if let Some(busy) = WRITING.with(|w| w.start(key)) {
        let (env, key, for_kv) = (env.clone(), key.to_owned(), entry.clone());
        ctx.wait_until(async move {
            let _busy = busy;
            if let Err(e) = kv::write(&env, &key, &for_kv, now).await {
                let task = background("cache", "kv_write", key.clone());
                task.finish(Outcome::of(&e), None);
            }
        });
    }
    Served {
        entry,
        how: How::Computed,
    }
}
