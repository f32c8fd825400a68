//! Bounce and log text: finding the stage an MTA names ("in reply to RCPT TO
//! command", "while receiving the initial server greeting").

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::Stage;

/// Phrases MTAs (Postfix, Exim, Sendmail, Exchange) use to say which command a
/// quoted reply answered, with the stage each names.
const STAGE_PHRASES: &[(&str, Stage)] = &[
    ("in reply to rcpt to command", Stage::RcptTo),
    ("in reply to rcpt command", Stage::RcptTo),
    ("while sending rcpt to", Stage::RcptTo),
    ("after rcpt to", Stage::RcptTo),
    ("[rcpt_to]", Stage::RcptTo),
    ("in reply to mail from command", Stage::MailFrom),
    ("in reply to mail command", Stage::MailFrom),
    ("while sending mail from", Stage::MailFrom),
    ("after mail from", Stage::MailFrom),
    ("[mail_from]", Stage::MailFrom),
    ("in reply to end of data command", Stage::DataEnd),
    ("while sending end of data", Stage::DataEnd),
    ("after end of data", Stage::DataEnd),
    ("while sending message body", Stage::DataEnd),
    ("in reply to data command", Stage::Data),
    ("while sending data command", Stage::Data),
    ("after data", Stage::Data),
    (
        "while receiving the initial server greeting",
        Stage::Greeting,
    ),
    ("refused to talk to me", Stage::Greeting),
    ("after initial connection", Stage::Greeting),
    ("in reply to ehlo command", Stage::Ehlo),
    ("while performing the ehlo handshake", Stage::Ehlo),
    ("in reply to helo command", Stage::Helo),
    ("while performing the helo handshake", Stage::Helo),
    ("in reply to lhlo command", Stage::Helo),
    ("in reply to starttls command", Stage::Starttls),
    ("while performing the tls handshake", Stage::Starttls),
    ("in reply to auth command", Stage::Auth),
    ("in reply to bdat command", Stage::Bdat),
];

fn stage_ac() -> Option<&'static AhoCorasick> {
    static AC: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(STAGE_PHRASES.iter().map(|(p, _)| p))
            .ok()
    })
    .as_ref()
}

/// The stage the text names, if any: the last mention wins (a bounce quoting a
/// relay's reply names the command of the final hop last).
pub(crate) fn stage_from_text(text: &[u8]) -> Option<Stage> {
    let ac = stage_ac()?;
    ac.find_iter(text)
        .last()
        .and_then(|m| STAGE_PHRASES.get(m.pattern().as_usize()))
        .map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postfix_wording() {
        let t = b"host mx.example.com[192.0.2.1] said: 550 5.1.1 <a@example.com>: unknown (in reply to RCPT TO command)";
        assert_eq!(stage_from_text(t), Some(Stage::RcptTo));
        let t = b"lost connection with mx.example.com[192.0.2.1] while receiving the initial server greeting";
        assert_eq!(stage_from_text(t), Some(Stage::Greeting));
        let t = b"conversation with x[192.0.2.1] timed out while sending end of data -- message may be sent more than once";
        assert_eq!(stage_from_text(t), Some(Stage::DataEnd));
        assert_eq!(stage_from_text(b"550 5.1.1 user unknown"), None);
    }
}
