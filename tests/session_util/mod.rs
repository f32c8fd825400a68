//! A scripted driver for the session machine: a virtual clock, everything the
//! machine transmits collected, events recorded, bodies streamed on request.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use tempfail::session::{Event, Output, Session, SessionConfig, TransactionId};
use tempfail::{Disposition, Stage};

/// One recipient outcome, flattened for assertions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flat {
    pub txn: u64,
    pub rcpt: usize,
    pub code: Option<u16>,
    pub enhanced: Option<String>,
    pub disposition: Disposition,
    pub category: Option<String>,
    pub stage: Stage,
}

pub struct Harness {
    pub s: Session,
    pub t0: Instant,
    pub now: Instant,
    pub wire: Vec<u8>,
    pub events: Vec<Event>,
    pub starttls: usize,
    pub closed: bool,
    pub deadline: Option<Instant>,
    /// The body streamed on each `BodyWanted`.
    pub body: Vec<u8>,
    /// Chunk sizes to split the body into (cycled); empty means one chunk.
    pub chunks: Vec<usize>,
    /// Order of outputs, for ordering assertions: "T", "E", "S" (start TLS), "C" (close).
    pub order: Vec<&'static str>,
    /// Free for drivers that move bytes out of `wire` to keep a log.
    pub sent: String,
}

impl Harness {
    pub fn new(cfg: SessionConfig) -> Self {
        #[allow(clippy::disallowed_methods)] // the virtual clock's origin
        let t0 = Instant::now();
        let s = Session::new(cfg, t0);
        let mut h = Harness {
            s,
            t0,
            now: t0,
            wire: Vec::new(),
            events: Vec::new(),
            starttls: 0,
            closed: false,
            deadline: None,
            body: b"Subject: test\r\n\r\nHello.\r\n".to_vec(),
            chunks: Vec::new(),
            order: Vec::new(),
            sent: String::new(),
        };
        h.drive();
        h
    }

    pub fn config() -> SessionConfig {
        let mut c = SessionConfig::new("client.example.org");
        c.tls = tempfail::session::TlsMode::Disabled;
        c
    }

    /// Drains every output, streaming the body when asked.
    pub fn drive(&mut self) {
        while let Some(o) = self.s.poll_output() {
            match o {
                Output::Transmit(b) => {
                    self.order.push("T");
                    self.wire.extend_from_slice(&b);
                    // Written at once, as a blocking driver would.
                    self.s.handle_written(self.now, b.len()).unwrap();
                }
                Output::Event(e) => {
                    self.order.push("E");
                    let want = matches!(e, Event::BodyWanted { .. });
                    self.events.push(e);
                    if want {
                        self.stream_body();
                    }
                }
                Output::StartTls => {
                    self.order.push("S");
                    self.starttls += 1;
                }
                Output::Close => {
                    self.order.push("C");
                    self.closed = true;
                }
                Output::Timeout(d) => {
                    self.deadline = Some(d);
                    break;
                }
            }
        }
        if self.s.is_closed() {
            self.deadline = None;
        }
    }

    fn stream_body(&mut self) {
        let body = self.body.clone();
        let mut rest = &body[..];
        let mut k = 0;
        while !rest.is_empty() {
            let n = if self.chunks.is_empty() {
                rest.len()
            } else {
                self.chunks[k % self.chunks.len()].clamp(1, rest.len())
            };
            k += 1;
            self.s.send_body_chunk(self.now, &rest[..n]).unwrap();
            rest = &rest[n..];
            // Drain transmits between chunks as a real driver would.
            while let Some(o) = self.s.poll_output() {
                match o {
                    Output::Transmit(b) => {
                        self.order.push("T");
                        self.wire.extend_from_slice(&b);
                        self.s.handle_written(self.now, b.len()).unwrap();
                    }
                    Output::Timeout(d) => {
                        self.deadline = Some(d);
                        break;
                    }
                    other => panic!("unexpected output while streaming a body: {other:?}"),
                }
            }
        }
        self.s.finish_body(self.now).unwrap();
    }

    pub fn input(&mut self, bytes: &[u8]) {
        self.s.handle_input(self.now, bytes);
        self.drive();
    }

    pub fn eof(&mut self) {
        self.s.handle_eof(self.now);
        self.drive();
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
    }

    pub fn timeout(&mut self) {
        self.s.handle_timeout(self.now);
        self.drive();
    }

    pub fn tls_established(&mut self) {
        self.s.handle_tls_established(self.now).unwrap();
        self.drive();
    }

    pub fn quit(&mut self) {
        self.s.quit();
        self.drive();
    }

    pub fn submit(&mut self, env: tempfail::session::Envelope) -> TransactionId {
        let id = self.s.submit(env).unwrap();
        self.drive();
        id
    }

    /// Everything transmitted since the last call, as text.
    pub fn take_wire(&mut self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut self.wire)).into_owned()
    }

    pub fn outcomes(&self) -> Vec<Flat> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Recipient {
                    transaction,
                    outcome,
                } => Some(Flat {
                    txn: transaction.get(),
                    rcpt: outcome.rcpt,
                    code: outcome.reply.as_ref().map(|r| r.code().as_u16()),
                    enhanced: outcome
                        .reply
                        .as_ref()
                        .and_then(|r| r.enhanced())
                        .map(|e| e.to_string()),
                    disposition: outcome.classification.disposition,
                    category: outcome
                        .classification
                        .category
                        .map(|c| c.name().to_string()),
                    stage: outcome.stage,
                }),
                _ => None,
            })
            .collect()
    }

    pub fn lost(&self) -> Option<&Event> {
        self.events.iter().find(|e| matches!(e, Event::Lost { .. }))
    }

    pub fn body_requests(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::BodyWanted { .. }))
            .count()
    }
}

/// A Postfix-like EHLO reply with pipelining.
pub const EHLO_PIPELINING: &[u8] = b"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8\r\n";
/// The same without PIPELINING.
pub const EHLO_PLAIN: &[u8] =
    b"250-mx.example.com\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n";
