//! HTTP handlers: free `async fn`s, one module per area.
pub mod engine;
pub mod health;
pub mod metrics;
