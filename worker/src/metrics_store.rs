//! The `Metrics` Durable Object: one instance sums the deltas that every isolate flushes, keeps the
//! totals in its storage (so an eviction does not reset the counters), and renders them.
use crate::bindings::METRICS;
use crate::context::{failure, Level, Outcome};
use crate::durable;
use crate::metrics::{self, Snapshot};
use std::cell::RefCell;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

const STORAGE_KEY: &str = "totals";
/// The one aggregator object's name.
const AGGREGATOR: &str = "global";

#[durable_object]
pub struct Metrics {
    state: State,
    /// `None` until loaded from storage.
    totals: RefCell<Option<Snapshot>>,
}

impl Metrics {
    async fn load(&self) -> Result<()> {
        if self.totals.borrow().is_some() {
            return Ok(());
        }
        let stored: Option<Snapshot> = self.state.storage().get(STORAGE_KEY).await?;
        let mut slot = self.totals.borrow_mut();
        if slot.is_none() {
            *slot = Some(stored.unwrap_or_default());
        }
        Ok(())
    }
}

impl DurableObject for Metrics {
    fn new(state: State, _env: Env) -> Self {
        Metrics {
            state,
            totals: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let task = crate::context::for_request(&req, "metrics", "aggregate");
        let resp = self.serve(&mut req).await;
        match &resp {
            Ok(r) => task.finish(Outcome::Ok, Some(r.status_code())),
            Err(e) => task.finish(
                Outcome::Error {
                    code: "internal",
                    detail: e.to_string(),
                },
                Some(500),
            ),
        }
        resp
    }
}

impl Metrics {
    /// One request, answered by [`metrics::serve_store`]; changed totals are stored before the answer.
    async fn serve(&self, req: &mut Request) -> Result<Response> {
        self.load().await?;
        let body = req.text().await?;
        let (reply, stored) = {
            let mut slot = self.totals.borrow_mut();
            let totals = slot.get_or_insert_with(Snapshot::default);
            let (reply, changed) = metrics::serve_store(totals, req.method().as_ref(), &req.path(), &body)
                .map_err(worker::Error::RustError)?;
            (reply, changed.then(|| totals.clone()))
        };
        if let Some(totals) = stored {
            self.state.storage().put(STORAGE_KEY, &totals).await?;
        }
        crate::error::respond(reply)
    }
}

/// Send this isolate's deltas to the aggregator (if due, or always when `force`). On failure the deltas
/// are kept for the next flush.
pub async fn flush(env: &Env, force: bool) -> Result<()> {
    let Some(deltas) = metrics::take_deltas(crate::context::now_ms(), 1000, force) else {
        return Ok(());
    };
    match send(env, &deltas).await {
        Ok(()) => Ok(()),
        Err(e) => {
            metrics::restore(deltas);
            Err(e)
        }
    }
}

/// [`flush`] from work that has no task of its own to record a failure on (after the response, in a
/// Durable Object's load): a failure is its own log line, and the deltas wait for the next flush.
pub async fn flush_or_log(env: &Env, force: bool) {
    if let Err(e) = flush(env, force).await {
        crate::context::log(Level::Error, &failure("metrics", "flush", e));
    }
}

async fn send(env: &Env, deltas: &Snapshot) -> Result<()> {
    let body = Some(serde_json::to_string(deltas)?);
    let req = durable::request(Method::Post, "https://metrics/ingest", body, None)?;
    durable::call(&durable::stub(env, METRICS, AGGREGATOR)?, req, 204)
        .await
        .map(drop)
}

pub async fn totals(env: &Env) -> Result<Snapshot> {
    let req = durable::request(Method::Get, "https://metrics/totals", None, None)?;
    durable::call_json(&durable::stub(env, METRICS, AGGREGATOR)?, req).await
}
