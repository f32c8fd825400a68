//! The short paths a new user takes: constructors, readable Display, time
//! arithmetic, the replay helper, strict stage names.

use std::time::Duration;

use tempfail::delivery::Output;
use tempfail::policy::GiveUpReason;
use tempfail::prelude::*;

#[test]
fn constructors_take_the_category_usual_scope_and_chain() {
    let c = Classification::transient(Category::Greylisted);
    assert_eq!(
        (c.disposition, c.scope),
        (Disposition::Transient, Scope::Recipient)
    );
    let c = c
        .with_scope(Scope::Destination)
        .with_retry_after(Duration::from_secs(90))
        .with_rule("acme.grey");
    assert_eq!(c.scope, Scope::Destination);
    assert_eq!(c.retry_after, Some(Duration::from_secs(90)));
    assert_eq!(c.rule, "acme.grey");
    assert_eq!(
        c.to_string(),
        "transient greylisted (scope destination, rule acme.grey, retry after 1m30s)"
    );
    let p = Classification::permanent(Category::UserUnknown);
    assert_eq!(
        p.to_string(),
        "permanent user_unknown (scope recipient, rule user.permanent)"
    );
    assert_eq!(Classification::success().disposition, Disposition::Success);
}

#[test]
fn display_never_shows_debug_spellings() {
    let t = Timestamp::from_secs(1_700_000_000);
    let shown = [
        Output::RetryAt {
            at: t,
            rcpts: vec![0, 2],
        }
        .to_string(),
        Output::Failed {
            rcpts: vec![1],
            reason: GiveUpReason::NeverRetried(Category::UserUnknown),
        }
        .to_string(),
        Output::WakeAt(t).to_string(),
        RetryPolicy::preset(Preset::Postfix)
            .decide(
                &Classification::transient(Category::ServerError),
                &RetryState::new(t),
                t,
            )
            .to_string(),
    ];
    assert_eq!(shown[0], "retry_at 2023-11-14T22:13:20.000Z [0, 2]");
    assert!(shown[1].starts_with("failed [1]: "), "{}", shown[1]);
    assert!(shown[1].contains("user_unknown"), "{}", shown[1]);
    assert_eq!(shown[2], "wake_at 2023-11-14T22:13:20.000Z");
    assert!(
        shown[3].starts_with("retry at 2023-11-14T22:18:20.000Z"),
        "{}",
        shown[3]
    );
    for s in &shown {
        for debug in [
            "Timestamp(",
            "Some(",
            "NeverRetried",
            "UserUnknown",
            "RetryAt",
        ] {
            assert!(!s.contains(debug), "{s}");
        }
    }
}

#[test]
fn time_arithmetic_saturates() {
    let t = Timestamp::from_secs(10);
    assert_eq!((t + Duration::from_secs(5)) - t, Duration::from_secs(5));
    assert_eq!(t - (t + Duration::from_secs(5)), Duration::ZERO);
    assert_eq!(
        Timestamp::from_millis(u64::MAX) + Duration::from_secs(1),
        Timestamp::from_millis(u64::MAX)
    );
}

#[test]
fn replay_stops_when_the_policy_gives_up() {
    let policy = RetryPolicy::preset(Preset::Postfix);
    let t0 = Timestamp::from_secs(1_700_000_000);
    let down = Classification::transient(Category::ServerError);
    let gone = Classification::permanent(Category::UserUnknown);
    let offsets = policy.replay(&[down.clone(), down, gone.clone(), gone], t0);
    assert_eq!(
        offsets,
        [
            Duration::ZERO,
            Duration::from_secs(300),
            Duration::from_secs(600)
        ]
    );
}

#[test]
fn stage_names_are_strict_where_a_user_types_them() {
    assert_eq!("data_end".parse::<Stage>(), Ok(Stage::DataEnd));
    assert_eq!("MAIL FROM".parse::<Stage>(), Ok(Stage::MailFrom));
    let e = "rcpt-to".parse::<Stage>().unwrap_err();
    assert_eq!(e.found, "rcpt-to");
    assert!(e.to_string().contains("rcpt_to"), "{e}");
    // The lenient parser still reads logs.
    assert_eq!(Stage::parse_lenient("rcpt-to"), Stage::Unknown);
}

/// A category's own retry list counts the failures of that category: after three
/// server errors, the first greylisting still waits the list's first delay.
#[test]
fn a_category_retry_list_counts_its_own_failures() {
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let t0 = Timestamp::from_secs(1_700_000_000);
    let down = Classification::transient(Category::ServerError);
    let grey = Classification::transient(Category::Greylisted);
    let only_grey = policy.replay(&[grey.clone(), grey.clone(), grey.clone()], t0);
    let mixed = policy.replay(
        &[
            down.clone(),
            down.clone(),
            down,
            grey.clone(),
            grey.clone(),
            grey,
        ],
        t0,
    );
    let gaps = |t: &[Duration]| t.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>();
    // The greylisting waits are the same whatever came before them.
    assert_eq!(gaps(&mixed[3..]), gaps(&only_grey[..3]));
    assert_eq!(gaps(&only_grey)[0], Duration::from_secs(300));
    let mut state = RetryState::new(t0);
    let _ = policy.on_failure(
        &Classification::transient(Category::ServerError),
        &mut state,
        t0,
    );
    let _ = policy.on_failure(
        &Classification::transient(Category::Greylisted),
        &mut state,
        t0,
    );
    assert_eq!(state.category_failures.get(Category::Greylisted), 1);
    assert_eq!(state.category_failures.get(Category::ServerError), 1);
    assert_eq!(state.failures, 2);
}

/// A retry state persisted by an earlier build (format version 1, no per-category
/// counts) still loads, and counts per category from then on.
#[cfg(feature = "serde")]
#[test]
fn an_old_persisted_retry_state_still_loads() {
    let v1 = r#"{"format_version":1,"arrival":1700000000000,"seed":7,"failures":3,"deferrals":3,
                 "first_failure":1700000000000,"last_attempt":1700000600000,"planned_delay_ms":600000,"warnings":0}"#;
    let s: RetryState = serde_json::from_str(v1).unwrap();
    assert_eq!((s.failures, s.seed), (3, 7));
    assert_eq!(s.category_failures.iter().count(), 0);
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.starts_with(r#"{"format_version":2,"#), "{json}");
    let v = r#"{"v":1,"arrival":0}"#;
    assert!(serde_json::from_str::<RetryState>(v).is_ok());
}

/// Counters a user exports: the classifier's decisions and a delivery's outputs.
#[test]
fn tallies_count_what_happened() {
    use tempfail::classify::Tally as Decisions;
    use tempfail::delivery::Tally as Outputs;
    let classifier = Classifier::builtin();
    let policy = RetryPolicy::preset(Preset::Tempfail);
    let t0 = Timestamp::from_secs(1_700_000_000);
    let mut d = Delivery::new(
        t0,
        1,
        vec![
            Recipient::new("a@x.example"),
            Recipient::new("b@x.example"),
            Recipient::new("c@x.example"),
        ],
    );
    let _ = d.start_attempt(t0, None).unwrap();
    let mut decisions = Decisions::default();
    for (i, text) in [
        "250 2.1.5 Ok",
        "450 4.2.0 Greylisted",
        "550 5.1.1 no such user",
    ]
    .iter()
    .enumerate()
    {
        let o = RcptOutcome::from_reply(
            &classifier,
            i,
            Reply::parse(format!("{text}\r\n").as_bytes()).unwrap(),
            Stage::RcptTo,
        );
        decisions.record(&o.classification);
        d.handle_outcome(t0, &policy, &o).unwrap();
    }
    d.end_attempt(t0, &policy, &classifier);
    let mut outputs = Outputs::default();
    while let Some(o) = d.poll_output() {
        outputs.record(&o);
    }
    assert_eq!(decisions.total, 3);
    assert_eq!(decisions.by_category[&Category::Greylisted], 1);
    assert_eq!(decisions.by_disposition[&Disposition::Success], 1);
    assert_eq!(decisions.by_rule["rfc5321.positive"], 1);
    assert_eq!((outputs.delivered, outputs.retries), (1, 1));
    assert_eq!(outputs.failed_by_reason["permanent"], 1);
}
