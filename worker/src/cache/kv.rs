//! L2: cache entries in Workers KV, value + [`Meta`] as its metadata. What counts as an entry and its
//! TTL are [`Entry::from_kv`] and [`Entry::kv_ttl_s`].
use crate::bindings::CACHE_KV;
use crate::error::{EdgeError, Platform};
use pve_edge::cache::{Entry, Meta};
use worker::Env;

/// Read an entry from KV. A missing value, missing metadata or another format version is a miss.
pub async fn read(env: &Env, key: &str) -> Result<Option<Entry>, EdgeError> {
    let kv = env.kv(CACHE_KV).platform()?;
    let (body, meta) = kv.get(key).bytes_with_metadata::<Meta>().await.platform()?;
    Ok(Entry::from_kv(body, meta))
}

/// Write an entry to KV; it expires from KV at `stale_until` (at least KV's minimum TTL).
pub async fn write(env: &Env, key: &str, entry: &Entry, now: u64) -> Result<(), EdgeError> {
    let kv = env.kv(CACHE_KV).platform()?;
    kv.put_bytes(key, &entry.body)
        .platform()?
        .metadata(&entry.meta)
        .platform()?
        .expiration_ttl(entry.kv_ttl_s(now))
        .execute()
        .await
        .platform()?;
    Ok(())
}
