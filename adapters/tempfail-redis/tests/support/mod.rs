//! What the integration tests share: one private server per test binary and
//! a fresh queue name per check.

#![allow(dead_code)]

pub mod server;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use server::RedisServer;
use tempfail_redis::RedisQueue;

/// The binary's server (`--save '' --appendonly no`), or `None` when skipped.
pub fn server() -> Option<&'static RedisServer> {
    static SERVER: OnceLock<Option<RedisServer>> = OnceLock::new();
    SERVER.get_or_init(RedisServer::start).as_ref()
}

/// A name no other check of this binary uses.
pub fn fresh_name(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{what}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// A fresh empty queue on the binary's server.
pub async fn fresh_queue(url: &str, what: &str) -> RedisQueue {
    match RedisQueue::connect(url, &fresh_name(what)).await {
        Ok(q) => q,
        Err(e) => panic!("opening a queue on {url}: {e}"),
    }
}
