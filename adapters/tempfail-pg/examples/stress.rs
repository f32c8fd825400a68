//! Many workers on one PostgreSQL queue, one of them optionally killed
//! mid-batch; ends with one JSON line (see the crate README).
//!
//! ```text
//! cargo run --release -p tempfail-pg --example stress -- \
//!     --workers 4 --entries 20000 [--kill-one] [--json] [--url URL] [--batch B]
//! ```
//!
//! Without `--url` it starts a private server (as the tests do). The workers
//! share one queue handle with one connection per worker.

#[path = "../tests/support/server.rs"]
mod server;

use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use tempfail::Timestamp;
use tempfail::shared_queue::conformance::stress::{self, Clock, StressConfig};
use tempfail::shared_queue::conformance::{Spawn, WorkerFuture};
use tempfail_pg::{PgQueue, PgQueueOptions};

const USAGE: &str =
    "usage: stress --workers W --entries N [--kill-one] [--json] [--url URL] [--batch B]
  --workers W   concurrent workers, 1 to 64
  --entries N   entries inserted, 1 to 10000000
  --kill-one    one worker dies mid-batch holding its claims
  --json        print only the JSON line
  --url URL     a tokio-postgres connection string (default: a private server)
  --batch B     entries per claim, 1 to 10000 (default 100)";

#[derive(Debug)]
struct Args {
    workers: usize,
    entries: usize,
    kill_one: bool,
    json: bool,
    url: Option<String>,
    batch: usize,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut workers, mut entries, mut batch) = (None, None, 100usize);
    let (mut kill_one, mut json, mut url) = (false, false, None);
    let number = |flag: &str, v: Option<String>, max: usize| -> Result<usize, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("{flag}: expected 1 to {max}, got {v:?}")),
        }
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--workers" => workers = Some(number("--workers", it.next(), 64)?),
            "--entries" => entries = Some(number("--entries", it.next(), 10_000_000)?),
            "--batch" => batch = number("--batch", it.next(), 10_000)?,
            "--kill-one" => kill_one = true,
            "--json" => json = true,
            "--url" => url = Some(it.next().ok_or("--url needs a value")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        workers: workers.ok_or("--workers is required")?,
        entries: entries.ok_or("--entries is required")?,
        kill_one,
        json,
        url,
        batch,
    })
}

/// The wall clock, in the crate's milliseconds.
struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // a stress run measures real time
    fn now(&self) -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }
    fn sleep_until(&self, t: Timestamp) -> Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        let wait = t.saturating_duration_since(self.now());
        Box::pin(tokio::time::sleep(wait))
    }
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("stress: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stress: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Kept alive until the end of main: dropping it stops the server.
    let mut private = None;
    let url = match &args.url {
        Some(u) => u.clone(),
        None => match server::PgServer::start(false) {
            Ok(s) => {
                let u = s.url();
                private = Some(s);
                u
            }
            Err(e) => {
                eprintln!("stress: cannot start a private PostgreSQL server: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let code = rt.block_on(run(&args, &url));
    drop(rt);
    drop(private);
    code
}

async fn run(args: &Args, url: &str) -> ExitCode {
    let name = format!("stress_{}", std::process::id());
    let opts = PgQueueOptions::new(name).connections(args.workers);
    let queue = match PgQueue::connect(url, opts).await {
        Ok(q) => Arc::new(q),
        Err(e) => {
            eprintln!("stress: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut cfg = StressConfig::new("postgresql", args.workers, args.entries);
    cfg.batch = args.batch;
    cfg.kill_one = args.kill_one;
    let spawn: Spawn = Box::new(|w: WorkerFuture| {
        Box::pin(async move { tokio::spawn(w).await.map_err(|e| e.to_string()) })
    });
    let result = stress::run(cfg, Arc::clone(&queue), &spawn, Arc::new(SystemClock)).await;
    // A private run's table goes; one on the caller's server is left for
    // inspection only if dropping fails.
    let _ = queue.drop_storage().await;
    match result {
        Ok(report) => {
            if !args.json {
                eprintln!(
                    "{} workers, {} entries: {} completed, {} reaped, {} lost, {} claimed twice \
                     while leased, {} remaining, {} store errors, {:.0} claims/s over {:.2} s",
                    report.workers,
                    report.entries,
                    report.completed,
                    report.reaped,
                    report.lost,
                    report.claimed_twice_while_leased,
                    report.remaining,
                    report.errors,
                    report.claims_per_sec,
                    report.wall_secs
                );
            }
            println!("{}", report.json_line());
            if report.lost == 0 && report.claimed_twice_while_leased == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("stress: {e}");
            ExitCode::FAILURE
        }
    }
}
