//! SMTP replies: codes, enhanced status codes, and the reply value.
//!
//! A [`Reply`] is what a server answered to one command: a [`ReplyCode`], an
//! optional RFC 3463 [`EnhancedCode`] and one or more text lines, kept as the
//! raw bytes the server sent (non-UTF-8 included).

mod code;

pub use code::{EnhancedCode, InvalidCode, ReplyCode};

/// One complete SMTP reply (possibly multi-line).
///
/// Each line's text is stored as sent, after the `NNN-` / `NNN ` separator and
/// including any enhanced status code that starts it. [`Reply::enhanced`] is
/// the first enhanced code found at the start of a line.
///
/// ```
/// use tempfail::{Reply, ReplyCode};
/// let r = Reply::new(ReplyCode::new(550).unwrap(), ["5.1.1 <bob@example.com>: user unknown"]);
/// assert!(r.is_permanent());
/// assert_eq!(r.enhanced().unwrap().to_string(), "5.1.1");
/// assert_eq!(r.text(), "<bob@example.com>: user unknown");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Reply {
    code: ReplyCode,
    enhanced: Option<EnhancedCode>,
    lines: Vec<Vec<u8>>,
}

impl Reply {
    /// A reply from its code and raw text lines (what follows `NNN-`/`NNN ` on each line,
    /// without the line ending). The enhanced code is taken from the first line that starts
    /// with one. An empty iterator gives a reply with one empty line (a bare `250`).
    pub fn new<I, L>(code: ReplyCode, lines: I) -> Self
    where
        I: IntoIterator<Item = L>,
        L: Into<Vec<u8>>,
    {
        let mut lines: Vec<Vec<u8>> = lines.into_iter().map(Into::into).collect();
        if lines.is_empty() {
            lines.push(Vec::new());
        }
        let enhanced = lines
            .iter()
            .find_map(|l| EnhancedCode::parse_prefix(l).map(|(e, _)| e));
        Reply {
            code,
            enhanced,
            lines,
        }
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
    pub fn lines(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.lines.iter().map(Vec::as_slice)
    }

    /// The text of each line with a leading enhanced code and the spaces after it removed.
    pub fn text_lines(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.lines.iter().map(|l| strip_enhanced(l))
    }

    /// All text lines joined with a single space, lossily decoded, enhanced codes removed.
    pub fn text(&self) -> String {
        let mut out = String::new();
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
}

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
