//! The JSON form of the engine's structured messages: `{"code": …, "params": {…}, "message": …}`, the
//! params an object in catalogue order (numbers as numbers, names as strings).

use pve_engine::message::{Message, Param};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// A note, warning or reason as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MessageOut {
    pub code: &'static str,
    pub params: Params,
    pub message: String,
}

/// Named parameters, serialized as a JSON object in the catalogue's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Params(pub Vec<(&'static str, Param)>);

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            match v {
                Param::Int(i) => m.serialize_entry(k, i)?,
                Param::Num(x) => m.serialize_entry(k, x)?,
                Param::Text(t) => m.serialize_entry(k, t)?,
            }
        }
        m.end()
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Params {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MessageParams".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "object", "additionalProperties": {"type": ["number", "string"]}})
    }
}

impl From<&Message> for MessageOut {
    fn from(m: &Message) -> Self {
        MessageOut {
            code: m.code,
            params: Params(m.params.clone()),
            message: m.message.clone(),
        }
    }
}

/// Convert a list of engine messages.
pub fn messages_out(ms: &[Message]) -> Vec<MessageOut> {
    ms.iter().map(MessageOut::from).collect()
}
