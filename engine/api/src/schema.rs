//! The JSON Schemas (draft 2020-12) of every request and response type, derived with `schemars` from the
//! Rust types (feature `schema`). References point at `#/components/schemas/<Name>`, so the map is the
//! OpenAPI document's `components.schemas` as is (`tools/openapi`) and the input of the TypeScript types
//! (`scripts/gen-types.mjs`, through `examples/schemas.rs`).
//!
//! Requests are described by what the parser accepts (schemars' deserialize contract: a field with a
//! serde default is optional), responses by what the printer writes (the serialize contract: a field
//! with `skip_serializing_if` may be absent, so it is not required). A type used both ways whose two
//! schemas differ gets the suffix `Out` on its response side, so a name means one schema.
use crate::{flame, potential, starforce, valuation};
use schemars::generate::{Contract, SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value};

const PREFIX: &str = "#/components/schemas/";

fn generator(contract: Contract) -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.contract = contract;
    settings.into_generator()
}

/// Every schema definition by name: the top-level types (one request and one response per engine
/// operation, and the valuation's full request body) and every type they use.
///
/// # Panics
/// If a top-level type is not a named definition (a derive that inlines it), or a response-side name
/// collides with a different request-side one after renaming: build defects.
pub fn components() -> Map<String, Value> {
    let mut requests = generator(Contract::Deserialize);
    let mut responses = generator(Contract::Serialize);
    for schema in [
        requests.subschema_for::<starforce::StarforceRequest>(),
        requests.subschema_for::<potential::PotentialRequest>(),
        requests.subschema_for::<flame::FlameRequest>(),
        requests.subschema_for::<valuation::ValuationBody>(),
        responses.subschema_for::<starforce::StarforceResponse>(),
        responses.subschema_for::<potential::PotentialResponse>(),
        responses.subschema_for::<flame::FlameResponse>(),
        responses.subschema_for::<valuation::ValuationResponse>(),
    ] {
        assert!(
            schema.get("$ref").is_some(),
            "a top-level type is not a named definition"
        );
    }
    let mut all = requests.take_definitions(true);
    all.values_mut().for_each(integer_bounds);
    let responses = responses.take_definitions(true);
    // The response-side names whose request-side schema is another one.
    let renamed: Vec<String> = responses
        .iter()
        .filter(|(name, schema)| all.get(*name).is_some_and(|other| other != *schema))
        .map(|(name, _)| name.clone())
        .collect();
    for (name, mut schema) in responses {
        rename_refs(&mut schema, &renamed);
        let name = if renamed.contains(&name) {
            format!("{name}Out")
        } else {
            name
        };
        if let Some(other) = all.get(&name) {
            assert_eq!(other, &schema, "two different schemas are named {name}");
        }
        all.insert(name, schema);
    }
    all
}

/// Gives every integer schema of a request the range of its Rust type (schemars writes `format: uint32`
/// and `minimum: 0` but no maximum), so a value the type cannot hold is outside the document too: a
/// generator that honours only the document's bounds sent 3912192916768 for a `u32` (schemathesis).
fn integer_bounds(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let range = match map.get("format").and_then(Value::as_str) {
                Some("uint8") => Some((0.0, f64::from(u8::MAX))),
                Some("uint16") => Some((0.0, f64::from(u16::MAX))),
                Some("uint32") => Some((0.0, f64::from(u32::MAX))),
                Some("int32") => Some((f64::from(i32::MIN), f64::from(i32::MAX))),
                _ => None,
            };
            if let Some((min, max)) = range {
                map.entry("minimum").or_insert(Value::from(min as i64));
                map.entry("maximum").or_insert(Value::from(max as i64));
            }
            map.values_mut().for_each(integer_bounds);
        }
        Value::Array(items) => items.iter_mut().for_each(integer_bounds),
        _ => {}
    }
}

/// Points every reference to a name in `renamed` at its `Out` twin.
fn rename_refs(schema: &mut Value, renamed: &[String]) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(target) if key == "$ref" => {
                        if let Some(name) = target.strip_prefix(PREFIX) {
                            if renamed.iter().any(|r| r == name) {
                                *target = format!("{PREFIX}{name}Out");
                            }
                        }
                    }
                    _ => rename_refs(value, renamed),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, renamed)),
        _ => {}
    }
}
