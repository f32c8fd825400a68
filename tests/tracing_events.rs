//! With feature `tracing`, one classified reply and one delivery emit structured
//! events a log pipeline can index (snake_case values, no Debug spellings).
#![cfg(feature = "tracing")]

use std::sync::{Arc, Mutex};

use tempfail::prelude::*;
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber, span};

type Fields = Vec<(String, String)>;

struct Capture(Arc<Mutex<Vec<(String, Fields)>>>);

struct Visitor(Fields);

impl Visit for Visitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, e: &Event<'_>) {
        let mut v = Visitor(Vec::new());
        e.record(&mut v);
        self.0
            .lock()
            .unwrap()
            .push((e.metadata().target().to_owned(), v.0));
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

fn field<'a>(f: &'a Fields, name: &str) -> Option<&'a str> {
    f.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

#[test]
fn a_classified_reply_and_a_delivery_emit_events() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::with_default(Capture(seen.clone()), || {
        let classifier = Classifier::builtin();
        let policy = RetryPolicy::preset(Preset::Tempfail);
        let t0 = Timestamp::from_secs(1_700_000_000);
        let reply =
            Reply::parse(b"450 4.2.0 <b@x.example>: Recipient address rejected: Greylisted\r\n")
                .unwrap();
        let o = RcptOutcome::from_reply(&classifier, 0, reply, Stage::RcptTo);
        let mut d = Delivery::new(t0, 1, vec![Recipient::new("b@x.example")]);
        let _ = d.start_attempt(t0, None).unwrap();
        d.handle_outcome(t0, &policy, &o).unwrap();
        while d.poll_output().is_some() {}
    });
    let events = seen.lock().unwrap();
    let classified = events
        .iter()
        .find(|(_, f)| field(f, "message") == Some("classified"))
        .expect("a classification event");
    assert_eq!(classified.0, "tempfail");
    assert_eq!(field(&classified.1, "category"), Some("greylisted"));
    assert_eq!(field(&classified.1, "disposition"), Some("transient"));
    assert_eq!(field(&classified.1, "scope"), Some("recipient"));
    assert_eq!(field(&classified.1, "stage"), Some("rcpt_to"));
    let decision = events
        .iter()
        .find(|(_, f)| field(f, "message") == Some("retry decision"))
        .expect("a policy decision event");
    assert!(
        field(&decision.1, "decision")
            .unwrap()
            .starts_with("retry at 2023-"),
        "{decision:?}"
    );
    let outputs: Vec<&str> = events
        .iter()
        .filter(|(_, f)| field(f, "message") == Some("delivery output"))
        .filter_map(|(_, f)| field(f, "output"))
        .collect();
    assert!(
        outputs.iter().any(|o| o.starts_with("retry_at ")),
        "{outputs:?}"
    );
    assert!(
        outputs.iter().any(|o| o.starts_with("wake_at ")),
        "{outputs:?}"
    );
}
