//! Basic reply codes (RFC 5321 §4.2) and enhanced status codes (RFC 3463).

use core::fmt;

/// A three-digit SMTP reply code such as `250`, `451` or `550`.
///
/// The first digit is 2 to 5 (RFC 5321 §4.2.1); the second and third may be
/// any digit, since real servers send codes outside the RFC's list (557, 559,
/// 561, 571…). `1yz` is not used by SMTP and is refused.
///
/// ```
/// use tempfail::ReplyCode;
/// let c = ReplyCode::new(451).unwrap();
/// assert!(c.is_transient());
/// assert_eq!(c.class(), 4);
/// assert!(ReplyCode::new(199).is_none());
/// assert!(ReplyCode::new(600).is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u16", into = "u16"))]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// `250`: requested mail action okay, completed.
    pub const OK: ReplyCode = ReplyCode(250);
    /// `421`: service not available, closing transmission channel.
    pub const SERVICE_NOT_AVAILABLE: ReplyCode = ReplyCode(421);
    /// `451`: local error in processing; also what an unexpected close counts as (RFC 5321 §3.8).
    pub const LOCAL_ERROR: ReplyCode = ReplyCode(451);
    /// `503`: bad sequence of commands.
    pub const BAD_SEQUENCE: ReplyCode = ReplyCode(503);

    /// The code if it is in `200..=599`.
    pub const fn new(code: u16) -> Option<Self> {
        if code >= 200 && code <= 599 {
            Some(ReplyCode(code))
        } else {
            None
        }
    }

    /// Parses exactly three ASCII digits.
    pub fn from_digits(d: &[u8]) -> Option<Self> {
        match d {
            [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
                Self::new(
                    u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'),
                )
            }
            _ => None,
        }
    }

    /// The numeric value, e.g. `550`.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The first digit: 2, 3, 4 or 5.
    pub const fn class(self) -> u8 {
        (self.0 / 100) as u8
    }

    /// `2yz`: the command succeeded.
    pub const fn is_positive_completion(self) -> bool {
        self.class() == 2
    }

    /// `3yz`: intermediate (e.g. `354` after DATA, `334` during AUTH).
    pub const fn is_intermediate(self) -> bool {
        self.class() == 3
    }

    /// `2yz` or `3yz`.
    pub const fn is_positive(self) -> bool {
        self.class() <= 3
    }

    /// `4yz`: transient negative completion.
    pub const fn is_transient(self) -> bool {
        self.class() == 4
    }

    /// `5yz`: permanent negative completion.
    pub const fn is_permanent(self) -> bool {
        self.class() == 5
    }
}

impl TryFrom<u16> for ReplyCode {
    type Error = InvalidCode;
    fn try_from(v: u16) -> Result<Self, InvalidCode> {
        ReplyCode::new(v).ok_or(InvalidCode::Reply(v))
    }
}

impl From<ReplyCode> for u16 {
    fn from(c: ReplyCode) -> u16 {
        c.0
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplyCode({})", self.0)
    }
}

/// A code that is not a valid reply or enhanced status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidCode {
    /// A basic reply code outside `200..=599`.
    #[error("reply code {0} is not in 200..=599")]
    Reply(u16),
    /// Text that is not `class.subject.detail` with class 2, 4 or 5 and 1–3 digit parts.
    #[error("{0:?} is not an enhanced status code (expected class.subject.detail, e.g. 5.1.1)")]
    Enhanced(String),
}

/// An RFC 3463 enhanced status code `class.subject.detail`, e.g. `5.1.1`.
///
/// Grammar (RFC 3463 §2): class is 2, 4 or 5; subject and detail are 1 to 3
/// digits (0–999, no leading-zero rules enforced, as servers vary).
///
/// ```
/// use tempfail::EnhancedCode;
/// let e: EnhancedCode = "4.7.28".parse().unwrap();
/// assert_eq!((e.class(), e.subject(), e.detail()), (4, 7, 28));
/// assert_eq!(e.to_string(), "4.7.28");
/// assert!("3.1.1".parse::<EnhancedCode>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnhancedCode {
    class: u8,
    subject: u16,
    detail: u16,
}

impl EnhancedCode {
    /// A code from its parts; `None` unless class is 2, 4 or 5 and subject and detail are at most 999.
    pub const fn new(class: u8, subject: u16, detail: u16) -> Option<Self> {
        if (class == 2 || class == 4 || class == 5) && subject <= 999 && detail <= 999 {
            Some(EnhancedCode {
                class,
                subject,
                detail,
            })
        } else {
            None
        }
    }

    /// The class digit: 2 (success), 4 (persistent transient) or 5 (permanent).
    pub const fn class(self) -> u8 {
        self.class
    }

    /// The subject (0–999): 1 addressing, 2 mailbox, 3 mail system, 4 network/routing,
    /// 5 protocol, 6 content, 7 security/policy.
    pub const fn subject(self) -> u16 {
        self.subject
    }

    /// The detail (0–999).
    pub const fn detail(self) -> u16 {
        self.detail
    }

    /// Parses an enhanced code at the very start of `b`, returning it and the number of bytes it took.
    ///
    /// The code must be followed by the end of input or a byte that is not a digit
    /// or `.` (so `5.1.1` matches in `5.1.1 user unknown` but `5.1.1.2` does not).
    pub fn parse_prefix(b: &[u8]) -> Option<(Self, usize)> {
        let class = match b.first()? {
            c @ (b'2' | b'4' | b'5') => c - b'0',
            _ => return None,
        };
        if b.get(1) != Some(&b'.') {
            return None;
        }
        let (subject, n1) = digits(&b[2..])?;
        let at = 2 + n1;
        if b.get(at) != Some(&b'.') {
            return None;
        }
        let (detail, n2) = digits(&b[at + 1..])?;
        let end = at + 1 + n2;
        match b.get(end) {
            Some(c) if c.is_ascii_digit() || *c == b'.' => None,
            _ => Some((EnhancedCode::new(class, subject, detail)?, end)),
        }
    }
}

/// One to three ASCII digits at the start of `b`.
fn digits(b: &[u8]) -> Option<(u16, usize)> {
    let mut v: u16 = 0;
    let mut n = 0;
    while n < b.len() && b[n].is_ascii_digit() {
        if n == 3 {
            return None;
        }
        v = v * 10 + u16::from(b[n] - b'0');
        n += 1;
    }
    if n == 0 { None } else { Some((v, n)) }
}

impl core::str::FromStr for EnhancedCode {
    type Err = InvalidCode;
    fn from_str(s: &str) -> Result<Self, InvalidCode> {
        match EnhancedCode::parse_prefix(s.as_bytes()) {
            Some((e, n)) if n == s.len() => Ok(e),
            _ => Err(InvalidCode::Enhanced(s.chars().take(32).collect())),
        }
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl fmt::Debug for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnhancedCode({self})")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for EnhancedCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for EnhancedCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
