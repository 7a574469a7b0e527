//! The `SingleFlight` Durable Object: one instance per cache key (`id_from_name`) coordinates loads so
//! that concurrent requests for the same key reach the upstream once. (This slice answers a ping; the
//! coalescing map comes with the cache.)
use crate::context::{Outcome, TaskContext};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

#[durable_object]
pub struct SingleFlight {
    state: State,
    _env: Env,
}

impl DurableObject for SingleFlight {
    fn new(state: State, env: Env) -> Self {
        SingleFlight { state, _env: env }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let task = TaskContext::for_request(&req, "single_flight", "ping");
        task.set_key(self.state.id().to_string());
        let resp = match req.path().as_str() {
            "/ping" => Response::from_json(&serde_json::json!({"pong": true})),
            _ => Response::error("no such durable object route", 404),
        };
        task.finish(Outcome::Ok, resp.as_ref().ok().map(|r| r.status_code()));
        resp
    }
}
