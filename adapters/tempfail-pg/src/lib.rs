//! A shared, durable deferral queue on PostgreSQL for
//! [tempfail](https://docs.rs/tempfail): [`PgQueue`] implements
//! [`SharedQueue`], so many workers on many machines claim entries from one
//! table under leases with fencing tokens, and a worker that dies mid-attempt
//! loses nothing.
//!
//! The contract (claim order, leases, fencing, reap, busy entries, attempt
//! counts) is [`tempfail::shared_queue`]'s; this crate passes its conformance
//! suite against a real server. As everywhere in tempfail, time is the
//! caller's `now`: no statement reads the database's clock.
//!
//! # Using it
//!
//! ```no_run
//! use std::time::Duration;
//! use tempfail::Timestamp;
//! use tempfail::shared_queue::{NewEntry, SharedQueue};
//! use tempfail_pg::{PgQueue, PgQueueOptions};
//!
//! # async fn run() -> Result<(), tempfail::shared_queue::SharedQueueError> {
//! // Creates the schema's tables on first use (PgQueueOptions::create_if_missing).
//! let q = PgQueue::connect(
//!     "host=127.0.0.1 user=mailer dbname=mail",
//!     PgQueueOptions::new("outbound"),
//! )
//! .await?;
//! let now = Timestamp::from_system_time(std::time::SystemTime::now());
//! q.insert(NewEntry::new("msg-1", now, 0, *b"spool/1")).await?;
//! for claim in q.claim(now, 100, Duration::from_secs(300)).await? {
//!     // ... try the delivery, then:
//!     q.complete(&claim.key, claim.token, now).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! [`PgQueue::connect`] opens one connection (tokio-postgres, no TLS) and
//! spawns its connection task on the current tokio runtime; after a broken
//! connection (a server restart) the next operation reconnects. For TLS, a
//! pool or your own connection settings, make the
//! [`tokio_postgres::Client`] yourself and pass it to [`PgQueue::open`].
//! One connection runs one statement at a time: give each worker its own
//! `PgQueue`, or share one handle among tasks and open it with
//! [`PgQueueOptions::connections`] so its operations take several
//! connections in turn. Anything more (a pool shared with the rest of your
//! application, health checks) is left to the caller, through
//! [`PgQueue::open`].
//!
//! # Schema
//!
//! One table per queue, `"schema"."name"` (default schema `public`), created
//! by the crate under an advisory lock, plus one row per queue in
//! `"schema".tempfail_meta (queue, version)`. The version is
//! [`SCHEMA_VERSION`]; [`PgQueue::connect`] and [`PgQueue::open`] refuse a
//! store of another version with [`SharedQueueError::SchemaVersion`] and a
//! missing table (when [`PgQueueOptions::create_if_missing`] is off) with
//! [`SharedQueueError::MissingStorage`].
//!
//! ```sql
//! CREATE TABLE "public"."outbound" (
//!     key           text COLLATE "C" PRIMARY KEY,  -- the caller's key
//!     due           bigint   NOT NULL,  -- ms since the Unix epoch
//!     priority      smallint NOT NULL,  -- 0..=255, higher first
//!     seq           bigint   NOT NULL,  -- insertion order
//!     attempts      bigint   NOT NULL DEFAULT 0,
//!     lease_token   bigint,             -- NULL while waiting
//!     lease_expires bigint,             -- NULL while waiting
//!     item          bytea    NOT NULL
//! ) WITH (fillfactor = 80, autovacuum_... see below);
//! CREATE INDEX outbound_ready  ON outbound (priority DESC, due, seq)
//!     WHERE lease_token IS NULL;
//! CREATE INDEX outbound_leases ON outbound (lease_expires, lease_token)
//!     WHERE lease_token IS NOT NULL;
//! CREATE SEQUENCE outbound_seq;  -- insertion numbers and lease tokens
//! ```
//!
//! The row is small on purpose: the item is a pointer into the caller's spool
//! (at most [`DEFAULT_MAX_ITEM_LEN`] bytes unless configured), not the
//! message. Times are `u64` milliseconds in the API and `bigint` in the table:
//! a time past `i64::MAX` ms (year 292,277,026) is stored as `i64::MAX` and
//! read back as [`Timestamp::MAX`]. Needs PostgreSQL 13 or later.
//!
//! # The claim
//!
//! One statement, one round trip, one transaction:
//!
//! 1. a recursive CTE walks the priorities that have waiting rows, most
//!    urgent first, one probe of the `_ready` index each;
//! 2. for each priority a `LATERAL` subquery reads the rows due at `now` in
//!    `(due, seq)` order from the same index, `LIMIT max`,
//!    `FOR UPDATE SKIP LOCKED`: rows another claimer is locking are passed
//!    over, never waited for, so workers do not queue behind each other;
//! 3. an outer `LIMIT max` stops as soon as `max` rows are locked (later
//!    priorities are not even read) and draws one token per row from the
//!    sequence, in claim order; the CTE is `MATERIALIZED`, so it runs exactly
//!    once whatever plan the server picks, and the statement can never return
//!    more than `max` rows;
//! 4. the `UPDATE` sets the lease and counts the attempt, re-checking
//!    `lease_token IS NULL` on the locked row, and returns the claims.
//!
//! Walking the priorities first matters on a real queue: most rows are
//! deferred entries due later, and a plain scan of
//! `ORDER BY priority DESC, due, seq` would read all of a priority's
//! not-yet-due rows before reaching the next priority (or the end, when fewer
//! than `max` are due). The walk costs one index probe per priority in use.
//! (On PostgreSQL 15 with 300,000 entries due later at one priority and
//! 100,000 due at two lower ones, claiming 100 took 1.1 ms this way and 16 ms
//! with the plain scan, `EXPLAIN ANALYZE` on one warm server.)
//!
//! # Leases and fencing
//!
//! A claim's token is unique among all tokens the queue ever handed out (a
//! sequence). Complete, defer, release and extend are each one statement
//! guarded by `key = $key AND lease_token = $token AND lease_expires > $now`:
//! when no row matches, the answer is [`SharedQueueError::LeaseLost`] and
//! nothing changed. [`complete_batch`](SharedQueue::complete_batch) is one
//! `DELETE … USING unnest($keys, $tokens) … RETURNING` for the whole batch.
//! Cancel and reschedule are one statement each that changes the row only when
//! no live lease holds it and tells [`SharedQueueError::Busy`] from
//! [`SharedQueueError::NotFound`] in the same snapshot. Reap returns every
//! lease that ended at or before `now` to waiting, skipping rows another
//! session is changing at that instant (a later reap takes them).
//! [`stats`](SharedQueue::stats) is one `GROUP BY priority` pass over the
//! whole table: a monitoring call, not one to make before every claim.
//!
//! # Server restarts and broken connections
//!
//! Every operation is a single autocommit statement, so a server restart
//! loses no committed change, and a statement cut by the restart either
//! committed or did not. The operation in flight answers
//! [`SharedQueueError::Unavailable`]: its effect is unknown, exactly as for a
//! worker that crashed, and the lease machinery covers it (a claim that did
//! commit comes back after its lease; a complete that did commit leaves the
//! later token ops answering `LeaseLost`). A queue made by
//! [`PgQueue::connect`] reconnects on the next operation (re-checking the
//! schema version); one made by [`PgQueue::open`] keeps answering
//! `Unavailable` and the caller makes a new one.
//!
//! # Autovacuum: the known failure mode of queue tables
//!
//! Every entry's life is an insert, an update per claim and a delete, so a
//! hot queue table leaves two or more dead row versions per delivered entry,
//! and index entries pointing at them. If vacuum falls behind, the claim's
//! index probes wade through dead entries and the table and indexes bloat.
//! The crate creates the table with per-table settings that vacuum it by
//! dead-row count rather than by table size:
//!
//! | setting (per table) | value | why |
//! | --- | --- | --- |
//! | `autovacuum_vacuum_scale_factor` | `0.0` | the live table stays small; the default 20% of it is far too late |
//! | `autovacuum_vacuum_threshold` | `5000` | vacuum after ~5000 dead rows |
//! | `autovacuum_vacuum_insert_scale_factor`, `_threshold` | `0.0`, `5000` | keeps the visibility map fresh |
//! | `autovacuum_analyze_scale_factor`, `_threshold` | `0.0`, `5000` | statistics of a fast-changing table |
//! | `autovacuum_vacuum_cost_delay` | `0` | do not throttle vacuum on this small table |
//! | `fillfactor` | `80` | room on each page so a claim's new row version stays on its page |
//!
//! Server-wide (these cannot be set per table) we recommend
//! `autovacuum_naptime = 10s` (the default minute lets tens of thousands of
//! dead rows pile up on a busy queue) and keeping long transactions off the
//! database: a transaction open for minutes (a report, an idle-in-transaction
//! session) holds back the horizon and no vacuum can remove the queue's dead
//! rows meanwhile; `idle_in_transaction_session_timeout` guards against the
//! latter. Watch `n_dead_tup` and `last_autovacuum` in `pg_stat_user_tables`
//! for the queue's table. Claims and lease updates change indexed columns, so
//! they are not HOT updates; the fillfactor still keeps new versions local.
//!
//! # Throughput
//!
//! Batch: claim tens or hundreds of entries per call and complete them with
//! [`complete_batch`](SharedQueue::complete_batch): each is one statement and
//! one commit, where one entry per call costs two commits (and, with
//! `synchronous_commit = on`, two WAL flushes) per entry. `benches/pg_claims.rs`
//! measures 4 workers draining the queue with batches of 100 against a naive
//! `ORDER BY … LIMIT 1 FOR UPDATE` claim (no `SKIP LOCKED`) in the same run:
//! `cargo bench -p tempfail-pg --bench pg_claims`. The statements are prepared
//! once per connection.
//!
//! # Tests
//!
//! The crate's tests start a private server (`initdb` + `pg_ctl` on
//! 127.0.0.1, a free port and a private socket directory, as the `postgres`
//! user when run as root). Without the binaries they print a notice and pass,
//! unless `TEMPFAIL_REQUIRE_SERVERS=1`, when they fail. The test servers run
//! with `fsync=off`: the restart test's `pg_ctl restart` shuts down with a
//! checkpoint, so what it proves (nothing committed is lost across a server
//! restart) does not depend on fsync; only an OS crash would. The benchmark
//! runs with the server's defaults (`fsync=on`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tempfail::Timestamp;
use tempfail::queue::Priority;
use tempfail::shared_queue::{
    Claim, EntryInfo, EntryState, LeaseToken, NewEntry, SharedQueue, SharedQueueError, SharedStats,
    validate_claim, validate_key,
};
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Client, NoTls, Row, Statement};

mod sql;
use sql::{Names, Sql};

pub use tempfail::shared_queue::DEFAULT_MAX_ITEM_LEN;
pub use tokio_postgres;

/// The schema version this crate creates and expects in
/// `"schema".tempfail_meta`.
pub const SCHEMA_VERSION: i64 = 1;

/// Longest queue or schema name accepted, in bytes (PostgreSQL's identifier
/// limit is 63; the crate appends suffixes such as `_leases`).
pub const MAX_NAME_LEN: usize = 48;

/// Most connections one [`PgQueue`] opens.
pub const MAX_CONNECTIONS: usize = 64;

/// Where a [`PgQueue`] lives and how it behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgQueueOptions {
    schema: String,
    name: String,
    max_item_len: usize,
    create_if_missing: bool,
    connections: usize,
}

impl PgQueueOptions {
    /// The queue `name` (its table's name) in schema `public`, items up to
    /// [`DEFAULT_MAX_ITEM_LEN`] bytes, created if missing. Names are 1 to
    /// [`MAX_NAME_LEN`] bytes of `a-z`, `0-9` and `_`, not starting with a
    /// digit (checked when the queue opens).
    pub fn new(name: impl Into<String>) -> Self {
        PgQueueOptions {
            schema: "public".to_owned(),
            name: name.into(),
            max_item_len: DEFAULT_MAX_ITEM_LEN,
            create_if_missing: true,
            connections: 1,
        }
    }

    /// The schema holding the queue's table and `tempfail_meta` (created if
    /// missing when [`create_if_missing`](Self::create_if_missing) is on).
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The largest item accepted, in bytes.
    #[must_use]
    pub fn max_item_len(mut self, max: usize) -> Self {
        self.max_item_len = max;
        self
    }

    /// Whether opening creates the schema, table, indexes and sequence when
    /// they are missing (default `true`). Off, a missing queue is
    /// [`SharedQueueError::MissingStorage`]: for workers that must never
    /// create a queue by a typo.
    #[must_use]
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }

    /// How many connections [`PgQueue::connect`] opens (1 to
    /// [`MAX_CONNECTIONS`], default 1; clamped). Operations take them in
    /// turn, so one handle shared by several tasks keeps several server
    /// backends busy. [`PgQueue::open`] always uses the one client it is given.
    #[must_use]
    pub fn connections(mut self, n: usize) -> Self {
        self.connections = n.clamp(1, MAX_CONNECTIONS);
        self
    }

    fn names(&self) -> Result<Names, SharedQueueError> {
        for n in [&self.schema, &self.name] {
            let ok = !n.is_empty()
                && n.len() <= MAX_NAME_LEN
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && !n.starts_with(|c: char| c.is_ascii_digit());
            if !ok {
                return Err(SharedQueueError::InvalidArgument(
                    "queue and schema names must be 1 to 48 bytes of a-z, 0-9 and _, \
                     not starting with a digit",
                ));
            }
        }
        Ok(Names {
            schema: self.schema.clone(),
            name: self.name.clone(),
        })
    }
}

/// The prepared statements of one connection.
struct Statements {
    insert: Statement,
    insert_batch: Statement,
    claim: Statement,
    complete: Statement,
    complete_batch: Statement,
    defer: Statement,
    release: Statement,
    extend: Statement,
    reap: Statement,
    cancel: Statement,
    reschedule: Statement,
    get: Statement,
    stats: Statement,
}

struct Conn {
    client: Client,
    st: Statements,
}

/// A [`SharedQueue`] in one PostgreSQL table. See the [crate docs](crate) for
/// the schema, the claim statement and the operating advice.
pub struct PgQueue {
    /// Never empty; operations take the slots in turn.
    conns: Vec<Mutex<Arc<Conn>>>,
    next: AtomicUsize,
    /// Where to reconnect; `None` for a queue opened on the caller's client.
    url: Option<String>,
    reconnect: tokio::sync::Mutex<()>,
    options: PgQueueOptions,
    names: Names,
    sql: Sql,
}

impl core::fmt::Debug for PgQueue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PgQueue")
            .field("table", &self.names.table())
            .field("max_item_len", &self.options.max_item_len)
            .field("connections", &self.conns.len())
            .field("reconnects", &self.url.is_some())
            .finish()
    }
}

impl PgQueue {
    /// Connects to `url` (a tokio-postgres connection string, key=value or
    /// `postgresql://` URL; no TLS), spawns the connection task on the current
    /// tokio runtime, creates or checks the queue's schema and prepares its
    /// statements. The queue reconnects by itself after the connection breaks.
    ///
    /// Errors: [`SharedQueueError::Unavailable`] when the server cannot be
    /// reached (or when called outside a tokio runtime),
    /// [`SharedQueueError::SchemaVersion`], [`SharedQueueError::MissingStorage`],
    /// [`SharedQueueError::InvalidArgument`] for a bad queue or schema name,
    /// [`SharedQueueError::Backend`] for a malformed `url`.
    pub async fn connect(url: &str, options: PgQueueOptions) -> Result<PgQueue, SharedQueueError> {
        let names = options.names()?;
        let sql = Sql::new(&names);
        let mut conns = Vec::with_capacity(options.connections);
        for i in 0..options.connections.max(1) {
            let client = connect_client(url).await?;
            // The first connection creates or checks the schema; the others
            // only check it.
            let create = options.create_if_missing && i == 0;
            let conn = setup(client, &names, &sql, create).await?;
            conns.push(Mutex::new(Arc::new(conn)));
        }
        Ok(PgQueue {
            conns,
            next: AtomicUsize::new(0),
            url: Some(url.to_owned()),
            reconnect: tokio::sync::Mutex::new(()),
            options,
            names,
            sql,
        })
    }

    /// Opens the queue on a client the caller made (TLS, a pooled
    /// connection, custom settings). The caller drives the client's
    /// connection; once it breaks, every operation answers
    /// [`SharedQueueError::Unavailable`] and the caller opens a new queue.
    pub async fn open(
        client: Client,
        options: PgQueueOptions,
    ) -> Result<PgQueue, SharedQueueError> {
        let names = options.names()?;
        let sql = Sql::new(&names);
        let conn = setup(client, &names, &sql, options.create_if_missing).await?;
        Ok(PgQueue {
            conns: vec![Mutex::new(Arc::new(conn))],
            next: AtomicUsize::new(0),
            url: None,
            reconnect: tokio::sync::Mutex::new(()),
            options,
            names,
            sql,
        })
    }

    /// The queue's table, quoted and schema-qualified (`"public"."outbound"`),
    /// for the caller's monitoring or maintenance queries.
    pub fn table(&self) -> String {
        self.names.table()
    }

    /// The options the queue was opened with.
    pub fn options(&self) -> &PgQueueOptions {
        &self.options
    }

    /// Drops the queue's table, sequence and `tempfail_meta` row: every entry
    /// is gone. Other handles on the queue then answer
    /// [`SharedQueueError::MissingStorage`].
    pub async fn drop_storage(&self) -> Result<(), SharedQueueError> {
        let conn = self.conn().await?;
        let t = self.names.table();
        let meta = self.names.meta();
        let client = &conn.client;
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS {t}"))
            .await
            .map_err(map_err)?;
        client
            .execute(
                &format!("DELETE FROM {meta} WHERE queue = $1"),
                &[&self.names.name],
            )
            .await
            .map_err(map_err)?;
        Ok(())
    }

    /// Inserts many entries in one statement; one result per entry, in
    /// order, each what [`insert`](SharedQueue::insert) would answer had the
    /// entries been inserted one by one (a key repeated in the batch is a
    /// [`SharedQueueError::DuplicateKey`] after its first occurrence). The
    /// outer error is the store's: nothing was inserted.
    pub async fn insert_batch(
        &self,
        entries: &[NewEntry],
    ) -> Result<Vec<Result<(), SharedQueueError>>, SharedQueueError> {
        let mut out: Vec<Option<Result<(), SharedQueueError>>> = Vec::with_capacity(entries.len());
        let (mut keys, mut dues, mut prios, mut items) = (vec![], vec![], vec![], vec![]);
        for e in entries {
            match self.check_entry(e) {
                Err(err) => out.push(Some(Err(err))),
                Ok(()) => {
                    out.push(None);
                    keys.push(e.key.as_str());
                    dues.push(ts_to_db(e.due));
                    prios.push(i16::from(e.priority));
                    items.push(e.item.as_slice());
                }
            }
        }
        let mut inserted: HashMap<String, usize> = HashMap::new();
        if !keys.is_empty() {
            let conn = self.conn().await?;
            let rows = conn
                .client
                .query(&conn.st.insert_batch, &[&keys, &dues, &prios, &items])
                .await
                .map_err(map_err)?;
            for row in &rows {
                let k: String = get(row, 0)?;
                *inserted.entry(k).or_default() += 1;
            }
        }
        Ok(entries
            .iter()
            .zip(out)
            .map(|(e, r)| match r {
                Some(r) => r,
                None => match inserted.get_mut(&e.key) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        Ok(())
                    }
                    _ => Err(SharedQueueError::DuplicateKey(e.key.clone())),
                },
            })
            .collect())
    }

    fn check_entry(&self, e: &NewEntry) -> Result<(), SharedQueueError> {
        validate_key(&e.key)?;
        if e.item.len() > self.options.max_item_len {
            return Err(SharedQueueError::ItemTooLarge {
                len: e.item.len(),
                max: self.options.max_item_len,
            });
        }
        Ok(())
    }

    /// The live connection, reconnecting first when it broke and the queue
    /// knows where to.
    async fn conn(&self) -> Result<Arc<Conn>, SharedQueueError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len().max(1);
        let Some(slot) = self.conns.get(i) else {
            return Err(SharedQueueError::Backend(
                "queue has no connection".to_owned(),
            ));
        };
        let current = Self::current(slot);
        if !current.client.is_closed() {
            return Ok(current);
        }
        let Some(url) = &self.url else {
            return Err(SharedQueueError::Unavailable(
                "connection closed (the queue was opened on a caller's client: open a new one)"
                    .to_owned(),
            ));
        };
        let _one_at_a_time = self.reconnect.lock().await;
        let current = Self::current(slot);
        if !current.client.is_closed() {
            return Ok(current); // another task reconnected meanwhile
        }
        let client = connect_client(url).await?;
        let conn = Arc::new(setup(client, &self.names, &self.sql, false).await?);
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&conn);
        Ok(conn)
    }

    fn current(slot: &Mutex<Arc<Conn>>) -> Arc<Conn> {
        // Only an `Arc` swap happens under this lock; a poisoned one still
        // holds a valid `Arc`.
        Arc::clone(&slot.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs a token-guarded statement; 0 rows is `LeaseLost`.
    async fn guarded(
        &self,
        pick: fn(&Statements) -> &Statement,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        extra: Option<i64>,
    ) -> Result<(), SharedQueueError> {
        let lost = || SharedQueueError::LeaseLost {
            key: key.to_owned(),
            token,
        };
        // A key no entry can have, or a token the sequence never gave out,
        // holds nothing.
        if validate_key(key).is_err() {
            return Err(lost());
        }
        let Ok(tok) = i64::try_from(token.0) else {
            return Err(lost());
        };
        let now = ts_to_db(now);
        let conn = self.conn().await?;
        let n = match extra {
            None => {
                conn.client
                    .execute(pick(&conn.st), &[&key, &tok, &now])
                    .await
            }
            Some(x) => {
                conn.client
                    .execute(pick(&conn.st), &[&key, &tok, &now, &x])
                    .await
            }
        }
        .map_err(map_err)?;
        if n == 0 { Err(lost()) } else { Ok(()) }
    }
}

/// Connects without TLS and spawns the connection task.
async fn connect_client(url: &str) -> Result<Client, SharedQueueError> {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Err(SharedQueueError::Unavailable(
            "PgQueue::connect must run inside a tokio runtime".to_owned(),
        ));
    };
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(map_err)?;
    // The task ends when the connection breaks or the client is dropped; its
    // error reaches the caller through the next statement on the client.
    runtime.spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Creates or checks the schema, then prepares the statements.
async fn setup(
    mut client: Client,
    names: &Names,
    sql: &Sql,
    create: bool,
) -> Result<Conn, SharedQueueError> {
    if create {
        create_schema(&mut client, names, sql).await?;
    } else {
        check_schema(&client, names).await?;
    }
    let st = prepare(&client, sql).await?;
    Ok(Conn { client, st })
}

async fn check_schema(client: &Client, names: &Names) -> Result<(), SharedQueueError> {
    let row = client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL",
            &[&names.meta(), &names.table()],
        )
        .await
        .map_err(map_err)?;
    let (has_meta, has_table): (bool, bool) = (get(&row, 0)?, get(&row, 1)?);
    let missing = || {
        SharedQueueError::MissingStorage(format!(
            "queue table {} does not exist (create it with create_if_missing)",
            names.table()
        ))
    };
    if !has_meta {
        return Err(missing());
    }
    let version = client
        .query_opt(
            &format!("SELECT version FROM {} WHERE queue = $1", names.meta()),
            &[&names.name],
        )
        .await
        .map_err(map_err)?;
    match version {
        None => Err(missing()),
        Some(row) => {
            let found: i64 = get(&row, 0)?;
            if found != SCHEMA_VERSION {
                Err(SharedQueueError::SchemaVersion {
                    found,
                    expected: SCHEMA_VERSION,
                })
            } else if !has_table {
                Err(missing())
            } else {
                Ok(())
            }
        }
    }
}

async fn create_schema(
    client: &mut Client,
    names: &Names,
    sql: &Sql,
) -> Result<(), SharedQueueError> {
    let tx = client.transaction().await.map_err(map_err)?;
    // One creator per schema at a time: CREATE ... IF NOT EXISTS is not safe
    // against a concurrent CREATE of the same object.
    tx.execute(
        "SELECT pg_advisory_xact_lock(1952804204, hashtext($1))",
        &[&names.schema],
    )
    .await
    .map_err(map_err)?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{}\"; \
         CREATE TABLE IF NOT EXISTS {} (queue text COLLATE \"C\" PRIMARY KEY, version bigint NOT NULL)",
        names.schema,
        names.meta()
    ))
    .await
    .map_err(map_err)?;
    let found = tx
        .query_opt(
            &format!("SELECT version FROM {} WHERE queue = $1", names.meta()),
            &[&names.name],
        )
        .await
        .map_err(map_err)?;
    if let Some(row) = found {
        let found: i64 = get(&row, 0)?;
        if found != SCHEMA_VERSION {
            return Err(SharedQueueError::SchemaVersion {
                found,
                expected: SCHEMA_VERSION,
            });
        }
        // Already there: run no DDL, which would lock the busy table (CREATE
        // INDEX IF NOT EXISTS takes its lock before it looks).
        let exists = tx
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&names.table()])
            .await
            .map_err(map_err)?;
        if get::<bool>(&exists, 0)? {
            return tx.commit().await.map_err(map_err);
        }
    }
    let (last, ddl) = match sql.create.split_last() {
        Some(split) => split,
        None => return Err(SharedQueueError::Backend("no schema statements".to_owned())),
    };
    for stmt in ddl {
        tx.batch_execute(stmt).await.map_err(map_err)?;
    }
    tx.execute(last.as_str(), &[&names.name, &SCHEMA_VERSION])
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)
}

async fn prepare(client: &Client, sql: &Sql) -> Result<Statements, SharedQueueError> {
    use Type as T;
    let p = |text: &str, types: &'static [Type]| {
        let text = text.to_owned();
        async move { client.prepare_typed(&text, types).await.map_err(map_err) }
    };
    Ok(Statements {
        insert: p(&sql.insert, &[T::TEXT, T::INT8, T::INT2, T::BYTEA]).await?,
        insert_batch: p(
            &sql.insert_batch,
            &[T::TEXT_ARRAY, T::INT8_ARRAY, T::INT2_ARRAY, T::BYTEA_ARRAY],
        )
        .await?,
        claim: p(&sql.claim, &[T::INT8, T::INT8, T::INT8]).await?,
        complete: p(&sql.complete, &[T::TEXT, T::INT8, T::INT8]).await?,
        complete_batch: p(
            &sql.complete_batch,
            &[T::TEXT_ARRAY, T::INT8_ARRAY, T::INT8],
        )
        .await?,
        defer: p(&sql.defer, &[T::TEXT, T::INT8, T::INT8, T::INT8]).await?,
        release: p(&sql.release, &[T::TEXT, T::INT8, T::INT8]).await?,
        extend: p(&sql.extend, &[T::TEXT, T::INT8, T::INT8, T::INT8]).await?,
        reap: p(&sql.reap, &[T::INT8]).await?,
        cancel: p(&sql.cancel, &[T::TEXT, T::INT8]).await?,
        reschedule: p(&sql.reschedule, &[T::TEXT, T::INT8, T::INT8, T::INT2]).await?,
        get: p(&sql.get, &[T::TEXT]).await?,
        stats: p(&sql.stats, &[T::INT8]).await?,
    })
}

/// A time as stored: milliseconds, saturating at `i64::MAX`.
fn ts_to_db(t: Timestamp) -> i64 {
    i64::try_from(t.as_millis()).unwrap_or(i64::MAX)
}

/// A stored time; `i64::MAX` (the saturated value) reads as
/// [`Timestamp::MAX`], a negative one (never written by the crate) as the
/// epoch.
fn ts_from_db(v: i64) -> Timestamp {
    if v == i64::MAX {
        Timestamp::MAX
    } else {
        Timestamp::from_millis(u64::try_from(v).unwrap_or(0))
    }
}

fn priority_from_db(v: i16) -> Result<Priority, SharedQueueError> {
    Priority::try_from(v)
        .map_err(|_| SharedQueueError::Backend(format!("priority {v} out of range 0..=255")))
}

fn attempts_from_db(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

fn token_from_db(v: i64) -> LeaseToken {
    LeaseToken(u64::try_from(v).unwrap_or(0))
}

/// Reads column `i`, as an error rather than a panic when the row is not
/// what the statement promised.
fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, SharedQueueError> {
    row.try_get(i).map_err(map_err)
}

/// The error's text and every cause under it.
fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// Sorts a client error into the contract's kinds, keeping its text.
fn map_err(e: tokio_postgres::Error) -> SharedQueueError {
    let text = chain(&e);
    if e.is_closed() {
        return SharedQueueError::Unavailable(text);
    }
    if let Some(code) = e.code() {
        let c = code.code();
        return if c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03" | "53300") {
            // connection exceptions, admin/crash shutdown, cannot connect now,
            // too many connections
            SharedQueueError::Unavailable(text)
        } else if matches!(c, "42P01" | "3F000") {
            // undefined table, invalid schema name: the queue was dropped
            SharedQueueError::MissingStorage(text)
        } else {
            SharedQueueError::Backend(text)
        };
    }
    let mut cause = e.source();
    while let Some(c) = cause {
        if c.is::<std::io::Error>() {
            return SharedQueueError::Unavailable(text);
        }
        cause = c.source();
    }
    if text.starts_with("timeout") || text.starts_with("error connecting") {
        SharedQueueError::Unavailable(text)
    } else {
        SharedQueueError::Backend(text)
    }
}

impl SharedQueue for PgQueue {
    fn max_item_len(&self) -> usize {
        self.options.max_item_len
    }

    async fn insert(&self, entry: NewEntry) -> Result<(), SharedQueueError> {
        self.check_entry(&entry)?;
        let conn = self.conn().await?;
        let n = conn
            .client
            .execute(
                &conn.st.insert,
                &[
                    &entry.key,
                    &ts_to_db(entry.due),
                    &i16::from(entry.priority),
                    &entry.item,
                ],
            )
            .await
            .map_err(map_err)?;
        if n == 0 {
            Err(SharedQueueError::DuplicateKey(entry.key))
        } else {
            Ok(())
        }
    }

    async fn claim(
        &self,
        now: Timestamp,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Claim>, SharedQueueError> {
        validate_claim(max, lease)?;
        let expires = ts_to_db(now.saturating_add(lease));
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let conn = self.conn().await?;
        let rows = conn
            .client
            .query(&conn.st.claim, &[&ts_to_db(now), &limit, &expires])
            .await
            .map_err(map_err)?;
        let mut claims = Vec::with_capacity(rows.len());
        for row in &rows {
            claims.push(Claim {
                key: get(row, 0)?,
                item: get(row, 1)?,
                due: ts_from_db(get(row, 2)?),
                priority: priority_from_db(get(row, 3)?)?,
                attempts: attempts_from_db(get(row, 4)?),
                token: token_from_db(get(row, 5)?),
                lease_expires: ts_from_db(expires),
            });
        }
        // Tokens were drawn in claim order; RETURNING's order is the
        // server's.
        claims.sort_unstable_by_key(|c| c.token);
        Ok(claims)
    }

    async fn complete(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<(), SharedQueueError> {
        self.guarded(|s| &s.complete, key, token, now, None).await
    }

    async fn complete_batch(
        &self,
        done: &[(&str, LeaseToken)],
        now: Timestamp,
    ) -> Result<Vec<Result<(), SharedQueueError>>, SharedQueueError> {
        let (mut keys, mut tokens) = (Vec::new(), Vec::new());
        for &(key, token) in done {
            if let (Ok(()), Ok(t)) = (validate_key(key), i64::try_from(token.0)) {
                keys.push(key);
                tokens.push(t);
            }
        }
        let mut deleted: HashMap<(String, i64), ()> = HashMap::new();
        if !keys.is_empty() {
            let conn = self.conn().await?;
            let rows = conn
                .client
                .query(&conn.st.complete_batch, &[&keys, &tokens, &ts_to_db(now)])
                .await
                .map_err(map_err)?;
            for row in &rows {
                deleted.insert((get(row, 0)?, get(row, 1)?), ());
            }
        }
        Ok(done
            .iter()
            .map(|&(key, token)| {
                // The first occurrence of a pair takes the deletion; a repeat
                // finds the entry gone, as a second `complete` would.
                let hit = i64::try_from(token.0)
                    .ok()
                    .and_then(|t| deleted.remove(&(key.to_owned(), t)));
                match hit {
                    Some(()) => Ok(()),
                    None => Err(SharedQueueError::LeaseLost {
                        key: key.to_owned(),
                        token,
                    }),
                }
            })
            .collect())
    }

    async fn defer(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        due: Timestamp,
    ) -> Result<(), SharedQueueError> {
        self.guarded(|s| &s.defer, key, token, now, Some(ts_to_db(due)))
            .await
    }

    async fn release(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<(), SharedQueueError> {
        self.guarded(|s| &s.release, key, token, now, None).await
    }

    async fn extend(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Timestamp, SharedQueueError> {
        validate_claim(1, lease)?;
        let expires = ts_to_db(now.saturating_add(lease));
        self.guarded(|s| &s.extend, key, token, now, Some(expires))
            .await?;
        Ok(ts_from_db(expires))
    }

    async fn reap(&self, now: Timestamp) -> Result<u64, SharedQueueError> {
        let conn = self.conn().await?;
        conn.client
            .execute(&conn.st.reap, &[&ts_to_db(now)])
            .await
            .map_err(map_err)
    }

    async fn cancel(&self, key: &str, now: Timestamp) -> Result<Vec<u8>, SharedQueueError> {
        if validate_key(key).is_err() {
            return Err(SharedQueueError::NotFound(key.to_owned()));
        }
        let conn = self.conn().await?;
        let row = conn
            .client
            .query_one(&conn.st.cancel, &[&key, &ts_to_db(now)])
            .await
            .map_err(map_err)?;
        let item: Option<Vec<u8>> = get(&row, 0)?;
        let existed: bool = get(&row, 1)?;
        match item {
            Some(item) => Ok(item),
            None if existed => Err(SharedQueueError::Busy(key.to_owned())),
            None => Err(SharedQueueError::NotFound(key.to_owned())),
        }
    }

    async fn reschedule(
        &self,
        key: &str,
        now: Timestamp,
        due: Timestamp,
        priority: Priority,
    ) -> Result<(), SharedQueueError> {
        if validate_key(key).is_err() {
            return Err(SharedQueueError::NotFound(key.to_owned()));
        }
        let conn = self.conn().await?;
        let row = conn
            .client
            .query_one(
                &conn.st.reschedule,
                &[&key, &ts_to_db(now), &ts_to_db(due), &i16::from(priority)],
            )
            .await
            .map_err(map_err)?;
        let (changed, existed): (bool, bool) = (get(&row, 0)?, get(&row, 1)?);
        match (changed, existed) {
            (true, _) => Ok(()),
            (false, true) => Err(SharedQueueError::Busy(key.to_owned())),
            (false, false) => Err(SharedQueueError::NotFound(key.to_owned())),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<EntryInfo>, SharedQueueError> {
        if validate_key(key).is_err() {
            return Ok(None);
        }
        let conn = self.conn().await?;
        let Some(row) = conn
            .client
            .query_opt(&conn.st.get, &[&key])
            .await
            .map_err(map_err)?
        else {
            return Ok(None);
        };
        let token: Option<i64> = get(&row, 3)?;
        let expires: Option<i64> = get(&row, 4)?;
        let state = match (token, expires) {
            (Some(t), Some(e)) => EntryState::Leased {
                token: token_from_db(t),
                expires: ts_from_db(e),
            },
            _ => EntryState::Waiting,
        };
        Ok(Some(EntryInfo {
            key: key.to_owned(),
            due: ts_from_db(get(&row, 0)?),
            priority: priority_from_db(get(&row, 1)?)?,
            attempts: attempts_from_db(get(&row, 2)?),
            state,
            item: get(&row, 5)?,
        }))
    }

    async fn stats(&self, now: Timestamp) -> Result<SharedStats, SharedQueueError> {
        let conn = self.conn().await?;
        let rows = conn
            .client
            .query(&conn.st.stats, &[&ts_to_db(now)])
            .await
            .map_err(map_err)?;
        let mut stats = SharedStats::default();
        let mut oldest: Option<i64> = None;
        let count = |v: i64| u64::try_from(v).unwrap_or(0);
        for row in &rows {
            let priority = priority_from_db(get(row, 0)?)?;
            let len = count(get(row, 1)?);
            stats.len = stats.len.saturating_add(len);
            stats.by_priority.push((priority, len));
            stats.due_now = stats.due_now.saturating_add(count(get(row, 2)?));
            stats.leased = stats.leased.saturating_add(count(get(row, 3)?));
            stats.expired_leases = stats.expired_leases.saturating_add(count(get(row, 4)?));
            if let Some(due) = get::<Option<i64>>(row, 5)? {
                oldest = Some(oldest.map_or(due, |o| o.min(due)));
            }
        }
        stats
            .by_priority
            .sort_unstable_by_key(|&(p, _)| core::cmp::Reverse(p));
        stats.oldest_due_age = oldest.map(|due| now.saturating_duration_since(ts_from_db(due)));
        Ok(stats)
    }
}
