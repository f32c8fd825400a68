//! The words of bounces: which MTA wrote a notice, where its own text ends and the
//! returned message starts, which lines name a failed recipient, and whether a
//! message is an auto-reply. Every function here is one pass over its input.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::sync::OnceLock;

use super::Format;
use crate::classify::Stage;

/// Phrases that identify the software (or provider) that wrote a notice.
const FORMAT_PHRASES: &[(&str, Format)] = &[
    ("this is the mail system at host", Format::Postfix),
    ("the postfix program", Format::Postfix),
    (
        "this message was created automatically by mail delivery software",
        Format::Exim,
    ),
    ("the following address(es) failed", Format::Exim),
    ("this is the qmail-send program", Format::Qmail),
    ("hi. this is the qmail", Format::Qmail),
    ("below this line is a copy of the message", Format::Qmail),
    (
        "the following addresses had permanent fatal errors",
        Format::Sendmail,
    ),
    ("transcript of session follows", Format::Sendmail),
    ("the original message was received at", Format::Sendmail),
    ("delivery has failed to these recipients", Format::Exchange),
    (
        "diagnostic information for administrators",
        Format::Exchange,
    ),
    ("your message to", Format::Exchange),
    ("couldn't be delivered", Format::Exchange),
    ("microsoft exchange", Format::Exchange),
    ("did not reach the following recipient", Format::Exchange),
    ("error message below:", Format::ApacheJames),
    ("delivery to the following recipient", Format::Gmail),
    ("google tried to deliver your message", Format::Gmail),
    ("message wasn't delivered to", Format::Gmail),
    (
        "sorry, we were unable to deliver your message",
        Format::Yahoo,
    ),
    ("yahoo", Format::Yahoo),
    ("could not be delivered", Format::Generic),
    ("couldn't be delivered", Format::Generic),
    ("undeliverable", Format::Generic),
    ("delivery failed", Format::Generic),
    ("delivery has failed", Format::Generic),
    ("did not reach the following", Format::Generic),
    ("following addresses had", Format::Generic),
    ("delivery to the following", Format::Generic),
    ("not be delivered", Format::Generic),
    ("unable to deliver", Format::Generic),
    ("permanent error", Format::Generic),
];

fn format_ac() -> Option<&'static AhoCorasick> {
    static AC: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(FORMAT_PHRASES.iter().map(|(p, _)| p))
            .ok()
    })
    .as_ref()
}

/// The software that wrote `notice`, from its first recognised phrase.
pub(crate) fn format_of(notice: &str) -> Option<Format> {
    let ac = format_ac()?;
    ac.find(notice)
        .and_then(|m| FORMAT_PHRASES.get(m.pattern().as_usize()))
        .map(|(_, f)| *f)
}

/// Lines that start the returned message (or the part of the notice that is no longer
/// about the recipients), compared lower-case, after the dashes and blanks around them.
const RETURNED_MARKERS: &[&str] = &[
    "this is a copy of the message",
    "below this line is a copy of the message",
    "original message",
    "returned message",
    "original message follows",
    "original message headers",
    "headers of the original message",
    "the original message headers",
    "message headers follow",
    "undelivered message attached",
    "text of the original message",
    "the header of the original message",
    "copy of the original message",
    "content-type: message/rfc822",
    "unsent message below",
    "returned mail follows",
    "this is a copy of your message",
    "unsent message follows",
    "original mail as follows",
    "message text follows",
];

/// Whether `line` starts the returned message (no allocation: most lines are
/// refused by their length or first letter).
fn is_returned_marker(line: &str) -> bool {
    let t = line
        .trim_matches(|c: char| c == '-' || c == '=' || c == '_' || c == '|' || c.is_whitespace());
    if t.is_empty() || t.len() > 80 {
        return false;
    }
    let first = t.as_bytes().first().map_or(0, u8::to_ascii_lowercase);
    if !matches!(first, b't' | b'b' | b'o' | b'r' | b'h' | b'm' | b'u' | b'c') {
        return false;
    }
    let t = t.trim_end_matches([':', '.']);
    let dashed = line
        .trim_start()
        .trim_start_matches('|')
        .starts_with(['-', '=']);
    RETURNED_MARKERS.iter().any(|m| {
        t.len() >= m.len()
            && t.as_bytes()
                .get(..m.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(m.as_bytes()))
            && (t.len() == m.len() || dashed)
    })
}

/// `notice` split where the returned message starts: (the notice's own text, the rest).
pub(crate) fn split_returned(notice: &str) -> (&str, &str) {
    let mut at = 0usize;
    for line in notice.split_inclusive('\n') {
        if is_returned_marker(line) {
            let rest = notice.get(at.saturating_add(line.len())..).unwrap_or("");
            return (notice.get(..at).unwrap_or(notice), rest);
        }
        at = at.saturating_add(line.len());
    }
    (notice, "")
}

/// A bounce someone forwarded with every line quoted (`> ` before each), as a mail
/// client writes "Begin forwarded message:": the text with one level of quoting
/// removed, so that the bounce's own lines (its recipient lines, its transcript, a
/// report's fields) read as written. `None` unless at least 8 lines, and most of the
/// non-blank ones, are quoted (`>` then a blank or nothing: a Sendmail transcript's
/// `>>> DATA` is not a quote).
pub(crate) fn unquote_forwarded(text: &str) -> Option<String> {
    // Most notices hold no quoted line at all: one memchr pass says so.
    memchr::memmem::find(text.as_bytes(), b"\n> ")?;
    let is_quoted = |l: &str| l == ">" || l.starts_with("> ") || l.starts_with(">\t");
    let (mut quoted, mut lines) = (0usize, 0usize);
    for l in text.lines() {
        let l = l.trim_end();
        if l.is_empty() {
            continue;
        }
        lines += 1;
        if is_quoted(l) || l.starts_with(">>") && quoted > 0 {
            quoted += 1;
        }
    }
    if quoted < 8 || quoted * 3 < lines * 2 {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for l in text.split_inclusive('\n') {
        let body = l
            .strip_prefix('>')
            .map_or(l, |r| r.strip_prefix(' ').unwrap_or(r));
        out.push_str(body);
    }
    Some(out)
}

/// Whether `s` looks like one mailbox address `local@domain` (no blanks, one `@`,
/// a dotted domain of letters, digits and hyphens, or an address literal).
pub(crate) fn is_address(s: &str) -> bool {
    if s.len() < 3 || s.len() > 320 {
        return false;
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    if local.is_empty()
        || local.len() > 128
        || local.contains('@')
        || local.starts_with('.')
        || local.bytes().any(|b| {
            b.is_ascii_whitespace() || b.is_ascii_control() || b"<>()[],;:\\\"".contains(&b)
        })
    {
        return false;
    }
    if domain.starts_with('[') && domain.ends_with(']') {
        return domain.len() > 2;
    }
    domain.contains('.')
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-' || c == '_')
}

/// Labels that may precede a recipient on its line.
const LABELS: &[&str] = &[
    "recipient address:",
    "recipient:",
    "failed recipient:",
    "original recipient:",
    "final recipient:",
    "failed address:",
    "address:",
    "rcpt to:",
];

/// The address a line of a notice names as a recipient, and the rest of the line:
/// a line that is only an address (`  bob@example.com`, `<bob@example.com>:`), or
/// starts with one followed by `:` or `...` (`<bob@example.com>: host … said: …`,
/// `<bob@example.com>... User unknown`).
pub(crate) fn line_address(line: &str, allow_labels: bool) -> Option<(&str, &str)> {
    let mut t = line.trim();
    if t.len() > 1000 {
        return None;
    }
    if allow_labels {
        for l in LABELS {
            if t.len() >= l.len() && t.get(..l.len()).is_some_and(|p| p.eq_ignore_ascii_case(l)) {
                t = t.get(l.len()..).unwrap_or("").trim_start();
                break;
            }
        }
    }
    let (addr, rest, bracketed) = if let Some(r) = t.strip_prefix('<') {
        let end = r.find('>')?;
        (r.get(..end)?.trim(), r.get(end + 1..)?, true)
    } else if let Some(r) = t.strip_prefix('"') {
        let end = r.find('"')?;
        (r.get(..end)?.trim(), r.get(end + 1..)?, true)
    } else {
        let end = t
            .find(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .unwrap_or(t.len());
        let tok = t.get(..end)?;
        let tok_trim = tok.trim_end_matches([':', '.']);
        (tok_trim, t.get(tok_trim.len()..)?, false)
    };
    let addr = addr.strip_prefix("mailto:").unwrap_or(addr);
    let rest_t = rest.trim();
    let tail = rest_t.trim_end_matches([':', ',', ';', '.']).trim();
    let ok = tail.is_empty()
        || rest_t.starts_with(':')
        || rest_t.starts_with("...")
        || (bracketed && rest_t.starts_with('('));
    if ok && is_address(addr) {
        return Some((addr, rest_t.trim_start_matches([':', '.']).trim()));
    }
    named_line_address(t)
}

/// A recipient written as a name and an address (RFC 5322 `name-addr`) before the
/// colon: `Bob <bob@example.com>: reason`, `bob@example.com <bob@example.net>:
/// malformed address` (Exim quoting the header as written). The address in angle
/// brackets is the recipient; the words before it are its display name.
fn named_line_address(t: &str) -> Option<(&str, &str)> {
    let open = t.find('<')?;
    let phrase = t.get(..open)?;
    if phrase.trim().is_empty() || phrase.len() > 200 || phrase.contains([':', '>']) {
        return None;
    }
    let r = t.get(open + 1..)?;
    let end = r.find('>')?;
    let addr = r.get(..end)?.trim();
    let rest = r.get(end + 1..)?.trim_start().strip_prefix(':')?;
    is_address(addr).then_some((addr, rest.trim()))
}

/// The address a Sendmail line names after a reply code (`554 <bob@example.com>...
/// Remote protocol error`, `550 <bob@example.com>... User unknown`): the recipient
/// and the rest of the line. Lines quoting the remote server (`<<< 550 …`) are not
/// recipient lines.
pub(crate) fn coded_line_address(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    let b = t.as_bytes();
    if b.len() < 6
        || !matches!(b.first(), Some(b'4' | b'5'))
        || !b.iter().take(3).all(u8::is_ascii_digit)
    {
        return None;
    }
    let r = t.get(3..)?.strip_prefix(' ')?.trim_start();
    // An enhanced code may follow (`550 5.1.1 <a@b.c>... User unknown`).
    let r = match r.split_once(' ') {
        Some((first, rest))
            if first.bytes().all(|c| c.is_ascii_digit() || c == b'.') && first.contains('.') =>
        {
            rest.trim_start()
        }
        _ => r,
    };
    let r = r.strip_prefix('<')?;
    let end = r.find('>')?;
    let addr = r.get(..end)?.trim();
    let rest = r.get(end + 1..)?.strip_prefix("...")?;
    is_address(addr).then_some((addr, rest.trim()))
}

/// The first address in angle brackets on a line (`… mailing list <list@example.org>.`).
pub(crate) fn bracketed_address(line: &str) -> Option<&str> {
    let mut rest = line.get(..line.len().min(1000)).unwrap_or("");
    while let Some(open) = rest.find('<') {
        let r = rest.get(open + 1..)?;
        let end = r.find('>')?;
        let a = r.get(..end)?.trim();
        let a = a.strip_prefix("mailto:").unwrap_or(a);
        if is_address(a) {
            return Some(a);
        }
        rest = r.get(end + 1..)?;
    }
    None
}

/// The lines after the line `marker` (compared ASCII case-insensitively, blanks
/// around it ignored) up to the next blank line, joined; blank lines right after the
/// marker are skipped.
pub(crate) fn paragraph_after(lines: &[&str], marker: &str) -> Option<String> {
    let at = lines
        .iter()
        .position(|l| l.trim().eq_ignore_ascii_case(marker))?;
    let mut out = String::new();
    for l in lines.get(at + 1..)?.iter().take(64) {
        let t = l.trim();
        if t.is_empty() {
            if out.is_empty() {
                continue;
            }
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(t);
    }
    (!out.is_empty()).then_some(out)
}

/// An Exchange 2003 recipient line: the address, then ` on ` and the date
/// (`bob@example.com on Thu, 29 Apr 2007 16:51:51 -0500`).
pub(crate) fn dated_line_address(line: &str) -> Option<&str> {
    let t = line.trim();
    let (addr, rest) = t.split_once(' ')?;
    let rest = rest.strip_prefix("on ")?;
    let next = rest.bytes().next()?;
    (next.is_ascii_digit() || next.is_ascii_uppercase()).then_some(())?;
    let addr = addr.trim_start_matches('<').trim_end_matches('>');
    is_address(addr).then_some(addr)
}

/// Header names that name no recipient of the notice when a line starts with them
/// (a quoted `Message-Id: <…@host>`, `From:`, `Return-Path:`…).
fn is_message_header_name(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "message-id",
        "in-reply-to",
        "references",
        "from",
        "sender",
        "reply-to",
        "return-path",
        "received",
        "date",
        "subject",
        "cc",
        "bcc",
        "to",
        "errors-to",
        "delivered-to",
        "x-original-to",
        "content-id",
        "resent-from",
        "resent-to",
        "resent-message-id",
        "list-id",
        "list-unsubscribe",
        "dkim-signature",
        "x-mailer",
    ];
    let n = name.trim();
    NAMES.iter().any(|h| n.eq_ignore_ascii_case(h))
        || (n.len() > 2
            && n.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("x-"))
            && !n.contains(' '))
}

/// The address a line names in looser ways, for notices where no line is only an
/// address: a line starting with one (after a bullet) and going on with other words
/// (`bob@example.com on Thu, …`, `* bob@example.com`), a line ending with one after a
/// colon (`Unknown user: bob@example.com`, `Could not be delivered to: <bob@…>`), or
/// a quoted `RCPT TO:<bob@example.com>`. Also returns the words the line says about
/// it (what comes before that colon). A quoted message header (`Message-Id: <…>`,
/// `To: …`) names no recipient.
pub(crate) fn loose_line_address(line: &str) -> Option<(&str, &str)> {
    let t = line
        .trim()
        .trim_start_matches(['*', '-', '\u{2022}', '>'])
        .trim_start();
    if t.len() > 1000 {
        return None;
    }
    if let Some((name, _)) = t.split_once(':') {
        if is_message_header_name(name) {
            return None;
        }
    }
    if let Some(p) = find_ci(t, "rcpt to:") {
        let r = t.get(p + 8..)?.trim_start();
        let r = r.strip_prefix('<').unwrap_or(r);
        let end = r.find(['>', ' ']).unwrap_or(r.len());
        let a = r.get(..end)?;
        return is_address(a).then_some((a, ""));
    }
    let first_tok = t.split_whitespace().next().unwrap_or("");
    let first = first_tok
        .trim_start_matches('<')
        .trim_end_matches(['>', ':', ',', ';']);
    if is_address(first) {
        // `bob@example.com Invalid Address, ERROR_CODE :550, …`: the rest of the line
        // is about it (a date after it, as Exchange writes, says nothing).
        let rest = t.get(first_tok.len()..).unwrap_or("").trim();
        return Some((first, rest));
    }
    let last = t.rsplit(char::is_whitespace).next().unwrap_or("");
    let before = t
        .get(..t.len().saturating_sub(last.len()))
        .unwrap_or("")
        .trim_end();
    if let Some(words) = before.strip_suffix(':') {
        let a = last
            .trim_start_matches('<')
            .trim_end_matches(['>', '.', ',', ';']);
        if is_address(a) {
            return Some((a, words.trim()));
        }
    }
    // `rejected recipient <bob@example.com> (…)`, `undeliverable to bob@example.com`,
    // `[Status: Error, Address: <bob@example.com>, …]`: named by the word before it.
    let mut prev = "";
    for tok in t.split_whitespace().take(64) {
        let a = tok
            .trim_start_matches(['<', '(', '['])
            .trim_end_matches(['>', '.', ',', ';', ':', ')', ']']);
        let p = prev.trim_start_matches(['[', '(']);
        if ["recipient", "to", "address:", "recipient:"]
            .iter()
            .any(|w| p.eq_ignore_ascii_case(w))
            && is_address(a)
        {
            return Some((a, t));
        }
        prev = tok;
    }
    // `The following recipients returned permanent errors: bob@example.com. Reason: …`
    if let Some((words, after)) = t.split_once(": ") {
        let tok = after.split_whitespace().next().unwrap_or("");
        let a = tok
            .trim_start_matches('<')
            .trim_end_matches(['>', '.', ',', ';']);
        if find_ci(words, "recipient").is_some() && is_address(a) {
            let rest = after.get(tok.len()..).unwrap_or("").trim();
            return Some((a, rest));
        }
    }
    None
}

/// Where `needle` (ASCII lower case) starts in `hay`, ASCII case-insensitively.
fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    let first = *n.first()?;
    hay.as_bytes().windows(n.len()).position(|w| {
        w.first().is_some_and(|c| c.to_ascii_lowercase() == first) && w.eq_ignore_ascii_case(n)
    })
}

/// Words in a notice that say delivery is still being tried (a delay warning, not a failure).
const DELAY_PHRASES: &[&str] = &[
    "delayed",
    "has not yet been delivered",
    "not yet been delivered",
    "will continue to try",
    "will keep trying",
    "still trying to deliver",
    "will try again",
    "will be retried",
    "still being retried",
    "delivery attempts will continue",
    "has not been delivered yet",
];

fn delay_ac() -> Option<&'static AhoCorasick> {
    static AC: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(DELAY_PHRASES)
            .ok()
    })
    .as_ref()
}

/// Whether the text says delivery is delayed and still being tried.
pub(crate) fn says_delayed(text: &str) -> bool {
    delay_ac().is_some_and(|ac| ac.is_match(text))
}

/// Subjects of bounces (compared lower-case, anywhere in the subject).
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliver",
    "undelivered",
    "delivery status notification",
    "returned mail",
    "delivery failure",
    "failure notice",
    "mail delivery failed",
    "delivery has failed",
    "non-delivery",
    "nondeliverable",
    "non remis",
    "could not be delivered",
    "warning: message",
    "delayed mail",
    "delivery notification",
    "mail system error",
    "mail failure",
    "delivery failed",
    "failed delivery",
    "returned to sender",
    "delivery report",
    "not delivered",
    "delivery problem",
    "message not delivered",
];

/// Local parts and names that send bounces.
const BOUNCE_SENDERS: &[&str] = &[
    "mailer-daemon",
    "postmaster",
    "mail delivery",
    "mail administrator",
    "mailer daemon",
    "mail delivery subsystem",
    "system administrator",
];

fn contains_any(hay: &str, needles: &[&str]) -> bool {
    let lower = hay.to_ascii_lowercase();
    needles.iter().any(|n| lower.contains(n))
}

/// Whether a subject names a bounce or delay notice.
pub(crate) fn bounce_subject(subject: &str) -> bool {
    subject.len() < 2000 && contains_any(subject, BOUNCE_SUBJECTS)
}

/// Whether a `From:` value is a mail system's (MAILER-DAEMON, postmaster).
pub(crate) fn bounce_sender(from: &str) -> bool {
    from.len() < 2000 && contains_any(from, BOUNCE_SENDERS)
}

/// Subject prefixes of auto-replies (vacation, out of office), compared lower-case.
const AUTO_SUBJECTS: &[&str] = &[
    "auto:",
    "automatic reply",
    "autoreply",
    "auto-reply",
    "auto reply",
    "auto response",
    "autoresponse",
    "out of office",
    "out of the office",
    "vacation",
    "away from",
    "abwesenheit",
    "absence",
    "réponse automatique",
    "respuesta automática",
];

/// Whether the headers mark an auto-reply (RFC 3834 and the common non-standard headers).
pub(crate) fn auto_reply(headers: &[(&str, String)], subject: &str) -> bool {
    let h = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    if h("auto-submitted").is_some_and(|v| v.starts_with("auto-replied")) {
        return true;
    }
    if h("x-autoreply").is_some()
        || h("x-autorespond").is_some()
        || h("x-autoresponder").is_some()
        || h("x-mail-autoreply").is_some()
        || h("x-vacation").is_some()
    {
        return true;
    }
    if h("precedence").is_some_and(|v| v == "auto_reply") {
        return true;
    }
    let s = subject.trim().to_ascii_lowercase();
    s.len() < 2000
        && AUTO_SUBJECTS
            .iter()
            .any(|p| s.starts_with(p) || s.contains(p))
}

/// The command a Sendmail-style session transcript shows was answered with a
/// failure (`>>> RCPT To:<…>` followed by `<<< 550 …`).
pub(crate) fn transcript_stage(text: &str) -> Option<Stage> {
    let mut last_cmd: Option<Stage> = None;
    let mut found = None;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(cmd) = t.strip_prefix(">>>") {
            let up = cmd.trim_start();
            let word: String = up
                .chars()
                .take(9)
                .take_while(|c| c.is_ascii_alphabetic() || *c == ' ')
                .collect();
            let word = word.trim().to_ascii_uppercase();
            let st = if word.starts_with("RCPT") {
                Stage::RcptTo
            } else if word.starts_with("MAIL") {
                Stage::MailFrom
            } else if word.starts_with("DATA") {
                Stage::Data
            } else if word.starts_with("EHLO") || word.starts_with("HELO") {
                Stage::Ehlo
            } else if word.is_empty() || word.starts_with('.') {
                Stage::DataEnd
            } else {
                Stage::parse_lenient(&word)
            };
            last_cmd = Some(st);
        } else if let Some(r) = t.strip_prefix("<<<") {
            if r.trim_start().starts_with(['4', '5']) {
                if let Some(st) = last_cmd {
                    found = Some(st);
                }
            }
        }
    }
    // A failure after the body was sent answers the final dot.
    found.map(|s| if s == Stage::Data { Stage::DataEnd } else { s })
}

/// The last reply the remote server gave in a Sendmail-style transcript (`<<< 550
/// Insecure Mail Relay`; continuation lines `<<< 550-…` joined), without the `<<<`.
/// Only failure replies (4xx, 5xx) count.
pub(crate) fn last_remote_reply(transcript: &str) -> Option<String> {
    let mut last: Option<String> = None;
    let mut open = false;
    for line in transcript.lines() {
        let Some(r) = line.trim_start().strip_prefix("<<<") else {
            open = false;
            continue;
        };
        let r = r.trim();
        if !r.starts_with(['4', '5']) {
            open = false;
            continue;
        }
        match (&mut last, open) {
            (Some(l), true) if l.len() < 4096 => {
                l.push(' ');
                l.push_str(r);
            }
            _ => last = Some(r.get(..r.len().min(4096)).unwrap_or("").to_owned()),
        }
        open = r.as_bytes().get(3) == Some(&b'-');
    }
    last
}

/// The host a notice names for the remote MTA (`host mx.example.com[192.0.2.1]`,
/// `host mx.example.com [192.0.2.1]`, `while talking to mx.example.com.`).
pub(crate) fn remote_host(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    for key in ["host ", "while talking to ", "remote server ", "server "] {
        let mut from = 0;
        while let Some(p) = lower.get(from..).and_then(|s| s.find(key)) {
            let start = from + p + key.len();
            let tok: String = text
                .get(start..)
                .unwrap_or("")
                .chars()
                .take(255)
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-' || *c == '_')
                .collect();
            let tok = tok.trim_end_matches('.');
            if tok.contains('.') && tok.chars().any(|c| c.is_ascii_alphabetic()) {
                return Some(tok.to_ascii_lowercase());
            }
            from = start;
        }
    }
    None
}

/// Text of an HTML part, good enough for the heuristics: tags become line breaks
/// (a tag holding an `@` is kept as written, it is likely an `<address>`), the
/// common entities are decoded.
pub(crate) fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len().min(1 << 20));
    let mut rest = html;
    while let Some(p) = rest.find('<') {
        out.push_str(rest.get(..p).unwrap_or(""));
        let after = rest.get(p..).unwrap_or("");
        match after.find('>') {
            Some(end) => {
                let tag = after.get(..=end).unwrap_or("");
                if tag.contains('@') && !tag.contains('=') {
                    out.push_str(tag);
                } else {
                    let name = tag
                        .trim_start_matches(['<', '/'])
                        .split(|c: char| !c.is_ascii_alphanumeric())
                        .next()
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    if matches!(
                        name.as_str(),
                        "br" | "p" | "div" | "tr" | "li" | "table" | "h1" | "h2" | "h3" | "td"
                    ) {
                        out.push('\n');
                    }
                }
                rest = after.get(end + 1..).unwrap_or("");
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", " ")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_lines() {
        assert_eq!(
            line_address("  kijitora@example.ed.jp", false),
            Some(("kijitora@example.ed.jp", ""))
        );
        assert_eq!(
            line_address("<a@example.org>:", false),
            Some(("a@example.org", ""))
        );
        assert_eq!(
            line_address("<a@example.org>: host x said: 550 no", false),
            Some(("a@example.org", "host x said: 550 no"))
        );
        assert_eq!(
            line_address("<a@example.org>... User unknown", false),
            Some(("a@example.org", "User unknown"))
        );
        assert_eq!(line_address("mail for a@example.org failed", false), None);
        assert_eq!(line_address("From: a@example.org", false), None);
        assert_eq!(
            line_address("Recipient address: a@example.org", true),
            Some(("a@example.org", ""))
        );
        assert_eq!(line_address("a@b", false), None);
        assert_eq!(
            coded_line_address("554 <a@example.org>... Remote protocol error"),
            Some(("a@example.org", "Remote protocol error"))
        );
        assert_eq!(
            coded_line_address("<<< 550 <a@example.org>... User unknown"),
            None
        );
        assert_eq!(
            dated_line_address("a@example.co.jp on Thu, 29 Apr 2007 16:51:51 -0500"),
            Some("a@example.co.jp")
        );
        assert_eq!(
            loose_line_address("User mailbox exceeds allowed size: a@example.co.jp"),
            Some(("a@example.co.jp", "User mailbox exceeds allowed size"))
        );
        // A quoted header names no recipient (a Message-ID looks like an address).
        assert_eq!(
            loose_line_address("> Message-Id: <200904290210.0000@mx.example.jp>"),
            None
        );
        assert_eq!(loose_line_address("To: <shironeko@example.jp>"), None);
    }

    #[test]
    fn named_bracketed_and_after_marker() {
        assert_eq!(
            line_address(
                "  kijitora@example.com <neko@example.net>: malformed address: x",
                false
            ),
            Some(("neko@example.net", "malformed address: x"))
        );
        assert_eq!(
            line_address("Bob <bob@example.com>: host said 550", false),
            Some(("bob@example.com", "host said 550"))
        );
        assert_eq!(line_address("said: x <bob@example.com>: y", false), None);
        assert_eq!(
            bracketed_address("not a member of this mailing list <l@example.org>."),
            Some("l@example.org")
        );
        assert_eq!(bracketed_address("<not an address> nor <x@y>"), None);
        let lines = [
            "Error message below:",
            "",
            "550 no such user",
            "more",
            "",
            "x",
        ];
        assert_eq!(
            paragraph_after(&lines, "error message below:").as_deref(),
            Some("550 no such user more")
        );
        assert_eq!(paragraph_after(&lines, "absent:"), None);
        assert_eq!(
            last_remote_reply(
                ">>> RCPT To:<a@b.c>\n<<< 451 first\n>>> DATA\n<<< 550-5.7.1 one\n<<< 550 two\n"
            ),
            Some("550-5.7.1 one 550 two".to_owned())
        );
        assert_eq!(
            last_remote_reply(">>> MAIL From:<a@b.c>\n<<< 250 ok\n"),
            None
        );
        assert!(is_returned_marker(
            "|------------------------- Message text follows: ------------------------|"
        ));
    }

    #[test]
    fn forwarded_bounces_are_unquoted() {
        let fwd = "Begin forwarded message:\n\n> From: MAILER-DAEMON\n> Subject: Returned mail\n>\n> ----- Transcript of session follows -----\n>>>> DATA\n> <<< 550 5.1.1 <a@b.example>... User unknown\n> 550 5.1.1 <a@b.example>... User unknown\n> Final-Recipient: RFC822; a@b.example\n> Action: failed\n> Status: 5.1.1\n";
        let u = unquote_forwarded(fwd).expect("a forwarded bounce");
        assert!(u.contains("\n>>> DATA\n<<< 550 5.1.1"), "{u}");
        assert!(u.contains("\nFinal-Recipient: RFC822; a@b.example\n"));
        // A Sendmail transcript on its own is not a quote.
        let own =
            "   ----- Transcript of session follows -----\n>>> RCPT To:<a@b.example>\n<<< 550 no\n"
                .repeat(4);
        assert_eq!(unquote_forwarded(&own), None);
    }

    #[test]
    fn transcript() {
        let t =
            "... while talking to mx.example.jp.:\n>>> RCPT To:<a@b.c>\n<<< 550 5.1.1 unknown\n";
        assert_eq!(transcript_stage(t), Some(Stage::RcptTo));
        let t = ">>> DATA\n<<< 354 go\n>>> .\n<<< 554 5.7.1 spam\n";
        assert_eq!(transcript_stage(t), Some(Stage::DataEnd));
        assert_eq!(remote_host(t), None);
        assert_eq!(
            remote_host("host mx.example.jp [192.0.2.20]: 550").as_deref(),
            Some("mx.example.jp")
        );
    }

    #[test]
    fn returned_split() {
        let (a, b) = split_returned(
            "x\n------ This is a copy of the message, including all the headers. ------\nFrom: y\n",
        );
        assert_eq!(a, "x\n");
        assert_eq!(b, "From: y\n");
    }
}
