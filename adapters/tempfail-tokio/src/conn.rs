//! One SMTP connection: a TCP (then TLS) stream around a [`Session`], and the
//! drive loop that moves bytes between them within the session's deadlines.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tempfail::classify::{Classifier, Stage, TransportFailure};
use tempfail::session::{Envelope, Event, Output, Session, SessionConfig, TransactionId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::tls::{TlsFailure, tls_failure};

/// Bytes read from the socket at a time; the session bounds what it keeps.
const READ_BUF: usize = 16 * 1024;
/// Body bytes handed to the session at a time (then written before the next).
const BODY_CHUNK: usize = 64 * 1024;

/// The driver's clock: tokio's (pausable in tests), as the session's `Instant`.
/// This is the crate's one clock seam: the session never reads a clock, the
/// driver reads it here and hands `now` in.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

/// What one drive of the loop should reach before it returns.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Goal {
    /// Every recipient of this transaction has its outcome.
    Transaction(TransactionId),
    /// The session has ended (after `QUIT`, or lost).
    Closed,
}

/// A connection whose greeting has not been read yet, or one that carried
/// messages and is idle.
pub(crate) struct Conn {
    io: Io,
    pub(crate) session: Session,
    rbuf: Vec<u8>,
    tls_name: ServerName<'static>,
    tls_client: Arc<ClientConfig>,
    classifier: Arc<Classifier>,
    /// Set when a STARTTLS handshake failed (for the report).
    pub(crate) tls_error: Option<String>,
    /// Messages carried.
    pub(crate) messages: usize,
    /// When the connection last became idle.
    pub(crate) idle_since: Instant,
    pub(crate) addr: SocketAddr,
    /// The host's name and MX preference (for reports).
    pub(crate) host: String,
    pub(crate) preference: u16,
    /// False when the session's budget was cut for one send: not kept for reuse.
    pub(crate) keepable: bool,
}

/// Connects to `addr` within `timeout`: `Err` is the transport failure
/// (refused, timed out, reset) at stage `connect`.
pub(crate) async fn connect(
    addr: SocketAddr,
    timeout: Duration,
) -> Result<TcpStream, TransportFailure> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_elapsed) => Err(TransportFailure::ConnectTimeout),
        Ok(Err(e)) => Err(match e.kind() {
            std::io::ErrorKind::TimedOut => TransportFailure::ConnectTimeout,
            std::io::ErrorKind::ConnectionReset => TransportFailure::ConnectionReset,
            _ => TransportFailure::ConnectionRefused,
        }),
        Ok(Ok(s)) => {
            // Commands are small and answered one flight at a time.
            let _ = s.set_nodelay(true);
            Ok(s)
        }
    }
}

impl Conn {
    /// A session on a freshly connected stream.
    pub(crate) fn new(
        stream: TcpStream,
        addr: SocketAddr,
        config: SessionConfig,
        tls_name: ServerName<'static>,
        tls_client: Arc<ClientConfig>,
    ) -> Self {
        let classifier = config.classifier.clone();
        let t = now();
        Conn {
            io: Io::Plain(stream),
            session: Session::new(config, t),
            rbuf: vec![0u8; READ_BUF],
            tls_name,
            tls_client,
            classifier,
            tls_error: None,
            messages: 0,
            idle_since: t,
            addr,
            host: addr.ip().to_string(),
            preference: 0,
            keepable: true,
        }
    }

    /// True when the session can take another message now.
    pub(crate) fn is_reusable(&self) -> bool {
        self.session.is_idle() && !matches!(self.io, Io::Gone)
    }

    /// Submits `envelope` and drives the connection until each of its recipients
    /// has an outcome (or the session ended). Returns the events in order
    /// (`Ready`, `Recipient`, `TransactionDone`, `Lost`, `Closed`).
    ///
    /// Errors: the session refused the envelope (caller misuse).
    pub(crate) async fn transact(
        &mut self,
        envelope: Envelope,
        body: &[u8],
    ) -> Result<Vec<Event>, tempfail::session::UsageError> {
        let txn = self.session.submit(envelope)?;
        let events = self.drive(Goal::Transaction(txn), body).await;
        self.messages = self.messages.saturating_add(1);
        self.idle_since = now();
        Ok(events)
    }

    /// Sends `QUIT` (once the session is idle) and waits for the close, at most
    /// `limit` (then the connection is simply dropped).
    pub(crate) async fn quit(mut self, limit: Duration) {
        self.session.quit();
        let _ = tokio::time::timeout(limit, self.drive(Goal::Closed, &[])).await;
        if let Io::Tls(mut s) = std::mem::replace(&mut self.io, Io::Gone) {
            let _ = tokio::time::timeout(Duration::from_millis(200), s.shutdown()).await;
        }
    }

    /// The drive loop: drain the session's outputs (write, hand the body over,
    /// upgrade to TLS), stop at the goal, otherwise read until input or the
    /// session's next deadline.
    pub(crate) async fn drive(&mut self, goal: Goal, body: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        let mut body_at: Option<usize> = None;
        let mut reached = false;
        loop {
            let mut deadline = None;
            while let Some(out) = self.session.poll_output() {
                match out {
                    Output::Transmit(bytes) => self.write(&bytes).await,
                    Output::Event(Event::BodyWanted { .. }) => body_at = Some(0),
                    Output::Event(e) => {
                        if let (Goal::Transaction(t), Event::TransactionDone { transaction, .. }) =
                            (goal, &e)
                        {
                            reached |= *transaction == t;
                        }
                        events.push(e);
                    }
                    Output::StartTls => {
                        self.start_tls().await;
                        if self.tls_error.is_some() {
                            self.drain_tls_failure(&mut events);
                        }
                    }
                    Output::Close => self.close(),
                    Output::Timeout(at) => deadline = Some(at),
                }
            }
            if self.session.is_closed() || reached {
                return events;
            }
            if let Some(at) = body_at {
                let end = body.len().min(at.saturating_add(BODY_CHUNK));
                let t = now();
                // Outputs were drained above, so the chunk fits the session's buffer;
                // after an input that ended the session these are no-ops.
                let _ = self
                    .session
                    .send_body_chunk(t, body.get(at..end).unwrap_or(&[]));
                if end >= body.len() {
                    let _ = self.session.finish_body(t);
                    body_at = None;
                } else {
                    body_at = Some(end);
                }
                continue;
            }
            self.read(deadline).await;
        }
    }

    /// After a failed handshake: the session's outcomes (drained here) say
    /// `tls_handshake`; a certificate that did not verify is reclassified as
    /// `tls_certificate` (the same category, `tls_failed`, with the rule that says why).
    fn drain_tls_failure(&mut self, events: &mut Vec<Event>) {
        let cert = self
            .tls_error
            .as_deref()
            .is_some_and(|e| e.starts_with("certificate:"));
        while let Some(out) = self.session.poll_output() {
            match out {
                Output::Event(mut e) => {
                    if cert {
                        let c = self
                            .classifier
                            .classify_failure(TransportFailure::TlsCertificate, Stage::Starttls);
                        match &mut e {
                            Event::Recipient { outcome, .. } if outcome.reply.is_none() => {
                                outcome.classification = c;
                            }
                            Event::Lost { classification, .. } => *classification = c,
                            _ => {}
                        }
                    }
                    events.push(e);
                }
                Output::Close => self.close(),
                // Nothing is sent after a failed handshake; no timer runs once closed.
                Output::Transmit(_) | Output::StartTls | Output::Timeout(_) => {}
            }
        }
    }

    fn close(&mut self) {
        // Dropping the stream closes the socket; a TLS close_notify is not owed to
        // a server whose session ended (QUIT's reply came, or it misbehaved).
        self.io = Io::Gone;
    }

    /// Writes `bytes`, reporting progress to the session; waits at most until
    /// the session's next deadline each time, so a server that stops reading
    /// ends the session by its write timer.
    async fn write(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.session.is_closed() {
            let deadline = self.session.deadline();
            let r = match &mut self.io {
                Io::Plain(s) => with_deadline(deadline, s.write(bytes)).await,
                Io::Tls(s) => {
                    with_deadline(deadline, async {
                        let n = s.write(bytes).await?;
                        // rustls holds the records until flushed.
                        s.flush().await?;
                        Ok(n)
                    })
                    .await
                }
                Io::Gone => Some(Ok(0)),
            };
            match r {
                Some(Ok(n)) if n > 0 => {
                    // n never exceeds what the session handed out.
                    let _ = self.session.handle_written(now(), n);
                    bytes = bytes.get(n..).unwrap_or(&[]);
                }
                Some(_) => self.session.handle_eof(now()),
                None => self.session.handle_timeout(now()),
            }
        }
    }

    /// One read: input, end of stream, or the deadline.
    async fn read(&mut self, deadline: Option<Instant>) {
        let r = match &mut self.io {
            Io::Plain(s) => with_deadline(deadline, s.read(&mut self.rbuf)).await,
            Io::Tls(s) => with_deadline(deadline, s.read(&mut self.rbuf)).await,
            Io::Gone => Some(Ok(0)),
        };
        match r {
            Some(Ok(0)) | Some(Err(_)) => self.session.handle_eof(now()),
            Some(Ok(n)) => {
                let n = n.min(self.rbuf.len());
                self.session.handle_input(now(), &self.rbuf[..n]);
            }
            None => self.session.handle_timeout(now()),
        }
    }

    /// The STARTTLS handshake, within the session's TLS timer.
    async fn start_tls(&mut self) {
        let Io::Plain(tcp) = std::mem::replace(&mut self.io, Io::Gone) else {
            // Only a plain connection is ever asked to upgrade; report a failure
            // rather than trust a stream in an unknown state.
            self.tls_error = Some("handshake: no plain connection to upgrade".into());
            let _ = self.session.handle_tls_failed(now());
            return;
        };
        let connector = TlsConnector::from(self.tls_client.clone());
        let deadline = self.session.deadline();
        let r = with_deadline(deadline, connector.connect(self.tls_name.clone(), tcp)).await;
        match r {
            Some(Ok(tls)) => {
                self.io = Io::Tls(Box::new(tls));
                let _ = self.session.handle_tls_established(now());
            }
            Some(Err(e)) => {
                let kind = match tls_failure(&e) {
                    TlsFailure::Certificate => "certificate",
                    TlsFailure::Handshake => "handshake",
                };
                self.tls_error = Some(format!("{kind}: {e}"));
                let _ = self.session.handle_tls_failed(now());
            }
            None => {
                self.tls_error = Some("handshake: timed out".into());
                self.session.handle_timeout(now());
                if !self.session.is_closed() {
                    // The timer fired a hair early by the session's clock.
                    let _ = self.session.handle_tls_failed(now());
                }
            }
        }
    }
}

/// Runs `fut` until `deadline` (forever without one): `None` when the deadline
/// came first.
async fn with_deadline<T>(deadline: Option<Instant>, fut: impl Future<Output = T>) -> Option<T> {
    match deadline {
        Some(d) => tokio::time::timeout_at(tokio::time::Instant::from_std(d), fut)
            .await
            .ok(),
        None => Some(fut.await),
    }
}
