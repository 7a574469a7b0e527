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
//!
//! Purges ([`crate::cache::purge`]): the object of a name's ocid key (`v1:ocid:{name}`) is also the
//! authority of that character's **purge generation**, kept in its durable storage (`/generation`,
//! `/purge`). Every entry is stamped with the generation its load started under; a load asks for a
//! minimum generation (the name's object raises it to its own), and neither the last result, nor a
//! load in flight, nor KV's copy answers it with an older stamp.
use crate::bindings::SINGLE_FLIGHT;
use crate::cache::kv;
use crate::config::Config;
use crate::context::{now_ms, Outcome, TaskContext};
use crate::upstream;
use futures_util::future::{self, Either, FutureExt, LocalBoxFuture, Shared};
use pve_edge::cache::{Entry, Meta, Resource};
use pve_edge::purge::{is_current_stamp, next_generation};
use pve_edge::single_flight::{parse_generation, LoadError, Loaded, Role, Want, ROLE_HEADER};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use worker::{
    durable_object, wasm_bindgen_futures, Delay, DurableObject, Env, Headers, Method, Request, RequestInit,
    Response, Result, State,
};

/// What the Worker asks the Durable Object.
#[derive(Debug, Serialize, Deserialize)]
struct LoadRequest {
    resource: Resource,
    min_fetched_at: u64,
    #[serde(default)]
    min_generation: u64,
    /// The waiter gives up at this instant (epoch ms); the load itself goes on.
    deadline: u64,
}

const META_HEADER: &str = "x-entry-meta";
const GENERATION_HEADER: &str = "x-purge-generation";
/// The durable storage key of the purge generation (in a name's ocid object).
const GENERATION_KEY: &str = "purge_generation";
/// A waiter that gives up on the deadline: the load is still running, so the answer comes soon.
const DEADLINE_RETRY_AFTER_MS: u64 = 1_000;

/// Load `resource` through its single-flight Durable Object, waiting at most until `deadline`.
pub async fn load(
    env: &Env,
    resource: &Resource,
    want: Want,
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
        min_fetched_at: want.min_fetched_at,
        min_generation: want.min_generation,
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
    // Our own object wrote these headers: anything unreadable is a bug (or a version skew), an internal
    // error — never an upstream failure, and an unknown role is never counted as coalesced.
    let meta = resp
        .headers()
        .get(META_HEADER)
        .ok()
        .flatten()
        .and_then(|m| serde_json::from_str::<Meta>(&m).ok())
        .ok_or_else(|| LoadError::internal("bug: single flight answer without readable metadata"))?;
    let role = Role::from_header(resp.headers().get(ROLE_HEADER).ok().flatten().as_deref())?;
    let generation = parse_generation(resp.headers().get(GENERATION_HEADER).ok().flatten().as_deref())?;
    let body = resp.bytes().await.map_err(platform)?;
    Ok(Loaded {
        entry: Rc::new(Entry { meta, body }),
        role,
        generation,
    })
}

/// What a name's object answers on `/generation` and `/purge`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct GenerationAnswer {
    pub generation: u64,
    /// On `/purge`: the generation before it.
    #[serde(default)]
    pub previous: u64,
}

/// Ask the authority of `name`'s purge generation (its ocid key's object) for it (`purge: false`), or
/// raise it (`purge: true`).
pub async fn generation(env: &Env, name: &str, purge: bool, request_id: &str) -> Result<GenerationAnswer> {
    let key = Resource::Ocid {
        name: name.to_owned(),
    }
    .key();
    let stub = env
        .durable_object(SINGLE_FLIGHT)?
        .id_from_name(&key)?
        .get_stub()?;
    let headers = Headers::new();
    headers.set("cf-ray", request_id)?;
    let mut init = RequestInit::new();
    init.with_method(if purge { Method::Post } else { Method::Get })
        .with_headers(headers);
    let url = if purge {
        "https://single-flight/purge"
    } else {
        "https://single-flight/generation"
    };
    let mut resp = stub
        .fetch_with_request(Request::new_with_init(url, &init)?)
        .await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "single flight {url} answered {}",
            resp.status_code()
        )));
    }
    resp.json().await
}

type SharedLoad = Shared<LocalBoxFuture<'static, std::result::Result<Rc<Entry>, LoadError>>>;

struct Flight {
    id: u64,
    /// The generation its result is stamped with.
    generation: u64,
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
    state: State,
    env: Env,
    flights: Rc<Flights>,
    /// The purge generation (names' ocid objects only), once read from storage.
    generation: Cell<Option<u64>>,
}

impl DurableObject for SingleFlight {
    fn new(state: State, env: Env) -> Self {
        SingleFlight {
            state,
            env,
            flights: Rc::default(),
            generation: Cell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match req.path().as_str() {
            "/ping" => Response::from_json(&serde_json::json!({"pong": true})),
            "/load" => self.load(req).await,
            "/generation" => Response::from_json(&GenerationAnswer {
                generation: self.generation().await?,
                previous: 0,
            }),
            "/purge" => self.purge(&req).await,
            _ => Response::error("no such durable object route", 404),
        }
    }
}

impl SingleFlight {
    /// This object's purge generation: 0 until the first purge (and in objects of equipment keys).
    async fn generation(&self) -> Result<u64> {
        if let Some(g) = self.generation.get() {
            return Ok(g);
        }
        let g = self
            .state
            .storage()
            .get::<u64>(GENERATION_KEY)
            .await?
            .unwrap_or(0);
        // Another request may have purged while storage was read: never go back.
        let g = self.generation.get().map_or(g, |now| now.max(g));
        self.generation.set(Some(g));
        Ok(g)
    }

    /// Raise the generation (durably, before answering): from now on no copy stamped lower answers.
    async fn purge(&self, req: &Request) -> Result<Response> {
        let task = crate::context::for_request(req, "single_flight", "purge");
        let previous = self.generation().await?;
        let generation = next_generation(previous, now_ms());
        self.generation.set(Some(generation));
        self.state.storage().put(GENERATION_KEY, generation).await?;
        // Stamps already keep the last results from answering; drop them to free the memory too.
        self.flights.last.borrow_mut().clear();
        task.record("generation", generation);
        task.finish(Outcome::Ok, Some(200));
        Response::from_json(&GenerationAnswer { generation, previous })
    }

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
                return self.answer(task, Err(err), None);
            }
        };
        // A name's object is the authority of its generation; others take the caller's.
        let authority = matches!(load_req.resource, Resource::Ocid { .. });
        let generation = if authority {
            match self.generation().await {
                Ok(g) => g.max(load_req.min_generation),
                Err(e) => {
                    let err = LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, format!("generation: {e}"));
                    return self.answer(task, Err(err), None);
                }
            }
        } else {
            load_req.min_generation
        };
        let reported = authority.then_some(generation);
        let now = now_ms();
        let remembered = self.flights.last.borrow().get(&key).cloned();
        let want = Want {
            min_fetched_at: load_req.min_fetched_at,
            min_generation: generation,
        };
        if let Some(entry) = remembered.filter(|e| want.accepts(e, now)) {
            return self.answer(task, Ok((Role::Memory, entry)), reported);
        }
        let (role, shared) = self.join_or_lead(&key, &load_req, generation, cfg, &task.request_id);
        let wait = Delay::from(Duration::from_millis(load_req.deadline.saturating_sub(now)));
        let result = match future::select(shared, wait).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => Err(LoadError::unavailable(
                DEADLINE_RETRY_AFTER_MS,
                "deadline reached",
            )),
        };
        self.answer(task, result.map(|entry| (role, entry)), reported)
    }

    /// Join the load in flight for `key` if it started under `generation` or later, or start one and
    /// become its leader (a load started before a purge is left to finish for its own waiters).
    fn join_or_lead(
        &self,
        key: &str,
        load_req: &LoadRequest,
        generation: u64,
        cfg: Rc<Config>,
        request_id: &str,
    ) -> (Role, SharedLoad) {
        if let Some(flight) = self
            .flights
            .in_flight
            .borrow()
            .get(key)
            .filter(|f| is_current_stamp(f.generation, generation))
        {
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
            let result = lead(&env, &cfg, &resource, min_fetched_at, generation, &leader_request_id).await;
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
                generation,
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
        generation: Option<u64>,
    ) -> Result<Response> {
        match result {
            Ok((role, entry)) => {
                task.record("role", role.as_str());
                let headers = Headers::new();
                headers.set(META_HEADER, &serde_json::to_string(&entry.meta)?)?;
                headers.set(ROLE_HEADER, role.as_str())?;
                if let Some(g) = generation {
                    headers.set(GENERATION_HEADER, &g.to_string())?;
                }
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

/// The leader's load: KV once more, else the upstream; then KV is written. One log line.
async fn lead(
    env: &Env,
    cfg: &Config,
    resource: &Resource,
    min_fetched_at: u64,
    generation: u64,
    leader_request_id: &str,
) -> std::result::Result<Rc<Entry>, LoadError> {
    let key = resource.key();
    let task = TaskContext::new(crate::context::new_request_id(), "single_flight", "lead");
    task.set_key(key.clone());
    task.record("leader_request_id", leader_request_id);
    let want = Want {
        min_fetched_at,
        min_generation: generation,
    };
    match kv::read(env, &key).await {
        Ok(Some(entry)) if want.accepts(&entry, now_ms()) => {
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
        Ok(fetched) => fetched.into_entry(resource, cfg, now, generation),
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
    if let Err(e) = kv::write(env, &key, &entry, now).await {
        // The answer is still good; the next leader will load again.
        task.record("kv_write_error", e.to_string());
    }
    task.finish(Outcome::Ok, None);
    Ok(Rc::new(entry))
}
