//! The shared destination limiter: many workers together never exceed a
//! destination's connection count or rates (virtual time, tasks on two
//! threads), a dead worker's slot comes back at its lease's end, and the
//! shared GCRA decides exactly as the core's per-process registry.
//! (`--save '' --appendonly no`, one private server for the binary.)

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tempfail::Timestamp;
use tempfail::destination::{Decision, HealthConfig, Rate, Registry, Report, WaitReason};
use tempfail_redis::{Admission, LimitError, RedisLimiter, SharedLimits};

use support::{fresh_name, server};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);

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

async fn limiter(url: &str) -> RedisLimiter {
    match RedisLimiter::connect(url, &fresh_name("lim")).await {
        Ok(l) => l,
        Err(e) => panic!("limiter: {e}"),
    }
}

#[test]
fn many_workers_together_never_exceed_the_connection_limit() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let lim = Arc::new(limiter(&server.url()).await);
        let limits = SharedLimits::new(3);
        let open = Arc::new(AtomicU32::new(0));
        let most = Arc::new(AtomicU32::new(0));
        let granted = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for w in 0..8u64 {
            let (lim, open, most, granted) = (
                Arc::clone(&lim),
                Arc::clone(&open),
                Arc::clone(&most),
                Arc::clone(&granted),
            );
            tasks.push(tokio::spawn(async move {
                for i in 0..40u64 {
                    let now = at(i * 10 + w);
                    match lim.acquire_connection("mx.example", &limits, now).await {
                        Ok(Admission::Go(slot)) => {
                            let n = open.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(n, Ordering::SeqCst);
                            granted.fetch_add(1, Ordering::SeqCst);
                            tokio::task::yield_now().await;
                            // Marked closed before the slot goes back, so a
                            // slot granted after the release never sees it.
                            open.fetch_sub(1, Ordering::SeqCst);
                            assert!(lim.release(&slot, now).await.unwrap());
                        }
                        Ok(Admission::Wait { reason, .. }) => {
                            assert!(
                                matches!(reason, WaitReason::Concurrency { limit: 3, .. }),
                                "{reason:?}"
                            );
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=3).contains(&most), "{most} connections open at once");
        assert!(granted.load(Ordering::SeqCst) >= 40);
        assert_eq!(lim.connections("mx.example", at(1_000)).await.unwrap(), 0);
    });
}

/// Every worker walks virtual time on its own; a grant advances the shared
/// theoretical arrival time, so two grants are never closer than the interval
/// (no burst) and no window holds more than its share plus the burst.
#[test]
fn many_workers_together_respect_the_rates() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let lim = Arc::new(limiter(&server.url()).await);
        let mut limits = SharedLimits::new(1_000);
        limits.connection_rate = Some(Rate::new(10, Duration::from_secs(1)));
        limits.message_rate = Some(Rate::new(20, Duration::from_secs(1)).with_burst(4));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let msgs = Arc::new(Mutex::new(Vec::new()));
        // The workers keep in step (within 7 ms of virtual time of each
        // other), as workers on synchronised clocks do.
        let step = Arc::new(tokio::sync::Barrier::new(8));
        let mut tasks = Vec::new();
        for w in 0..8u64 {
            let (lim, conns, msgs, step) = (
                Arc::clone(&lim),
                Arc::clone(&conns),
                Arc::clone(&msgs),
                Arc::clone(&step),
            );
            tasks.push(tokio::spawn(async move {
                for i in 0..714u64 {
                    step.wait().await;
                    let t = i * 7 + w;
                    let now = at(t);
                    match lim.acquire_connection("d", &limits, now).await.unwrap() {
                        Admission::Go(slot) => {
                            conns.lock().unwrap().push(t);
                            lim.release(&slot, now).await.unwrap();
                        }
                        Admission::Wait { until, reason } => {
                            assert!(until > now);
                            assert!(matches!(reason, WaitReason::ConnectionRate { .. }));
                        }
                    }
                    if let Admission::Go(()) = lim.acquire_message("d", &limits, now).await.unwrap()
                    {
                        msgs.lock().unwrap().push(t);
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let mut conns = conns.lock().unwrap().clone();
        conns.sort_unstable();
        assert!(
            conns.windows(2).all(|w| w[1] - w[0] >= 100),
            "connections closer than 100 ms: {conns:?}"
        );
        // 5 s at 10/s: at most 51 (the first at once), and the workers asked
        // often enough to get nearly all of them.
        assert!((40..=51).contains(&conns.len()), "{}", conns.len());
        let mut msgs = msgs.lock().unwrap().clone();
        msgs.sort_unstable();
        for (i, &start) in msgs.iter().enumerate() {
            let in_window = msgs[i..].iter().take_while(|&&t| t < start + 1_000).count();
            assert!(
                in_window <= 20 + 1 + 4,
                "{in_window} messages in 1 s from {start}"
            );
        }
        assert!(
            msgs.len() >= 90 && msgs.len() <= 20 * 5 + 1 + 4,
            "{}",
            msgs.len()
        );
    });
}

#[test]
fn a_dead_workers_slot_comes_back_when_its_lease_ends() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let lim = limiter(&server.url()).await;
        let mut limits = SharedLimits::new(2);
        limits.slot_lease = Duration::from_secs(30);
        let Admission::Go(dead) = lim.acquire_connection("d", &limits, at(0)).await.unwrap() else {
            panic!("first slot refused")
        };
        let Admission::Go(live) = lim
            .acquire_connection("d", &limits, at(1_000))
            .await
            .unwrap()
        else {
            panic!("second slot refused")
        };
        assert_eq!(dead.expires(), at(30_000));
        assert_eq!(
            lim.acquire_connection("d", &limits, at(10_000))
                .await
                .unwrap(),
            Admission::Wait {
                until: at(30_000),
                reason: WaitReason::Concurrency {
                    in_flight: 2,
                    limit: 2
                }
            }
        );
        assert_eq!(
            lim.acquire_connection("d", &limits, at(29_999))
                .await
                .unwrap()
                .name(),
            "wait"
        );
        // Other destinations are not affected.
        assert_eq!(
            lim.acquire_connection("other", &limits, at(10_000))
                .await
                .unwrap()
                .name(),
            "go"
        );
        let Admission::Go(back) = lim
            .acquire_connection("d", &limits, at(30_000))
            .await
            .unwrap()
        else {
            panic!("the dead worker's slot did not come back")
        };
        assert_ne!(back.id(), dead.id());
        assert_eq!(lim.connections("d", at(30_000)).await.unwrap(), 2);
        // The dead worker's late release changes nothing; the live one's counts.
        assert!(!lim.release(&dead, at(30_001)).await.unwrap());
        assert_eq!(lim.connections("d", at(30_001)).await.unwrap(), 2);
        assert!(lim.release(&live, at(30_001)).await.unwrap());
        assert!(
            !lim.release(&live, at(30_001)).await.unwrap(),
            "released twice"
        );
        assert_eq!(lim.connections("d", at(30_001)).await.unwrap(), 1);
        // A long connection extends its slot past the first lease.
        let longer = lim
            .extend(&back, at(40_000), Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(longer.expires(), at(100_000));
        assert_eq!(lim.connections("d", at(80_000)).await.unwrap(), 1);
        assert!(matches!(
            lim.extend(&longer, at(100_000), Duration::from_secs(60))
                .await,
            Err(LimitError::SlotLost(_))
        ));
    });
}

#[test]
fn a_full_destination_does_not_spend_its_connection_rate() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let lim = limiter(&server.url()).await;
        let mut limits = SharedLimits::new(1);
        limits.connection_rate = Some(Rate::new(1, Duration::from_secs(1)));
        let Admission::Go(a) = lim.acquire_connection("d", &limits, at(0)).await.unwrap() else {
            panic!()
        };
        // Full: refused for concurrency, and the rate is not advanced.
        for t in [1_000, 2_000, 3_000] {
            assert!(matches!(
                lim.acquire_connection("d", &limits, at(t)).await.unwrap(),
                Admission::Wait {
                    reason: WaitReason::Concurrency { .. },
                    ..
                }
            ));
        }
        assert!(lim.release(&a, at(3_000)).await.unwrap());
        let Admission::Go(b) = lim
            .acquire_connection("d", &limits, at(3_000))
            .await
            .unwrap()
        else {
            panic!("the refused asks spent the rate")
        };
        assert!(lim.release(&b, at(3_000)).await.unwrap());
        // Free, but too soon: refused for the rate, and no slot is taken.
        assert_eq!(
            lim.acquire_connection("d", &limits, at(3_500))
                .await
                .unwrap(),
            Admission::Wait {
                until: at(4_000),
                reason: WaitReason::ConnectionRate {
                    per_minute_milli: 60_000
                }
            }
        );
        assert_eq!(lim.connections("d", at(3_500)).await.unwrap(), 0);
    });
}

/// The same asks, at the same times, on the core's `Registry` (one process)
/// and on the shared limiter: the same grants, the same waits.
#[test]
fn the_shared_rate_decides_as_the_registry_does() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let lim = limiter(&server.url()).await;
        for rate in [
            Rate::new(2, Duration::from_secs(1)).with_burst(1),
            Rate::new(7, Duration::from_secs(1)),
            Rate::new(100, Duration::from_secs(60)).with_burst(10),
        ] {
            let dest = fresh_name("same");
            let mut cfg = HealthConfig::postfix();
            cfg.message_rate = Some(rate);
            cfg.retry_budget = None;
            let mut reg: Registry<String> = Registry::new(cfg.clone()).unwrap();
            let limits = SharedLimits::from_health_config(&cfg);
            let mut t = 0u64;
            let mut grants = 0;
            for step in 0..300u64 {
                let now = at(t);
                let local = match reg.acquire_message(dest.as_str(), now, false) {
                    Decision::Go(p) => {
                        reg.release(p, now, Report::Success).unwrap();
                        None
                    }
                    Decision::Wait { until, reason } => Some((until, reason)),
                    other => panic!("{other:?}"),
                };
                let shared = match lim.acquire_message(&dest, &limits, now).await.unwrap() {
                    Admission::Go(()) => None,
                    Admission::Wait { until, reason } => Some((until, reason)),
                };
                assert_eq!(shared, local, "{rate:?} step {step} at +{t} ms");
                grants += usize::from(local.is_none());
                // Irregular steps: bursts of asks at one instant, and gaps.
                t += (step * 37 % 11) * 23 + u64::from(step % 5 == 0) * 400;
            }
            assert!(grants > 10, "{rate:?}: only {grants} grants");
        }
    });
}

#[test]
fn bad_arguments_are_errors() {
    let Some(server) = server() else { return };
    rt().block_on(async {
        let lim = limiter(&server.url()).await;
        let ok = SharedLimits::new(1);
        for (dest, limits) in [
            ("", ok),
            ("d\0", ok),
            (&*"d".repeat(256), ok),
            ("d", SharedLimits::new(0)),
            (
                "d",
                SharedLimits {
                    slot_lease: Duration::ZERO,
                    ..ok
                },
            ),
        ] {
            assert!(
                matches!(
                    lim.acquire_connection(dest, &limits, at(0)).await,
                    Err(LimitError::InvalidArgument(_))
                ),
                "{dest:?} {limits:?}"
            );
        }
        let conn = redis::Client::open(server.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        assert!(matches!(
            RedisLimiter::new(conn, "a}b"),
            Err(LimitError::InvalidArgument(_))
        ));
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        assert!(matches!(
            RedisLimiter::connect(&format!("redis://127.0.0.1:{port}/"), "l").await,
            Err(LimitError::Unavailable(_))
        ));
    });
}
