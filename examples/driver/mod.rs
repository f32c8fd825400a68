//! The drive loop the examples share: messages handed to one SMTP session through
//! their delivery's `Attempt`, the session's events routed back to the delivery that
//! owns them (in its own recipient indices), bodies streamed when the server asks.
//! The I/O around it (a blocking socket, tokio, the tour's scripted server) is each
//! example's own and shrinks to: write `Step::transmit`, read with `Step::deadline`,
//! hand the bytes back.

use std::time::Instant;

use tempfail::delivery::{Attempt, Delivery};
use tempfail::policy::RetryPolicy;
use tempfail::session::{Capabilities, Event, Output, Session};
use tempfail::{Classifier, RcptOutcome, Timestamp};

/// One message on the connection.
pub struct Outgoing<'a> {
    /// Its delivery machine, which stays in the caller's spool.
    pub delivery: &'a mut Delivery,
    /// The attempt in progress.
    pub attempt: Attempt,
    /// The message itself, streamed after `354`.
    pub body: &'a [u8],
}

/// What the session asked for in one drain of its outputs.
#[derive(Default)]
pub struct Step {
    /// Bytes to write, in order (report them with `Session::handle_written` once written).
    pub transmit: Vec<u8>,
    /// Wake the session at this instant if nothing arrives before.
    pub deadline: Option<Instant>,
    /// The session ended: close the connection.
    pub close: bool,
    /// Start TLS now (everything before it has been written).
    pub start_tls: bool,
    /// Each recipient's outcome, as (message index, outcome in the delivery's indices).
    pub outcomes: Vec<(usize, RcptOutcome)>,
    /// The handshake completed with these capabilities.
    pub ready: Option<Capabilities>,
}

/// One session carrying several messages.
pub struct Driver<'a> {
    /// The session machine.
    pub session: Session,
    /// The messages, in submission order.
    pub messages: Vec<Outgoing<'a>>,
    policy: &'a RetryPolicy,
}

impl<'a> Driver<'a> {
    /// A driver around a fresh session.
    pub fn new(session: Session, policy: &'a RetryPolicy) -> Self {
        Driver {
            session,
            messages: Vec::new(),
            policy,
        }
    }

    /// Starts an attempt of `delivery` at `now` and submits its envelope. Returns the
    /// message's index, or `None` when nothing of it is due.
    pub fn add(
        &mut self,
        delivery: &'a mut Delivery,
        body: &'a [u8],
        now: Timestamp,
        host: &str,
    ) -> Result<Option<usize>, String> {
        let mut attempt = delivery
            .start_attempt(now, Some(host))
            .map_err(|e| e.to_string())?;
        if attempt.is_empty() {
            return Ok(None);
        }
        attempt
            .submit(delivery, &mut self.session)
            .map_err(|e| e.to_string())?;
        self.messages.push(Outgoing {
            delivery,
            attempt,
            body,
        });
        Ok(Some(self.messages.len() - 1))
    }

    /// Drains the session's outputs after an input: events go to their delivery,
    /// bodies are streamed, the rest is returned for the I/O loop.
    pub fn poll(&mut self, now: Instant, wall: Timestamp) -> Step {
        let mut step = Step::default();
        while let Some(out) = self.session.poll_output() {
            match out {
                Output::Transmit(bytes) => step.transmit.extend_from_slice(&bytes),
                Output::Event(e) => self.event(now, wall, e, &mut step),
                Output::StartTls => step.start_tls = true,
                Output::Close => step.close = true,
                Output::Timeout(at) => step.deadline = Some(at),
            }
        }
        step.close |= self.session.is_closed();
        step
    }

    fn event(&mut self, now: Instant, wall: Timestamp, e: Event, step: &mut Step) {
        if let Event::Ready = e {
            step.ready = self.session.capabilities().cloned();
        }
        let txn = match &e {
            Event::BodyWanted { transaction }
            | Event::Recipient { transaction, .. }
            | Event::TransactionDone { transaction, .. } => *transaction,
            _ => return,
        };
        let Some(i) = self.messages.iter().position(|m| m.attempt.owns(txn)) else {
            return;
        };
        let m = &mut self.messages[i];
        if let Event::BodyWanted { .. } = e {
            // After an input that ended the session these are no-ops.
            let _ = self.session.send_body_chunk(now, m.body);
            let _ = self.session.finish_body(now);
            return;
        }
        step.outcomes
            .extend(m.attempt.translate(&e).map(|o| (i, o)));
        // The attempt is this delivery's latest, and the event is its own.
        let _ = m.delivery.handle_event(wall, self.policy, &m.attempt, &e);
    }

    /// Ends every attempt (a recipient without an outcome counts as a lost
    /// connection); the deliveries then hold their decisions.
    pub fn finish(self, wall: Timestamp, classifier: &Classifier) {
        for m in self.messages {
            m.delivery.end_attempt(wall, self.policy, classifier);
        }
    }
}
