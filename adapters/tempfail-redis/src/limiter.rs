//! [`RedisLimiter`]: destination limits shared by many workers.

use core::fmt;
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{RedisError, Script, Value};
use tempfail::Timestamp;
use tempfail::destination::{HealthConfig, Rate, WaitReason};

use crate::queue::validate_name;
use crate::scripts;
use crate::value::{Reply, is_unavailable};

/// Longest destination accepted, in bytes.
pub const MAX_DESTINATION_LEN: usize = 255;

/// Milliseconds and microseconds above 2^53 are not exact in Redis scores and
/// Lua numbers: the limiter clamps times there (year 2255 in microseconds).
const EXACT: u64 = 1 << 53;

/// How long a destination's keys outlive its last use (real time): long
/// enough that no live slot or rate state is ever dropped.
const KEEP_MS: u64 = 86_400_000;

/// The limits one destination has across all workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedLimits {
    /// Connections open at once, all workers together (at least 1).
    pub max_connections: u32,
    /// Connections opened per time, all workers together.
    pub connection_rate: Option<Rate>,
    /// Messages started per time, all workers together.
    pub message_rate: Option<Rate>,
    /// How long a connection slot lives unless released or extended: a dead
    /// worker's slot comes back after this.
    pub slot_lease: Duration,
}

impl SharedLimits {
    /// At most `max_connections` at once, no rates, slots leased for 10
    /// minutes.
    pub const fn new(max_connections: u32) -> Self {
        SharedLimits {
            max_connections,
            connection_rate: None,
            message_rate: None,
            slot_lease: Duration::from_secs(600),
        }
    }

    /// The limits a per-process [`HealthConfig`] sets, applied to all workers
    /// together: its `max_concurrency`, `connection_rate`, `message_rate` and
    /// permit `lease`.
    pub fn from_health_config(cfg: &HealthConfig) -> Self {
        SharedLimits {
            max_connections: cfg.max_concurrency,
            connection_rate: cfg.connection_rate,
            message_rate: cfg.message_rate,
            slot_lease: cfg.lease,
        }
    }

    fn validate(&self) -> Result<(), LimitError> {
        if self.max_connections == 0 {
            return Err(LimitError::InvalidArgument(
                "max_connections must be at least 1",
            ));
        }
        if self.slot_lease.as_millis() == 0 {
            return Err(LimitError::InvalidArgument(
                "slot_lease must be at least 1 ms",
            ));
        }
        Ok(())
    }
}

/// The limiter's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Admission<T> {
    /// Go ahead.
    Go(T),
    /// Not now: ask again at `until` (a released slot may free one earlier).
    Wait {
        /// When to ask again.
        until: Timestamp,
        /// Why (`concurrency`, `connection_rate` or `message_rate`).
        reason: WaitReason,
    },
}

impl<T> Admission<T> {
    /// The snake_case name: `go` or `wait`.
    pub fn name(&self) -> &'static str {
        match self {
            Admission::Go(_) => "go",
            Admission::Wait { .. } => "wait",
        }
    }
}

/// One connection slot of one destination, held until released or until
/// [`expires`](Self::expires).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[must_use = "a slot counts against the destination's limit until released or expired"]
pub struct Slot {
    destination: String,
    id: String,
    expires: Timestamp,
}

impl Slot {
    /// The destination it belongs to.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// Its id among the destination's slots (unique per destination).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// When it comes back by itself if not released or extended.
    pub fn expires(&self) -> Timestamp {
        self.expires
    }
}

/// What went wrong with a limiter call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// An argument outside its range (an empty destination, a zero lease or
    /// limit, a bad limiter name).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// The slot is not live any more (it expired or was released): it was not
    /// extended.
    #[error("slot {0:?} lost: it expired or was released")]
    SlotLost(String),
    /// The server could not be reached or the connection broke.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Any other error the server reported.
    #[error("store error: {0}")]
    Backend(String),
}

fn map_err(e: RedisError) -> LimitError {
    if is_unavailable(&e) {
        LimitError::Unavailable(e.to_string())
    } else {
        LimitError::Backend(e.to_string())
    }
}

fn malformed(what: &str) -> LimitError {
    LimitError::Backend(format!("malformed limiter reply: {what}"))
}

/// GCRA parameters in microseconds, as the core registry computes them: the
/// interval between events (rounded up, so never faster than the rate) and
/// the tolerance (`burst` intervals).
fn gcra(rate: Rate) -> (u64, u64) {
    let interval = 60_000_000_000u64.div_ceil(rate.per_minute_milli().max(1));
    (interval, interval.saturating_mul(u64::from(rate.burst)))
}

fn ms(t: Timestamp) -> u64 {
    t.as_millis().min(EXACT)
}

fn us(t: Timestamp) -> u64 {
    t.as_millis().saturating_mul(1000).min(EXACT)
}

fn from_us_ceil(v: u64) -> Timestamp {
    Timestamp::from_millis(v.div_ceil(1000))
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Destination limits shared by every worker that uses the same Redis and the
/// same limiter name: a connection-slot count per destination, leased so a
/// dead worker's slots come back, and GCRA rates for connections and
/// messages. `now` is always the caller's.
///
/// Each call is one Lua script on the destination's two keys,
/// `tempfail:lim:{name/destination}:state` (a hash: the rates' theoretical
/// arrival times and the slot counter) and `…:slots` (a sorted set of slot ids
/// scored by lease expiry), which share one hash tag, so one destination lives
/// in one Cluster slot and different destinations spread over the cluster.
/// Both keys expire a day after their last use (real time).
///
/// Times are exact up to 2^53 ms for slots and 2^53 µs (the year 2255) for
/// rates; later times are clamped.
pub struct RedisLimiter<C = MultiplexedConnection> {
    conn: C,
    name: String,
}

impl<C> fmt::Debug for RedisLimiter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl RedisLimiter<MultiplexedConnection> {
    /// Connects to `url` with one multiplexed connection (5 s connect
    /// timeout); see [`new`](Self::new).
    pub async fn connect(url: &str, name: &str) -> Result<Self, LimitError> {
        let client = redis::Client::open(url)
            .map_err(|e| LimitError::Backend(format!("invalid Redis URL {url:?}: {e}")))?;
        let config =
            redis::AsyncConnectionConfig::new().set_connection_timeout(Duration::from_secs(5));
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(map_err)?;
        Self::new(conn, name)
    }
}

impl<C> RedisLimiter<C>
where
    C: ConnectionLike + Clone + Send + Sync,
{
    /// The limiter `name` over `conn` (nothing is sent until the first call).
    /// Workers share limits when they use the same server and name.
    pub fn new(conn: C, name: &str) -> Result<Self, LimitError> {
        validate_name(name).map_err(LimitError::InvalidArgument)?;
        Ok(RedisLimiter {
            conn,
            name: name.to_owned(),
        })
    }

    /// The limiter's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn keys(&self, destination: &str) -> Result<(String, String), LimitError> {
        if destination.is_empty()
            || destination.len() > MAX_DESTINATION_LEN
            || destination.contains('\0')
        {
            return Err(LimitError::InvalidArgument(
                "destination must be 1 to 255 bytes without NUL",
            ));
        }
        let base = format!("tempfail:lim:{{{}/{destination}}}:", self.name);
        Ok((format!("{base}state"), format!("{base}slots")))
    }

    async fn run(
        &self,
        script: &Script,
        keys: &[&str],
        args: impl redis::ToRedisArgs,
    ) -> Result<Reply, LimitError> {
        let mut inv = script.prepare_invoke();
        for k in keys {
            inv.key(*k);
        }
        inv.arg(args);
        let mut conn = self.conn.clone();
        let value: Value = inv.invoke_async(&mut conn).await.map_err(map_err)?;
        Ok(Reply::new(value))
    }

    /// Asks for a connection to `destination` at `now`: a slot under
    /// `limits.max_connections` and, when set, a step of
    /// `limits.connection_rate`, both or neither (one atomic script).
    ///
    /// [`Admission::Go`] with the slot, to [`release`](Self::release) when the
    /// connection closes (or it comes back by itself at `now +
    /// limits.slot_lease`); or [`Admission::Wait`]: `concurrency` until the
    /// earliest slot expiry (a release frees one sooner), `connection_rate`
    /// until the rate allows one.
    pub async fn acquire_connection(
        &self,
        destination: &str,
        limits: &SharedLimits,
        now: Timestamp,
    ) -> Result<Admission<Slot>, LimitError> {
        limits.validate()?;
        let (state, slots) = self.keys(destination)?;
        let expires = now.saturating_add(limits.slot_lease);
        let (interval, tau) = limits.connection_rate.map_or((0, 0), gcra);
        let ttl = duration_ms(limits.slot_lease)
            .saturating_add(interval.saturating_add(tau) / 1000)
            .saturating_add(KEEP_MS);
        let mut reply = self
            .run(
                &scripts::LIMIT_CONNECTION,
                &[&state, &slots],
                (
                    ms(now),
                    us(now),
                    ms(expires),
                    limits.max_connections,
                    interval,
                    tau,
                    ttl,
                ),
            )
            .await?;
        match reply.next_text().as_deref() {
            Some("go") => {
                let id = reply.next_text().ok_or_else(|| malformed("slot id"))?;
                Ok(Admission::Go(Slot {
                    destination: destination.to_owned(),
                    id,
                    expires,
                }))
            }
            Some("full") => {
                let in_flight = reply.next_int().ok_or_else(|| malformed("in use"))?;
                let until = reply.next_int().ok_or_else(|| malformed("expiry"))?;
                Ok(Admission::Wait {
                    until: Timestamp::from_millis(u64::try_from(until).unwrap_or(0)).max(now),
                    reason: WaitReason::Concurrency {
                        in_flight: u32::try_from(in_flight).unwrap_or(u32::MAX),
                        limit: limits.max_connections,
                    },
                })
            }
            Some("rate") => {
                let at = reply.next_int().ok_or_else(|| malformed("allowed at"))?;
                Ok(Admission::Wait {
                    until: from_us_ceil(u64::try_from(at).unwrap_or(0)).max(now),
                    reason: WaitReason::ConnectionRate {
                        per_minute_milli: limits.connection_rate.map_or(0, Rate::per_minute_milli),
                    },
                })
            }
            _ => Err(malformed("status")),
        }
    }

    /// Asks to start a message to `destination` at `now` under
    /// `limits.message_rate` (always [`Admission::Go`] when no message rate is
    /// set, without a round trip).
    pub async fn acquire_message(
        &self,
        destination: &str,
        limits: &SharedLimits,
        now: Timestamp,
    ) -> Result<Admission<()>, LimitError> {
        let (state, _) = self.keys(destination)?;
        let Some(rate) = limits.message_rate else {
            return Ok(Admission::Go(()));
        };
        let (interval, tau) = gcra(rate);
        let ttl = (interval.saturating_add(tau) / 1000).saturating_add(KEEP_MS);
        let mut reply = self
            .run(
                &scripts::LIMIT_RATE,
                &[&state],
                ("msg_tat", us(now), interval, tau, ttl),
            )
            .await?;
        match reply.next_text().as_deref() {
            Some("go") => Ok(Admission::Go(())),
            Some("rate") => {
                let at = reply.next_int().ok_or_else(|| malformed("allowed at"))?;
                Ok(Admission::Wait {
                    until: from_us_ceil(u64::try_from(at).unwrap_or(0)).max(now),
                    reason: WaitReason::MessageRate {
                        per_minute_milli: rate.per_minute_milli(),
                    },
                })
            }
            _ => Err(malformed("status")),
        }
    }

    /// Returns a slot. `Ok(true)` when it was live; `Ok(false)` when it had
    /// expired (its place was already free) or was released before.
    pub async fn release(&self, slot: &Slot, now: Timestamp) -> Result<bool, LimitError> {
        let (_, slots) = self.keys(&slot.destination)?;
        let mut reply = self
            .run(
                &scripts::LIMIT_SLOT,
                &[&slots],
                ("release", slot.id.as_str(), ms(now), 0u64),
            )
            .await?;
        Ok(reply.next_int().ok_or_else(|| malformed("release"))? == 1)
    }

    /// Extends a live slot to `now + lease` (a long connection keeps its slot)
    /// and returns it with its new expiry; [`LimitError::SlotLost`] when it
    /// expired or was released.
    pub async fn extend(
        &self,
        slot: &Slot,
        now: Timestamp,
        lease: Duration,
    ) -> Result<Slot, LimitError> {
        if lease.as_millis() == 0 {
            return Err(LimitError::InvalidArgument("lease must be at least 1 ms"));
        }
        let (_, slots) = self.keys(&slot.destination)?;
        let expires = now.saturating_add(lease);
        let mut reply = self
            .run(
                &scripts::LIMIT_SLOT,
                &[&slots],
                ("extend", slot.id.as_str(), ms(now), ms(expires)),
            )
            .await?;
        if reply.next_int().ok_or_else(|| malformed("extend"))? == 1 {
            Ok(Slot {
                expires,
                ..slot.clone()
            })
        } else {
            Err(LimitError::SlotLost(slot.id.clone()))
        }
    }

    /// Live slots of `destination` at `now` (expired ones are dropped).
    pub async fn connections(&self, destination: &str, now: Timestamp) -> Result<u32, LimitError> {
        let (_, slots) = self.keys(destination)?;
        let mut reply = self
            .run(
                &scripts::LIMIT_SLOT,
                &[&slots],
                ("count", "", ms(now), 0u64),
            )
            .await?;
        let n = reply.next_int().ok_or_else(|| malformed("count"))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}
