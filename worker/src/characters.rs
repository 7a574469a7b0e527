//! The character lookup as a service, shared by the character routes (`routes/characters.rs`) and the
//! watch sweep (`watches/lookup.rs`): name → ocid → equipment through the cache tiers, and the engine's
//! valuation of a set, cached by (ocid, equipment hash, engine version, set). It imports no route and no
//! watch module (routes → services → pve-edge).
use crate::cache::{self, Background, Kind, Mode, Resource, Served};
use crate::config::Config;
use crate::context::{now_ms, TaskContext};
use crate::error::EdgeError;
use std::rc::Rc;
use worker::Env;

/// A character's ocid and equipment, as the cache served them.
pub struct Character {
    pub name: String,
    pub ocid: String,
    pub equipment: Served,
}

/// A character's ocid, then its equipment in `mode`, through the cache tiers (and so the single-flight
/// Durable Object and the global upstream budget). The character routes and the watch sweep share it.
/// The name → ocid mapping changes only on a rename: a refresh refreshes the equipment only.
///
/// # Errors
/// `CharacterNotFound`, `UpstreamUnavailable`, `UpstreamRateLimited`, platform errors.
pub async fn lookup(
    env: &Env,
    bg: &impl Background,
    cfg: &Rc<Config>,
    task: &TaskContext,
    name: String,
    mode: Mode,
    deadline: u64,
) -> Result<Character, EdgeError> {
    let lookup = |resource, mode| existing(env, bg, cfg, task, resource, mode, deadline, &name);
    let ocid = lookup(Resource::Ocid { name: name.clone() }, Mode::Normal).await?;
    task.record("ocid_tier", ocid.how.tier());
    let ocid = String::from_utf8(ocid.entry.body.clone())
        .map_err(|_| EdgeError::internal("cached ocid is not UTF-8"))?;
    let equipment = lookup(Resource::Equipment { ocid: ocid.clone() }, mode).await?;
    Ok(Character {
        name,
        ocid,
        equipment,
    })
}

/// [`cache::lookup`], with "no such character" (a cached `not_found`) as `CharacterNotFound`. `character` is
/// the name whose purge generation the tiers check.
#[allow(clippy::too_many_arguments)]
async fn existing(
    env: &Env,
    ctx: &impl Background,
    cfg: &Rc<Config>,
    task: &TaskContext,
    resource: Resource,
    mode: Mode,
    deadline: u64,
    character: &str,
) -> Result<Served, EdgeError> {
    let served = cache::lookup(env, ctx, cfg, task, &resource, mode, deadline, character).await?;
    if served.entry.meta.kind == Kind::NotFound {
        cache::answered(task, served.how, Some(&served.entry.meta));
        return Err(EdgeError::CharacterNotFound);
    }
    Ok(served)
}

/// The valuation of `set` (`equipped` or `preset_N`) of a character's equipment, as
/// `{"set":…,"valuation":…}`: from the derived cache (keyed by ocid, equipment hash, engine version and
/// set), or computed and cached.
///
/// # Errors
/// The engine's errors; `InvalidQuery` if the character has no such set; `Internal` without a data
/// version.
pub async fn valued(
    env: &Env,
    bg: &impl Background,
    cfg: &Config,
    task: &TaskContext,
    c: &Character,
    set: &str,
) -> Result<Served, EdgeError> {
    let key =
        pve_edge::cache::valuation_key(&c.ocid, &c.equipment.entry.meta.hash, &cache::engine_tag()?, set);
    Ok(match cache::get_derived(env, cfg, task, &key).await {
        Some(served) => served,
        None => {
            let started = now_ms();
            let valuation = pve_edge::valuation::of_equipment(&c.equipment.entry.body)?;
            let out = pve_edge::character::valued(&valuation, set)?;
            task.record("engine_ms", now_ms().saturating_sub(started));
            cache::put_derived(env, bg, cfg, &key, out)
        }
    })
}
