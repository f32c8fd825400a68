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

/// The first enhanced status code standing on its own in the text (`5.1.1`, not part of
/// an IP address or a version number).
pub(crate) fn enhanced_in_text(text: &[u8]) -> Option<crate::reply::EnhancedCode> {
    use crate::reply::EnhancedCode;
    let glued = |b: u8| b.is_ascii_alphanumeric() || b == b'.';
    let mut i = 0;
    while i < text.len() {
        if matches!(text[i], b'2' | b'4' | b'5') && (i == 0 || !glued(text[i - 1])) {
            if let Some((e, n)) = EnhancedCode::parse_prefix(&text[i..]) {
                if text.get(i + n).is_none_or(|b| !b.is_ascii_alphanumeric()) {
                    return Some(e);
                }
            }
        }
        i += 1;
    }
    None
}

/// A second basic code (4xx or 5xx) at the start of a reply's first text line, with the
/// enhanced code after it if any: a server library that put its own default code in
/// front of the code the application meant (`550 451 4.3.0 Temporary lookup failure`,
/// `554 421 Too many connections`), also after the library's default enhanced code
/// (go-smtp's `451 4.0.0 530 5.7.0 …`) or its `Error: transaction failed:` frame (`554
/// 5.0.0 Error: transaction failed: 451 4.3.0 …`). The code must be followed by a space
/// or the end, and be believable as a code rather than a count, a size or an HTTP
/// status (`552 5.2.2 400 MB quota exceeded`, `550 404 Not Found`): followed by an
/// enhanced code of its own class, or after the frame, or (when the reply carries no
/// enhanced code of its own, `outer_enhanced` false) one of the reply codes SMTP
/// servers send. Constant time: only the line's first bytes are read.
pub(crate) fn inner_code(
    text: &[u8],
    outer_enhanced: bool,
) -> Option<(crate::reply::ReplyCode, Option<crate::reply::EnhancedCode>)> {
    use crate::reply::{EnhancedCode, ReplyCode};
    fn skip_blanks(t: &[u8]) -> &[u8] {
        let n = t.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
        &t[n..]
    }
    /// The reply codes SMTP servers send (RFC 5321 §4.2.2/§4.2.3, RFC 4954, RFC 3030,
    /// RFC 7504): a bare number outside them is a count or an HTTP status.
    const SMTP_CODES: [u16; 23] = [
        421, 450, 451, 452, 454, 455, 500, 501, 502, 503, 504, 521, 530, 534, 535, 538, 550, 551,
        552, 553, 554, 555, 556,
    ];
    const FRAME: &[u8] = b"error: transaction failed: ";
    let mut t = skip_blanks(text);
    let mut outer_enhanced = outer_enhanced;
    if let Some((_, n)) = EnhancedCode::parse_prefix(t) {
        if matches!(t.get(n), Some(b' ' | b'\t')) {
            t = skip_blanks(&t[n..]);
            outer_enhanced = true;
        }
    }
    let framed = t.len() >= FRAME.len() && t[..FRAME.len()].eq_ignore_ascii_case(FRAME);
    if framed {
        t = &t[FRAME.len()..];
    }
    let d = t.get(..3)?;
    if !(matches!(d[0], b'4' | b'5') && d[1].is_ascii_digit() && d[2].is_ascii_digit()) {
        return None;
    }
    if t.get(3).is_some_and(|b| !matches!(b, b' ' | b'\t')) {
        return None;
    }
    let n = u16::from(d[0] - b'0') * 100 + u16::from(d[1] - b'0') * 10 + u16::from(d[2] - b'0');
    let code = ReplyCode::new(n)?;
    let rest = skip_blanks(&t[3..]);
    let enh = EnhancedCode::parse_prefix(rest)
        .filter(|(_, n)| rest.get(*n).is_none_or(|b| !b.is_ascii_alphanumeric()))
        .map(|(e, _)| e);
    let believable = match enh {
        Some(e) => e.class() == code.class(),
        None => framed || (!outer_enhanced && SMTP_CODES.contains(&n)),
    };
    believable.then_some((code, enh))
}

/// An enhanced status code buried in a reply's text, after a basic code: qmail's
/// `(#5.1.1)` and other `#x.y.z` forms, or a relayed reply after `said:` (`said: 550
/// 5.1.1 …`, `said: 5.1.1 …`; only when `relayed`, as bounce text quotes them). The
/// first one found; `None` when there is none. Linear in the text; a text without `#`
/// (and, when `relayed`, without `:`) is dismissed by a fast byte search.
pub(crate) fn buried_enhanced(text: &[u8], relayed: bool) -> Option<crate::reply::EnhancedCode> {
    if !(text.contains(&b'#') || (relayed && text.contains(&b':'))) {
        return None;
    }
    use crate::reply::EnhancedCode;
    let standalone = |at: usize| -> Option<EnhancedCode> {
        let (e, n) = EnhancedCode::parse_prefix(text.get(at..)?)?;
        let after = text.get(at + n).copied();
        (after.is_none_or(|b| !b.is_ascii_alphanumeric() && b != b'.')).then_some(e)
    };
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'#' if text
                .get(i + 1)
                .is_some_and(|b| matches!(b, b'2' | b'4' | b'5')) =>
            {
                if let Some(e) = standalone(i + 1) {
                    return Some(e);
                }
            }
            b':' if relayed
                && i >= 4
                && text[i - 4..i].eq_ignore_ascii_case(b"said")
                && (i == 4 || !text[i - 5].is_ascii_alphanumeric()) =>
            {
                let mut j = i + 1;
                while text.get(j) == Some(&b' ') {
                    j += 1;
                }
                // An optional basic code, then the enhanced code.
                if text
                    .get(j..j + 3)
                    .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
                    && matches!(text.get(j + 3), Some(b' ' | b'-'))
                {
                    j += 4;
                }
                if let Some(e) = standalone(j) {
                    return Some(e);
                }
            }
            _ => {}
        }
    }
    None
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

    #[test]
    fn enhanced_code_alone() {
        let e = |t: &str| enhanced_in_text(t.as_bytes()).map(|e| e.to_string());
        assert_eq!(e("X-Postfix; 5.1.1 user unknown"), Some("5.1.1".into()));
        assert_eq!(e("Status: 4.4.1"), Some("4.4.1".into()));
        assert_eq!(e("from 192.0.2.1 at 10.5.1.1"), None);
        assert_eq!(e("version 5.1.1a"), None);
        assert_eq!(e("no code here"), None);
    }

    #[test]
    fn buried_codes() {
        let e = |t: &str| buried_enhanced(t.as_bytes(), true).map(|e| e.to_string());
        assert_eq!(
            e("sorry, no mailbox here by that name. (#5.1.1)"),
            Some("5.1.1".into())
        );
        assert_eq!(
            e("Sorry, I couldn't find a mail exchanger or IP address. (#4.4.7)"),
            Some("4.4.7".into())
        );
        assert_eq!(
            e("delivery failed; host mx.example.org said: 550 5.1.1 no such user"),
            Some("5.1.1".into())
        );
        assert_eq!(
            e("remote host said: 5.2.2 mailbox full"),
            Some("5.2.2".into())
        );
        assert_eq!(e("ticket #5 is closed"), None);
        assert_eq!(e("see #5.1.1a"), None);
        assert_eq!(e("assaid: 550 5.1.1"), None);
        assert_eq!(e("no code at all"), None);
        // A live reply's own text: only the `#` forms.
        let live = |t: &str| buried_enhanced(t.as_bytes(), false).map(|e| e.to_string());
        assert_eq!(
            live("no mailbox here by that name. (#5.1.1)"),
            Some("5.1.1".into())
        );
        assert_eq!(live("host said: 550 5.1.1 no such user"), None);
    }
}
