//! Section: what a reply means for the sender, and which rule decided it.

use tempfail::{Classifier, Reply, ReplyCode, Stage, TransportFailure};

pub fn show() {
    crate::heading("Classifying replies");
    let c = Classifier::builtin();
    let samples: [(u16, &[&str], Stage); 7] = [
        (
            550,
            &[
                "5.1.1 The email account that you tried to reach does not exist. Please try",
                "5.1.1 double-checking the recipient's email address for typos.",
            ],
            Stage::RcptTo,
        ),
        (
            450,
            &[
                "4.2.0 <bob@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html",
            ],
            Stage::RcptTo,
        ),
        (
            421,
            &[
                "4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints",
            ],
            Stage::MailFrom,
        ),
        (552, &["Too many recipients"], Stage::RcptTo),
        (
            550,
            &["4.2.2 Mailbox full, try again in 2 hours"],
            Stage::RcptTo,
        ),
        (
            554,
            &["5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"],
            Stage::RcptTo,
        ),
        (502, &["5.5.2 Error: command not recognized"], Stage::Ehlo),
    ];
    for (code, lines, stage) in samples {
        let Some(code) = ReplyCode::new(code) else {
            continue;
        };
        let reply = Reply::new(code, lines.iter().copied());
        let v = c.classify(&reply, stage);
        let first = lines.first().copied().unwrap_or("");
        println!("{code} {first:.60}");
        println!(
            "    at {:<8} -> {:<9} {:<20} scope {:<11} retry {:<6} rule {}",
            stage.name(),
            v.disposition.name(),
            v.category.map_or("-", |c| c.name()),
            v.scope.name(),
            v.retry_after
                .map_or("-".to_owned(), |d| format!("{}s", d.as_secs())),
            v.rule
        );
    }

    println!();
    println!("Bounce text and transport failures:");
    for text in [
        "host mx.example.com[192.0.2.1] said: 552 5.2.2 <bob@example.com>: Mailbox full (in reply to RCPT TO command)",
        "connect to mx.example.com[192.0.2.1]:25: Connection refused",
        "Domain example.com does not accept mail (nullMX)",
    ] {
        let v = c.classify_text(text, Stage::Unknown);
        println!("{text:.70}");
        println!(
            "    -> {} {} scope {} rule {}",
            v.disposition.name(),
            v.category.map_or("-", |c| c.name()),
            v.scope.name(),
            v.rule
        );
    }
    let v = c.classify_failure(TransportFailure::UnexpectedClose, Stage::DataEnd);
    println!("unexpected close after the data");
    println!(
        "    -> {} {} scope {} rule {}",
        v.disposition.name(),
        v.category.map_or("-", |c| c.name()),
        v.scope.name(),
        v.rule
    );
}
