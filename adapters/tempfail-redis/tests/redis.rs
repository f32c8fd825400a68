//! What is particular to the Redis queue: bad inputs and stores (schema
//! version, missing storage, unreachable server), the key layout (one hash
//! tag), exact times over the whole `u64` range, big claims and reaps, a
//! claimer dropped mid-lease, and server restarts with and without
//! persistence.
//!
//! Servers: the binary's shared one runs with `--save '' --appendonly no`;
//! the restart tests start their own, saying which settings they use.

mod support;

use std::time::Duration;

use redis::AsyncCommands;
use tempfail::Timestamp;
use tempfail::shared_queue::{EntryState, NewEntry, SharedQueue, SharedQueueError};
use tempfail_redis::{RedisQueue, SCHEMA_VERSION};

use support::server::{Persistence, RedisServer};
use support::{fresh_name, fresh_queue, server};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);
const LEASE: Duration = Duration::from_secs(30);

fn at(ms: u64) -> Timestamp {
    T0.saturating_add(Duration::from_millis(ms))
}

fn rt() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    }
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

fn entry(key: &str, due: Timestamp, priority: u8) -> NewEntry {
    NewEntry::new(key, due, priority, key.as_bytes().to_vec())
}

#[test]
fn a_queue_of_another_schema_version_is_refused() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let name = fresh_name("schema");
        let mut conn = raw(&server.url()).await;
        let meta = format!("tempfail:{{{name}}}:meta");
        let () = conn.hset(&meta, "version", 99).await.unwrap();
        match RedisQueue::open(conn.clone(), &name).await {
            Err(SharedQueueError::SchemaVersion { found, expected }) => {
                assert_eq!((found, expected), (99, SCHEMA_VERSION));
            }
            other => panic!("expected schema_version, got {other:?}"),
        }
        // A queue opened before the version changed refuses every operation.
        let name = fresh_name("schema");
        let q = RedisQueue::open(conn.clone(), &name).await.unwrap();
        q.insert(entry("a", at(0), 0)).await.unwrap();
        let () = conn
            .hset(format!("tempfail:{{{name}}}:meta"), "version", 2)
            .await
            .unwrap();
        assert!(matches!(
            q.claim(at(0), 1, LEASE).await,
            Err(SharedQueueError::SchemaVersion {
                found: 2,
                expected: 1
            })
        ));
        assert!(matches!(
            q.stats(at(0)).await,
            Err(SharedQueueError::SchemaVersion { .. })
        ));
        // A key of the wrong type where the meta hash should be: a store error.
        let name = fresh_name("schema");
        let () = conn
            .set(format!("tempfail:{{{name}}}:meta"), "x")
            .await
            .unwrap();
        assert!(matches!(
            RedisQueue::open(conn.clone(), &name).await,
            Err(SharedQueueError::Backend(_))
        ));
    });
}

#[test]
fn a_queue_whose_keys_were_deleted_says_its_storage_is_missing() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let q = fresh_queue(&server.url(), "missing").await;
        q.insert(entry("a", at(0), 0)).await.unwrap();
        let mut conn = raw(&server.url()).await;
        let () = conn.del(format!("{}meta", q.key_prefix())).await.unwrap();
        for r in [
            q.insert(entry("b", at(0), 0)).await.map(drop),
            q.claim(at(0), 1, LEASE).await.map(drop),
            q.reap(at(0)).await.map(drop),
            q.get("a").await.map(drop),
        ] {
            assert!(
                matches!(r, Err(SharedQueueError::MissingStorage(_))),
                "{r:?}"
            );
        }
    });
}

#[test]
fn an_unreachable_server_is_unavailable() {
    rt().block_on(async {
        // A port nobody listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let r = RedisQueue::connect(&format!("redis://127.0.0.1:{port}/"), "q").await;
        assert!(matches!(r, Err(SharedQueueError::Unavailable(_))), "{r:?}");
        let r = RedisQueue::connect("not a url", "q").await;
        assert!(matches!(r, Err(SharedQueueError::Backend(_))), "{r:?}");
    });
    // A server that goes away under an open queue.
    let Some(mut own) = RedisServer::start() else {
        return;
    };
    rt().block_on(async {
        let q = RedisQueue::connect(&own.url(), "gone").await.unwrap();
        q.insert(entry("a", at(0), 0)).await.unwrap();
        own.kill();
        let r = q.claim(at(0), 1, LEASE).await;
        assert!(matches!(r, Err(SharedQueueError::Unavailable(_))), "{r:?}");
    });
}

#[test]
fn bad_names_items_and_keys_are_refused() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let conn = raw(&server.url()).await;
        for name in ["", "a{b", "a}b", "nul\0", &"n".repeat(201)] {
            assert!(
                matches!(
                    RedisQueue::open(conn.clone(), name).await,
                    Err(SharedQueueError::InvalidArgument(_))
                ),
                "name {name:?}"
            );
        }
        let q = fresh_queue(&server.url(), "bad")
            .await
            .with_max_item_len(10);
        let big = NewEntry::new("big", at(0), 0, vec![0u8; 11]);
        assert_eq!(
            q.insert(big).await,
            Err(SharedQueueError::ItemTooLarge { len: 11, max: 10 })
        );
        assert!(matches!(
            q.insert(entry("", at(0), 0)).await,
            Err(SharedQueueError::InvalidKey(_))
        ));
        q.insert(entry("k", at(0), 0)).await.unwrap();
        assert_eq!(
            q.insert(entry("k", at(0), 0)).await,
            Err(SharedQueueError::DuplicateKey("k".into()))
        );
        let c = q.claim(at(0), 5, LEASE).await.unwrap();
        assert_eq!(
            q.insert(entry("k", at(0), 0)).await,
            Err(SharedQueueError::DuplicateKey("k".into())),
            "a leased entry still holds its key"
        );
        q.complete("k", c[0].token, at(1)).await.unwrap();
        q.insert(entry("k", at(0), 0)).await.unwrap();
        // Binary items and keys with spaces, colons and braces round-trip.
        let odd = "a {weird}:key \u{e9}";
        let item: Vec<u8> = (0..=255u8).collect();
        let q = fresh_queue(&server.url(), "bad").await;
        q.insert(NewEntry::new(odd, at(0), 7, item.clone()))
            .await
            .unwrap();
        let c = q.claim(at(0), 1, LEASE).await.unwrap();
        assert_eq!((c[0].key.as_str(), &c[0].item), (odd, &item));
    });
}

#[test]
fn every_key_of_a_queue_carries_its_hash_tag() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let q = fresh_queue(&server.url(), "layout").await;
        for (i, p) in [0u8, 3, 255].into_iter().enumerate() {
            q.insert(entry(&format!("k{i}"), at(0), p)).await.unwrap();
        }
        let c = q.claim(at(0), 1, LEASE).await.unwrap();
        assert_eq!(c[0].key, "k2");
        let mut conn = raw(&server.url()).await;
        let pattern = format!("*{}*", q.name());
        let keys: Vec<String> = conn.keys(pattern).await.unwrap();
        assert!(keys.len() >= 6, "{keys:?}");
        let tag = format!("{{{}}}", q.name());
        for k in &keys {
            assert!(k.starts_with(&format!("tempfail:{tag}:")), "{k}");
            // The hash tag is the first {...} of the key: the queue's name.
            let open = k.find('{').unwrap();
            let close = k[open..].find('}').unwrap() + open;
            assert_eq!(&k[open..=close], tag, "{k}");
        }
    });
}

#[test]
fn destroy_removes_every_key_of_the_queue_and_only_those() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let q = fresh_queue(&server.url(), "destroy").await;
        let other = fresh_queue(&server.url(), "destroy").await;
        for (i, p) in [0u8, 3, 255, 3].into_iter().enumerate() {
            q.insert(entry(&format!("k{i}"), at(0), p)).await.unwrap();
        }
        other.insert(entry("kept", at(0), 1)).await.unwrap();
        assert_eq!(q.claim(at(0), 2, LEASE).await.unwrap().len(), 2);
        assert_eq!(q.destroy().await.unwrap(), 4);
        let mut conn = raw(&server.url()).await;
        let left: Vec<String> = conn.keys(format!("*{}*", q.name())).await.unwrap();
        assert!(left.is_empty(), "{left:?}");
        assert!(matches!(
            q.get("k0").await,
            Err(SharedQueueError::MissingStorage(_))
        ));
        assert!(matches!(
            q.destroy().await,
            Err(SharedQueueError::MissingStorage(_))
        ));
        assert_eq!(other.get("kept").await.unwrap().unwrap().key, "kept");
        // Opened again, the name is an empty queue.
        let q = RedisQueue::connect(&server.url(), q.name()).await.unwrap();
        assert_eq!(q.stats(at(0)).await.unwrap().len, 0);
    });
}

#[test]
fn due_times_are_exact_over_the_whole_range() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let q = fresh_queue(&server.url(), "exact").await;
        let big = 1u64 << 53;
        let dues = [
            u64::MAX,
            big + 2,
            big + 1,
            big,
            big - 1,
            1_700_000_000_001,
            1_700_000_000_000,
            0,
        ];
        for (i, d) in dues.iter().enumerate() {
            q.insert(entry(&format!("k{i}"), Timestamp::from_millis(*d), 1))
                .await
                .unwrap();
        }
        let info = q.get("k1").await.unwrap().unwrap();
        assert_eq!(info.due, Timestamp::from_millis(big + 2));
        // Above 2^53 ms the scores are clamped, yet the gate and order are exact.
        let c = q
            .claim(Timestamp::from_millis(big + 1), 100, LEASE)
            .await
            .unwrap();
        let keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["k7", "k6", "k5", "k4", "k3", "k2"]);
        assert_eq!(c[5].due, Timestamp::from_millis(big + 1));
        let s = q.stats(Timestamp::from_millis(big + 1)).await.unwrap();
        assert_eq!((s.due_now, s.leased, s.len), (0, 6, 8));
        let c = q.claim(Timestamp::MAX, 100, LEASE).await.unwrap();
        let keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["k1", "k0"]);
        // Leases ending at the end of time: live until then.
        assert_eq!(c[1].lease_expires, Timestamp::MAX);
        // The first six leases ended 30 s after 2^53 + 1 ms; the last two only
        // at the end of time.
        assert_eq!(
            q.reap(Timestamp::from_millis(u64::MAX - 1)).await.unwrap(),
            6
        );
        assert_eq!(q.reap(Timestamp::MAX).await.unwrap(), 2);
        match q.get("k0").await.unwrap().unwrap().state {
            EntryState::Waiting => {}
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn big_claims_and_reaps_run_in_chunks() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let q = fresh_queue(&server.url(), "big").await;
        let n = 2_500u64;
        for i in 0..n {
            q.insert(entry(&format!("m{i:05}"), at(i), 0))
                .await
                .unwrap();
        }
        let c = q.claim(at(n), 10_000, LEASE).await.unwrap();
        assert_eq!(c.len() as u64, n);
        assert!(
            c.windows(2)
                .all(|w| w[0].key < w[1].key && w[0].token < w[1].token)
        );
        let s = q.stats(at(n)).await.unwrap();
        assert_eq!((s.leased, s.due_now), (n, 0));
        // Reaps return at most 1000 per script call; one reap returns all.
        let end = at(n).saturating_add(LEASE);
        assert_eq!(q.reap(end).await.unwrap(), n);
        let s = q.stats(end).await.unwrap();
        assert_eq!((s.leased, s.due_now, s.len), (0, n, n));
        // Completing them all in one batch.
        let c = q.claim(end, 10_000, LEASE).await.unwrap();
        assert!(c.iter().all(|c| c.attempts == 2));
        let done: Vec<(&str, _)> = c.iter().map(|c| (c.key.as_str(), c.token)).collect();
        let r = q.complete_batch(&done, end).await.unwrap();
        assert!(r.iter().all(Result::is_ok));
        assert_eq!(q.stats(end).await.unwrap().len, 0);
    });
}

#[test]
fn a_claimer_dropped_mid_lease_loses_its_entries_to_the_next_worker() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let name = fresh_name("dropped");
        let url = server.url();
        let q = RedisQueue::connect(&url, &name).await.unwrap();
        for i in 0..5 {
            q.insert(entry(&format!("m{i}"), at(0), 0)).await.unwrap();
        }
        // A worker on its own connection claims three, then its task and its
        // connection are dropped without a word to the store.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let worker = tokio::spawn({
            let (url, name) = (url.clone(), name.clone());
            async move {
                let mine = RedisQueue::connect(&url, &name).await.unwrap();
                let c = mine.claim(at(0), 3, LEASE).await.unwrap();
                let _ = tx.send(c);
                std::future::pending::<()>().await;
            }
        });
        let held = rx.await.unwrap();
        worker.abort();
        let _ = worker.await;
        assert_eq!(q.claim(at(1), 10, LEASE).await.unwrap().len(), 2);
        assert_eq!(q.reap(at(29_999)).await.unwrap(), 0);
        assert_eq!(q.reap(at(30_000)).await.unwrap(), 3);
        let again = q.claim(at(30_000), 10, LEASE).await.unwrap();
        assert_eq!(
            again.iter().map(|c| &c.key).collect::<Vec<_>>(),
            held.iter().map(|c| &c.key).collect::<Vec<_>>()
        );
        for (old, new) in held.iter().zip(&again) {
            assert_eq!(new.attempts, 2, "the dropped attempt counts");
            assert!(matches!(
                q.complete(&old.key, old.token, at(30_001)).await,
                Err(SharedQueueError::LeaseLost { .. })
            ));
            q.complete(&new.key, new.token, at(30_001)).await.unwrap();
        }
    });
}

/// `--appendonly yes --appendfsync always`: every acknowledged write is in
/// the fsynced append-only file, so a SIGKILL loses nothing acknowledged.
#[test]
fn with_appendfsync_always_a_killed_server_loses_nothing() {
    let Some(mut own) = RedisServer::start_with(Persistence::AppendFsyncAlways) else {
        return;
    };
    let url = own.url();
    let (claims, completed) = rt().block_on(async {
        let q = RedisQueue::connect(&url, "durable").await.unwrap();
        for i in 0..100u64 {
            q.insert(entry(&format!("m{i:03}"), at(i), (i % 3) as u8))
                .await
                .unwrap();
        }
        let c = q.claim(at(100), 30, LEASE).await.unwrap();
        for c in &c[..10] {
            q.complete(&c.key, c.token, at(101)).await.unwrap();
        }
        (c, 10)
    });
    own.restart(); // SIGKILL, then the same port and directory
    rt().block_on(async {
        let q = RedisQueue::connect(&url, "durable").await.unwrap();
        let s = q.stats(at(101)).await.unwrap();
        assert_eq!((s.len, s.leased), (100 - completed, 20));
        for c in &claims[completed as usize..] {
            let info = q.get(&c.key).await.unwrap().unwrap();
            assert_eq!(
                info.state,
                EntryState::Leased {
                    token: c.token,
                    expires: c.lease_expires
                }
            );
            assert_eq!(info.attempts, 1);
        }
        // The token counter survived: new claims never reuse a token.
        let max_old = claims.iter().map(|c| c.token).max().unwrap();
        let fresh = q.claim(at(101), 100, LEASE).await.unwrap();
        assert_eq!(fresh.len(), 70);
        assert!(fresh.iter().all(|c| c.token > max_old));
        // And the old leases still fence.
        let old = &claims[completed as usize];
        q.complete(&old.key, old.token, at(102)).await.unwrap();
    });
}

/// `--save '' --appendonly no` (the tests' default): a restart loses every
/// queue, and the queue says its storage is missing instead of acting as if
/// it were empty.
#[test]
fn without_persistence_a_restart_loses_the_queue() {
    let Some(mut own) = RedisServer::start_with(Persistence::None) else {
        return;
    };
    let url = own.url();
    rt().block_on(async {
        let q = RedisQueue::connect(&url, "volatile").await.unwrap();
        q.insert(entry("a", at(0), 0)).await.unwrap();
    });
    own.restart();
    rt().block_on(async {
        let conn = raw(&url).await;
        let q = RedisQueue::open(conn.clone(), "volatile").await;
        // Opening recreates an empty queue: the entry is gone.
        let q = q.unwrap();
        assert_eq!(q.get("a").await.unwrap(), None);
    });
    // A handle opened before the restart, on a connection that reconnects,
    // would get `missing_storage` (the meta hash is gone).
    rt().block_on(async {
        let conn = raw(&url).await;
        let q = RedisQueue::open(conn.clone(), "volatile2").await.unwrap();
        q.insert(entry("a", at(0), 0)).await.unwrap();
        let mut c = conn.clone();
        let () = redis::cmd("FLUSHALL").query_async(&mut c).await.unwrap();
        assert!(matches!(
            q.get("a").await,
            Err(SharedQueueError::MissingStorage(_))
        ));
    });
}

/// `--appendonly yes --appendfsync always`, and the queue over a
/// `ConnectionManager` (the `redis` crate's reconnecting connection): the same
/// handle answers `unavailable` while the server is down and works again,
/// with every entry, once it is back.
#[test]
fn a_queue_over_a_connection_manager_survives_a_restart() {
    let Some(mut own) = RedisServer::start_with(Persistence::AppendFsyncAlways) else {
        return;
    };
    let rt = rt();
    let q = rt.block_on(async {
        let client = redis::Client::open(own.url()).unwrap();
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_connection_timeout(Duration::from_millis(500));
        let conn = redis::aio::ConnectionManager::new_with_config(client, config)
            .await
            .unwrap();
        let q = RedisQueue::open(conn, "managed").await.unwrap();
        for i in 0..10 {
            q.insert(entry(&format!("m{i}"), at(0), 0)).await.unwrap();
        }
        q
    });
    own.kill();
    rt.block_on(async {
        let r = q.claim(at(0), 1, LEASE).await;
        assert!(matches!(r, Err(SharedQueueError::Unavailable(_))), "{r:?}");
    });
    own.restart();
    rt.block_on(async {
        // The manager reconnects in the background; the first calls after the
        // restart may still find the old connection broken.
        let mut claims = None;
        for _ in 0..50 {
            match q.claim(at(0), 100, LEASE).await {
                Ok(c) => {
                    claims = Some(c);
                    break;
                }
                Err(SharedQueueError::Unavailable(_)) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("{e}"),
            }
        }
        let claims = claims.expect("the queue never came back");
        assert_eq!(claims.len(), 10);
    });
}
