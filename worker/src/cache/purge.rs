//! Cache purge: the I/O around [`pve_edge::purge`].
//!
//! A character's purge generation lives in the durable storage of its name's single-flight Durable
//! Object (`v1:ocid:{name}`), which is also where every load of its ocid meets. Each isolate keeps a
//! view of the generations it has seen ([`VIEWS`]) and trusts one for `PURGE_CHECK_MS`; every cached copy
//! carries the generation its load started under (`Meta::generation`), and `cache::lookup` refuses a copy
//! stamped below the generation, in every tier.
//!
//! `POST /v1/admin/characters/{name}/purge` ([`purge`]) runs, in this order:
//! 1. **L2**: delete the character's KV entries (its ocid, its equipment, its derived valuations);
//! 2. **L1**: drop them from this isolate's memory;
//! 3. **broadcast**: raise the generation in the name's Durable Object (durably, before it answers), and
//!    record it in this isolate's view. Every other isolate, and every tier, learns of it on its next
//!    check: a load through any single-flight object at once (the name's object is the authority, the
//!    equipment's object is told the generation by the request), an isolate's L1 within `PURGE_CHECK_MS`.
//!
//! The order matters only for what a request racing the purge costs, never for what a later request
//! sees: a request that refills L1 or KV from a lower tier between steps 1 and 3 stores a copy with the
//! old stamp, which step 3 makes stale everywhere (one more upstream call later, no purged answer).
use super::{kv, l1};
use crate::bindings::CACHE_KV;
use crate::config::Config;
use crate::context::{now_ms, TaskContext};
use crate::error::{EdgeError, Platform};
use crate::single_flight;
use pve_edge::cache::Resource;
pub use pve_edge::purge::Purged;
use pve_edge::purge::{self as rule, Targets, Views};
use std::cell::RefCell;
use worker::Env;

/// Views kept per isolate before the map is cleared (a cleared view is asked again: safe).
const MAX_VIEWS: usize = 10_000;

thread_local! {
    /// This isolate's view of each character's purge generation.
    static VIEWS: RefCell<Views> = RefCell::new(Views::new(MAX_VIEWS));
}

/// Record that `character`'s generation was `generation` at `now` (from the authority itself, or from a
/// load answered by it).
pub fn learn(character: &str, generation: u64, now: u64) {
    VIEWS.with(|v| v.borrow_mut().learn(character, generation, now));
}

/// `character`'s purge generation: this isolate's view if it is current, else the authority's answer.
/// When the authority cannot be asked, the last view (or 0) is used and the failure is recorded on the
/// task: an outage of the Durable Object lengthens a purge's bound, it does not fail reads.
pub async fn generation(env: &Env, cfg: &Config, task: &TaskContext, character: &str) -> u64 {
    let now = now_ms();
    let known = VIEWS.with(|v| v.borrow().get(character));
    if let Some(v) = known.filter(|v| v.is_current(now, cfg.purge_check_ms)) {
        return v.generation;
    }
    let answer = match single_flight::generation(env, character, false, &task.request_id).await {
        Ok(answer) => {
            learn(character, answer.generation, now_ms());
            Some(answer.generation)
        }
        Err(e) => {
            task.record("purge_generation_error", e.to_string());
            None
        }
    };
    rule::after_asking(known, answer)
}

/// Purge `name`: L2, then L1, then the generation (see the module doc).
///
/// # Errors
/// Platform errors of KV or the Durable Object. KV deletes that happened before a failure stay deleted,
/// and a retry of the purge is safe (every step is idempotent; the generation only goes up).
pub async fn purge(env: &Env, cfg: &Config, task: &TaskContext, name: &str) -> Result<Purged, EdgeError> {
    let ocid_key = Resource::ocid_key(name);
    // The ocid names the equipment and valuation keys: from L1 or KV, whatever their stamps.
    let cached = match l1::get(cfg, &ocid_key, now_ms()) {
        Some(entry) => Some(entry),
        None => kv::read(env, &ocid_key).await?.map(std::rc::Rc::new),
    };
    let targets = Targets::of(name, cached.as_deref());

    // 1. L2.
    let kv = env.kv(CACHE_KV).platform()?;
    let mut keys = targets.keys.clone();
    if let Some(prefix) = &targets.derived_prefix {
        let mut cursor: Option<String> = None;
        loop {
            let mut list = kv.list().prefix(prefix.clone());
            if let Some(c) = cursor.take() {
                list = list.cursor(c);
            }
            let page = list.execute().await.platform()?;
            keys.extend(page.keys.into_iter().map(|k| k.name));
            match page.cursor.filter(|_| !page.list_complete) {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    for key in &keys {
        kv.delete(key).await.platform()?;
    }

    // 2. L1.
    let mut l1_dropped = 0;
    for key in &targets.keys {
        if l1::get(cfg, key, now_ms()).is_some() {
            l1_dropped += 1;
        }
        l1::remove(cfg, key);
    }
    if let Some(prefix) = &targets.derived_prefix {
        l1_dropped += l1::remove_prefix(cfg, prefix);
    }

    // 3. Broadcast: the authority's generation, then this isolate's view.
    let answer = single_flight::generation(env, name, true, &task.request_id)
        .await
        .platform()?;
    learn(name, answer.generation, now_ms());
    task.record("purge_generation", answer.generation);
    task.record("kv_deleted", keys.len());
    Ok(Purged {
        character_name: name.to_owned(),
        ocid: targets.ocid,
        generation: answer.generation,
        previous_generation: answer.previous,
        kv_deleted: keys,
        l1_dropped,
    })
}
