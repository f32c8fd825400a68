//! The `schedule` example's command-line contract, run in-process: the example's
//! own code is compiled into this test.

#[allow(dead_code)]
#[path = "../examples/schedule.rs"]
mod schedule;

fn run(args: &[&str]) -> Result<String, String> {
    schedule::run(args.iter().map(|s| s.to_string()).collect())
}

/// Parses the `--json` lines into (attempt times, give-up time).
fn json(args: &[&str]) -> (Vec<f64>, Option<f64>) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = run(&all).unwrap();
    let mut times = Vec::new();
    let mut give_up = None;
    let lines: Vec<&str> = out.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if i + 1 == lines.len() {
            give_up = v["give_up_at_secs"].as_f64();
            assert!(v.get("give_up_at_secs").is_some(), "last line: {line}");
        } else {
            assert_eq!(v["attempt"].as_u64(), Some(i as u64 + 1), "{line}");
            times.push(v["at_secs"].as_f64().unwrap());
        }
    }
    (times, give_up)
}

#[test]
fn postfix_preset_gives_up_at_its_last_attempt() {
    let (t, end) = json(&["--preset", "postfix"]);
    assert_eq!(t[..4], [0.0, 300.0, 600.0, 1200.0]);
    assert_eq!(t.len(), 113);
    assert_eq!(end, Some(432_800.0));
    assert_eq!(t.last().copied(), end);
}

#[test]
fn stalwart_expires_at_an_instant_that_is_not_an_attempt() {
    let (t, end) = json(&["--preset", "stalwart"]);
    assert_eq!(t.len(), 9);
    assert_eq!(end, Some(259_200.0));
    assert!(!t.contains(&259_200.0));
}

#[test]
fn exim_rules_alone() {
    let (t, end) = json(&["--exim", "F,2h,15m; G,16h,1h,1.5; F,4d,6h"]);
    assert_eq!(t.len(), 29);
    assert_eq!(end, Some(363_712.0)); // 4d5h1m52s
    // Its own cutoffs end it, no extra lifetime: a long chain runs past 5 days.
    // Daily attempts while the failing interval is at most 10 d: 0 … 10 d, and the
    // failure at 11 d times out.
    let (t, end) = json(&["--exim", "F,10d,1d"]);
    assert_eq!(t.len(), 12);
    assert_eq!(end, Some(11.0 * 86_400.0));
}

#[test]
fn haraka_lists_alone() {
    let (t, end) = json(&["--list", "1m, 5m*2, 1h*3"]);
    assert_eq!(t, [0.0, 60.0, 360.0, 660.0, 4260.0, 7860.0, 11_460.0]);
    assert_eq!(end, Some(11_460.0));
    let (t, end) = json(&["--list", "none"]);
    assert_eq!((t, end), (vec![0.0], Some(0.0)));
}

#[test]
fn postfix_keys_default_individually() {
    let (t, end) = json(&["--postfix", "min=600s,lifetime=1d"]);
    assert_eq!(t[..3], [0.0, 600.0, 1200.0]);
    // max stays 4000 s.
    assert!(t.windows(2).all(|w| w[1] - w[0] <= 4000.0));
    assert_eq!(end, t.last().copied());
    assert!(end.unwrap() >= 86_400.0 && end.unwrap() < 86_400.0 + 4000.0);
    assert_eq!(
        json(&["--postfix", "min=300s,max=4000s,lifetime=5d"]),
        json(&["--preset", "postfix"])
    );
}

#[test]
fn seeds_change_jitter_reproducibly() {
    let a = json(&["--preset", "kumomta", "--seed", "1"]);
    assert_eq!(a, json(&["--preset", "kumomta", "--seed", "1"]));
    assert_ne!(a, json(&["--preset", "kumomta", "--seed", "2"]));
    assert_eq!(
        json(&["--preset", "kumomta"]),
        json(&["--preset", "kumomta", "--seed", "0"])
    );
}

#[test]
fn readable_timeline_and_errors() {
    let out = run(&["--preset", "haraka"]).unwrap();
    assert!(out.contains("     13  3d0h48m"), "{out}");
    assert!(
        out.contains("gives up at 3d0h48m: schedule_exhausted"),
        "{out}"
    );
    let err = run(&["--exim", "F,2h,15m; G,16h,1h,x"]).unwrap_err();
    assert!(err.contains("at byte 19, \"x\""), "{err}");
    assert!(
        run(&["--preset", "qmail"])
            .unwrap_err()
            .contains("unknown preset")
    );
    assert!(
        run(&["--postfix", "mn=5m"])
            .unwrap_err()
            .contains("unknown key")
    );
    assert!(run(&["--preset", "exim", "--list", "1m"]).is_err());
}

#[test]
fn nonsense_schedules_are_refused_with_clear_errors() {
    for (args, says) in [
        (&["--postfix", "min=0s"][..], "min must be more than 0"),
        (
            &["--postfix", "min=600s,max=300s"],
            "must not be more than max",
        ),
        (&["--exim", ""], "the rule chain is empty"),
        (&["--exim", "F,2h,0s"], "zero wait"),
        (&["--exim", "G,2h,0s,2"], "zero wait"),
    ] {
        let e = run(args).expect_err(&format!("{args:?} is refused"));
        assert!(e.contains(says), "{args:?}: {e}");
    }
    // What is sound still runs.
    assert!(run(&["--postfix", "min=300s,max=300s"]).is_ok());
}

/// `--category` changes the timeline where a preset has a rule for that kind of
/// failure, and the JSON ends with the reason the policy gave up.
#[test]
fn a_category_has_its_own_timeline_and_the_json_ends_with_a_reason() {
    let (default, _) = json(&["--preset", "tempfail"]);
    let (grey, _) = json(&["--preset", "tempfail", "--category", "greylisted"]);
    assert_ne!(default[..4], grey[..4]);
    // Greylisting: retried right after postgrey's 300 s, then again 5 min later.
    assert_eq!(&grey[..3], &[0.0, 300.0, 600.0]);
    let out = run(&["--preset", "postfix", "--json"]).unwrap();
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["reason"], "lifetime");
    let e = run(&["--category", "greylisting"]).unwrap_err();
    assert!(e.contains("greylisted"), "{e}");
}
