//! Prints the JSON Schemas (draft 2020-12) of every request and response type of pve-api, derived with
//! `schemars` from the Rust types, as one JSON object `{"$defs": {TypeName: schema}}` whose references
//! point at `#/components/schemas/` (the OpenAPI document's components; see `pve_api::schema`).
//!
//! `cargo run -q -p pve-api --features schema --example schemas`

fn main() {
    let doc = serde_json::json!({ "$defs": pve_api::schema::components() });
    println!(
        "{}",
        serde_json::to_string_pretty(&doc).expect("schemas serialize")
    );
}
