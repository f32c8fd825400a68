//! A real SMTP sender in a box: tempfail's sans-io [`Session`](tempfail::Session)
//! driven over tokio sockets, with MX routing, STARTTLS (rustls) and connection
//! reuse.
//!
//! Give a [`Sender`] an envelope and a body. For each recipient domain it
//! resolves the MX records (`hickory-resolver`; the name server is yours to
//! choose), plans the hosts with [`tempfail::route::plan`] (preference order,
//! seeded shuffle among equals, implicit MX, null MX, loops, a host cap),
//! connects in order with a per-address timeout, upgrades with `STARTTLS` when
//! offered or required, verifies the certificate for the MX host name, and
//! drives the session within its read, write and overall deadlines. A host that
//! fails as a host (refused, timed out, `421`, TLS refused or failed) hands the
//! recipients it did not decide to the next host
//! ([`tempfail::route::after_failure`]); an answer about a recipient or the
//! message is final. Every recipient ends with one [`RcptOutcome`](tempfail::RcptOutcome),
//! and each [`DestinationReport`] says which hosts were tried, how each failed
//! (for destination health) and which one the attempt ended on.
//!
//! ```no_run
//! use std::time::Duration;
//! use tempfail::session::{Envelope, TlsMode};
//! use tempfail_tokio::{DnsResolver, Sender, SenderConfig, TlsSettings};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let tls = TlsSettings::platform(TlsMode::Opportunistic)?;
//! let mut config = SenderConfig::new("mta.example.org", tls);
//! config.connect_timeout = Duration::from_secs(10);
//! let mut sender = Sender::new(config, DnsResolver::system()?);
//!
//! let envelope = Envelope::new("alice@example.org", ["bob@example.com", "carol@example.net"]);
//! let sent = sender.send(&envelope, b"Subject: hi\r\n\r\nHello.\r\n").await?;
//! for o in &sent.outcomes {
//!     println!("{}: {}", envelope.recipients[o.rcpt].address, o.classification);
//! }
//! for d in &sent.destinations {
//!     if let Some(host) = d.ended_on() {
//!         println!("{} ended on {} (tls: {})", d.destination, host.host, host.tls);
//!     }
//! }
//! sender.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! # With the delivery machine
//!
//! Build the envelope with `attempt.envelope(&delivery)` and hand
//! [`Sent::for_attempt`] to `Delivery::handle_outcomes`: the outcomes come back
//! in the delivery's own recipient indices. Each [`HostTry::failure`] is a
//! classification to report to the destination health registry.
//!
//! # TLS
//!
//! [`TlsSettings`] holds the mode (`Disabled`, `Opportunistic`, `Required`) and a
//! rustls client configuration: the platform's roots ([`TlsSettings::platform`],
//! feature `native-roots`, on by default) or yours ([`TlsSettings::with_roots`],
//! [`TlsSettings::with_ca_pem`]). Certificates are verified in both modes that
//! use TLS; a failure is a transient `tls_failed` and the next host is tried
//! (rule `transport.tls_certificate` for a certificate that does not verify). A
//! host that does not offer `STARTTLS` when TLS is required is a transient
//! `tls_required`, and the next host is tried. The crypto provider is `ring`.
//!
//! DANE (RFC 7672) and MTA-STS (RFC 8461) are out of scope; the [`TlsPolicy`]
//! hook is where they plug in: per host, it can require TLS with its own
//! verifier (DANE's TLSA check) or roots (MTA-STS's WebPKI), and refuse hosts
//! outside a policy.
//!
//! # Bounds
//!
//! Reads go through a 16 KiB buffer and the session bounds what it keeps of the
//! server's replies; the body is handed over 64 KiB at a time and written before
//! the next chunk; MX answers are cut at [`tempfail::route::MAX_RECORDS`]
//! records, addresses at [`MAX_ADDRESSES`] per name and
//! [`MAX_ADDRESSES_PER_HOST`] tried. Nothing a server or a DNS answer does makes
//! the sender panic: it ends as an outcome.
//!
//! # Clock
//!
//! The driver reads tokio's clock (so a paused test runtime pauses it too) and
//! hands `now` to the session; nothing else reads a clock.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(unreachable_pub)]

mod conn;
mod resolve;
mod sender;
mod tls;

pub use resolve::{DnsResolver, MAX_ADDRESSES, Resolve, StaticResolver};
pub use sender::{
    Destination, DestinationReport, HostTry, MAX_ADDRESSES_PER_HOST, Reuse, SendError, Sender,
    SenderConfig, Sent,
};
pub use tls::{TlsPolicy, TlsSettings, TlsSetupError};

/// The rustls types a configuration needs (`RootCertStore`, `ClientConfig`).
pub use tokio_rustls::rustls;

/// The README's code blocks, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
