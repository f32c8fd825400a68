//! The incremental, bounded reply parser.

use core::fmt;

use super::{EnhancedCode, Reply, ReplyCode};

/// Bounds on what one reply may hold; exceeding one is a [`ParseError`] that names it.
///
/// They bound the parser's memory whatever the server sends: a partial line is shorter
/// than `max_line_len`, the lines kept for a partial reply plus that partial line are
/// within `max_reply_bytes`, and the parser's buffers never hold more than
/// `max_line_len + max_reply_bytes` bytes ([`ReplyParser::buffered_bytes`]).
///
/// The defaults ([`Limits::DEFAULT`]) are generous for real servers and small for a
/// machine:
///
/// | limit | default | why |
/// |---|---|---|
/// | `max_line_len` | 4096 | RFC 5321 §4.5.3.1.5 sets 512 octets per reply line, but real servers exceed it (long Microsoft and Gmail lines, URLs, base64 challenges); 8x headroom still rejects a peer that never sends a line ending |
/// | `max_lines` | 256 | the longest real replies are EHLO lists and help texts of a few dozen lines |
/// | `max_reply_bytes` | 65536 | sixteen full-length lines; long real replies are far smaller (Gmail's six-line 421 4.7.28 is about 530 bytes, a ten-line EHLO list about 200) |
///
/// ```
/// use tempfail::reply::{Limits, ReplyParser};
/// let limits = Limits { max_line_len: 512, ..Limits::default() };
/// let parser = ReplyParser::with_limits(limits);
/// # let _ = parser;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct Limits {
    /// Longest line, in bytes, from the code through the line ending (CRLF or LF).
    pub max_line_len: usize,
    /// Most lines in one reply.
    pub max_lines: usize,
    /// Most bytes in one reply, counting every line with its code and line ending.
    pub max_reply_bytes: usize,
}

impl Limits {
    /// 4096-byte lines, 256 lines, 65536 bytes per reply.
    pub const DEFAULT: Limits = Limits {
        max_line_len: 4096,
        max_lines: 256,
        max_reply_bytes: 65536,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Why bytes could not be read as a reply.
///
/// After returning an error, [`ReplyParser`] resynchronises by itself: it drops the
/// reply in progress, discards the rest of the offending line, and, when that line was
/// a continuation (`NNN-…`), every following line up to and including the next line
/// that is not one. Parsing resumes with the line after that. Errors are reported once
/// per broken reply, however many bytes it spans.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A line exceeded [`Limits::max_line_len`] (reported as soon as the limit is passed,
    /// without waiting for the line ending).
    #[error("reply line {line} is longer than the limit max_line_len = {limit} bytes")]
    LineTooLong {
        /// The line number within the reply (1-based).
        line: usize,
        /// The limit.
        limit: usize,
    },
    /// A reply had more than [`Limits::max_lines`] lines.
    #[error("reply has more lines than the limit max_lines = {limit}")]
    TooManyLines {
        /// The limit.
        limit: usize,
    },
    /// A reply exceeded [`Limits::max_reply_bytes`].
    #[error("reply is longer than the limit max_reply_bytes = {limit} bytes")]
    ReplyTooLong {
        /// The limit.
        limit: usize,
    },
    /// A line did not start with a reply code `200`–`599`.
    #[error(
        "expected a three-digit reply code 200-599 at the start of reply line {line}, got \"{got}\""
    )]
    InvalidCode {
        /// The line number within the reply (1-based).
        line: usize,
        /// The start of the line, escaped.
        got: String,
    },
    /// The code was followed by something other than a space, `-` or the line ending.
    #[error(
        "expected ' ', '-' or the line ending after the code on reply line {line}, got \"{got}\""
    )]
    InvalidSeparator {
        /// The line number within the reply (1-based).
        line: usize,
        /// The byte found, escaped.
        got: String,
    },
    /// Strict mode: a continuation line's code differs from the first line's.
    #[error("reply line {line} has code {got}, expected {expected} as on the first line")]
    CodeMismatch {
        /// The line number within the reply (1-based).
        line: usize,
        /// The first line's code.
        expected: ReplyCode,
        /// This line's code.
        got: ReplyCode,
    },
    /// [`Reply::parse`]: no bytes at all.
    #[error("expected a reply, got no bytes")]
    Empty,
    /// [`Reply::parse`]: the bytes end after a continuation line (`NNN-…`).
    #[error("the reply is incomplete: expected another line after a continuation line")]
    Incomplete,
    /// [`Reply::parse`]: bytes follow the end of the reply.
    #[error("expected the end of input after the reply, got {len} more bytes")]
    TrailingData {
        /// How many bytes follow.
        len: usize,
    },
}

/// Something odd that the lenient parser accepted; see [`ReplyParser::take_warnings`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseWarning {
    /// A continuation line's code differs from the first line's. The reply is read
    /// by its safest code ([`Reply::has_mixed_codes`] says so): a negative code wins
    /// over a positive one, and a transient (4yz) one over a permanent (5yz) one.
    CodeMismatch {
        /// The line number within the reply (1-based).
        line: usize,
        /// The first line's code.
        expected: ReplyCode,
        /// This line's code.
        got: ReplyCode,
        /// The code the reply is read by after this line.
        kept: ReplyCode,
    },
}

impl fmt::Display for ParseWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseWarning::CodeMismatch {
                line,
                expected,
                got,
                kept,
            } => write!(
                f,
                "reply line {line} has code {got}, the first line {expected}; read as {kept}"
            ),
        }
    }
}

/// Most warnings kept between two [`ReplyParser::take_warnings`] calls; later ones are
/// counted, not kept.
const MAX_WARNINGS: usize = 64;

/// Incremental SMTP reply parser (RFC 5321 §4.2), for the bytes a client reads from a server.
///
/// Feed it bytes as they arrive, in any split; it returns each complete reply once. It
/// accepts what real servers send:
///
/// - multi-line replies (`250-…` continuation lines, then `250 …`);
/// - CRLF or a bare LF as line ending;
/// - a bare code with no text (`250`) and a code with a space and nothing else (`250 `,
///   as Postfix's smtp-sink ends its EHLO reply);
/// - an enhanced status code with no text after it, or on some lines only;
/// - any bytes in the text, non-UTF-8 included (kept as sent);
/// - a continuation line whose code differs from the first line's: by default the reply
///   keeps the first code and a [`ParseWarning`] is recorded; in [strict](ReplyParser::strict)
///   mode it is a [`ParseError::CodeMismatch`].
///
/// Memory is bounded by [`Limits`] whatever the server sends, and the parser never panics.
/// After an error it resynchronises (see [`ParseError`]) and can be fed on.
///
/// ```
/// use tempfail::reply::ReplyParser;
///
/// let mut parser = ReplyParser::new();
/// let mut replies = Vec::new();
/// // Bytes arrive in arbitrary pieces.
/// for mut chunk in [&b"220 mx.example.com ES"[..], b"MTP\r\n250-mx.example.com\n250-PIPE", b"LINING\n250 \n"] {
///     while let Some(r) = parser.parse(&mut chunk) {
///         replies.push(r.unwrap());
///     }
/// }
/// assert_eq!(replies.len(), 2);
/// assert_eq!(replies[1].lines().collect::<Vec<_>>(), [&b"mx.example.com"[..], b"PIPELINING", b""]);
/// assert!(parser.is_idle());
/// ```
#[derive(Clone, Debug)]
pub struct ReplyParser {
    limits: Limits,
    strict: bool,
    /// The code the current reply is read by so far (its first line's, unless a
    /// later line's code is a safer reading, see [`safety`]).
    code: Option<ReplyCode>,
    /// The first line's code of the current reply.
    first_code: Option<ReplyCode>,
    /// The lines of the current reply disagree about the code.
    mixed: bool,
    enhanced: Option<EnhancedCode>,
    /// Completed lines of the current reply, joined with `\n`.
    text: Vec<u8>,
    /// Completed lines of the current reply.
    lines: usize,
    /// Wire bytes of the completed lines of the current reply.
    reply_bytes: usize,
    /// The current line when the input ended before its LF.
    line: Vec<u8>,
    /// Set while discarding input after an error.
    discard: Option<Discard>,
    warnings: Vec<ParseWarning>,
    warnings_dropped: usize,
    /// Used by [`Reply::parse`] for one reply only.
    oneshot: bool,
}

/// Discarding a line: the first bytes of the line seen so far tell whether it is a
/// continuation line (and so whether discarding goes on after it).
#[derive(Clone, Copy, Debug, Default)]
struct Discard {
    head: [u8; 4],
    head_len: usize,
}

impl Discard {
    fn from_head(b: &[u8]) -> Discard {
        let mut d = Discard::default();
        d.push(b);
        d
    }

    fn push(&mut self, b: &[u8]) {
        let n = (4 - self.head_len).min(b.len());
        self.head[self.head_len..self.head_len + n].copy_from_slice(&b[..n]);
        self.head_len += n;
    }

    fn is_continuation(&self) -> bool {
        is_continuation(&self.head[..self.head_len])
    }
}

/// `NNN-`: three digits and a dash.
fn is_continuation(line: &[u8]) -> bool {
    matches!(line, [a, b, c, b'-', ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit())
}

/// The first LF in `b`. Scans eight bytes at a time (no `unsafe`, no dependency).
#[inline]
pub(crate) fn find_lf(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const LF: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut chunks = b.chunks_exact(16);
    let mut base = 0;
    for c in &mut chunks {
        let (a, d) = c.split_at(8);
        let x = u64::from_le_bytes(a.try_into().unwrap_or([0; 8])) ^ LF;
        let y = u64::from_le_bytes(d.try_into().unwrap_or([0; 8])) ^ LF;
        let zx = x.wrapping_sub(LO) & !x & HI;
        let zy = y.wrapping_sub(LO) & !y & HI;
        if zx | zy != 0 {
            // The lowest flagged byte is exact (borrows only propagate upwards).
            return Some(if zx != 0 {
                base + (zx.trailing_zeros() / 8) as usize
            } else {
                base + 8 + (zy.trailing_zeros() / 8) as usize
            });
        }
        base += 16;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'\n')
        .map(|i| base + i)
}

/// Up to 16 bytes of `b`, escaped for an error message.
fn snippet(b: &[u8]) -> String {
    b[..b.len().min(16)].escape_ascii().to_string()
}

/// Appends `more` to `v` without letting its capacity grow past `cap` (when `v.len() +
/// more.len() <= cap`): plain `extend` may double the capacity, which would break the
/// documented memory bound.
fn extend_bounded(v: &mut Vec<u8>, more: &[u8], cap: usize) {
    let need = v.len().saturating_add(more.len());
    if need > v.capacity() {
        let target = need.max(v.capacity().saturating_mul(2).min(cap));
        v.reserve_exact(target - v.len());
    }
    v.extend_from_slice(more);
}

/// How safe a reading of a reply code is, when the lines of one reply disagree:
/// any negative code beats a positive one (a reply that also says no is never a
/// success), and a transient one beats a permanent one (mixed evidence is never final).
fn safety(code: ReplyCode) -> u8 {
    match code.as_u16() / 100 {
        4 => 2,
        5 => 1,
        _ => 0,
    }
}

/// What one complete line did.
enum Step {
    More,
    Reply(Reply),
    Error(ParseError),
}

impl Default for ReplyParser {
    fn default() -> Self {
        ReplyParser::new()
    }
}

impl ReplyParser {
    /// A lenient parser with the default [`Limits`].
    pub fn new() -> Self {
        ReplyParser::with_limits(Limits::DEFAULT)
    }

    /// A lenient parser with these limits.
    pub fn with_limits(limits: Limits) -> Self {
        ReplyParser {
            limits,
            strict: false,
            code: None,
            first_code: None,
            mixed: false,
            enhanced: None,
            text: Vec::new(),
            lines: 0,
            reply_bytes: 0,
            line: Vec::new(),
            discard: None,
            warnings: Vec::new(),
            warnings_dropped: 0,
            oneshot: false,
        }
    }

    /// In strict mode a continuation line whose code differs from the first line's is a
    /// [`ParseError::CodeMismatch`]; otherwise (the default) the reply keeps the first
    /// code and a [`ParseWarning::CodeMismatch`] is recorded.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Reads at most one complete reply from the front of `input`, advancing `input` past
    /// the bytes it consumed.
    ///
    /// Returns `None` when `input` is exhausted (every byte consumed) before a reply is
    /// complete: a partial reply is kept, within [`Limits`], and completed by later calls.
    /// Call it in a loop until it returns `None`, then read more bytes. Returns
    /// `Some(Err(_))` for a reply that breaks the grammar or a limit; the parser has then
    /// already resynchronised (see [`ParseError`]) and the next call goes on. Check
    /// [`ReplyParser::take_warnings`] after a reply to learn what the lenient mode forgave.
    pub fn parse(&mut self, input: &mut &[u8]) -> Option<Result<Reply, ParseError>> {
        loop {
            if self.discard.is_some() {
                self.skip(input);
                if self.discard.is_some() {
                    return None;
                }
            }
            if input.is_empty() {
                return None;
            }
            let step = match find_lf(input) {
                Some(i) => {
                    let (line, rest) = input.split_at(i + 1);
                    *input = rest;
                    if self.line.is_empty() {
                        self.complete_line(line)
                    } else {
                        let len = self.line.len() + line.len();
                        if let Some(err) = self.limit_error(len - 1) {
                            let cont = is_continuation(&self.line_head(line));
                            self.line.clear();
                            self.fail_after_line(cont);
                            Step::Error(err)
                        } else {
                            let mut buf = core::mem::take(&mut self.line);
                            extend_bounded(&mut buf, line, self.limits.max_line_len);
                            let step = self.complete_line(&buf);
                            buf.clear();
                            self.line = buf;
                            step
                        }
                    }
                }
                None => {
                    let rest = core::mem::take(input);
                    let len = self.line.len().saturating_add(rest.len());
                    match self.limit_error(len) {
                        Some(err) => {
                            let mut d = Discard::from_head(&self.line);
                            d.push(rest);
                            self.line.clear();
                            self.reset_reply();
                            self.discard = Some(d);
                            Step::Error(err)
                        }
                        None => {
                            let cap = self.limits.max_line_len;
                            extend_bounded(&mut self.line, rest, cap);
                            return None;
                        }
                    }
                }
            };
            match step {
                Step::More => continue,
                Step::Reply(r) => return Some(Ok(r)),
                Step::Error(e) => return Some(Err(e)),
            }
        }
    }

    /// The limit broken by a line of the current reply of which `known` bytes have
    /// arrived, its LF not included (the LF will add one more byte).
    ///
    /// The limit reported is the one the byte stream crossed first, so the error does
    /// not depend on how the input was split: the line limit is crossed once
    /// `max_line_len` bytes precede the LF, the reply limit once
    /// `max_reply_bytes - reply_bytes` do; on a tie, the line limit is named.
    fn limit_error(&self, known: usize) -> Option<ParseError> {
        let line_at = self.limits.max_line_len;
        let reply_at = self.limits.max_reply_bytes.saturating_sub(self.reply_bytes);
        if known < line_at.min(reply_at) {
            None
        } else if line_at <= reply_at {
            Some(ParseError::LineTooLong {
                line: self.lines + 1,
                limit: self.limits.max_line_len,
            })
        } else {
            Some(ParseError::ReplyTooLong {
                limit: self.limits.max_reply_bytes,
            })
        }
    }

    /// The first four bytes of the buffered partial line followed by `more`.
    fn line_head(&self, more: &[u8]) -> [u8; 4] {
        let mut d = Discard::from_head(&self.line);
        d.push(more);
        d.head
    }

    /// Consumes input while discarding after an error; clears `self.discard` when the
    /// broken reply has ended.
    fn skip(&mut self, input: &mut &[u8]) {
        while let Some(d) = self.discard.as_mut() {
            if input.is_empty() {
                return;
            }
            match find_lf(input) {
                Some(i) => {
                    d.push(&input[..i]);
                    let cont = d.is_continuation();
                    *input = &input[i + 1..];
                    self.discard = if cont { Some(Discard::default()) } else { None };
                }
                None => {
                    d.push(input);
                    *input = &[];
                }
            }
        }
    }

    /// Drops the reply in progress.
    fn reset_reply(&mut self) {
        self.code = None;
        self.first_code = None;
        self.mixed = false;
        self.enhanced = None;
        self.text.clear();
        self.lines = 0;
        self.reply_bytes = 0;
    }

    /// After an error on a complete line: drop the reply, and when that line was a
    /// continuation line, discard the lines that follow up to the end of the reply.
    fn fail_after_line(&mut self, was_continuation: bool) {
        self.reset_reply();
        self.discard = was_continuation.then(Discard::default);
    }

    /// Handles one complete line, `raw` ending with LF.
    fn complete_line(&mut self, raw: &[u8]) -> Step {
        let line_no = self.lines + 1;
        let content = &raw[..raw.len() - 1];
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if let Some(err) = self.limit_error(raw.len() - 1) {
            self.fail_after_line(is_continuation(content));
            return Step::Error(err);
        }
        let reply_bytes = self.reply_bytes + raw.len();
        let Some(code) = content.get(..3).and_then(ReplyCode::from_digits) else {
            self.fail_after_line(is_continuation(content));
            return Step::Error(ParseError::InvalidCode {
                line: line_no,
                got: snippet(content),
            });
        };
        let (last, text) = match content.get(3) {
            None => (true, &content[3..]),
            Some(b' ') => (true, &content[4..]),
            Some(b'-') => (false, &content[4..]),
            Some(_) => {
                self.fail_after_line(false);
                return Step::Error(ParseError::InvalidSeparator {
                    line: line_no,
                    got: snippet(&content[3..4]),
                });
            }
        };
        if line_no > self.limits.max_lines {
            self.fail_after_line(!last);
            return Step::Error(ParseError::TooManyLines {
                limit: self.limits.max_lines,
            });
        }
        let first = match self.code {
            None => code,
            Some(first) if first == code => first,
            Some(first) => {
                if self.strict {
                    self.fail_after_line(!last);
                    return Step::Error(ParseError::CodeMismatch {
                        line: line_no,
                        expected: self.first_code.unwrap_or(first),
                        got: code,
                    });
                }
                self.mixed = true;
                let kept = if safety(code) > safety(first) {
                    // This line's code is the safer reading: its enhanced code (if
                    // any) goes with it, never a positive one with a negative code.
                    self.enhanced = None;
                    code
                } else {
                    first
                };
                self.warn(ParseWarning::CodeMismatch {
                    line: line_no,
                    expected: self.first_code.unwrap_or(first),
                    got: code,
                    kept,
                });
                kept
            }
        };
        if self.first_code.is_none() {
            self.first_code = Some(code);
        }
        if self.enhanced.is_none() && first == code {
            self.enhanced = EnhancedCode::parse_prefix(text).map(|(e, _)| e);
        }
        if last && line_no == 1 {
            // The common single-line reply goes straight from the input to the reply.
            let reply = Reply::from_parts(first, self.enhanced.take(), 1, text.to_vec());
            self.reset_reply();
            return Step::Reply(reply);
        }
        let cap = self.limits.max_reply_bytes;
        if line_no > 1 {
            extend_bounded(&mut self.text, b"\n", cap);
        }
        extend_bounded(&mut self.text, text, cap);
        self.code = Some(first);
        self.lines = line_no;
        self.reply_bytes = reply_bytes;
        if last {
            // A streaming parser keeps its buffer for the next reply; a one-shot parse
            // hands it over.
            let text = if self.oneshot {
                core::mem::take(&mut self.text)
            } else {
                self.text.clone()
            };
            let mut reply = Reply::from_parts(first, self.enhanced.take(), line_no, text);
            reply.mixed = self.mixed;
            self.reset_reply();
            Step::Reply(reply)
        } else {
            Step::More
        }
    }

    fn warn(&mut self, w: ParseWarning) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(w);
        } else {
            self.warnings_dropped = self.warnings_dropped.saturating_add(1);
        }
    }

    /// Drains the warnings recorded since the last call (at most 64 are kept; see
    /// [`ReplyParser::warnings_dropped`]). Call it after each reply to attribute them.
    ///
    /// ```
    /// use tempfail::reply::{ParseWarning, ReplyParser};
    /// let mut p = ReplyParser::new();
    /// let r = p.parse(&mut &b"250-first\r\n251 second\r\n"[..]).unwrap().unwrap();
    /// assert_eq!(r.code().as_u16(), 250);
    /// let w: Vec<ParseWarning> = p.take_warnings().collect();
    /// assert!(matches!(w[..], [ParseWarning::CodeMismatch { line: 2, .. }]));
    /// ```
    pub fn take_warnings(&mut self) -> impl Iterator<Item = ParseWarning> + '_ {
        self.warnings_dropped = 0;
        self.warnings.drain(..)
    }

    /// Warnings not kept because 64 were already waiting to be taken.
    pub fn warnings_dropped(&self) -> usize {
        self.warnings_dropped
    }

    /// No partial reply buffered and not discarding the rest of a broken one: the input
    /// so far ended exactly at a reply boundary.
    pub fn is_idle(&self) -> bool {
        self.lines == 0 && self.line.is_empty() && self.discard.is_none()
    }

    /// Bytes of memory the parser holds for a partial reply (its buffers' capacity).
    /// Never more than [`Limits::max_line_len`] + [`Limits::max_reply_bytes`], whatever
    /// was fed.
    pub fn buffered_bytes(&self) -> usize {
        self.text.capacity() + self.line.capacity()
    }

    /// Forgets any partial reply, discarding state and warnings; the next byte is read as
    /// the start of a reply. Use it when the byte stream restarts (e.g. after a TLS
    /// upgrade, whose earlier bytes must not be trusted).
    pub fn reset(&mut self) {
        self.reset_reply();
        self.line.clear();
        self.discard = None;
        self.warnings.clear();
        self.warnings_dropped = 0;
    }

    /// Parses exactly one whole reply (see [`Reply::parse`]).
    pub(crate) fn parse_one(mut self, bytes: &[u8]) -> Result<Reply, ParseError> {
        if bytes.is_empty() {
            return Err(ParseError::Empty);
        }
        self.oneshot = true;
        if find_lf(bytes).is_some_and(|i| i + 1 < bytes.len()) {
            // Several lines: one allocation for the reply's text, handed over at the end.
            self.text
                .reserve_exact(bytes.len().min(self.limits.max_reply_bytes));
        }
        let mut input = bytes;
        let reply = match self.parse(&mut input) {
            Some(r) => r?,
            None if !self.line.is_empty() => {
                // The last line lacks its line ending.
                match self.parse(&mut &b"\n"[..]) {
                    Some(r) => r?,
                    None => return Err(ParseError::Incomplete),
                }
            }
            None => return Err(ParseError::Incomplete),
        };
        if input.is_empty() {
            Ok(reply)
        } else {
            Err(ParseError::TrailingData { len: input.len() })
        }
    }
}
