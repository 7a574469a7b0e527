//! Which handler a request goes to: the Worker's route table as a pure function of the path and the
//! method, with the task name of its log line. The methods each path declares are [`crate::routes`]'s
//! (the dispatcher answers 405/`OPTIONS`/`HEAD` from there first); this table also refuses any other
//! method, so it stands on its own, and it is tested natively.
use crate::error::EdgeError;
use pve_api::Operation;

/// What a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    Healthz,
    Metrics,
    OpenApi,
    /// `name` as it appears in the path (percent-encoded; validated by the handler).
    Equipment {
        name: &'a str,
    },
    Valuation {
        name: &'a str,
    },
    CreateWatch,
    GetWatch {
        id: &'a str,
    },
    DeleteWatch {
        id: &'a str,
    },
    /// `/v1/admin/…`: behind the admin token, then [`admin`].
    Admin {
        rest: Vec<&'a str>,
    },
    Engine(Operation),
}

/// A routed request: its log line's domain and task, the key it is about (when the path names one),
/// and its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed<'a, T> {
    pub domain: &'static str,
    pub task: &'static str,
    pub key: Option<&'a str>,
    pub target: T,
}

fn routed<'a, T>(domain: &'static str, task: &'static str, key: Option<&'a str>, target: T) -> Routed<'a, T> {
    Routed {
        domain,
        task,
        key,
        target,
    }
}

/// `method` must be `allowed`.
fn only(method: &str, allowed: &'static str) -> Result<(), EdgeError> {
    if method == allowed {
        Ok(())
    } else {
        Err(EdgeError::MethodNotAllowed { allow: allowed })
    }
}

/// The target of `path` (without the query) for `method` (upper case, `HEAD` already served as `GET`).
///
/// # Errors
/// `RouteNotFound` for a path the Worker does not serve; `MethodNotAllowed` with the path's `Allow`.
pub fn route<'a>(path: &'a str, method: &str) -> Result<Routed<'a, Target<'a>>, EdgeError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (domain, task, key, target, allow) = match segments.as_slice() {
        ["healthz"] => ("health", "healthz", None, Target::Healthz, "GET"),
        ["metrics"] => ("metrics", "metrics", None, Target::Metrics, "GET"),
        ["openapi.json"] => ("meta", "openapi", None, Target::OpenApi, "GET"),
        ["v1", "characters", name, "equipment"] => {
            ("characters", "equipment", None, Target::Equipment { name }, "GET")
        }
        ["v1", "characters", name, "valuation"] => {
            ("characters", "valuation", None, Target::Valuation { name }, "GET")
        }
        ["v1", "watches"] => ("watches", "create", None, Target::CreateWatch, "POST"),
        ["v1", "watches", id] => {
            return match method {
                "GET" => Ok(routed("watches", "get", Some(id), Target::GetWatch { id })),
                "DELETE" => Ok(routed("watches", "delete", Some(id), Target::DeleteWatch { id })),
                _ => Err(EdgeError::MethodNotAllowed { allow: "GET, DELETE" }),
            }
        }
        ["v1", "admin", rest @ ..] => {
            let target = Target::Admin { rest: rest.to_vec() };
            return Ok(routed("admin", "unrouted", None, target));
        }
        ["v1", op] => match Operation::parse(op) {
            Some(op) => ("engine", op.as_str(), None, Target::Engine(op), "POST"),
            None => return Err(EdgeError::RouteNotFound),
        },
        _ => return Err(EdgeError::RouteNotFound),
    };
    only(method, allow)?;
    Ok(routed(domain, task, key, target))
}

/// What an admin request is for (after its token was checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminTarget<'a> {
    OutboxStats,
    DeadLetters,
    DeleteDeadLetter {
        event_id: &'a str,
    },
    ReplayDeadLetter {
        event_id: &'a str,
    },
    RelayNow,
    /// `raw_name` as it appears in the path (validated by the handler).
    PurgeCharacter {
        raw_name: &'a str,
    },
    ResolveAlert {
        alert_key: &'a str,
    },
    /// `/v1/admin/test/…`: only with the `test-hooks` build and `ENABLE_TEST_ROUTES`, else 404.
    Test {
        rest: &'a [&'a str],
    },
}

/// The target of `/v1/admin/{rest}` for `method`.
///
/// # Errors
/// `RouteNotFound`; `MethodNotAllowed` with the path's `Allow`.
pub fn admin<'a>(rest: &'a [&'a str], method: &str) -> Result<Routed<'a, AdminTarget<'a>>, EdgeError> {
    let (task, key, target, allow) = match rest {
        ["outbox", "stats"] => ("outbox_stats", None, AdminTarget::OutboxStats, "GET"),
        ["outbox", "dead-letters"] => ("dead_letters_list", None, AdminTarget::DeadLetters, "GET"),
        ["outbox", "dead-letters", event_id] => (
            "dead_letter_delete",
            Some(*event_id),
            AdminTarget::DeleteDeadLetter { event_id },
            "DELETE",
        ),
        ["outbox", "dead-letters", event_id, "replay"] => (
            "dead_letter_replay",
            Some(*event_id),
            AdminTarget::ReplayDeadLetter { event_id },
            "POST",
        ),
        ["outbox", "relay"] => ("relay_now", None, AdminTarget::RelayNow, "POST"),
        ["characters", raw_name, "purge"] => (
            "purge_character",
            None,
            AdminTarget::PurgeCharacter { raw_name },
            "POST",
        ),
        ["alerts", alert_key, "resolve"] => (
            "resolve_alert",
            Some(*alert_key),
            AdminTarget::ResolveAlert { alert_key },
            "POST",
        ),
        // Whether they exist is the build's and the vars' (404 otherwise, whatever the method); each
        // names its own task and checks its method.
        ["test", rest @ ..] => return Ok(routed("admin", "unrouted", None, AdminTarget::Test { rest })),
        _ => return Err(EdgeError::RouteNotFound),
    };
    only(method, allow)?;
    Ok(routed("admin", task, key, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, method: &str, expect: Result<(&str, &str, Option<&str>, Target), &str>) {
        let got = route(path, method)
            .map(|r| (r.domain, r.task, r.key, r.target))
            .map_err(|e| e.code());
        assert_eq!(got, expect, "{method} {path}");
    }

    #[test]
    fn the_route_table() {
        use Target as T;
        check("/healthz", "GET", Ok(("health", "healthz", None, T::Healthz)));
        check("/metrics", "GET", Ok(("metrics", "metrics", None, T::Metrics)));
        check("/openapi.json", "GET", Ok(("meta", "openapi", None, T::OpenApi)));
        check(
            "/v1/characters/a%20b/equipment",
            "GET",
            Ok(("characters", "equipment", None, T::Equipment { name: "a%20b" })),
        );
        check(
            "/v1/characters/a/valuation",
            "GET",
            Ok(("characters", "valuation", None, T::Valuation { name: "a" })),
        );
        check(
            "/v1/watches",
            "POST",
            Ok(("watches", "create", None, T::CreateWatch)),
        );
        check(
            "/v1/watches/w1",
            "GET",
            Ok(("watches", "get", Some("w1"), T::GetWatch { id: "w1" })),
        );
        check(
            "/v1/watches/w1",
            "DELETE",
            Ok(("watches", "delete", Some("w1"), T::DeleteWatch { id: "w1" })),
        );
        check(
            "/v1/starforce",
            "POST",
            Ok(("engine", "starforce", None, T::Engine(Operation::Starforce))),
        );
        check(
            "/v1/valuation",
            "POST",
            Ok(("engine", "valuation", None, T::Engine(Operation::Valuation))),
        );
        check(
            "/v1/admin/outbox/stats",
            "GET",
            Ok((
                "admin",
                "unrouted",
                None,
                T::Admin {
                    rest: vec!["outbox", "stats"],
                },
            )),
        );
        check("/v1/nope", "POST", Err("route_not_found"));
        check("/v2/starforce", "POST", Err("route_not_found"));
        check("/", "GET", Err("route_not_found"));
        check("/v1/watches/w1/x", "GET", Err("route_not_found"));
    }

    #[test]
    fn another_method_is_405_with_the_paths_allow() {
        for (path, method, allow) in [
            ("/healthz", "POST", "GET"),
            ("/v1/starforce", "GET", "POST"),
            ("/v1/watches", "GET", "POST"),
            ("/v1/watches/w1", "POST", "GET, DELETE"),
            ("/v1/characters/a/equipment", "DELETE", "GET"),
        ] {
            match route(path, method) {
                Err(EdgeError::MethodNotAllowed { allow: a }) => assert_eq!(a, allow, "{method} {path}"),
                other => panic!("{method} {path}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_admin_table() {
        use AdminTarget as A;
        fn check<'a>(
            rest: &'a [&'a str],
            method: &str,
        ) -> Result<(&'static str, Option<&'a str>, AdminTarget<'a>), &'static str> {
            admin(rest, method)
                .map(|r| (r.task, r.key, r.target))
                .map_err(|e| e.code())
        }
        assert_eq!(
            check(&["outbox", "stats"], "GET"),
            Ok(("outbox_stats", None, A::OutboxStats))
        );
        assert_eq!(
            check(&["outbox", "dead-letters"], "GET"),
            Ok(("dead_letters_list", None, A::DeadLetters))
        );
        assert_eq!(
            check(&["outbox", "dead-letters", "evt_1"], "DELETE"),
            Ok((
                "dead_letter_delete",
                Some("evt_1"),
                A::DeleteDeadLetter { event_id: "evt_1" }
            ))
        );
        assert_eq!(
            check(&["outbox", "dead-letters", "evt_1", "replay"], "POST"),
            Ok((
                "dead_letter_replay",
                Some("evt_1"),
                A::ReplayDeadLetter { event_id: "evt_1" }
            ))
        );
        assert_eq!(
            check(&["outbox", "relay"], "POST"),
            Ok(("relay_now", None, A::RelayNow))
        );
        assert_eq!(
            check(&["characters", "a", "purge"], "POST"),
            Ok(("purge_character", None, A::PurgeCharacter { raw_name: "a" }))
        );
        assert_eq!(
            check(&["alerts", "k", "resolve"], "POST"),
            Ok(("resolve_alert", Some("k"), A::ResolveAlert { alert_key: "k" }))
        );
        assert_eq!(
            check(&["test", "sweep"], "POST"),
            Ok(("unrouted", None, A::Test { rest: &["sweep"] }))
        );
        assert_eq!(
            check(&["test", "sweep"], "GET"),
            Ok(("unrouted", None, A::Test { rest: &["sweep"] }))
        );
        assert_eq!(check(&["outbox", "relay"], "GET"), Err("method_not_allowed"));
        assert_eq!(check(&["outbox"], "GET"), Err("route_not_found"));
    }
}
