//! Arbitrary messages through the bounce parser: never a panic, output bounded by the
//! documented limits, every recipient an address found in the input, every report
//! non-empty. `cargo +nightly fuzz run bounce -- -max_total_time=60`
#![no_main]

use libfuzzer_sys::fuzz_target;
use tempfail::bounce::{self, MAX_RECIPIENTS, MAX_VALUE_BYTES};

fuzz_target!(|data: &[u8]| {
    // The messages of an mbox are pieces of the input, in order, never overlapping.
    let mut total = 0usize;
    for m in bounce::mbox_messages(data) {
        total += m.len();
        assert!(total <= data.len());
    }
    let Ok(report) = bounce::parse(data) else {
        return;
    };
    assert!(!report.recipients.is_empty());
    assert!(report.recipients.len() <= MAX_RECIPIENTS);
    // Recipients come from the input (possibly transfer-decoded: base64 and
    // quoted-printable parts are decoded before reading), so each needs an `@`.
    for r in &report.recipients {
        assert!(r.recipient.contains('@'), "{:?}", r.recipient);
        assert!(r.recipient.len() <= MAX_VALUE_BYTES);
        assert!(r.diagnostic.as_ref().is_none_or(|d| d.len() <= MAX_VALUE_BYTES));
        assert!(r.remote_mta.as_ref().is_none_or(|d| d.len() <= MAX_VALUE_BYTES));
    }
});
