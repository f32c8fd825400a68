//! Section: what real SMTP replies are made of.

use tempfail::{Reply, ReplyCode};

pub fn show() {
    crate::heading("SMTP replies");
    let samples: [(u16, &[&str]); 3] = [
        (
            421,
            &[
                "4.7.28 [192.0.2.1] Our system has detected an unusual rate of",
                "4.7.28 unsolicited mail originating from your IP address.",
            ],
        ),
        (
            450,
            &["4.2.0 <bob@example.com>: Recipient address rejected: Greylisted"],
        ),
        (250, &[""]),
    ];
    for (code, lines) in samples {
        let Some(code) = ReplyCode::new(code) else {
            continue;
        };
        let r = Reply::new(code, lines.iter().copied());
        let kind = if r.is_positive() {
            "positive"
        } else if r.is_transient() {
            "transient"
        } else {
            "permanent"
        };
        let enhanced = r
            .enhanced()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "-".into());
        println!("{code} {enhanced:<7} {kind:<9} {:?}", r.text());
    }
}
