//! The replies of the rate and connection limiters a destination-health layer reacts
//! to: each must read as push-back on us (rate_limited or too_many_connections,
//! destination scope, transient), never as a message-level policy refusal.

use tempfail::{Category, Classifier, Disposition, Reply, Scope, Stage};

/// (reply as sent, stage, expected category). Sources: Postfix smtpd's anvil limits
/// (smtpd_client_connection_count_limit, _connection_rate_limit, _message_rate_limit,
/// _recipient_rate_limit, _new_tls_session_rate_limit), Haraka's limit plugin
/// (concurrency, rate_conn, rate_rcpt_host), an Exim `ratelimit` ACL with the message
/// its documentation suggests, and providers' throttling replies.
const LIMITERS: &[(&str, Stage, Category)] = &[
    (
        "421 4.7.0 mx.example.com Error: too many connections from 127.0.0.1",
        Stage::Greeting,
        Category::TooManyConnections,
    ),
    (
        "450 4.7.1 Error: too much mail from 127.0.0.1",
        Stage::MailFrom,
        Category::RateLimited,
    ),
    (
        "450 4.7.1 <b@example.com>: Error: too much mail from 127.0.0.1",
        Stage::RcptTo,
        Category::RateLimited,
    ),
    (
        "450 4.7.1 Error: too many recipients from 127.0.0.1",
        Stage::RcptTo,
        Category::RateLimited,
    ),
    (
        "421 4.7.0 mx.example.com Error: too many new TLS sessions from 127.0.0.1",
        Stage::Starttls,
        Category::RateLimited,
    ),
    (
        "421 Too many concurrent connections",
        Stage::Greeting,
        Category::TooManyConnections,
    ),
    (
        "421 connection rate limit exceeded",
        Stage::Greeting,
        Category::RateLimited,
    ),
    (
        "450 recipient rate limit exceeded",
        Stage::RcptTo,
        Category::RateLimited,
    ),
    (
        "451 4.7.1 Sender rate overlimit - 110.0 / 1h",
        Stage::RcptTo,
        Category::RateLimited,
    ),
    (
        "451 4.7.1 You have exceeded your messaging limits",
        Stage::RcptTo,
        Category::RateLimited,
    ),
    (
        "421 4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your IP address.",
        Stage::DataEnd,
        Category::RateLimited,
    ),
    (
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints",
        Stage::MailFrom,
        Category::RateLimited,
    ),
    (
        "451 4.7.650 The mail server [192.0.2.2] has been temporarily rate limited due to IP reputation.",
        Stage::RcptTo,
        Category::RateLimited,
    ),
];

#[test]
fn limiter_replies_are_push_back_on_the_destination() {
    let c = Classifier::builtin();
    for (text, stage, want) in LIMITERS {
        let reply = Reply::parse(format!("{text}\r\n").as_bytes()).unwrap();
        let v = c.classify(&reply, *stage);
        assert_eq!(v.category, Some(*want), "{text}: {}", v.rule);
        assert_eq!(v.scope, Scope::Destination, "{text}: {}", v.rule);
        assert_eq!(v.disposition, Disposition::Transient, "{text}: {}", v.rule);
    }
}

/// Postfix's per-message recipient limit is not a rate limit: the rest of the
/// recipients go in another transaction, nothing to do with the destination's pace.
#[test]
fn a_per_message_recipient_limit_stays_a_message_matter() {
    let c = Classifier::builtin();
    let v = c.classify_text("452 4.5.3 Error: too many recipients", Stage::RcptTo);
    assert_eq!(v.category, Some(Category::TooManyRecipients), "{}", v.rule);
    assert_ne!(v.scope, Scope::Destination);
}
