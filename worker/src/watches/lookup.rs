//! The sweep's character lookup: name → ocid → item-equipment → valuation engine → [`ValuationSummary`].
//!
//! It is the character routes' lookup (the service [`crate::characters::lookup`]) in refresh mode: through
//! the cache tiers, the single-flight Durable Object and the global upstream token bucket / circuit
//! breaker, so the sweep sees current equipment without exceeding the upstream budget, and shares loads
//! with concurrent requests. Unlike a client's refresh, a failed load is an error here, never a stale
//! copy. The summary comes from pve-api's typed valuation answer ([`ValuationSummary::of_set`]), never
//! from reading the engine's JSON back by field name.
use worker::Env;

use crate::cache::{Background, Mode};
use crate::characters;
use crate::context::{now_ms, TaskContext};
pub use pve_edge::valuation::ValuationSummary;
pub use pve_edge::watches::LookupError;

/// The current valuation of `name`'s equipped set: its equipment refreshed (a copy loaded by anyone
/// within `REFRESH_WINDOW_S` counts) and valued by the engine.
pub async fn current_valuation(
    env: &Env,
    bg: &impl Background,
    task: &TaskContext,
    name: &str,
) -> Result<ValuationSummary, LookupError> {
    let cfg = crate::config::get(env)?;
    let now = now_ms();
    let mode = Mode::Refresh {
        requested_at: now,
        stale_if_error: false,
    };
    let c = characters::lookup(
        env,
        bg,
        &cfg,
        task,
        name.to_owned(),
        mode,
        now + cfg.request_deadline_ms,
    )
    .await?;
    task.record("equipment_tier", c.equipment.how.tier());
    equipped_summary(task, &c.equipment.entry.body)
}

/// The engine's typed valuation of a character's item equipment (Nexon's answer, default options), reduced
/// to its equipped set.
///
/// # Errors
/// [`LookupError::Valuation`] when the engine refuses the equipment or its answer has no equipped set in
/// mesos; [`LookupError::Internal`] for cached equipment that is not UTF-8.
pub fn equipped_summary(task: &TaskContext, equipment: &[u8]) -> Result<ValuationSummary, LookupError> {
    let started = now_ms();
    let response = pve_edge::valuation::of_equipment(equipment)?;
    task.record("engine_ms", now_ms().saturating_sub(started));
    Ok(ValuationSummary::of_set(&response, "equipped")?)
}
