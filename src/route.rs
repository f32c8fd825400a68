//! MX routing, sans-io: from a domain's DNS answer to the ordered hosts to try,
//! and what a failure at one host means for the rest (RFC 5321 §5.1, RFC 7505).
//!
//! The caller resolves (with any resolver) and hands the answer in as an
//! [`MxAnswer`]; [`plan`] returns a [`Route`]: the hosts in the order to try,
//! with the records it skipped and why, or a [`TransportFailure`] for the
//! classifier when the domain cannot receive mail at all. After each host,
//! [`after_failure`] says whether the attempt moves on to the next host or ends
//! there.
//!
//! What [`plan`] does, rule by rule:
//!
//! - **Order**: lowest preference first; among equal preferences a random order
//!   drawn from `seed` (RFC 5321 §5.1: "randomize … to spread the load"), so the
//!   same seed gives the same order and tests are exact.
//! - **Implicit MX**: only when the domain has no MX record at all (`NoRecords`:
//!   the name exists, the MX query answered nothing) the domain itself is the one
//!   host, at preference 0. `NxDomain` is the permanent `dns_nx_domain`;
//!   a temporary resolver failure is `dns_temporary`.
//! - **Null MX** (RFC 7505): a single record `0 .` is the permanent
//!   `null_mx` (`no_mail_service`), decided without any connection. A `.`
//!   published beside real MX records breaks RFC 7505 §3; it is skipped and the
//!   real records are used (the domain's other records show it does take mail).
//! - **Address literals**: an MX whose exchange is an IP address (`10 192.0.2.1`)
//!   is not a host name (RFC 5321 §5.1 and RFC 1035 require a domain name); it is
//!   skipped unless [`RouteConfig::allow_mx_to_ip`] is set, in which case it is
//!   used as that address.
//! - **Aliases**: an exchange that is a CNAME should not be published (RFC 2181
//!   §10.3), but it resolves to addresses like any name; the resolver follows
//!   it, so [`plan`] has nothing to do. The domain's own CNAME is the resolver's
//!   job too (RFC 5321 §5.1: restart the lookup at the canonical name).
//! - **Self-references and loops**: when one of the MX hosts is this sender
//!   ([`RouteConfig::local_names`]), every record with a preference equal to or
//!   greater than its own is dropped (RFC 5321 §5.1), so mail only moves to
//!   more preferred hosts; if nothing is left, the answer is `mx_loop`. The same
//!   exchange listed twice is tried once (at its best preference).
//! - **Caps**: at most [`MAX_RECORDS`] records are considered (the most
//!   preferred; this sender's own preference is still read from all of them),
//!   and at most [`RouteConfig::max_hosts`] hosts are tried per attempt
//!   (Postfix's `smtp_mx_address_limit` is 5); the rest are reported as skipped.
//! - **Nothing usable**: MX records exist but every one was skipped (address
//!   literals, empty names): `mx_unusable`, transient, because RFC 5321 §5.1
//!   says to report an error, and DNS may be fixed.
//!
//! ```
//! use tempfail::route::{plan, MxAnswer, MxRecord, RouteConfig};
//! use tempfail::TransportFailure;
//!
//! let answer = MxAnswer::Records(vec![
//!     MxRecord::new(20, "mx2.example.com"),
//!     MxRecord::new(10, "mx1.example.com"),
//!     MxRecord::new(20, "mx3.example.com"),
//! ]);
//! let route = plan("example.com", &answer, &RouteConfig::default(), 7).unwrap();
//! assert_eq!(route.hosts[0].name, "mx1.example.com");
//! assert_eq!(route.hosts.len(), 3);
//!
//! let null = MxAnswer::Records(vec![MxRecord::new(0, ".")]);
//! assert_eq!(plan("example.net", &null, &RouteConfig::default(), 7).unwrap_err(), TransportFailure::NullMx);
//! let none = plan("example.org", &MxAnswer::NoRecords, &RouteConfig::default(), 7).unwrap();
//! assert!(none.implicit && none.hosts[0].name == "example.org");
//! ```

use std::net::IpAddr;

use crate::classify::{Category, Classification, Disposition, Scope, Stage, TransportFailure};

/// Hosts tried per attempt unless configured otherwise (Postfix's
/// `smtp_mx_address_limit`).
pub const DEFAULT_MAX_HOSTS: usize = 5;
/// Records considered at most; an answer with more is cut (bounded memory).
pub const MAX_RECORDS: usize = 64;
/// Longest DNS name accepted (RFC 1035: 255 octets on the wire).
pub const MAX_NAME_LEN: usize = 253;

/// One MX record: preference and exchange (a host name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxRecord {
    /// Lower is preferred.
    pub preference: u16,
    /// The exchange's name as published (a trailing dot is allowed).
    pub exchange: String,
}

impl MxRecord {
    /// A record.
    pub fn new(preference: u16, exchange: impl Into<String>) -> Self {
        MxRecord {
            preference,
            exchange: exchange.into(),
        }
    }
}

/// What the resolver answered for the domain's MX query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxAnswer {
    /// The MX records found (CNAMEs of the domain already followed).
    Records(Vec<MxRecord>),
    /// The name exists but has no MX record (NOERROR, no data): use the
    /// domain's own address records (the implicit MX).
    NoRecords,
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// The resolver failed temporarily (SERVFAIL, timeout, refused).
    TempFail,
}

/// How [`plan`] orders and limits hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct RouteConfig {
    /// Hosts tried per attempt at most (at least 1).
    pub max_hosts: usize,
    /// This sender's own host names: an MX naming one of them is a loop
    /// (compared without case and trailing dot).
    pub local_names: Vec<String>,
    /// Use an MX whose exchange is an IP address as that address (off: such
    /// records are skipped, as RFC 5321 §5.1 asks for names).
    pub allow_mx_to_ip: bool,
}

impl Default for RouteConfig {
    fn default() -> Self {
        RouteConfig {
            max_hosts: DEFAULT_MAX_HOSTS,
            local_names: Vec::new(),
            allow_mx_to_ip: false,
        }
    }
}

/// One host to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The name to resolve to addresses (lower case, no trailing dot), or the
    /// address literal's text.
    pub name: String,
    /// Its MX preference (0 for the implicit MX).
    pub preference: u16,
    /// Set when the exchange is an address (only with `allow_mx_to_ip`): connect
    /// to it without resolving.
    pub address: Option<IpAddr>,
}

/// Why a record was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// A `.` exchange beside real records (RFC 7505 §3 forbids the mix).
    NullBesideOthers,
    /// The exchange is an IP address and `allow_mx_to_ip` is off.
    AddressLiteral,
    /// The exchange is empty, too long or not a host name.
    BadName,
    /// The same exchange at a worse or equal preference.
    Duplicate,
    /// Equal to or less preferred than this sender's own MX record (RFC 5321 §5.1).
    NotBetterThanSelf,
    /// Beyond [`RouteConfig::max_hosts`].
    OverHostLimit,
    /// Beyond [`MAX_RECORDS`] in the answer.
    OverRecordLimit,
}

impl SkipReason {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::NullBesideOthers => "null_beside_others",
            SkipReason::AddressLiteral => "address_literal",
            SkipReason::BadName => "bad_name",
            SkipReason::Duplicate => "duplicate",
            SkipReason::NotBetterThanSelf => "not_better_than_self",
            SkipReason::OverHostLimit => "over_host_limit",
            SkipReason::OverRecordLimit => "over_record_limit",
        }
    }
}

/// The hosts to try, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// In the order to try; never empty.
    pub hosts: Vec<Host>,
    /// The domain had no MX record: `hosts` is the domain itself.
    pub implicit: bool,
    /// Records not used, and why.
    pub skipped: Vec<(MxRecord, SkipReason)>,
}

/// Normalises a DNS name: lower case, no trailing dot; `None` if it cannot be a
/// host name (empty, over 253 bytes, an empty label, a label over 63 bytes,
/// characters other than letters, digits, `-`, `_`).
fn host_name(name: &str) -> Option<String> {
    let n = name.strip_suffix('.').unwrap_or(name);
    if n.is_empty() || n.len() > MAX_NAME_LEN {
        return None;
    }
    let ok = n.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    ok.then(|| n.to_ascii_lowercase())
}

/// Plans the hosts for `domain` from its MX answer. `seed` orders equal
/// preferences. An `Err` is the transport failure to classify: `null_mx`,
/// `dns_nx_domain`, `dns_temporary`, `mx_loop`, `mx_unusable`, or
/// `dns_no_address` when the domain itself is not a usable host name for the
/// implicit MX.
pub fn plan(
    domain: &str,
    answer: &MxAnswer,
    cfg: &RouteConfig,
    seed: u64,
) -> Result<Route, TransportFailure> {
    let records = match answer {
        MxAnswer::NxDomain => return Err(TransportFailure::DnsNxDomain),
        MxAnswer::TempFail => return Err(TransportFailure::DnsTemporary),
        MxAnswer::NoRecords => {
            let name = host_name(domain).ok_or(TransportFailure::DnsNoAddress)?;
            if is_local(cfg, &name) {
                return Err(TransportFailure::MxLoop);
            }
            return Ok(Route {
                hosts: vec![Host {
                    name,
                    preference: 0,
                    address: None,
                }],
                implicit: true,
                skipped: Vec::new(),
            });
        }
        MxAnswer::Records(r) => r,
    };
    // This sender's own preference, over every record (a self-reference past the
    // record cap still bounds where mail may go).
    let own = records
        .iter()
        .filter(|r| host_name(&r.exchange).is_some_and(|n| is_local(cfg, &n)))
        .map(|r| r.preference)
        .min();
    // Keep the most preferred records when the answer is over the cap.
    let mut sorted: Vec<&MxRecord> = records.iter().collect();
    sorted.sort_by_key(|r| r.preference);
    let mut skipped = Vec::new();
    for r in sorted.iter().skip(MAX_RECORDS) {
        skipped.push(((*r).clone(), SkipReason::OverRecordLimit));
    }
    sorted.truncate(MAX_RECORDS);
    let records = sorted;
    let is_null = |r: &&MxRecord| r.exchange == "." || r.exchange.is_empty();
    if records.is_empty() {
        // An empty record set is the same as no records.
        return plan(domain, &MxAnswer::NoRecords, cfg, seed);
    }
    if records.iter().all(is_null) {
        return Err(TransportFailure::NullMx);
    }
    // Candidates: (preference, name, address), best preference per name.
    let mut cands: Vec<(u16, String, Option<IpAddr>)> = Vec::new();
    for r in records {
        if is_null(&r) {
            skipped.push((r.clone(), SkipReason::NullBesideOthers));
            continue;
        }
        let literal = r
            .exchange
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok();
        let (name, address) = match literal {
            Some(ip) if cfg.allow_mx_to_ip => (ip.to_string(), Some(ip)),
            Some(_) => {
                skipped.push((r.clone(), SkipReason::AddressLiteral));
                continue;
            }
            None => match host_name(&r.exchange) {
                // A name made only of digits and dots that did not parse as an
                // address is still not a host name one can trust.
                Some(n) if !n.bytes().all(|b| b.is_ascii_digit() || b == b'.') => (n, None),
                _ => {
                    skipped.push((r.clone(), SkipReason::BadName));
                    continue;
                }
            },
        };
        match cands.iter_mut().find(|c| c.1 == name) {
            Some(c) => {
                if r.preference < c.0 {
                    c.0 = r.preference;
                }
                skipped.push((r.clone(), SkipReason::Duplicate));
            }
            None => cands.push((r.preference, name, address)),
        }
    }
    if cands.is_empty() {
        return Err(TransportFailure::MxUnusable);
    }
    // Self-reference: keep only hosts strictly more preferred than our own.
    if let Some(own) = own {
        cands.retain(|c| {
            let keep = c.0 < own;
            if !keep {
                skipped.push((
                    MxRecord::new(c.0, c.1.clone()),
                    SkipReason::NotBetterThanSelf,
                ));
            }
            keep
        });
        if cands.is_empty() {
            return Err(TransportFailure::MxLoop);
        }
    }
    // Lowest preference first; a seeded shuffle within each preference.
    cands.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut state = seed;
    let mut i = 0;
    while i < cands.len() {
        let mut j = i + 1;
        while j < cands.len() && cands[j].0 == cands[i].0 {
            j += 1;
        }
        // Fisher-Yates on cands[i..j].
        for k in (i + 1..j).rev() {
            state = crate::backoff::splitmix64(state);
            let pick = i + (state % (k - i + 1) as u64) as usize;
            cands.swap(k, pick);
        }
        i = j;
    }
    let max = cfg.max_hosts.max(1);
    for c in cands.iter().skip(max) {
        skipped.push((MxRecord::new(c.0, c.1.clone()), SkipReason::OverHostLimit));
    }
    cands.truncate(max);
    Ok(Route {
        hosts: cands
            .into_iter()
            .map(|(preference, name, address)| Host {
                name,
                preference,
                address,
            })
            .collect(),
        implicit: false,
        skipped,
    })
}

fn is_local(cfg: &RouteConfig, name: &str) -> bool {
    cfg.local_names
        .iter()
        .any(|l| host_name(l).is_some_and(|l| l == name))
}

/// After a failure at one host: go on to the next host, or end the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// The host, not the message, failed: try the next host in this attempt.
    NextHost,
    /// The failure is the answer for this attempt (the message or recipient
    /// got a reply, or the message may already have been taken).
    EndAttempt,
}

/// Whether a failure at one host moves the attempt on to the next host.
///
/// - Before a transaction (connect, greeting, EHLO/HELO, STARTTLS and the TLS
///   handshake, AUTH): every non-success moves on. The host refused or failed
///   the session, not the message: a refused or timed-out connection, a `421`
///   or `554` greeting, a failed handshake under opportunistic TLS, no STARTTLS
///   where TLS is required (`tls_required`).
/// - During the transaction (`MAIL`, `RCPT`, `DATA`): only failures of the
///   connection or the host (scope `connection` or `destination` with category
///   `network`, `service_unavailable`, `too_many_connections`, `tls_*`, `protocol`):
///   a `421` closing the session, a lost connection. Replies about this message,
///   sender or recipient end the attempt: another MX of the same domain gives the
///   same answer.
/// - After the final dot (`data_end`, `bdat`): never. The message may have been
///   taken; sending it to another host risks a duplicate (RFC 1047).
/// - A success ends the attempt, of course.
pub fn after_failure(stage: Stage, c: &Classification) -> AfterFailure {
    if c.disposition == Disposition::Success {
        return AfterFailure::EndAttempt;
    }
    match stage {
        Stage::Connect
        | Stage::Greeting
        | Stage::Ehlo
        | Stage::Helo
        | Stage::Starttls
        | Stage::Auth => AfterFailure::NextHost,
        Stage::DataEnd | Stage::Bdat | Stage::Quit => AfterFailure::EndAttempt,
        Stage::MailFrom | Stage::RcptTo | Stage::Data | Stage::Rset | Stage::Unknown => {
            let host_level = matches!(c.scope, Scope::Connection | Scope::Destination)
                && matches!(
                    c.category,
                    Some(
                        Category::Network
                            | Category::ServiceUnavailable
                            | Category::TooManyConnections
                            | Category::TlsFailed
                            | Category::TlsRequired
                            | Category::Protocol
                    )
                );
            if host_level && c.disposition == Disposition::Transient {
                AfterFailure::NextHost
            } else {
                AfterFailure::EndAttempt
            }
        }
    }
}
