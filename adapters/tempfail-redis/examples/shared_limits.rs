//! Three machines, each with its own destination `Registry`, share one
//! destination's limits through a `RedisLimiter`: at most 4 connections at
//! once and 120 new connections a minute, all machines together, in virtual
//! time (ten simulated minutes take well under a second).
//!
//! ```text
//! cargo run -p tempfail-redis --example shared_limits [-- --url redis://127.0.0.1:6379/]
//! ```
//!
//! Without `--url` it starts a private `redis-server` on 127.0.0.1. Each
//! machine asks its registry first (local: is the destination dead, suspended,
//! over this machine's window?), then the shared limiter; when the limiter
//! says wait, the registry's permit goes back unused.

#[path = "../tests/support/server.rs"]
mod server;

use std::process::ExitCode;
use std::time::Duration;

use tempfail::Timestamp;
use tempfail::destination::{Decision, HealthConfig, Permit, Rate, Registry, Report};
use tempfail_redis::{Admission, RedisLimiter, SharedLimits, Slot};

const DEST: &str = "mx.example.net";

struct Machine {
    registry: Registry<String>,
    open: Vec<(Permit, Slot, Timestamp)>,
    connections: u32,
}

async fn simulate(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut cfg = HealthConfig::postfix();
    cfg.connection_rate = Some(Rate::new(120, Duration::from_secs(60)).with_burst(2));
    cfg.lease = Duration::from_secs(120);
    // Each machine alone would open up to its window (5 at first); together
    // they must stay at 4.
    let mut limits = SharedLimits::from_health_config(&cfg);
    limits.max_connections = 4;
    let limiter = RedisLimiter::connect(url, "example").await?;
    let mut machines = Vec::new();
    for _ in 0..3 {
        machines.push(Machine {
            registry: Registry::new(cfg.clone())?,
            open: Vec::new(),
            connections: 0,
        });
    }
    let t0 = Timestamp::from_secs(1_700_000_000);
    let (mut most, mut waits) = (0usize, 0u32);
    for tick in 0..6_000u64 {
        let now = t0 + Duration::from_millis(tick * 100);
        // A different machine asks first at each tick.
        machines.rotate_left(1);
        for m in &mut machines {
            // Connections last 3 s; then the slot and the permit go back.
            let (done, open): (Vec<_>, Vec<_>) =
                m.open.drain(..).partition(|(_, _, end)| *end <= now);
            m.open = open;
            for (permit, slot, _) in done {
                limiter.release(&slot, now).await?;
                m.registry.release(permit, now, Report::Success)?;
            }
            if let Decision::Go(permit) = m.registry.acquire_connection(DEST, now) {
                match limiter.acquire_connection(DEST, &limits, now).await? {
                    Admission::Go(slot) => {
                        m.connections += 1;
                        m.open.push((permit, slot, now + Duration::from_secs(3)));
                    }
                    Admission::Wait { .. } => {
                        waits += 1;
                        m.registry.release(permit, now, Report::Unused)?;
                    }
                }
            }
        }
        most = most.max(machines.iter().map(|m| m.open.len()).sum());
    }
    let total: u32 = machines.iter().map(|m| m.connections).sum();
    let each: Vec<u32> = machines.iter().map(|m| m.connections).collect();
    println!(
        "connections per machine {each:?}, {total} in all in 10 minutes (at most 120/min \
         plus a burst of 2), at most {most} open at once (limit 4), {waits} asks told to wait"
    );
    if most > 4 || u64::from(total) > 10 * 120 + 3 {
        return Err("the shared limits were exceeded".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let url = match (args.next().as_deref(), args.next()) {
        (None, _) => None,
        (Some("--url"), Some(u)) => Some(u),
        _ => {
            eprintln!("usage: shared_limits [--url URL]");
            return ExitCode::from(2);
        }
    };
    let private;
    let url = match url {
        Some(u) => u,
        None => {
            private = server::RedisServer::start();
            match &private {
                Some(s) => s.url(),
                None => {
                    eprintln!(
                        "shared_limits: redis-server is not installed; install it or pass --url"
                    );
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shared_limits: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(simulate(&url)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shared_limits: {e}");
            ExitCode::FAILURE
        }
    }
}
