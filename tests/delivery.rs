//! The delivery machine: unit behaviour, persistence, and a model-based property test
//! over random event sequences.

use std::borrow::Cow;
use std::time::Duration;

use proptest::prelude::*;
use tempfail::delivery::{Delivery, DeliveryError, Output, RcptStatus, Recipient};
use tempfail::policy::{GiveUpReason, LifetimeMode, Preset, RetryPolicy};
use tempfail::{
    Category, Classification, Classifier, Disposition, RcptOutcome, Reply, ReplyCode, Scope, Stage,
    Timestamp,
};

const T0: Timestamp = Timestamp::from_secs(1_700_000_000);
const MIN: Duration = Duration::from_secs(60);

fn class(d: Disposition, cat: Option<Category>, scope: Scope) -> Classification {
    Classification {
        disposition: d,
        category: cat,
        scope,
        retry_after: None,
        rule: Cow::Borrowed("test"),
        description: Cow::Borrowed("test rule"),
        low_confidence: false,
    }
}

fn ok() -> Classification {
    class(Disposition::Success, None, Scope::Recipient)
}
fn grey() -> Classification {
    class(
        Disposition::Transient,
        Some(Category::Greylisted),
        Scope::Recipient,
    )
}
fn unknown() -> Classification {
    class(
        Disposition::Permanent,
        Some(Category::UserUnknown),
        Scope::Recipient,
    )
}
fn too_big() -> Classification {
    class(
        Disposition::Permanent,
        Some(Category::MessageTooBig),
        Scope::Message,
    )
}
fn sender_refused() -> Classification {
    class(
        Disposition::Permanent,
        Some(Category::SenderRejected),
        Scope::Message,
    )
}
fn network() -> Classification {
    class(
        Disposition::Transient,
        Some(Category::Network),
        Scope::Destination,
    )
}
fn rate_limited() -> Classification {
    let mut c = class(
        Disposition::Transient,
        Some(Category::RateLimited),
        Scope::Destination,
    );
    c.retry_after = Some(Duration::from_secs(600));
    c
}

fn outcome(rcpt: usize, stage: Stage, c: Classification) -> RcptOutcome {
    let code = match c.disposition {
        Disposition::Success => 250,
        Disposition::Transient => 450,
        Disposition::Permanent => 550,
    };
    RcptOutcome {
        rcpt,
        reply: Some(Reply::new(ReplyCode::new(code).unwrap(), ["test reply"])),
        stage,
        classification: c,
    }
}

fn rcpts(n: usize) -> Vec<Recipient> {
    (0..n)
        .map(|i| Recipient::new(format!("user{i}@example.com")))
        .collect()
}

fn drain(d: &mut Delivery) -> Vec<Output> {
    std::iter::from_fn(|| d.poll_output()).collect()
}

#[test]
fn partial_success_keeps_only_pending_recipients_with_their_own_clocks() {
    let p = RetryPolicy::preset(Preset::Postfix);
    let mut d = Delivery::new(T0, 1, rcpts(3));
    assert_eq!(
        d.start_attempt(T0, Some("mx.example.com"))
            .unwrap()
            .recipients(),
        [0, 1, 2]
    );
    d.handle_outcomes(
        T0,
        &p,
        &[
            outcome(0, Stage::RcptTo, grey()),
            outcome(1, Stage::DataEnd, ok()),
            outcome(2, Stage::DataEnd, ok()),
        ],
    )
    .unwrap();
    assert!(!d.is_attempt_in_progress(), "nobody left in flight");
    let out = drain(&mut d);
    assert_eq!(out[0], Output::Delivered { rcpts: vec![1, 2] });
    assert_eq!(
        out[1],
        Output::RetryAt {
            at: T0 + 5 * MIN,
            rcpts: vec![0]
        }
    );
    // The next attempt covers only recipient 0, whose clock keeps running.
    let t1 = T0 + 5 * MIN;
    assert_eq!(d.start_attempt(t1, None).unwrap().recipients(), [0]);
    d.handle_outcome(t1, &p, &outcome(0, Stage::RcptTo, grey()))
        .unwrap();
    let r0 = &d.recipients()[0];
    assert_eq!(r0.retry.failures, 2);
    assert_eq!(r0.retry.first_failure, Some(T0));
    assert_eq!(
        r0.status,
        RcptStatus::Deferred {
            until: t1 + 5 * MIN
        }
    );
    assert_eq!(d.recipients()[1].retry.failures, 0);
    assert_eq!(d.attempts(), 2);
    assert_eq!(d.history().len(), 2);
}

#[test]
fn each_outcome_settles_its_own_recipient_and_no_other() {
    let p = RetryPolicy::preset(Preset::Postfix);
    // The sender fans a refused MAIL FROM out (the session machine does it per
    // transaction): each recipient reported bounces; the delivery never settles a
    // recipient on another one's evidence.
    let mut d = Delivery::new(T0, 1, rcpts(3));
    let _ = d.start_attempt(T0, None).unwrap();
    d.handle_outcomes(
        T0,
        &p,
        &[
            outcome(0, Stage::MailFrom, sender_refused()),
            outcome(1, Stage::MailFrom, sender_refused()),
        ],
    )
    .unwrap();
    assert_eq!(d.recipients()[2].status, RcptStatus::InFlight);
    // A message-scope failure at the final dot for one recipient leaves the others
    // to their own replies: they may be in another transaction that succeeded.
    d.handle_outcome(T0, &p, &outcome(2, Stage::DataEnd, ok()))
        .unwrap();
    assert_eq!(
        drain(&mut d),
        [
            Output::Failed {
                rcpts: vec![0, 1],
                reason: GiveUpReason::Permanent
            },
            Output::Delivered { rcpts: vec![2] }
        ]
    );
    // A recipient nobody reported ends the attempt as a transient no-outcome, never
    // as a bounce borrowed from another recipient.
    let mut d = Delivery::new(T0, 1, rcpts(3));
    let _ = d.start_attempt(T0, None).unwrap();
    d.handle_outcome(T0, &p, &outcome(0, Stage::RcptTo, grey()))
        .unwrap();
    d.handle_outcome(T0, &p, &outcome(1, Stage::DataEnd, too_big()))
        .unwrap();
    d.end_attempt(T0, &p, &Classifier::builtin());
    assert_eq!(d.recipients()[0].status.name(), "deferred");
    assert_eq!(d.recipients()[1].status.name(), "failed");
    assert_eq!(d.recipients()[2].status.name(), "deferred");
    assert_eq!(
        d.recipients()[2]
            .last_failure
            .as_ref()
            .unwrap()
            .classification
            .rule,
        "delivery.no_outcome"
    );
}

#[test]
fn a_5yz_to_mail_is_not_cached() {
    // RFC 5321 §4.5.4.1: the refusal ends this message only. No destination signal
    // comes out of it, and another message to the same place starts clean.
    let p = RetryPolicy::preset(Preset::Tempfail);
    let mut d = Delivery::new(T0, 1, rcpts(1));
    let _ = d.start_attempt(T0, Some("mx.example.com")).unwrap();
    d.handle_outcome(T0, &p, &outcome(0, Stage::MailFrom, sender_refused()))
        .unwrap();
    assert!(
        drain(&mut d)
            .iter()
            .all(|o| !matches!(o, Output::Destination(_)))
    );
    let mut other = Delivery::new(T0, 2, rcpts(1));
    assert_eq!(
        other
            .start_attempt(T0, Some("mx.example.com"))
            .unwrap()
            .recipients(),
        [0]
    );
}

#[test]
fn destination_outcomes_signal_and_hold() {
    let p = RetryPolicy::preset(Preset::Tempfail);
    let mut d = Delivery::new(T0, 1, rcpts(2));
    let _ = d.start_attempt(T0, Some("mx.example.com")).unwrap();
    d.handle_outcome(T0, &p, &outcome(0, Stage::RcptTo, rate_limited()))
        .unwrap();
    let out = drain(&mut d);
    let sig = out
        .iter()
        .find_map(|o| match o {
            Output::Destination(s) => Some(s.clone()),
            _ => None,
        })
        .expect("a destination signal");
    assert_eq!(sig.classification.category, Some(Category::RateLimited));
    assert_eq!(sig.remote_mta.as_deref(), Some("mx.example.com"));
    assert_eq!(sig.hold_until, Some(T0 + Duration::from_secs(600)));
    // The rate limit did not count as an attempt under the tempfail preset.
    assert_eq!(d.recipients()[0].retry.failures, 0);
}

#[test]
fn transport_failure_hits_all_in_flight_and_end_attempt_catches_the_silent() {
    let p = RetryPolicy::preset(Preset::Postfix);
    let mut d = Delivery::new(T0, 1, rcpts(2));
    let _ = d.start_attempt(T0, None).unwrap();
    d.handle_transport_failure(T0, &p, &network(), Stage::Connect)
        .unwrap();
    assert!(!d.is_attempt_in_progress());
    assert_eq!(
        drain(&mut d)[0],
        Output::RetryAt {
            at: T0 + 5 * MIN,
            rcpts: vec![0, 1]
        }
    );
    let t1 = T0 + 5 * MIN;
    let _ = d.start_attempt(t1, None).unwrap();
    d.handle_outcome(t1, &p, &outcome(0, Stage::DataEnd, ok()))
        .unwrap();
    d.end_attempt(t1, &p, &Classifier::builtin());
    let r1 = &d.recipients()[1];
    assert_eq!(r1.status.name(), "deferred");
    assert_eq!(
        r1.last_failure.as_ref().unwrap().classification.rule,
        "delivery.no_outcome"
    );
}

#[test]
fn misuse_is_an_error_and_changes_nothing() {
    let p = RetryPolicy::preset(Preset::Postfix);
    let mut d = Delivery::new(T0, 1, rcpts(2));
    assert_eq!(
        d.handle_outcome(T0, &p, &outcome(0, Stage::RcptTo, ok())),
        Err(DeliveryError::NoAttempt)
    );
    let _ = d.start_attempt(T0, None).unwrap();
    assert_eq!(
        d.start_attempt(T0, None),
        Err(DeliveryError::AttemptInProgress(1))
    );
    let before = d.clone();
    assert!(matches!(
        d.handle_outcomes(
            T0,
            &p,
            &[
                outcome(0, Stage::DataEnd, ok()),
                outcome(9, Stage::RcptTo, ok())
            ]
        ),
        Err(DeliveryError::UnknownRecipient { rcpt: 9, len: 2 })
    ));
    assert_eq!(d, before, "a refused batch changes nothing");
    d.handle_outcome(T0, &p, &outcome(0, Stage::DataEnd, ok()))
        .unwrap();
    d.handle_outcome(T0, &p, &outcome(1, Stage::DataEnd, ok()))
        .unwrap();
    let _ = d.start_attempt(T0, None).unwrap(); // nothing due: no attempt
    assert!(!d.is_attempt_in_progress());
}

#[test]
fn exact_lifetime_expires_without_an_attempt_and_warnings_come_by_timeout() {
    // Stalwart: expiry exactly at 3 d, delay notices at 1 d and then 3 d later.
    let p = RetryPolicy::preset(Preset::Stalwart);
    let mut d = Delivery::new(T0, 1, rcpts(1));
    let _ = d.start_attempt(T0, None).unwrap();
    d.handle_outcome(T0, &p, &outcome(0, Stage::RcptTo, grey()))
        .unwrap();
    let out = drain(&mut d);
    let retry = match out.last() {
        Some(Output::WakeAt(t)) => *t,
        other => panic!("expected a wake-up last, got {other:?}"),
    };
    assert!(
        retry < T0 + Duration::from_secs(86_400),
        "the retry comes first"
    );
    // The caller holds the message (its destination is down) and makes no attempt:
    // once the retry time has passed, the next wake-up is the first delay notice.
    d.handle_timeout(retry, &p);
    let deadline = match drain(&mut d).last() {
        Some(Output::WakeAt(t)) => *t,
        other => panic!("expected a wake-up last, got {other:?}"),
    };
    assert!(d.is_due(retry));
    assert_eq!(
        deadline,
        T0 + Duration::from_secs(86_400),
        "first delay notice"
    );
    d.handle_timeout(deadline, &p);
    let out = drain(&mut d);
    assert_eq!(
        out[0],
        Output::DelayWarning {
            rcpts: vec![0],
            number: 1
        }
    );
    assert_eq!(out[1], Output::WakeAt(T0 + Duration::from_secs(3 * 86_400)));
    // Nobody attempts again: the recipient still expires exactly at 3 d.
    d.handle_timeout(T0 + Duration::from_secs(3 * 86_400), &p);
    let out = drain(&mut d);
    assert_eq!(
        out,
        vec![Output::Failed {
            rcpts: vec![0],
            reason: GiveUpReason::Lifetime
        }]
    );
    assert!(d.is_finished());
}

#[test]
fn cancel_is_terminal_and_leaves_the_finished_alone() {
    let p = RetryPolicy::preset(Preset::Postfix);
    let mut d = Delivery::new(T0, 1, rcpts(3));
    let _ = d.start_attempt(T0, None).unwrap();
    d.handle_outcome(T0, &p, &outcome(0, Stage::DataEnd, ok()))
        .unwrap();
    d.cancel(T0, &p, None).unwrap();
    assert!(d.is_finished());
    assert!(!d.is_attempt_in_progress());
    let out = drain(&mut d);
    assert!(out.contains(&Output::Cancelled { rcpts: vec![1, 2] }));
    assert_eq!(d.recipients()[0].status, RcptStatus::Delivered { at: T0 });
}

#[test]
fn an_earlier_now_is_clamped() {
    let p = RetryPolicy::preset(Preset::Postfix);
    let mut d = Delivery::new(T0, 1, rcpts(1));
    let _ = d.start_attempt(T0 + 10 * MIN, None).unwrap();
    d.handle_outcome(T0, &p, &outcome(0, Stage::RcptTo, grey()))
        .unwrap();
    match d.recipients()[0].status {
        RcptStatus::Deferred { until } => assert!(until >= T0 + 10 * MIN),
        s => panic!("{s:?}"),
    }
}

#[test]
fn dsn_entries_come_from_the_records() {
    let p = RetryPolicy::preset(Preset::Tempfail);
    let mut d = Delivery::new(
        T0,
        1,
        vec![
            Recipient {
                address: "a@example.com".into(),
                orcpt: Some("rfc822;A@example.com".into()),
                notify: None,
            },
            Recipient::new("b@example.com"),
        ],
    );
    let _ = d.start_attempt(T0, Some("mx.example.com")).unwrap();
    d.handle_outcomes(
        T0,
        &p,
        &[
            outcome(0, Stage::RcptTo, unknown()),
            outcome(1, Stage::RcptTo, grey()),
        ],
    )
    .unwrap();
    let entries = d.dsn_recipients(&[0, 1], &p);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].action, tempfail::dsn::Action::Failed);
    assert_eq!(
        entries[0].original_recipient.as_deref(),
        Some("rfc822;A@example.com")
    );
    assert_eq!(entries[0].remote_mta.as_deref(), Some("mx.example.com"));
    assert_eq!(entries[1].action, tempfail::dsn::Action::Delayed);
    assert_eq!(
        entries[1].will_retry_until,
        Some(T0 + Duration::from_secs(5 * 86_400))
    );
}

#[cfg(feature = "serde")]
#[test]
fn snapshots_are_versioned() {
    let p = RetryPolicy::preset(Preset::Postfix);
    let mut d = Delivery::new(T0, 1, rcpts(2));
    let _ = d.start_attempt(T0, None).unwrap();
    d.handle_outcome(T0, &p, &outcome(0, Stage::RcptTo, grey()))
        .unwrap();
    let json = serde_json::to_string(&d).unwrap();
    let back: Delivery = serde_json::from_str(&json).unwrap();
    assert_eq!(back, d);
    let future = json.replace("\"format_version\":1", "\"format_version\":99");
    let err = serde_json::from_str::<Delivery>(&future).unwrap_err();
    assert!(err.to_string().contains("version 99"), "{err}");
}

#[cfg(feature = "serde")]
#[test]
fn snapshots_from_before_one_verdict_vocabulary_still_load() {
    // Statuses and pending outputs as the earlier format wrote them: `bounced` with
    // its reason, `expired` without one, and the wake-up output called `timeout`.
    let p = RetryPolicy::preset(Preset::Postfix);
    let mut d = Delivery::new(T0, 1, rcpts(2));
    let _ = d.start_attempt(T0, None).unwrap();
    d.handle_outcome(T0, &p, &outcome(0, Stage::RcptTo, unknown()))
        .unwrap();
    let json = serde_json::to_string(&d).unwrap();
    assert!(json.contains("\"failed\":{"), "{json}");
    let old = json
        .replacen("\"failed\":{", "\"bounced\":{", 1)
        .replace("\"wake_at\":", "\"timeout\":");
    let back: Delivery = serde_json::from_str(&old).unwrap();
    assert_eq!(back.recipients()[0].status, d.recipients()[0].status);
    let expired = r#"{"expired":{"at":1700000000000}}"#;
    let status: tempfail::delivery::RcptStatus = serde_json::from_str(expired).unwrap();
    assert_eq!(
        status,
        RcptStatus::Failed {
            at: T0,
            reason: GiveUpReason::Lifetime
        }
    );
}

// ---------------------------------------------------------------------------
// Model-based property test
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    Start,
    Outcome {
        rcpt: usize,
        kind: u8,
        stage: u8,
    },
    Transport,
    End,
    Timeout,
    Cancel(Option<usize>),
    Advance(u64),
    Rewind(u64),
    #[cfg(feature = "serde")]
    Restore,
}

fn op(n: usize) -> impl Strategy<Value = Op> {
    let base = prop_oneof![
        4 => Just(Op::Start),
        8 => (0..n, 0u8..7, 0u8..3).prop_map(|(rcpt, kind, stage)| Op::Outcome { rcpt, kind, stage }),
        1 => Just(Op::Transport),
        2 => Just(Op::End),
        2 => Just(Op::Timeout),
        1 => proptest::option::weighted(0.3, 0..n).prop_map(Op::Cancel),
        6 => (1u64..200_000).prop_map(Op::Advance),
        1 => (1u64..3_000).prop_map(Op::Rewind),
    ];
    #[cfg(feature = "serde")]
    let base = prop_oneof![10 => base, 1 => Just(Op::Restore)];
    base
}

fn kind_class(kind: u8) -> Classification {
    match kind {
        0 => ok(),
        1 => grey(),
        2 => unknown(),
        3 => too_big(),
        4 => network(),
        5 => rate_limited(),
        _ => class(
            Disposition::Transient,
            Some(Category::MailboxFull),
            Scope::Recipient,
        ),
    }
}

fn policy(i: u8) -> RetryPolicy {
    match i {
        0 => RetryPolicy::preset(Preset::Postfix),
        1 => RetryPolicy::preset(Preset::Stalwart),
        2 => RetryPolicy::preset(Preset::Tempfail),
        3 => RetryPolicy::preset(Preset::Kumomta),
        // No lifetime: the rule ends it (Exim's cutoffs, Haraka's list).
        4 => RetryPolicy::preset(Preset::Exim),
        5 => RetryPolicy::preset(Preset::Haraka),
        _ => RetryPolicy::preset(Preset::Sendmail),
    }
}

const POLICIES: u8 = 7;

/// The documented position of an output kind within one input's outputs.
fn rank(o: &Output) -> u8 {
    match o {
        Output::Delivered { .. } => 0,
        Output::RetryAt { .. } => 1,
        Output::Failed { .. } => 2,
        Output::DelayWarning { .. } => 3,
        Output::Cancelled { .. } => 5,
        Output::Destination(_) => 6,
        Output::WakeAt(_) => 7,
    }
}

/// Applies one operation to a machine, returning the clamped time it saw.
fn apply(d: &mut Delivery, p: &RetryPolicy, op: &Op, now: Timestamp) {
    match op {
        Op::Start => {
            let _ = d.start_attempt(now, Some("mx.example.com"));
        }
        Op::Outcome { rcpt, kind, stage } => {
            let stage = [Stage::RcptTo, Stage::DataEnd, Stage::MailFrom][*stage as usize];
            let _ = d.handle_outcome(now, p, &outcome(*rcpt, stage, kind_class(*kind)));
        }
        Op::Transport => {
            let _ = d.handle_transport_failure(now, p, &network(), Stage::Connect);
        }
        Op::End => d.end_attempt(now, p, &Classifier::builtin()),
        Op::Timeout => d.handle_timeout(now, p),
        Op::Cancel(r) => {
            let _ = d.cancel(now, p, *r);
        }
        Op::Advance(_) | Op::Rewind(_) => {}
        #[cfg(feature = "serde")]
        Op::Restore => {}
    }
}

/// Checks the outputs of one input against the invariants, updating the terminal record.
fn check_outputs(
    out: &[Output],
    terminal: &mut [u32],
    max_now: Timestamp,
    expiry: Option<Timestamp>,
) -> Result<(), TestCaseError> {
    // Kinds come in the documented order.
    for w in out.windows(2) {
        prop_assert!(rank(&w[0]) <= rank(&w[1]), "out of order: {:?}", out);
    }
    // Retries and delay warnings are only for recipients not ended (before or by this input).
    let ended_now: Vec<usize> = out
        .iter()
        .flat_map(|o| match o {
            Output::Delivered { rcpts }
            | Output::Failed { rcpts, .. }
            | Output::Cancelled { rcpts } => rcpts.clone(),
            _ => Vec::new(),
        })
        .collect();
    for o in out {
        if let Output::RetryAt { rcpts, .. } | Output::DelayWarning { rcpts, .. } = o {
            for &i in rcpts {
                prop_assert!(terminal[i] == 0, "{:?} for ended recipient {}", o, i);
                prop_assert!(!ended_now.contains(&i), "{:?} and an end for {}", o, i);
            }
        }
    }
    for (k, o) in out.iter().enumerate() {
        match o {
            Output::Delivered { rcpts }
            | Output::Failed { rcpts, .. }
            | Output::Cancelled { rcpts } => {
                for &i in rcpts {
                    terminal[i] += 1;
                }
            }
            Output::RetryAt { at, .. } => {
                prop_assert!(*at >= max_now, "a retry in the past");
                if let Some(e) = expiry {
                    prop_assert!(*at <= e, "retry at {at} past the lifetime {e}");
                }
            }
            Output::WakeAt(t) => {
                prop_assert_eq!(k, out.len() - 1, "Timeout comes last");
                if let Some(e) = expiry {
                    prop_assert!(*t <= e, "deadline {t} past the lifetime {e}");
                }
            }
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_recipient_ends_exactly_once_and_restores_decide_alike(
        n in 1usize..5,
        pol in 0u8..POLICIES,
        ops in proptest::collection::vec(op(4), 0..60),
    ) {
        let p = policy(pol);
        // A lifetime whose end no retry may pass: Stalwart's exact expiry and
        // KumoMTA's "next due would pass max_age" both promise it.
        let strict = p.lifetime.filter(|l| matches!(l.mode, LifetimeMode::Exact | LifetimeMode::NextDuePast));
        let expiry = strict.map(|l| T0 + l.limit);
        let mut d = Delivery::new(T0, 42, rcpts(n));
        let mut terminal = vec![0u32; n];
        let mut now = T0;
        let mut max_now = T0;
        for o in &ops {
            let o = match o {
                Op::Outcome { rcpt, kind, stage } => Op::Outcome { rcpt: rcpt % n, kind: *kind, stage: *stage },
                Op::Cancel(Some(r)) => Op::Cancel(Some(r % n)),
                other => other.clone(),
            };
            match &o {
                Op::Advance(s) => { now += Duration::from_secs(*s); continue; }
                Op::Rewind(s) => { now -= Duration::from_secs(*s); continue; }
                #[cfg(feature = "serde")]
                Op::Restore => {
                    let json = serde_json::to_string(&d).unwrap();
                    let back: Delivery = serde_json::from_str(&json).unwrap();
                    prop_assert_eq!(&back, &d);
                    d = back;
                    continue;
                }
                _ => {}
            }
            let before: Vec<RcptStatus> = d.recipients().iter().map(|r| r.status).collect();
            apply(&mut d, &p, &o, now);
            max_now = max_now.max(now);
            let out: Vec<Output> = std::iter::from_fn(|| d.poll_output()).collect();
            check_outputs(&out, &mut terminal, max_now, expiry)?;
            // DSN entries at any step: the class matches the action, and a delay
            // promises retries until the lifetime's end, or nothing without one.
            let all: Vec<usize> = (0..n).collect();
            for e in d.dsn_recipients(&all, &p) {
                match e.action {
                    tempfail::dsn::Action::Failed => prop_assert_eq!(e.status.class(), 5),
                    tempfail::dsn::Action::Delayed => {
                        prop_assert_eq!(e.status.class(), 4);
                        prop_assert_eq!(e.will_retry_until, p.lifetime.map(|l| T0 + l.limit));
                    }
                    _ => prop_assert_eq!(e.status.class(), 2),
                }
            }
            if matches!(o, Op::Timeout) {
                // Whatever was due by now has been handled: the next wake-up is later,
                // unless recipients wait for an attempt right now, so a caller
                // sleeping until it never spins.
                if let Some(t) = d.next_wakeup(&p) {
                    prop_assert!(t > max_now || d.is_due(max_now), "wake-up {} not after {}", t, max_now);
                }
            }
            // A terminal state never changes.
            for (b, r) in before.iter().zip(d.recipients()) {
                if b.is_terminal() {
                    prop_assert_eq!(*b, r.status);
                }
            }
        }
        // Drive to the end: every attempt fails transiently, time jumps to each due time.
        let mut guard = 0;
        while !d.is_finished() {
            guard += 1;
            prop_assert!(guard < 5_000, "not finished after 5,000 rounds: {:?}", d.recipients());
            d.end_attempt(now, &p, &Classifier::builtin());
            let out: Vec<Output> = std::iter::from_fn(|| d.poll_output()).collect();
            max_now = max_now.max(now);
            check_outputs(&out, &mut terminal, max_now, expiry)?;
            if d.is_finished() {
                break;
            }
            let due = d.start_attempt(now, None).unwrap();
            if due.is_empty() {
                // Nothing due now: a waiting recipient must have a time to wake up at,
                // or it would wait forever.
                let next = d.next_wakeup(&p);
                prop_assert!(next.is_some(), "unfinished with nothing to wait for: {:?}", d.recipients());
                if let Some(t) = next {
                    now = now.max(t);
                    d.handle_timeout(now, &p);
                }
            } else {
                let outs: Vec<RcptOutcome> = due.recipients().iter().map(|&i| outcome(i, Stage::RcptTo, grey())).collect();
                d.handle_outcomes(now, &p, &outs).unwrap();
            }
            let out: Vec<Output> = std::iter::from_fn(|| d.poll_output()).collect();
            check_outputs(&out, &mut terminal, max_now, expiry)?;
        }
        prop_assert!(terminal.iter().all(|&t| t == 1), "terminal outputs per recipient: {:?}", terminal);
        // Whatever way each recipient ended, its DSN entry is well-formed: the status
        // class matches the action, and only a delay promises a retry time.
        let all: Vec<usize> = (0..n).collect();
        for e in d.dsn_recipients(&all, &p) {
            let class = match e.action {
                tempfail::dsn::Action::Failed => 5,
                tempfail::dsn::Action::Delayed => 4,
                _ => 2,
            };
            prop_assert_eq!(e.status.class(), class, "{:?}", e);
            if e.action != tempfail::dsn::Action::Delayed {
                prop_assert!(e.will_retry_until.is_none(), "{:?}", e);
            }
        }
    }
}

#[cfg(feature = "serde")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Serializing and restoring at any step changes nothing that follows.
    #[test]
    fn restore_at_any_step_changes_nothing(
        n in 1usize..4,
        pol in 0u8..POLICIES,
        ops in proptest::collection::vec(op(3), 0..40),
        cut in 0usize..40,
    ) {
        let p = policy(pol);
        let mut a = Delivery::new(T0, 9, rcpts(n));
        let mut b: Option<Delivery> = None;
        let mut now = T0;
        for (k, o) in ops.iter().enumerate() {
            if k == cut.min(ops.len()) {
                let json = serde_json::to_string(&a).unwrap();
                b = Some(serde_json::from_str(&json).unwrap());
            }
            let o = match o {
                Op::Outcome { rcpt, kind, stage } => Op::Outcome { rcpt: rcpt % n, kind: *kind, stage: *stage },
                Op::Cancel(Some(r)) => Op::Cancel(Some(r % n)),
                Op::Advance(s) => { now += Duration::from_secs(*s); continue; }
                Op::Rewind(s) => { now -= Duration::from_secs(*s); continue; }
                other => other.clone(),
            };
            apply(&mut a, &p, &o, now);
            let out_a: Vec<Output> = std::iter::from_fn(|| a.poll_output()).collect();
            if let Some(b) = b.as_mut() {
                apply(b, &p, &o, now);
                let out_b: Vec<Output> = std::iter::from_fn(|| b.poll_output()).collect();
                prop_assert_eq!(out_a, out_b);
                prop_assert_eq!(&a, &*b);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Deadlines, DSN entries and policies without a lifetime
// ---------------------------------------------------------------------------

#[test]
fn will_retry_until_is_left_out_without_a_lifetime() {
    // Exim's preset has no lifetime (its rule's cutoffs end it): there is no
    // "retry until" instant to promise, so the field must be absent, not year 584 million.
    let p = RetryPolicy::preset(Preset::Exim);
    assert!(p.lifetime.is_none());
    let mut d = Delivery::new(T0, 1, rcpts(2));
    let _ = d.start_attempt(T0, Some("mx.example.com")).unwrap();
    d.handle_outcome(T0, &p, &outcome(0, Stage::RcptTo, grey()))
        .unwrap();
    d.handle_transport_failure(T0, &p, &network(), Stage::Connect)
        .unwrap();
    let entries = d.dsn_recipients(&[0, 1], &p);
    assert_eq!(entries.len(), 2);
    for e in &entries {
        assert_eq!(e.action, tempfail::dsn::Action::Delayed);
        assert_eq!(e.will_retry_until, None, "{e:?}");
    }
}

#[test]
fn delay_warnings_listed_out_of_order_never_give_a_deadline_in_the_past() {
    // A policy read from a config may list its warning times in any order; the
    // machine must still hand out deadlines that move forward, or a caller that
    // sleeps until the deadline spins.
    let h = |n: u64| Duration::from_secs(n * 3600);
    let mut p = RetryPolicy::preset(Preset::Postfix);
    p.delay_warnings = tempfail::policy::DelayWarnings {
        at: vec![h(10), h(2)],
        repeat: false,
    };
    let mut d = Delivery::new(T0, 1, rcpts(1));
    let _ = d.start_attempt(T0, None).unwrap();
    d.handle_outcome(T0, &p, &outcome(0, Stage::RcptTo, grey()))
        .unwrap();
    let mut now = T0 + h(3);
    let mut warnings = Vec::new();
    for _ in 0..10 {
        d.handle_timeout(now, &p);
        for o in drain(&mut d) {
            if let Output::DelayWarning { number, .. } = o {
                warnings.push((now, number));
            }
        }
        match d.next_wakeup(&p) {
            Some(t) => {
                assert!(t > now, "deadline {t} not after {now}");
                now = t;
            }
            None => break,
        }
    }
    assert_eq!(warnings, [(T0 + h(3), 1), (T0 + h(10), 2)]);
}

#[test]
fn notify_success_gets_a_relayed_entry() {
    // RFC 3461 NOTIFY=SUCCESS: a recipient handed to the next hop is reported as
    // `relayed` (2.0.0) when the builder is asked; without SUCCESS it is left out.
    let p = RetryPolicy::preset(Preset::Tempfail);
    let mut wants = Recipient::new("a@example.com");
    wants.notify = tempfail::dsn::Notify::parse("SUCCESS,FAILURE");
    wants.orcpt = Some("rfc822;A@example.com".into());
    let mut d = Delivery::new(T0, 1, vec![wants, Recipient::new("b@example.com")]);
    let _ = d.start_attempt(T0, Some("mx.example.com")).unwrap();
    d.handle_outcomes(
        T0,
        &p,
        &[
            outcome(0, Stage::DataEnd, ok()),
            outcome(1, Stage::DataEnd, ok()),
        ],
    )
    .unwrap();
    let entries = d.dsn_recipients(&[0, 1], &p);
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|e| e.action == tempfail::dsn::Action::Relayed)
    );
    assert_eq!(entries[0].status.to_string(), "2.0.0");
    assert_eq!(entries[0].remote_mta.as_deref(), Some("mx.example.com"));
    assert_eq!(entries[0].last_attempt, Some(T0));
    let message = tempfail::dsn::DsnMessage {
        envelope_sender: "s@example.org".into(),
        envid: None,
        ret_full: false,
        arrival: Some(T0),
        original: b"Subject: x\r\n\r\nbody\r\n".to_vec(),
    };
    let report = tempfail::dsn::DsnBuilder::new("mta.example.org")
        .build(&message, &entries, T0, "id")
        .expect("a success notice for the recipient that asked");
    let text = String::from_utf8(report).unwrap();
    assert!(text.contains(
        "Final-Recipient: rfc822; a@example.com\r\nAction: relayed\r\nStatus: 2.0.0\r\n"
    ));
    assert!(!text.contains("b@example.com"), "b did not ask for SUCCESS");
}

#[cfg(feature = "serde")]
#[test]
fn inconsistent_snapshots_are_refused() {
    // A snapshot edited or corrupted so that a recipient is in flight with no attempt
    // in progress would leave it waiting forever (nothing ends it, no deadline): refuse it.
    let p = RetryPolicy::preset(Preset::Postfix);
    let mut d = Delivery::new(T0, 1, rcpts(2));
    let _ = d.start_attempt(T0, None).unwrap();
    let json = serde_json::to_string(&d).unwrap();
    assert!(json.contains("\"in_progress\":true"));
    let stuck = json.replace("\"in_progress\":true", "\"in_progress\":false");
    let err = serde_json::from_str::<Delivery>(&stuck).unwrap_err();
    assert!(err.to_string().contains("in flight"), "{err}");
    // Pending outputs must name recipients the message has.
    d.handle_outcome(T0, &p, &outcome(0, Stage::RcptTo, grey()))
        .unwrap();
    let json = serde_json::to_string(&d).unwrap();
    assert!(json.contains("\"rcpts\":[0]"), "{json}");
    let bad = json.replace("\"rcpts\":[0]", "\"rcpts\":[7]");
    let err = serde_json::from_str::<Delivery>(&bad).unwrap_err();
    assert!(err.to_string().contains("recipient 7"), "{err}");
}

#[test]
#[allow(clippy::disallowed_methods)] // measures its own running time
fn a_large_recipient_list_is_handled_in_near_linear_time() {
    // Each recipient's retry time has its own jitter, so 60,000 deferrals give tens
    // of thousands of distinct retry times, which must not be grouped in quadratic time.
    let n = 60_000;
    let p = RetryPolicy::preset(Preset::Tempfail);
    let mut d = Delivery::new(T0, 1, rcpts(n));
    let _ = d.start_attempt(T0, None).unwrap();
    let c = class(Disposition::Transient, None, Scope::Recipient);
    let outs: Vec<RcptOutcome> = (0..n)
        .map(|i| outcome(i, Stage::RcptTo, c.clone()))
        .collect();
    let started = std::time::Instant::now();
    d.handle_outcomes(T0, &p, &outs).unwrap();
    let took = started.elapsed();
    let out = drain(&mut d);
    let retries: usize = out
        .iter()
        .map(|o| match o {
            Output::RetryAt { rcpts, .. } => rcpts.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(retries, n);
    let distinct = out
        .iter()
        .filter(|o| matches!(o, Output::RetryAt { .. }))
        .count();
    assert!(distinct > n / 2, "jitter spreads the retries: {distinct}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn a_message_never_attempted_still_gets_its_warnings_and_expiry() {
    // The caller may hold a message without any attempt (its destination is marked
    // dead, or throttled): delay warnings and an exact lifetime must still come,
    // announced by the deadline, as they do for deferred recipients.
    let p = RetryPolicy::preset(Preset::Stalwart); // notice at 1 d, expiry exactly at 3 d
    let day = Duration::from_secs(86_400);
    let mut d = Delivery::new(T0, 1, rcpts(1));
    assert!(d.is_due(T0), "never attempted: due now");
    assert_eq!(d.next_wakeup(&p), Some(T0 + day));
    d.handle_timeout(T0 + day, &p);
    let out = drain(&mut d);
    assert_eq!(
        out,
        vec![
            Output::DelayWarning {
                rcpts: vec![0],
                number: 1
            },
            Output::WakeAt(T0 + 3 * day)
        ]
    );
    // The warning has a DSN entry: delayed, nothing tried yet (X.4.7), until 3 d.
    let entries = d.dsn_recipients(&[0], &p);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, tempfail::dsn::Action::Delayed);
    assert_eq!(entries[0].status.to_string(), "4.4.7");
    assert_eq!(entries[0].will_retry_until, Some(T0 + 3 * day));
    d.handle_timeout(T0 + 3 * day, &p);
    assert_eq!(
        drain(&mut d),
        vec![Output::Failed {
            rcpts: vec![0],
            reason: GiveUpReason::Lifetime
        }]
    );
    let entries = d.dsn_recipients(&[0], &p);
    assert_eq!(entries[0].status.to_string(), "5.4.7");
}

#[test]
fn a_transport_failure_is_explained_in_the_dsn() {
    // No reply came (the connection was refused): the DSN entry says so itself,
    // as `Diagnostic-Code: X-tempfail; <rule> at <stage>: <description>`.
    let p = RetryPolicy::preset(Preset::Tempfail);
    let c = tempfail::Classifier::builtin().classify_failure(
        tempfail::TransportFailure::ConnectionRefused,
        Stage::Connect,
    );
    let mut d = Delivery::new(T0, 1, rcpts(1));
    let _ = d.start_attempt(T0, Some("mx.example.com")).unwrap();
    d.handle_transport_failure(T0, &p, &c, Stage::Connect)
        .unwrap();
    let entries = d.dsn_recipients(&[0], &p);
    let e = &entries[0];
    assert_eq!(e.action, tempfail::dsn::Action::Delayed);
    assert_eq!(e.status.to_string(), "4.4.2");
    assert_eq!(e.diagnostic, None);
    let text = e.local_diagnostic.as_deref().unwrap();
    assert!(
        text.starts_with("transport.connection_refused at connect: TCP connection refused"),
        "{text}"
    );
    let message = tempfail::dsn::DsnMessage {
        envelope_sender: "a@example.org".into(),
        envid: None,
        ret_full: false,
        arrival: Some(T0),
        original: b"Subject: x\r\n\r\nbody\r\n".to_vec(),
    };
    let out = tempfail::dsn::DsnBuilder::new("mta.example.org")
        .build(&message, &entries, T0, "dsn.1@mta.example.org")
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains(
            "\r\nDiagnostic-Code: X-tempfail; transport.connection_refused at connect: TCP connection refused"
        ),
        "{out}"
    );
    // A reply, when there was one, is the diagnostic instead.
    let mut d = Delivery::new(T0, 1, rcpts(1));
    let _ = d.start_attempt(T0, None).unwrap();
    d.handle_outcome(T0, &p, &outcome(0, Stage::RcptTo, grey()))
        .unwrap();
    let e = &d.dsn_recipients(&[0], &p)[0];
    assert!(e.diagnostic.is_some() && e.local_diagnostic.is_none());
}
