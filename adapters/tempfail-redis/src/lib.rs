//! Redis for tempfail: a shared deferral queue ([`RedisQueue`], the core's
//! [`SharedQueue`](tempfail::shared_queue::SharedQueue) contract) and
//! destination limits shared by many workers ([`RedisLimiter`]).
//!
//! Every operation is one Lua script, so each is one atomic step on the
//! server; `now` is always the caller's (nothing reads Redis's `TIME`), so the
//! whole contract runs in virtual time, as the core's conformance suite runs
//! it against this crate.
//!
//! ```no_run
//! use std::time::Duration;
//! use tempfail::Timestamp;
//! use tempfail::shared_queue::{NewEntry, SharedQueue};
//! use tempfail_redis::RedisQueue;
//!
//! # async fn run() -> Result<(), tempfail::shared_queue::SharedQueueError> {
//! let q = RedisQueue::connect("redis://127.0.0.1:6379/", "outbound").await?;
//! let now = Timestamp::from_secs(1_700_000_000);
//! q.insert(NewEntry::new("msg-1", now, 0, *b"spool/1")).await?;
//!
//! for c in q.claim(now, 100, Duration::from_secs(60)).await? {
//!     // ... attempt the delivery of c.item ...
//!     q.complete(&c.key, c.token, now).await?; // or defer / release
//! }
//! // Now and then, on any worker: entries of dead workers wait again.
//! q.reap(now).await?;
//! # Ok(()) }
//! ```
//!
//! # Connections
//!
//! [`RedisQueue`] and [`RedisLimiter`] are generic over the `redis` crate's
//! async connection (`C: ConnectionLike + Clone + Send + Sync`) and clone it
//! for each call. `connect` opens a [`MultiplexedConnection`], the default: one
//! TCP connection that pipelines the requests of every task sharing it, which
//! is what batched claims from many tasks want. It does not reconnect: after
//! a broken connection every call answers `Unavailable`; open a new one, or
//! pass a `ConnectionManager` (the `redis` crate's `connection-manager`
//! feature, enabled in your own `Cargo.toml`), which reconnects by itself, or
//! a Cluster connection (`cluster-async`) to [`RedisQueue::open`]. `connect`
//! sets a 5 s connect timeout and no response timeout; build the connection
//! yourself (`redis::AsyncConnectionConfig`) to bound how long a call may
//! wait for a hung server.
//!
//! [`MultiplexedConnection`]: redis::aio::MultiplexedConnection
//!
//! # Key layout
//!
//! All keys of the queue `name` start with `tempfail:{name}:`; `{name}` is a
//! Redis Cluster hash tag, so they all live in one slot and every script runs
//! on one node. (The scripts declare the meta key and derive the others from
//! the prefix; the derived keys are in the declared key's slot, which Redis
//! Cluster serves.)
//!
//! | key | type | holds |
//! |---|---|---|
//! | `…:meta` | hash | `version` (the schema, [`SCHEMA_VERSION`]), `seq` (insertion counter), `token` (lease-token counter) |
//! | `…:entries` | hash | per key, a 74-character record: due, insertion sequence, priority, attempts, lease token and expiry (hex, fixed width) |
//! | `…:items` | hash | per key, the item's bytes |
//! | `…:w:<priority>` | sorted set | the waiting entries of one priority band: score = due in ms, member = due, sequence, key |
//! | `…:bands` | sorted set | the priorities whose band is not empty |
//! | `…:leases` | sorted set | the leased entries: score = lease expiry in ms, member = expiry, token, key |
//! | `…:counts` | hash | entries (waiting or leased) per priority, for `stats` |
//!
//! Times and tokens are 16 hex digits in records and members, so string order
//! is numeric order over the whole `u64` range; scores are the same
//! milliseconds, exact below 2^53 ms (the year 287,000) and clamped above,
//! where the members' hex prefix still orders them exactly. One sorted set per
//! priority keeps each score a plain due time. Tokens come from one counter
//! (`HINCRBY`), so a token is never handed out twice by a queue; they are exact
//! below 2^53 claims. The counter lives as long as the queue: after
//! [`RedisQueue::destroy`], or a server restart that lost the data, a queue of
//! the same name counts from 1 again, so stop the old queue's workers first.
//!
//! # Scripts
//!
//! | script | what it does atomically |
//! |---|---|
//! | open | creates the meta hash when missing; answers the stored version |
//! | insert | refuses a live key (`duplicate_key`); stores record and item, joins the band |
//! | claim | visits the non-empty bands from the highest priority down, takes the due members in (due, insertion) order up to `max`, writes each record's token, expiry and attempt, indexes the leases; a leased entry is in no band, so it is never claimed twice |
//! | complete | for one key or a batch: checks each token against the record at `now` (`lease_lost` otherwise), removes the entries |
//! | defer, release | checks the token; back to waiting with a new due time (defer) or the same one and one attempt less (release), as if inserted now |
//! | extend | checks the token; moves the expiry |
//! | reap | returns up to 1000 expired leases per call to waiting, in (expiry, token) order; [`reap`](tempfail::shared_queue::SharedQueue::reap) calls it until none is left, so Redis is never blocked long |
//! | cancel, reschedule | `busy` under a live lease; an expired lease does not block |
//! | get, stats | read one entry; count bands, due entries, leases |
//! | destroy | deletes every key of the queue ([`RedisQueue::destroy`]) |
//!
//! Every queue script first checks the meta hash: missing → `MissingStorage`
//! (never opened, deleted, or lost by the server), another version →
//! `SchemaVersion`. Connection trouble maps to `Unavailable`, anything else
//! the server says (a script error, a key of the wrong type) to `Backend`.
//! Scripts are sent with `EVALSHA` and loaded again after a restart.
//!
//! # Persistence
//!
//! A queue keeps what Redis keeps. With `appendonly yes` and `appendfsync
//! always`, every acknowledged operation is on disk before its reply (the
//! tests kill such a server with SIGKILL and find every entry, lease and
//! token counter back); `appendfsync everysec` may lose about the last second;
//! without persistence (`--save '' --appendonly no`, the tests' default) a
//! restart loses every queue, and a handle opened before answers
//! `MissingStorage` rather than acting on an empty queue. Replication is
//! asynchronous: a failover can lose the last writes. Run the server with
//! `maxmemory-policy noeviction`: an evicting policy would silently drop
//! queue keys.
//!
//! # Shared destination limits
//!
//! The core's [`Registry`](tempfail::destination::Registry) decides per
//! process: dead destinations, adaptive concurrency, pacing, suspensions. When
//! many workers send to one destination, [`RedisLimiter`] adds what they must
//! respect together: a connection count per destination whose slots are
//! leases (a dead worker's slots come back when their lease ends), and GCRA
//! rates for connections and messages, computed exactly as the registry's.
//! [`SharedLimits::from_health_config`] takes them from the registry's own
//! configuration. Ask the registry first (it is local and knows whether the
//! destination is dead or suspended), then the limiter; give the registry's
//! permit back as unused when the limiter says wait:
//!
//! ```no_run
//! use tempfail::Timestamp;
//! use tempfail::destination::{Decision, HealthConfig, Registry, Report};
//! use tempfail_redis::{Admission, RedisLimiter, SharedLimits};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let cfg = HealthConfig::postfix();
//! let limits = SharedLimits::from_health_config(&cfg);
//! let mut registry: Registry<String> = Registry::new(cfg)?;
//! let limiter = RedisLimiter::connect("redis://127.0.0.1:6379/", "senders").await?;
//!
//! let (dest, now) = ("mx.example.com", Timestamp::from_secs(1_700_000_000));
//! match registry.acquire_connection(dest, now) {
//!     Decision::Go(permit) => match limiter.acquire_connection(dest, &limits, now).await? {
//!         Admission::Go(slot) => {
//!             // ... connect and send; then, at `done`:
//!             let done = now;
//!             limiter.release(&slot, done).await?;
//!             registry.release(permit, done, Report::Success)?;
//!         }
//!         Admission::Wait { until, reason } => {
//!             registry.release(permit, now, Report::Unused)?;
//!             println!("{dest}: shared {reason}, ask again at {until}");
//!         }
//!     },
//!     other => println!("{dest}: {other}"),
//! }
//! # Ok(()) }
//! ```
//!
//! A worker holding a connection longer than the slot lease extends it
//! ([`RedisLimiter::extend`]); before each message it asks
//! [`RedisLimiter::acquire_message`] after the registry's `acquire_message`.
//! Each limiter call is one script on the destination's two keys, under the
//! hash tag `{limiter/destination}` (destinations spread over a cluster).
//! `examples/shared_limits.rs` runs this wiring for three machines sharing a
//! destination's limits, in virtual time, against a private server.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod limiter;
mod queue;
mod scripts;
mod value;

pub use limiter::{Admission, LimitError, MAX_DESTINATION_LEN, RedisLimiter, SharedLimits, Slot};
pub use queue::{MAX_NAME_LEN, RedisQueue, SCHEMA_VERSION};
