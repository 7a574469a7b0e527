//! The `SingleFlight` Durable Object: one instance per cache key (`id_from_name(key)`), so every request
//! for a key, from every isolate, meets in one place.
//!
//! A Durable Object's input gate opens while it awaits I/O (the upstream fetch, KV), so other requests run
//! inside it meanwhile: the object alone does not serialize anything. What coalesces is its in-memory
//! map of in-flight loads: the first request for a key becomes the **leader** and starts the load; every
//! request that arrives while it runs is a **follower** and awaits the same shared future, hence gets the
//! same bytes. The load runs detached from its waiters (`spawn_local`): a waiter that reaches its
//! deadline leaves without cancelling anything. The map entry is removed when the load ends, by a drop
//! guard, on success and error alike (a panic aborts the whole isolate, map included).
//!
//! The last result stays in memory, so a request that arrives just after a load finished (it missed the
//! leader's KV write by a few milliseconds) is answered without a second upstream call.
//!
//! The leader: reads KV once more (another instance may have loaded it before this one was created), then
//! calls the upstream through [`crate::upstream`] (rate limit, circuit breaker, timeouts, retries), writes
//! KV (it is the only writer of these keys) and resolves every waiter.
use crate::bindings::SINGLE_FLIGHT;
use crate::cache::{self, Entry, Meta, Resource};
use crate::config::Config;
use crate::context::{now_ms, Outcome, TaskContext};
use crate::upstream;
use futures_util::future::{self, Either, FutureExt, LocalBoxFuture, Shared};
use pve_edge::single_flight::{Role, ROLE_HEADER};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use worker::{
    durable_object, wasm_bindgen_futures, Delay, DurableObject, Env, Headers, Method, Request, RequestInit,
    Response, Result, State,
};

/// Why a load gave no entry. Crosses the Worker ↔ Durable Object boundary as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum LoadError {
    /// Upstream errors and timeouts, an open circuit, a missed deadline, an unreachable Durable Object.
    UpstreamUnavailable { retry_after_ms: u64, detail: String },
    /// Our upstream token bucket is empty, or the upstream answered 429.
    UpstreamRateLimited { retry_after_ms: u64, detail: String },
}

impl LoadError {
    pub fn code(&self) -> &'static str {
        match self {
            LoadError::UpstreamUnavailable { .. } => "upstream_unavailable",
            LoadError::UpstreamRateLimited { .. } => "upstream_rate_limited",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            LoadError::UpstreamUnavailable { detail, .. } | LoadError::UpstreamRateLimited { detail, .. } => {
                detail
            }
        }
    }

    pub fn unavailable(retry_after_ms: u64, detail: impl Into<String>) -> LoadError {
        LoadError::UpstreamUnavailable {
            retry_after_ms,
            detail: detail.into(),
        }
    }
}

/// What the Worker asks the Durable Object.
#[derive(Debug, Serialize, Deserialize)]
struct LoadRequest {
    resource: Resource,
    /// Accept a copy only if fetched at or after this instant (epoch ms); 0 for any fresh copy.
    min_fetched_at: u64,
    /// The waiter gives up at this instant (epoch ms); the load itself goes on.
    deadline: u64,
}

/// A loaded entry and how this request got it ([`Role`]: `leader`, `follower`, `memory`, `isolate`).
/// `role` is [`Role::as_str`] of a typed role (text because `cache/` compares and logs it; see
/// [`Role::is_coalesced`]).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub entry: Rc<Entry>,
    pub role: &'static str,
}

const META_HEADER: &str = "x-entry-meta";
/// A waiter that gives up on the deadline: the load is still running, so the answer comes soon.
const DEADLINE_RETRY_AFTER_MS: u64 = 1_000;

/// Load `resource` through its single-flight Durable Object, waiting at most until `deadline`.
pub async fn load(
    env: &Env,
    resource: &Resource,
    min_fetched_at: u64,
    deadline: u64,
    request_id: &str,
) -> std::result::Result<Loaded, LoadError> {
    let platform =
        |e: worker::Error| LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, format!("single flight: {e}"));
    let stub = env
        .durable_object(SINGLE_FLIGHT)
        .and_then(|ns| ns.id_from_name(&resource.key())?.get_stub());
    let stub = stub.map_err(platform)?;
    let body = serde_json::to_string(&LoadRequest {
        resource: resource.clone(),
        min_fetched_at,
        deadline,
    })
    .map_err(|e| LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, e.to_string()))?;
    let headers = Headers::new();
    headers
        .set("content-type", "application/json")
        .map_err(platform)?;
    headers.set("cf-ray", request_id).map_err(platform)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let req = Request::new_with_init("https://single-flight/load", &init).map_err(platform)?;

    let wait = Delay::from(Duration::from_millis(deadline.saturating_sub(now_ms())));
    let call = stub.fetch_with_request(req);
    futures_util::pin_mut!(call);
    let mut resp = match future::select(call, wait).await {
        Either::Left((resp, _)) => resp.map_err(platform)?,
        Either::Right(_) => {
            return Err(LoadError::unavailable(
                DEADLINE_RETRY_AFTER_MS,
                "deadline reached",
            ))
        }
    };
    if resp.status_code() != 200 {
        return Err(match resp.json::<LoadError>().await {
            Ok(e) => e,
            Err(e) => LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, format!("single flight answered: {e}")),
        });
    }
    let meta = resp
        .headers()
        .get(META_HEADER)
        .ok()
        .flatten()
        .and_then(|m| serde_json::from_str::<Meta>(&m).ok())
        .ok_or_else(|| {
            LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, "single flight answer without metadata")
        })?;
    // An unknown role is our own protocol broken (a bug or a version skew): an error, never "coalesced".
    let role = Role::from_header(resp.headers().get(ROLE_HEADER).ok().flatten().as_deref())
        .map_err(|e| LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, e.to_string()))?;
    let body = resp.bytes().await.map_err(platform)?;
    Ok(Loaded {
        entry: Rc::new(Entry { meta, body }),
        role: role.as_str(),
    })
}

type SharedLoad = Shared<LocalBoxFuture<'static, std::result::Result<Rc<Entry>, LoadError>>>;

struct Flight {
    id: u64,
    load: SharedLoad,
}

#[derive(Default)]
struct Flights {
    in_flight: RefCell<HashMap<String, Flight>>,
    /// The last result per key (one key per object in practice; bounded anyway).
    last: RefCell<HashMap<String, Rc<Entry>>>,
    next_id: Cell<u64>,
}

/// Removes its flight from the map when the load ends, however it ends.
struct FlightGuard {
    flights: Rc<Flights>,
    key: String,
    id: u64,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        let mut map = self.flights.in_flight.borrow_mut();
        if map.get(&self.key).is_some_and(|f| f.id == self.id) {
            map.remove(&self.key);
        }
    }
}

#[durable_object]
pub struct SingleFlight {
    env: Env,
    flights: Rc<Flights>,
}

impl DurableObject for SingleFlight {
    fn new(_state: State, env: Env) -> Self {
        SingleFlight {
            env,
            flights: Rc::default(),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match req.path().as_str() {
            "/ping" => Response::from_json(&serde_json::json!({"pong": true})),
            "/load" => self.load(req).await,
            _ => Response::error("no such durable object route", 404),
        }
    }
}

impl SingleFlight {
    async fn load(&self, mut req: Request) -> Result<Response> {
        let task = crate::context::for_request(&req, "single_flight", "load");
        let load_req: LoadRequest = match req.json().await {
            Ok(r) => r,
            Err(e) => {
                task.finish(
                    Outcome::Error {
                        code: "internal",
                        detail: format!("bug: unreadable load request: {e}"),
                    },
                    None,
                );
                return Err(e);
            }
        };
        let key = load_req.resource.key();
        task.set_key(key.clone());
        let cfg = match crate::config::get(&self.env) {
            Ok(cfg) => cfg,
            Err(e) => {
                let err = LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, e.to_string());
                return self.answer(task, Err(err));
            }
        };
        let now = now_ms();
        let remembered = self.flights.last.borrow().get(&key).cloned();
        if let Some(entry) = remembered.filter(|e| acceptable(e, load_req.min_fetched_at, now)) {
            return self.answer(task, Ok((Role::Memory, entry)));
        }
        let (role, shared) = self.join_or_lead(&key, &load_req, cfg, &task.request_id);
        let wait = Delay::from(Duration::from_millis(load_req.deadline.saturating_sub(now)));
        let result = match future::select(shared, wait).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => Err(LoadError::unavailable(
                DEADLINE_RETRY_AFTER_MS,
                "deadline reached",
            )),
        };
        self.answer(task, result.map(|entry| (role, entry)))
    }

    /// Join the load in flight for `key`, or start one and become its leader.
    fn join_or_lead(
        &self,
        key: &str,
        load_req: &LoadRequest,
        cfg: Rc<Config>,
        request_id: &str,
    ) -> (Role, SharedLoad) {
        if let Some(flight) = self.flights.in_flight.borrow().get(key) {
            return (Role::Follower, flight.load.clone());
        }
        let id = self.flights.next_id.get() + 1;
        self.flights.next_id.set(id);
        let guard = FlightGuard {
            flights: self.flights.clone(),
            key: key.to_owned(),
            id,
        };
        let (env, resource, min_fetched_at) = (
            self.env.clone(),
            load_req.resource.clone(),
            load_req.min_fetched_at,
        );
        let (flights, leader_request_id) = (self.flights.clone(), request_id.to_owned());
        let load = async move {
            let _guard = guard;
            let result = lead(&env, &cfg, &resource, min_fetched_at, &leader_request_id).await;
            // This object may live in an isolate that no Worker request flushes: flush what the load counted.
            if let Err(e) = crate::metrics_store::flush(&env, true).await {
                worker::console_error!(
                    "{}",
                    serde_json::json!({"domain": "metrics", "task": "flush", "outcome": "error", "error_detail": e.to_string()})
                );
            }
            if let Ok(entry) = &result {
                let mut last = flights.last.borrow_mut();
                if last.len() >= 16 {
                    last.clear();
                }
                last.insert(resource.key(), entry.clone());
            }
            result
        }
        .boxed_local()
        .shared();
        self.flights.in_flight.borrow_mut().insert(
            key.to_owned(),
            Flight {
                id,
                load: load.clone(),
            },
        );
        // Run the load to its end whatever happens to the waiters.
        wasm_bindgen_futures::spawn_local(load.clone().map(drop));
        (Role::Leader, load)
    }

    fn answer(
        &self,
        task: TaskContext,
        result: std::result::Result<(Role, Rc<Entry>), LoadError>,
    ) -> Result<Response> {
        match result {
            Ok((role, entry)) => {
                task.record("role", role.as_str());
                let headers = Headers::new();
                headers.set(META_HEADER, &serde_json::to_string(&entry.meta)?)?;
                headers.set(ROLE_HEADER, role.as_str())?;
                task.finish(Outcome::Ok, Some(200));
                Ok(Response::from_bytes(entry.body.clone())?.with_headers(headers))
            }
            Err(e) => {
                task.record("role", "none");
                task.finish(
                    Outcome::Error {
                        code: e.code(),
                        detail: e.detail().to_owned(),
                    },
                    Some(503),
                );
                Ok(Response::from_json(&e)?.with_status(503))
            }
        }
    }
}

/// A copy answers a request if it is fresh and recent enough.
fn acceptable(entry: &Entry, min_fetched_at: u64, now: u64) -> bool {
    entry.is_fresh(now) && entry.meta.fetched_at >= min_fetched_at
}

/// The leader's load: KV once more, else the upstream; then KV is written. One log line.
async fn lead(
    env: &Env,
    cfg: &Config,
    resource: &Resource,
    min_fetched_at: u64,
    leader_request_id: &str,
) -> std::result::Result<Rc<Entry>, LoadError> {
    let key = resource.key();
    let task = TaskContext::new(crate::context::new_request_id(), "single_flight", "lead");
    task.set_key(key.clone());
    task.record("leader_request_id", leader_request_id);
    match cache::kv_read(env, &key).await {
        Ok(Some(entry)) if acceptable(&entry, min_fetched_at, now_ms()) => {
            task.record("source", "kv");
            task.finish(Outcome::Ok, None);
            return Ok(Rc::new(entry));
        }
        Ok(_) => {}
        Err(e) => task.record("kv_read_error", e.to_string()),
    }
    let fetched = upstream::fetch(env, cfg, resource, &task).await;
    let now = now_ms();
    let entry = match fetched {
        Ok(upstream::Fetched::Found(body)) => {
            let (fresh, stale) = resource.windows(cfg);
            Entry::found(body, now, fresh, stale)
        }
        Ok(upstream::Fetched::NotFound) => Entry::not_found(now, cfg.not_found_ttl_ms),
        Err(e) => {
            task.finish(
                Outcome::Error {
                    code: e.code(),
                    detail: e.detail().to_owned(),
                },
                None,
            );
            return Err(e);
        }
    };
    task.record("source", "upstream");
    task.record("kind", entry.meta.kind.as_str());
    if let Err(e) = cache::kv_write(env, &key, &entry, now).await {
        // The answer is still good; the next leader will load again.
        task.record("kv_write_error", e.to_string());
    }
    task.finish(Outcome::Ok, None);
    Ok(Rc::new(entry))
}
