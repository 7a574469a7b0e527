//! The route table as data: every path the API serves, the methods each declares, their operation ids
//! and auth. The Worker's dispatcher asks it which methods a path allows (405 with `Allow` for any
//! other, `HEAD` served as `GET` without a body, `OPTIONS` answered with `Allow`), and the OpenAPI
//! generator reads the same table, so the document and the dispatcher cannot disagree.

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone.
    Public,
    /// The operator's bearer token (`ADMIN_TOKEN`).
    Admin,
    /// The watch's own token, returned once when the watch is created.
    WatchToken,
}

/// One method on one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// Upper-case HTTP method: `GET`, `POST` or `DELETE`.
    pub method: &'static str,
    /// The OpenAPI `operationId`.
    pub operation_id: &'static str,
    pub auth: Auth,
}

/// One path template. `{name}` segments match any one non-empty segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub path: &'static str,
    pub operations: &'static [Operation],
    /// The `Allow` header value: the declared methods, then `HEAD` when `GET` is declared, then
    /// `OPTIONS` (a test checks it against `operations`).
    pub allow: &'static str,
}

const fn op(method: &'static str, operation_id: &'static str, auth: Auth) -> Operation {
    Operation {
        method,
        operation_id,
        auth,
    }
}

const GET_ALLOW: &str = "GET, HEAD, OPTIONS";
const POST_ALLOW: &str = "POST, OPTIONS";
const DELETE_ALLOW: &str = "DELETE, OPTIONS";

/// Every route the API declares, in the order the document lists them.
pub static ROUTES: &[Route] = &[
    Route {
        path: "/healthz",
        operations: &[op("GET", "healthz", Auth::Public)],
        allow: GET_ALLOW,
    },
    Route {
        path: "/openapi.json",
        operations: &[op("GET", "openapi", Auth::Public)],
        allow: GET_ALLOW,
    },
    Route {
        path: "/metrics",
        operations: &[op("GET", "metrics", Auth::Admin)],
        allow: GET_ALLOW,
    },
    Route {
        path: "/v1/characters/{name}/equipment",
        operations: &[op("GET", "characterEquipment", Auth::Public)],
        allow: GET_ALLOW,
    },
    Route {
        path: "/v1/characters/{name}/valuation",
        operations: &[op("GET", "characterValuation", Auth::Public)],
        allow: GET_ALLOW,
    },
    Route {
        path: "/v1/starforce",
        operations: &[op("POST", "starforce", Auth::Public)],
        allow: POST_ALLOW,
    },
    Route {
        path: "/v1/potential",
        operations: &[op("POST", "potential", Auth::Public)],
        allow: POST_ALLOW,
    },
    Route {
        path: "/v1/flame",
        operations: &[op("POST", "flame", Auth::Public)],
        allow: POST_ALLOW,
    },
    Route {
        path: "/v1/valuation",
        operations: &[op("POST", "valuation", Auth::Public)],
        allow: POST_ALLOW,
    },
    Route {
        path: "/v1/watches",
        operations: &[op("POST", "createWatch", Auth::Public)],
        allow: POST_ALLOW,
    },
    Route {
        path: "/v1/watches/{id}",
        operations: &[
            op("GET", "getWatch", Auth::WatchToken),
            op("DELETE", "deleteWatch", Auth::WatchToken),
        ],
        allow: "GET, DELETE, HEAD, OPTIONS",
    },
    Route {
        path: "/v1/admin/outbox/stats",
        operations: &[op("GET", "outboxStats", Auth::Admin)],
        allow: GET_ALLOW,
    },
    Route {
        path: "/v1/admin/outbox/dead-letters",
        operations: &[op("GET", "listDeadLetters", Auth::Admin)],
        allow: GET_ALLOW,
    },
    Route {
        path: "/v1/admin/outbox/dead-letters/{event_id}",
        operations: &[op("DELETE", "deleteDeadLetter", Auth::Admin)],
        allow: DELETE_ALLOW,
    },
    Route {
        path: "/v1/admin/outbox/dead-letters/{event_id}/replay",
        operations: &[op("POST", "replayDeadLetter", Auth::Admin)],
        allow: POST_ALLOW,
    },
    Route {
        path: "/v1/admin/outbox/relay",
        operations: &[op("POST", "runRelay", Auth::Admin)],
        allow: POST_ALLOW,
    },
    Route {
        path: "/v1/admin/characters/{name}/purge",
        operations: &[op("POST", "purgeCharacter", Auth::Admin)],
        allow: POST_ALLOW,
    },
    Route {
        path: "/v1/admin/alerts/{alert_key}/resolve",
        operations: &[op("POST", "resolveAlert", Auth::Admin)],
        allow: POST_ALLOW,
    },
];

/// The declared route whose template matches `path` (a request path, without the query).
pub fn find(path: &str) -> Option<&'static Route> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    ROUTES.iter().find(|route| {
        let template: Vec<&str> = route.path.trim_matches('/').split('/').collect();
        template.len() == segments.len()
            && template.iter().zip(&segments).all(|(t, s)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !s.is_empty()
                } else {
                    t == s
                }
            })
    })
}

/// What the dispatcher does with a request's method on a declared route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodDecision {
    /// A declared method: run its handler.
    Serve(&'static Operation),
    /// `HEAD` on a path that declares `GET`: run the `GET` handler and send its status and headers
    /// without the body.
    HeadAsGet(&'static Operation),
    /// `OPTIONS`: answer 204 with `Allow`.
    Options { allow: &'static str },
    /// Anything else (including methods HTTP does not define, such as `QUERY` or `PROPFIND`):
    /// 405 with `Allow`.
    NotAllowed { allow: &'static str },
}

impl Route {
    /// The decision for `method` exactly as the request spelled it (methods are case-sensitive).
    pub fn decide(&'static self, method: &str) -> MethodDecision {
        if let Some(op) = self.operations.iter().find(|op| op.method == method) {
            return MethodDecision::Serve(op);
        }
        match method {
            "HEAD" => match self.operations.iter().find(|op| op.method == "GET") {
                Some(op) => MethodDecision::HeadAsGet(op),
                None => MethodDecision::NotAllowed { allow: self.allow },
            },
            "OPTIONS" => MethodDecision::Options { allow: self.allow },
            _ => MethodDecision::NotAllowed { allow: self.allow },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_the_declared_methods_then_head_and_options() {
        for route in ROUTES {
            let mut methods: Vec<&str> = route.operations.iter().map(|op| op.method).collect();
            if methods.contains(&"GET") {
                methods.push("HEAD");
            }
            methods.push("OPTIONS");
            assert_eq!(route.allow, methods.join(", "), "{}", route.path);
        }
    }

    #[test]
    fn every_engine_operation_has_a_route() {
        for op in pve_api::Operation::ALL {
            let route = find(&format!("/v1/{}", op.as_str())).unwrap_or_else(|| panic!("{}", op.as_str()));
            assert_eq!(route.operations[0].method, "POST");
            assert_eq!(route.operations[0].operation_id, op.as_str());
        }
    }

    #[test]
    fn paths_and_operation_ids_are_unique() {
        let mut paths: Vec<&str> = ROUTES.iter().map(|r| r.path).collect();
        let mut ids: Vec<&str> = ROUTES
            .iter()
            .flat_map(|r| r.operations.iter().map(|op| op.operation_id))
            .collect();
        let (np, ni) = (paths.len(), ids.len());
        paths.sort_unstable();
        paths.dedup();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!((paths.len(), ids.len()), (np, ni));
    }

    #[test]
    fn templates_match_one_segment_per_parameter() {
        assert_eq!(
            find("/v1/characters/아델/equipment").unwrap().path,
            "/v1/characters/{name}/equipment"
        );
        assert_eq!(find("/v1/watches/abc/").unwrap().path, "/v1/watches/{id}");
        assert_eq!(find("/v1/watches").unwrap().path, "/v1/watches");
        assert!(find("/v1/characters//equipment").is_none());
        assert!(find("/v1/characters/a/b/equipment").is_none());
        assert!(find("/v1/nothing").is_none());
        assert!(find("/").is_none());
    }

    #[test]
    fn undeclared_methods_are_refused_with_allow() {
        let health = find("/healthz").unwrap();
        for method in [
            "QUERY", "PROPFIND", "POST", "PUT", "PATCH", "TRACE", "get", "CONNECT",
        ] {
            assert_eq!(
                health.decide(method),
                MethodDecision::NotAllowed {
                    allow: "GET, HEAD, OPTIONS"
                },
                "{method}"
            );
        }
        let watch = find("/v1/watches/w1").unwrap();
        assert!(
            matches!(watch.decide("DELETE"), MethodDecision::Serve(op) if op.operation_id == "deleteWatch")
        );
        assert!(
            matches!(watch.decide("HEAD"), MethodDecision::HeadAsGet(op) if op.operation_id == "getWatch")
        );
        assert_eq!(
            watch.decide("OPTIONS"),
            MethodDecision::Options {
                allow: "GET, DELETE, HEAD, OPTIONS"
            }
        );
        let relay = find("/v1/admin/outbox/relay").unwrap();
        assert_eq!(
            relay.decide("HEAD"),
            MethodDecision::NotAllowed {
                allow: "POST, OPTIONS"
            }
        );
    }
}
