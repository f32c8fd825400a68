//! The handshake: greeting, `EHLO`/`HELO`/`LHLO`, `STARTTLS`, `AUTH`.

use super::*;

impl Session {
    pub(super) fn send_hello(&mut self, ehlo: bool) {
        let verb: &[u8] = if self.cfg.lmtp {
            b"LHLO "
        } else if ehlo {
            b"EHLO "
        } else {
            b"HELO "
        };
        let name = core::mem::take(&mut self.cfg.client_name);
        self.send(|b| {
            b.extend_from_slice(verb);
            b.extend_from_slice(name.as_bytes());
            b.extend_from_slice(b"\r\n");
        });
        self.cfg.client_name = name;
        self.expect(Expect::Hello { ehlo });
    }

    pub(super) fn after_hello(&mut self) {
        let offered = self.caps.as_ref().is_some_and(|c| c.starttls);
        if !self.tls && self.cfg.tls != TlsMode::Disabled {
            if offered {
                self.send_line(b"STARTTLS");
                self.expect(Expect::StartTls);
                return;
            }
            if self.cfg.tls == TlsMode::Required {
                let c = self
                    .cfg
                    .classifier
                    .classify_failure(TransportFailure::StartTlsNotOffered, Stage::Starttls);
                self.lose(Stage::Starttls, LossReason::TlsUnavailable, c, None, true);
                return;
            }
        }
        self.after_tls_decision();
    }

    pub(super) fn after_tls_decision(&mut self) {
        if let Some(creds) = self.cfg.credentials.clone() {
            if !self.authenticated {
                let mech = self.caps.as_ref().and_then(|c| creds.choose(c));
                let Some(mech) = mech.filter(|_| self.tls || !self.cfg.auth_requires_tls) else {
                    let c = self
                        .cfg
                        .classifier
                        .classify_failure(TransportFailure::AuthUnavailable, Stage::Auth);
                    self.lose(Stage::Auth, LossReason::AuthUnavailable, c, None, true);
                    return;
                };
                match mech {
                    Mechanism::Plain => {
                        self.send(|b| creds.plain_command(b));
                        self.expect(Expect::Auth(AuthStep::Final { xoauth2: false }));
                    }
                    Mechanism::Login => {
                        self.send_line(b"AUTH LOGIN");
                        self.expect(Expect::Auth(AuthStep::LoginUser));
                    }
                    Mechanism::Xoauth2 => {
                        self.send(|b| creds.xoauth2_command(b));
                        self.expect(Expect::Auth(AuthStep::Final { xoauth2: true }));
                    }
                }
                return;
            }
        }
        self.ready();
    }

    pub(super) fn ready(&mut self) {
        self.phase = Phase::Ready;
        self.event(Event::Ready);
    }

    pub(super) fn on_auth_reply(&mut self, step: AuthStep, reply: Reply) {
        let code = reply.code();
        let creds = self.cfg.credentials.clone();
        match (step, code.as_u16(), creds) {
            (AuthStep::Final { .. } | AuthStep::Xoauth2Error, 200..=299, _) => {
                self.authenticated = true;
                self.ready();
            }
            (AuthStep::Final { xoauth2: true }, 334, _) => {
                // XOAUTH2 error challenge: answer with an empty line to get the final reply.
                self.send_line(b"");
                self.expect(Expect::Auth(AuthStep::Xoauth2Error));
            }
            (AuthStep::LoginUser, 334, Some(c)) => {
                self.send(|b| c.login_line(false, b));
                self.expect(Expect::Auth(AuthStep::LoginPass));
            }
            (AuthStep::LoginPass, 334, Some(c)) => {
                self.send(|b| c.login_line(true, b));
                self.expect(Expect::Auth(AuthStep::Final { xoauth2: false }));
            }
            (_, 400..=599, _) => {
                self.refused(Stage::Auth, reply, true);
            }
            _ => self.unexpected(reply),
        }
    }
}
