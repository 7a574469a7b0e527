//! Watches: what a refresh of a watched character records, what its webhook is told, and how the sweep
//! counts and stops. The Worker (`worker/src/watches/`) reads and writes D1; every choice it makes on the
//! way is here.
//!
//! - [`next_snapshot`]: the same valuation as the latest snapshot is [`Recorded::Unchanged`]; otherwise
//!   the next version is written (the first one is a baseline, with no event: nothing to compare with).
//! - [`Change::between`] and [`Change::payload`]: the per-slot difference of two valuations and the
//!   `valuation.changed` body, cut to a byte bound (trailing item changes dropped, `changes_truncated`).
//! - [`LookupError`]: why the sweep could not value a character, classified from [`EdgeError`]
//!   exhaustively, and whether it stops the sweep ([`SweepReport::failed`]).
//! - [`SweepReport`]: every [`Recorded`] outcome has its own count ([`SweepReport::recorded`]).
//!
//! The bodies are `Serialize` structs with their fields in alphabetical order: the same bytes the
//! `serde_json::json!` objects they replace wrote (serde_json without `preserve_order` sorts keys), so
//! stored idempotent answers and request hashes stay comparable across the change.
use crate::alerts::{Alert, AlertKind};
use crate::error::EdgeError;
use crate::hash::sha256_hex;
use crate::task::Outcome;
use crate::time::iso8601;
use crate::valuation::{ItemValue, SummaryError, ValuationSummary};
use serde::Serialize;
use std::collections::BTreeMap;

/// `event_type` of the event a watch's creation writes.
pub const WATCH_CREATED: &str = "watch.created";
/// `event_type` of the event a changed valuation writes, one per active watch.
pub const VALUATION_CHANGED: &str = "valuation.changed";

/// The latest stored valuation of a character (a `valuation_snapshots` row).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub version: u64,
    pub summary: ValuationSummary,
    pub summary_hash: String,
    pub created_at: u64,
}

/// A valuation in its canonical form, with the hash a snapshot stores.
#[derive(Debug, Clone, PartialEq)]
pub struct Canonical {
    pub summary: ValuationSummary,
    pub json: String,
    pub hash: String,
}

impl Canonical {
    /// # Errors
    /// [`EdgeError::InvalidValuationSummary`] as [`ValuationSummary::canonical`].
    pub fn of(summary: &ValuationSummary) -> Result<Canonical, EdgeError> {
        let (summary, json) = summary.canonical()?;
        let hash = sha256_hex(json.as_bytes());
        Ok(Canonical { summary, json, hash })
    }
}

/// What to do with a freshly computed valuation, given the latest snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextSnapshot {
    /// The same valuation as snapshot `version`: write nothing.
    Unchanged { version: u64 },
    /// Write snapshot `version`; with events (one per active watch) only when `previous` is `Some`.
    Write { version: u64, previous: Option<u64> },
}

/// The same canonical hash as the latest snapshot is unchanged; otherwise the next version (1 for the first).
pub fn next_snapshot(previous: Option<&Snapshot>, summary_hash: &str) -> NextSnapshot {
    match previous {
        Some(p) if p.summary_hash == summary_hash => NextSnapshot::Unchanged { version: p.version },
        Some(p) => NextSnapshot::Write {
            version: p.version + 1,
            previous: Some(p.version),
        },
        None => NextSnapshot::Write {
            version: 1,
            previous: None,
        },
    }
}

/// What recording a valuation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Recorded {
    /// Nobody watches this character: nothing stored.
    NotWatched,
    /// Same valuation as the latest snapshot: nothing stored.
    Unchanged { version: u64 },
    /// First valuation of a watched character: a snapshot, no event (nothing to compare with).
    Baseline { version: u64 },
    /// A new snapshot and one `valuation.changed` event per active watch, in one transaction.
    Changed { version: u64, event_ids: Vec<String> },
    /// Another refresh stored the next snapshot first (its batch won; ours wrote nothing).
    Superseded,
}

impl Recorded {
    /// What a successful write of [`NextSnapshot::Write`] recorded.
    pub fn written(version: u64, previous: Option<u64>, event_ids: Vec<String>) -> Recorded {
        match previous {
            None => Recorded::Baseline { version },
            Some(_) => Recorded::Changed { version, event_ids },
        }
    }

    /// Whether events were written (and the relay should run now).
    pub fn has_events(&self) -> bool {
        matches!(self, Recorded::Changed { .. })
    }
}

/// One side of an item's change in a `valuation.changed` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemSide {
    pub mean_cost: Option<f64>,
    pub name: String,
}

/// One slot whose item or cost changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemChange {
    /// New cost − old cost; an item that appears or disappears counts as 0 on its missing side; `None`
    /// when either side is not valued in mesos (never a made-up delta).
    pub delta: Option<f64>,
    pub new: Option<ItemSide>,
    pub old: Option<ItemSide>,
    pub slot: String,
}

/// The difference between two valuations, per slot (slots in order).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub old_total: f64,
    pub new_total: f64,
    pub items: Vec<ItemChange>,
}

/// Where a `valuation.changed` event goes and what it is about.
#[derive(Debug, Clone, Copy)]
pub struct ChangeEvent<'a> {
    pub event_id: &'a str,
    pub watch_id: &'a str,
    pub character: &'a str,
    pub previous_version: u64,
    pub version: u64,
    pub now_ms: u64,
}

/// The envelope of every watch event (fields in alphabetical order, see the module doc).
#[derive(Serialize)]
struct Event<'a, D: Serialize> {
    character: &'a str,
    data: D,
    event_id: &'a str,
    event_type: &'a str,
    occurred_at: String,
    watch_id: &'a str,
}

#[derive(Serialize)]
struct ChangedData<'a> {
    changes: &'a [ItemChange],
    changes_total: usize,
    changes_truncated: bool,
    delta: f64,
    new_total: f64,
    old_total: f64,
    previous_snapshot_version: u64,
    snapshot_version: u64,
}

fn to_json(value: &impl Serialize, what: &str) -> Result<String, EdgeError> {
    serde_json::to_string(value).map_err(|e| EdgeError::internal(format!("{what}: {e}")))
}

impl Change {
    pub fn between(old: &ValuationSummary, new: &ValuationSummary) -> Change {
        let by_slot = |s: &ValuationSummary| -> BTreeMap<String, ItemValue> {
            s.items.iter().map(|i| (i.slot.clone(), i.clone())).collect()
        };
        let (old_items, new_items) = (by_slot(old), by_slot(new));
        let mut slots: Vec<&String> = old_items.keys().chain(new_items.keys()).collect();
        slots.sort_unstable();
        slots.dedup();
        let side = |i: &ItemValue| ItemSide {
            mean_cost: i.mean_cost,
            name: i.name.clone(),
        };
        let cost = |i: Option<&ItemValue>| match i {
            None => Some(0.0),
            Some(i) => i.mean_cost,
        };
        let items = slots
            .into_iter()
            .filter_map(|slot| {
                let (o, n) = (old_items.get(slot), new_items.get(slot));
                if o == n {
                    return None;
                }
                Some(ItemChange {
                    delta: cost(n).zip(cost(o)).map(|(n, o)| n - o),
                    new: n.map(side),
                    old: o.map(side),
                    slot: slot.clone(),
                })
            })
            .collect();
        Change {
            old_total: old.total_mean_cost,
            new_total: new.total_mean_cost,
            items,
        }
    }

    /// The webhook body, at most `max_bytes`: trailing item changes are dropped to fit (a quarter of what
    /// is left at a time) and `changes_truncated` says so.
    ///
    /// # Errors
    /// [`EdgeError::Internal`] when even the body without item changes is over the bound (the bound's
    /// minimum, 1,024 bytes, is far above that body).
    pub fn payload(&self, event: &ChangeEvent, max_bytes: usize) -> Result<String, EdgeError> {
        let mut keep = self.items.len();
        loop {
            let body = to_json(
                &Event {
                    character: event.character,
                    data: ChangedData {
                        changes: &self.items[..keep],
                        changes_total: self.items.len(),
                        changes_truncated: keep < self.items.len(),
                        delta: self.new_total - self.old_total,
                        new_total: self.new_total,
                        old_total: self.old_total,
                        previous_snapshot_version: event.previous_version,
                        snapshot_version: event.version,
                    },
                    event_id: event.event_id,
                    event_type: VALUATION_CHANGED,
                    occurred_at: iso8601(event.now_ms),
                    watch_id: event.watch_id,
                },
                VALUATION_CHANGED,
            )?;
            if body.len() <= max_bytes {
                return Ok(body);
            }
            if keep == 0 {
                return Err(EdgeError::internal(
                    "valuation.changed payload over the bound with no changes listed",
                ));
            }
            keep = keep.saturating_sub((keep / 4).max(1));
        }
    }
}

/// The hash an Idempotency-Key's record keeps of the request it answered (character and checked URL).
pub fn request_hash(character: &str, webhook_url: &str) -> Result<String, EdgeError> {
    #[derive(Serialize)]
    struct Hashed<'a> {
        character: &'a str,
        webhook_url: &'a str,
    }
    let json = to_json(
        &Hashed {
            character,
            webhook_url,
        },
        "watch request hash",
    )?;
    Ok(sha256_hex(json.as_bytes()))
}

/// What a watch row keeps of its token: its SHA-256 (the token itself is shown once, at creation).
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Whether `presented` is the token whose hash the watch keeps (compared in constant time).
pub fn token_matches(presented: &str, stored_hash: &str) -> bool {
    crate::http::ct_eq(token_hash(presented).as_bytes(), stored_hash.as_bytes())
}

/// The one watch token a request presents, from its `Authorization` and `X-Watch-Token` header values.
/// An empty (or blank) value of either is none: `wrangler dev` does not deliver an empty field value to
/// the Worker at all (seen with `Authorization:`), so deciding so here keeps one answer whether or not
/// a platform in front drops it. Decided before the watch is looked up, so a request without a
/// token is refused the same whether or not the id exists.
///
/// # Errors
/// `WatchTokenRequired` with neither; `InvalidWatchToken` for an `Authorization` that is not a bearer
/// token, for two different tokens (a request presents one credential, not a choice of two), or for a
/// token that is not of the form every watch token has (`wtk_` and 64 lowercase hex digits, as the
/// Worker draws them): such a token is wrong for every watch, so it is refused before any lookup.
pub fn presented_token<'a>(
    authorization: Option<&'a str>,
    x_watch_token: Option<&'a str>,
) -> Result<&'a str, EdgeError> {
    let header = x_watch_token.filter(|t| !t.trim().is_empty());
    let bearer = authorization
        .filter(|a| !a.trim().is_empty())
        .map(|a| crate::http::bearer(a).ok_or(EdgeError::InvalidWatchToken))
        .transpose()?;
    match (bearer, header) {
        (Some(a), Some(b)) if a != b => Err(EdgeError::InvalidWatchToken),
        (Some(t), _) | (None, Some(t)) if well_formed_token(t) => Ok(t),
        (Some(_), _) | (None, Some(_)) => Err(EdgeError::InvalidWatchToken),
        (None, None) => Err(EdgeError::WatchTokenRequired),
    }
}

/// `wtk_` and 64 lowercase hex digits: the form of every token `POST /v1/watches` hands out.
fn well_formed_token(t: &str) -> bool {
    t.strip_prefix("wtk_").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A new watch, as `POST /v1/watches` answers it (and as its Idempotency-Key record replays it).
#[derive(Debug, Clone, Serialize)]
pub struct Created<'a> {
    pub character: &'a str,
    pub created_at: String,
    pub id: &'a str,
    pub status: &'static str,
    /// The watch's own token: shown once, stored only as its SHA-256.
    pub token: &'a str,
    pub webhook_url: &'a str,
}

impl<'a> Created<'a> {
    pub fn new(id: &'a str, character: &'a str, webhook_url: &'a str, token: &'a str, now_ms: u64) -> Self {
        Created {
            character,
            created_at: iso8601(now_ms),
            id,
            status: "active",
            token,
            webhook_url,
        }
    }

    /// The answer's body.
    pub fn body(&self) -> Result<String, EdgeError> {
        to_json(self, "watch created")
    }

    /// The `watch.created` event's body.
    pub fn event_payload(&self, event_id: &str, now_ms: u64) -> Result<String, EdgeError> {
        #[derive(Serialize)]
        struct Data {
            message: String,
        }
        to_json(
            &Event {
                character: self.character,
                data: Data {
                    message: format!(
                        "This webhook will be told when the valuation of {} changes.",
                        self.character
                    ),
                },
                event_id,
                event_type: WATCH_CREATED,
                occurred_at: iso8601(now_ms),
                watch_id: self.id,
            },
            WATCH_CREATED,
        )
    }
}

/// An active watch as stored (without its token hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub id: String,
    pub character: String,
    pub webhook_url: String,
    pub created_at: u64,
    pub last_checked_at: Option<u64>,
    pub last_check_error: Option<String>,
}

/// The latest snapshot, as `GET /v1/watches/{id}` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ShownSnapshot {
    pub created_at: String,
    pub total_mean_cost: f64,
    pub version: u64,
}

/// `GET /v1/watches/{id}`'s body.
#[derive(Debug, Clone, Serialize)]
pub struct Shown<'a> {
    pub character: &'a str,
    pub created_at: String,
    pub id: &'a str,
    pub last_check_error: Option<&'a str>,
    pub last_checked_at: Option<String>,
    pub last_snapshot: Option<ShownSnapshot>,
    pub status: &'static str,
    pub webhook_url: &'a str,
}

impl<'a> Shown<'a> {
    pub fn new(w: &'a Watch, snapshot: Option<&Snapshot>) -> Self {
        Shown {
            character: &w.character,
            created_at: iso8601(w.created_at),
            id: &w.id,
            last_check_error: w.last_check_error.as_deref(),
            last_checked_at: w.last_checked_at.map(iso8601),
            last_snapshot: snapshot.map(|s| ShownSnapshot {
                created_at: iso8601(s.created_at),
                total_mean_cost: s.summary.total_mean_cost,
                version: s.version,
            }),
            status: "active",
            webhook_url: &w.webhook_url,
        }
    }
}

/// `DELETE /v1/watches/{id}`'s body.
#[derive(Debug, Clone, Serialize)]
pub struct Deleted<'a> {
    pub deleted_at: String,
    pub id: &'a str,
    pub status: &'static str,
    pub undelivered_events_dead_lettered: u64,
}

impl<'a> Deleted<'a> {
    pub fn new(id: &'a str, now_ms: u64, dead_lettered: u64) -> Self {
        Deleted {
            deleted_at: iso8601(now_ms),
            id,
            status: "deleted",
            undelivered_events_dead_lettered: dead_lettered,
        }
    }
}

/// Why the sweep could not get a character's current valuation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookupError {
    /// The Worker's configuration (vars) is invalid.
    NotConfigured(String),
    /// The upstream does not know this character.
    NotFound,
    /// The upstream answered 429, or our upstream token bucket is empty.
    RateLimited(String),
    /// 5xx, timeout, network error, an open circuit, or an answer we cannot read.
    Upstream(String),
    /// The valuation engine refused the equipment, or its answer lacks the equipped set.
    Valuation(String),
    /// A platform failure (KV, Durable Object, D1), or a bug of ours.
    Internal(String),
}

impl LookupError {
    pub fn code(&self) -> &'static str {
        match self {
            LookupError::NotConfigured(_) => "lookup_not_configured",
            LookupError::NotFound => "character_not_found",
            LookupError::RateLimited(_) => "upstream_rate_limited",
            LookupError::Upstream(_) => "upstream_unavailable",
            LookupError::Valuation(_) => "valuation_failed",
            LookupError::Internal(_) => "internal",
        }
    }

    /// The outcome of a task whose lookup failed with this error. The engine refusing the equipment is an
    /// explicit refusal (`refused`, code `valuation_failed`), never an internal error; everything else is
    /// an error with its code.
    pub fn outcome(&self) -> Outcome<'static> {
        let (code, detail) = (self.code(), self.to_string());
        match self {
            LookupError::Valuation(_) => Outcome::Refused { code, detail },
            _ => Outcome::Error { code, detail },
        }
    }

    /// Whether the sweep stops here rather than try the next character: only a character-specific failure
    /// (unknown character, equipment the engine refuses) lets it go on.
    pub fn stops_sweep(&self) -> bool {
        !matches!(self, LookupError::NotFound | LookupError::Valuation(_))
    }
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupError::NotConfigured(d)
            | LookupError::RateLimited(d)
            | LookupError::Upstream(d)
            | LookupError::Valuation(d)
            | LookupError::Internal(d) => write!(f, "{}: {d}", self.code()),
            LookupError::NotFound => f.write_str(self.code()),
        }
    }
}

impl std::error::Error for LookupError {}

impl From<SummaryError> for LookupError {
    fn from(e: SummaryError) -> Self {
        LookupError::Valuation(e.to_string())
    }
}

/// The character lookup's errors, as the sweep counts them. Exhaustive: a new [`EdgeError`] kind must be
/// classified here.
impl From<EdgeError> for LookupError {
    fn from(e: EdgeError) -> Self {
        let detail = e.to_string();
        match e {
            EdgeError::CharacterNotFound => LookupError::NotFound,
            EdgeError::UpstreamRateLimited { .. } => LookupError::RateLimited(detail),
            EdgeError::UpstreamUnavailable { .. } => LookupError::Upstream(detail),
            EdgeError::Config(_) => LookupError::NotConfigured(detail),
            // The engine refused the equipment, or the character has no such equipped set.
            EdgeError::Api(_) | EdgeError::InvalidQuery(_) | EdgeError::InvalidValuationSummary(_) => {
                LookupError::Valuation(detail)
            }
            // A platform failure, or a bug of ours.
            EdgeError::Platform(_) | EdgeError::Internal(_) => LookupError::Internal(detail),
            // A stored watch whose name the rule refuses: the rule changed after it was stored.
            EdgeError::InvalidCharacterName { .. } => LookupError::Internal(detail),
            // Answers to a client's HTTP request (routing, auth, bodies, client limits, watches, dead
            // letters): a lookup never produces them, so one here is a bug.
            EdgeError::RouteNotFound
            | EdgeError::MethodNotAllowed { .. }
            | EdgeError::Unauthorized
            | EdgeError::PayloadTooLarge { .. }
            | EdgeError::IdempotencyKeyMissing
            | EdgeError::IdempotencyKeyInvalid
            | EdgeError::IdempotencyKeyReused
            | EdgeError::InvalidWebhookUrl(_)
            | EdgeError::WatchTokenRequired
            | EdgeError::InvalidWatchToken
            | EdgeError::WatchNotFound
            | EdgeError::DeadLetterNotFound
            | EdgeError::AlertNotFound
            | EdgeError::DeadLetterAlreadyReplayed
            | EdgeError::ContentHashMismatch
            | EdgeError::InvalidCursor
            | EdgeError::RateLimited { .. }
            | EdgeError::RefreshRateLimited { .. } => {
                LookupError::Internal(format!("bug: a lookup answered {detail}"))
            }
        }
    }
}

/// A character the sweep could not refresh (the detail is for operators: logs and the admin route).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepError {
    pub character: String,
    pub code: &'static str,
    pub detail: String,
}

/// What one sweep did. Every [`Recorded`] outcome has its own count.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub characters: u32,
    pub changed: u32,
    pub unchanged: u32,
    pub baseline: u32,
    /// Another refresh stored the next snapshot first (reported only when it happened).
    #[serde(skip_serializing_if = "is_zero")]
    pub superseded: u32,
    /// The character stopped being watched during the sweep (reported only when it happened).
    #[serde(skip_serializing_if = "is_zero")]
    pub not_watched: u32,
    pub errors: Vec<SweepError>,
    /// The error that ended the sweep early (429, upstream failure, lookup not configured).
    pub stopped_by: Option<&'static str>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What the sweep does after a character's lookup failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    /// Go on with the next character.
    Continue,
    /// Stop; `alert` (if any) is raised first.
    Stop { alert: Option<Alert> },
}

impl SweepReport {
    /// Count one character's outcome.
    pub fn recorded(&mut self, r: &Recorded) {
        let count = match r {
            Recorded::Changed { .. } => &mut self.changed,
            Recorded::Baseline { .. } => &mut self.baseline,
            Recorded::Unchanged { .. } => &mut self.unchanged,
            Recorded::Superseded => &mut self.superseded,
            Recorded::NotWatched => &mut self.not_watched,
        };
        *count += 1;
    }

    /// Record that `character`'s lookup failed with `e`, and decide whether the sweep goes on. A rate
    /// limit stops it with the `upstream.rate_limit_exhausted` alert; another failure that is not the
    /// character's own stops it without one.
    pub fn failed(&mut self, character: &str, e: &LookupError) -> AfterFailure {
        self.errors.push(SweepError {
            character: character.to_owned(),
            code: e.code(),
            detail: e.to_string(),
        });
        match e {
            LookupError::RateLimited(detail) => {
                self.stopped_by = Some(e.code());
                AfterFailure::Stop {
                    alert: Some(
                        Alert::new(
                            AlertKind::UpstreamRateLimitExhausted,
                            "The upstream rate budget refused the watch sweep (a 429, or the token bucket is \
                             empty); the sweep stopped until the next cron run.",
                        )
                        .count("characters_checked", i64::from(self.characters))
                        .detail("character", character)
                        .detail("cause", detail.as_str()),
                    ),
                }
            }
            e if e.stops_sweep() => {
                self.stopped_by = Some(e.code());
                AfterFailure::Stop { alert: None }
            }
            _ => AfterFailure::Continue,
        }
    }

    /// The INFO alert of a sweep that could not refresh some characters (`None` when it refreshed all).
    pub fn degraded_alert(&self) -> Option<Alert> {
        (!self.errors.is_empty()).then(|| {
            Alert::new(
                AlertKind::WatchSweepDegraded,
                format!(
                    "The watch sweep could not refresh {} character(s).",
                    self.errors.len()
                ),
            )
            .count("errors", self.errors.len() as i64)
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_request_presents_one_watch_token() {
        fn code<'a>(a: Option<&'a str>, x: Option<&'a str>) -> Result<&'a str, &'static str> {
            super::presented_token(a, x).map_err(|e| e.code())
        }
        const T1: &str = "wtk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        const T2: &str = "wtk_1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        const BEARER_T1: &str = "Bearer wtk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(code(Some(BEARER_T1), None), Ok(T1));
        let lower = BEARER_T1.to_lowercase();
        assert_eq!(code(Some(&lower), None), Ok(T1));
        assert_eq!(code(None, Some(T1)), Ok(T1));
        assert_eq!(code(Some(BEARER_T1), Some(T1)), Ok(T1));
        assert_eq!(code(Some(BEARER_T1), Some(T2)), Err("invalid_watch_token"));
        // Not the form of any watch token: wrong for every watch.
        assert_eq!(code(None, Some("wtk_1")), Err("invalid_watch_token"));
        assert_eq!(code(None, Some(&T1.to_uppercase())), Err("invalid_watch_token"));
        assert_eq!(code(None, Some(&T1[..67])), Err("invalid_watch_token"));
        assert_eq!(code(None, None), Err("watch_token_required"));
        assert_eq!(code(None, Some("")), Err("watch_token_required"));
        // An empty header is no header, as the platform delivers it (none at all).
        assert_eq!(code(Some(""), None), Err("watch_token_required"));
        assert_eq!(code(Some(" "), Some(" ")), Err("watch_token_required"));
        assert_eq!(code(Some(""), Some(T1)), Ok(T1));
        assert_eq!(code(Some(BEARER_T1), Some("")), Ok(T1));
        // Two different tokens, or an Authorization that is not a bearer token: refused, never ignored.
        assert_eq!(
            code(Some("Bearer wtk_1"), Some("wtk_2")),
            Err("invalid_watch_token")
        );
        assert_eq!(
            code(Some("Basic dXNlcjpwdw=="), Some("wtk_1")),
            Err("invalid_watch_token")
        );
        assert_eq!(code(Some("g`H!;"), None), Err("invalid_watch_token"));
        assert_eq!(code(Some("Bearer "), Some(T1)), Err("invalid_watch_token"));
    }

    use super::*;
    use serde_json::json;

    fn item(slot: &str, name: &str, cost: Option<f64>) -> ItemValue {
        ItemValue {
            slot: slot.into(),
            name: name.into(),
            mean_cost: cost,
        }
    }

    fn summary(total: f64, items: Vec<ItemValue>) -> ValuationSummary {
        ValuationSummary {
            total_mean_cost: total,
            items,
        }
    }

    fn snapshot(version: u64, s: &ValuationSummary) -> Snapshot {
        let c = Canonical::of(s).unwrap();
        Snapshot {
            version,
            summary: c.summary,
            summary_hash: c.hash,
            created_at: 1,
        }
    }

    #[test]
    fn next_snapshot_table() {
        let a = summary(100.0, vec![item("hat", "Hat A", Some(100.0))]);
        let b = summary(200.0, vec![item("hat", "Hat B", Some(200.0))]);
        let (ha, hb) = (Canonical::of(&a).unwrap().hash, Canonical::of(&b).unwrap().hash);
        assert_eq!(
            next_snapshot(None, &ha),
            NextSnapshot::Write {
                version: 1,
                previous: None
            }
        );
        let prev = snapshot(3, &a);
        assert_eq!(
            next_snapshot(Some(&prev), &ha),
            NextSnapshot::Unchanged { version: 3 }
        );
        assert_eq!(
            next_snapshot(Some(&prev), &hb),
            NextSnapshot::Write {
                version: 4,
                previous: Some(3)
            }
        );
        // Items in another order are the same valuation.
        let reordered = summary(
            100.0,
            vec![item("shoes", "S", None), item("hat", "Hat A", Some(100.0))],
        );
        let forward = summary(
            100.0,
            vec![item("hat", "Hat A", Some(100.0)), item("shoes", "S", None)],
        );
        assert_eq!(
            Canonical::of(&reordered).unwrap().hash,
            Canonical::of(&forward).unwrap().hash
        );
    }

    #[test]
    fn what_a_write_recorded() {
        assert_eq!(
            Recorded::written(1, None, vec![]),
            Recorded::Baseline { version: 1 }
        );
        let changed = Recorded::written(2, Some(1), vec!["evt_1".into()]);
        assert_eq!(
            changed,
            Recorded::Changed {
                version: 2,
                event_ids: vec!["evt_1".into()]
            }
        );
        assert!(changed.has_events());
        assert!(!Recorded::Superseded.has_events());
        // The admin test route and the notice log line show the outcome under these names.
        let out = |r: &Recorded| serde_json::to_value(r).unwrap();
        assert_eq!(out(&Recorded::NotWatched), json!({"outcome": "not_watched"}));
        assert_eq!(out(&Recorded::Superseded), json!({"outcome": "superseded"}));
        assert_eq!(
            out(&Recorded::Unchanged { version: 1 }),
            json!({"outcome": "unchanged", "version": 1})
        );
        assert_eq!(
            out(&changed),
            json!({"outcome": "changed", "version": 2, "event_ids": ["evt_1"]})
        );
    }

    #[test]
    fn every_outcome_has_its_own_count() {
        let mut r = SweepReport::default();
        for rec in [
            Recorded::Changed {
                version: 2,
                event_ids: vec![],
            },
            Recorded::Baseline { version: 1 },
            Recorded::Unchanged { version: 1 },
            Recorded::Unchanged { version: 1 },
            Recorded::Superseded,
            Recorded::NotWatched,
            Recorded::NotWatched,
            Recorded::NotWatched,
        ] {
            r.recorded(&rec);
        }
        assert_eq!(
            (r.changed, r.baseline, r.unchanged, r.superseded, r.not_watched),
            (1, 1, 2, 1, 3)
        );
        // Superseded and not_watched appear only when they happened (the report's shape is kept).
        let empty = serde_json::to_value(SweepReport::default()).unwrap();
        assert_eq!(
            empty,
            json!({"characters": 0, "changed": 0, "unchanged": 0, "baseline": 0, "errors": [], "stopped_by": null})
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            (v["superseded"].clone(), v["not_watched"].clone()),
            (json!(1), json!(3))
        );
    }

    #[test]
    fn which_failures_stop_the_sweep() {
        let mut r = SweepReport {
            characters: 2,
            ..SweepReport::default()
        };
        assert_eq!(r.failed("a", &LookupError::NotFound), AfterFailure::Continue);
        assert_eq!(
            r.failed("b", &LookupError::Valuation("x".into())),
            AfterFailure::Continue
        );
        assert_eq!(r.stopped_by, None);
        assert!(r.degraded_alert().is_some());
        for (e, code) in [
            (LookupError::Upstream("5xx".into()), "upstream_unavailable"),
            (LookupError::NotConfigured("var".into()), "lookup_not_configured"),
            (LookupError::Internal("d1".into()), "internal"),
        ] {
            let mut r = SweepReport::default();
            assert_eq!(r.failed("c", &e), AfterFailure::Stop { alert: None });
            assert_eq!(r.stopped_by, Some(code));
            assert_eq!(r.errors[0].code, code);
        }
        let mut r = SweepReport {
            characters: 3,
            ..SweepReport::default()
        };
        match r.failed("d", &LookupError::RateLimited("429".into())) {
            AfterFailure::Stop { alert: Some(a) } => {
                assert_eq!(a.kind, AlertKind::UpstreamRateLimitExhausted);
                assert_eq!(a.counts(), &[("characters_checked".to_owned(), 3)]);
                assert_eq!(
                    a.details(),
                    &[
                        ("character".to_owned(), "d".to_owned()),
                        ("cause".to_owned(), "429".to_owned())
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.stopped_by, Some("upstream_rate_limited"));
        let degraded = r.degraded_alert().unwrap();
        assert_eq!(degraded.kind, AlertKind::WatchSweepDegraded);
        assert_eq!(degraded.counts(), &[("errors".to_owned(), 1)]);
        assert_eq!(SweepReport::default().degraded_alert(), None);
    }

    /// Regression (issue 12): the background watch check logged the engine refusing a character's
    /// equipment (a 4xx `ApiError`) as `internal`; it is a refusal with the code `valuation_failed`.
    #[test]
    fn an_engine_refusal_is_a_refused_outcome_not_an_internal_error() {
        let refusal = pve_api::valuation::parse("not json").unwrap_err();
        let e = LookupError::from(EdgeError::Api(refusal));
        assert_eq!(e.code(), "valuation_failed");
        assert!(!e.stops_sweep());
        match e.outcome() {
            Outcome::Refused { code, detail } => {
                assert_eq!(code, "valuation_failed");
                assert!(detail.starts_with("valuation_failed: "), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        match LookupError::Internal("bug".into()).outcome() {
            Outcome::Error { code, .. } => assert_eq!(code, "internal"),
            other => panic!("{other:?}"),
        }
        match LookupError::Upstream("timeout".into()).outcome() {
            Outcome::Error { code, .. } => assert_eq!(code, "upstream_unavailable"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lookup_errors_from_edge_errors() {
        let of = |e: EdgeError| LookupError::from(e).code();
        assert_eq!(of(EdgeError::CharacterNotFound), "character_not_found");
        assert_eq!(
            of(EdgeError::UpstreamRateLimited { retry_after_ms: 1 }),
            "upstream_rate_limited"
        );
        assert_eq!(
            of(EdgeError::UpstreamUnavailable { retry_after_ms: 1 }),
            "upstream_unavailable"
        );
        assert_eq!(of(EdgeError::InvalidQuery("no set".into())), "valuation_failed");
        assert_eq!(of(EdgeError::Platform("kv".into())), "internal");
        match LookupError::from(EdgeError::WatchNotFound) {
            LookupError::Internal(d) => assert!(d.starts_with("bug: a lookup answered"), "{d}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(LookupError::NotFound.to_string(), "character_not_found");
        assert_eq!(
            LookupError::Upstream("timeout".into()).to_string(),
            "upstream_unavailable: timeout"
        );
    }

    /// The old `json!` assembly of a `valuation.changed` body, kept here as the reference the typed body
    /// must equal byte for byte.
    fn old_payload(c: &Change, e: &ChangeEvent, keep: usize) -> String {
        let items: Vec<serde_json::Value> = c.items[..keep]
            .iter()
            .map(|i| {
                json!({
                    "slot": i.slot,
                    "old": i.old.as_ref().map(|s| json!({"name": s.name, "mean_cost": s.mean_cost})),
                    "new": i.new.as_ref().map(|s| json!({"name": s.name, "mean_cost": s.mean_cost})),
                    "delta": i.delta,
                })
            })
            .collect();
        json!({
            "event_id": e.event_id,
            "event_type": "valuation.changed",
            "occurred_at": iso8601(e.now_ms),
            "watch_id": e.watch_id,
            "character": e.character,
            "data": {
                "old_total": c.old_total,
                "new_total": c.new_total,
                "delta": c.new_total - c.old_total,
                "previous_snapshot_version": e.previous_version,
                "snapshot_version": e.version,
                "changes": items,
                "changes_total": c.items.len(),
                "changes_truncated": keep < c.items.len(),
            },
        })
        .to_string()
    }

    const EVENT: ChangeEvent = ChangeEvent {
        event_id: "evt_1",
        watch_id: "wch_1",
        character: "Atomic",
        previous_version: 1,
        version: 2,
        now_ms: 1_764_700_000_000,
    };

    #[test]
    fn change_per_slot() {
        let old = summary(
            300.0,
            vec![
                item("hat", "Hat A", Some(100.0)),
                item("glove", "Glove", Some(200.0)),
                item("ring", "Ring", None),
            ],
        );
        let new = summary(
            450.0,
            vec![
                item("hat", "Hat B", Some(250.0)),
                item("glove", "Glove", Some(200.0)),
                item("ring", "Ring", Some(5.0)),
                item("shoes", "Shoes", Some(1.5)),
            ],
        );
        let c = Change::between(&old, &new);
        assert_eq!((c.old_total, c.new_total), (300.0, 450.0));
        let slots: Vec<&str> = c.items.iter().map(|i| i.slot.as_str()).collect();
        assert_eq!(
            slots,
            ["hat", "ring", "shoes"],
            "unchanged slots are left out, in slot order"
        );
        assert_eq!(c.items[0].delta, Some(150.0));
        assert_eq!(
            c.items[1].delta, None,
            "an unvalued side has no delta, never a made-up one"
        );
        assert_eq!(
            c.items[2].delta,
            Some(1.5),
            "an item that appears counts as 0 on its missing side"
        );
        assert_eq!(c.items[2].old, None);
        let gone = Change::between(&new, &old);
        assert_eq!(gone.items[2].delta, Some(-1.5));
        assert_eq!(gone.items[2].new, None);

        let body = c.payload(&EVENT, 16_384).unwrap();
        assert_eq!(body, old_payload(&c, &EVENT, 3));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["data"]["delta"], json!(150.0));
        assert_eq!(v["data"]["changes_truncated"], json!(false));
        assert_eq!(v["occurred_at"], "2025-12-02T18:26:40.000Z");
    }

    #[test]
    fn a_payload_over_the_bound_drops_trailing_changes_and_says_so() {
        let many = |n: usize, cost: f64| {
            summary(
                cost,
                (0..n)
                    .map(|i| item(&format!("slot{i:03}"), &"이름".repeat(20), Some(cost + i as f64)))
                    .collect(),
            )
        };
        let c = Change::between(&many(100, 1.0), &many(100, 2.0));
        assert_eq!(c.items.len(), 100);
        let unbounded = c.payload(&EVENT, usize::MAX).unwrap();
        for max in [1_024, 4_096, unbounded.len() - 1] {
            let body = c.payload(&EVENT, max).unwrap();
            assert!(body.len() <= max, "{} > {max}", body.len());
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let kept = v["data"]["changes"].as_array().unwrap().len();
            assert!(kept < 100);
            assert_eq!(v["data"]["changes_total"], json!(100));
            assert_eq!(v["data"]["changes_truncated"], json!(true));
            assert_eq!(body, old_payload(&c, &EVENT, kept));
            // The kept ones are the first ones.
            assert_eq!(v["data"]["changes"][0]["slot"], "slot000");
        }
        assert_eq!(unbounded, old_payload(&c, &EVENT, 100));
        match c.payload(&EVENT, 10) {
            Err(EdgeError::Internal(d)) => assert!(d.contains("no changes listed"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn watch_bodies_are_the_json_objects_they_replace() {
        let created = Created::new("wch_1", "Atomic", "https://example.com/hook", "wtk_1", 0);
        assert_eq!(
            created.body().unwrap(),
            json!({"id": "wch_1", "character": "Atomic", "webhook_url": "https://example.com/hook",
                   "status": "active", "created_at": "1970-01-01T00:00:00.000Z", "token": "wtk_1"})
            .to_string()
        );
        assert_eq!(
            created.event_payload("evt_1", 1_000).unwrap(),
            json!({"event_id": "evt_1", "event_type": "watch.created", "occurred_at": "1970-01-01T00:00:01.000Z",
                   "watch_id": "wch_1", "character": "Atomic",
                   "data": {"message": "This webhook will be told when the valuation of Atomic changes."}})
            .to_string()
        );
        assert!(token_matches("wtk_1", &token_hash("wtk_1")));
        assert!(!token_matches("wtk_2", &token_hash("wtk_1")));
        assert!(!token_matches("", &token_hash("wtk_1")));
        // Stored Idempotency-Key records hold this hash: it must not change.
        assert_eq!(
            request_hash("Atomic", "https://example.com/hook").unwrap(),
            sha256_hex(
                json!({"character": "Atomic", "webhook_url": "https://example.com/hook"})
                    .to_string()
                    .as_bytes()
            )
        );
        let w = Watch {
            id: "wch_1".into(),
            character: "Atomic".into(),
            webhook_url: "https://example.com/hook".into(),
            created_at: 0,
            last_checked_at: Some(2_000),
            last_check_error: None,
        };
        let s = snapshot(4, &summary(12.5, vec![]));
        assert_eq!(
            serde_json::to_string(&Shown::new(&w, Some(&s))).unwrap(),
            json!({"id": "wch_1", "character": "Atomic", "webhook_url": "https://example.com/hook",
                   "status": "active", "created_at": "1970-01-01T00:00:00.000Z",
                   "last_checked_at": "1970-01-01T00:00:02.000Z", "last_check_error": null,
                   "last_snapshot": {"version": 4, "total_mean_cost": 12.5, "created_at": "1970-01-01T00:00:00.001Z"}})
            .to_string()
        );
        assert_eq!(
            serde_json::to_value(Shown::new(&w, None)).unwrap()["last_snapshot"],
            json!(null)
        );
        assert_eq!(
            serde_json::to_string(&Deleted::new("wch_1", 3_000, 2)).unwrap(),
            json!({"id": "wch_1", "status": "deleted", "deleted_at": "1970-01-01T00:00:03.000Z",
                   "undelivered_events_dead_lettered": 2})
            .to_string()
        );
    }
}
