//! The JSON Schemas (draft 2020-12) of every request and response type, derived with `schemars` from the
//! Rust types (feature `schema`). References point at `#/components/schemas/<Name>`, so the map is the
//! OpenAPI document's `components.schemas` as is (`tools/openapi`) and the input of the TypeScript types
//! (`scripts/gen-types.mjs`, through `examples/schemas.rs`).
use crate::{flame, potential, starforce, valuation};
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

/// Every schema definition by name: the top-level types (one request and one response per engine
/// operation, and the valuation's full request body) and every type they use.
///
/// # Panics
/// If a top-level type is not a named definition (a derive that inlines it): a build defect.
pub fn components() -> Map<String, Value> {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    for schema in [
        generator.subschema_for::<starforce::StarforceRequest>(),
        generator.subschema_for::<starforce::StarforceResponse>(),
        generator.subschema_for::<potential::PotentialRequest>(),
        generator.subschema_for::<potential::PotentialResponse>(),
        generator.subschema_for::<flame::FlameRequest>(),
        generator.subschema_for::<flame::FlameResponse>(),
        generator.subschema_for::<valuation::ValuationBody>(),
        generator.subschema_for::<valuation::ValuationResponse>(),
    ] {
        assert!(
            schema.get("$ref").is_some(),
            "a top-level type is not a named definition"
        );
    }
    generator.take_definitions(true)
}
