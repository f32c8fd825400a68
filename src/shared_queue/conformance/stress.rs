//! Many workers on one shared queue: the concurrency check (virtual time) and
//! the stress harness behind the adapters' `stress` examples (real time).
//!
//! [`run`] inserts `entries` entries due over a short window, then runs
//! `workers` workers that claim in batches, complete most entries and defer
//! every tenth once; with `kill_one`, one worker stops in the middle of its
//! third batch without completing what it holds, as a crashed process would.
//! Every worker reaps when it finds nothing to claim, so the dead worker's
//! entries come back once their lease ends. The report counts, from the
//! workers' own records:
//!
//! - `claimed_twice_while_leased`: claims of an entry while another worker's
//!   lease on it was still live (must be 0: it is the contract's promise);
//! - `lost`: entries neither completed nor still in the store, **read back
//!   from the store** at the end (must be 0).

use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{Failure, fail};
use crate::Timestamp;
use crate::shared_queue::{Claim, NewEntry, SharedQueue, SharedQueueError};

/// Time for the harness: read it, and wait until a later instant.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;
    /// Resolves at `t` (at once if `t` has passed).
    fn sleep_until(&self, t: Timestamp) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// A clock that only moves when someone sleeps: `sleep_until(t)` sets it to
/// `t` if that is later, and resolves at once. Workers that wait for work push
/// virtual time forward, so leases expire without real waiting.
#[derive(Debug)]
pub struct VirtualClock(AtomicU64);

impl VirtualClock {
    /// A clock at `start`.
    pub fn new(start: Timestamp) -> Self {
        VirtualClock(AtomicU64::new(start.as_millis()))
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
    fn sleep_until(&self, t: Timestamp) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.0.fetch_max(t.as_millis(), Ordering::SeqCst);
        Box::pin(core::future::ready(()))
    }
}

/// A boxed `Send` future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One worker's future, as the harness hands it to a [`Spawn`] function.
pub type WorkerFuture = Pin<Box<dyn Future<Output = WorkerReport> + Send + 'static>>;

/// Runs a worker: typically `tokio::spawn` it and await the handle,
/// `|w| Box::pin(async move { tokio::spawn(w).await.map_err(|e| e.to_string()) })`;
/// [`inline`] runs it on the caller's task instead.
pub type Spawn = Box<
    dyn Fn(WorkerFuture) -> Pin<Box<dyn Future<Output = Result<WorkerReport, String>> + Send>>
        + Send
        + Sync,
>;

/// A [`Spawn`] that runs workers on the caller's task; the harness polls them
/// together, so they still interleave at every await.
pub fn inline() -> Spawn {
    Box::new(|w: WorkerFuture| Box::pin(async move { Ok(w.await) }))
}

/// What to run.
#[derive(Debug, Clone)]
pub struct StressConfig {
    /// The engine's name in the report (`memory`, `postgresql`, `redis`).
    pub engine: String,
    /// Concurrent workers.
    pub workers: usize,
    /// Entries inserted.
    pub entries: usize,
    /// Entries per claim.
    pub batch: usize,
    /// Lease of each claim.
    pub lease: Duration,
    /// Entries become due over this window after the start.
    pub spread: Duration,
    /// One worker dies in its third batch, holding what it claimed.
    pub kill_one: bool,
    /// The run gives up (and reports what it has) after this long on its clock.
    pub deadline: Duration,
    /// How long a worker waits when it found nothing to claim.
    pub idle_wait: Duration,
}

impl StressConfig {
    /// `workers` workers on `entries` entries, batches of 100, 2 s leases,
    /// due over 200 ms, 5 ms idle waits, a 10 min deadline.
    pub fn new(engine: impl Into<String>, workers: usize, entries: usize) -> Self {
        StressConfig {
            engine: engine.into(),
            workers,
            entries,
            batch: 100,
            lease: Duration::from_secs(2),
            spread: Duration::from_millis(200),
            kill_one: false,
            deadline: Duration::from_secs(600),
            idle_wait: Duration::from_millis(5),
        }
    }
}

/// What one worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Entries claimed.
    pub claimed: u64,
    /// Entries completed (the store said `ok`).
    pub completed: u64,
    /// Entries deferred.
    pub deferred: u64,
    /// Entries its reaps returned.
    pub reaped: u64,
    /// Answers `lease_lost` it got.
    pub lease_lost: u64,
    /// It died holding claims (`kill_one`).
    pub killed: bool,
    /// Store errors (not contract answers) it got.
    pub errors: u64,
}

/// The harness's result: the fields of the adapters' JSON line.
#[derive(Debug, Clone, PartialEq)]
pub struct StressReport {
    /// The engine's name.
    pub engine: String,
    /// Workers run.
    pub workers: usize,
    /// Entries inserted.
    pub entries: usize,
    /// Entries completed.
    pub completed: u64,
    /// Claims of an entry while another lease on it was live (must be 0).
    pub claimed_twice_while_leased: u64,
    /// Entries neither completed nor in the store when read back (must be 0).
    pub lost: u64,
    /// Entries returned by reaps.
    pub reaped: u64,
    /// Entries still in the store at the end (0 unless the deadline passed).
    pub remaining: u64,
    /// Claims per second over the workers' run (claims, not batches).
    pub claims_per_sec: f64,
    /// Seconds the workers ran, on the harness's clock.
    pub wall_secs: f64,
    /// Store errors the workers got.
    pub errors: u64,
}

impl StressReport {
    /// The report as one JSON object on one line:
    /// `{"engine", "workers", "entries", "completed",
    /// "claimed_twice_while_leased", "lost", "reaped", "claims_per_sec",
    /// "wall_secs"}`.
    pub fn json_line(&self) -> String {
        let engine: String = self
            .engine
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        format!(
            "{{\"engine\":\"{engine}\",\"workers\":{},\"entries\":{},\"completed\":{},\"claimed_twice_while_leased\":{},\"lost\":{},\"reaped\":{},\"claims_per_sec\":{:.1},\"wall_secs\":{:.3}}}",
            self.workers,
            self.entries,
            self.completed,
            self.claimed_twice_while_leased,
            self.lost,
            self.reaped,
            finite(self.claims_per_sec),
            finite(self.wall_secs),
        )
    }
}

fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// Who holds what, as the workers saw it. A worker marks an entry free
/// *before* asking the store to complete or defer it, so a later claim by
/// another worker (which the store can only grant after that) never finds a
/// stale mark.
///
/// `latest` is the latest time any worker has passed to a claim (a reap uses the
/// same time as the claim before it), raised *before* the call: a lease the store
/// may end (by reaping it, or by granting a claim after it expired) is one that some
/// call's time has reached.
/// Workers read the shared clock at different moments, so a worker whose `now`
/// was read before the clock moved on may be granted an entry another worker's
/// later reap returned; that is the store keeping its promise, and the check
/// judges it by `latest`, not by the late worker's own `now`.
#[derive(Default)]
struct Tracker {
    holders: HashMap<String, (u64, Timestamp)>,
    completed: HashSet<String>,
    twice: u64,
    latest: Timestamp,
}

struct Shared<Q> {
    queue: Arc<Q>,
    clock: Arc<dyn Clock>,
    cfg: StressConfig,
    tracker: Mutex<Tracker>,
    done: AtomicU64,
    end: Timestamp,
}

impl<Q> Shared<Q> {
    fn tracker(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.tracker.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn key_of(i: usize) -> String {
    format!("stress-{i:09}")
}

async fn worker<Q: SharedQueue + 'static>(s: Arc<Shared<Q>>, index: usize) -> WorkerReport {
    let mut rep = WorkerReport::default();
    let dies = s.cfg.kill_one && index == 0;
    let mut batches = 0u32;
    let total = s.cfg.entries as u64;
    loop {
        if s.done.load(Ordering::SeqCst) >= total {
            return rep;
        }
        let now = s.clock.now();
        if now >= s.end {
            return rep;
        }
        {
            let mut t = s.tracker();
            t.latest = t.latest.max(now);
        }
        let claims = match s.queue.claim(now, s.cfg.batch, s.cfg.lease).await {
            Ok(c) => c,
            Err(_) => {
                rep.errors += 1;
                s.clock
                    .sleep_until(now.saturating_add(s.cfg.idle_wait))
                    .await;
                continue;
            }
        };
        if claims.is_empty() {
            // `latest` already covers this `now` (raised before the claim).
            match s.queue.reap(now).await {
                Ok(n) => rep.reaped += n,
                Err(_) => rep.errors += 1,
            }
            s.clock
                .sleep_until(now.saturating_add(s.cfg.idle_wait))
                .await;
            YieldNow(false).await;
            continue;
        }
        rep.claimed += claims.len() as u64;
        {
            let mut t = s.tracker();
            let latest = t.latest;
            for c in &claims {
                if let Some(&(_, expires)) = t.holders.get(&c.key) {
                    if latest < expires {
                        t.twice += 1;
                    }
                }
                t.holders
                    .insert(c.key.clone(), (c.token.0, c.lease_expires));
            }
        }
        batches += 1;
        let (keep, rest): (Vec<&Claim>, Vec<&Claim>) = if dies && batches == 3 {
            // Dies half-way through this batch: the second half stays leased.
            let half = claims.len() / 2;
            (
                claims[..half].iter().collect(),
                claims[half..].iter().collect(),
            )
        } else {
            (claims.iter().collect(), Vec::new())
        };
        let (defer, complete): (Vec<&Claim>, Vec<&Claim>) = keep
            .into_iter()
            .partition(|c| c.attempts == 1 && c.key.ends_with('0'));
        {
            let mut t = s.tracker();
            for c in defer.iter().chain(&complete) {
                t.holders.remove(&c.key);
            }
        }
        for c in &defer {
            match s.queue.defer(&c.key, c.token, now, now).await {
                Ok(()) => rep.deferred += 1,
                Err(SharedQueueError::LeaseLost { .. }) => rep.lease_lost += 1,
                Err(_) => rep.errors += 1,
            }
        }
        let batch: Vec<(&str, crate::shared_queue::LeaseToken)> =
            complete.iter().map(|c| (c.key.as_str(), c.token)).collect();
        match s.queue.complete_batch(&batch, s.clock.now()).await {
            Ok(results) => {
                let mut ok = 0u64;
                let mut t = s.tracker();
                for (c, r) in complete.iter().zip(&results) {
                    match r {
                        Ok(()) => {
                            ok += 1;
                            t.completed.insert(c.key.clone());
                        }
                        Err(SharedQueueError::LeaseLost { .. }) => rep.lease_lost += 1,
                        Err(_) => rep.errors += 1,
                    }
                }
                drop(t);
                rep.completed += ok;
                s.done.fetch_add(ok, Ordering::SeqCst);
            }
            Err(_) => rep.errors += 1,
        }
        if !rest.is_empty() {
            rep.killed = true;
            return rep;
        }
        // Let the other workers run when everything here completes at once
        // (an in-memory queue on one task).
        YieldNow(false).await;
    }
}

/// Returns `Pending` once (waking itself), so workers polled together on one
/// task take turns.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Polls a set of futures together on the caller's task until all are done.
struct JoinAll<T> {
    futures: Vec<Option<Pin<Box<dyn Future<Output = T> + Send>>>>,
    out: Vec<Option<T>>,
}

impl<T: Unpin> Future for JoinAll<T> {
    type Output = Vec<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
        let this = &mut *self;
        let mut pending = false;
        for (slot, out) in this.futures.iter_mut().zip(this.out.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(this.out.iter_mut().filter_map(Option::take).collect())
        }
    }
}

fn join_all<T: Unpin>(futures: Vec<Pin<Box<dyn Future<Output = T> + Send>>>) -> JoinAll<T> {
    let out = futures.iter().map(|_| None).collect();
    JoinAll {
        futures: futures.into_iter().map(Some).collect(),
        out,
    }
}

/// Runs the harness on an empty `queue`. Store errors while inserting or
/// reading back end the run with `Err`; during the run they are counted.
pub async fn run<Q: SharedQueue + 'static>(
    cfg: StressConfig,
    queue: Arc<Q>,
    spawn: &Spawn,
    clock: Arc<dyn Clock>,
) -> Result<StressReport, SharedQueueError> {
    if cfg.workers == 0 || cfg.batch == 0 {
        return Err(SharedQueueError::InvalidArgument(
            "stress needs at least one worker and a batch of at least one",
        ));
    }
    let start = clock.now();
    // Inserts, split over the workers' count of parallel inserters.
    let spread_ms = cfg.spread.as_millis().min(u128::from(u64::MAX)) as u64;
    let n = cfg.entries;
    let inserters: Vec<BoxFuture<Result<(), SharedQueueError>>> = (0..cfg.workers)
        .map(|w| {
            let q = Arc::clone(&queue);
            let workers = cfg.workers;
            Box::pin(async move {
                let mut i = w;
                while i < n {
                    let offset = spread_ms.saturating_mul(i as u64) / (n as u64).max(1);
                    let due = start.saturating_add(Duration::from_millis(offset));
                    let item = format!("spool/{i}").into_bytes();
                    q.insert(NewEntry::new(key_of(i), due, (i % 3) as u8, item))
                        .await?;
                    i += workers;
                }
                Ok(())
            }) as BoxFuture<_>
        })
        .collect();
    for r in join_all(inserters).await {
        r?;
    }
    let began = clock.now();
    let shared = Arc::new(Shared {
        queue: Arc::clone(&queue),
        clock: Arc::clone(&clock),
        end: began.saturating_add(cfg.deadline),
        cfg: cfg.clone(),
        tracker: Mutex::new(Tracker::default()),
        done: AtomicU64::new(0),
    });
    let runs: Vec<BoxFuture<Result<WorkerReport, String>>> = (0..cfg.workers)
        .map(|i| spawn(Box::pin(worker(Arc::clone(&shared), i)) as WorkerFuture))
        .collect();
    let reports = join_all(runs).await;
    let ended = clock.now();
    let mut total = WorkerReport::default();
    for r in &reports {
        match r {
            Ok(w) => {
                total.claimed += w.claimed;
                total.completed += w.completed;
                total.reaped += w.reaped;
                total.errors += w.errors;
            }
            Err(_) => total.errors += 1,
        }
    }
    // Read the store back: every entry not seen completed must still be there.
    let (completed_keys, twice) = {
        let t = shared.tracker();
        (t.completed.clone(), t.twice)
    };
    let mut lost = 0u64;
    let mut remaining = 0u64;
    for i in 0..n {
        let key = key_of(i);
        let present = queue.get(&key).await?.is_some();
        if completed_keys.contains(&key) {
            if present {
                // Completed yet still there: the store did not apply it.
                lost += 1;
            }
        } else if present {
            remaining += 1;
        } else {
            lost += 1;
        }
    }
    let stats = queue.stats(clock.now()).await?;
    if stats.len != remaining {
        lost += stats.len.abs_diff(remaining);
    }
    let wall = ended.saturating_duration_since(began).as_secs_f64();
    Ok(StressReport {
        engine: cfg.engine,
        workers: cfg.workers,
        entries: n,
        completed: completed_keys.len() as u64,
        claimed_twice_while_leased: twice,
        lost,
        reaped: total.reaped,
        remaining,
        claims_per_sec: if wall > 0.0 {
            total.claimed as f64 / wall
        } else {
            0.0
        },
        wall_secs: wall,
        errors: total.errors,
    })
}

/// The concurrency check in virtual time: `workers` workers on `entries`
/// entries (one of them killed mid-batch when `kill_one`), then every entry
/// must be completed exactly once, none lost, none ever claimed while another
/// lease on it was live, and no store error.
pub async fn check_concurrent<Q: SharedQueue + 'static>(
    queue: Arc<Q>,
    workers: usize,
    entries: usize,
    kill_one: bool,
    spawn: Spawn,
) -> Result<StressReport, Failure> {
    const C: &str = "concurrent";
    let clock = Arc::new(VirtualClock::new(super::T0));
    let mut cfg = StressConfig::new("check", workers, entries);
    cfg.batch = 7;
    cfg.kill_one = kill_one;
    cfg.lease = Duration::from_secs(30);
    cfg.deadline = Duration::from_secs(3600);
    cfg.idle_wait = Duration::from_secs(1);
    let report = run(cfg, queue, &spawn, clock)
        .await
        .map_err(|e| fail(C, format!("store error: {e}")))?;
    if report.claimed_twice_while_leased != 0
        || report.lost != 0
        || report.completed != entries as u64
        || report.remaining != 0
        || report.errors != 0
    {
        return Err(fail(C, format!("{report:?}")));
    }
    Ok(report)
}
