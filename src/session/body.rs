//! Streaming body encoding for `DATA`: CRLF normalisation and dot-stuffing.

/// Encodes a message body for the SMTP `DATA` phase one chunk at a time.
///
/// - Every line ending becomes CRLF: a bare LF, a bare CR and CRLF all end a line
///   (RFC 5321 §2.3.8 forbids bare CR and LF in the DATA stream).
/// - A line that starts with `.` gets a second `.` (RFC 5321 §4.5.2).
/// - [`BodyEncoder::finish`] ends the last line if needed and writes the
///   terminating `.` line.
///
/// State is carried across chunks (a CR at the end of one chunk and an LF at the
/// start of the next are one line ending; a `.` that starts a chunk is stuffed if
/// it starts a line), so the wire bytes do not depend on how the body was split.
/// The encoder keeps two booleans of state: it never buffers the body.
///
/// ```
/// use tempfail::session::BodyEncoder;
/// let mut enc = BodyEncoder::new();
/// let mut out = Vec::new();
/// enc.encode(b"Subject: hi\n\n.hidden\r", &mut out);
/// enc.encode(b"\nlast line", &mut out);
/// enc.finish(&mut out);
/// assert_eq!(out, b"Subject: hi\r\n\r\n..hidden\r\nlast line\r\n.\r\n");
/// ```
#[derive(Clone, Debug)]
pub struct BodyEncoder {
    line_start: bool,
    cr_pending: bool,
}

impl Default for BodyEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl BodyEncoder {
    /// An encoder at the start of a body (the first byte starts a line).
    pub const fn new() -> Self {
        BodyEncoder {
            line_start: true,
            cr_pending: false,
        }
    }

    /// Appends the encoding of `chunk` to `out`.
    pub fn encode(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        out.reserve(chunk.len() + 8);
        let mut rest = chunk;
        while let Some((&first, _)) = rest.split_first() {
            if self.cr_pending {
                self.cr_pending = false;
                out.extend_from_slice(b"\r\n");
                self.line_start = true;
                if first == b'\n' {
                    rest = &rest[1..];
                    continue;
                }
            }
            match first {
                b'\r' => {
                    self.cr_pending = true;
                    rest = &rest[1..];
                }
                b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    self.line_start = true;
                    rest = &rest[1..];
                }
                _ => {
                    if self.line_start && first == b'.' {
                        out.push(b'.');
                    }
                    // A run of ordinary bytes up to the next line ending.
                    let n = find_line_end(rest).unwrap_or(rest.len());
                    out.extend_from_slice(&rest[..n]);
                    self.line_start = false;
                    rest = &rest[n..];
                }
            }
        }
    }

    /// Ends the body: completes the last line (if it has no line ending) and
    /// appends the terminating `.` line. The encoder is reset for a new body.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.cr_pending || !self.line_start {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        *self = BodyEncoder::new();
    }

    /// True when no byte has been encoded since the start (or the last [`finish`](Self::finish)).
    pub fn is_at_body_start(&self) -> bool {
        self.line_start && !self.cr_pending
    }
}

/// The index of the first CR or LF, eight bytes at a time (no `unsafe`, no memchr).
fn find_line_end(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const CR: u64 = LO * b'\r' as u64;
    const LF: u64 = LO * b'\n' as u64;
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let w = u64::from_le_bytes(w);
        let (x, y) = (w ^ CR, w ^ LF);
        // A zero byte in x or y is a CR or LF in w (the classic has-zero-byte test).
        let found = (x.wrapping_sub(LO) & !x & HI) | (y.wrapping_sub(LO) & !y & HI);
        if found != 0 {
            return c
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
                .map(|i| at + i);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(chunks: &[&[u8]]) -> Vec<u8> {
        let mut e = BodyEncoder::new();
        let mut out = Vec::new();
        for c in chunks {
            e.encode(c, &mut out);
        }
        e.finish(&mut out);
        out
    }

    #[test]
    fn line_endings_are_normalised() {
        assert_eq!(enc(&[b"a\nb\rc\r\nd"]), b"a\r\nb\r\nc\r\nd\r\n.\r\n");
        assert_eq!(enc(&[b"a\r\r\nb"]), b"a\r\n\r\nb\r\n.\r\n");
        assert_eq!(enc(&[b"a\n\n"]), b"a\r\n\r\n.\r\n");
    }

    #[test]
    fn dots_at_line_start_are_stuffed() {
        assert_eq!(enc(&[b".\n..x\n a.b"]), b"..\r\n...x\r\n a.b\r\n.\r\n");
        assert_eq!(enc(&[b"x\r", b".y"]), b"x\r\n..y\r\n.\r\n");
        assert_eq!(enc(&[b"x\n", b".", b"\n"]), b"x\r\n..\r\n.\r\n");
    }

    #[test]
    fn line_end_search_matches_the_obvious_one() {
        let mut b = vec![b'x'; 40];
        for i in 0..40 {
            for eol in [b'\r', b'\n'] {
                b[i] = eol;
                for start in 0..i.min(9) {
                    assert_eq!(find_line_end(&b[start..]), Some(i - start));
                }
                b[i] = b'x';
            }
        }
        assert_eq!(find_line_end(&b), None);
        // Bytes that differ from CR/LF by the high bit are not line ends.
        assert_eq!(
            find_line_end(&[0x8d, 0x8a, 0x0c, 0x0e, 0x0b, 0x09, 0xff, 0, 1]),
            None
        );
    }

    #[test]
    fn empty_body_is_just_the_dot() {
        assert_eq!(enc(&[]), b".\r\n");
        assert_eq!(enc(&[b"", b""]), b".\r\n");
    }

    #[test]
    fn cr_at_chunk_end_joins_lf_at_next_start() {
        assert_eq!(enc(&[b"a\r", b"\nb"]), b"a\r\nb\r\n.\r\n");
        assert_eq!(enc(&[b"a\r"]), b"a\r\n.\r\n");
    }
}
