//! This isolate's L1: one [`pve_edge::cache::l1::L1`] (the LRU with time as an argument) in a
//! thread-local, sized by the config on first use.
use crate::config::Config;
use pve_edge::cache::l1::L1;
use pve_edge::cache::Entry;
use std::cell::RefCell;
use std::rc::Rc;

thread_local! {
    static L1_CACHE: RefCell<Option<L1>> = const { RefCell::new(None) };
}

fn with<T>(cfg: &Config, f: impl FnOnce(&mut L1) -> T) -> T {
    L1_CACHE.with(|cell| {
        let mut slot = cell.borrow_mut();
        f(slot.get_or_insert_with(|| L1::new(cfg.l1_max_entries, cfg.l1_max_bytes)))
    })
}

pub fn get(cfg: &Config, key: &str, now: u64) -> Option<Rc<Entry>> {
    with(cfg, |l1| l1.get(key, now))
}

pub fn put(cfg: &Config, key: &str, entry: Rc<Entry>, now: u64) {
    with(cfg, |l1| l1.put(key, entry, now, cfg.l1_ttl_ms));
}

pub fn remove(cfg: &Config, key: &str) {
    with(cfg, |l1| l1.remove(key));
}

/// Drop every L1 entry whose key starts with `prefix`; returns how many.
pub fn remove_prefix(cfg: &Config, prefix: &str) -> usize {
    with(cfg, |l1| l1.remove_prefix(prefix))
}
