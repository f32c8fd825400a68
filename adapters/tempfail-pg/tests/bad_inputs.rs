//! Bad inputs get clear errors: a wrong schema version, a missing or dropped
//! table, an unreachable server, an oversized item, a key reused while its
//! entry lives, bad queue names.

#[path = "support/server.rs"]
mod server;

use std::time::Duration;

use server::{PgServer, unique_name};
use tempfail::Timestamp;
use tempfail::shared_queue::{NewEntry, SharedQueue, SharedQueueError};
use tempfail_pg::{PgQueue, PgQueueOptions, SCHEMA_VERSION};
use tokio_postgres::NoTls;

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);

async fn raw(srv: &PgServer) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&srv.url(), NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

#[tokio::test]
async fn wrong_schema_version_is_refused() {
    let Some(srv) = PgServer::shared() else {
        return;
    };
    let name = unique_name("version");
    let q = PgQueue::connect(&srv.url(), PgQueueOptions::new(name.clone()))
        .await
        .unwrap();
    drop(q);
    raw(srv)
        .await
        .execute(
            "UPDATE public.tempfail_meta SET version = 99 WHERE queue = $1",
            &[&name],
        )
        .await
        .unwrap();
    for create in [true, false] {
        let err = PgQueue::connect(
            &srv.url(),
            PgQueueOptions::new(name.clone()).create_if_missing(create),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err,
            SharedQueueError::SchemaVersion {
                found: 99,
                expected: SCHEMA_VERSION
            }
        );
        assert!(err.to_string().contains("99"), "{err}");
    }
}

#[tokio::test]
async fn missing_table_without_create_is_missing_storage() {
    let Some(srv) = PgServer::shared() else {
        return;
    };
    // Neither the schema nor the queue exist.
    let opts = PgQueueOptions::new("never_created")
        .schema("no_such_schema")
        .create_if_missing(false);
    let err = PgQueue::connect(&srv.url(), opts).await.unwrap_err();
    assert!(
        matches!(err, SharedQueueError::MissingStorage(_)),
        "{err:?}"
    );
    // The schema exists (another queue made it), this queue does not.
    let _other = PgQueue::connect(&srv.url(), PgQueueOptions::new(unique_name("other")))
        .await
        .unwrap();
    let err = PgQueue::connect(
        &srv.url(),
        PgQueueOptions::new(unique_name("absent")).create_if_missing(false),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SharedQueueError::MissingStorage(ref m) if m.contains("absent")),
        "{err:?}"
    );
}

#[tokio::test]
async fn dropped_table_is_missing_storage() {
    let Some(srv) = PgServer::shared() else {
        return;
    };
    let name = unique_name("dropped");
    let q = PgQueue::connect(&srv.url(), PgQueueOptions::new(name.clone()))
        .await
        .unwrap();
    q.insert(NewEntry::new("a", T0, 0, *b"x")).await.unwrap();
    // Dropped behind the queue's back: its statements now fail.
    raw(srv)
        .await
        .batch_execute(&format!("DROP TABLE public.\"{name}\""))
        .await
        .unwrap();
    let err = q.get("a").await.unwrap_err();
    assert!(
        matches!(
            err,
            SharedQueueError::MissingStorage(_) | SharedQueueError::Backend(_)
        ),
        "{err:?}"
    );
    // A new handle sees the meta row but no table.
    let err = PgQueue::connect(
        &srv.url(),
        PgQueueOptions::new(name.clone()).create_if_missing(false),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SharedQueueError::MissingStorage(_)),
        "{err:?}"
    );
    // drop_storage then open without create: missing too.
    let q = PgQueue::connect(&srv.url(), PgQueueOptions::new(name.clone()))
        .await
        .unwrap();
    q.drop_storage().await.unwrap();
    let err = PgQueue::connect(
        &srv.url(),
        PgQueueOptions::new(name).create_if_missing(false),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SharedQueueError::MissingStorage(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("host=127.0.0.1 port={port} user=postgres connect_timeout=5");
    let err = PgQueue::connect(&url, PgQueueOptions::new("q"))
        .await
        .unwrap_err();
    assert!(matches!(err, SharedQueueError::Unavailable(_)), "{err:?}");
    assert!(!err.to_string().is_empty());
}

#[test]
fn connect_outside_a_runtime_is_an_error_not_a_panic() {
    let err = futures_lite_block_on(PgQueue::connect(
        "host=127.0.0.1 port=1",
        PgQueueOptions::new("q"),
    ));
    assert!(
        matches!(err, Err(SharedQueueError::Unavailable(_))),
        "{err:?}"
    );
}

/// Polls a future to completion without a tokio runtime.
fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

#[tokio::test]
async fn bad_names_are_invalid_arguments() {
    for (schema, name) in [
        ("public", ""),
        ("public", "Upper"),
        ("public", "has-dash"),
        ("public", "9starts_with_digit"),
        ("public", "x\"; DROP TABLE y; --"),
        ("bad schema", "ok"),
        ("public", &"n".repeat(49)),
    ] {
        let err = PgQueue::connect(
            "host=127.0.0.1 port=1",
            PgQueueOptions::new(name).schema(schema),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, SharedQueueError::InvalidArgument(_)),
            "{schema}.{name}: {err:?}"
        );
    }
}

#[tokio::test]
async fn oversized_items_and_live_duplicate_keys_are_refused() {
    let Some(srv) = PgServer::shared() else {
        return;
    };
    let q = PgQueue::connect(
        &srv.url(),
        PgQueueOptions::new(unique_name("limits")).max_item_len(100),
    )
    .await
    .unwrap();
    assert_eq!(q.max_item_len(), 100);
    q.insert(NewEntry::new("fits", T0, 0, vec![7; 100]))
        .await
        .unwrap();
    assert_eq!(
        q.insert(NewEntry::new("big", T0, 0, vec![7; 101])).await,
        Err(SharedQueueError::ItemTooLarge { len: 101, max: 100 })
    );
    // Reused while waiting, while leased, while its lease has expired.
    let dup = || NewEntry::new("fits", T0, 3, *b"again");
    assert!(matches!(
        q.insert(dup()).await,
        Err(SharedQueueError::DuplicateKey(k)) if k == "fits"
    ));
    let claim = q
        .claim(T0, 1, Duration::from_secs(1))
        .await
        .unwrap()
        .remove(0);
    assert!(matches!(
        q.insert(dup()).await,
        Err(SharedQueueError::DuplicateKey(_))
    ));
    // Once completed, the key is free again.
    q.complete("fits", claim.token, T0).await.unwrap();
    q.insert(dup()).await.unwrap();
    // Keys the contract refuses.
    for key in ["", "nul\0byte", &"k".repeat(256)] {
        assert!(matches!(
            q.insert(NewEntry::new(key, T0, 0, *b"x")).await,
            Err(SharedQueueError::InvalidKey(_))
        ));
        // Token and key operations on such keys find nothing (no store error).
        assert!(matches!(
            q.complete(key, claim.token, T0).await,
            Err(SharedQueueError::LeaseLost { .. })
        ));
        assert!(matches!(
            q.cancel(key, T0).await,
            Err(SharedQueueError::NotFound(_))
        ));
        assert_eq!(q.get(key).await, Ok(None));
    }
    // Claim arguments.
    assert!(matches!(
        q.claim(T0, 0, Duration::from_secs(1)).await,
        Err(SharedQueueError::InvalidArgument(_))
    ));
    assert!(matches!(
        q.claim(T0, 10_001, Duration::from_secs(1)).await,
        Err(SharedQueueError::InvalidArgument(_))
    ));
    assert!(matches!(
        q.claim(T0, 1, Duration::ZERO).await,
        Err(SharedQueueError::InvalidArgument(_))
    ));
}

#[tokio::test]
async fn insert_batch_answers_per_entry() {
    let Some(srv) = PgServer::shared() else {
        return;
    };
    let q = PgQueue::connect(
        &srv.url(),
        PgQueueOptions::new(unique_name("batch")).max_item_len(10),
    )
    .await
    .unwrap();
    q.insert(NewEntry::new("live", T0, 0, *b"x")).await.unwrap();
    let batch = [
        NewEntry::new("a", T0, 1, *b"1"),
        NewEntry::new("live", T0, 0, *b"2"),
        NewEntry::new("b", T0, 1, vec![0; 11]),
        NewEntry::new("a", T0, 0, *b"3"),
        NewEntry::new("", T0, 0, *b"4"),
        NewEntry::new("c", T0, 1, *b"5"),
    ];
    let kinds: Vec<&str> = q
        .insert_batch(&batch)
        .await
        .unwrap()
        .iter()
        .map(|r| match r {
            Ok(()) => "ok",
            Err(SharedQueueError::DuplicateKey(_)) => "duplicate_key",
            Err(SharedQueueError::ItemTooLarge { .. }) => "item_too_large",
            Err(SharedQueueError::InvalidKey(_)) => "invalid_key",
            Err(_) => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "ok",
            "duplicate_key",
            "item_too_large",
            "duplicate_key",
            "invalid_key",
            "ok"
        ]
    );
    // Insertion order follows the batch: a before c at the same priority and due.
    let keys: Vec<String> = q
        .claim(T0, 10, Duration::from_secs(1))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.key)
        .collect();
    assert_eq!(keys, ["a", "c", "live"]);
    assert_eq!(q.get("a").await.unwrap().unwrap().item, b"1");
}

/// Times at the ends of the range are stored without panics and keep their
/// meaning: `Timestamp::MAX` reads back as itself.
#[tokio::test]
async fn extreme_times() {
    let Some(srv) = PgServer::shared() else {
        return;
    };
    let q = PgQueue::connect(&srv.url(), PgQueueOptions::new(unique_name("times")))
        .await
        .unwrap();
    q.insert(NewEntry::new("never", Timestamp::MAX, 0, *b"x"))
        .await
        .unwrap();
    q.insert(NewEntry::new("epoch", Timestamp::EPOCH, 0, *b"x"))
        .await
        .unwrap();
    assert_eq!(q.get("never").await.unwrap().unwrap().due, Timestamp::MAX);
    let c = q
        .claim(Timestamp::from_secs(1), 10, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].lease_expires, Timestamp::MAX);
    assert_eq!(
        q.extend("epoch", c[0].token, Timestamp::from_secs(2), Duration::MAX)
            .await,
        Ok(Timestamp::MAX)
    );
    assert_eq!(
        q.claim(Timestamp::MAX, 10, Duration::from_secs(1))
            .await
            .unwrap()
            .len(),
        1
    );
}
