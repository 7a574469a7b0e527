//! L1: this isolate's memory. A least-recently-used map bounded in entries and in bytes, whose slots
//! expire after a TTL (capped by the entry's own `stale_until`). Values are `Rc<Entry>`: a hit copies
//! nothing.
use super::Entry;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

#[derive(Debug)]
pub struct L1 {
    max_entries: usize,
    max_bytes: usize,
    slots: HashMap<String, Slot>,
    /// Use order: the smallest tick is the least recently used key.
    order: BTreeMap<u64, String>,
    tick: u64,
    bytes: usize,
}

#[derive(Debug)]
struct Slot {
    entry: Rc<Entry>,
    expires_at: u64,
    tick: u64,
    size: usize,
}

impl L1 {
    pub fn new(max_entries: usize, max_bytes: usize) -> L1 {
        L1 {
            max_entries,
            max_bytes,
            slots: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            bytes: 0,
        }
    }

    /// The entry under `key` unless its slot expired (an expired slot is dropped).
    pub fn get(&mut self, key: &str, now: u64) -> Option<Rc<Entry>> {
        let expired = self.slots.get(key)?.expires_at <= now;
        if expired {
            self.remove(key);
            return None;
        }
        self.tick += 1;
        let tick = self.tick;
        let slot = self.slots.get_mut(key)?;
        self.order.remove(&slot.tick);
        slot.tick = tick;
        self.order.insert(tick, key.to_owned());
        Some(slot.entry.clone())
    }

    /// Keep `entry` until `now + ttl_ms` (or its `stale_until`, if sooner), evicting the least recently
    /// used entries to stay within bounds. An entry larger than a quarter of the byte budget is not kept.
    pub fn put(&mut self, key: &str, entry: Rc<Entry>, now: u64, ttl_ms: u64) {
        self.remove(key);
        let size = key.len() + entry.body.len() + 128;
        let expires_at = now.saturating_add(ttl_ms).min(entry.meta.stale_until);
        if self.max_entries == 0 || size > self.max_bytes / 4 || expires_at <= now {
            return;
        }
        while self.slots.len() >= self.max_entries || self.bytes + size > self.max_bytes {
            let Some((_, lru)) = self.order.pop_first() else {
                break;
            };
            if let Some(slot) = self.slots.remove(&lru) {
                self.bytes -= slot.size;
            }
        }
        self.tick += 1;
        self.order.insert(self.tick, key.to_owned());
        self.slots.insert(
            key.to_owned(),
            Slot {
                entry,
                expires_at,
                tick: self.tick,
                size,
            },
        );
        self.bytes += size;
    }

    pub fn remove(&mut self, key: &str) {
        if let Some(slot) = self.slots.remove(key) {
            self.order.remove(&slot.tick);
            self.bytes -= slot.size;
        }
    }

    /// Remove every entry whose key starts with `prefix`; returns how many were removed.
    pub fn remove_prefix(&mut self, prefix: &str) -> usize {
        let keys: Vec<String> = self
            .slots
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        for key in &keys {
            self.remove(key);
        }
        keys.len()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.len()
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{Kind, Meta};

    fn entry(body_len: usize, stale_until: u64) -> Rc<Entry> {
        Rc::new(Entry {
            meta: Meta::new(Kind::Found, 0, stale_until, stale_until, "h".into()),
            body: vec![b'x'; body_len],
        })
    }

    #[test]
    fn hit_then_expiry_after_ttl() {
        let mut l1 = L1::new(10, 1 << 20);
        l1.put("a", entry(10, 1_000_000), 0, 100);
        assert!(l1.get("a", 99).is_some());
        assert!(l1.get("a", 100).is_none());
        assert_eq!(l1.len(), 0);
        assert_eq!(l1.bytes(), 0);
    }

    #[test]
    fn ttl_is_capped_by_stale_until() {
        let mut l1 = L1::new(10, 1 << 20);
        l1.put("a", entry(10, 50), 0, 100);
        assert!(l1.get("a", 49).is_some());
        assert!(l1.get("a", 50).is_none());
    }

    #[test]
    fn evicts_least_recently_used_by_count() {
        let mut l1 = L1::new(2, 1 << 20);
        l1.put("a", entry(1, u64::MAX), 0, 1000);
        l1.put("b", entry(1, u64::MAX), 0, 1000);
        assert!(l1.get("a", 1).is_some()); // b is now the least recently used
        l1.put("c", entry(1, u64::MAX), 1, 1000);
        assert!(l1.get("b", 2).is_none());
        assert!(l1.get("a", 2).is_some());
        assert!(l1.get("c", 2).is_some());
    }

    #[test]
    fn evicts_to_stay_within_bytes_and_refuses_huge_entries() {
        let mut l1 = L1::new(100, 4 * 1000);
        for k in ["a", "b", "c", "d", "e"] {
            l1.put(k, entry(800, u64::MAX), 0, 1000);
            assert!(l1.bytes() <= 4000, "{}", l1.bytes());
        }
        assert!(l1.get("a", 1).is_none());
        assert!(l1.get("e", 1).is_some());
        l1.put("huge", entry(2000, u64::MAX), 0, 1000);
        assert!(l1.get("huge", 1).is_none());
    }

    #[test]
    fn remove_prefix_removes_only_those_keys_and_their_bytes() {
        let mut l1 = L1::new(10, 1 << 20);
        for k in [
            "v1:valuation:abc:1",
            "v1:valuation:abc:2",
            "v1:valuation:abd:1",
            "v1:ocid:x",
        ] {
            l1.put(k, entry(10, u64::MAX), 0, 1000);
        }
        let before = l1.bytes();
        assert_eq!(l1.remove_prefix("v1:valuation:abc:"), 2);
        assert_eq!(l1.len(), 2);
        assert!(l1.get("v1:valuation:abd:1", 1).is_some());
        assert!(l1.get("v1:valuation:abc:1", 1).is_none());
        assert!(l1.bytes() < before);
        assert_eq!(l1.remove_prefix("nothing"), 0);
    }

    #[test]
    fn replacing_a_key_keeps_the_byte_count_exact() {
        let mut l1 = L1::new(10, 1 << 20);
        l1.put("a", entry(100, u64::MAX), 0, 1000);
        let one = l1.bytes();
        l1.put("a", entry(100, u64::MAX), 0, 1000);
        assert_eq!(l1.bytes(), one);
        assert_eq!(l1.len(), 1);
    }
}
