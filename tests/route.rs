//! MX routing (RFC 5321 §5.1, RFC 7505): vectors for each rule, what each
//! routing failure classifies as, which failures move on to the next host, and
//! properties over arbitrary MX answers.

use std::collections::HashSet;

use proptest::prelude::*;
use tempfail::route::{
    AfterFailure, MxAnswer, MxRecord, RouteConfig, SkipReason, after_failure, plan,
};
use tempfail::{Category, Classifier, Disposition, Reply, Stage, TransportFailure};

fn mx(records: &[(u16, &str)]) -> MxAnswer {
    MxAnswer::Records(records.iter().map(|&(p, n)| MxRecord::new(p, n)).collect())
}

fn names(answer: &MxAnswer, cfg: &RouteConfig, seed: u64) -> Vec<String> {
    plan("example.com", answer, cfg, seed)
        .unwrap()
        .hosts
        .into_iter()
        .map(|h| h.name)
        .collect()
}

#[test]
fn lowest_preference_first_and_names_normalised() {
    let a = mx(&[
        (30, "MX3.Example.COM."),
        (10, "mx1.example.com."),
        (20, "mx2.example.com"),
    ]);
    assert_eq!(
        names(&a, &RouteConfig::default(), 0),
        ["mx1.example.com", "mx2.example.com", "mx3.example.com"]
    );
}

#[test]
fn equal_preferences_are_shuffled_by_the_seed_and_reproducible() {
    let a = mx(&[
        (10, "a.example"),
        (10, "b.example"),
        (10, "c.example"),
        (5, "first.example"),
    ]);
    let cfg = RouteConfig::default();
    let mut orders = HashSet::new();
    for seed in 0..200 {
        let n = names(&a, &cfg, seed);
        assert_eq!(n[0], "first.example");
        assert_eq!(n, names(&a, &cfg, seed), "same seed, same order");
        orders.insert(n);
    }
    assert_eq!(
        orders.len(),
        6,
        "every order of the three equal hosts appears"
    );
}

#[test]
fn implicit_mx_only_without_any_mx_record() {
    let cfg = RouteConfig::default();
    let r = plan("Example.ORG.", &MxAnswer::NoRecords, &cfg, 1).unwrap();
    assert!(r.implicit);
    assert_eq!(
        (r.hosts[0].name.as_str(), r.hosts[0].preference),
        ("example.org", 0)
    );
    let r = plan("example.org", &MxAnswer::Records(vec![]), &cfg, 1).unwrap();
    assert!(r.implicit, "an empty record set is no record");
    let r = plan("example.org", &mx(&[(10, "mx.example.org")]), &cfg, 1).unwrap();
    assert!(!r.implicit && r.hosts.len() == 1);
    assert_eq!(
        plan("bad..name", &MxAnswer::NoRecords, &cfg, 1).unwrap_err(),
        TransportFailure::DnsNoAddress
    );
}

#[test]
fn null_mx_is_no_mail_service_and_only_alone() {
    let cfg = RouteConfig::default();
    assert_eq!(
        plan("x.example", &mx(&[(0, ".")]), &cfg, 0).unwrap_err(),
        TransportFailure::NullMx
    );
    // RFC 7505 forbids the mix; the real record wins.
    let r = plan("x.example", &mx(&[(0, "."), (10, "mx.x.example")]), &cfg, 0).unwrap();
    assert_eq!(r.hosts.len(), 1);
    assert_eq!(r.skipped[0].1, SkipReason::NullBesideOthers);
    let c = Classifier::builtin().classify_failure(TransportFailure::NullMx, Stage::Connect);
    assert_eq!(
        (c.disposition, c.category),
        (Disposition::Permanent, Some(Category::NoMailService))
    );
}

#[test]
fn dns_failures_classify_as_the_rfcs_say() {
    let cfg = RouteConfig::default();
    let c = Classifier::builtin();
    let nx = plan("nope.example", &MxAnswer::NxDomain, &cfg, 0).unwrap_err();
    let k = c.classify_failure(nx, Stage::Connect);
    assert_eq!(
        (k.disposition, k.category),
        (Disposition::Permanent, Some(Category::DomainNotFound))
    );
    let tf = plan("x.example", &MxAnswer::TempFail, &cfg, 0).unwrap_err();
    let k = c.classify_failure(tf, Stage::Connect);
    assert_eq!(
        (k.disposition, k.category),
        (Disposition::Transient, Some(Category::Dns))
    );
}

#[test]
fn address_literals_are_skipped_unless_allowed() {
    let a = mx(&[(10, "192.0.2.1"), (20, "[2001:db8::1]")]);
    let cfg = RouteConfig::default();
    assert_eq!(
        plan("x.example", &a, &cfg, 0).unwrap_err(),
        TransportFailure::MxUnusable
    );
    let k = Classifier::builtin().classify_failure(TransportFailure::MxUnusable, Stage::Connect);
    assert_eq!(
        k.disposition,
        Disposition::Transient,
        "DNS may be fixed: {k:?}"
    );
    let allow = RouteConfig {
        allow_mx_to_ip: true,
        ..RouteConfig::default()
    };
    let r = plan("x.example", &a, &allow, 0).unwrap();
    assert_eq!(r.hosts[0].address, Some("192.0.2.1".parse().unwrap()));
    assert_eq!(r.hosts[1].address, Some("2001:db8::1".parse().unwrap()));
    // With a real host too, the literal is skipped and the host used.
    let r = plan(
        "x.example",
        &mx(&[(5, "192.0.2.1"), (10, "mx.x.example")]),
        &cfg,
        0,
    )
    .unwrap();
    assert_eq!(r.hosts.len(), 1);
    assert_eq!(r.skipped[0].1, SkipReason::AddressLiteral);
}

#[test]
fn self_references_keep_only_more_preferred_hosts() {
    let cfg = RouteConfig {
        local_names: vec!["mx2.example.com.".into()],
        ..RouteConfig::default()
    };
    let a = mx(&[
        (10, "mx1.example.com"),
        (20, "MX2.example.com"),
        (20, "mx3.example.com"),
        (30, "mx4.example.com"),
    ]);
    assert_eq!(names(&a, &cfg, 3), ["mx1.example.com"]);
    // We are the best MX: nowhere to go.
    let a = mx(&[(10, "mx2.example.com"), (20, "mx3.example.com")]);
    assert_eq!(
        plan("example.com", &a, &cfg, 0).unwrap_err(),
        TransportFailure::MxLoop
    );
    let cfg = RouteConfig {
        local_names: vec!["example.com".into()],
        ..RouteConfig::default()
    };
    assert_eq!(
        plan("example.com", &MxAnswer::NoRecords, &cfg, 0).unwrap_err(),
        TransportFailure::MxLoop
    );
}

#[test]
fn duplicates_once_at_best_preference_and_a_host_cap() {
    let a = mx(&[(20, "a.example"), (10, "A.example."), (30, "b.example")]);
    let r = plan("x.example", &a, &RouteConfig::default(), 0).unwrap();
    assert_eq!(
        r.hosts
            .iter()
            .map(|h| (h.name.as_str(), h.preference))
            .collect::<Vec<_>>(),
        [("a.example", 10), ("b.example", 30)]
    );
    let many: Vec<(u16, String)> = (0..12).map(|i| (i, format!("mx{i}.example"))).collect();
    let a = MxAnswer::Records(
        many.iter()
            .map(|(p, n)| MxRecord::new(*p, n.clone()))
            .collect(),
    );
    let r = plan("x.example", &a, &RouteConfig::default(), 0).unwrap();
    assert_eq!(r.hosts.len(), 5);
    assert_eq!(
        r.skipped
            .iter()
            .filter(|s| s.1 == SkipReason::OverHostLimit)
            .count(),
        7
    );
}

fn reply(s: &str) -> Reply {
    Reply::parse(format!("{s}\r\n").as_bytes()).unwrap()
}

#[test]
fn which_failures_move_on_to_the_next_host() {
    let c = Classifier::builtin();
    let next = |stage, text: &str| after_failure(stage, &c.classify(&reply(text), stage));
    let fail = |stage, f| after_failure(stage, &c.classify_failure(f, stage));
    assert_eq!(
        fail(Stage::Connect, TransportFailure::ConnectionRefused),
        AfterFailure::NextHost
    );
    assert_eq!(
        fail(Stage::Connect, TransportFailure::ConnectTimeout),
        AfterFailure::NextHost
    );
    assert_eq!(
        next(Stage::Greeting, "421 mx.example.com Service not available"),
        AfterFailure::NextHost
    );
    assert_eq!(
        next(Stage::Greeting, "554 No SMTP service here"),
        AfterFailure::NextHost
    );
    assert_eq!(
        fail(Stage::Starttls, TransportFailure::TlsHandshake),
        AfterFailure::NextHost
    );
    assert_eq!(
        fail(Stage::Starttls, TransportFailure::StartTlsNotOffered),
        AfterFailure::NextHost
    );
    assert_eq!(
        next(
            Stage::RcptTo,
            "421 4.3.2 Service shutting down, closing channel"
        ),
        AfterFailure::NextHost
    );
    assert_eq!(
        fail(Stage::RcptTo, TransportFailure::UnexpectedClose),
        AfterFailure::NextHost
    );
    // About the recipient, the sender or the message: the same at every MX.
    assert_eq!(
        next(
            Stage::RcptTo,
            "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown"
        ),
        AfterFailure::EndAttempt
    );
    assert_eq!(
        next(
            Stage::RcptTo,
            "450 4.2.0 <x@example.com>: Recipient address rejected: Greylisted"
        ),
        AfterFailure::EndAttempt
    );
    assert_eq!(
        next(Stage::MailFrom, "553 5.7.1 Sender address rejected"),
        AfterFailure::EndAttempt
    );
    assert_eq!(
        next(Stage::DataEnd, "552 5.3.4 Message size exceeds fixed limit"),
        AfterFailure::EndAttempt
    );
    // After the final dot the message may have been taken: never another host.
    assert_eq!(
        fail(Stage::DataEnd, TransportFailure::ReadTimeout),
        AfterFailure::EndAttempt
    );
    assert_eq!(
        next(Stage::DataEnd, "421 4.4.2 Timeout exceeded"),
        AfterFailure::EndAttempt
    );
    assert_eq!(
        next(Stage::RcptTo, "250 2.1.5 Ok"),
        AfterFailure::EndAttempt
    );
}

fn record() -> impl Strategy<Value = MxRecord> {
    let name = prop_oneof![
        (0u8..6).prop_map(|i| format!("mx{i}.example.com")),
        (0u8..6).prop_map(|i| format!("MX{i}.EXAMPLE.COM.")),
        Just(".".to_owned()),
        Just(String::new()),
        Just("192.0.2.7".to_owned()),
        Just("self.example.net".to_owned()),
        "[ -~]{0,12}",
    ];
    (
        prop_oneof![Just(0u16), Just(10), Just(20), any::<u16>()],
        name,
    )
        .prop_map(|(p, n)| MxRecord::new(p, n))
}

proptest! {
    #[test]
    fn any_answer_gives_an_ordered_bounded_loop_free_route(
        records in proptest::collection::vec(record(), 0..80),
        seed in any::<u64>(),
        max_hosts in 0usize..8,
        with_self in any::<bool>(),
    ) {
        let cfg = RouteConfig {
            max_hosts,
            local_names: if with_self { vec!["self.example.net".into()] } else { vec![] },
            allow_mx_to_ip: false,
        };
        let answer = MxAnswer::Records(records.clone());
        match plan("example.com", &answer, &cfg, seed) {
            Ok(r) => {
                prop_assert!(!r.hosts.is_empty() && r.hosts.len() <= max_hosts.max(1));
                prop_assert!(r.hosts.windows(2).all(|w| w[0].preference <= w[1].preference));
                let unique: HashSet<&str> = r.hosts.iter().map(|h| h.name.as_str()).collect();
                prop_assert_eq!(unique.len(), r.hosts.len());
                prop_assert!(r.hosts.iter().all(|h| h.address.is_none()));
                prop_assert!(!with_self || r.hosts.iter().all(|h| h.name != "self.example.net"));
                if let Some(own) = records.iter().filter(|m| m.exchange == "self.example.net").map(|m| m.preference).min() {
                    if with_self {
                        prop_assert!(r.hosts.iter().all(|h| h.preference < own));
                    }
                }
                prop_assert_eq!(&r, &plan("example.com", &answer, &cfg, seed).unwrap());
                // Every record used or skipped with a reason, none invented.
                if !r.implicit {
                    prop_assert!(r.hosts.len() + r.skipped.len() >= records.len().min(64));
                }
            }
            Err(f) => prop_assert!(matches!(
                f,
                TransportFailure::NullMx | TransportFailure::MxUnusable | TransportFailure::MxLoop | TransportFailure::DnsNoAddress
            )),
        }
    }
}
