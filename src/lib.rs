//! # tempfail
//!
//! What a mail sender does after an SMTP attempt: was it delivered, is the failure
//! temporary or permanent, why, what must wait (this recipient, this message, the
//! whole destination), when to try again, and in what order.
//!
//! tempfail is **sans-io**: it owns no sockets, no clock, no threads and no storage.
//! A sender (its own tokio client, lettre, mail-send, an MTA) feeds it what
//! happened and gets decisions back. Time is always an argument ([`Timestamp`]
//! for wall-clock state, `Instant` for a connection's timers); randomness is an
//! argument (an injected RNG, or a hash of stable ids). The same inputs always
//! give the same outputs, so a retry policy can be unit-tested in isolation and
//! days of retries simulated in microseconds.
//!
//! ## Modules
//!
//! - [`reply`]: incremental, bounded, lenient parsing of SMTP replies and RFC 3463
//!   enhanced status codes.
//! - [`classify`]: reply + stage, bounce text, or a transport failure →
//!   [`Classification`] (disposition, category, scope, retry hint, rule).
//! - [`outcome`]: [`RcptOutcome`], one recipient's result in one attempt.
//!
//! ## Shared decisions
//!
//! - **Time.** [`Timestamp`] is the one wall-clock type: `u64` milliseconds since the
//!   Unix epoch, saturating arithmetic, conversions from and to `SystemTime`,
//!   serialized as an integer. A `now` earlier than one already seen is clamped by
//!   the machines that keep state, never a panic. The library never reads a clock;
//!   `clippy.toml` forbids `Instant::now` and `SystemTime::now` in it.
//! - **Names.** Every enum a user sees on a command line or in serde is spelled in
//!   snake_case (`rate_limited`, `rcpt_to`, `transient`), via `name()`/`Display` and
//!   `#[serde(rename_all = "snake_case")]`; never Rust's `Debug` spelling.
//! - **Errors.** A 4xx/5xx is data, not an `Err`. Misuse of the API is an `Err`; a
//!   misbehaving peer is an event. Nothing panics on any input.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rand` | on | jitter drawn from an injected `rand` RNG |
//! | `humantime` | on | human durations (`5m`, `1h 30m`) in parsers and config |
//! | `serde` | off | serialization of every persistent type, with format versions |
//! | `testing` | off | public conformance suites for your own implementations |
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod time;
pub use time::Timestamp;

// ---- reply ----------------------------------------------------------------
pub mod reply;
pub use reply::{EnhancedCode, Reply, ReplyCode, ReplyParser};

// ---- classify -------------------------------------------------------------
pub mod classify;
pub use classify::{
    Category, Classification, Classifier, Disposition, Scope, Stage, TransportFailure,
};

// ---- outcome --------------------------------------------------------------
pub mod outcome;
pub use outcome::RcptOutcome;

// ---- backoff / policy -----------------------------------------------------

// ---- queue ----------------------------------------------------------------

// ---- session --------------------------------------------------------------
pub mod session;
pub use session::{Session, SessionConfig};
