//! The route table as data: every path the API serves, the methods each declares, their operation ids,
//! auth, parameters, bodies and every answer with its error codes. The Worker's dispatcher asks it which
//! methods a path allows (405 with `Allow` for any other, `HEAD` served as `GET` without a body, `OPTIONS`
//! answered with `Allow`), and the OpenAPI generator (`tools/openapi`, `pve-openapi`) turns the same table
//! into `worker/src/openapi.json`, so the document and the dispatcher cannot disagree: adding a route here
//! is all it takes to document it. Bodies name pve-api types ([`Schema::Api`]); their JSON Schemas come from
//! the Rust types (schemars), never from here.

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
    /// The OpenAPI tag (`meta`, `characters`, `engine`, `watches`, `admin`).
    pub tag: &'static str,
    pub summary: &'static str,
    /// Longer prose; empty for none.
    pub description: &'static str,
    pub params: &'static [Param],
    /// OpenAPI links from the operation's 2xx answer to operations that use what it returned.
    pub links: &'static [Link],
    /// The request body, when the operation reads one (always required).
    pub request: Option<Body>,
    /// Every status the operation answers with, success and errors.
    pub responses: &'static [Answer],
}

/// Where a parameter is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Header,
}

/// One path, query or header parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub location: Location,
    pub required: bool,
    /// Empty for none.
    pub description: &'static str,
    pub schema: ParamSchema,
}

/// What a parameter's value may be (path, query and header values are strings on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamSchema {
    Text {
        min_length: u32,
        max_length: Option<u32>,
        /// An ECMA-262 regular expression the whole value matches.
        pattern: Option<&'static str>,
    },
    /// Exactly one of these strings.
    OneOf(&'static [&'static str]),
    Integer {
        minimum: i64,
        maximum: i64,
    },
    /// A character name by the game's rule: Hangul syllables (weight 2), Latin letters and digits
    /// (weight 1), total weight within the bounds. The generator writes it out as a regular expression.
    CharacterName {
        min_weight: u32,
        max_weight: u32,
    },
    /// Visible ASCII (`!` to `~`), 1 to `max_length` characters.
    VisibleAscii {
        max_length: u32,
    },
    /// A webhook destination: the stateable part of the SSRF policy, [`crate::webhook::URL_PATTERN`] and not
    /// [`crate::webhook::URL_NOT_PATTERN`], at most [`crate::webhook::MAX_URL_LEN`] characters.
    WebhookUrl,
}

/// A request or response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Body {
    pub media_type: &'static str,
    pub schema: Schema,
}

/// The schema of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// A pve-api type, by the name of its JSON Schema (see `pve_api::schema`).
    Api(&'static str),
    /// The error body `{"error":{"code","message","request_id"}}`.
    Error,
    /// Plain text.
    Text,
    /// A JSON object the Worker builds itself (no pve-api type yet): the keys it always has.
    Object {
        required: &'static [&'static str],
        description: &'static str,
    },
    /// A JSON object of string fields the Worker reads itself; `closed`: other keys are `unknown_field`.
    Fields { fields: &'static [Field], closed: bool },
}

/// One string field of a [`Schema::Fields`] object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub required: bool,
    pub description: &'static str,
    pub schema: ParamSchema,
}

/// One status an operation answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub description: &'static str,
    pub body: Option<Body>,
    /// Response headers, by name (the document declares each once, in its components).
    pub headers: &'static [&'static str],
    /// The error codes this status carries (empty for a success).
    pub codes: &'static [&'static str],
}

/// An OpenAPI link: `parameters` maps a target parameter (`path.id`, `header.X-Watch-Token`) to a
/// runtime expression on this answer (`$response.body#/id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub name: &'static str,
    pub operation_id: &'static str,
    pub parameters: &'static [(&'static str, &'static str)],
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

const GET_ALLOW: &str = "GET, HEAD, OPTIONS";
const POST_ALLOW: &str = "POST, OPTIONS";
const DELETE_ALLOW: &str = "DELETE, OPTIONS";

/// The document's title and the description of the whole API.
pub const TITLE: &str = "pve: probabilistic valuation engine for MapleStory equipment";
pub const DESCRIPTION: &str = "The HTTP API of the Worker. Character routes read the Nexon Open API through a tiered cache (L1 isolate memory, L2 Workers KV, a single-flight Durable Object per cache key) so that concurrent requests for one character make one upstream call. Every error body is {\"error\":{\"code\",\"message\",\"request_id\"}}; codes are stable. Unknown paths answer 404 route_not_found; a method a path does not declare 405 method_not_allowed with Allow; HEAD runs GET without the body; OPTIONS answers 204 with Allow. Admin routes (/v1/admin/…) need the admin bearer token; with ENABLE_TEST_ROUTES=true (dev and tests only) /v1/admin/test/… also exist and are not described here.";

/// The response headers the document declares: name, whether the value is an integer, description.
pub static HEADERS: &[(&str, bool, &str)] = &[
    ("Cache-Status", false, "RFC 9211, one member `pve` whose `detail` is the tier that answered: l1 (isolate memory), l2 (Workers KV), origin (loaded through the single-flight Durable Object, or computed), stale (past fresh: revalidating in the background, or the upstream failed). `collapsed` marks a request answered by another request's load; `ttl` is the remaining freshness in seconds (negative: stale)."),
    ("ETag", false, "Strong validator of the body."),
    ("Cache-Control", false, "Freshness for downstream caches."),
    ("Age", true, "Seconds since the data was fetched from the Nexon Open API."),
    ("Retry-After", true, "Seconds to wait before retrying."),
];

/// An error answer: the error body with these codes.
const fn error(status: u16, description: &'static str, codes: &'static [&'static str]) -> Answer {
    Answer {
        status,
        description,
        body: Some(Body {
            media_type: "application/json",
            schema: Schema::Error,
        }),
        headers: &[],
        codes,
    }
}

/// An error answer that carries `Retry-After`.
const fn retry_error(status: u16, description: &'static str, codes: &'static [&'static str]) -> Answer {
    Answer {
        headers: &["Retry-After"],
        ..error(status, description, codes)
    }
}

const RATE_LIMITED: Answer = retry_error(429, "Too many requests from this client.", &["rate_limited"]);
const INTERNAL: Answer = error(500, "Internal error.", &["internal"]);
const WRONG_METHOD: Answer = error(405, "Wrong method.", &["method_not_allowed"]);
const ONLY_GET: Answer = error(405, "Only GET.", &["method_not_allowed"]);
const UNAUTHORIZED: Answer = error(
    401,
    "No or wrong admin bearer token (checked before anything else).",
    &["unauthorized"],
);
const NOT_MODIFIED: Answer = Answer {
    status: 304,
    description: "Not modified (If-None-Match matched the ETag).",
    body: None,
    headers: &["Cache-Status", "ETag", "Cache-Control"],
    codes: &[],
};
const ENGINE_REJECTED: Answer = error(
    400,
    "The engine rejected the request.",
    &[
        "malformed_json",
        "invalid_type",
        "unknown_field",
        "missing_field",
        "out_of_range",
        "unknown_variant",
        "invalid_combination",
        "no_data",
        "invalid_data",
    ],
);
const ONLY_POST: Answer = error(405, "Only POST.", &["method_not_allowed"]);
const PAYLOAD_TOO_LARGE: Answer = error(413, "Body larger than 64 KiB.", &["payload_too_large"]);
const ENGINE_INTERNAL: Answer = error(
    500,
    "Internal error (data_not_loaded cannot happen in the Worker, whose game data is bundled).",
    &["internal", "data_not_loaded"],
);
const NOT_MODIFIED_AGE: Answer = Answer {
    status: 304,
    description: "Not modified (If-None-Match matched the ETag).",
    body: None,
    headers: &["Cache-Status", "ETag", "Cache-Control", "Age"],
    codes: &[],
};
const CHARACTER_NOT_FOUND: Answer = error(
    404,
    "No character with this name (cached for NOT_FOUND_TTL_S).",
    &["character_not_found"],
);
const RATE_LIMITED_OR_REFRESH: Answer = retry_error(
    429,
    "Too many requests (or refresh=true requests) from this client.",
    &["rate_limited", "refresh_rate_limited"],
);
const UPSTREAM_FAILED: Answer = retry_error(503, "The Nexon Open API failed, timed out, is rate-limited or its circuit breaker is open, and no stale copy could answer.", &["upstream_unavailable", "upstream_rate_limited"]);
const WATCH_TOKEN_REQUIRED: Answer = error(
    401,
    "No watch token (checked before the watch is looked up).",
    &["watch_token_required"],
);
const INVALID_WATCH_TOKEN: Answer = error(
    403,
    "Wrong watch token (or not of the form wtk_ and 64 hex digits), an Authorization that is not a bearer token, or two different tokens.",
    &["invalid_watch_token"],
);
const WATCH_NOT_FOUND: Answer = error(404, "No such watch.", &["watch_not_found"]);
const DEAD_LETTER_NOT_FOUND: Answer = error(404, "No such dead letter.", &["dead_letter_not_found"]);

/// `{name}` of the character routes: the name rule of [`ParamSchema::CharacterName`].
const CHARACTER_NAME: Param = Param {
    name: "name",
    location: Location::Path,
    required: true,
    description: "Character name: Hangul syllables, Latin letters and digits, 2 to 12 in Nexon's counting (a Hangul syllable counts 2). Percent-encoded UTF-8. Any other name is 400 invalid_character_name.",
    schema: ParamSchema::CharacterName {
        min_weight: crate::validate::MIN_NAME_WEIGHT as u32,
        max_weight: crate::validate::MAX_NAME_WEIGHT as u32,
    },
};
const IF_NONE_MATCH: Param = Param {
    name: "If-None-Match",
    location: Location::Header,
    required: false,
    description: "ETags; a match answers 304 Not Modified.",
    schema: ParamSchema::Text {
        min_length: 0,
        max_length: None,
        pattern: None,
    },
};
const IDEMPOTENCY_KEY: Param = Param {
    name: "Idempotency-Key",
    location: Location::Header,
    required: true,
    description: "1 to 255 visible ASCII characters. A repeat with the same key and body gets the same answer (idempotent-replayed: true).",
    schema: ParamSchema::VisibleAscii {
        max_length: crate::validate::MAX_IDEMPOTENCY_KEY_LEN as u32,
    },
};
const WATCH_ID: Param = Param {
    name: "id",
    location: Location::Path,
    required: true,
    description: "The watch id returned at creation.",
    schema: ParamSchema::Text {
        min_length: 1,
        max_length: None,
        pattern: None,
    },
};
/// The watch token as a header (the alternative to `Authorization: Bearer <token>`), so that links can
/// pass the token a creation returned.
const WATCH_TOKEN: Param = Param {
    name: "X-Watch-Token",
    location: Location::Header,
    required: false,
    description: "The watch token returned at creation (or send it as Authorization: Bearer <token>; both \
                  must then be the same token; an empty header counts as none).",
    schema: ParamSchema::VisibleAscii { max_length: 255 },
};
const EVENT_ID: Param = Param {
    name: "event_id",
    location: Location::Path,
    required: true,
    description: "",
    schema: ParamSchema::Text {
        min_length: 1,
        max_length: None,
        pattern: None,
    },
};
const ALERT_KEY: Param = Param {
    name: "alert_key",
    location: Location::Path,
    required: true,
    description:
        "The alert key, as in the alert message's \"alert key\" field (e.g. outbox.content_hash_mismatch).",
    schema: ParamSchema::Text {
        min_length: 1,
        max_length: None,
        pattern: None,
    },
};
/// From a created watch to the operations on it, with its id and token.
const WATCH_LINKS: &[Link] = &[
    Link {
        name: "GetWatch",
        operation_id: "getWatch",
        parameters: &[
            ("path.id", "$response.body#/id"),
            ("header.X-Watch-Token", "$response.body#/token"),
        ],
    },
    Link {
        name: "DeleteWatch",
        operation_id: "deleteWatch",
        parameters: &[
            ("path.id", "$response.body#/id"),
            ("header.X-Watch-Token", "$response.body#/token"),
        ],
    },
];

/// Every route the API declares, in the order the document lists them.
pub static ROUTES: &[Route] = &[
Route {
        path: "/healthz",
        operations: &[Operation {
                method: "GET",
                operation_id: "healthz",
                auth: Auth::Public,
                tag: "meta",
                summary: "Engine version and the health of KV, the Durable Object and D1.",
                description: "",
                params: &[],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "All bindings answer.", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &["status", "engine_version", "checks"], description: "" } }), headers: &[], codes: &[] },
Answer { status: 503, description: "A binding failed (status \"degraded\").", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &["status", "engine_version", "checks"], description: "" } }), headers: &[], codes: &[] },
ONLY_GET],
            }],
        allow: GET_ALLOW,
    },
Route {
        path: "/openapi.json",
        operations: &[Operation {
                method: "GET",
                operation_id: "openapi",
                auth: Auth::Public,
                tag: "meta",
                summary: "This document.",
                description: "",
                params: &[],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "OpenAPI 3.1.", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &[], description: "" } }), headers: &[], codes: &[] },
ONLY_GET],
            }],
        allow: GET_ALLOW,
    },
Route {
        path: "/metrics",
        operations: &[Operation {
                method: "GET",
                operation_id: "metrics",
                auth: Auth::Admin,
                tag: "meta",
                summary: "Prometheus text format 0.0.4 for the whole deployment.",
                description: "",
                params: &[],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "Every metric family, with HELP and TYPE.", body: Some(Body { media_type: "text/plain; version=0.0.4", schema: Schema::Text }), headers: &[], codes: &[] },
error(401, "No or wrong bearer token (ADMIN_TOKEN or METRICS_SCRAPE_TOKEN).", &["unauthorized"]),
ONLY_GET,
INTERNAL],
            }],
        allow: GET_ALLOW,
    },
Route {
        path: "/v1/characters/{name}/equipment",
        operations: &[Operation {
                method: "GET",
                operation_id: "characterEquipment",
                auth: Auth::Public,
                tag: "characters",
                summary: "A character's item equipment (canonical JSON of Nexon's item-equipment answer).",
                description: "",
                params: &[CHARACTER_NAME,
Param { name: "refresh", location: Location::Query, required: false, description: "true: skip the cached equipment and load it again through the single-flight Durable Object (a copy fetched within REFRESH_WINDOW_S before the request counts). Rate-limited per client.", schema: ParamSchema::OneOf(&["true", "false", "1", "0"]) },
IF_NONE_MATCH],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "Answered by a cache tier or the origin; Cache-Status says which (detail=l1, l2, origin or stale).", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &["character_name", "ocid", "equipment_hash", "fetched_at", "engine_version", "data_version", "equipment"], description: "" } }), headers: &["Cache-Status", "ETag", "Cache-Control", "Age"], codes: &[] },
NOT_MODIFIED_AGE,
error(400, "Invalid name or query, rejected before any lookup.", &["invalid_character_name", "invalid_query"]),
CHARACTER_NOT_FOUND,
ONLY_GET,
RATE_LIMITED_OR_REFRESH,
INTERNAL,
UPSTREAM_FAILED],
            }],
        allow: GET_ALLOW,
    },
Route {
        path: "/v1/characters/{name}/valuation",
        operations: &[Operation {
                method: "GET",
                operation_id: "characterValuation",
                auth: Auth::Public,
                tag: "characters",
                summary: "The engine's valuation of a character's equipment (`pve valuation` on Nexon's item-equipment answer, default options).",
                description: "",
                params: &[CHARACTER_NAME,
Param { name: "preset", location: Location::Query, required: false, description: "Equipment preset 1, 2 or 3; absent: the preset the character uses.", schema: ParamSchema::OneOf(&["1", "2", "3"]) },
Param { name: "refresh", location: Location::Query, required: false, description: "true: skip the cached equipment and load it again through the single-flight Durable Object (a copy fetched within REFRESH_WINDOW_S before the request counts). Rate-limited per client. When the equipment comes from the origin and the character is watched, the equipped set's valuation is recorded after the response, and a change sends valuation.changed to the watches' webhooks.", schema: ParamSchema::OneOf(&["true", "false", "1", "0"]) },
IF_NONE_MATCH],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "Answered by a cache tier or the origin; Cache-Status says which (detail=l1, l2, origin or stale).", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &["character_name", "ocid", "preset", "equipment_hash", "fetched_at", "engine_version", "data_version", "set", "valuation"], description: "" } }), headers: &["Cache-Status", "ETag", "Cache-Control", "Age"], codes: &[] },
NOT_MODIFIED_AGE,
error(400, "Invalid name or query (rejected before any lookup), or no such preset for this character. Codes: invalid_character_name, invalid_query, and the engine's codes if it rejects the character's data.", &["invalid_character_name", "invalid_query", "malformed_json", "invalid_type", "missing_field", "out_of_range"]),
CHARACTER_NOT_FOUND,
ONLY_GET,
RATE_LIMITED_OR_REFRESH,
INTERNAL,
UPSTREAM_FAILED],
            }],
        allow: GET_ALLOW,
    },
Route {
        path: "/v1/starforce",
        operations: &[Operation {
                method: "POST",
                operation_id: "starforce",
                auth: Auth::Public,
                tag: "engine",
                summary: "Expected cost, risk and distribution of star force enhancement.",
                description: "Deterministic: answers are cached (L1 + KV) by a SHA-256 of the canonical request (sorted keys, no whitespace) and the engine version. The body is the same JSON as `pve starforce` reads on stdin.",
                params: &[IF_NONE_MATCH],
                links: &[],
 request: Some(Body { media_type: "application/json", schema: Schema::Api("StarforceRequest") }),
                responses: &[Answer { status: 200, description: "The engine's answer, byte-identical to `pve starforce`.", body: Some(Body { media_type: "application/json", schema: Schema::Api("StarforceResponse") }), headers: &["Cache-Status", "ETag", "Cache-Control"], codes: &[] },
NOT_MODIFIED,
ENGINE_REJECTED,
ONLY_POST,
PAYLOAD_TOO_LARGE,
RATE_LIMITED,
ENGINE_INTERNAL],
            }],
        allow: POST_ALLOW,
    },
Route {
        path: "/v1/potential",
        operations: &[Operation {
                method: "POST",
                operation_id: "potential",
                auth: Auth::Public,
                tag: "engine",
                summary: "Probability and cost of reaching potential lines with cubes / resets.",
                description: "Deterministic: answers are cached (L1 + KV) by a SHA-256 of the canonical request (sorted keys, no whitespace) and the engine version. The body is the same JSON as `pve potential` reads on stdin.",
                params: &[IF_NONE_MATCH],
                links: &[],
 request: Some(Body { media_type: "application/json", schema: Schema::Api("PotentialRequest") }),
                responses: &[Answer { status: 200, description: "The engine's answer, byte-identical to `pve potential`.", body: Some(Body { media_type: "application/json", schema: Schema::Api("PotentialResponse") }), headers: &["Cache-Status", "ETag", "Cache-Control"], codes: &[] },
NOT_MODIFIED,
ENGINE_REJECTED,
ONLY_POST,
PAYLOAD_TOO_LARGE,
RATE_LIMITED,
ENGINE_INTERNAL],
            }],
        allow: POST_ALLOW,
    },
Route {
        path: "/v1/flame",
        operations: &[Operation {
                method: "POST",
                operation_id: "flame",
                auth: Auth::Public,
                tag: "engine",
                summary: "Probability and expected number of flames to reach a flame score.",
                description: "Deterministic: answers are cached (L1 + KV) by a SHA-256 of the canonical request (sorted keys, no whitespace) and the engine version. The body is the same JSON as `pve flame` reads on stdin.",
                params: &[IF_NONE_MATCH],
                links: &[],
 request: Some(Body { media_type: "application/json", schema: Schema::Api("FlameRequest") }),
                responses: &[Answer { status: 200, description: "The engine's answer, byte-identical to `pve flame`.", body: Some(Body { media_type: "application/json", schema: Schema::Api("FlameResponse") }), headers: &["Cache-Status", "ETag", "Cache-Control"], codes: &[] },
NOT_MODIFIED,
ENGINE_REJECTED,
ONLY_POST,
PAYLOAD_TOO_LARGE,
RATE_LIMITED,
ENGINE_INTERNAL],
            }],
        allow: POST_ALLOW,
    },
Route {
        path: "/v1/valuation",
        operations: &[Operation {
                method: "POST",
                operation_id: "valuation",
                auth: Auth::Public,
                tag: "engine",
                summary: "What a character's equipment cost to make: per item, per preset and in total.",
                description: "Deterministic: answers are cached (L1 + KV) by a SHA-256 of the canonical request (sorted keys, no whitespace) and the engine version. The body is the same JSON as `pve valuation` reads on stdin.",
                params: &[IF_NONE_MATCH],
                links: &[],
 request: Some(Body { media_type: "application/json", schema: Schema::Api("ValuationBody") }),
                responses: &[Answer { status: 200, description: "The engine's answer, byte-identical to `pve valuation`.", body: Some(Body { media_type: "application/json", schema: Schema::Api("ValuationResponse") }), headers: &["Cache-Status", "ETag", "Cache-Control"], codes: &[] },
NOT_MODIFIED,
ENGINE_REJECTED,
ONLY_POST,
error(413, "Body larger than 1 MiB.", &["payload_too_large"]),
RATE_LIMITED,
ENGINE_INTERNAL],
            }],
        allow: POST_ALLOW,
    },
Route {
        path: "/v1/watches",
        operations: &[Operation {
                method: "POST",
                operation_id: "createWatch",
                auth: Auth::Public,
                tag: "watches",
                summary: "Watch a character: the webhook is told when its valuation changes (through the outbox).",
                description: "",
                params: &[IDEMPOTENCY_KEY],
                links: WATCH_LINKS,
 request: Some(Body { media_type: "application/json", schema: Schema::Fields { fields: &[
    Field { name: "character", required: true, description: "A character name (the rule of the character routes' {name}; else 400 invalid_character_name).", schema: CHARACTER_NAME.schema },
    Field { name: "webhook_url", required: true, description: "https only; never a private, loopback, link-local, carrier-grade-NAT or reserved address, an internal host name (localhost, .local, .internal, a single label) or credentials; at most 2048 characters. Else 400 invalid_webhook_url naming the rule. The pattern states this for host names; a public IPv4 or IPv6 literal host is also accepted, which the pattern leaves out.", schema: ParamSchema::WebhookUrl },
], closed: true } }),
                responses: &[Answer { status: 201, description: "The watch, with its token (shown once).", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &[], description: "" } }), headers: &[], codes: &[] },
error(400, "Bad request.", &["idempotency_key_required", "invalid_idempotency_key", "invalid_webhook_url", "invalid_character_name", "malformed_json", "unknown_field", "missing_field", "invalid_type"]),
WRONG_METHOD,
error(409, "The Idempotency-Key was used with another body.", &["idempotency_key_reused"]),
PAYLOAD_TOO_LARGE,
RATE_LIMITED,
INTERNAL],
            }],
        allow: POST_ALLOW,
    },
Route {
        path: "/v1/watches/{id}",
        operations: &[Operation {
                method: "GET",
                operation_id: "getWatch",
                auth: Auth::WatchToken,
                tag: "watches",
                summary: "A watch and its last known valuation.",
                description: "",
                params: &[WATCH_ID, WATCH_TOKEN],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "The watch.", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &[], description: "" } }), headers: &[], codes: &[] },
WATCH_TOKEN_REQUIRED,
INVALID_WATCH_TOKEN,
WATCH_NOT_FOUND,
WRONG_METHOD,
RATE_LIMITED,
INTERNAL],
            }, Operation {
                method: "DELETE",
                operation_id: "deleteWatch",
                auth: Auth::WatchToken,
                tag: "watches",
                summary: "Stop watching.",
                description: "",
                params: &[WATCH_ID, WATCH_TOKEN],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "The watch, deleted.", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &[], description: "" } }), headers: &[], codes: &[] },
WATCH_TOKEN_REQUIRED,
INVALID_WATCH_TOKEN,
WATCH_NOT_FOUND,
WRONG_METHOD,
RATE_LIMITED,
INTERNAL],
            }],
        allow: "GET, DELETE, HEAD, OPTIONS",
    },
Route {
        path: "/v1/admin/outbox/stats",
        operations: &[Operation {
                method: "GET",
                operation_id: "outboxStats",
                auth: Auth::Admin,
                tag: "admin",
                summary: "Outbox, dead-letter and alert counts.",
                description: "",
                params: &[],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "Counts.", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &[], description: "" } }), headers: &[], codes: &[] },
UNAUTHORIZED,
WRONG_METHOD,
RATE_LIMITED,
INTERNAL],
            }],
        allow: GET_ALLOW,
    },
Route {
        path: "/v1/admin/outbox/dead-letters",
        operations: &[Operation {
                method: "GET",
                operation_id: "listDeadLetters",
                auth: Auth::Admin,
                tag: "admin",
                summary: "Dead letters, newest first, paged.",
                description: "",
                params: &[Param { name: "limit", location: Location::Query, required: false, description: "", schema: ParamSchema::Integer { minimum: 1, maximum: 200 } },
Param { name: "cursor", location: Location::Query, required: false, description: "The next_cursor of the previous page (dl1.<n>); anything else is 400 invalid_cursor.", schema: ParamSchema::Text { min_length: 1, max_length: None, pattern: Some(r"^dl1\.[0-9]{1,19}$") } },
Param { name: "include_replayed", location: Location::Query, required: false, description: "", schema: ParamSchema::OneOf(&["true", "false"]) }],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "{items, next_cursor}.", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &[], description: "" } }), headers: &[], codes: &[] },
error(400, "Bad query.", &["invalid_query", "invalid_cursor"]),
UNAUTHORIZED,
WRONG_METHOD,
RATE_LIMITED,
INTERNAL],
            }],
        allow: GET_ALLOW,
    },
Route {
        path: "/v1/admin/outbox/dead-letters/{event_id}",
        operations: &[Operation {
                method: "DELETE",
                operation_id: "deleteDeadLetter",
                auth: Auth::Admin,
                tag: "admin",
                summary: "Delete a dead letter.",
                description: "",
                params: &[EVENT_ID],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "Deleted.", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &[], description: "" } }), headers: &[], codes: &[] },
UNAUTHORIZED,
DEAD_LETTER_NOT_FOUND,
WRONG_METHOD,
RATE_LIMITED,
INTERNAL],
            }],
        allow: DELETE_ALLOW,
    },
Route {
        path: "/v1/admin/outbox/dead-letters/{event_id}/replay",
        operations: &[Operation {
                method: "POST",
                operation_id: "replayDeadLetter",
                auth: Auth::Admin,
                tag: "admin",
                summary: "Put a dead letter back in the outbox.",
                description: "",
                params: &[EVENT_ID],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "Pending again.", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &[], description: "" } }), headers: &[], codes: &[] },
UNAUTHORIZED,
DEAD_LETTER_NOT_FOUND,
WRONG_METHOD,
error(409, "Already replayed, or its content hash does not match.", &["dead_letter_already_replayed", "content_hash_mismatch"]),
RATE_LIMITED,
INTERNAL],
            }],
        allow: POST_ALLOW,
    },
Route {
        path: "/v1/admin/outbox/relay",
        operations: &[Operation {
                method: "POST",
                operation_id: "runRelay",
                auth: Auth::Admin,
                tag: "admin",
                summary: "Run the outbox relay now.",
                description: "",
                params: &[],
                links: &[],
 request: None,
                responses: &[Answer { status: 200, description: "The relay's report.", body: Some(Body { media_type: "application/json", schema: Schema::Object { required: &[], description: "" } }), headers: &[], codes: &[] },
UNAUTHORIZED,
WRONG_METHOD,
RATE_LIMITED,
INTERNAL],
            }],
        allow: POST_ALLOW,
    },
    Route {
        path: "/v1/admin/characters/{name}/purge",
        operations: &[Operation {
            method: "POST",
            operation_id: "purgeCharacter",
            auth: Auth::Admin,
            tag: "admin",
            summary: "Drop a character from every cache tier.",
            description: "Deletes the character's KV entries (ocid, equipment, valuations), drops them from this isolate's memory and raises the character's purge generation in its Durable Object: from the answer on, no load answers with a purged copy, and other isolates stop answering from memory within PURGE_CHECK_MS. Idempotent.",
            params: &[CHARACTER_NAME],
            links: &[],
            request: None,
            responses: &[
                Answer {
                    status: 200,
                    description: "Purged: the new generation and the deleted KV keys.",
                    body: Some(Body {
                        media_type: "application/json",
                        schema: Schema::Object {
                            required: &["character_name", "ocid", "generation", "previous_generation", "kv_deleted", "l1_dropped"],
                            description: "",
                        },
                    }),
                    headers: &[],
                    codes: &[],
                },
                error(400, "Not a valid character name.", &["invalid_character_name"]),
                UNAUTHORIZED,
                WRONG_METHOD,
                RATE_LIMITED,
                INTERNAL,
            ],
        }],
        allow: POST_ALLOW,
    },
    Route {
        path: "/v1/admin/alerts/{alert_key}/resolve",
        operations: &[Operation {
            method: "POST",
            operation_id: "resolveAlert",
            auth: Auth::Admin,
            tag: "admin",
            summary: "Resolve an alert.",
            description: "Marks the alert resolved: a [RESOLVED] chat message (CRITICAL, WARNING) and, for CRITICAL with a pager configured, a PagerDuty `resolve` event with the same dedup_key, through the outbox. The next raise of the key is sent again. Resolving a resolved alert sends nothing (outcome already_resolved).",
            params: &[ALERT_KEY],
            links: &[],
            request: None,
            responses: &[
                Answer {
                    status: 200,
                    description: "Resolved, or already resolved.",
                    body: Some(Body {
                        media_type: "application/json",
                        schema: Schema::Object {
                            required: &["outcome", "alert_key"],
                            description: "",
                        },
                    }),
                    headers: &[],
                    codes: &[],
                },
                UNAUTHORIZED,
                error(404, "No alert was raised under this key.", &["alert_not_found"]),
                WRONG_METHOD,
                RATE_LIMITED,
                INTERNAL,
            ],
        }],
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
    use crate::error::EdgeError;

    /// One error of every kind, and every engine code, to read its code and status.
    fn every_error() -> Vec<EdgeError> {
        let mut all: Vec<EdgeError> = pve_api::ErrorCode::ALL
            .iter()
            .map(|&c| EdgeError::Api(pve_api::ApiError::new(c, "")))
            .collect();
        all.extend(crate::error::tests::every_kind());
        all
    }

    #[test]
    fn every_documented_code_is_answered_with_the_documented_status() {
        let errors = every_error();
        // The samples cover every code the edge declares (a new variant must be added above).
        for code in crate::error::CODES {
            assert!(
                errors.iter().any(|e| e.code() == *code),
                "no sample error for {code}"
            );
        }
        for route in ROUTES {
            for op in route.operations {
                for answer in op.responses {
                    for code in answer.codes {
                        let statuses: Vec<u16> = errors
                            .iter()
                            .filter(|e| e.code() == *code)
                            .map(EdgeError::status)
                            .collect();
                        assert!(!statuses.is_empty(), "{}: unknown code {code}", op.operation_id);
                        assert!(
                            statuses.contains(&answer.status),
                            "{} {}: {code} is sent with {statuses:?}",
                            op.operation_id,
                            answer.status
                        );
                    }
                    let error_body = answer.body.is_some_and(|b| b.schema == Schema::Error);
                    if error_body {
                        assert!(
                            !answer.codes.is_empty(),
                            "{} {}: no codes",
                            op.operation_id,
                            answer.status
                        );
                    }
                }
                let statuses: Vec<u16> = op.responses.iter().map(|a| a.status).collect();
                assert!(
                    statuses.contains(&405),
                    "{}: 405 is not documented",
                    op.operation_id
                );
            }
        }
    }

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
