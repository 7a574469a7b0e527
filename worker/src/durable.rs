//! Calls to our own Durable Objects: one request shape (an optional JSON body, the caller's request id
//! as `cf-ray` so the object's log line carries it) and one rule for the answer (any status but the
//! one expected is an error, with the path that gave it).
use serde::de::DeserializeOwned;
use worker::{Env, Error, Headers, Method, Request, RequestInit, Response, Result, Stub};

/// The stub of the object `name` of the Durable Object namespace `binding`.
pub fn stub(env: &Env, binding: &str, name: &str) -> Result<Stub> {
    env.durable_object(binding)?.id_from_name(name)?.get_stub()
}

/// A request to `url` (`https://<object>/<path>`).
pub fn request(method: Method, url: &str, json: Option<String>, request_id: Option<&str>) -> Result<Request> {
    let headers = Headers::new();
    if let Some(id) = request_id {
        headers.set("cf-ray", id)?;
    }
    if json.is_some() {
        headers.set("content-type", "application/json")?;
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_body(json.map(Into::into));
    Request::new_with_init(url, &init)
}

/// Call `stub` and require `expected` as the answer's status.
pub async fn call(stub: &Stub, req: Request, expected: u16) -> Result<Response> {
    let path = req.path();
    let resp = stub.fetch_with_request(req).await?;
    match resp.status_code() {
        s if s == expected => Ok(resp),
        s => Err(Error::RustError(format!("durable object {path} answered {s}"))),
    }
}

/// Call `stub`, require 200 and read the answer's JSON.
pub async fn call_json<T: DeserializeOwned>(stub: &Stub, req: Request) -> Result<T> {
    call(stub, req, 200).await?.json().await
}
