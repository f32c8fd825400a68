//! ESMTP capabilities from an `EHLO` (or `LHLO`) reply.

use crate::reply::Reply;

/// An SASL mechanism the session can use (RFC 4954).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616): identity and password in one base64 response.
    Plain,
    /// `LOGIN`: username and password in two base64 responses.
    Login,
    /// `XOAUTH2`: an OAuth 2.0 bearer token (Google, Microsoft).
    Xoauth2,
}

impl Mechanism {
    /// The name as it appears after `AUTH` (`PLAIN`, `LOGIN`, `XOAUTH2`).
    pub const fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::Xoauth2 => "XOAUTH2",
        }
    }

    fn from_keyword(s: &[u8]) -> Option<Self> {
        if s.eq_ignore_ascii_case(b"PLAIN") {
            Some(Mechanism::Plain)
        } else if s.eq_ignore_ascii_case(b"LOGIN") {
            Some(Mechanism::Login)
        } else if s.eq_ignore_ascii_case(b"XOAUTH2") {
            Some(Mechanism::Xoauth2)
        } else {
            None
        }
    }
}

/// What the server advertised in its `EHLO` reply.
///
/// A session that fell back to `HELO` has none of these (all false / `None`).
///
/// ```
/// use tempfail::{Reply, ReplyCode};
/// use tempfail::session::{Capabilities, Mechanism};
/// let ehlo = Reply::new(ReplyCode::OK, [
///     "mx.example.com", "PIPELINING", "SIZE 10240000", "8BITMIME", "AUTH PLAIN LOGIN", "CHUNKING",
/// ]);
/// let caps = Capabilities::from_ehlo(&ehlo);
/// assert!(caps.pipelining && caps.eight_bit_mime && caps.chunking);
/// assert_eq!(caps.size, Some(10_240_000));
/// assert!(caps.supports_auth(Mechanism::Login));
/// assert!(!caps.starttls);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Capabilities {
    /// `PIPELINING` (RFC 2920).
    pub pipelining: bool,
    /// `SIZE` (RFC 1870): `Some(0)` means no fixed limit; `None` when not advertised.
    pub size: Option<u64>,
    /// `8BITMIME` (RFC 6152).
    pub eight_bit_mime: bool,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `ENHANCEDSTATUSCODES` (RFC 2034). Enhanced codes in replies are used whether or not
    /// this was advertised.
    pub enhanced_status_codes: bool,
    /// `DSN` (RFC 3461).
    pub dsn: bool,
    /// `STARTTLS` (RFC 3207).
    pub starttls: bool,
    /// `CHUNKING` (RFC 3030).
    pub chunking: bool,
    /// The `AUTH` mechanisms this crate can use, in the server's order.
    pub auth: Vec<Mechanism>,
}

impl Capabilities {
    /// Parses the lines of a positive `EHLO`/`LHLO` reply. The first line is the
    /// server's name and is skipped; keywords are case-insensitive; unknown keywords
    /// and malformed parameters are ignored (a `SIZE` with a bad number counts as
    /// advertised with no limit known).
    pub fn from_ehlo(reply: &Reply) -> Self {
        let mut caps = Capabilities::default();
        for line in reply.lines().skip(1) {
            let mut words = line
                .split(|b| *b == b' ' || *b == b'\t')
                .filter(|w| !w.is_empty());
            let Some(keyword) = words.next() else {
                continue;
            };
            // Old servers advertise `AUTH=LOGIN PLAIN`.
            let (keyword, first_param) = match keyword.iter().position(|b| *b == b'=') {
                Some(i) => (&keyword[..i], Some(&keyword[i + 1..])),
                None => (keyword, None),
            };
            let is = |k: &str| keyword.eq_ignore_ascii_case(k.as_bytes());
            if is("PIPELINING") {
                caps.pipelining = true;
            } else if is("SIZE") {
                let n = words.next().and_then(parse_u64).unwrap_or(0);
                caps.size = Some(n);
            } else if is("8BITMIME") {
                caps.eight_bit_mime = true;
            } else if is("SMTPUTF8") {
                caps.smtputf8 = true;
            } else if is("ENHANCEDSTATUSCODES") {
                caps.enhanced_status_codes = true;
            } else if is("DSN") {
                caps.dsn = true;
            } else if is("STARTTLS") {
                caps.starttls = true;
            } else if is("CHUNKING") {
                caps.chunking = true;
            } else if is("AUTH") {
                for m in first_param.into_iter().chain(words) {
                    if let Some(m) = Mechanism::from_keyword(m) {
                        if !caps.auth.contains(&m) && caps.auth.len() < 8 {
                            caps.auth.push(m);
                        }
                    }
                }
            }
        }
        caps
    }

    /// True if the server offered this SASL mechanism.
    pub fn supports_auth(&self, m: Mechanism) -> bool {
        self.auth.contains(&m)
    }
}

fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::ReplyCode;

    #[test]
    fn postfix_smtp_sink_ehlo() {
        // What `smtp-sink` answers (its last line is a bare `250 `).
        let r = Reply::new(
            ReplyCode::OK,
            [
                "host.example",
                "PIPELINING",
                "SIZE",
                "ETRN",
                "STARTTLS",
                "ENHANCEDSTATUSCODES",
                "8BITMIME",
                "DSN",
                "",
            ],
        );
        let c = Capabilities::from_ehlo(&r);
        assert!(c.pipelining && c.starttls && c.enhanced_status_codes && c.eight_bit_mime && c.dsn);
        assert_eq!(c.size, Some(0));
        assert!(!c.smtputf8 && !c.chunking);
        assert!(c.auth.is_empty());
    }

    #[test]
    fn old_style_auth_and_case() {
        let r = Reply::new(
            ReplyCode::OK,
            [
                "x",
                "auth=login PLAIN cram-md5",
                "size 1000",
                "smtputf8",
                "Chunking",
            ],
        );
        let c = Capabilities::from_ehlo(&r);
        assert_eq!(c.auth, vec![Mechanism::Login, Mechanism::Plain]);
        assert_eq!(c.size, Some(1000));
        assert!(c.smtputf8 && c.chunking);
    }

    #[test]
    fn first_line_is_not_a_keyword() {
        let r = Reply::new(ReplyCode::OK, ["PIPELINING"]);
        assert!(!Capabilities::from_ehlo(&r).pipelining);
    }
}
