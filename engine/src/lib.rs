//! # pve-engine
//!
//! The pure core of the probabilistic valuation engine. It computes exact expected costs, spreads and
//! distributions for star force enhancement, potential resets (cubes) and bonus stats (flames).
//!
//! Architecture invariant: this crate does no I/O. It knows nothing about HTTP, JSON, JavaScript, clocks
//! or global randomness. Inputs are plain validated Rust values, outputs are plain Rust values, and every
//! impossible or unknown case is an explicit variant, never a silent zero. The same source therefore gives
//! the same bits in the CLI, in the Cloudflare Worker and in the browser: transcendental functions come from
//! `libm` (not the platform's), and no result depends on hash-map iteration order.

pub mod flame;
pub mod message;
pub mod potential;
pub mod starforce;
pub mod valuation;

/// Version of the engine's numerical semantics; it is part of every response and of every cache key.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");
