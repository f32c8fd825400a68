//! Finding a reply inside bounce or log text ([`Reply::parse_loose`]).

use super::{EnhancedCode, Reply, ReplyCode};

/// A possible reply code in the text.
#[derive(Clone, Copy)]
struct Candidate {
    /// Offset of the first digit.
    at: usize,
    code: ReplyCode,
    /// A status code follows (possibly after a quote or a repeated code).
    enhanced: bool,
    /// Where a reply can start: at a line start, after a type prefix (`smtp;`), or
    /// after MTA wording that quotes a reply (`… said:`, `replied:`), or a quote.
    introduced: bool,
    /// Nothing but blanks and quotes before it in the whole text.
    at_start: bool,
}

/// Words MTAs put right before the reply they quote (`host mx[192.0.2.1] said:`,
/// `The remote server replied:`), compared case-insensitively with the text before
/// the code, a trailing colon removed.
const INTRODUCERS: &[&[u8]] = &[
    b"said",
    b"replied",
    b"responded",
    b"response",
    b"reply",
    b"answered",
    b"returned",
    b"error",
    b"diagnostic-code",
    b"status",
];

/// True when `before` (the text before a code, blanks trimmed) ends where MTAs put a
/// reply. A bare colon is not enough: `Mailbox full: 250 MB quota exceeded`.
fn introduces(before: &[u8], lead_quotes: usize) -> bool {
    if before.len() <= lead_quotes {
        return true;
    }
    match before.last() {
        // `smtp; 550 …`, `(550 …`, a quoted reply.
        Some(b';' | b'(' | b'\'' | b'"') => true,
        Some(b':') => {
            let word = before[..before.len() - 1].trim_ascii_end();
            INTRODUCERS.iter().any(|w| ends_with_word(word, w))
        }
        // `host mx.example.com said 550 …`
        Some(_) => ends_with_word(before, b"said"),
        None => true,
    }
}

/// `text` ends with `word` (ASCII case-insensitive), not as the tail of a longer word.
fn ends_with_word(text: &[u8], word: &[u8]) -> bool {
    let Some(start) = text.len().checked_sub(word.len()) else {
        return false;
    };
    text[start..].eq_ignore_ascii_case(word)
        && (start == 0 || !text[start - 1].is_ascii_alphanumeric())
}

/// Bytes that, right before three digits, mean they belong to a bigger token (an IP
/// address, a host name, a port, an id, a date).
fn glued(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'.' | b'-'
                | b'_'
                | b'/'
                | b'@'
                | b'#'
                | b'='
                | b'+'
                | b':'
                | b'$'
                | b'%'
                | b'&'
                | b'\\'
        )
}

fn is_quote(b: u8) -> bool {
    b == b'\'' || b == b'"'
}

/// Where the text after a code's separator starts, past an opening quote, a repeated
/// code (`554 554 5.7.1 …`) and a `#` before an enhanced code.
fn text_start(b: &[u8], code_at: usize) -> usize {
    let mut i = (code_at + 4).min(b.len());
    if b.get(i).copied().is_some_and(is_quote) {
        i += 1;
    }
    if b.get(i..i + 3) == Some(&b[code_at..code_at + 3]) && b.get(i + 3) == Some(&b' ') {
        i += 4;
    }
    // qmail and vpopmail write `550 #5.1.0 Address rejected.`
    if b.get(i) == Some(&b'#') && EnhancedCode::parse_prefix(&b[i + 1..]).is_some() {
        i += 1;
    }
    i
}

fn candidates(b: &[u8]) -> impl Iterator<Item = Candidate> + '_ {
    // The text is whoever wrote the bounce's: every test below is O(1) or looks only
    // at bytes no other candidate looks at, so the scan stays linear.
    let lead_quotes = b.iter().take_while(|c| is_quote(**c)).count();
    (0..b.len().saturating_sub(2)).filter_map(move |at| {
        let code = ReplyCode::from_digits(&b[at..at + 3])?;
        if at > 0 && glued(b[at - 1]) {
            return None;
        }
        match b.get(at + 3) {
            None | Some(b' ' | b'-' | b'\t' | b'\r' | b'\n') => {}
            Some(_) => return None,
        }
        let ts = text_start(b, at);
        let enhanced = EnhancedCode::parse_prefix(&b[ts..]).is_some();
        // Only the blanks right before this code are trimmed: a run no other
        // candidate's trim covers (the word check looks back a bounded distance).
        let before = b[..at].trim_ascii_end();
        let line_start = b[before.len()..at].contains(&b'\n');
        let at_start = before.len() <= lead_quotes;
        let introduced = line_start || introduces(before, lead_quotes);
        Some(Candidate {
            at,
            code,
            enhanced,
            introduced,
            at_start,
        })
    })
}

/// Picks the reply code: one at the very start of the text, else the first followed by
/// an enhanced code, else the first where MTAs introduce a reply (`said: 550 …`,
/// `smtp;550 …`, a line start).
///
/// A positive code (2yz, 3yz) is taken only where the text clearly is a positive
/// reply: at its very start or where an MTA introduces a reply. Free text is full of
/// numbers (`Mailbox full: 250 MB quota exceeded`, `rejected: 300 messages per
/// hour`), and reading one as a success would report a failure as delivered.
fn pick(b: &[u8]) -> Option<Candidate> {
    let mut first_introduced = None;
    let mut prev: Option<Candidate> = None;
    for c in candidates(b) {
        // An introduced failure code right before a failure code with an enhanced code
        // (`said: 450 550 5.7.1 …`: a server library's default code in front of the one
        // meant) is the reply's code; the second stays in its text, where the classifier
        // reads it. Without an enhanced code the second would not have been picked anyway.
        if let Some(p) = prev.take() {
            if p.introduced
                && !p.code.is_positive()
                && !c.code.is_positive()
                && c.enhanced
                && text_start(b, p.at) == c.at
            {
                return Some(p);
            }
        }
        if c.code.is_positive() && !(c.at_start || c.introduced) {
            continue;
        }
        if c.at_start || (c.enhanced && (c.introduced || !c.code.is_positive())) {
            return Some(c);
        }
        if c.introduced && first_introduced.is_none() {
            first_introduced = Some(c);
        }
        prev = Some(c);
    }
    first_introduced
}

/// The next `NNN-`/`NNN ` marker of a flattened multi-line reply at or after `from`:
/// the same digits, after whitespace. Returns the digits' offset.
fn next_marker(b: &[u8], digits: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 4 <= b.len() {
        let at = i + b[i..].windows(3).position(|w| w == digits)?;
        if at + 4 > b.len() {
            // Digits at the very end: a bare final code.
            return (at > 0 && b[at - 1].is_ascii_whitespace()).then_some(at);
        }
        if at > 0 && b[at - 1].is_ascii_whitespace() && matches!(b[at + 3], b'-' | b' ') {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Appends `text` to `out`, turning line breaks and the blanks around them into one space
/// (a reply line cannot hold a line break).
fn push_flat(out: &mut Vec<u8>, text: &[u8]) {
    let mut rest = text;
    // Whole runs between line breaks are copied at once; a reply rarely holds a break.
    while let Some(at) = rest.iter().position(|c| *c == b'\r' || *c == b'\n') {
        out.extend_from_slice(&rest[..at]);
        while out.last().is_some_and(|x| *x == b' ' || *x == b'\t') {
            out.pop();
        }
        let blanks = rest[at..]
            .iter()
            .take_while(|c| c.is_ascii_whitespace())
            .count();
        out.push(b' ');
        rest = &rest[at + blanks..];
    }
    out.extend_from_slice(rest);
}

/// The end of the last line's useful text: before a closing quote matching the one that
/// opened the reply, and before Postfix's `(in reply to … command)`.
fn trim_tail(line: &[u8], quote: Option<u8>) -> &[u8] {
    let mut line = line;
    if let Some(q) = quote {
        if let Some(end) = line.iter().rposition(|c| *c == q) {
            line = &line[..end];
        }
    }
    const IN_REPLY: &[u8] = b"(in reply to ";
    if let Some(p) = line.windows(IN_REPLY.len()).rposition(|w| w == IN_REPLY) {
        line = &line[..p];
    }
    line.trim_ascii_end()
}

pub(super) fn parse_loose(text: &str) -> Option<Reply> {
    let b = text.as_bytes();
    let c = pick(b)?;
    let digits = &b[c.at..c.at + 3];
    let quote = b.get(c.at + 4).copied().filter(|q| is_quote(*q));
    let mut out = Vec::with_capacity(b.len() - c.at);
    let mut start = text_start(b, c.at);
    let mut continued = b.get(c.at + 3) == Some(&b'-');
    // The lines are counted, and the first line's enhanced code found, as they are joined.
    let (mut nlines, mut enhanced) = (1, None);
    loop {
        let marker = if continued {
            next_marker(b, digits, start)
        } else {
            None
        };
        let line = match marker {
            Some(m) => b[start..m].trim_ascii(),
            None => trim_tail(&b[start..], quote).trim_ascii_start(),
        };
        let line_at = out.len();
        push_flat(&mut out, line);
        if enhanced.is_none() {
            enhanced = EnhancedCode::parse_prefix(&out[line_at..]).map(|(e, _)| e);
        }
        let Some(m) = marker else { break };
        out.push(b'\n');
        nlines += 1;
        continued = b.get(m + 3) == Some(&b'-');
        start = (m + 4).min(b.len());
    }
    Some(Reply::from_parts(c.code, enhanced, nlines, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loose(s: &str) -> (u16, Option<String>, Vec<String>) {
        let r = Reply::parse_loose(s).unwrap_or_else(|| panic!("no reply in {s:?}"));
        (
            r.code().as_u16(),
            r.enhanced().map(|e| e.to_string()),
            r.lines()
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect(),
        )
    }

    proptest::proptest! {
        /// Hostile, multi-line and partly coded text: the line count and the enhanced code
        /// kept while joining are what `Reply::from_joined` derives from the joined text.
        #[test]
        fn joined_state_matches_the_joined_text(
            lead in "(said: |x |\"|)(550|450|421)( |-)(5\\.1\\.1 |4\\.2\\.1 |#5\\.7\\.1 |)",
            parts in proptest::collection::vec(
                "(\\r\\n550-|\\r\\n550 |\\r\\n550 4\\.2\\.1 |550|550-|450 |4\\.2\\.1 |5\\.1\\.1|#5\\.7\\.1|said: |\\r\\n|\\n|\\r| |\\t|\"|'|x|\\(in reply to |é){0,6}",
                0..12,
            )
        ) {
            let text = lead + &parts.concat();
            if let Some(r) = Reply::parse_loose(&text) {
                let joined = r.lines().collect::<Vec<&[u8]>>().join(&b'\n');
                let derived = Reply::from_joined(r.code(), joined);
                proptest::prop_assert_eq!(r.enhanced(), derived.enhanced());
                proptest::prop_assert_eq!(r.lines().len(), derived.lines().len());
                proptest::prop_assert!(r.lines().all(|l| !l.contains(&b'\n') && !l.contains(&b'\r')));
            }
        }
    }

    #[test]
    fn postfix_said_in_reply_to() {
        let (code, e, lines) = loose(
            "host mx.example.com[192.0.2.1] said: 550 5.1.1 <bob@example.com>: Recipient \
             address rejected: User unknown in local recipient table (in reply to RCPT TO command)",
        );
        assert_eq!((code, e.as_deref()), (550, Some("5.1.1")));
        assert_eq!(
            lines,
            [
                "5.1.1 <bob@example.com>: Recipient address rejected: User unknown in local recipient table"
            ]
        );
    }

    #[test]
    fn smtp_prefix_and_flattened_gmail_reply() {
        let (code, e, lines) = loose(
            "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try \
             550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 \
             unnecessary spaces. Learn more at 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser \
             a1si2 - gsmtp",
        );
        assert_eq!((code, e.as_deref()), (550, Some("5.1.1")));
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            "5.1.1 The email account that you tried to reach does not exist. Please try"
        );
        assert_eq!(
            lines[3],
            "5.1.1 https://support.google.com/mail/?p=NoSuchUser a1si2 - gsmtp"
        );
    }

    #[test]
    fn quoted_amazon_ses_reply() {
        let (code, e, lines) = loose(
            "550-'5.7.1 <000001321defbd2a@email-bounces.amazonses.com>... Access denied' (delivery attempts: 0)",
        );
        assert_eq!((code, e.as_deref()), (550, Some("5.7.1")));
        assert_eq!(
            lines,
            ["5.7.1 <000001321defbd2a@email-bounces.amazonses.com>... Access denied"]
        );
    }

    #[test]
    fn a_code_in_front_of_another_is_the_reply_code() {
        // A library's default code in front of the one meant, quoted by an MTA: the
        // quoted reply's own code is the first; the second stays in the text.
        let (code, e, lines) = loose(
            "host mx.example.com[192.0.2.1] said: 450 550 5.7.1 Spam detected (in reply to RCPT TO command)",
        );
        assert_eq!((code, e), (450, None));
        assert_eq!(lines, ["550 5.7.1 Spam detected"]);
        // Not introduced: the enhanced code's own code is still preferred.
        let (code, _, _) = loose("Delivery failed 450 550 5.7.1 Spam detected");
        assert_eq!(code, 550);
    }

    #[test]
    fn repeated_code() {
        let (code, e, lines) = loose(
            "554 554 5.7.1 Service unavailable; Client host [192.0.2.49] blocked using cbl.abuseat.org",
        );
        assert_eq!((code, e.as_deref()), (554, Some("5.7.1")));
        assert_eq!(
            lines,
            ["5.7.1 Service unavailable; Client host [192.0.2.49] blocked using cbl.abuseat.org"]
        );
    }

    #[test]
    fn physical_multi_line_in_a_bounce_body() {
        let (code, e, lines) = loose(
            "host gmail-smtp-in.l.google.com[142.250.102.27] said:\n    421-4.7.28 [192.0.2.1] Our system has detected an unusual rate of\n    421-4.7.28 unsolicited mail originating from your IP address.\n    421 4.7.28 To protect our users from spam, mail sent from your IP address has been temporarily rate limited. - gsmtp (in reply to end of DATA command)",
        );
        assert_eq!((code, e.as_deref()), (421, Some("4.7.28")));
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[2],
            "4.7.28 To protect our users from spam, mail sent from your IP address has been temporarily rate limited. - gsmtp"
        );
    }

    #[test]
    fn qmail_hash_before_enhanced_code() {
        let (code, e, lines) = loose("550 #5.1.0 Address rejected.");
        assert_eq!((code, e.as_deref()), (550, Some("5.1.0")));
        assert_eq!(lines, ["5.1.0 Address rejected."]);
    }

    #[test]
    fn code_without_enhanced_code() {
        let (code, e, lines) = loose("Remote host said: 554 INVALID IP FOR SENDING MAIL OF DOMAIN");
        assert_eq!((code, e), (554, None));
        assert_eq!(lines, ["INVALID IP FOR SENDING MAIL OF DOMAIN"]);
    }

    #[test]
    fn numbers_that_are_not_codes() {
        for s in [
            "connect to mx.example.com[192.0.2.1]:25: Connection refused",
            "conversation with mx.example.com[203.0.113.9] timed out while sending end of data",
            "lost connection with mx.example.com[198.51.100.250] while receiving the initial server greeting",
            "Host or domain name not found. Name service error for name=example.com type=MX",
            "user550@example.com mailbox id 4.5.6 item 300x200",
            "",
            "55",
        ] {
            assert!(Reply::parse_loose(s).is_none(), "{s:?}");
        }
    }

    #[test]
    fn enhanced_code_beats_an_earlier_bare_number() {
        let (code, e, _) = loose("delivery failed after 421 seconds: 451 4.3.0 Temporary failure");
        assert_eq!((code, e.as_deref()), (451, Some("4.3.0")));
    }
}
