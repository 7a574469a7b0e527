//! How a request got its entry from single-flight, as a closed set: the Durable Object names its role in
//! a response header, and an unknown or missing header is an explicit [`RoleError`] (a protocol mismatch
//! between our own Worker and Durable Object, i.e. a bug or a version skew), never a guess.
use crate::cache::Entry;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::rc::Rc;

/// The header in which the `SingleFlight` Durable Object names the [`Role`] of the request it answered.
pub const ROLE_HEADER: &str = "x-load-role";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Started the load: its own upstream call (or KV read) in the Durable Object.
    Leader,
    /// Joined a load in flight in the Durable Object.
    Follower,
    /// Answered from the result of a load that had just finished, kept in the Durable Object's memory.
    Memory,
    /// Joined another request's Durable Object call in this isolate (never sent in the header).
    Isolate,
}

impl Role {
    /// The roles the Durable Object sends.
    pub const SENT: [Role; 3] = [Role::Leader, Role::Follower, Role::Memory];

    /// The header value and the `single_flight_role` log field.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Memory => "memory",
            Role::Isolate => "isolate",
        }
    }

    /// Whether this request shared someone else's load (counted in `pve_single_flight_coalesced_total`).
    pub fn is_coalesced(self) -> bool {
        !matches!(self, Role::Leader)
    }

    /// The role named by the Durable Object's [`ROLE_HEADER`].
    ///
    /// # Errors
    /// [`RoleError::Missing`] without the header, [`RoleError::Unknown`] for any value the Durable Object
    /// does not send (`isolate` included: it is assigned in the Worker only).
    pub fn from_header(value: Option<&str>) -> Result<Role, RoleError> {
        let value = value.ok_or(RoleError::Missing)?;
        Role::SENT
            .into_iter()
            .find(|r| r.as_str() == value)
            .ok_or_else(|| RoleError::Unknown(value.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Durable Object's answer does not name a role we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleError {
    Missing,
    Unknown(String),
}

impl fmt::Display for RoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleError::Missing => write!(f, "bug: single flight answered without {ROLE_HEADER}"),
            RoleError::Unknown(v) => write!(f, "bug: single flight answered {ROLE_HEADER}: {v:?}"),
        }
    }
}

impl std::error::Error for RoleError {}

/// Why a load gave no entry. Crosses the Worker ↔ Durable Object boundary as JSON (`{"code": …}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum LoadError {
    /// Upstream errors and timeouts, an open circuit, a missed deadline, an unreachable Durable Object.
    UpstreamUnavailable { retry_after_ms: u64, detail: String },
    /// Our upstream token bucket is empty, or the upstream answered 429.
    UpstreamRateLimited { retry_after_ms: u64, detail: String },
    /// Our own Worker ↔ Durable Object protocol is broken (a [`RoleError`], an answer without its
    /// metadata): a bug or a version skew, never an upstream failure, never hidden by a stale copy.
    Internal { detail: String },
}

impl LoadError {
    /// The error code ([`crate::error::EdgeError`]'s, for the log line).
    pub fn code(&self) -> &'static str {
        match self {
            LoadError::UpstreamUnavailable { .. } => "upstream_unavailable",
            LoadError::UpstreamRateLimited { .. } => "upstream_rate_limited",
            LoadError::Internal { .. } => "internal",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            LoadError::UpstreamUnavailable { detail, .. }
            | LoadError::UpstreamRateLimited { detail, .. }
            | LoadError::Internal { detail } => detail,
        }
    }

    pub fn unavailable(retry_after_ms: u64, detail: impl Into<String>) -> LoadError {
        LoadError::UpstreamUnavailable {
            retry_after_ms,
            detail: detail.into(),
        }
    }

    pub fn internal(detail: impl Into<String>) -> LoadError {
        LoadError::Internal {
            detail: detail.into(),
        }
    }
}

impl From<RoleError> for LoadError {
    fn from(e: RoleError) -> Self {
        LoadError::internal(e.to_string())
    }
}

impl From<LoadError> for crate::error::EdgeError {
    fn from(e: LoadError) -> Self {
        use crate::error::EdgeError;
        match e {
            LoadError::UpstreamUnavailable { retry_after_ms, .. } => {
                EdgeError::UpstreamUnavailable { retry_after_ms }
            }
            LoadError::UpstreamRateLimited { retry_after_ms, .. } => {
                EdgeError::UpstreamRateLimited { retry_after_ms }
            }
            LoadError::Internal { detail } => EdgeError::Internal(detail),
        }
    }
}

/// Which copies a load may answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Want {
    /// Accept a copy only if fetched at or after this instant (epoch ms); 0 for any fresh copy.
    pub min_fetched_at: u64,
    /// Accept a copy only if stamped with this purge generation or a later one.
    pub min_generation: u64,
}

impl Want {
    /// Whether `entry` answers this want at `now`: fresh, recent enough, not older than the last purge
    /// (the rule for the object's last result, its KV re-read, and nothing else).
    pub fn accepts(&self, entry: &Entry, now: u64) -> bool {
        entry.is_fresh(now)
            && entry.meta.fetched_at >= self.min_fetched_at
            && crate::purge::is_current_stamp(entry.meta.generation, self.min_generation)
    }

    /// The name of this want's flight within one isolate: requests join a flight only for the same key,
    /// the same kind of want and the same generation (a request after a purge never joins an older load).
    pub fn flight(&self, key: &str) -> String {
        let kind = if self.min_fetched_at == 0 {
            "any"
        } else {
            "refresh"
        };
        format!("{key}#{kind}@{}", self.min_generation)
    }
}

/// A loaded entry and how this request got it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub entry: Rc<Entry>,
    pub role: Role,
    /// The character's purge generation, when the answering object is its authority (ocid loads).
    pub generation: Option<u64>,
}

/// The generation header of a single-flight answer: absent, or a number.
///
/// # Errors
/// [`LoadError::Internal`] for anything else (our own object wrote it).
pub fn parse_generation(value: Option<&str>) -> Result<Option<u64>, LoadError> {
    value
        .map(|g| {
            g.parse::<u64>()
                .map_err(|_| LoadError::internal(format!("bug: single flight answered generation {g:?}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sent_role_round_trips_through_its_header() {
        for role in Role::SENT {
            assert_eq!(Role::from_header(Some(role.as_str())), Ok(role));
        }
    }

    #[test]
    fn unknown_or_missing_roles_are_errors_not_coalesced() {
        assert_eq!(Role::from_header(None), Err(RoleError::Missing));
        for v in ["", "unknown", "Leader", "isolate", "leader "] {
            assert_eq!(
                Role::from_header(Some(v)),
                Err(RoleError::Unknown(v.into())),
                "{v:?}"
            );
        }
        assert!(RoleError::Unknown("x".into()).to_string().starts_with("bug: "));
    }

    #[test]
    fn an_unknown_role_is_an_internal_error_not_upstream_unavailable() {
        let e = LoadError::from(Role::from_header(Some("coalesced")).unwrap_err());
        assert_eq!(e.code(), "internal");
        assert!(matches!(
            crate::error::EdgeError::from(e),
            crate::error::EdgeError::Internal(_)
        ));
        let e = LoadError::from(Role::from_header(None).unwrap_err());
        assert!(matches!(e, LoadError::Internal { .. }), "{e:?}");
    }

    #[test]
    fn load_errors_cross_the_boundary_as_json_with_their_codes() {
        for e in [
            LoadError::unavailable(5, "x"),
            LoadError::UpstreamRateLimited {
                retry_after_ms: 7,
                detail: "y".into(),
            },
            LoadError::internal("z"),
        ] {
            let json = serde_json::to_value(&e).unwrap();
            assert_eq!(json["code"], e.code());
            assert_eq!(serde_json::from_value::<LoadError>(json).unwrap(), e);
            let edge = crate::error::EdgeError::from(e.clone());
            assert_eq!(edge.code(), e.code());
        }
    }

    #[test]
    fn wants_and_flights() {
        let mut e = Entry::found(b"x".to_vec(), 100, 50, 500);
        e.meta.generation = 5;
        let any = Want {
            min_fetched_at: 0,
            min_generation: 5,
        };
        assert!(any.accepts(&e, 149) && !any.accepts(&e, 150));
        assert!(!Want {
            min_generation: 6,
            ..any
        }
        .accepts(&e, 120));
        assert!(Want {
            min_fetched_at: 100,
            ..any
        }
        .accepts(&e, 120));
        assert!(!Want {
            min_fetched_at: 101,
            ..any
        }
        .accepts(&e, 120));
        assert_eq!(any.flight("v1:ocid:a"), "v1:ocid:a#any@5");
        assert_eq!(
            Want {
                min_fetched_at: 9,
                ..any
            }
            .flight("v1:ocid:a"),
            "v1:ocid:a#refresh@5"
        );
    }

    #[test]
    fn generation_headers() {
        assert_eq!(parse_generation(None), Ok(None));
        assert_eq!(parse_generation(Some("17")), Ok(Some(17)));
        for bad in ["", "-1", "x", "1.5"] {
            assert!(
                matches!(parse_generation(Some(bad)), Err(LoadError::Internal { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_the_leader_is_not_coalesced() {
        assert!(!Role::Leader.is_coalesced());
        for r in [Role::Follower, Role::Memory, Role::Isolate] {
            assert!(r.is_coalesced(), "{r}");
        }
    }
}
