//! Prints the JSON Schemas (draft 2020-12) of every request and response type of pve-api, derived with
//! `schemars` from the Rust types, as one JSON object `{"$defs": {TypeName: schema}}` whose references
//! point at `#/components/schemas/` (ready to become the OpenAPI document's components).
//!
//! `cargo run -q -p pve-api --features schema --example schemas`

use pve_api::{flame, potential, starforce, valuation};
use schemars::generate::SchemaSettings;

fn main() {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    // The top-level types, one request and one response per engine operation; every type they use is
    // collected into the definitions.
    for schema in [
        generator.subschema_for::<starforce::StarforceRequest>(),
        generator.subschema_for::<starforce::StarforceResponse>(),
        generator.subschema_for::<potential::PotentialRequest>(),
        generator.subschema_for::<potential::PotentialResponse>(),
        generator.subschema_for::<flame::FlameRequest>(),
        generator.subschema_for::<flame::FlameResponse>(),
        generator.subschema_for::<valuation::OptionsDto>(),
        generator.subschema_for::<valuation::ValuationResponse>(),
    ] {
        assert!(
            schema.get("$ref").is_some(),
            "a top-level type is not a named definition"
        );
    }
    let defs = generator.take_definitions(true);
    let doc = serde_json::json!({ "$defs": defs });
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).expect("schemas serialize")
    );
}
