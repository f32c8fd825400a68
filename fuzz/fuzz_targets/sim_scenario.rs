//! Hostile scenario files: any bytes are read as a JSON scenario; whatever is read
//! and validates runs (scaled down to a few hundred messages) without a panic, every
//! message is accounted for, and the run is deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tempfail::sim::{self, Contender, Scenario};
use tempfail::{Classifier, Preset};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = serde_json::from_slice::<Scenario>(data) else {
        return;
    };
    if s.validate().is_err() {
        return;
    }
    let s = if s.messages() > 300 { s.with_messages(300) } else { s };
    let c = Classifier::builtin();
    for contender in [Contender::preset(Preset::Postfix), Contender::preset(Preset::Tempfail)] {
        let a = sim::run(&s, &contender, &c).expect("a valid scenario runs");
        assert_eq!(a.delivered + a.bounced + a.expired + a.pending, a.messages);
        assert!(a.attempts >= a.delivered + a.bounced);
        let b = sim::run(&s, &contender, &c).unwrap();
        assert_eq!(a, b);
    }
});
