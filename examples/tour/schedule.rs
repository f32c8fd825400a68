//! Section: retry schedules, two MTAs' and tempfail's recommended default side by side.

use std::borrow::Cow;
use std::time::Duration;

use tempfail::backoff::{Compact, RetryState};
use tempfail::policy::{Preset, RetryDecision, RetryPolicy};
use tempfail::{Category, Classification, Disposition, Scope, Timestamp};

pub fn show() {
    crate::heading("Retry schedules (every attempt fails; times from arrival)");
    let arrival = Timestamp::from_secs(1_700_000_000);
    // 451 4.3.0 "Local error in processing": transient, no category rule of its own.
    let failure = Classification {
        disposition: Disposition::Transient,
        category: Some(Category::ServerError),
        scope: Scope::Destination,
        retry_after: None,
        rule: Cow::Borrowed("tour.server_error"),
        description: Cow::Borrowed("451 4.3.0 Local error in processing"),
        low_confidence: false,
    };
    let presets = [Preset::Postfix, Preset::Exim, Preset::Tempfail];
    let runs: Vec<_> = presets
        .iter()
        .map(|&p| {
            let state = RetryState::new(arrival).with_seed(0x5eed);
            RetryPolicy::preset(p).simulate(&failure, state, 10_000)
        })
        .collect();
    let secs = |t: &Timestamp| {
        Compact(Duration::from_secs(
            t.saturating_duration_since(arrival).as_secs(),
        ))
        .to_string()
    };
    print!("{:>7}", "attempt");
    for p in presets {
        print!("  {:<22}", p.name());
    }
    println!();
    for i in 0..12 {
        print!("{:>7}", i + 1);
        for run in &runs {
            print!(
                "  {:<22}",
                run.attempts.get(i).map(secs).unwrap_or_default()
            );
        }
        println!();
    }
    print!("{:>7}", "…");
    println!();
    print!("{:>7}", "ends");
    for run in &runs {
        let end = match run.end {
            Some(RetryDecision::GiveUp { at, reason }) => {
                format!("{} ({})", secs(&at), reason.ended_by().name())
            }
            _ => "-".to_owned(),
        };
        print!("  {end:<22}");
    }
    println!();
    print!("{:>7}", "tries");
    for run in &runs {
        print!("  {:<22}", run.attempts.len());
    }
    println!();
    println!();
    println!("tempfail's default: 5 min doubling to a 3 h cap with ±10 % jitter, 5 d lifetime;");
    println!("greylisting retries after 300 s, rate limits follow the server's hint, an unknown");
    println!("user is never retried. Any schedule: cargo run --example schedule -- --preset NAME");
}
