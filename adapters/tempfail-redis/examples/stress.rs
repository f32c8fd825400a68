//! Many workers on one Redis queue, on the real clock: the core's stress
//! harness (`tempfail::shared_queue::conformance::stress`) on a `RedisQueue`.
//!
//! ```text
//! cargo run --release -p tempfail-redis --example stress -- \
//!     --workers 4 --entries 20000 [--kill-one] [--json] [--url redis://127.0.0.1:6379/]
//! ```
//!
//! Without `--url` it starts a private `redis-server` on a free port of
//! 127.0.0.1 (`--save '' --appendonly no`), as the tests do. It inserts the
//! entries due over 200 ms, runs the workers (batches of 100, 2 s leases;
//! every tenth entry deferred once), and with `--kill-one` stops one worker in
//! the middle of its third batch holding its claims, which the others reap
//! when the lease ends. It prints one JSON line with `--json` (`lost` is read
//! back from the store), a summary otherwise, deletes its queue, and exits 1
//! when an entry was lost or claimed twice while leased, 2 on bad arguments.

#[path = "../tests/support/server.rs"]
mod server;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use tempfail::Timestamp;
use tempfail::shared_queue::conformance::stress::{self, Clock, Spawn, StressConfig, WorkerFuture};
use tempfail_redis::RedisQueue;

const USAGE: &str =
    "usage: stress --workers W --entries N [--batch B] [--kill-one] [--json] [--url URL]";

struct Args {
    workers: usize,
    entries: usize,
    batch: usize,
    kill_one: bool,
    json: bool,
    url: Option<String>,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        workers: 0,
        entries: 0,
        batch: 100,
        kill_one: false,
        json: false,
        url: None,
    };
    let number = |flag: &str, v: Option<String>| -> Result<usize, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{flag} expects a positive integer, got {v:?}")),
        }
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--workers" => a.workers = number("--workers", it.next())?,
            "--entries" => a.entries = number("--entries", it.next())?,
            "--batch" => a.batch = number("--batch", it.next())?.min(10_000),
            "--kill-one" => a.kill_one = true,
            "--json" => a.json = true,
            "--url" => a.url = Some(it.next().ok_or("--url needs a value")?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if a.workers == 0 || a.entries == 0 {
        return Err("--workers and --entries are required".to_owned());
    }
    if a.kill_one && a.workers < 2 {
        return Err("--kill-one needs at least 2 workers".to_owned());
    }
    Ok(a)
}

/// The machine's clock (this example measures real time).
struct WallClock;

impl Clock for WallClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }
    fn sleep_until(&self, t: Timestamp) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let wait = t.saturating_duration_since(self.now());
        Box::pin(tokio::time::sleep(wait))
    }
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("stress: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stress: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Kept alive until the end: dropping it stops the private server.
    let private;
    let url = match &args.url {
        Some(u) => u.clone(),
        None => {
            private = server::RedisServer::start();
            match &private {
                Some(s) => s.url(),
                None => {
                    eprintln!("stress: redis-server is not installed; install it or pass --url");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let result = rt.block_on(async {
        let name = format!(
            "stress-{}-{}",
            std::process::id(),
            WallClock.now().as_millis()
        );
        let queue = Arc::new(RedisQueue::connect(&url, &name).await?);
        let mut cfg = StressConfig::new("redis", args.workers, args.entries);
        cfg.batch = args.batch;
        cfg.kill_one = args.kill_one;
        let spawn: Spawn = Box::new(|w: WorkerFuture| {
            Box::pin(async move { tokio::spawn(w).await.map_err(|e| e.to_string()) })
        });
        let report = stress::run(cfg, Arc::clone(&queue), &spawn, Arc::new(WallClock)).await;
        // On a server of the user's, leave nothing behind.
        queue.destroy().await?;
        report
    });
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("stress: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        println!("{}", report.json_line());
    } else {
        println!(
            "redis: {} workers, {} entries: {} completed, {} reaped, {} lost, {} claimed twice while leased, {} store errors",
            report.workers,
            report.entries,
            report.completed,
            report.reaped,
            report.lost,
            report.claimed_twice_while_leased,
            report.errors
        );
        println!(
            "{:.0} claims/s over {:.3} s",
            report.claims_per_sec, report.wall_secs
        );
    }
    if report.lost == 0 && report.claimed_twice_while_leased == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
