//! The session's transitions as data: for each reply the session waits for, which
//! replies are possible and what each class of reply leads to.
//!
//! | awaiting | 2yz | 3yz | 4yz | 5yz | impossible statuses |
//! |---|---|---|---|---|---|
//! | greeting | send `EHLO` | unexpected | refused | refused | — |
//! | `EHLO` | capabilities | unexpected | refused | fall back to `HELO` (SMTP; refused in LMTP) | — |
//! | `HELO` | capabilities | unexpected | refused | refused | — |
//! | `STARTTLS` | hand over to TLS | unexpected | TLS declined | TLS declined | — |
//! | `AUTH` | the AUTH exchange | the AUTH exchange | the AUTH exchange | the AUTH exchange | — |
//! | `MAIL` | transaction | unexpected | transaction | transaction | a destination address status (`X.1.1`–`X.1.6`) |
//! | `RCPT` | transaction | unexpected | transaction | transaction | — |
//! | `DATA` | unexpected | transaction | transaction | transaction | an address status (`X.1.x`) |
//! | final dot (SMTP) | transaction | unexpected | transaction | transaction | an address status (`X.1.x`) |
//! | final dot (LMTP, per recipient) | transaction | unexpected | transaction | transaction | — |
//! | `RSET` | release held refusals | unexpected | refused | refused | a destination address status (`X.1.1`–`X.1.6`; `X.1.0` is seen: Postfix's `smtp-sink` answers `250 2.1.0`) |
//! | `QUIT` | closed | closed | closed | closed | — |
//!
//! Before the table: a `421` to any command but `QUIT` ends the session (RFC 5321
//! §3.8, §4.2.2), and a reply when none is awaited is unexpected. "Unexpected" in a
//! mail transaction means the replies are shifted (a desynchronised pipeline,
//! `session.pipeline_desync`); during the handshake it is a protocol violation. "TLS
//! declined" ends the session when TLS is required and goes on in the clear otherwise
//! (RFC 3207 §4). A mail transaction's replies settle recipients
//! (`transactions.rs`).

use super::Expect;
use crate::reply::Reply;

/// What a reply leads to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Step {
    /// The greeting was accepted: send `EHLO`.
    SendEhlo,
    /// The hello was accepted: read the capabilities and go on.
    Capabilities,
    /// `EHLO` refused permanently: try `HELO` (RFC 5321 §4.1.4); in LMTP, refused.
    FallbackToHelo,
    /// `STARTTLS` accepted: the caller runs the TLS handshake.
    AwaitTls,
    /// `STARTTLS` refused: the end when TLS is required, else on in the clear.
    TlsDeclined,
    /// A step of the AUTH exchange.
    Auth,
    /// A reply in a mail transaction.
    Transaction,
    /// `RSET`'s success: the replies before it were aligned.
    Release,
    /// The server refused: the session ends politely (`QUIT`).
    Refuse,
    /// A reply the command cannot get.
    Unexpected,
    /// The reply to `QUIT`.
    Closed,
}

/// Statuses a command's reply cannot carry (RFC 3463 §3.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impossible {
    Nothing,
    /// `X.1.x`: an address status.
    AddressStatus,
    /// `X.1.1`–`X.1.6`: a destination address status (only `RCPT`'s reply).
    DestinationStatus,
}

/// One row: the steps for 2yz, 3yz, 4yz, 5yz, and the impossible statuses.
#[derive(Clone, Copy, Debug)]
struct Row([Step; 4], Impossible);

use Impossible as I;
use Step as S;

const GREETING: Row = Row(
    [S::SendEhlo, S::Unexpected, S::Refuse, S::Refuse],
    I::Nothing,
);
const EHLO: Row = Row(
    [S::Capabilities, S::Unexpected, S::Refuse, S::FallbackToHelo],
    I::Nothing,
);
const HELO: Row = Row(
    [S::Capabilities, S::Unexpected, S::Refuse, S::Refuse],
    I::Nothing,
);
const STARTTLS: Row = Row(
    [S::AwaitTls, S::Unexpected, S::TlsDeclined, S::TlsDeclined],
    I::Nothing,
);
const AUTH: Row = Row([S::Auth; 4], I::Nothing);
const MAIL: Row = Row(
    [
        S::Transaction,
        S::Unexpected,
        S::Transaction,
        S::Transaction,
    ],
    I::DestinationStatus,
);
const RCPT: Row = Row(
    [
        S::Transaction,
        S::Unexpected,
        S::Transaction,
        S::Transaction,
    ],
    I::Nothing,
);
const DATA: Row = Row(
    [
        S::Unexpected,
        S::Transaction,
        S::Transaction,
        S::Transaction,
    ],
    I::AddressStatus,
);
const DATA_END: Row = Row(
    [
        S::Transaction,
        S::Unexpected,
        S::Transaction,
        S::Transaction,
    ],
    I::AddressStatus,
);
const LMTP_DATA_END: Row = Row(
    [
        S::Transaction,
        S::Unexpected,
        S::Transaction,
        S::Transaction,
    ],
    I::Nothing,
);
const RSET: Row = Row(
    [S::Release, S::Unexpected, S::Refuse, S::Refuse],
    I::DestinationStatus,
);
const QUIT: Row = Row([S::Closed; 4], I::Nothing);

fn row(exp: Expect) -> Row {
    match exp {
        Expect::Greeting => GREETING,
        Expect::Hello { ehlo: true } => EHLO,
        Expect::Hello { ehlo: false } => HELO,
        Expect::StartTls => STARTTLS,
        Expect::Auth(_) => AUTH,
        Expect::Mail(_) => MAIL,
        Expect::Rcpt(..) => RCPT,
        Expect::Data(_) => DATA,
        Expect::DataEnd(_, None) => DATA_END,
        Expect::DataEnd(_, Some(_)) => LMTP_DATA_END,
        Expect::Rset => RSET,
        Expect::Quit => QUIT,
    }
}

/// What `reply` leads to when the session awaited `exp`.
pub(super) fn step(exp: Expect, reply: &Reply) -> Step {
    let Row(steps, impossible) = row(exp);
    let (subject, detail) = reply
        .enhanced()
        .map_or((0, 0), |e| (e.subject(), e.detail()));
    let ruled_out = match impossible {
        I::Nothing => false,
        I::AddressStatus => subject == 1,
        I::DestinationStatus => subject == 1 && (1..=6).contains(&detail),
    };
    if ruled_out {
        return S::Unexpected;
    }
    let class = usize::from(reply.code().as_u16() / 100);
    steps
        .get(class.wrapping_sub(2))
        .copied()
        .unwrap_or(S::Unexpected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::ReplyCode;

    fn reply(code: u16, text: &str) -> Reply {
        Reply::new(ReplyCode::new(code).unwrap(), [text])
    }

    #[test]
    fn impossible_statuses_are_unexpected() {
        assert_eq!(
            step(Expect::Mail(1), &reply(550, "5.1.1 no such user")),
            S::Unexpected
        );
        assert_eq!(
            step(Expect::Mail(1), &reply(550, "5.1.8 bad sender domain")),
            S::Transaction
        );
        assert_eq!(
            step(Expect::Rcpt(1, 0), &reply(550, "5.1.1 no such user")),
            S::Transaction
        );
        assert_eq!(
            step(Expect::Data(1), &reply(250, "2.0.0 ok")),
            S::Unexpected
        );
        assert_eq!(
            step(Expect::Data(1), &reply(354, "go ahead")),
            S::Transaction
        );
        assert_eq!(step(Expect::Rset, &reply(250, "2.1.0 Ok")), S::Release);
        assert_eq!(step(Expect::Rset, &reply(250, "2.1.5 Ok")), S::Unexpected);
        assert_eq!(
            step(Expect::DataEnd(1, None), &reply(550, "5.1.1 x")),
            S::Unexpected
        );
        assert_eq!(
            step(Expect::DataEnd(1, Some(0)), &reply(550, "5.1.1 x")),
            S::Transaction
        );
        assert_eq!(
            step(Expect::Hello { ehlo: true }, &reply(502, "no")),
            S::FallbackToHelo
        );
        assert_eq!(
            step(Expect::Hello { ehlo: false }, &reply(502, "no")),
            S::Refuse
        );
        assert_eq!(step(Expect::Quit, &reply(554, "x")), S::Closed);
    }
}
