//! Prints a retry timeline, assuming every attempt fails at once and runs exactly
//! when due, until the policy gives up.
//!
//! ```sh
//! cargo run --example schedule -- --preset postfix
//! cargo run --example schedule -- --exim "F,2h,15m; G,16h,1h,1.5; F,4d,6h"
//! cargo run --example schedule -- --list "1m, 5m*2, 1h*3"
//! cargo run --example schedule -- --postfix min=300s,max=4000s,lifetime=5d
//! cargo run --example schedule -- --preset kumomta --seed 7 --json
//! ```
//!
//! `--preset NAME`: postfix, exim, sendmail, stalwart, haraka, kumomta, rfc5321,
//! tempfail (the default). `--exim RULES`: Exim's semantics alone (its own cutoffs
//! end it, no extra lifetime). `--list LIST`: Haraka's semantics (give up when the
//! failures exceed the list, no lifetime). `--postfix KEY=VALUE,…`: `min`, `max`,
//! `lifetime`; keys left out take Postfix's defaults (300s, 4000s, 5d). `--seed N`
//! (default 0) keys the jitter of jittered policies.
//!
//! `--category NAME` (default `server_error`): every attempt fails with a transient
//! reply of that category (`greylisted`, `rate_limited`, `mailbox_full`, …): a
//! preset's category rules make these timelines differ.
//!
//! With `--json`: one `{"attempt": n, "at_secs": t}` line per attempt (attempt 1
//! at 0, seconds from arrival) and a last line `{"give_up_at_secs": t, "reason": r}`:
//! the time the policy gives up and why (`schedule_exhausted`, `lifetime`,
//! `category_limit (greylisted)`, …; both `null` if it never does). For policies that give up at a failed attempt (Postfix,
//! Exim, Sendmail, Haraka, KumoMTA, tempfail) that is the last attempt's time; for
//! a policy that expires at an instant (Stalwart) it is that instant, which is not
//! an attempt.

use std::process::ExitCode;
use std::time::Duration;

use tempfail::backoff::{AgeBased, Compact, DelayList, EximRules, RetryState, parse_duration};
use tempfail::policy::{LifetimeMode, Preset, RetryDecision, RetryPolicy};
use tempfail::{Category, Classification, Timestamp};

const ARRIVAL: Timestamp = Timestamp::from_secs(1_700_000_000);
const MAX_ATTEMPTS: usize = 100_000;

const USAGE: &str = "usage: schedule [--preset NAME | --exim RULES | --list LIST | --postfix min=300s,max=4000s,lifetime=5d] [--category NAME] [--seed N] [--json]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("schedule: {e}");
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The whole program but the printing: arguments in, output text out.
pub fn run(args: Vec<String>) -> Result<String, String> {
    let mut policy: Option<RetryPolicy> = None;
    let mut seed = 0u64;
    let mut json = false;
    let mut category = Category::ServerError;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let chosen = match arg.as_str() {
            "--json" => {
                json = true;
                None
            }
            "--category" => {
                let v = value("--category")?;
                category = Category::from_name(v.trim()).ok_or_else(|| {
                    format!(
                        "--category: {v:?} is not a category (expected one of: {})",
                        Category::ALL
                            .iter()
                            .map(|c| c.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
                None
            }
            "--seed" => {
                let v = value("--seed")?;
                seed = v
                    .parse()
                    .map_err(|_| format!("--seed: {v:?} is not a number"))?;
                None
            }
            "--preset" => {
                let v = value("--preset")?;
                Some(v.parse::<Preset>().map_err(|e| e.to_string())?.policy())
            }
            "--exim" => {
                let v = value("--exim")?;
                // The parser refuses an empty chain and zero waits.
                let rules: EximRules = v.parse().map_err(|e| format!("--exim: {e}"))?;
                Some(
                    RetryPolicy::new(rules)
                        .without_lifetime()
                        .with_name("exim rules"),
                )
            }
            "--list" => {
                let v = value("--list")?;
                let list = DelayList::haraka(&v).map_err(|e| format!("--list: {e}"))?;
                Some(
                    RetryPolicy::new(list)
                        .without_lifetime()
                        .with_name("haraka list"),
                )
            }
            "--postfix" => Some(postfix(&value("--postfix")?)?),
            "-h" | "--help" => {
                return Ok(format!("{USAGE}\n"));
            }
            other => return Err(format!("unknown argument {other:?}")),
        };
        if let Some(p) = chosen {
            if policy.is_some() {
                return Err("give one of --preset, --exim, --list, --postfix".into());
            }
            policy = Some(p);
        }
    }
    let policy = policy.unwrap_or_else(|| Preset::Tempfail.policy());
    policy.validate().map_err(|e| e.to_string())?;
    Ok(timeline(&policy, seed, json, category))
}

/// `min=300s,max=4000s,lifetime=5d`, keys optional.
fn postfix(spec: &str) -> Result<RetryPolicy, String> {
    let mut backoff = AgeBased::postfix();
    let mut lifetime = Duration::from_secs(5 * 86_400);
    for kv in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("--postfix: {kv:?} is not key=value"))?;
        let d = parse_duration(v).map_err(|e| format!("--postfix {k}: {e}"))?;
        match k.trim() {
            "min" => backoff.min = d,
            "max" => backoff.max = d,
            "lifetime" => lifetime = d,
            other => {
                return Err(format!(
                    "--postfix: unknown key {other:?} (expected min, max, lifetime)"
                ));
            }
        }
    }
    // A zero min or min > max is refused by the backoff itself.
    let backoff =
        AgeBased::try_new(backoff.min, backoff.max).map_err(|e| format!("--postfix: {e}"))?;
    if lifetime.is_zero() {
        return Err("--postfix: lifetime must be more than 0".into());
    }
    Ok(RetryPolicy::new(backoff)
        .with_lifetime(lifetime, LifetimeMode::FailureAtOrAfter)
        .with_name("postfix"))
}

/// A transient failure of `category` (by default `server_error`, which has no
/// category rule of its own in any preset).
fn failure(category: Category) -> Classification {
    Classification::transient(category).with_rule(format!("example.{category}"))
}

fn secs(t: Timestamp) -> String {
    let ms = t.saturating_duration_since(ARRIVAL).as_millis();
    if ms % 1000 == 0 {
        format!("{}", ms / 1000)
    } else {
        format!("{}.{:03}", ms / 1000, ms % 1000)
    }
}

fn timeline(policy: &RetryPolicy, seed: u64, json: bool, category: Category) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    // Writing to a String cannot fail.
    macro_rules! emit { ($($t:tt)*) => {{ let _ = writeln!(out, $($t)*); }} }
    let sim = policy.simulate(
        &failure(category),
        RetryState::new(ARRIVAL).with_seed(seed),
        MAX_ATTEMPTS,
    );
    let end = match sim.end {
        Some(RetryDecision::GiveUp { at, reason }) => Some((at, reason)),
        _ => None,
    };
    if json {
        for (i, t) in sim.attempts.iter().enumerate() {
            emit!("{{\"attempt\": {}, \"at_secs\": {}}}", i + 1, secs(*t));
        }
        match end {
            Some((at, reason)) => emit!(
                "{{\"give_up_at_secs\": {}, \"reason\": \"{reason}\"}}",
                secs(at)
            ),
            None => emit!("{{\"give_up_at_secs\": null, \"reason\": null}}"),
        }
        return out;
    }
    emit!("{policy}, seed {seed}, every attempt failing as {category}");
    // Whole seconds are enough to read a timeline; --json keeps the milliseconds.
    let round = |d: Duration| Compact(Duration::from_secs(d.as_secs()));
    emit!("{:>7}  {:<16} wait before", "attempt", "at");
    let mut prev = ARRIVAL;
    for (i, &t) in sim.attempts.iter().enumerate() {
        let at = round(t.saturating_duration_since(ARRIVAL)).to_string();
        let wait = if i == 0 {
            "-".to_owned()
        } else {
            round(t.saturating_duration_since(prev)).to_string()
        };
        emit!("{:>7}  {at:<16} {wait}", i + 1);
        prev = t;
    }
    match end {
        Some((at, reason)) => {
            let when = round(at.saturating_duration_since(ARRIVAL));
            let what = if sim.attempts.last() == Some(&at) {
                "the failure of this last attempt ends it"
            } else {
                "expires at this instant, which is not an attempt"
            };
            emit!(
                "gives up at {when}: {reason} (ended by the {}); {what}",
                reason.ended_by().name()
            );
        }
        None => emit!("still retrying after {MAX_ATTEMPTS} attempts"),
    }
    if sim.warnings > 0 {
        emit!("delay warnings sent: {}", sim.warnings);
    }
    out
}
