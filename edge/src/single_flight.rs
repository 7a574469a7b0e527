//! How a request got its entry from single-flight, as a closed set: the Durable Object names its role in
//! a response header, and an unknown or missing header is an explicit [`RoleError`] (a protocol mismatch
//! between our own Worker and Durable Object, i.e. a bug or a version skew), never a guess.
use std::fmt;

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
    fn only_the_leader_is_not_coalesced() {
        assert!(!Role::Leader.is_coalesced());
        for r in [Role::Follower, Role::Memory, Role::Isolate] {
            assert!(r.is_coalesced(), "{r}");
        }
    }
}
