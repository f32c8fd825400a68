//! [`RedisQueue`]: the shared deferral queue on Redis.

use core::fmt;
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{Script, Value};
use tempfail::Timestamp;
use tempfail::queue::Priority;
use tempfail::shared_queue::{
    Claim, DEFAULT_MAX_ITEM_LEN, EntryInfo, EntryState, LeaseToken, NewEntry, SharedQueue,
    SharedQueueError, SharedStats, validate_claim, validate_key,
};

use crate::scripts;
use crate::value::{Reply, hex_time, hex_token, map_err, parse_hex_time};

/// The schema version this crate writes in a queue's meta hash and expects to
/// find there.
pub const SCHEMA_VERSION: i64 = 1;

/// Longest queue name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 200;

/// Entries one reap script call returns to waiting; a reap of more runs the
/// script again, so Redis is never blocked for long.
const REAP_BATCH: usize = 1000;

/// A [`SharedQueue`] on Redis: every operation is one Lua script (one atomic
/// step on the server), keyed under the hash tag `{name}`.
///
/// `C` is any async `redis` connection that can be cloned cheaply and shared:
/// [`MultiplexedConnection`] (the default, what [`connect`](Self::connect)
/// opens: one TCP connection that pipelines the requests of every task using
/// it), a `ConnectionManager` (the `redis` crate's `connection-manager`
/// feature: the same, and it reconnects after a broken connection), or a
/// Cluster connection. The queue clones the connection for each operation.
///
/// See the [crate documentation](crate) for the key layout and the scripts.
pub struct RedisQueue<C = MultiplexedConnection> {
    conn: C,
    name: String,
    prefix: String,
    meta: String,
    max_item_len: usize,
}

impl<C> fmt::Debug for RedisQueue<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisQueue")
            .field("name", &self.name)
            .field("prefix", &self.prefix)
            .field("max_item_len", &self.max_item_len)
            .finish_non_exhaustive()
    }
}

/// Checks a queue or limiter name: 1 to [`MAX_NAME_LEN`] bytes, no `{`, `}`
/// or NUL (the name is the Cluster hash tag).
pub(crate) fn validate_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > MAX_NAME_LEN || name.contains(['{', '}', '\0']) {
        return Err("name must be 1 to 200 bytes without '{', '}' or NUL");
    }
    Ok(())
}

impl RedisQueue<MultiplexedConnection> {
    /// Connects to the server at `url` (`redis://host:port/db`) with one
    /// multiplexed connection (5 s connect timeout) and opens the queue `name`
    /// there, as [`open`](Self::open) does.
    ///
    /// [`SharedQueueError::Unavailable`] when the server cannot be reached.
    pub async fn connect(url: &str, name: &str) -> Result<Self, SharedQueueError> {
        let client = redis::Client::open(url)
            .map_err(|e| SharedQueueError::Backend(format!("invalid Redis URL {url:?}: {e}")))?;
        let config =
            redis::AsyncConnectionConfig::new().set_connection_timeout(Duration::from_secs(5));
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(map_err)?;
        Self::open(conn, name).await
    }
}

impl<C> RedisQueue<C>
where
    C: ConnectionLike + Clone + Send + Sync,
{
    /// Opens the queue `name` over `conn`, creating its meta hash
    /// (`tempfail:{name}:meta`, holding the schema version) when it does not
    /// exist. Items up to [`DEFAULT_MAX_ITEM_LEN`] bytes are accepted.
    ///
    /// [`SharedQueueError::SchemaVersion`] when the name holds a queue of
    /// another version; [`SharedQueueError::InvalidArgument`] for a name that
    /// is empty, longer than [`MAX_NAME_LEN`] bytes or holds `{`, `}` or NUL.
    pub async fn open(conn: C, name: &str) -> Result<Self, SharedQueueError> {
        validate_name(name).map_err(SharedQueueError::InvalidArgument)?;
        let prefix = format!("tempfail:{{{name}}}:");
        let queue = RedisQueue {
            conn,
            name: name.to_owned(),
            meta: format!("{prefix}meta"),
            prefix,
            max_item_len: DEFAULT_MAX_ITEM_LEN,
        };
        let mut conn = queue.conn.clone();
        let found: Value = scripts::OPEN
            .key(&queue.meta)
            .arg(SCHEMA_VERSION)
            .invoke_async(&mut conn)
            .await
            .map_err(map_err)?;
        let found = Reply::new(found);
        match found.text() {
            Some(v) if v == SCHEMA_VERSION.to_string() => Ok(queue),
            v => Err(SharedQueueError::SchemaVersion {
                found: v.and_then(|v| v.parse().ok()).unwrap_or(-1),
                expected: SCHEMA_VERSION,
            }),
        }
    }

    /// The same queue accepting items up to `max_item_len` bytes (Redis
    /// itself takes values up to 512 MB; the contract's default is 64 KiB).
    #[must_use]
    pub fn with_max_item_len(mut self, max_item_len: usize) -> Self {
        self.max_item_len = max_item_len;
        self
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The prefix of every key of this queue, `tempfail:{name}:`.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// The connection the queue clones for each operation.
    pub fn connection(&self) -> &C {
        &self.conn
    }

    /// Deletes the queue: every entry, waiting or leased, and every key under
    /// its prefix, the meta hash included (one script). Returns how many
    /// entries it held. Afterwards every operation on this queue answers
    /// [`SharedQueueError::MissingStorage`] until it is opened again.
    pub async fn destroy(&self) -> Result<u64, SharedQueueError> {
        let (status, mut reply) = self.run(&scripts::DESTROY, Vec::<Vec<u8>>::new()).await?;
        if status != "ok" {
            return Err(unexpected(&status));
        }
        reply
            .next_int()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| malformed("destroy count"))
    }

    /// Runs a queue script: KEYS = the meta hash; ARGV = the version, the
    /// prefix, then `args`. Answers the reply after its status when that
    /// status is neither `missing` nor `schema`.
    async fn run<A: redis::ToRedisArgs>(
        &self,
        script: &Script,
        args: A,
    ) -> Result<(String, Reply), SharedQueueError> {
        let mut inv = script.prepare_invoke();
        inv.key(&self.meta)
            .arg(SCHEMA_VERSION)
            .arg(&self.prefix)
            .arg(args);
        let mut conn = self.conn.clone();
        let value: Value = inv.invoke_async(&mut conn).await.map_err(map_err)?;
        let mut reply = Reply::new(value);
        let status = reply
            .next_text()
            .ok_or_else(|| SharedQueueError::Backend("script answered without a status".into()))?;
        match status.as_str() {
            "missing" => Err(SharedQueueError::MissingStorage(format!(
                "queue {:?} has no meta hash {:?} (never opened, deleted, or lost by the server)",
                self.name, self.meta
            ))),
            "schema" => {
                let found = reply.next_text().and_then(|v| v.parse().ok()).unwrap_or(-1);
                Err(SharedQueueError::SchemaVersion {
                    found,
                    expected: SCHEMA_VERSION,
                })
            }
            _ => Ok((status, reply)),
        }
    }

    fn lost(key: &str, token: LeaseToken) -> SharedQueueError {
        SharedQueueError::LeaseLost {
            key: key.to_owned(),
            token,
        }
    }

    async fn to_waiting(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        due: Option<Timestamp>,
    ) -> Result<(), SharedQueueError> {
        // No new due time: a release, which keeps the due time and takes the
        // attempt back.
        let release = if due.is_none() { "1" } else { "0" };
        let due = due.map(hex_time).unwrap_or_default();
        let (status, _) = self
            .run(
                &scripts::DEFER,
                (key, hex_token(token), hex_time(now), due.as_str(), release),
            )
            .await?;
        match status.as_str() {
            "ok" => Ok(()),
            "lost" => Err(Self::lost(key, token)),
            other => Err(unexpected(other)),
        }
    }
}

fn unexpected(status: &str) -> SharedQueueError {
    SharedQueueError::Backend(format!("unexpected script status {status:?}"))
}

fn malformed(what: &str) -> SharedQueueError {
    SharedQueueError::Backend(format!("malformed script reply: {what}"))
}

fn priority(text: Option<String>) -> Result<Priority, SharedQueueError> {
    text.and_then(|p| p.parse().ok())
        .ok_or_else(|| malformed("priority"))
}

impl<C> SharedQueue for RedisQueue<C>
where
    C: ConnectionLike + Clone + Send + Sync,
{
    fn max_item_len(&self) -> usize {
        self.max_item_len
    }

    async fn insert(&self, entry: NewEntry) -> Result<(), SharedQueueError> {
        validate_key(&entry.key)?;
        if entry.item.len() > self.max_item_len {
            return Err(SharedQueueError::ItemTooLarge {
                len: entry.item.len(),
                max: self.max_item_len,
            });
        }
        let (status, _) = self
            .run(
                &scripts::INSERT,
                (
                    entry.key.as_str(),
                    hex_time(entry.due),
                    entry.priority,
                    entry.item.as_slice(),
                ),
            )
            .await?;
        match status.as_str() {
            "ok" => Ok(()),
            "dup" => Err(SharedQueueError::DuplicateKey(entry.key)),
            other => Err(unexpected(other)),
        }
    }

    async fn claim(
        &self,
        now: Timestamp,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Claim>, SharedQueueError> {
        validate_claim(max, lease)?;
        let expires = now.saturating_add(lease);
        let (status, mut reply) = self
            .run(&scripts::CLAIM, (hex_time(now), max, hex_time(expires)))
            .await?;
        if status != "ok" {
            return Err(unexpected(&status));
        }
        let mut out = Vec::with_capacity(reply.remaining() / 6);
        while reply.remaining() > 0 {
            let key = reply.next_text().ok_or_else(|| malformed("claim key"))?;
            let item = reply.next_bytes().ok_or_else(|| malformed("claim item"))?;
            let due = reply
                .next_text()
                .and_then(|d| parse_hex_time(&d))
                .ok_or_else(|| malformed("claim due"))?;
            let priority = priority(reply.next_text())?;
            let attempts = reply
                .next_int()
                .ok_or_else(|| malformed("claim attempts"))?;
            let token = reply
                .next_int()
                .and_then(|t| u64::try_from(t).ok())
                .ok_or_else(|| malformed("claim token"))?;
            out.push(Claim {
                key,
                item,
                due,
                priority,
                attempts: u32::try_from(attempts.max(0)).unwrap_or(u32::MAX),
                token: LeaseToken(token),
                lease_expires: expires,
            });
        }
        if out.len() > max {
            return Err(malformed("claim returned more entries than asked"));
        }
        Ok(out)
    }

    async fn complete(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<(), SharedQueueError> {
        let (status, mut reply) = self
            .run(&scripts::COMPLETE, (hex_time(now), key, hex_token(token)))
            .await?;
        if status != "ok" {
            return Err(unexpected(&status));
        }
        match reply.next_int() {
            Some(1) => Ok(()),
            Some(_) => Err(Self::lost(key, token)),
            None => Err(malformed("complete result")),
        }
    }

    async fn complete_batch(
        &self,
        done: &[(&str, LeaseToken)],
        now: Timestamp,
    ) -> Result<Vec<Result<(), SharedQueueError>>, SharedQueueError> {
        if done.is_empty() {
            return Ok(Vec::new());
        }
        let mut args: Vec<Vec<u8>> = Vec::with_capacity(1 + 2 * done.len());
        args.push(hex_time(now).into_bytes());
        for &(key, token) in done {
            args.push(key.as_bytes().to_vec());
            args.push(hex_token(token).into_bytes());
        }
        let (status, mut reply) = self.run(&scripts::COMPLETE, args).await?;
        if status != "ok" {
            return Err(unexpected(&status));
        }
        let mut out = Vec::with_capacity(done.len());
        for &(key, token) in done {
            match reply.next_int() {
                Some(1) => out.push(Ok(())),
                Some(_) => out.push(Err(Self::lost(key, token))),
                None => return Err(malformed("complete_batch result")),
            }
        }
        Ok(out)
    }

    async fn defer(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        due: Timestamp,
    ) -> Result<(), SharedQueueError> {
        self.to_waiting(key, token, now, Some(due)).await
    }

    async fn release(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
    ) -> Result<(), SharedQueueError> {
        self.to_waiting(key, token, now, None).await
    }

    async fn extend(
        &self,
        key: &str,
        token: LeaseToken,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Timestamp, SharedQueueError> {
        validate_claim(1, lease)?;
        let expires = now.saturating_add(lease);
        let (status, _) = self
            .run(
                &scripts::EXTEND,
                (key, hex_token(token), hex_time(now), hex_time(expires)),
            )
            .await?;
        match status.as_str() {
            "ok" => Ok(expires),
            "lost" => Err(Self::lost(key, token)),
            other => Err(unexpected(other)),
        }
    }

    async fn reap(&self, now: Timestamp) -> Result<u64, SharedQueueError> {
        let mut total = 0u64;
        loop {
            let (status, mut reply) = self
                .run(&scripts::REAP, (hex_time(now), REAP_BATCH))
                .await?;
            if status != "ok" {
                return Err(unexpected(&status));
            }
            let n = reply.next_int().ok_or_else(|| malformed("reap count"))?;
            let more = reply.next_int().ok_or_else(|| malformed("reap more"))?;
            total = total.saturating_add(u64::try_from(n).unwrap_or(0));
            if more != 1 {
                return Ok(total);
            }
        }
    }

    async fn cancel(&self, key: &str, now: Timestamp) -> Result<Vec<u8>, SharedQueueError> {
        let (status, mut reply) = self.run(&scripts::CANCEL, (key, hex_time(now))).await?;
        match status.as_str() {
            "ok" => reply.next_bytes().ok_or_else(|| malformed("cancel item")),
            "nf" => Err(SharedQueueError::NotFound(key.to_owned())),
            "busy" => Err(SharedQueueError::Busy(key.to_owned())),
            other => Err(unexpected(other)),
        }
    }

    async fn reschedule(
        &self,
        key: &str,
        now: Timestamp,
        due: Timestamp,
        priority: Priority,
    ) -> Result<(), SharedQueueError> {
        let (status, _) = self
            .run(
                &scripts::RESCHEDULE,
                (key, hex_time(now), hex_time(due), priority),
            )
            .await?;
        match status.as_str() {
            "ok" => Ok(()),
            "nf" => Err(SharedQueueError::NotFound(key.to_owned())),
            "busy" => Err(SharedQueueError::Busy(key.to_owned())),
            other => Err(unexpected(other)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<EntryInfo>, SharedQueueError> {
        let (status, mut reply) = self.run(&scripts::GET, key).await?;
        if status != "ok" {
            return Err(unexpected(&status));
        }
        if reply.remaining() == 0 {
            return Ok(None);
        }
        let due = reply
            .next_text()
            .and_then(|d| parse_hex_time(&d))
            .ok_or_else(|| malformed("get due"))?;
        let priority = reply
            .next_int()
            .and_then(|p| Priority::try_from(p).ok())
            .ok_or_else(|| malformed("get priority"))?;
        let attempts = reply
            .next_int()
            .and_then(|a| u64::try_from(a).ok())
            .ok_or_else(|| malformed("get attempts"))?;
        let token = reply.next_text().ok_or_else(|| malformed("get token"))?;
        let expires = reply.next_text().ok_or_else(|| malformed("get expiry"))?;
        let item = reply.next_bytes().ok_or_else(|| malformed("get item"))?;
        let state = if token.is_empty() {
            EntryState::Waiting
        } else {
            EntryState::Leased {
                token: LeaseToken(
                    u64::from_str_radix(&token, 16).map_err(|_| malformed("get token"))?,
                ),
                expires: parse_hex_time(&expires).ok_or_else(|| malformed("get expiry"))?,
            }
        };
        Ok(Some(EntryInfo {
            key: key.to_owned(),
            due,
            priority,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            state,
            item,
        }))
    }

    async fn stats(&self, now: Timestamp) -> Result<SharedStats, SharedQueueError> {
        let (status, mut reply) = self.run(&scripts::STATS, hex_time(now)).await?;
        if status != "ok" {
            return Err(unexpected(&status));
        }
        let mut counts = reply
            .next_array()
            .ok_or_else(|| malformed("stats counts"))?;
        let mut by_priority = Vec::with_capacity(counts.remaining() / 2);
        let mut len = 0u64;
        while counts.remaining() > 0 {
            let p = priority(counts.next_text())?;
            let n = counts
                .next_text()
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| malformed("stats count"))?;
            len = len.saturating_add(n);
            by_priority.push((p, n));
        }
        by_priority.sort_by_key(|&(p, _)| core::cmp::Reverse(p));
        let mut count = |what| {
            reply
                .next_int()
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| malformed(what))
        };
        let due_now = count("stats due_now")?;
        let leased = count("stats leased")?;
        let expired_leases = count("stats expired_leases")?;
        let oldest = reply.next_text().ok_or_else(|| malformed("stats oldest"))?;
        let oldest_due_age = if oldest.is_empty() {
            None
        } else {
            let due = parse_hex_time(&oldest).ok_or_else(|| malformed("stats oldest"))?;
            Some(now.saturating_duration_since(due))
        };
        Ok(SharedStats {
            len,
            by_priority,
            due_now,
            leased,
            expired_leases,
            oldest_due_age,
        })
    }
}
