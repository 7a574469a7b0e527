//! The `SingleFlight` Durable Object: one instance per cache key (`id_from_name(key)`), so every request
//! for a key, from every isolate, meets in one place.
//!
//! A Durable Object's input gate opens while it awaits I/O (the upstream fetch, KV), so other requests run
//! inside it meanwhile: the object alone does not serialize anything. What coalesces is its in-memory
//! map of in-flight loads ([`Flights`], in pve-edge, which makes the join/lead choices): the first
//! request for a key becomes the **leader** and starts the load; every request that arrives while it runs
//! is a **follower** and awaits the same shared future, hence gets the same bytes. The load runs detached from its waiters (`spawn_local`): a waiter that reaches its
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
use crate::durable;
use crate::upstream;
use futures_util::future::{self, Either, FutureExt, LocalBoxFuture, Shared};
use pve_edge::cache::{Entry, Resource};
use pve_edge::purge::next_generation;
pub use pve_edge::single_flight::GenerationAnswer;
use pve_edge::single_flight::{
    answer_headers, deadline_reached, failed_answer, read_answer, FlightGuard, Flights, LoadError,
    LoadRequest, Loaded, ObjectRoute, Role, Want, DEADLINE_RETRY_AFTER_MS, GENERATION_HEADER, GENERATION_KEY,
    META_HEADER, ROLE_HEADER,
};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use worker::{
    durable_object, wasm_bindgen_futures, Delay, DurableObject, Env, Headers, Method, Request, Response,
    Result, State,
};

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
    let req = durable::request(
        Method::Post,
        &ObjectRoute::Load.url(),
        Some(body),
        Some(request_id),
    );
    let req = req.map_err(platform)?;

    let wait = Delay::from(Duration::from_millis(deadline.saturating_sub(now_ms())));
    let call = stub.fetch_with_request(req);
    futures_util::pin_mut!(call);
    let mut resp = match future::select(call, wait).await {
        Either::Left((resp, _)) => resp.map_err(platform)?,
        Either::Right(_) => return Err(deadline_reached()),
    };
    if resp.status_code() != 200 {
        return Err(failed_answer(&resp.bytes().await.unwrap_or_default()));
    }
    let header = |name| resp.headers().get(name).ok().flatten();
    let (meta, role, generation) = read_answer(
        header(META_HEADER).as_deref(),
        header(ROLE_HEADER).as_deref(),
        header(GENERATION_HEADER).as_deref(),
    )?;
    let body = resp.bytes().await.map_err(platform)?;
    Ok(Loaded {
        entry: Rc::new(Entry { meta, body }),
        role,
        generation,
    })
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
    let (method, route) = if purge {
        (Method::Post, ObjectRoute::Purge)
    } else {
        (Method::Get, ObjectRoute::Generation)
    };
    let req = durable::request(method, &route.url(), None, Some(request_id))?;
    durable::call_json(&stub, req).await
}

type SharedLoad = Shared<LocalBoxFuture<'static, std::result::Result<Rc<Entry>, LoadError>>>;

/// The object's in-flight loads and last results; every choice about them is [`Flights`]'s. Borrowed
/// only between awaits.
type Memory = Rc<RefCell<Flights<SharedLoad>>>;

#[durable_object]
pub struct SingleFlight {
    state: State,
    env: Env,
    flights: Memory,
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
        match ObjectRoute::parse(&req.path()) {
            Some(ObjectRoute::Ping) => Response::from_json(&serde_json::json!({"pong": true})),
            Some(ObjectRoute::Load) => self.load(req).await,
            Some(ObjectRoute::Generation) => Response::from_json(&GenerationAnswer {
                generation: self.generation().await?,
                previous: 0,
            }),
            Some(ObjectRoute::Purge) => self.purge(&req).await,
            None => Response::error("no such durable object route", 404),
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
        self.flights.borrow_mut().forget();
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
        let own = if load_req.is_authority() {
            match self.generation().await {
                Ok(g) => Some(g),
                Err(e) => {
                    let err = LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, format!("generation: {e}"));
                    return self.answer(task, Err(err), None);
                }
            }
        } else {
            None
        };
        let generation = load_req.generation(own);
        let reported = own.map(|_| generation);
        let now = now_ms();
        let want = load_req.want(generation);
        let remembered = self.flights.borrow().remembered(&key, &want, now);
        if let Some(entry) = remembered {
            return self.answer(task, Ok((Role::Memory, entry)), reported);
        }
        let (role, shared) = self.join_or_lead(&key, &load_req, generation, cfg, &task.request_id);
        let wait = Delay::from(Duration::from_millis(load_req.deadline.saturating_sub(now)));
        let result = match future::select(shared, wait).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => Err(deadline_reached()),
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
        let joinable = self.flights.borrow().joinable(key, generation);
        if let Some(load) = joinable {
            return (Role::Follower, load);
        }
        let guard = FlightGuard::start(&self.flights, key);
        let id = guard.id();
        let (env, resource, min_fetched_at) = (
            self.env.clone(),
            load_req.resource.clone(),
            load_req.min_fetched_at,
        );
        let (flights, leader_request_id) = (self.flights.clone(), request_id.to_owned());
        let load = async move {
            let _guard = guard;
            let result = lead(
                &env,
                &cfg,
                &resource,
                min_fetched_at,
                generation,
                &leader_request_id,
            )
            .await;
            // This object may live in an isolate that no Worker request flushes: flush what the load counted.
            crate::metrics_store::flush_or_log(&env, true).await;
            if let Ok(entry) = &result {
                flights.borrow_mut().remember(&resource.key(), entry.clone());
            }
            result
        }
        .boxed_local()
        .shared();
        self.flights.borrow_mut().lead(key, id, generation, load.clone());
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
                let answer = answer_headers(&entry.meta, role, generation)
                    .map_err(|e| worker::Error::RustError(e.detail().to_owned()))?;
                for (name, value) in answer {
                    headers.set(name, &value)?;
                }
                task.finish(Outcome::Ok, Some(200));
                Ok(Response::from_bytes(entry.body.clone())?.with_headers(headers))
            }
            Err(e) => {
                task.record("role", "none");
                task.finish(e.outcome(), Some(503));
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
            task.finish(e.outcome(), None);
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
