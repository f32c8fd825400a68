//! The sender: recipients grouped by destination, MX routing, hosts tried in
//! order, outcomes per recipient, idle connections kept for the next message.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tempfail::RcptOutcome;
use tempfail::classify::{Classification, Classifier, Stage, TransportFailure};
use tempfail::delivery::Attempt;
use tempfail::route::{AfterFailure, Host, Route, RouteConfig, after_failure, plan};
use tempfail::session::{Envelope, Event, SessionConfig, UsageError};
use tokio_rustls::rustls::pki_types::ServerName;

use crate::conn::{Conn, connect, now};
use crate::resolve::{DnsResolver, Resolve};
use crate::tls::{TlsPolicy, TlsSettings};

/// Addresses tried per host at most (each counts as a try).
pub const MAX_ADDRESSES_PER_HOST: usize = 4;

/// How long a `QUIT` may take before the connection is simply dropped.
const QUIT_LIMIT: Duration = Duration::from_secs(10);

/// Where a message goes: the recipients' domains through their MX records, or
/// one relay for every recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Route by MX records: each recipient to its domain's hosts, on
    /// [`SenderConfig::port`].
    Mx,
    /// Every recipient to this one host (a name resolved to its addresses, or
    /// an IP address) and port, without MX lookup: a smarthost or a test server.
    /// The name is also what the certificate must be valid for.
    Relay {
        /// Host name or IP address.
        host: String,
        /// TCP port.
        port: u16,
    },
}

/// Reusing connections for the next message to the same destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reuse {
    /// Messages per connection at most (Postfix's `smtp_connection_reuse_count_limit`).
    pub max_messages: usize,
    /// An idle connection older than this is closed instead of reused
    /// (Postfix's `smtp_connection_cache_time_limit` is 2 s).
    pub max_idle: Duration,
}

impl Default for Reuse {
    fn default() -> Self {
        Reuse {
            max_messages: 100,
            max_idle: Duration::from_secs(2),
        }
    }
}

/// How a [`Sender`] connects and talks.
#[derive(Clone)]
#[non_exhaustive]
pub struct SenderConfig {
    /// The session's configuration (client name, timeouts, budget, classifier,
    /// pipelining). Its `tls` is replaced per host by [`tls`](Self::tls) (or the
    /// [`tls_policy`](Self::tls_policy)'s answer).
    pub session: SessionConfig,
    /// STARTTLS mode and trusted roots.
    pub tls: TlsSettings,
    /// Per-host TLS decisions (MTA-STS, DANE); `None`: [`tls`](Self::tls) everywhere.
    pub tls_policy: Option<Arc<dyn TlsPolicy>>,
    /// How MX answers become hosts (host cap, local names, MX to IP).
    pub route: RouteConfig,
    /// MX routing or a relay.
    pub destination: Destination,
    /// The SMTP port of MX hosts (25).
    pub port: u16,
    /// Per address: the TCP connection must be open within this (30 s, Postfix's
    /// `smtp_connect_timeout`).
    pub connect_timeout: Duration,
    /// The most one [`Sender::send`] may take for one destination, across all of
    /// its hosts (`None`: only the per-host limits). Each session's own budget
    /// is cut to what is left; a connection whose budget was cut that way is not
    /// kept for reuse (its budget belongs to this send).
    pub max_attempt_time: Option<Duration>,
    /// Keep idle connections for the next message (`None`: `QUIT` after each).
    pub reuse: Option<Reuse>,
    /// Seeds the order of MX hosts of equal preference; each send draws the next
    /// seed from it (the same seed gives the same orders).
    pub seed: u64,
}

impl std::fmt::Debug for SenderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderConfig")
            .field("session", &self.session)
            .field("tls", &self.tls.mode)
            .field("tls_policy", &self.tls_policy.is_some())
            .field("route", &self.route)
            .field("destination", &self.destination)
            .field("port", &self.port)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_attempt_time", &self.max_attempt_time)
            .field("reuse", &self.reuse)
            .finish_non_exhaustive()
    }
}

impl SenderConfig {
    /// MX routing on port 25, TLS as given, the session's defaults for
    /// `client_name`, no reuse, a 30 s connect timeout.
    pub fn new(client_name: impl Into<String>, tls: TlsSettings) -> Self {
        SenderConfig {
            session: SessionConfig::new(client_name),
            tls,
            tls_policy: None,
            route: RouteConfig::default(),
            destination: Destination::Mx,
            port: 25,
            connect_timeout: Duration::from_secs(30),
            max_attempt_time: None,
            reuse: None,
            seed: 0,
        }
    }
}

/// Misuse of [`Sender::send`]: nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The envelope is invalid (see `Envelope::validate`).
    #[error(transparent)]
    Envelope(#[from] UsageError),
    /// A recipient has no domain to route by (MX routing needs `local@domain`).
    #[error("expected a recipient address with a domain, got {0:?}")]
    NoDomain(String),
}

/// One host (one address of it) tried for a destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostTry {
    /// The host's name (the MX exchange, the domain itself for an implicit MX,
    /// or the relay).
    pub host: String,
    /// Its MX preference (0 for an implicit MX or a relay).
    pub preference: u16,
    /// The address connected to (`None` when it had no usable address).
    pub addr: Option<SocketAddr>,
    /// A connection kept from an earlier message was used.
    pub reused: bool,
    /// TLS was established on this connection.
    pub tls: bool,
    /// What went wrong in the TLS handshake (`certificate: …` or `handshake: …`).
    pub tls_error: Option<String>,
    /// The host-level failure, when the session did not end normally: where
    /// and what it means (for destination health). `None` when the host
    /// answered every recipient it was given and the session ended cleanly.
    pub failure: Option<(Stage, Classification)>,
    /// Recipients whose outcome this host decided (delivered or refused for
    /// good at this host); the rest moved on.
    pub decided: usize,
    /// Of those, recipients delivered.
    pub delivered: usize,
}

/// What happened for one destination (a domain, or the relay).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationReport {
    /// The domain (lower case) or the relay's `host:port`.
    pub destination: String,
    /// The envelope's recipients that went there (indices into the envelope).
    pub recipients: Vec<usize>,
    /// The routing plan (`None` for a relay, or when routing failed).
    pub route: Option<Route>,
    /// Why there was no host to try (`null_mx`, `dns_nx_domain`, `dns_temporary`,
    /// `mx_loop`, `mx_unusable`): no connection was made.
    pub routing_failure: Option<TransportFailure>,
    /// The hosts tried, in order.
    pub tries: Vec<HostTry>,
    /// The try whose answers are final (an index into `tries`): the host the
    /// attempt ended on.
    pub ended_on: Option<usize>,
}

impl DestinationReport {
    /// The host the attempt ended on.
    pub fn ended_on(&self) -> Option<&HostTry> {
        self.ended_on.and_then(|i| self.tries.get(i))
    }
}

/// The result of [`Sender::send`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// One per recipient of the envelope, in envelope order; `rcpt` is the index
    /// in the envelope.
    pub outcomes: Vec<RcptOutcome>,
    /// One per destination, in the order first named by the recipients.
    pub destinations: Vec<DestinationReport>,
}

impl Sent {
    /// The outcomes in a delivery's index space, for an envelope built by
    /// `attempt.envelope(&delivery)`: hand them to `Delivery::handle_outcomes`.
    pub fn for_attempt(&self, attempt: &Attempt) -> Vec<RcptOutcome> {
        self.outcomes
            .iter()
            .filter_map(|o| {
                let rcpt = *attempt.recipients().get(o.rcpt)?;
                Some(RcptOutcome { rcpt, ..o.clone() })
            })
            .collect()
    }

    /// Recipients delivered.
    pub fn delivered(&self) -> usize {
        self.outcomes.iter().filter(|o| o.is_success()).count()
    }
}

/// An SMTP sender on tokio: give it an envelope and a body, it resolves,
/// connects, upgrades with STARTTLS and returns every recipient's outcome.
///
/// One `send` at a time (it takes `&mut self`); run several senders for
/// parallel deliveries. Idle connections ([`SenderConfig::reuse`]) are kept per
/// destination; [`close`](Self::close) ends them politely.
pub struct Sender<R: Resolve = DnsResolver> {
    config: SenderConfig,
    resolver: R,
    idle: HashMap<String, Conn>,
    seed: u64,
}

impl<R: Resolve> std::fmt::Debug for Sender<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("config", &self.config)
            .field("idle", &self.idle.len())
            .finish_non_exhaustive()
    }
}

/// A recipient still looking for a host: its index in the group, and the outcome
/// it would end with if no other host takes it.
struct Open {
    idx: usize,
    last: Option<RcptOutcome>,
}

impl<R: Resolve> Sender<R> {
    /// A sender with `config`, resolving with `resolver`.
    pub fn new(config: SenderConfig, resolver: R) -> Self {
        let seed = config.seed;
        Sender {
            config,
            resolver,
            idle: HashMap::new(),
            seed,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SenderConfig {
        &self.config
    }

    /// Idle connections kept for reuse.
    pub fn idle_connections(&self) -> usize {
        self.idle.len()
    }

    /// Delivers `body` (the message, headers and all, with any line endings) to
    /// every recipient of `envelope`. Recipients are grouped by domain (or all go
    /// to the relay); each group is one attempt over its hosts, in routing order:
    /// a host that fails as a host (refused, timed out, `421`, TLS refused or
    /// failed) hands its open recipients to the next one
    /// ([`route::after_failure`](tempfail::route::after_failure)); an answer about
    /// a recipient or the message is final.
    ///
    /// Every recipient gets exactly one outcome. Errors are misuse only: an
    /// invalid envelope, or a recipient without a domain under MX routing.
    pub async fn send(&mut self, envelope: &Envelope, body: &[u8]) -> Result<Sent, SendError> {
        envelope.validate()?;
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, r) in envelope.recipients.iter().enumerate() {
            let key = match &self.config.destination {
                Destination::Mx => match r.address.rsplit_once('@') {
                    Some((_, d)) if !d.is_empty() => d.to_ascii_lowercase(),
                    _ => return Err(SendError::NoDomain(r.address.clone())),
                },
                Destination::Relay { host, port } => relay_key(host, *port),
            };
            match groups.iter_mut().find(|g| g.0 == key) {
                Some(g) => g.1.push(i),
                None => groups.push((key, vec![i])),
            }
        }
        let mut outcomes: Vec<Option<RcptOutcome>> = vec![None; envelope.recipients.len()];
        let mut destinations = Vec::with_capacity(groups.len());
        for (dest, idxs) in groups {
            let sub = Envelope::new(
                envelope.message.clone(),
                idxs.iter()
                    .filter_map(|&i| envelope.recipients.get(i).cloned()),
            );
            let (group_outcomes, report) = self.send_group(&dest, sub, body).await;
            for o in group_outcomes {
                if let Some(&i) = idxs.get(o.rcpt) {
                    if let Some(slot) = outcomes.get_mut(i) {
                        *slot = Some(RcptOutcome { rcpt: i, ..o });
                    }
                }
            }
            destinations.push(DestinationReport {
                recipients: idxs,
                ..report
            });
        }
        let classifier = self.classifier();
        let outcomes = outcomes
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                // Every group answers each of its recipients; this is a guard.
                o.unwrap_or_else(|| {
                    RcptOutcome::from_failure(
                        &classifier,
                        i,
                        TransportFailure::NoOutcome,
                        Stage::Unknown,
                    )
                })
            })
            .collect();
        Ok(Sent {
            outcomes,
            destinations,
        })
    }

    /// Sends `QUIT` on every idle connection and closes it.
    pub async fn close(&mut self) {
        for (_, conn) in self.idle.drain() {
            conn.quit(QUIT_LIMIT).await;
        }
    }

    fn classifier(&self) -> Arc<Classifier> {
        self.config.session.classifier.clone()
    }

    fn next_seed(&mut self) -> u64 {
        // splitmix64's increment: distinct, well-spread seeds per send.
        self.seed = self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.seed
    }

    fn tls_for(&self, dest: &str, host: &str) -> TlsSettings {
        self.config
            .tls_policy
            .as_ref()
            .and_then(|p| p.for_host(dest, host))
            .unwrap_or_else(|| self.config.tls.clone())
    }

    /// One destination: a kept connection first, then the hosts of its route.
    async fn send_group(
        &mut self,
        dest: &str,
        envelope: Envelope,
        body: &[u8],
    ) -> (Vec<RcptOutcome>, DestinationReport) {
        let classifier = self.classifier();
        let started = now();
        let deadline = self
            .config
            .max_attempt_time
            .and_then(|t| started.checked_add(t));
        let mut report = DestinationReport {
            destination: dest.to_string(),
            recipients: Vec::new(),
            route: None,
            routing_failure: None,
            tries: Vec::new(),
            ended_on: None,
        };
        let mut done: Vec<RcptOutcome> = Vec::new();
        let mut open: Vec<Open> = (0..envelope.recipients.len())
            .map(|idx| Open { idx, last: None })
            .collect();

        // A kept connection: if it fails as a host, the route starts afresh.
        if let Some(mut conn) = self.take_idle(dest).await {
            let mut t = HostTry {
                host: conn.host.clone(),
                preference: conn.preference,
                addr: Some(conn.addr),
                reused: true,
                tls: conn.session.is_tls(),
                tls_error: None,
                failure: None,
                decided: 0,
                delivered: 0,
            };
            self.run_on(&mut conn, &envelope, body, &mut open, &mut done, &mut t)
                .await;
            report.tries.push(t);
            if open.is_empty() {
                report.ended_on = Some(0);
            }
            self.keep_or_quit(dest, conn).await;
        }
        if open.is_empty() {
            return (done, report);
        }

        let hosts = match self.hosts(dest).await {
            Ok((hosts, route)) => {
                report.route = route;
                hosts
            }
            Err(f) => {
                report.routing_failure = Some(f);
                for o in open.drain(..) {
                    done.push(RcptOutcome::from_failure(
                        &classifier,
                        o.idx,
                        f,
                        Stage::Connect,
                    ));
                }
                return (done, report);
            }
        };

        'hosts: for host in hosts {
            if open.is_empty() {
                break;
            }
            let tls = self.tls_for(dest, &host.name);
            let allowed = self
                .config
                .tls_policy
                .as_ref()
                .is_none_or(|p| p.allows(dest, &host.name));
            let mut t = HostTry {
                host: host.name.clone(),
                preference: host.preference,
                addr: None,
                reused: false,
                tls: false,
                tls_error: None,
                failure: None,
                decided: 0,
                delivered: 0,
            };
            if !allowed {
                let c = classifier
                    .classify_failure(TransportFailure::StartTlsNotOffered, Stage::Connect);
                fail_open(
                    &mut open,
                    &classifier,
                    TransportFailure::StartTlsNotOffered,
                    Stage::Connect,
                );
                t.failure = Some((Stage::Connect, c));
                report.tries.push(t);
                continue;
            }
            let addrs = match host.address {
                Some(ip) => Ok(vec![ip]),
                None => self.resolver.addresses(&host.name).await,
            };
            let addrs = match addrs {
                Ok(a) => a,
                Err(f) => {
                    let c = classifier.classify_failure(f, Stage::Connect);
                    // What the recipients get if no other host takes them: a
                    // domain without MX and without address does not take mail
                    // (permanent); MX hosts or a relay that do not resolve are
                    // DNS that may be fixed (transient).
                    let implicit = report.route.as_ref().is_some_and(|r| r.implicit);
                    let theirs = match (f, &self.config.destination) {
                        (TransportFailure::DnsNoAddress, Destination::Relay { .. }) => {
                            TransportFailure::DnsTemporary
                        }
                        (TransportFailure::DnsNoAddress, Destination::Mx) if !implicit => {
                            TransportFailure::MxUnusable
                        }
                        _ => f,
                    };
                    fail_open(&mut open, &classifier, theirs, Stage::Connect);
                    t.failure = Some((Stage::Connect, c));
                    report.tries.push(t);
                    continue;
                }
            };
            let port = self.port_for();
            for ip in addrs.into_iter().take(MAX_ADDRESSES_PER_HOST) {
                if open.is_empty() {
                    break 'hosts;
                }
                let left = deadline.map(|d| d.saturating_duration_since(now()));
                if left == Some(Duration::ZERO) {
                    let f = TransportFailure::SessionBudget;
                    let c = classifier.classify_failure(f, Stage::Connect);
                    fail_open(&mut open, &classifier, f, Stage::Connect);
                    t.failure = Some((Stage::Connect, c));
                    report.tries.push(t);
                    break 'hosts;
                }
                let addr = SocketAddr::new(ip, port);
                let mut t = HostTry {
                    addr: Some(addr),
                    ..t.clone()
                };
                let timeout = left.map_or(self.config.connect_timeout, |l| {
                    l.min(self.config.connect_timeout)
                });
                let stream = match connect(addr, timeout).await {
                    Ok(s) => s,
                    Err(f) => {
                        let c = classifier.classify_failure(f, Stage::Connect);
                        fail_open(&mut open, &classifier, f, Stage::Connect);
                        t.failure = Some((Stage::Connect, c));
                        report.tries.push(t);
                        continue;
                    }
                };
                let mut cfg = self.config.session.clone();
                cfg.tls = tls.mode;
                let mut cut = false;
                if let Some(l) = left {
                    cut = cfg.max_session_time.is_none_or(|b| l < b);
                    cfg.max_session_time = Some(cfg.max_session_time.map_or(l, |b| b.min(l)));
                }
                let mut conn = Conn::new(
                    stream,
                    addr,
                    cfg,
                    server_name(&host, ip),
                    tls.client.clone(),
                );
                conn.host = host.name.clone();
                conn.preference = host.preference;
                conn.keepable = !cut;
                self.run_on(&mut conn, &envelope, body, &mut open, &mut done, &mut t)
                    .await;
                let decided = t.decided > 0;
                report.tries.push(t);
                if decided {
                    report.ended_on = Some(report.tries.len() - 1);
                }
                self.keep_or_quit(dest, conn).await;
            }
        }
        // Recipients no host took: the last host's answer is theirs.
        for o in open.drain(..) {
            let out = o.last.unwrap_or_else(|| {
                RcptOutcome::from_failure(
                    &classifier,
                    o.idx,
                    TransportFailure::NoOutcome,
                    Stage::Unknown,
                )
            });
            done.push(out);
        }
        if report.ended_on.is_none() && !report.tries.is_empty() {
            report.ended_on = Some(report.tries.len() - 1);
        }
        done.sort_by_key(|o| o.rcpt);
        (done, report)
    }

    fn port_for(&self) -> u16 {
        match &self.config.destination {
            Destination::Mx => self.config.port,
            Destination::Relay { port, .. } => *port,
        }
    }

    /// The hosts to try for `dest`, and the route they came from.
    async fn hosts(&mut self, dest: &str) -> Result<(Vec<Host>, Option<Route>), TransportFailure> {
        match self.config.destination.clone() {
            Destination::Relay { host, .. } => {
                let address = host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .ok();
                Ok((
                    vec![Host {
                        name: host.to_ascii_lowercase(),
                        preference: 0,
                        address,
                    }],
                    None,
                ))
            }
            Destination::Mx => {
                let answer = self.resolver.mx(dest).await;
                let seed = self.next_seed();
                let route = plan(dest, &answer, &self.config.route, seed)?;
                Ok((route.hosts.clone(), Some(route)))
            }
        }
    }

    /// Runs the envelope's open recipients over `conn` and sorts the outcomes:
    /// final ones into `done`, the ones that move on back into `open`.
    async fn run_on(
        &self,
        conn: &mut Conn,
        envelope: &Envelope,
        body: &[u8],
        open: &mut Vec<Open>,
        done: &mut Vec<RcptOutcome>,
        t: &mut HostTry,
    ) {
        let sub = Envelope::new(
            envelope.message.clone(),
            open.iter()
                .filter_map(|o| envelope.recipients.get(o.idx).cloned()),
        );
        let events = match conn.transact(sub, body).await {
            Ok(e) => e,
            // The group's envelope was validated: a refusal here means the
            // session ended before the submit (a kept connection that closed).
            Err(_) => {
                let classifier = self.classifier();
                let f = TransportFailure::UnexpectedClose;
                t.failure = Some((
                    Stage::MailFrom,
                    classifier.classify_failure(f, Stage::MailFrom),
                ));
                fail_open(open, &classifier, f, Stage::MailFrom);
                return;
            }
        };
        t.tls = conn.session.is_tls();
        t.tls_error = conn.tls_error.clone();
        let mut moved: Vec<Open> = Vec::new();
        let mut decided = vec![false; open.len()];
        for e in events {
            match e {
                Event::Recipient { outcome, .. } => {
                    let Some(slot) = open.get(outcome.rcpt) else {
                        continue;
                    };
                    let idx = slot.idx;
                    let Some(d) = decided.get_mut(outcome.rcpt) else {
                        continue;
                    };
                    if *d {
                        continue;
                    }
                    *d = true;
                    let o = RcptOutcome {
                        rcpt: idx,
                        ..outcome
                    };
                    match after_failure(o.stage, &o.classification) {
                        AfterFailure::EndAttempt => {
                            t.decided += 1;
                            t.delivered += usize::from(o.is_success());
                            done.push(o);
                        }
                        AfterFailure::NextHost => moved.push(Open { idx, last: Some(o) }),
                    }
                }
                Event::Lost {
                    stage,
                    classification,
                    ..
                } => t.failure = Some((stage, classification)),
                _ => {}
            }
        }
        // A recipient the session did not answer (it always does) stays open.
        for (i, o) in open.drain(..).enumerate() {
            if !decided.get(i).copied().unwrap_or(false) {
                moved.push(o);
            }
        }
        moved.sort_by_key(|o| o.idx);
        *open = moved;
    }

    async fn take_idle(&mut self, dest: &str) -> Option<Conn> {
        let reuse = self.config.reuse?;
        let conn = self.idle.remove(dest)?;
        let fresh = now().saturating_duration_since(conn.idle_since) <= reuse.max_idle;
        if fresh && conn.is_reusable() && conn.messages < reuse.max_messages {
            Some(conn)
        } else {
            conn.quit(QUIT_LIMIT).await;
            None
        }
    }

    async fn keep_or_quit(&mut self, dest: &str, conn: Conn) {
        let keep = self
            .config
            .reuse
            .is_some_and(|r| conn.keepable && conn.messages < r.max_messages && conn.is_reusable());
        if keep {
            if let Some(old) = self.idle.insert(dest.to_string(), conn) {
                old.quit(QUIT_LIMIT).await;
            }
        } else {
            conn.quit(QUIT_LIMIT).await;
        }
    }
}

/// Every open recipient's fallback outcome becomes this failure.
fn fail_open(open: &mut [Open], classifier: &Classifier, f: TransportFailure, stage: Stage) {
    for o in open {
        o.last = Some(RcptOutcome::from_failure(classifier, o.idx, f, stage));
    }
}

fn relay_key(host: &str, port: u16) -> String {
    format!("{}:{port}", host.to_ascii_lowercase())
}

/// The name the certificate must carry: the host's name, or its address when
/// the host is an address.
fn server_name(host: &Host, ip: IpAddr) -> ServerName<'static> {
    if host.address.is_some() {
        return ServerName::IpAddress(ip.into());
    }
    match ServerName::try_from(host.name.clone()) {
        Ok(n) => n,
        Err(_) => ServerName::IpAddress(ip.into()),
    }
}
