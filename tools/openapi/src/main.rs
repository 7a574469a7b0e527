//! `pve-openapi`: prints the OpenAPI 3.1 document of the HTTP API, assembled from the code: the route
//! table of pve-edge (`pve_edge::routes`: paths, methods, auth, parameters, bodies, every answer and its
//! error codes, links), the JSON Schemas schemars derives from pve-api's request/response types
//! (`pve_api::schema::components`), and the error codes (`pve_edge::error::CODES` and
//! `pve_api::ErrorCode::ALL`). Nothing in the output is written by hand; `worker/src/openapi.json` is
//! this program's output, and `scripts/test.sh` fails when the two differ by one byte.
//!
//! `cargo run -q -p pve-openapi > worker/src/openapi.json`
//!
//! It refuses (exit 1, with the reason) a table that names a schema, header, error code or link target
//! that does not exist.
use pve_edge::routes::{self, Answer, Auth, Body, Location, Operation, Param, ParamSchema, Schema, ROUTES};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::process::ExitCode;

fn main() -> ExitCode {
    match document() {
        Ok(doc) => {
            let mut text = serde_json::to_string_pretty(&doc).expect("a JSON value serializes");
            text.push('\n');
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("pve-openapi: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Every error code the API can send: the engine's, then the edge's own.
fn error_codes() -> Vec<&'static str> {
    let mut codes: Vec<&str> = pve_api::ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    for code in pve_edge::error::CODES {
        if !codes.contains(code) {
            codes.push(code);
        }
    }
    codes
}

fn document() -> Result<Value, String> {
    let mut schemas = pve_api::schema::components();
    let codes = error_codes();
    for (name, schema) in [
        (
            "ErrorCode",
            json!({"type": "string", "enum": codes, "description": "Stable, machine-readable error codes."}),
        ),
        (
            "Error",
            json!({
                "type": "object",
                "required": ["error"],
                "properties": {"error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"$ref": "#/components/schemas/ErrorCode"},
                        "message": {"type": "string", "description": "For humans; may change."},
                        "request_id": {"type": "string"}
                    }
                }}
            }),
        ),
    ] {
        if schemas.insert(name.to_owned(), schema).is_some() {
            return Err(format!(
                "pve-api has a type named {name}, which the document reserves"
            ));
        }
    }
    let ids: BTreeSet<&str> = ROUTES
        .iter()
        .flat_map(|r| r.operations.iter().map(|o| o.operation_id))
        .collect();
    let mut paths = Map::new();
    for route in ROUTES {
        let mut item = Map::new();
        for op in route.operations {
            let check = Check {
                op,
                schemas: &schemas,
                codes: &codes,
            };
            item.insert(op.method.to_ascii_lowercase(), operation(&check, &ids)?);
        }
        paths.insert(route.path.to_owned(), Value::Object(item));
    }
    let headers: Map<String, Value> = routes::HEADERS
        .iter()
        .map(|&(name, integer, description)| {
            let ty = if integer { "integer" } else { "string" };
            (
                name.to_owned(),
                json!({"description": description, "schema": {"type": ty}}),
            )
        })
        .collect();
    Ok(json!({
        "openapi": "3.1.0",
        "info": {
            "title": routes::TITLE,
            "version": pve_api::ENGINE_VERSION,
            "description": routes::DESCRIPTION,
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "headers": headers,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "ADMIN_TOKEN (or METRICS_SCRAPE_TOKEN for /metrics)."},
                "watchToken": {"type": "http", "scheme": "bearer", "description": "The token returned when the watch was created (or the X-Watch-Token header)."},
                "watchTokenHeader": {"type": "apiKey", "in": "header", "name": "X-Watch-Token", "description": "The token returned when the watch was created (or Authorization: Bearer <token>)."}
            }
        }
    }))
}

/// What an operation's parts are checked against.
struct Check<'a> {
    op: &'a Operation,
    schemas: &'a Map<String, Value>,
    codes: &'a [&'static str],
}

impl Check<'_> {
    fn fail(&self, what: String) -> String {
        format!("{} {}: {what}", self.op.method, self.op.operation_id)
    }
}

fn operation(c: &Check, ids: &BTreeSet<&str>) -> Result<Value, String> {
    let op = c.op;
    let mut out = Map::new();
    out.insert("operationId".into(), json!(op.operation_id));
    out.insert("summary".into(), json!(op.summary));
    if !op.description.is_empty() {
        out.insert("description".into(), json!(op.description));
    }
    out.insert("tags".into(), json!([op.tag]));
    match op.auth {
        Auth::Public => {}
        Auth::Admin => {
            out.insert("security".into(), json!([{"bearer": []}]));
        }
        Auth::WatchToken => {
            // Either scheme: the header (which the creation's links fill in) or the bearer token.
            out.insert(
                "security".into(),
                json!([{"watchTokenHeader": []}, {"watchToken": []}]),
            );
        }
    }
    if !op.params.is_empty() {
        let params: Vec<Value> = op.params.iter().map(param).collect();
        out.insert("parameters".into(), Value::Array(params));
    }
    if let Some(body) = &op.request {
        out.insert(
            "requestBody".into(),
            json!({"required": true, "content": content(c, body)?}),
        );
    }
    let mut responses = Map::new();
    for answer in op.responses {
        let key = answer.status.to_string();
        if responses.insert(key, response(c, answer, ids)?).is_some() {
            return Err(c.fail(format!("status {} is listed twice", answer.status)));
        }
    }
    out.insert("responses".into(), Value::Object(responses));
    Ok(Value::Object(out))
}

fn param(p: &Param) -> Value {
    let location = match p.location {
        Location::Path => "path",
        Location::Query => "query",
        Location::Header => "header",
    };
    let mut out =
        json!({"name": p.name, "in": location, "required": p.required, "schema": param_schema(&p.schema)});
    if !p.description.is_empty() {
        out["description"] = json!(p.description);
    }
    out
}

fn param_schema(s: &ParamSchema) -> Value {
    match *s {
        ParamSchema::Text {
            min_length,
            max_length,
            pattern,
        } => {
            let mut out = json!({"type": "string", "minLength": min_length});
            if let Some(max) = max_length {
                out["maxLength"] = json!(max);
            }
            if let Some(p) = pattern {
                out["pattern"] = json!(p);
            }
            out
        }
        ParamSchema::OneOf(values) => json!({"type": "string", "enum": values}),
        ParamSchema::Integer { minimum, maximum } => {
            json!({"type": "integer", "minimum": minimum, "maximum": maximum})
        }
        ParamSchema::VisibleAscii { max_length } => {
            json!({"type": "string", "pattern": format!("^[!-~]{{1,{max_length}}}$")})
        }
        ParamSchema::CharacterName {
            min_weight,
            max_weight,
        } => character_name_schema(min_weight, max_weight),
        ParamSchema::WebhookUrl => json!({
            "type": "string", "minLength": 1, "maxLength": pve_edge::webhook::MAX_URL_LEN,
            "pattern": pve_edge::webhook::URL_PATTERN,
            "not": {"pattern": pve_edge::webhook::URL_NOT_PATTERN},
        }),
    }
}

const HANGUL: &str = "[가-힣]";
const LATIN: &str = "[A-Za-z0-9]";

/// The strings of Hangul syllables (weight 2) and Latin letters or digits (weight 1) whose total weight
/// is within `min..=max`, as JSON Schema: one branch per number `k` of syllables, a pattern placing `k`
/// syllables among any Latin characters and a length (in characters, as JSON Schema counts them) that
/// makes the weight, `length + k`, fit. (A single regular expression for the rule is a choice tree over
/// the next character, ~7.5 KB: schemathesis' generator took 180 ms per case on it, and its "too slow"
/// health check failed the fuzzing phase.)
fn character_name_schema(min: u32, max: u32) -> Value {
    let branches: Vec<Value> = (0..=max / 2)
        .map(|k| {
            let pattern = if k == 0 {
                format!("^{LATIN}*$")
            } else {
                format!("^{LATIN}*(?:{HANGUL}{LATIN}*){{{k}}}$")
            };
            json!({"pattern": pattern, "minLength": min.saturating_sub(k).max(k).max(1), "maxLength": max - k})
        })
        .collect();
    json!({"type": "string", "anyOf": branches})
}

fn content(c: &Check, body: &Body) -> Result<Value, String> {
    let schema = match body.schema {
        Schema::Api(name) => {
            if !c.schemas.contains_key(name) {
                return Err(c.fail(format!("no pve-api schema named {name}")));
            }
            json!({"$ref": format!("#/components/schemas/{name}")})
        }
        Schema::Error => json!({"$ref": "#/components/schemas/Error"}),
        Schema::Text => json!({"type": "string"}),
        Schema::Object {
            required,
            description,
        } => {
            let mut out = json!({"type": "object", "required": required});
            if !description.is_empty() {
                out["description"] = json!(description);
            }
            out
        }
        Schema::Fields { fields, closed } => {
            let mut properties = Map::new();
            for f in fields {
                let mut schema = param_schema(&f.schema);
                if !f.description.is_empty() {
                    schema["description"] = json!(f.description);
                }
                properties.insert(f.name.into(), schema);
            }
            let required: Vec<&str> = fields.iter().filter(|f| f.required).map(|f| f.name).collect();
            json!({"type": "object", "properties": properties, "required": required, "additionalProperties": !closed})
        }
    };
    Ok(json!({ body.media_type: {"schema": schema} }))
}

fn response(c: &Check, a: &Answer, ids: &BTreeSet<&str>) -> Result<Value, String> {
    let mut description = a.description.to_owned();
    if !a.codes.is_empty() {
        description.push_str(&format!(" Codes: {}.", a.codes.join(", ")));
    }
    let mut out = json!({ "description": description });
    if !a.headers.is_empty() {
        let mut headers = Map::new();
        for &h in a.headers {
            if !routes::HEADERS.iter().any(|&(name, ..)| name == h) {
                return Err(c.fail(format!("header {h} is not in routes::HEADERS")));
            }
            headers.insert(h.into(), json!({"$ref": format!("#/components/headers/{h}")}));
        }
        out["headers"] = Value::Object(headers);
    }
    if let Some(body) = &a.body {
        out["content"] = content(c, body)?;
    }
    if !a.codes.is_empty() {
        if let Some(code) = a.codes.iter().find(|code| !c.codes.contains(code)) {
            return Err(c.fail(format!("{}: unknown error code {code}", a.status)));
        }
        out["x-error-codes"] = json!(a.codes);
    }
    if (200..300).contains(&a.status) && !c.op.links.is_empty() {
        let mut links = Map::new();
        for link in c.op.links {
            let target = ROUTES
                .iter()
                .flat_map(|r| r.operations.iter())
                .find(|o| o.operation_id == link.operation_id)
                .filter(|_| ids.contains(link.operation_id))
                .ok_or_else(|| c.fail(format!("link to unknown operation {}", link.operation_id)))?;
            for (name, _) in link.parameters {
                let declared = target.params.iter().any(|p| {
                    let location = match p.location {
                        Location::Path => "path",
                        Location::Query => "query",
                        Location::Header => "header",
                    };
                    *name == format!("{location}.{}", p.name)
                });
                if !declared {
                    return Err(c.fail(format!(
                        "link {}: {} has no parameter {name}",
                        link.name, target.operation_id
                    )));
                }
            }
            let parameters: Map<String, Value> = link
                .parameters
                .iter()
                .map(|&(name, expr)| (name.to_owned(), json!(expr)))
                .collect();
            links.insert(
                link.name.into(),
                json!({"operationId": link.operation_id, "parameters": parameters}),
            );
        }
        out["links"] = Value::Object(links);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The character name schema's branches: each pattern compiled by the `regex` crate (an independent
    /// engine), with its length bounds.
    fn branches(schema: &Value) -> Vec<(regex::Regex, u64, u64)> {
        let field = |b: &Value, k: &str| b[k].as_u64().unwrap();
        schema["anyOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                let re = regex::Regex::new(b["pattern"].as_str().unwrap()).unwrap();
                (re, field(b, "minLength"), field(b, "maxLength"))
            })
            .collect()
    }

    #[test]
    fn the_name_schema_is_the_name_rule() {
        let (min, max) = (
            pve_edge::validate::MIN_NAME_WEIGHT as u32,
            pve_edge::validate::MAX_NAME_WEIGHT as u32,
        );
        let branches = branches(&character_name_schema(min, max));
        let admits = |s: &str| {
            let len = s.chars().count() as u64;
            branches
                .iter()
                .any(|(re, lo, hi)| re.is_match(s) && *lo <= len && len <= *hi)
        };
        // Every string of Latin letters and syllables up to one character past the longest name, and
        // each with a character the rule refuses put in.
        let mut names = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..=max {
            last = last
                .iter()
                .flat_map(|s| [format!("{s}a"), format!("{s}가")])
                .collect();
            names.extend(last.iter().cloned());
        }
        let (mut admitted, mut refused) = (0, 0);
        for name in names.iter().cloned().chain(
            names
                .iter()
                .take(2000)
                .flat_map(|s| [format!("{s} "), format!("-{s}"), format!("{s}ㄱ")]),
        ) {
            let rule = pve_edge::validate::character_name(&name).is_ok();
            assert_eq!(admits(&name), rule, "{name:?}");
            if rule {
                admitted += 1
            } else {
                refused += 1
            }
        }
        // 607 strings of weight 2 to 12 exist over these two characters.
        assert!(
            admitted == 607 && refused > 1000,
            "{admitted} admitted, {refused} refused"
        );
    }

    #[test]
    fn the_document_assembles_and_declares_every_route() {
        let doc = document().expect("the route table is consistent");
        for route in ROUTES {
            for op in route.operations {
                let documented = &doc["paths"][route.path][op.method.to_ascii_lowercase()];
                assert_eq!(documented["operationId"], op.operation_id);
            }
        }
    }
}
