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
//! - [`backoff`]: pure delay functions (fixed, exponential, lists, Postfix's
//!   age-based wait, Exim rule chains, Haraka lists) and every kind of jitter, over a
//!   small `Copy` [`RetryState`] that lives with the message.
//! - [`policy`]: [`RetryPolicy`]: classification + retry state + `now` →
//!   [`RetryDecision`]; per-category rules, lifetimes, delay warnings, and presets
//!   reproducing Postfix, Exim, Sendmail, Stalwart, Haraka, KumoMTA and RFC 5321.
//! - [`queue`]: the [`DeferralQueue`] trait (due time first, then priority among due
//!   items; cancel and reschedule by handle), a heap and a timing wheel, keyed and
//!   fair adapters.
//! - [`session`]: a sans-io SMTP client [`Session`]: bytes in, bytes and events out,
//!   deadlines out.
//! - [`delivery`]: one message's life across attempts: per-recipient state,
//!   decisions (delivered, retry at, failed with the policy's reason, delay
//!   warning), persistence.
//! - [`dsn`]: RFC 3464 delivery status notifications (delayed, failed), honouring
//!   RFC 3461 `NOTIFY`, `RET` and `ENVID`/`ORCPT`.
//! - [`destination`]: how hard a sender may push one destination right now: a
//!   [`destination::Registry`] of per-destination health (dead destinations and one
//!   probe, adaptive concurrency, pacing cut on `rate_limited`, suspension rules,
//!   warm-up, retry budget) answering "go", "wait until", "suspended until" or
//!   "dead until", each with its reason.
//!
//! ## The drive loop
//!
//! One loop, written once by the caller around its own sockets and spool; every
//! decision comes out of the machines, and the only clock is the `now` passed in:
//!
//! ```text
//! for each message due in the queue at `now`:
//!     match health.acquire_connection(&dest, now) {                  // may we?
//!         Go(permit) => go on (health.release(permit, now, report) when done),
//!         other      => queue.reschedule(message, other.until()); next message,
//!     }
//!     let mut attempt = delivery.start_attempt(now, Some(host))?;   // who is due
//!     attempt.submit(&delivery, &mut session)?;                      // the envelope
//!     loop {                                                         // the connection
//!         while let Some(out) = session.poll_output() {
//!             Transmit(bytes)  => write them, then session.handle_written(now, n)
//!             Event(e)         => delivery.handle_event(now, &policy, &attempt, &e)?
//!                                 (BodyWanted: session.send_body_chunk / finish_body)
//!             StartTls         => TLS handshake, then session.handle_tls_established(now)
//!             Close            => close the socket
//!             Timeout(at)      => wake up at `at` if nothing arrives: session.handle_timeout
//!         }
//!         read => session.handle_input(now, &bytes) or session.handle_eof(now)
//!     }
//!     delivery.end_attempt(now, &policy, &classifier);
//!     while let Some(o) = delivery.poll_output() {
//!         Delivered / RetryAt / Failed { reason } / DelayWarning => log, write notices
//!         Destination(signal) => health.observe_signal(&dest, &signal)
//!         WakeAt(t)  => queue.reschedule(message, t)                // the one wake-up
//!     }
//! ```
//!
//! [`design`] describes the flow from bytes to the queue, which type crosses each
//! seam, and the decisions the modules share. Each piece also stands alone: a sender
//! with its own SMTP client classifies its replies and feeds [`RcptOutcome`]s to a
//! [`Delivery`]; an MTA with its own queue uses only the classifier and the policy.
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
//! - **Stage and outcome.** [`Stage`] names the command a reply answered (snake_case,
//!   `rcpt_to`, `data_end`; an unknown name in input is `unknown`, never an error).
//!   [`RcptOutcome`] (recipient index, reply if any, stage, classification) is the one
//!   per-recipient result type, produced by the session machine or any adapter and
//!   consumed by the delivery machine.
//! - **Persistence.** With the `serde` feature, everything that outlives a connection
//!   (retry state, policies, deliveries, queue snapshots, user rules) serializes with a
//!   format version; an unknown version is refused with a clear error.
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
//! | `bounce` | off | [`bounce`]: incoming bounces, delay notices and feedback-loop complaints → per-recipient results |
//! | `lettre` | off | lettre's responses and errors as classifications (module `lettre`) |
#![forbid(unsafe_code)]
#![deny(unreachable_pub)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// Emits a `tracing` event with feature `tracing`; nothing at all without it.
#[cfg(feature = "tracing")]
macro_rules! trace_event {
    ($level:ident, $($t:tt)*) => { tracing::$level!(target: "tempfail", $($t)*) };
}
#[cfg(not(feature = "tracing"))]
macro_rules! trace_event {
    ($level:ident, $($t:tt)*) => {};
}

pub mod time;
pub use time::Timestamp;

pub mod persist;

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
pub mod backoff;
pub use backoff::{Backoff, RetryState};
pub mod policy;
pub use policy::{Preset, RetryDecision, RetryPolicy};

/// The design decisions the modules share: the flow of one attempt from bytes to
/// the queue, which type crosses each seam, and the rules several modules follow.
#[doc = include_str!("design.md")]
pub mod design {}

/// The README's code blocks, run as doctests (when the policy lab and the lettre
/// adapter are compiled in: the README shows both).
#[cfg(all(doctest, feature = "sim", feature = "lettre"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

// ---- queue ----------------------------------------------------------------
pub mod queue;
pub use queue::{DeferralQueue, FairQueue, HeapQueue, KeyedQueue, WheelQueue};
pub mod shared_queue;

// ---- routing --------------------------------------------------------------
pub mod route;
pub use shared_queue::{MemorySharedQueue, SharedQueue};

// ---- session --------------------------------------------------------------
pub mod session;
pub use session::{Session, SessionConfig};

// ---- delivery / dsn -------------------------------------------------------
pub mod delivery;
pub use delivery::Delivery;
#[cfg(feature = "bounce")]
#[cfg_attr(docsrs, doc(cfg(feature = "bounce")))]
pub mod bounce;
pub mod dsn;

// ---- adapters ---------------------------------------------------------------
#[cfg(feature = "lettre")]
#[cfg_attr(docsrs, doc(cfg(feature = "lettre")))]
pub mod lettre;

// ---- destination health ---------------------------------------------------
pub mod destination;
#[cfg(feature = "sim")]
#[cfg_attr(docsrs, doc(cfg(feature = "sim")))]
pub mod sim;

/// The types most programs use, in one import: `use tempfail::prelude::*;`.
///
/// ```
/// use tempfail::prelude::*;
/// let policy = RetryPolicy::preset(Preset::Postfix);
/// let arrival = Timestamp::from_secs(1_700_000_000);
/// let down = Classification::transient(Category::ServerError);
/// let offsets = policy.replay(&vec![down; 3], arrival);
/// assert_eq!(offsets.iter().map(|d| d.as_secs()).collect::<Vec<_>>(), [0, 300, 600]);
/// ```
pub mod prelude {
    pub use crate::backoff::RetryState;
    pub use crate::classify::{
        Category, Classification, Classifier, Disposition, Scope, Stage, TransportFailure, UserRule,
    };
    pub use crate::delivery::{Delivery, MessageInfo, Output as DeliveryOutput, Recipient};
    pub use crate::destination::{Decision, HealthConfig, Permit, Registry, Report};
    pub use crate::outcome::RcptOutcome;
    pub use crate::policy::{GiveUpReason, Preset, RetryDecision, RetryPolicy};
    pub use crate::queue::{DeferralQueue, WheelQueue};
    pub use crate::reply::{EnhancedCode, Reply, ReplyCode};
    pub use crate::session::{Session, SessionConfig};
    pub use crate::time::Timestamp;
}
