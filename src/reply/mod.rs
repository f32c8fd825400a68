//! SMTP replies: codes, enhanced status codes, the reply value, and the parsers
//! that turn bytes from a server (or text from a bounce) into replies.
//!
//! A [`Reply`] is what a server answered to one command: a [`ReplyCode`], an
//! optional RFC 3463 [`EnhancedCode`] and one or more text lines, kept as the
//! raw bytes the server sent (non-UTF-8 included).
//!
//! - [`ReplyParser`] reads replies from a byte stream, incrementally, in any split,
//!   within configurable [`Limits`]; this is what an SMTP client uses.
//! - [`Reply::parse`] reads exactly one whole reply from bytes.
//! - [`Reply::parse_loose`] finds a reply inside text from a bounce message or a log
//!   line (`host mx.example.com[192.0.2.1] said: 550 5.1.1 … (in reply to RCPT TO command)`).
//! - [`Reply::write_wire`] renders a reply back to its wire form, byte for byte; parsing
//!   the rendered bytes gives the same reply. `Display` is for people and lossy.
//! - [`EnhancedCode::description`] names every code in the IANA registry.
//!
//! ```
//! use tempfail::reply::ReplyParser;
//!
//! let mut parser = ReplyParser::new();
//! let mut input: &[u8] = b"250-mx.example.com Hello\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n451 4.7.1 Try";
//! let reply = parser.parse(&mut input).unwrap().unwrap();
//! assert_eq!(reply.code().as_u16(), 250);
//! assert_eq!(reply.lines().len(), 3);
//! // The next reply is incomplete: the parser keeps the partial line and waits.
//! assert!(parser.parse(&mut input).is_none());
//! let mut more: &[u8] = b" again later\r\n";
//! let reply = parser.parse(&mut more).unwrap().unwrap();
//! assert!(reply.is_transient());
//! assert_eq!(reply.enhanced().unwrap().to_string(), "4.7.1");
//! assert_eq!(reply.text(), "Try again later");
//! ```

use core::fmt;

mod code;
mod loose;
mod parser;
mod registry;
#[cfg(feature = "serde")]
mod serde_impl;

pub use code::{EnhancedCode, InvalidCode, ReplyCode};
pub use parser::{Limits, ParseError, ParseWarning, ReplyParser};

/// One complete SMTP reply (possibly multi-line).
///
/// Each line's text is stored as sent, after the `NNN-` / `NNN ` separator and
/// including any enhanced status code that starts it, without the line ending.
/// [`Reply::enhanced`] is the first enhanced code found at the start of a line
/// (servers put it on every line, on the first only, or on some lines only).
///
/// All lines live in one buffer: a reply costs one allocation, whatever its
/// number of lines.
///
/// With the `serde` feature a reply serializes as `{"code": 550, "lines": [...]}`, each
/// line a string when it is valid UTF-8 and an array of its bytes otherwise, so what the
/// server sent survives a round trip exactly; the enhanced code is derived again on input.
///
/// ```
/// use tempfail::{Reply, ReplyCode};
/// let r = Reply::new(ReplyCode::new(550).unwrap(), ["5.1.1 <bob@example.com>: user unknown"]);
/// assert!(r.is_permanent());
/// assert_eq!(r.enhanced().unwrap().to_string(), "5.1.1");
/// assert_eq!(r.text(), "<bob@example.com>: user unknown");
/// assert_eq!(r.to_wire(), b"550 5.1.1 <bob@example.com>: user unknown\r\n");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reply {
    code: ReplyCode,
    enhanced: Option<EnhancedCode>,
    /// Number of lines (at least 1); equals the number of `\n` in `text` plus one.
    nlines: usize,
    /// Every line's text, joined with `\n`. A line never contains `\n` (LF ends a
    /// line on the wire), so the separator is unambiguous.
    text: Vec<u8>,
    /// The lines disagreed about the code; `code` is the safest of theirs.
    pub(crate) mixed: bool,
}

impl Reply {
    /// A reply from its code and raw text lines (what follows `NNN-`/`NNN ` on each line,
    /// without the line ending). The enhanced code is taken from the first line that starts
    /// with one. An empty iterator gives a reply with one empty line (a bare `250`).
    ///
    /// A line containing LF is split there: on the wire LF always ends a line, so this is
    /// the reply those bytes would be read as.
    pub fn new<I, L>(code: ReplyCode, lines: I) -> Self
    where
        I: IntoIterator<Item = L>,
        L: Into<Vec<u8>>,
    {
        let mut text = Vec::new();
        let mut first = true;
        for l in lines {
            if !first {
                text.push(b'\n');
            }
            first = false;
            text.extend_from_slice(&l.into());
        }
        Reply::from_joined(code, text)
    }

    /// A reply from its lines already joined with `\n`.
    pub(crate) fn from_joined(code: ReplyCode, text: Vec<u8>) -> Self {
        let nlines = 1 + text.iter().filter(|b| **b == b'\n').count();
        let enhanced = text
            .split(|b| *b == b'\n')
            .find_map(|l| EnhancedCode::parse_prefix(l).map(|(e, _)| e));
        Reply {
            code,
            enhanced,
            nlines,
            text,
            mixed: false,
        }
    }

    /// A reply from parts the parser has already checked (`nlines` matches `text`).
    pub(crate) fn from_parts(
        code: ReplyCode,
        enhanced: Option<EnhancedCode>,
        nlines: usize,
        text: Vec<u8>,
    ) -> Self {
        debug_assert_eq!(nlines, 1 + text.iter().filter(|b| **b == b'\n').count());
        Reply {
            code,
            enhanced,
            nlines,
            text,
            mixed: false,
        }
    }

    /// Parses exactly one whole reply, e.g. `b"550 5.1.1 user unknown\r\n"`, with the
    /// default [`Limits`] in lenient mode (a continuation line with another code keeps the
    /// first code). The final line ending may be missing. Anything after the reply is an
    /// error ([`ParseError::TrailingData`]); to read a stream, use [`ReplyParser`].
    ///
    /// ```
    /// use tempfail::Reply;
    /// let r = Reply::parse(b"421-4.7.28 [192.0.2.1] Our system has detected an unusual rate of\r\n\
    ///                        421 4.7.28 unsolicited mail originating from your IP address.\r\n").unwrap();
    /// assert_eq!(r.code().as_u16(), 421);
    /// assert_eq!(r.enhanced().unwrap().to_string(), "4.7.28");
    /// assert_eq!(r.lines().len(), 2);
    /// assert!(Reply::parse(b"hello").is_err());
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Reply, ParseError> {
        ReplyParser::new().parse_one(bytes)
    }

    /// Finds a reply inside text from a bounce message, a DSN `Diagnostic-Code` or a log
    /// line, and returns it; `None` when the text holds no reply code.
    ///
    /// Handles what MTAs wrap around replies: a `smtp;` prefix, Postfix's
    /// `host mx.example.com[192.0.2.1] said: … (in reply to RCPT TO command)`, quoted
    /// replies such as `550-'5.7.1 <…>… Access denied' (delivery attempts: 0)`, a repeated
    /// code (`554 554 5.7.1 …`), and multi-line replies flattened onto one line
    /// (`550-5.1.1 The email account … 550-5.1.1 double-checking … 550 5.1.1 https://…`),
    /// which become separate lines again. A code followed by an enhanced status code is
    /// preferred over a bare number earlier in the text; IP addresses, ports and other
    /// numbers embedded in words are never taken for a code.
    ///
    /// ```
    /// use tempfail::Reply;
    /// let r = Reply::parse_loose(
    ///     "host mx.example.com[192.0.2.1] said: 550 5.1.1 <bob@example.com>: \
    ///      Recipient address rejected: User unknown (in reply to RCPT TO command)",
    /// ).unwrap();
    /// assert_eq!(r.code().as_u16(), 550);
    /// assert_eq!(r.enhanced().unwrap().to_string(), "5.1.1");
    /// assert_eq!(r.text(), "<bob@example.com>: Recipient address rejected: User unknown");
    /// ```
    pub fn parse_loose(text: &str) -> Option<Reply> {
        loose::parse_loose(text)
    }

    /// The basic three-digit code.
    pub fn code(&self) -> ReplyCode {
        self.code
    }

    /// The enhanced status code, when a line starts with one.
    pub fn enhanced(&self) -> Option<EnhancedCode> {
        self.enhanced
    }

    /// The raw text of each line, as sent (enhanced code included).
    pub fn lines(&self) -> Lines<'_> {
        Lines {
            rest: Some(self.text.as_slice()),
            left: self.nlines,
        }
    }

    /// The text of each line with a leading enhanced code and the spaces after it removed.
    pub fn text_lines(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.lines().map(strip_enhanced)
    }

    /// All text lines joined with a single space, lossily decoded, enhanced codes removed.
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        for (i, l) in self.text_lines().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&String::from_utf8_lossy(l));
        }
        out
    }

    /// `2yz` or `3yz`.
    pub fn is_positive(&self) -> bool {
        self.code.is_positive()
    }

    /// `4yz`.
    pub fn is_transient(&self) -> bool {
        self.code.is_transient()
    }

    /// `5yz`.
    pub fn is_permanent(&self) -> bool {
        self.code.is_permanent()
    }

    /// True when the server's lines disagreed about the code (`250-ok` then
    /// `550 5.1.1 …`). The reply is then read by its safest code: a negative code
    /// wins over a positive one, a transient (4yz) over a permanent (5yz) one, so a
    /// mixed reply is never a success; the classifier also never calls it permanent
    /// and flags it low confidence.
    pub fn has_mixed_codes(&self) -> bool {
        self.mixed
    }

    /// The same reply, marked as one whose lines disagreed (see
    /// [`has_mixed_codes`](Self::has_mixed_codes)); for replies built by hand.
    pub fn with_mixed_codes(mut self, mixed: bool) -> Self {
        self.mixed = mixed;
        self
    }

    /// Appends the reply's wire form to `out`: every line as `NNN-text` except the last,
    /// `NNN text` (or a bare `NNN` when its text is empty), each ended by CRLF. Each
    /// line's bytes are written exactly as stored, non-UTF-8 included, so
    /// [`Reply::parse`] of the output gives back an equal reply.
    ///
    /// ```
    /// use tempfail::{Reply, ReplyCode};
    /// let r = Reply::new(ReplyCode::OK, ["mx.example.com", "PIPELINING", ""]);
    /// let mut out = Vec::new();
    /// r.write_wire(&mut out);
    /// assert_eq!(out, b"250-mx.example.com\r\n250-PIPELINING\r\n250\r\n");
    /// assert_eq!(Reply::parse(&out).unwrap(), r);
    /// ```
    pub fn write_wire(&self, out: &mut Vec<u8>) {
        let code = code_digits(self.code);
        out.reserve(self.text.len() + self.nlines * 6);
        let last = self.nlines - 1;
        for (i, line) in self.lines().enumerate() {
            out.extend_from_slice(&code);
            if i < last {
                out.push(b'-');
            } else if !line.is_empty() {
                out.push(b' ');
            }
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The reply's wire form; see [`Reply::write_wire`].
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_wire(&mut out);
        out
    }
}

/// The three ASCII digits of a code.
fn code_digits(code: ReplyCode) -> [u8; 3] {
    let v = code.as_u16();
    // ReplyCode is always in 200..=599, so each digit fits a u8.
    [
        b'0' + (v / 100) as u8,
        b'0' + (v / 10 % 10) as u8,
        b'0' + (v % 10) as u8,
    ]
}

/// The lines of a [`Reply`], from [`Reply::lines`].
#[derive(Clone, Debug)]
pub struct Lines<'a> {
    rest: Option<&'a [u8]>,
    left: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        self.left = self.left.saturating_sub(1);
        match parser::find_lf(rest) {
            Some(i) => {
                self.rest = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Lines<'_> {}

impl core::iter::FusedIterator for Lines<'_> {}

/// `line` without a leading enhanced status code and the whitespace after it.
fn strip_enhanced(line: &[u8]) -> &[u8] {
    match EnhancedCode::parse_prefix(line) {
        Some((_, n)) => {
            let rest = &line[n..];
            let skip = rest
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .count();
            &rest[skip..]
        }
        None => line,
    }
}

/// For people: `550 5.1.1 <bob@example.com>: user unknown`, lines joined with a space,
/// non-UTF-8 bytes replaced. Use [`Reply::write_wire`] for the exact bytes.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(e) = self.enhanced {
            write!(f, " {e}")?;
        }
        let text = self.text();
        if !text.is_empty() {
            write!(f, " {text}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Escaped<'a>(&'a [u8]);
        impl fmt::Debug for Escaped<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "\"{}\"", self.0.escape_ascii())
            }
        }
        let mut d = f.debug_struct("Reply");
        d.field("code", &self.code.as_u16())
            .field("enhanced", &self.enhanced)
            .field("lines", &self.lines().map(Escaped).collect::<Vec<_>>());
        if self.mixed {
            d.field("mixed_codes", &true);
        }
        d.finish()
    }
}
