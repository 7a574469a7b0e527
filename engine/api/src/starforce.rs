//! `starforce` request/response schema.
use crate::{parse_request, ApiError, ErrorCode};
use pve_engine::starforce as sf;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StarforceRequest {
    pub item_level: u32,
    pub from_star: u32,
    pub to_star: u32,
}

#[derive(Debug, Serialize)]
pub struct StarforceResponse {
    pub engine_version: &'static str,
    pub mean_cost: f64,
}

impl From<sf::Error> for ApiError {
    fn from(e: sf::Error) -> Self {
        let code = match e {
            sf::Error::FromAboveTo { .. } => ErrorCode::InvalidCombination,
            _ => ErrorCode::OutOfRange,
        };
        ApiError::new(code, e.to_string())
    }
}

pub fn handle(json: &str) -> Result<StarforceResponse, ApiError> {
    let req: StarforceRequest = parse_request(json)?;
    let out = sf::compute(&sf::Request {
        item_level: req.item_level,
        from_star: req.from_star,
        to_star: req.to_star,
    })?;
    Ok(StarforceResponse {
        engine_version: crate::ENGINE_VERSION,
        mean_cost: out.mean_cost,
    })
}
