//! One destination's health: plain data, and the pure functions that read and move
//! it. Every time is an argument; nothing here allocates on the common path (the
//! rare parts live in a boxed [`Extra`], allocated only when needed).

use std::collections::VecDeque;

use super::config::{Feedback, HealthConfig, RuleAction};
use super::{Cause, PermitKind, WaitReason};
use crate::Timestamp;
use crate::classify::{Category, Classification, Disposition, Scope};

/// Feedback counters are in millionths.
pub(crate) const UNIT: i64 = 1_000_000;
/// Message permits one destination may have out at once.
pub(crate) const MAX_MESSAGE_PERMITS: usize = 4096;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub(crate) enum Phase {
    Open,
    Dead,
    HalfOpen,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub(crate) struct Lease {
    pub(crate) id: u32,
    pub(crate) expires: Timestamp,
    pub(crate) kind: PermitKind,
    pub(crate) probe: bool,
}

/// A destination's permits out: one kept inline (the common case, no allocation),
/// more in a vector.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(from = "Vec<Lease>", into = "Vec<Lease>"))]
pub(crate) enum Leases {
    #[default]
    None,
    One(Lease),
    Many(Vec<Lease>),
}

impl From<Vec<Lease>> for Leases {
    fn from(mut v: Vec<Lease>) -> Self {
        match v.len() {
            0 => Leases::None,
            1 => Leases::One(v.remove(0)),
            _ => Leases::Many(v),
        }
    }
}

impl From<Leases> for Vec<Lease> {
    fn from(l: Leases) -> Self {
        l.as_slice().to_vec()
    }
}

impl Leases {
    pub(crate) fn as_slice(&self) -> &[Lease] {
        match self {
            Leases::None => &[],
            Leases::One(l) => core::slice::from_ref(l),
            Leases::Many(v) => v,
        }
    }

    pub(crate) fn iter(&self) -> core::slice::Iter<'_, Lease> {
        self.as_slice().iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Leases::None)
    }

    pub(crate) fn push(&mut self, l: Lease) {
        *self = match core::mem::take(self) {
            Leases::None => Leases::One(l),
            Leases::One(a) => Leases::Many(vec![a, l]),
            Leases::Many(mut v) => {
                v.push(l);
                Leases::Many(v)
            }
        };
    }

    /// Keeps the leases `keep` accepts.
    pub(crate) fn retain(&mut self, keep: impl Fn(&Lease) -> bool) {
        if self.iter().all(&keep) {
            return;
        }
        let v: Vec<Lease> = self.iter().copied().filter(|l| keep(l)).collect();
        *self = Leases::from(v);
    }

    /// Removes the lease with this id.
    pub(crate) fn take(&mut self, id: u32) -> Option<Lease> {
        let pos = self.iter().position(|l| l.id == id)?;
        let mut v: Vec<Lease> = match core::mem::take(self) {
            Leases::None => return None,
            Leases::One(l) => return Some(l),
            Leases::Many(v) => v,
        };
        let l = v.swap_remove(pos);
        *self = Leases::from(v);
        Some(l)
    }
}

/// The retry budget's four sub-windows: first attempts and retries started in each.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub(crate) struct Budget {
    /// The index of the newest sub-window (time / quarter window).
    pub(crate) epoch: u64,
    pub(crate) firsts: [u16; 4],
    pub(crate) retries: [u16; 4],
}

impl Budget {
    pub(crate) fn advance(&mut self, epoch: u64) {
        if epoch <= self.epoch {
            return;
        }
        let k = epoch - self.epoch;
        if k >= 4 {
            self.firsts = [0; 4];
            self.retries = [0; 4];
        } else {
            let k = k as usize;
            self.firsts.rotate_left(k);
            self.retries.rotate_left(k);
            for i in 4 - k..4 {
                self.firsts[i] = 0;
                self.retries[i] = 0;
            }
        }
        self.epoch = epoch;
    }

    pub(crate) fn sums(&self) -> (u32, u32) {
        (
            self.firsts.iter().map(|&x| u32::from(x)).sum(),
            self.retries.iter().map(|&x| u32::from(x)).sum(),
        )
    }
}

/// A cut (or learned) message rate, climbing back linearly.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub(crate) struct Pace {
    /// Milli-messages per minute right after the cut.
    pub(crate) floor: u64,
    /// What it climbs back to.
    pub(crate) target: u64,
    pub(crate) cut_at: Timestamp,
    /// Learned from traffic (no configured rate): dropped once recovered.
    pub(crate) learned: bool,
}

/// The rarely needed parts of a destination.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub(crate) struct Extra {
    pub(crate) conn_tat_us: u64,
    /// When the ceiling was last lowered.
    pub(crate) ceiling_at: Option<Timestamp>,
    pub(crate) pace: Option<Pace>,
    /// A rule's rate: milli-messages per minute, burst, until, rule id.
    pub(crate) rate_override: Option<(u64, u32, Timestamp, String)>,
    /// Why the destination is suspended or dead.
    pub(crate) cause: Option<Cause>,
    /// Warm-up: the period index and the messages granted in it.
    pub(crate) warm: Option<(u64, u32)>,
    /// Per suspension rule: the times of its latest matches.
    pub(crate) tracks: Vec<VecDeque<Timestamp>>,
    /// Messages granted since `count_since` (to learn a rate).
    pub(crate) granted: u32,
    pub(crate) count_since: Option<Timestamp>,
    /// The last reaction to `rate_limited` (a cut or a pause): replies to messages
    /// let go before it are the same cohort.
    pub(crate) last_cut: Option<Timestamp>,
    /// A message was accepted since the last reaction: the next `rate_limited` cuts.
    pub(crate) accepted_since_cut: bool,
    /// The current pause after `rate_limited`, in milliseconds (0: none yet).
    pub(crate) pause_ms: u32,
}

/// One destination.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub(crate) struct Dest {
    pub(crate) uid: u32,
    pub(crate) window: u16,
    pub(crate) ceiling: u16,
    pub(crate) phase: Phase,
    pub(crate) in_failure_run: bool,
    pub(crate) next_lease: u32,
    pub(crate) success: i32,
    pub(crate) failure: i32,
    pub(crate) fail_cohorts: i32,
    pub(crate) probe_wait_ms: u32,
    pub(crate) dead_until: Timestamp,
    pub(crate) suspended_until: Timestamp,
    pub(crate) last_active: Timestamp,
    pub(crate) msg_tat_us: u64,
    pub(crate) budget: Budget,
    pub(crate) leases: Leases,
    pub(crate) extra: Option<Box<Extra>>,
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn us(t: Timestamp) -> u64 {
    t.as_millis().saturating_mul(1000)
}

fn from_us_ceil(v: u64) -> Timestamp {
    Timestamp::from_millis(v.div_ceil(1000))
}

/// Microseconds between events at `mpm` milli-events per minute (rounded up, so
/// never faster than the rate).
fn interval_us(mpm: u64) -> u64 {
    60_000_000_000u64.div_ceil(mpm.max(1))
}

/// A failure of the connection or its handshake: what makes a destination dead.
/// Push-back (`too_many_connections`, `rate_limited`) has its own reaction, and a
/// verdict about one recipient or message says nothing about the connection.
pub(crate) fn is_connection_failure(c: &Classification) -> bool {
    c.disposition != Disposition::Success
        && !matches!(
            c.category,
            Some(Category::TooManyConnections | Category::RateLimited)
        )
        && matches!(c.scope, Scope::Connection | Scope::Destination)
}

/// What a message request needs to know.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ask {
    pub(crate) kind: PermitKind,
    pub(crate) retry: bool,
}

/// A refusal: wait, suspended or dead.
pub(crate) enum No {
    Wait(Timestamp, WaitReason),
    Suspended(Timestamp, Cause),
    Dead(Timestamp, Cause),
}

impl Dest {
    pub(crate) fn new(uid: u32, cfg: &HealthConfig, now: Timestamp) -> Dest {
        let window = u16::try_from(cfg.initial_concurrency).unwrap_or(u16::MAX);
        Dest {
            uid,
            window,
            ceiling: u16::try_from(cfg.max_concurrency).unwrap_or(u16::MAX),
            phase: Phase::Open,
            in_failure_run: false,
            next_lease: 0,
            success: 0,
            failure: 0,
            fail_cohorts: 0,
            probe_wait_ms: u32::try_from(ms(cfg.probe_initial)).unwrap_or(u32::MAX),
            dead_until: Timestamp::from_millis(0),
            suspended_until: Timestamp::from_millis(0),
            last_active: now,
            msg_tat_us: 0,
            budget: Budget::default(),
            leases: Leases::None,
            extra: None,
        }
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// Drops expired leases (and the storage of none).
    pub(crate) fn tick_leases(&mut self, now: Timestamp) {
        if !self.leases.is_empty() {
            self.leases.retain(|l| l.expires > now);
        }
    }

    /// Drops expired leases; moves a dead destination whose wait is over to half-open.
    pub(crate) fn tick(&mut self, now: Timestamp) {
        self.tick_leases(now);
        if self.phase == Phase::Dead && now >= self.dead_until {
            self.phase = Phase::HalfOpen;
        }
        if now > self.last_active {
            self.last_active = now;
        }
    }

    pub(crate) fn connections(&self) -> usize {
        self.leases
            .iter()
            .filter(|l| l.kind == PermitKind::Connection)
            .count()
    }

    /// The ceiling now: lowered by `too_many_connections`, one higher per
    /// `ceiling_recovery` since.
    pub(crate) fn ceiling_at(&self, cfg: &HealthConfig, now: Timestamp) -> u16 {
        let max = u16::try_from(cfg.max_concurrency).unwrap_or(u16::MAX);
        match self.extra.as_ref().and_then(|e| e.ceiling_at) {
            None => max,
            Some(at) => {
                let steps = ms(now.saturating_duration_since(at)) / ms(cfg.ceiling_recovery).max(1);
                let c = u64::from(self.ceiling).saturating_add(steps);
                u16::try_from(c.min(u64::from(max))).unwrap_or(max)
            }
        }
    }

    /// The message rate in force at `now` (milli-messages per minute) and its GCRA
    /// tolerance in microseconds. A cut or learned rate has the configured rate's
    /// tolerance (none when learned), never more: a cut never allows a new burst.
    pub(crate) fn message_rate(&self, cfg: &HealthConfig, now: Timestamp) -> Option<(u64, u64)> {
        let configured = cfg.message_rate.map(|r| {
            let mpm = r.per_minute_milli().max(1);
            (mpm, interval_us(mpm).saturating_mul(u64::from(r.burst)))
        });
        if let Some(e) = &self.extra {
            if let Some((mpm, burst, until, _)) = &e.rate_override {
                if now < *until {
                    return Some((*mpm, interval_us(*mpm).saturating_mul(u64::from(*burst))));
                }
            }
            if let Some(p) = &e.pace {
                let rec = ms(cfg.rate_recovery).max(1);
                let el = ms(now.saturating_duration_since(p.cut_at));
                if !(p.learned && el >= rec.saturating_mul(3)) {
                    let rate = if el >= rec {
                        p.target
                    } else {
                        let gain = u128::from(p.target.saturating_sub(p.floor)) * u128::from(el)
                            / u128::from(rec);
                        p.floor
                            .saturating_add(u64::try_from(gain).unwrap_or(u64::MAX))
                    };
                    let tolerance = if p.learned {
                        0
                    } else {
                        configured.map_or(0, |c| c.1)
                    };
                    return Some((rate.max(1), tolerance));
                }
            }
        }
        configured
    }

    /// Checks a request without changing anything.
    pub(crate) fn check(&self, cfg: &HealthConfig, now: Timestamp, ask: Ask) -> Result<(), No> {
        let cause = || {
            self.extra
                .as_ref()
                .and_then(|e| e.cause.clone())
                .unwrap_or_else(Cause::unknown)
        };
        match self.phase {
            Phase::Dead => return Err(No::Dead(self.dead_until, cause())),
            Phase::HalfOpen | Phase::Open => {}
        }
        if now < self.suspended_until {
            return Err(No::Suspended(self.suspended_until, cause()));
        }
        match ask.kind {
            PermitKind::Connection => {
                if self.phase == Phase::HalfOpen {
                    if let Some(p) = self.leases.iter().find(|l| l.probe) {
                        return Err(No::Wait(p.expires, WaitReason::Probing));
                    }
                    return Ok(());
                }
                let limit = self.window.min(self.ceiling_at(cfg, now)).max(1);
                let busy = self.connections();
                if busy >= usize::from(limit) {
                    let until = self
                        .leases
                        .iter()
                        .filter(|l| l.kind == PermitKind::Connection)
                        .map(|l| l.expires)
                        .min()
                        .unwrap_or(now);
                    return Err(No::Wait(
                        until,
                        WaitReason::Concurrency {
                            in_flight: u32::try_from(busy).unwrap_or(u32::MAX),
                            limit: u32::from(limit),
                        },
                    ));
                }
                if let Some(r) = cfg.connection_rate {
                    let t = interval_us(r.per_minute_milli());
                    let tau = t.saturating_mul(u64::from(r.burst));
                    let tat = self.extra.as_ref().map_or(0, |e| e.conn_tat_us);
                    if tat > us(now).saturating_add(tau) {
                        return Err(No::Wait(
                            from_us_ceil(tat - tau),
                            WaitReason::ConnectionRate {
                                per_minute_milli: r.per_minute_milli(),
                            },
                        ));
                    }
                }
            }
            PermitKind::Message => {
                let messages = self.leases.len() - self.connections();
                if messages >= MAX_MESSAGE_PERMITS {
                    let until = self.leases.iter().map(|l| l.expires).min().unwrap_or(now);
                    return Err(No::Wait(until, WaitReason::PermitsOutstanding));
                }
                if let Some(w) = &cfg.warmup {
                    if now >= w.start {
                        let period = w.period.millis();
                        let p = (now.as_millis() - w.start.as_millis()) / period;
                        if let Some(cap) = w.cap(p) {
                            let used = match self.extra.as_ref().and_then(|e| e.warm) {
                                Some((q, n)) if q == p => u64::from(n),
                                _ => 0,
                            };
                            if used >= cap {
                                let next = w
                                    .start
                                    .as_millis()
                                    .saturating_add((p.saturating_add(1)).saturating_mul(period));
                                return Err(No::Wait(
                                    Timestamp::from_millis(next),
                                    WaitReason::WarmUp { cap },
                                ));
                            }
                        }
                    }
                }
                if ask.retry {
                    if let Some(b) = &cfg.retry_budget {
                        let q = (ms(b.window) / 4).max(1);
                        let epoch = now.as_millis() / q;
                        let mut budget = self.budget;
                        budget.advance(epoch);
                        let (firsts, retries) = budget.sums();
                        let allowed = (u64::from(firsts) * u64::from(b.ratio_permille) / 1000)
                            .max(u64::from(b.min_retries));
                        if u64::from(retries) + 1 > allowed {
                            // The oldest sub-window with a retry leaves the window first.
                            let i = budget.retries.iter().position(|&r| r > 0).unwrap_or(0) as u64;
                            let until = Timestamp::from_millis(
                                epoch
                                    .saturating_sub(3)
                                    .saturating_add(i + 4)
                                    .saturating_mul(q),
                            );
                            return Err(No::Wait(
                                until,
                                WaitReason::RetryBudget {
                                    retries,
                                    allowed: u32::try_from(allowed).unwrap_or(u32::MAX),
                                },
                            ));
                        }
                    }
                }
                if let Some((mpm, tau)) = self.message_rate(cfg, now) {
                    if self.msg_tat_us > us(now).saturating_add(tau) {
                        return Err(No::Wait(
                            from_us_ceil(self.msg_tat_us - tau),
                            WaitReason::MessageRate {
                                per_minute_milli: mpm,
                            },
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Grants a checked request: counts it and returns the lease.
    pub(crate) fn grant(&mut self, cfg: &HealthConfig, now: Timestamp, ask: Ask) -> Lease {
        let probe = ask.kind == PermitKind::Connection && self.phase == Phase::HalfOpen;
        match ask.kind {
            PermitKind::Connection => {
                if let Some(r) = cfg.connection_rate {
                    let t = interval_us(r.per_minute_milli());
                    let e = self.extra();
                    e.conn_tat_us = e.conn_tat_us.max(us(now)).saturating_add(t);
                }
            }
            PermitKind::Message => {
                if let Some(w) = &cfg.warmup {
                    if now >= w.start {
                        let p = (now.as_millis() - w.start.as_millis()) / w.period.millis();
                        if w.cap(p).is_some() {
                            let e = self.extra();
                            e.warm = Some(match e.warm {
                                Some((q, n)) if q == p => (p, n.saturating_add(1)),
                                _ => (p, 1),
                            });
                        }
                    }
                }
                if let Some(b) = &cfg.retry_budget {
                    let q = (ms(b.window) / 4).max(1);
                    self.budget.advance(now.as_millis() / q);
                    let slot = if ask.retry {
                        &mut self.budget.retries[3]
                    } else {
                        &mut self.budget.firsts[3]
                    };
                    *slot = slot.saturating_add(1);
                }
                if let Some((mpm, _)) = self.message_rate(cfg, now) {
                    self.msg_tat_us = self
                        .msg_tat_us
                        .max(us(now))
                        .saturating_add(interval_us(mpm));
                } else {
                    self.msg_tat_us = 0;
                }
                let e = self.extra.get_or_insert_with(Box::default);
                if e.count_since.is_none() {
                    e.count_since = Some(now);
                }
                e.granted = e.granted.saturating_add(1);
            }
        }
        self.next_lease = self.next_lease.wrapping_add(1);
        let lease = Lease {
            id: self.next_lease,
            expires: now.saturating_add(cfg.lease),
            kind: ask.kind,
            probe,
        };
        self.leases.push(lease);
        lease
    }

    /// A connection (or its handshake) succeeded.
    pub(crate) fn connection_succeeded(&mut self, cfg: &HealthConfig, probe: bool) {
        self.fail_cohorts = 0;
        self.failure = 0;
        self.in_failure_run = false;
        if probe || self.phase == Phase::HalfOpen {
            self.phase = Phase::Open;
            self.window = u16::try_from(cfg.initial_concurrency).unwrap_or(u16::MAX);
            self.success = 0;
            self.probe_wait_ms = u32::try_from(ms(cfg.probe_initial)).unwrap_or(u32::MAX);
            if let Some(e) = &mut self.extra {
                e.cause = None;
            }
            return;
        }
        let max = u16::try_from(cfg.max_concurrency).unwrap_or(u16::MAX);
        let busy = u16::try_from(self.connections()).unwrap_or(u16::MAX);
        let initial = u16::try_from(cfg.initial_concurrency).unwrap_or(u16::MAX);
        let room = max.min(busy.saturating_add(initial));
        if self.window < room {
            let step = i32::try_from(UNIT / i64::from(self.window.max(1))).unwrap_or(i32::MAX);
            self.success = self.success.saturating_add(step);
            while i64::from(self.success) >= UNIT {
                self.success -= UNIT as i32;
                if self.window < room {
                    self.window += 1;
                }
            }
        }
    }

    /// A connection (or its handshake) failed with `c`.
    pub(crate) fn connection_failed(
        &mut self,
        cfg: &HealthConfig,
        now: Timestamp,
        c: &Classification,
        probe: bool,
    ) {
        let w = i64::from(self.window.max(1));
        self.fail_cohorts = self
            .fail_cohorts
            .saturating_add(i32::try_from(UNIT / w).unwrap_or(i32::MAX));
        self.success = 0;
        let limit = i64::from(cfg.cohort_limit_permille).saturating_mul(1000);
        if probe || self.phase == Phase::HalfOpen || i64::from(self.fail_cohorts) >= limit {
            self.die(cfg, now, Cause::from_classification(c));
            return;
        }
        match cfg.feedback {
            Feedback::Postfix => {
                if !self.in_failure_run {
                    // Reverse hysteresis: the window drops at once at the start of a run.
                    self.window = self.window.saturating_sub(1).max(1);
                }
                self.failure = self.failure.saturating_sub(UNIT as i32);
                while i64::from(self.failure) <= -UNIT {
                    self.failure += UNIT as i32;
                    self.window = self.window.saturating_sub(1).max(1);
                }
            }
            Feedback::Aimd => {
                if !self.in_failure_run {
                    self.window = (self.window / 2).max(1);
                }
            }
        }
        self.in_failure_run = true;
    }

    fn die(&mut self, cfg: &HealthConfig, now: Timestamp, cause: Cause) {
        self.phase = Phase::Dead;
        let wait = std::time::Duration::from_millis(u64::from(self.probe_wait_ms));
        self.dead_until = now.saturating_add(wait);
        let next = u64::from(self.probe_wait_ms)
            .saturating_mul(2)
            .min(ms(cfg.probe_max));
        self.probe_wait_ms = u32::try_from(next).unwrap_or(u32::MAX);
        self.fail_cohorts = 0;
        self.failure = 0;
        self.in_failure_run = false;
        self.extra().cause = Some(cause);
        // A probe still out is void: the next one decides.
        self.leases.retain(|l| !l.probe);
    }

    /// A classification about this destination (a reply, a transport failure, a
    /// delivery's destination signal). `in_flight` counts the connection that saw it;
    /// `granted_at` is when the message it answers was let go, if known: a message let
    /// go before the last rate cut was sent at the old rate and does not cut again.
    pub(crate) fn observe(
        &mut self,
        cfg: &HealthConfig,
        now: Timestamp,
        c: &Classification,
        in_flight: usize,
        granted_at: Option<Timestamp>,
    ) {
        if c.disposition == Disposition::Success {
            return;
        }
        if c.category == Some(Category::TooManyConnections) {
            let lowered = u16::try_from(in_flight.saturating_sub(1).max(1)).unwrap_or(u16::MAX);
            let now_ceiling = self.ceiling_at(cfg, now);
            self.ceiling = lowered.min(now_ceiling);
            self.window = self.window.min(self.ceiling);
            self.extra().ceiling_at = Some(now);
        }
        if c.category == Some(Category::RateLimited) && c.scope == Scope::Destination {
            let last = self.extra.as_ref().and_then(|e| e.last_cut);
            let same_cohort = matches!((granted_at, last), (Some(g), Some(l)) if g < l);
            if !same_cohort {
                self.rate_limited(cfg, now, c);
            }
        }
        if c.scope == Scope::Destination {
            if let Some(h) = c.retry_after {
                let until = now.saturating_add(h.min(cfg.max_hint));
                if until > self.suspended_until {
                    self.suspended_until = until;
                    self.extra().cause = Some(Cause::from_classification(c));
                }
            }
        }
        for (i, rule) in cfg.rules.iter().enumerate() {
            if !rule.matches(c) {
                continue;
            }
            let threshold = usize::try_from(rule.threshold).unwrap_or(usize::MAX).max(1);
            let e = self.extra();
            if e.tracks.len() < cfg.rules.len() {
                e.tracks.resize_with(cfg.rules.len(), VecDeque::new);
            }
            let track = &mut e.tracks[i];
            track.push_back(now);
            while track.len() > threshold {
                track.pop_front();
            }
            let fired = track.len() == threshold
                && track
                    .front()
                    .is_some_and(|f| now.saturating_duration_since(*f) <= rule.window);
            if !fired {
                continue;
            }
            track.clear();
            let cause = Cause {
                rule: rule.id.clone(),
                category: c.category,
                classification_rule: c.rule.to_string(),
                count: rule.threshold,
            };
            match rule.action {
                RuleAction::Suspend { duration } => {
                    let until = now.saturating_add(duration);
                    if until > self.suspended_until {
                        self.suspended_until = until;
                    }
                    self.extra().cause = Some(cause);
                }
                RuleAction::SetRate { rate, duration } => {
                    self.extra().rate_override = Some((
                        rate.per_minute_milli().max(1),
                        rate.burst,
                        now.saturating_add(duration),
                        rule.id.clone(),
                    ));
                }
            }
        }
    }

    /// `rate_limited`: pause the destination (the pause doubling while nothing is
    /// accepted in between, up to `rate_pause_max`), and cut the message rate when a
    /// message was accepted since the last reaction (or at the first one), learning a
    /// rate from the traffic when none is set. A limiter that counts in fixed windows
    /// answers `rate_limited` until its window ends, whatever our rate: the pause
    /// waits that out without cutting again.
    fn rate_limited(&mut self, cfg: &HealthConfig, now: Timestamp, c: &Classification) {
        let current = self.message_rate(cfg, now);
        let e = self.extra.get_or_insert_with(Box::default);
        let cut = e.last_cut.is_none() || e.accepted_since_cut;
        let pause = if e.pause_ms == 0 || e.accepted_since_cut {
            ms(cfg.rate_pause)
        } else {
            u64::from(e.pause_ms)
                .saturating_mul(2)
                .min(ms(cfg.rate_pause_max))
        };
        e.pause_ms = u32::try_from(pause).unwrap_or(u32::MAX);
        e.last_cut = Some(now);
        e.accepted_since_cut = false;
        if pause > 0 {
            let until = now.saturating_add(std::time::Duration::from_millis(pause));
            if until > self.suspended_until {
                self.suspended_until = until;
                e.cause = Some(Cause {
                    rule: "rate_limited".into(),
                    category: c.category,
                    classification_rule: c.rule.to_string(),
                    count: 1,
                });
            }
        }
        if !cut {
            return;
        }
        let (base, learned) = match current {
            Some((mpm, _)) => (
                mpm,
                e.pace.is_some_and(|p| p.learned) || cfg.message_rate.is_none(),
            ),
            None => {
                // No rate yet: what the traffic since counting began achieved.
                let since = e.count_since.unwrap_or(now);
                let el = now.as_millis().saturating_sub(since.as_millis()).max(1000);
                let granted = u64::from(e.granted.max(1));
                (granted.saturating_mul(60_000_000) / el, true)
            }
        };
        let floor_min = cfg.min_rate.per_minute_milli().max(1);
        let floor = (base.saturating_mul(u64::from(cfg.rate_cut_permille)) / 1000).max(floor_min);
        let target = match cfg.message_rate {
            Some(r) if !learned => r.per_minute_milli().max(floor),
            _ => base.max(floor),
        };
        e.pace = Some(Pace {
            floor,
            target,
            cut_at: now,
            learned,
        });
        e.granted = 0;
        e.count_since = Some(now);
        // Space the next message one new interval from now.
        self.msg_tat_us = self
            .msg_tat_us
            .max(us(now).saturating_add(interval_us(floor)));
    }

    /// A message was accepted: the next `rate_limited` is a new cohort.
    pub(crate) fn message_accepted(&mut self) {
        if let Some(e) = &mut self.extra {
            e.accepted_since_cut = true;
        }
    }

    /// Nothing to remember: it can be forgotten and recreated fresh.
    pub(crate) fn forgettable(&self, cfg: &HealthConfig, now: Timestamp) -> bool {
        if !self.leases.is_empty()
            || self.phase != Phase::Open
            || now < self.suspended_until
            || self.fail_cohorts != 0
            || now.saturating_duration_since(self.last_active) < cfg.forget_after
        {
            return false;
        }
        match &self.extra {
            None => true,
            Some(e) => {
                e.tracks.iter().all(VecDeque::is_empty)
                    && e.rate_override.as_ref().is_none_or(|o| now >= o.2)
                    && self.ceiling_at(cfg, now)
                        >= u16::try_from(cfg.max_concurrency).unwrap_or(u16::MAX)
                    && self.message_rate(cfg, now).map(|r| r.0)
                        == cfg.message_rate.map(|r| r.per_minute_milli().max(1))
                    && self.msg_tat_us <= us(now)
                    && e.warm.is_none_or(|(p, _)| {
                        cfg.warmup.as_ref().is_none_or(|w| {
                            now < w.start
                                || (now.as_millis() - w.start.as_millis()) / w.period.millis() != p
                        })
                    })
            }
        }
    }
}
