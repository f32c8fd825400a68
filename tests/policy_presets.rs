//! Every schedule in `retry-schedules.md` (how Postfix, Exim, Sendmail, Stalwart,
//! Haraka and KumoMTA time their retries), reproduced by the presets. Times are
//! from arrival, every attempt fails at once and runs exactly when due.

use std::borrow::Cow;
use std::time::Duration;

use tempfail::backoff::{Compact, RetryState, parse_duration};
use tempfail::policy::{
    EndedBy, GiveUpReason, LifetimeMode, Preset, RetryDecision, RetryPolicy, Simulation,
};
use tempfail::{Category, Classification, Disposition, Scope, Timestamp};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);

fn transient() -> Classification {
    Classification {
        disposition: Disposition::Transient,
        category: Some(Category::ServerError),
        scope: Scope::Destination,
        retry_after: None,
        rule: Cow::Borrowed("test.server_error"),
        description: Cow::Borrowed("451 4.3.0 Local error in processing"),
        low_confidence: false,
    }
}

fn run(policy: &RetryPolicy, seed: u64) -> Simulation {
    policy.simulate(&transient(), RetryState::new(T0).with_seed(seed), 100_000)
}

/// Attempt times as offsets from arrival, in the reference's notation.
fn offsets(sim: &Simulation) -> Vec<String> {
    sim.attempts
        .iter()
        .map(|t| Compact(t.saturating_duration_since(T0)).to_string())
        .collect()
}

fn at(s: &str) -> Timestamp {
    T0 + parse_duration(s).unwrap()
}

fn vector(s: &str) -> Vec<String> {
    s.split(", ").map(str::to_owned).collect()
}

fn give_up(sim: &Simulation) -> (Timestamp, GiveUpReason) {
    match sim.end {
        Some(RetryDecision::GiveUp { at, reason }) => (at, reason),
        other => panic!("expected a give-up, got {other:?}"),
    }
}

#[test]
fn postfix_defaults() {
    let sim = run(&RetryPolicy::preset(Preset::Postfix), 0);
    let got = offsets(&sim);
    assert_eq!(
        got[..10],
        vector("0s, 5m, 10m, 20m, 40m, 1h20m, 2h26m40s, 3h33m20s, 4h40m, 5h46m40s")[..]
    );
    // … then every 4000 s.
    for w in sim.attempts[5..].windows(2) {
        assert_eq!(
            w[1].saturating_duration_since(w[0]),
            Duration::from_secs(4000)
        );
    }
    // The 113th attempt, at 5d0h13m20s, is the one whose failure bounces.
    assert_eq!(sim.attempts.len(), 113);
    assert_eq!(got[112], "5d0h13m20s");
    let (when, reason) = give_up(&sim);
    assert_eq!(when, at("5d0h13m20s"));
    assert_eq!(reason, GiveUpReason::Lifetime);
    assert_eq!(reason.ended_by(), EndedBy::Lifetime);
    assert_eq!(sim.warnings, 0, "delay_warning_time is 0 by default");
}

#[test]
fn exim_default_rule() {
    let sim = run(&RetryPolicy::preset(Preset::Exim), 0);
    let got = offsets(&sim);
    assert_eq!(
        got[..16],
        vector(
            "0s, 15m, 30m, 45m, 1h, 1h15m, 1h30m, 1h45m, 2h, 2h15m, 3h15m, 4h45m, 7h, \
             10h22m30s, 15h26m15s, 23h1m52s"
        )[..]
    );
    assert_eq!(got[16..18], vector("1d5h1m52s, 1d11h1m52s")[..]);
    for w in sim.attempts[15..].windows(2) {
        assert_eq!(
            w[1].saturating_duration_since(w[0]),
            Duration::from_secs(6 * 3600)
        );
    }
    // The 29th attempt, at 4d5h1m52s, times out: the rule ended it, not a lifetime.
    assert_eq!(sim.attempts.len(), 29);
    assert_eq!(got[28], "4d5h1m52s");
    let (when, reason) = give_up(&sim);
    assert_eq!(when, at("4d5h1m52s"));
    assert_eq!(reason, GiveUpReason::ScheduleExhausted);
    assert_eq!(reason.ended_by(), EndedBy::Rule);
    // delay_warning 24 h, repeating: warnings at 24 h, 48 h and 72 h; the one due at
    // 96 h would go out at the next failure, 101 h, which bounces instead.
    assert_eq!(sim.warnings, 3);
}

#[test]
fn sendmail_q30m_max_queue_age_4h() {
    let sim = run(&RetryPolicy::preset(Preset::Sendmail), 0);
    let got = offsets(&sim);
    assert_eq!(got[..8], vector("0s, 30m, 1h, 2h, 4h, 8h, 12h, 16h")[..]);
    for w in sim.attempts[5..].windows(2) {
        assert_eq!(
            w[1].saturating_duration_since(w[0]),
            Duration::from_secs(4 * 3600)
        );
    }
    // Every attempt is on a 30-minute queue run.
    assert!(
        sim.attempts
            .iter()
            .all(|t| t.saturating_duration_since(T0).as_secs() % 1800 == 0)
    );
    // Bounce at the first run after 5 d. Sendmail (8.12 and later) times a message
    // out when, after a failed attempt, now >= arrival + queuereturn: the run due at
    // exactly 5 d is the one whose failure bounces (34 attempts: 0, 30m, 1h, 2h, then
    // every 4 h from 4h to 5d).
    let (when, reason) = give_up(&sim);
    assert_eq!(when, at("5d"));
    assert_eq!(*sim.attempts.last().unwrap(), at("5d"));
    assert_eq!(sim.attempts.len(), 34);
    assert!(sim.attempts[..33].iter().all(|&t| t < at("5d")));
    assert_eq!(reason, GiveUpReason::Lifetime);
    assert_eq!(sim.warnings, 1, "Timeout.queuewarn: one warning");
    // Older Sendmail compared strictly: one more run, at 5d4h.
    let strict = RetryPolicy::preset(Preset::Sendmail)
        .with_lifetime(Duration::from_secs(5 * 86_400), LifetimeMode::FailureAfter);
    let sim = run(&strict, 0);
    assert_eq!(give_up(&sim).0, at("5d4h"));
}

#[test]
fn stalwart_expires_exactly_at_3d() {
    let sim = run(&RetryPolicy::preset(Preset::Stalwart), 0);
    assert_eq!(
        offsets(&sim),
        vector("0s, 2m, 7m, 17m, 32m, 1h2m, 2h2m, 4h2m, 1d4h2m")
    );
    // Expires at 3d0h0m, which is not an attempt.
    let (when, reason) = give_up(&sim);
    assert_eq!(when, at("3d"));
    assert_eq!(reason, GiveUpReason::Lifetime);
    assert!(!sim.attempts.contains(&when));
}

#[test]
fn haraka_default() {
    let sim = run(&RetryPolicy::preset(Preset::Haraka), 0);
    assert_eq!(
        offsets(&sim),
        vector(
            "0s, 1m4s, 3m12s, 7m28s, 16m, 33m4s, 1h7m12s, 2h15m28s, 4h32m, 9h5m4s, 18h11m12s, \
             1d12h23m28s, 3d0h48m"
        )
    );
    // The 13th attempt's failure bounces.
    let (when, reason) = give_up(&sim);
    assert_eq!(when, at("3d0h48m"));
    assert_eq!(reason, GiveUpReason::ScheduleExhausted);
}

#[test]
fn haraka_lists() {
    use tempfail::backoff::DelayList;
    let list = DelayList::haraka("1m, 5m*2, 1h*3").unwrap();
    let secs: Vec<u64> = list.delays.iter().map(Duration::as_secs).collect();
    assert_eq!(secs, [60, 300, 300, 3600, 3600, 3600]);
    let sim = run(&RetryPolicy::new(list).without_lifetime(), 0);
    assert_eq!(
        offsets(&sim),
        vector("0s, 1m, 6m, 11m, 1h11m, 2h11m, 3h11m")
    );
    assert_eq!(give_up(&sim).0, at("3h11m"));

    // `none` bounces on the first temporary failure.
    let sim = run(
        &RetryPolicy::new(DelayList::haraka("none").unwrap()).without_lifetime(),
        0,
    );
    assert_eq!(sim.attempts, [T0]);
    assert_eq!(give_up(&sim).0, T0);

    // Each entry is at least 5 s.
    let err = DelayList::haraka("1m, 4s*2").unwrap_err();
    assert_eq!((err.position, err.token.as_str()), (4, "4s"));
}

#[test]
fn kumomta_formula_bounds() {
    let policy = RetryPolicy::preset(Preset::Kumomta);
    let mut lasts = Vec::new();
    for seed in 0..50 {
        let sim = run(&policy, seed);
        // wait(n) = 20 min × 2^n, jitter ±30 s.
        for (n, w) in sim.attempts.windows(2).enumerate() {
            let gap = w[1].saturating_duration_since(w[0]).as_millis() as i64;
            let nominal = 1_200_000i64 << n;
            assert!(
                (gap - nominal).abs() <= 30_000,
                "seed {seed} gap {n}: {gap} ms"
            );
        }
        // The next due time would pass max_age (7 d) after the 9th attempt, at ~85 h.
        assert_eq!(sim.attempts.len(), 9, "seed {seed}");
        let last = *sim.attempts.last().unwrap();
        let age = last.saturating_duration_since(T0).as_secs() as i64;
        assert!((age - 85 * 3600).abs() <= 8 * 30, "seed {seed}: {age}");
        let (when, reason) = give_up(&sim);
        assert_eq!((when, reason), (last, GiveUpReason::Lifetime));
        lasts.push(last);
        // Seeded jitter is reproducible.
        assert_eq!(run(&policy, seed), sim);
    }
    lasts.sort();
    lasts.dedup();
    assert!(
        lasts.len() > 40,
        "the jitter must actually vary with the seed"
    );
}

#[cfg(feature = "rand")]
#[test]
fn kumomta_with_injected_rng() {
    use rand::SeedableRng;
    use tempfail::backoff::Entropy;
    let policy = RetryPolicy::preset(Preset::Kumomta);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut state = RetryState::new(T0);
    let mut now = T0;
    let mut decider = policy.decider().entropy(Entropy::from_rng(&mut rng));
    for n in 0..8 {
        let d = decider.on_failure(&transient(), &mut state, now);
        let next = d.retry_at().expect("retries until ~85 h");
        let gap = next.saturating_duration_since(now).as_millis() as i64;
        assert!((gap - (1_200_000i64 << n)).abs() <= 30_000);
        now = next;
    }
    let d = decider.on_failure(&transient(), &mut state, now);
    assert_eq!(d.give_up_at(), Some(now));
}

#[test]
fn rfc5321_preset_follows_its_shoulds() {
    let sim = run(&RetryPolicy::preset(Preset::Rfc5321), 0);
    let got = offsets(&sim);
    // Two attempts in the first hour, then every two or three hours.
    assert_eq!(got[..5], vector("0s, 30m, 2h30m, 5h30m, 8h30m")[..]);
    for w in sim.attempts.windows(2) {
        assert!(w[1].saturating_duration_since(w[0]) >= Duration::from_secs(1800));
    }
    // Give up after at least 4–5 days.
    let (when, reason) = give_up(&sim);
    assert_eq!(reason, GiveUpReason::Lifetime);
    assert!(when >= at("5d"));
}

#[test]
fn tempfail_default_schedule() {
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let sim = run(&policy, 1);
    // 5 min × 2^n ± 10 %, capped at 3 h.
    for (n, w) in sim.attempts.windows(2).enumerate() {
        let gap = w[1].saturating_duration_since(w[0]).as_millis();
        let nominal = (300_000u128 << n.min(20)).min(10_800_000);
        assert!(
            gap * 10 >= nominal * 9 && gap * 10 <= nominal * 11,
            "gap {n}: {gap}"
        );
    }
    let (when, reason) = give_up(&sim);
    assert_eq!(reason, GiveUpReason::Lifetime);
    assert!(when >= at("5d") && when <= at("5d") + Duration::from_secs(3 * 3600 + 1080));
    // Warnings at 4 h, then daily: 4 h, 28 h, 52 h, 76 h, 100 h (116 h is past the end).
    assert_eq!(sim.warnings, 5);
}

#[test]
fn every_preset_gives_up_in_bounded_time() {
    for &p in Preset::ALL {
        let sim = run(&RetryPolicy::preset(p), 3);
        let (when, _) = give_up(&sim);
        assert!(when <= at("7d"), "{p}: {when}");
        assert_eq!(Preset::from_name(p.name()), Some(p));
        assert_eq!(RetryPolicy::preset(p).name, p.name());
    }
}
