//! `pg_ctl restart` in the middle of a run: nothing committed is lost. Its
//! own server (a restart would disturb the other test binaries' queues).

#[path = "support/server.rs"]
mod server;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use server::PgServer;
use tempfail::Timestamp;
use tempfail::shared_queue::{NewEntry, SharedQueue, SharedQueueError};
use tempfail_pg::{PgQueue, PgQueueOptions};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);
const N: usize = 3000;

/// Workers keep claiming and completing (the queue reconnects by itself)
/// while the server restarts under them. Every entry ends either completed
/// (the store said so) or still in the table; entries whose completion was
/// cut by the restart come back after their lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_mid_run_loses_nothing() {
    let Some(srv) = PgServer::start_or_skip(false) else {
        return;
    };
    let url = srv.url();
    let opts = || PgQueueOptions::new("restart");
    let q = PgQueue::connect(&url, opts()).await.unwrap();
    let entries: Vec<NewEntry> = (0..N)
        .map(|i| NewEntry::new(format!("m{i:05}"), T0, (i % 3) as u8, vec![1; 32]))
        .collect();
    for r in q.insert_batch(&entries).await.unwrap() {
        r.unwrap();
    }
    let lease = Duration::from_secs(30);
    let restarted = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..3u64 {
        let url = url.clone();
        let restarted = Arc::clone(&restarted);
        workers.push(tokio::spawn(async move {
            let q = PgQueue::connect(&url, opts()).await.unwrap();
            let mut completed = HashSet::new();
            let mut unavailable = 0u64;
            // Virtual time: after the restart, step past the leases so claims
            // cut by it come back through reap.
            let mut now = T0;
            for _ in 0..20_000 {
                if restarted.load(Ordering::SeqCst) && now == T0 {
                    now = T0 + lease + Duration::from_secs(w);
                }
                let claims = match q.claim(now, 10, lease).await {
                    Ok(c) => c,
                    Err(SharedQueueError::Unavailable(_)) => {
                        unavailable += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                    Err(e) => panic!("claim: {e}"),
                };
                if claims.is_empty() {
                    if restarted.load(Ordering::SeqCst) && now > T0 {
                        match q.reap(now).await {
                            Ok(0) => {
                                // Nothing claimable, nothing expired: done
                                // unless another worker still holds leases.
                                let s = q.stats(now).await.unwrap();
                                if s.len == 0 {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(SharedQueueError::Unavailable(_)) => unavailable += 1,
                            Err(e) => panic!("reap: {e}"),
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                let done: Vec<(&str, _)> =
                    claims.iter().map(|c| (c.key.as_str(), c.token)).collect();
                match q.complete_batch(&done, now).await {
                    Ok(results) => {
                        for (c, r) in claims.iter().zip(results) {
                            match r {
                                Ok(()) => {
                                    completed.insert(c.key.clone());
                                }
                                Err(SharedQueueError::LeaseLost { .. }) => {}
                                Err(e) => panic!("complete: {e}"),
                            }
                        }
                    }
                    // Unknown outcome: the entries are either gone or come
                    // back after their lease.
                    Err(SharedQueueError::Unavailable(_)) => unavailable += 1,
                    Err(e) => panic!("complete_batch: {e}"),
                }
                // Slow enough that the restart lands mid-run.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (completed, unavailable)
        }));
    }
    // Restart once about a fifth of the entries are done.
    loop {
        let left = q.stats(T0).await.unwrap().len;
        if left <= (N as u64) * 4 / 5 {
            assert!(left > 0, "restart must land mid-run");
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let srv_ref = &srv;
    tokio::task::block_in_place(|| srv_ref.restart()).unwrap();
    restarted.store(true, Ordering::SeqCst);

    let mut completed = HashSet::new();
    let mut unavailable = 0;
    for w in workers {
        let (c, u) = w.await.unwrap();
        for k in c {
            assert!(completed.insert(k), "an entry completed twice");
        }
        unavailable += u;
    }
    // Read back through a handle that lived across the restart.
    let mut lost = Vec::new();
    for e in &entries {
        let present = q.get(&e.key).await.unwrap().is_some();
        if completed.contains(&e.key) == present {
            lost.push(e.key.clone());
        }
    }
    assert!(lost.is_empty(), "lost or completed-yet-present: {lost:?}");
    assert_eq!(
        completed.len(),
        N,
        "every entry completed after the restart"
    );
    eprintln!("restart: {unavailable} operations answered unavailable during the restart");
}

/// Entries inserted before a restart are all there after it, leases and
/// attempts included, read through a fresh connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_restart() {
    let Some(srv) = PgServer::start_or_skip(false) else {
        return;
    };
    let q = PgQueue::connect(&srv.url(), PgQueueOptions::new("survive"))
        .await
        .unwrap();
    for i in 0..50u8 {
        q.insert(NewEntry::new(format!("m{i}"), T0, i % 4, vec![i]))
            .await
            .unwrap();
    }
    let claims = q.claim(T0, 10, Duration::from_secs(60)).await.unwrap();
    let before = q.stats(T0).await.unwrap();
    let srv_ref = &srv;
    tokio::task::block_in_place(|| srv_ref.restart()).unwrap();
    // The old connection is gone: the first statement may answer
    // unavailable; the handle reconnects after that.
    let mut after = q.stats(T0).await;
    if let Err(SharedQueueError::Unavailable(_)) = after {
        after = q.stats(T0).await;
    }
    assert_eq!(after.unwrap(), before);
    let fresh = PgQueue::connect(
        &srv.url(),
        PgQueueOptions::new("survive").create_if_missing(false),
    )
    .await
    .unwrap();
    assert_eq!(fresh.stats(T0).await.unwrap(), before);
    // The claims' tokens still hold their entries.
    for c in &claims {
        fresh.complete(&c.key, c.token, T0).await.unwrap();
    }
    assert_eq!(fresh.stats(T0).await.unwrap().len, 40);
}

/// A queue opened on the caller's client does not reconnect: after the
/// restart it answers `Unavailable`, and a queue opened on a new client
/// finds everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_on_callers_client_answers_unavailable_after_restart() {
    let Some(srv) = PgServer::start_or_skip(false) else {
        return;
    };
    let client = async || {
        let (client, conn) = tokio_postgres::connect(&srv.url(), tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    };
    let q = PgQueue::open(client().await, PgQueueOptions::new("own_client"))
        .await
        .unwrap();
    q.insert(NewEntry::new("a", T0, 0, *b"x")).await.unwrap();
    let srv_ref = &srv;
    tokio::task::block_in_place(|| srv_ref.restart()).unwrap();
    for _ in 0..2 {
        assert!(matches!(
            q.get("a").await,
            Err(SharedQueueError::Unavailable(_))
        ));
    }
    let q = PgQueue::open(
        client().await,
        PgQueueOptions::new("own_client").create_if_missing(false),
    )
    .await
    .unwrap();
    assert_eq!(q.get("a").await.unwrap().unwrap().item, b"x");
}
