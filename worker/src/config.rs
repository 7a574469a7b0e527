//! The isolate's [`Config`], parsed by [`pve_edge::config`] on first use and kept: vars cannot change
//! while an isolate lives.
use crate::error::EdgeError;
pub use pve_edge::config::Config;
use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;

thread_local! {
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

/// The isolate's configuration. A var that is set but unusable is [`EdgeError::Config`] (and is parsed
/// again on the next call, so the log line of every request names it).
pub fn get(env: &Env) -> Result<Rc<Config>, EdgeError> {
    if let Some(cfg) = CONFIG.with(|c| c.borrow().clone()) {
        return Ok(cfg);
    }
    let cfg = Rc::new(Config::parse(&crate::vars::source(env))?);
    CONFIG.with(|c| *c.borrow_mut() = Some(cfg.clone()));
    Ok(cfg)
}
