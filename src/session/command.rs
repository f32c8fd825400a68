//! Envelopes, SMTP command encoding, RFC 3461 xtext, AUTH credentials and base64.

use core::fmt;

use super::UsageError;
use super::caps::{Capabilities, Mechanism};

/// The body type declared in `MAIL FROM` (RFC 6152).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum BodyType {
    /// No `BODY=` parameter: 7-bit ASCII content.
    #[default]
    SevenBit,
    /// `BODY=8BITMIME`. Sent only when the server advertises `8BITMIME`; the body is
    /// sent as is otherwise, as most MTAs do.
    EightBitMime,
}

/// What a DSN should return (RFC 3461 §4.3, `RET=`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Ret {
    /// `RET=FULL`: the whole message.
    Full,
    /// `RET=HDRS`: the headers only.
    Hdrs,
}

/// When a DSN is wanted for a recipient (RFC 3461 §4.1, `NOTIFY=`): the same type
/// the [`crate::dsn`] builder honours. All three false means `NOTIFY=NEVER`.
pub use crate::dsn::Notify;

/// One recipient of an [`Envelope`], and of a [`crate::delivery::Delivery`].
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Recipient {
    /// The forward path, without angle brackets (`bob@example.com`).
    pub address: String,
    /// `NOTIFY=` (sent only when the server advertises `DSN`).
    pub notify: Option<Notify>,
    /// `ORCPT=rfc822;…`: the original recipient, xtext-encoded on the wire (sent only
    /// when the server advertises `DSN`).
    pub orcpt: Option<String>,
}

impl Recipient {
    /// A recipient with no DSN parameters.
    pub fn new(address: impl Into<String>) -> Self {
        Recipient {
            address: address.into(),
            notify: None,
            orcpt: None,
        }
    }
}

impl From<&str> for Recipient {
    fn from(s: &str) -> Self {
        Recipient::new(s)
    }
}

impl From<String> for Recipient {
    fn from(s: String) -> Self {
        Recipient::new(s)
    }
}

/// A message's envelope sender and `MAIL FROM` parameters: the one description of
/// a message that a [`crate::delivery::Delivery`] owns, an [`Envelope`] carries, and
/// a delivery status notice is built from (`Delivery::dsn_message`), so the three can
/// never disagree.
///
/// ```
/// use tempfail::delivery::{Delivery, MessageInfo, Recipient};
/// use tempfail::session::Ret;
/// use tempfail::Timestamp;
///
/// let t0 = Timestamp::from_secs(1_700_000_000);
/// let msg = MessageInfo::new("alice@example.org").envid("q-7").ret(Ret::Hdrs).size(2_048);
/// let d = Delivery::new(t0, 7, vec![Recipient::new("bob@example.com")]).with_message(msg);
/// assert_eq!(d.message().sender, "alice@example.org");
/// assert_eq!(d.dsn_message(Vec::new()).envid.as_deref(), Some("q-7"));
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
#[non_exhaustive]
pub struct MessageInfo {
    /// The reverse path (`MAIL FROM`) without angle brackets; empty for the null
    /// sender `<>`, which never gets a notice.
    pub sender: String,
    /// The message size in bytes, declared with `SIZE=`.
    pub size: Option<u64>,
    /// `BODY=`.
    pub body: BodyType,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `RET=` (RFC 3461).
    pub ret: Option<Ret>,
    /// `ENVID=` (RFC 3461), echoed in notices as `Original-Envelope-Id`.
    pub envid: Option<String>,
}

impl MessageInfo {
    /// A message from `sender` with no optional parameters.
    pub fn new(sender: impl Into<String>) -> Self {
        MessageInfo {
            sender: sender.into(),
            ..MessageInfo::default()
        }
    }

    /// Sets the declared size.
    pub fn size(mut self, bytes: u64) -> Self {
        self.size = Some(bytes);
        self
    }

    /// Sets the body type.
    pub fn body(mut self, body: BodyType) -> Self {
        self.body = body;
        self
    }

    /// Requests `SMTPUTF8`.
    pub fn smtputf8(mut self, on: bool) -> Self {
        self.smtputf8 = on;
        self
    }

    /// Sets `RET=`.
    pub fn ret(mut self, ret: Ret) -> Self {
        self.ret = Some(ret);
        self
    }

    /// Sets `ENVID=`.
    pub fn envid(mut self, envid: impl Into<String>) -> Self {
        self.envid = Some(envid.into());
        self
    }
}

impl From<&str> for MessageInfo {
    fn from(sender: &str) -> Self {
        MessageInfo::new(sender)
    }
}

impl From<String> for MessageInfo {
    fn from(sender: String) -> Self {
        MessageInfo::new(sender)
    }
}

/// One message's envelope: what `MAIL FROM` and `RCPT TO` carry.
///
/// ```
/// use tempfail::session::{BodyType, Envelope, MessageInfo};
/// let msg = MessageInfo::new("alice@example.org").size(1_234).body(BodyType::EightBitMime);
/// let env = Envelope::new(msg, ["bob@example.com", "carol@example.com"]);
/// assert_eq!(env.recipients.len(), 2);
/// // A bare sender is a message with no parameters.
/// assert_eq!(Envelope::new("alice@example.org", ["bob@example.com"]).message.sender, "alice@example.org");
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct Envelope {
    /// The sender and the `MAIL FROM` parameters. `size` is declared with `SIZE=`
    /// and checked against the server's advertised limit before anything is sent;
    /// a transaction that needs `smtputf8` fails with a permanent outcome if the
    /// server does not offer it; `envid` is at most 100 characters.
    pub message: MessageInfo,
    /// The recipients, in order; outcomes refer to them by index.
    pub recipients: Vec<Recipient>,
}

impl Envelope {
    /// An envelope for `message` (a [`MessageInfo`], or just the sender) and its
    /// recipients.
    pub fn new<I, R>(message: impl Into<MessageInfo>, recipients: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<Recipient>,
    {
        Envelope {
            message: message.into(),
            recipients: recipients.into_iter().map(Into::into).collect(),
        }
    }

    /// Checks what the caller controls: at least one recipient, addresses without
    /// CR, LF, NUL or angle brackets and at most 256 bytes long, non-ASCII addresses
    /// only with `SMTPUTF8`, `ENVID` at most 100 characters, `ORCPT` at most 500.
    pub fn validate(&self) -> Result<(), UsageError> {
        if self.recipients.is_empty() {
            return Err(UsageError::new(
                "an envelope with at least one recipient",
                "no recipients".to_string(),
            ));
        }
        check_address(&self.message.sender, self.message.smtputf8, "sender")?;
        for r in &self.recipients {
            if r.address.is_empty() {
                return Err(UsageError::new(
                    "a non-empty recipient address",
                    "an empty one".to_string(),
                ));
            }
            check_address(&r.address, self.message.smtputf8, "recipient")?;
            if let Some(o) = &r.orcpt {
                if o.len() > 500 || o.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                    return Err(UsageError::new(
                        "an ORCPT of at most 500 bytes without CR, LF or NUL",
                        format!("{} bytes", o.len()),
                    ));
                }
            }
        }
        if let Some(e) = &self.message.envid {
            if e.chars().count() > 100 {
                return Err(UsageError::new(
                    "an ENVID of at most 100 characters",
                    format!("{} characters", e.chars().count()),
                ));
            }
        }
        Ok(())
    }
}

fn check_address(a: &str, utf8: bool, what: &'static str) -> Result<(), UsageError> {
    if a.len() > 256 {
        return Err(UsageError::new(
            "an address of at most 256 bytes",
            format!("a {what} of {} bytes", a.len()),
        ));
    }
    if a.bytes()
        .any(|b| matches!(b, b'\r' | b'\n' | 0 | b'<' | b'>'))
    {
        return Err(UsageError::new(
            "an address without CR, LF, NUL or angle brackets",
            format!("{what} {:?}", a),
        ));
    }
    if !utf8 && !a.is_ascii() {
        return Err(UsageError::new(
            "an ASCII address, or an envelope with smtputf8 set",
            format!("non-ASCII {what} {:?}", a),
        ));
    }
    Ok(())
}

/// Appends `s` encoded as RFC 3461 xtext: bytes `!` to `~` except `+` and `=` as
/// themselves, every other byte as `+XX` (uppercase hex).
///
/// `a+b=c d@例` becomes `a+2Bb+3Dc+20d@+E4+BE+8B` (tested below).
pub(crate) fn xtext_encode(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'+' && b != b'=' {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'+', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// Appends the standard base64 (RFC 4648, with padding) of `data`.
///
/// `\0user\0pass` becomes `AHVzZXIAcGFzcw==` (tested below).
pub(crate) fn base64_encode(data: &[u8], out: &mut Vec<u8>) {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        out.extend_from_slice(&[
            T[(n >> 18) as usize & 63],
            T[(n >> 12) as usize & 63],
            T[(n >> 6) as usize & 63],
            T[n as usize & 63],
        ]);
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.extend_from_slice(&[T[(n >> 18) as usize & 63], T[(n >> 12) as usize & 63]]);
            out.extend_from_slice(b"==");
        }
        [a, b] => {
            let n = (u32::from(a) << 16) | (u32::from(b) << 8);
            out.extend_from_slice(&[
                T[(n >> 18) as usize & 63],
                T[(n >> 12) as usize & 63],
                T[(n >> 6) as usize & 63],
            ]);
            out.push(b'=');
        }
        _ => {}
    }
}

/// Credentials for SMTP AUTH (RFC 4954), and the mechanisms to try in order.
///
/// The secret never appears in `Debug` output.
///
/// ```
/// use tempfail::session::{Credentials, Mechanism};
/// let c = Credentials::password("alice", "s3cret");
/// assert_eq!(c.mechanisms(), &[Mechanism::Plain, Mechanism::Login]);
/// assert!(!format!("{c:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    secret: String,
    mechanisms: Vec<Mechanism>,
}

impl Credentials {
    /// A username and password, tried with `PLAIN` then `LOGIN`.
    pub fn password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            secret: password.into(),
            mechanisms: vec![Mechanism::Plain, Mechanism::Login],
        }
    }

    /// A username and OAuth 2.0 access token, used with `XOAUTH2`.
    pub fn oauth2(username: impl Into<String>, token: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            secret: token.into(),
            mechanisms: vec![Mechanism::Xoauth2],
        }
    }

    /// Replaces the mechanisms to try, in order of preference.
    pub fn with_mechanisms(mut self, mechanisms: impl IntoIterator<Item = Mechanism>) -> Self {
        self.mechanisms = mechanisms.into_iter().collect();
        self
    }

    /// The mechanisms to try, in order of preference.
    pub fn mechanisms(&self) -> &[Mechanism] {
        &self.mechanisms
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The first preferred mechanism the server offers.
    pub(crate) fn choose(&self, caps: &Capabilities) -> Option<Mechanism> {
        self.mechanisms
            .iter()
            .copied()
            .find(|m| caps.supports_auth(*m))
    }

    /// `AUTH PLAIN <base64(\0user\0pass)>`.
    pub(crate) fn plain_command(&self, out: &mut Vec<u8>) {
        let mut raw = Vec::with_capacity(self.username.len() + self.secret.len() + 2);
        raw.push(0);
        raw.extend_from_slice(self.username.as_bytes());
        raw.push(0);
        raw.extend_from_slice(self.secret.as_bytes());
        out.extend_from_slice(b"AUTH PLAIN ");
        base64_encode(&raw, out);
        out.extend_from_slice(b"\r\n");
    }

    /// `AUTH XOAUTH2 <base64(user=…^Aauth=Bearer …^A^A)>`.
    pub(crate) fn xoauth2_command(&self, out: &mut Vec<u8>) {
        let raw = format!(
            "user={}\x01auth=Bearer {}\x01\x01",
            self.username, self.secret
        );
        out.extend_from_slice(b"AUTH XOAUTH2 ");
        base64_encode(raw.as_bytes(), out);
        out.extend_from_slice(b"\r\n");
    }

    /// One base64 line (LOGIN's username or password response).
    pub(crate) fn login_line(&self, password: bool, out: &mut Vec<u8>) {
        let v = if password {
            &self.secret
        } else {
            &self.username
        };
        base64_encode(v.as_bytes(), out);
        out.extend_from_slice(b"\r\n");
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("mechanisms", &self.mechanisms)
            .finish()
    }
}

/// Appends `MAIL FROM:<…>` with the parameters the server supports.
///
/// `SIZE=` needs `SIZE`, `BODY=8BITMIME` needs `8BITMIME`, `RET`/`ENVID` need `DSN`;
/// `SMTPUTF8` is always sent when requested (the caller checks the capability first).
pub(crate) fn mail_from(env: &Envelope, caps: &Capabilities, out: &mut Vec<u8>) {
    let env = &env.message;
    out.extend_from_slice(b"MAIL FROM:<");
    out.extend_from_slice(env.sender.as_bytes());
    out.push(b'>');
    if let (Some(n), Some(_)) = (env.size, caps.size) {
        out.extend_from_slice(b" SIZE=");
        push_u64(n, out);
    }
    if env.body == BodyType::EightBitMime && caps.eight_bit_mime {
        out.extend_from_slice(b" BODY=8BITMIME");
    }
    if env.smtputf8 {
        out.extend_from_slice(b" SMTPUTF8");
    }
    if caps.dsn {
        match env.ret {
            Some(Ret::Full) => out.extend_from_slice(b" RET=FULL"),
            Some(Ret::Hdrs) => out.extend_from_slice(b" RET=HDRS"),
            None => {}
        }
        if let Some(id) = &env.envid {
            out.extend_from_slice(b" ENVID=");
            xtext_encode(id, out);
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends `RCPT TO:<…>` with `NOTIFY`/`ORCPT` when the server supports `DSN`.
pub(crate) fn rcpt_to(r: &Recipient, caps: &Capabilities, out: &mut Vec<u8>) {
    out.extend_from_slice(b"RCPT TO:<");
    out.extend_from_slice(r.address.as_bytes());
    out.push(b'>');
    if caps.dsn {
        if let Some(n) = r.notify {
            out.extend_from_slice(b" NOTIFY=");
            if n == Notify::NEVER {
                out.extend_from_slice(b"NEVER");
            } else {
                let mut first = true;
                for (on, word) in [
                    (n.success, &b"SUCCESS"[..]),
                    (n.failure, b"FAILURE"),
                    (n.delay, b"DELAY"),
                ] {
                    if on {
                        if !first {
                            out.push(b',');
                        }
                        out.extend_from_slice(word);
                        first = false;
                    }
                }
            }
        }
        if let Some(o) = &r.orcpt {
            out.extend_from_slice(b" ORCPT=rfc822;");
            xtext_encode(o, out);
        }
    }
    out.extend_from_slice(b"\r\n");
}

pub(crate) fn push_u64(mut n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_caps() -> Capabilities {
        Capabilities {
            pipelining: true,
            size: Some(0),
            eight_bit_mime: true,
            smtputf8: true,
            enhanced_status_codes: true,
            dsn: true,
            starttls: false,
            chunking: false,
            auth: vec![],
        }
    }

    fn s(v: Vec<u8>) -> String {
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn base64_vectors_from_rfc4648() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = Vec::new();
            base64_encode(i.as_bytes(), &mut out);
            assert_eq!(s(out), o);
        }
    }

    #[test]
    fn mail_from_with_every_parameter() {
        let env = Envelope::new(
            MessageInfo::new("a@example.org")
                .size(1000)
                .body(BodyType::EightBitMime)
                .smtputf8(true)
                .ret(Ret::Hdrs)
                .envid("QQ314159+x"),
            ["b@example.com"],
        );
        let mut out = Vec::new();
        mail_from(&env, &all_caps(), &mut out);
        assert_eq!(
            s(out),
            "MAIL FROM:<a@example.org> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314159+2Bx\r\n"
        );
        // Without the extensions, only what needs no extension (SMTPUTF8 is checked by the session).
        let mut out = Vec::new();
        mail_from(&env, &Capabilities::default(), &mut out);
        assert_eq!(s(out), "MAIL FROM:<a@example.org> SMTPUTF8\r\n");
    }

    #[test]
    fn xtext_and_base64_of_the_documented_examples() {
        let mut out = Vec::new();
        xtext_encode("a+b=c d@例", &mut out);
        assert_eq!(s(out), "a+2Bb+3Dc+20d@+E4+BE+8B");
        let mut out = Vec::new();
        base64_encode(b"\0user\0pass", &mut out);
        assert_eq!(s(out), "AHVzZXIAcGFzcw==");
    }

    #[test]
    fn null_sender() {
        let env = Envelope::new("", ["b@example.com"]);
        let mut out = Vec::new();
        mail_from(&env, &all_caps(), &mut out);
        assert_eq!(s(out), "MAIL FROM:<>\r\n");
    }

    #[test]
    fn rcpt_with_dsn() {
        let mut r = Recipient::new("b@example.com");
        r.notify = Some(Notify {
            success: true,
            failure: true,
            delay: false,
        });
        r.orcpt = Some("B=b@example.com".into());
        let mut out = Vec::new();
        rcpt_to(&r, &all_caps(), &mut out);
        assert_eq!(
            s(out),
            "RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;B+3Db@example.com\r\n"
        );
        r.notify = Some(Notify::NEVER);
        let mut out = Vec::new();
        rcpt_to(&r, &all_caps(), &mut out);
        assert!(s(out).contains(" NOTIFY=NEVER "));
        let mut out = Vec::new();
        rcpt_to(&r, &Capabilities::default(), &mut out);
        assert_eq!(s(out), "RCPT TO:<b@example.com>\r\n");
    }

    #[test]
    fn envelope_validation() {
        assert!(Envelope::new("a@x", ["b@y"]).validate().is_ok());
        assert!(
            Envelope::new("a@x", Vec::<String>::new())
                .validate()
                .is_err()
        );
        assert!(Envelope::new("a@x\r\nRSET", ["b@y"]).validate().is_err());
        assert!(Envelope::new("a@x", ["b>@y"]).validate().is_err());
        assert!(Envelope::new("a@x", ["bé@y"]).validate().is_err());
        assert!(
            Envelope::new(MessageInfo::new("a@x").smtputf8(true), ["bé@y"])
                .validate()
                .is_ok()
        );
        assert!(
            Envelope::new(MessageInfo::new("a@x").envid("x".repeat(101)), ["b@y"])
                .validate()
                .is_err()
        );
    }

    #[test]
    fn auth_encodings() {
        let c = Credentials::password("user", "pass");
        let mut out = Vec::new();
        c.plain_command(&mut out);
        assert_eq!(s(out), "AUTH PLAIN AHVzZXIAcGFzcw==\r\n");
        let mut out = Vec::new();
        c.login_line(false, &mut out);
        c.login_line(true, &mut out);
        assert_eq!(s(out), "dXNlcg==\r\ncGFzcw==\r\n");
        let t = Credentials::oauth2(
            "someuser@example.com",
            "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
        );
        let mut out = Vec::new();
        t.xoauth2_command(&mut out);
        // The example from Google's XOAUTH2 protocol documentation.
        assert_eq!(
            s(out),
            "AUTH XOAUTH2 dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==\r\n"
        );
    }
}
