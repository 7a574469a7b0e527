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
use crate::fetch::within;
use crate::upstream;
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use pve_edge::cache::{Entry, Resource};
use pve_edge::purge::next_generation;
pub use pve_edge::single_flight::GenerationAnswer;
use pve_edge::single_flight::{
    self, deadline_reached, Admit, FlightGuard, Flights, LoadError, LoadRequest, Loaded, ObjectRoute, Role,
    Want, DEADLINE_RETRY_AFTER_MS, GENERATION_KEY,
};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use worker::{
    durable_object, wasm_bindgen_futures, DurableObject, Env, Method, Request, Response, Result, State,
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
    let stub = durable::stub(env, SINGLE_FLIGHT, &resource.key()).map_err(platform)?;
    let body = serde_json::to_string(&want.request(resource, deadline))
        .map_err(|e| LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, e.to_string()))?;
    let req = durable::request(
        Method::Post,
        &ObjectRoute::Load.url(),
        Some(body),
        Some(request_id),
    );
    let call = stub.fetch_with_request(req.map_err(platform)?);
    let Some(resp) = within(deadline.saturating_sub(now_ms()), call).await else {
        return Err(deadline_reached());
    };
    let mut resp = resp.map_err(platform)?;
    let body = resp.bytes().await.map_err(platform)?;
    single_flight::loaded(
        resp.status_code(),
        |name| resp.headers().get(name).ok().flatten(),
        body,
    )
}

/// Ask the authority of `name`'s purge generation (its ocid key's object) for it (`purge: false`), or
/// raise it (`purge: true`).
pub async fn generation(env: &Env, name: &str, purge: bool, request_id: &str) -> Result<GenerationAnswer> {
    let stub = durable::stub(env, SINGLE_FLIGHT, &Resource::ocid_key(name))?;
    let (method, route) = match purge {
        true => (Method::Post, ObjectRoute::Purge),
        false => (Method::Get, ObjectRoute::Generation),
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
        let stored = self.state.storage().get::<u64>(GENERATION_KEY).await?;
        let g = single_flight::generation_read(self.generation.get(), stored);
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
        let unavailable = |e: String| LoadError::unavailable(DEADLINE_RETRY_AFTER_MS, e);
        let prepared = async {
            let cfg = crate::config::get(&self.env).map_err(|e| unavailable(e.to_string()))?;
            // A name's object is the authority of its generation; others take the caller's.
            let own = match load_req.is_authority() {
                true => Some(
                    self.generation()
                        .await
                        .map_err(|e| unavailable(format!("generation: {e}")))?,
                ),
                false => None,
            };
            Ok((cfg, own))
        };
        let (cfg, own) = match prepared.await {
            Ok(prepared) => prepared,
            Err(e) => return self.answer(task, Err(e), None),
        };
        let generation = load_req.generation(own);
        let reported = own.map(|_| generation);
        let now = now_ms();
        let (role, shared) = match Flights::admit(&self.flights, &key, &load_req.want(generation), now) {
            Admit::Remembered(entry) => return self.answer(task, Ok((Role::Memory, entry)), reported),
            Admit::Follow(load) => (Role::Follower, load),
            Admit::Lead(guard) => (
                Role::Leader,
                self.lead(guard, &load_req, generation, cfg, &task.request_id),
            ),
        };
        let result = within(load_req.deadline.saturating_sub(now), shared).await;
        let result = result.unwrap_or_else(|| Err(deadline_reached()));
        self.answer(task, result.map(|entry| (role, entry)), reported)
    }

    /// Start the load that `guard` ends, registered under its key and `generation` (a load started before
    /// a purge is left to finish for its own waiters).
    fn lead(
        &self,
        guard: FlightGuard<SharedLoad>,
        load_req: &LoadRequest,
        generation: u64,
        cfg: Rc<Config>,
        request_id: &str,
    ) -> SharedLoad {
        let (env, resource, want) = (
            self.env.clone(),
            load_req.resource.clone(),
            load_req.want(generation),
        );
        let (flights, leader_request_id) = (self.flights.clone(), request_id.to_owned());
        let id = guard.id();
        let load = async move {
            let _guard = guard;
            let result = load_as_leader(&env, &cfg, &resource, want, &leader_request_id).await;
            // This object may live in an isolate that no Worker request flushes: flush what the load counted.
            crate::metrics_store::flush_or_log(&env, true).await;
            if let Ok(entry) = &result {
                flights.borrow_mut().remember(&resource.key(), entry.clone());
            }
            result
        }
        .boxed_local()
        .shared();
        self.flights
            .borrow_mut()
            .lead(&load_req.resource.key(), id, generation, load.clone());
        // Run the load to its end whatever happens to the waiters.
        wasm_bindgen_futures::spawn_local(load.clone().map(drop));
        load
    }

    /// Answer a load ([`single_flight::answer`]) and end its task.
    fn answer(
        &self,
        task: TaskContext,
        result: std::result::Result<(Role, Rc<Entry>), LoadError>,
        generation: Option<u64>,
    ) -> Result<Response> {
        let answer = single_flight::answer(result, generation);
        task.record("role", answer.role);
        task.finish(answer.outcome, Some(answer.reply.status));
        crate::error::respond(answer.reply)
    }
}

/// The leader's load: KV once more, else the upstream; then KV is written. One log line.
async fn load_as_leader(
    env: &Env,
    cfg: &Config,
    resource: &Resource,
    want: Want,
    leader_request_id: &str,
) -> std::result::Result<Rc<Entry>, LoadError> {
    let key = resource.key();
    let task = crate::context::background("single_flight", "lead", key.clone());
    task.record("leader_request_id", leader_request_id);
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
        Ok(fetched) => fetched.into_entry(resource, cfg, now, want.min_generation),
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
