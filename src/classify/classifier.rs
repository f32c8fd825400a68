//! [`Classifier`]: the entry points and the decision around the matcher.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use std::time::Duration;

use super::engine::{Engine, Found};
use super::model::{Gate, Model, ModelVote};
use super::rule::{Rule, RuleError, UserRule};
use super::{
    Category, Classification, Considered, Disposition, Evidence, Explanation, Scope, Stage,
    TransportFailure, builtin, text,
};
use crate::reply::{EnhancedCode, Reply, ReplyCode};

/// Turns replies, bounce text and transport failures into [`Classification`]s.
///
/// Cheap to clone (the compiled rules are shared) and `Send + Sync`. The default is
/// [`Classifier::builtin`].
///
/// # How a reply is decided
///
/// 1. A `2xx`/`3xx` reply is a success (rule `rfc5321.positive`).
/// 2. Otherwise user rules without an evidence kind are tried first, in the order
///    given: the first that holds decides.
/// 3. Otherwise every rule that holds is weighed (see the module docs, "Evidence, not
///    first match"): each cause is scored by its heaviest [`Evidence`] (exception >
///    destination-level wording > wording > specific enhanced code > stage > vague
///    wording > vague enhanced code > basic code) plus agreement from other specific
///    kinds, and the best-scored cause wins. [`Classifier::explain`] shows the weighing.
/// 4. If no rule matches, the codes alone decide: category [`Category::Other`],
///    [`Classification::low_confidence`] set, rule `fallback.code_only`.
///
/// # Disposition precedence
///
/// A rule may set the disposition explicitly (a documented exception to the code's
/// first digit, whose source is in the rule's description). Otherwise the codes
/// decide: `2xx`/`3xx` success, `4xx` transient, `5xx` permanent, **except** that a
/// `5xx` whose enhanced code is `4.X.X` (`550 4.2.2`) is transient: the server said
/// one of its two signals is temporary, and a wrong retry costs one more attempt
/// while a wrong bounce loses the mail. Likewise a `5xx` is transient when its cause
/// passes with time (a rule's `passes`, by default [`Category::usually_passes`]: a rate
/// or connection limit, a greylisting; a lock-out after failed logins) and the text asks
/// for a later retry ("try again in 92 seconds", "try again later"; not a duration that
/// only says how long a block lasts, "blocked for 30 days"): the server asked to be
/// tried again. A greylisting's own words ("greylisted", "greylisting active") ask for
/// a later retry: a `5xx` that says it greylists us is transient. A `4xx` is always
/// transient, whatever its enhanced code. Text without any code takes the matched
/// category's usual disposition ([`Category::usual_disposition`]).
///
/// ```
/// use tempfail::classify::Classifier;
/// use tempfail::{Category, Disposition, Reply, ReplyCode, Scope, Stage};
///
/// let c = Classifier::builtin();
/// let reply = Reply::new(ReplyCode::new(550).unwrap(), [
///     "5.1.1 The email account that you tried to reach does not exist. Please try",
///     "5.1.1 double-checking the recipient's email address for typos or",
/// ]);
/// let v = c.classify(&reply, Stage::RcptTo);
/// assert_eq!(v.disposition, Disposition::Permanent);
/// assert_eq!(v.category, Some(Category::UserUnknown));
/// assert_eq!(v.scope, Scope::Recipient);
/// assert!(!v.low_confidence);
///
/// // A bounce's Diagnostic-Code, or a log line:
/// let v = c.classify_text("smtp; 421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred", Stage::Unknown);
/// assert_eq!(v.category, Some(Category::RateLimited));
/// assert_eq!(v.disposition, Disposition::Transient);
/// ```
#[derive(Clone)]
pub struct Classifier {
    pub(crate) engine: Arc<Engine>,
    user: Arc<Vec<Rule>>,
    builtins: bool,
    /// The learned tie-breaker and when to consult it (see [`Classifier::with_model`]).
    model: Option<Arc<(Model, Gate)>>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("rules", &self.engine.rules.len())
            .field("user_rules", &self.user.len())
            .field("builtins", &self.builtins)
            .field("model", &self.model.as_ref().map(|m| m.1))
            .finish()
    }
}

impl Default for Classifier {
    fn default() -> Self {
        Classifier::builtin()
    }
}

fn builtin_model() -> Arc<(Model, Gate)> {
    static M: OnceLock<Arc<(Model, Gate)>> = OnceLock::new();
    M.get_or_init(|| Arc::new((Model::builtin(), Gate::BUILTIN)))
        .clone()
}

fn builtin_engine() -> Arc<Engine> {
    static E: OnceLock<Arc<Engine>> = OnceLock::new();
    E.get_or_init(|| Arc::new(Engine::new(builtin::compiled().to_vec())))
        .clone()
}

impl Classifier {
    /// The built-in rules only (compiled once per process, then shared), with the
    /// learned tie-breaker on (see [`Classifier::with_model`]).
    pub fn builtin() -> Self {
        Classifier {
            engine: builtin_engine(),
            user: Arc::new(Vec::new()),
            builtins: true,
            model: Some(builtin_model()),
        }
    }

    /// Turns the learned tie-breaker on or off (on for [`Classifier::builtin`], off for
    /// [`Classifier::from_rules_only`]).
    ///
    /// The model ([`model`](super::model)) is a small logistic regression over a
    /// reply's words, word pairs, codes and stage, trained on the shipped corpora. It is
    /// consulted only where the rules are not confident: no rule held, or the winning
    /// cause's evidence is weak (a bare basic code, a vague enhanced code), or other
    /// causes scored nearly as much ([`Gate`]). It may then choose the category (rule
    /// `model.category`, [`Classification::low_confidence`] set) when it prefers its
    /// pick by a clear margin. It never changes the disposition: that stays the one
    /// the rules and codes give, so it is never more final (and never a success).
    /// [`Classifier::explain`] shows its pick and the features that weighed most.
    ///
    /// ```
    /// use tempfail::{Classifier, Stage};
    /// let with = Classifier::builtin();
    /// let without = Classifier::builtin().with_model(false);
    /// let text = "550 5.7.1 Email rejected per DMARC policy";
    /// // Where the rules are confident, the model is never consulted.
    /// assert_eq!(with.classify_text(text, Stage::DataEnd), without.classify_text(text, Stage::DataEnd));
    /// ```
    #[must_use]
    pub fn with_model(mut self, on: bool) -> Self {
        self.model = on.then(builtin_model);
        self
    }

    /// Uses `model` as the tie-breaker, consulted as `gate` says (feature
    /// `model-training`: for cross-validating models trained without some rows).
    #[cfg(feature = "model-training")]
    #[must_use]
    pub fn with_trained_model(mut self, model: Model, gate: Gate) -> Self {
        self.model = Some(Arc::new((model, gate)));
        self
    }

    /// Adds user rules, tried before the built-in rules (and after user rules added
    /// by an earlier call), in the order given.
    ///
    /// Every rule is checked; the first bad one is refused with a [`RuleError`]
    /// naming the rule and the field. See [`UserRule`] for the fields.
    pub fn with_rules(self, user_rules: Vec<UserRule>) -> Result<Self, RuleError> {
        let mut user: Vec<Rule> = self.user.as_ref().clone();
        let start = user.len();
        for (i, r) in user_rules.iter().enumerate() {
            user.push(r.compile(start + i)?);
        }
        for (i, r) in user.iter().enumerate() {
            if user[..i].iter().any(|o| o.id == r.id) {
                return Err(RuleError::DuplicateId {
                    rule: r.id.to_string(),
                });
            }
        }
        let mut all = user.clone();
        if self.builtins {
            all.extend(builtin::compiled().iter().cloned());
        }
        Ok(Classifier {
            engine: Arc::new(Engine::new(all)),
            user: Arc::new(user),
            builtins: self.builtins,
            model: self.model,
        })
    }

    /// Only these user rules, no built-in rules: what matches none of them is
    /// decided by the codes alone (low confidence).
    pub fn from_rules_only(user_rules: Vec<UserRule>) -> Result<Self, RuleError> {
        Classifier {
            engine: Arc::new(Engine::new(Vec::new())),
            user: Arc::new(Vec::new()),
            builtins: false,
            model: None,
        }
        .with_rules(user_rules)
    }

    /// The built-in rules, in priority order, as [`UserRule`]s: the same format as a
    /// deployment's own rules. Serialize them (feature `serde`) to read or edit them;
    /// [`Classifier::from_rules_only`] loads an edited set.
    ///
    /// ```
    /// use tempfail::{Classifier, Stage, TransportFailure};
    /// let rules = Classifier::builtin_rules();
    /// assert!(rules.iter().any(|r| r.id == "delivery.no_outcome"));
    /// // The same rules, loaded as user rules, decide the same.
    /// let copy = Classifier::from_rules_only(rules).unwrap();
    /// let a = copy.classify_text("550 5.1.1 user unknown", Stage::RcptTo);
    /// let b = Classifier::builtin().classify_text("550 5.1.1 user unknown", Stage::RcptTo);
    /// assert_eq!(a, b);
    /// ```
    #[must_use]
    pub fn builtin_rules() -> Vec<UserRule> {
        builtin::rules()
    }

    /// The number of rules loaded (user and built-in).
    pub fn rule_count(&self) -> usize {
        self.engine.rules.len()
    }

    /// Classifies a live reply to the command `stage`.
    #[must_use]
    pub fn classify(&self, reply: &Reply, stage: Stage) -> Classification {
        let c = self.classify_inner(reply, stage);
        traced(&c, stage, "reply");
        c
    }

    fn classify_inner(&self, reply: &Reply, stage: Stage) -> Classification {
        let code = reply.code();
        if code.is_positive() {
            return positive(reply, stage);
        }
        let joined = joined_text(reply);
        let (enh, inner) = live_codes(reply, &joined);
        let c = one_recipients_data_end(self.decide(Some(code), enh, stage, &joined), reply, stage);
        if reply.has_mixed_codes() {
            return mixed_codes(c, code);
        }
        match inner {
            Some(i) => inner_code_disagrees(c, code, i),
            None => c,
        }
    }

    /// Why [`Classifier::classify`] decides as it does for this reply: the verdict
    /// (identical to `classify`'s), the codes read, every rule that held with its kind
    /// of evidence and weight, and why the winner won.
    ///
    /// ```
    /// use tempfail::{Category, Classifier, Reply, ReplyCode, Stage};
    /// let reply = Reply::new(ReplyCode::new(421).unwrap(), [
    ///     "4.7.0 Service not available",
    ///     "4.7.0 Client host 192.0.2.1 blocked using zen.spamhaus.org",
    /// ]);
    /// let e = Classifier::builtin().explain(&reply, Stage::RcptTo);
    /// assert_eq!(e.classification.category, Some(Category::Blocklisted));
    /// assert_eq!(e.considered[0].rule, e.classification.rule);
    /// assert!(e.considered.iter().any(|c| c.category == Category::ServiceUnavailable));
    /// println!("{}", e.reason);
    /// ```
    #[must_use]
    pub fn explain(&self, reply: &Reply, stage: Stage) -> Explanation {
        let classification = self.classify_inner(reply, stage);
        let code = reply.code();
        if code.is_positive() {
            return Explanation {
                classification,
                stage,
                code: Some(code.as_u16()),
                enhanced: reply.enhanced().map(|e| e.to_string()),
                considered: Vec::new(),
                reason: "a 2xx/3xx reply is a success (RFC 5321 §4.2.1)".to_owned(),
                model: None,
            };
        }
        let joined = joined_text(reply);
        let (enh, inner) = live_codes(reply, &joined);
        let (considered, mut reason, model) = self.explain_found(Some(code), enh, stage, &joined);
        if reply.has_mixed_codes() {
            reason.push_str("; the reply's lines disagree about the code, so the verdict is transient and low confidence");
        } else if let Some(i) = inner {
            reason.push_str(&inner_code_reason(code, i));
        }
        Explanation {
            classification,
            stage,
            code: Some(code.as_u16()),
            enhanced: enh.map(|e| e.to_string()),
            considered,
            reason,
            model,
        }
    }

    /// Like [`Classifier::explain`], for text: why [`Classifier::classify_text`]
    /// decides as it does.
    ///
    /// ```
    /// use tempfail::{Category, Classifier, Stage};
    /// let e = Classifier::builtin().explain_text("550 sorry, no mailbox here by that name. (#5.1.1)", Stage::RcptTo);
    /// assert_eq!(e.enhanced.as_deref(), Some("5.1.1"));
    /// assert_eq!(e.classification.category, Some(Category::UserUnknown));
    /// ```
    #[must_use]
    pub fn explain_text(&self, text: &str, stage: Stage) -> Explanation {
        let read = self.read_text(text, stage);
        let classification = self.classify_read(&read, text);
        let TextRead {
            stage,
            code,
            enh,
            reply,
            inner,
        } = read;
        let (considered, reason, model) = match &reply {
            Some(r) if r.code().is_positive() => (
                Vec::new(),
                "a 2xx/3xx reply is a success (RFC 5321 §4.2.1)".to_owned(),
                None,
            ),
            _ => {
                let (considered, mut reason, model) =
                    self.explain_found(code, enh, stage, text.as_bytes());
                if let (Some(c), Some(i)) = (code, inner) {
                    reason.push_str(&inner_code_reason(c, i));
                }
                (considered, reason, model)
            }
        };
        Explanation {
            classification,
            stage,
            code: code.map(ReplyCode::as_u16),
            enhanced: enh.map(|e| e.to_string()),
            considered,
            reason,
            model,
        }
    }

    /// Classifies text from a bounce (a DSN `Diagnostic-Code`, the reply quoted in a
    /// bounce body) or a log line.
    ///
    /// The reply inside the text is found with [`Reply::parse_loose`]; the phrases are
    /// matched against the whole text, so MTAs' own words for transport failures
    /// (`connect to host[192.0.2.1]:25: Connection refused`, `Host or domain name not
    /// found`) are recognised when there is no reply at all. When `stage` is
    /// [`Stage::Unknown`], a stage the text names (`(in reply to RCPT TO command)`,
    /// `while receiving the initial server greeting`) is used.
    ///
    /// Text with an enhanced status code but no basic code (`X-Postfix; 5.1.1 …`, a DSN
    /// `Status:` value) is classified with that enhanced code.
    ///
    /// Text with neither a code nor any recognised wording is [`Category::Other`],
    /// transient (nothing bounces on a guess), low confidence, rule
    /// `fallback.unrecognised_text`.
    ///
    /// Free text is never read as a success by accident: a positive code counts only
    /// where the text clearly is a positive reply (at its start, or where an MTA
    /// quotes a reply: `said:`, `smtp;`), never after a bare colon (`Mailbox full:
    /// 250 MB quota exceeded`), and a lone `2.x.x` status without a reply is ignored.
    #[must_use]
    pub fn classify_text(&self, text: &str, stage: Stage) -> Classification {
        self.classify_text_with_reply(text, stage).0
    }

    /// Like [`Classifier::classify_text`], and also returns the reply found in the text
    /// (for its codes), if any.
    ///
    /// ```
    /// use tempfail::{Category, Classifier, Stage};
    /// let (v, reply) = Classifier::builtin().classify_text_with_reply(
    ///     "host mx.example.com[192.0.2.1] said: 552 5.2.2 <a@example.com>: Mailbox full \
    ///      (in reply to RCPT TO command)",
    ///     Stage::Unknown,
    /// );
    /// assert_eq!(v.category, Some(Category::MailboxFull));
    /// assert_eq!(reply.unwrap().code().as_u16(), 552);
    /// ```
    #[must_use]
    pub fn classify_text_with_reply(
        &self,
        text: &str,
        stage: Stage,
    ) -> (Classification, Option<Reply>) {
        let read = self.read_text(text, stage);
        let v = self.classify_read(&read, text);
        traced(&v, stage, "text");
        (v, read.reply)
    }

    /// The stage, codes and reply text classification reads from bounce or log text.
    fn read_text(&self, text: &str, stage: Stage) -> TextRead {
        let bytes = text.as_bytes();
        let stage = if stage == Stage::Unknown {
            text::stage_from_text(bytes).unwrap_or(Stage::Unknown)
        } else {
            stage
        };
        // A bare positive number with no text and no enhanced code in bounce text
        // (`X-Unix; 255`, an exit status) is not evidence of a success.
        let found = Reply::parse_loose(text).filter(|r| {
            !(r.code().is_positive()
                && r.enhanced().is_none()
                && r.text_lines().all(<[u8]>::is_empty))
        });
        match found {
            Some(reply) => {
                let (enh, inner) = reply_codes(&reply, || text::buried_enhanced(bytes, true));
                TextRead {
                    stage,
                    code: Some(reply.code()),
                    enh,
                    reply: Some(reply),
                    inner,
                }
            }
            // A lone `2.x.x` in free text is no evidence of a success (a DSN
            // `Status: 2.0.0` is not a bounce); without a reply it says nothing.
            None => TextRead {
                stage,
                code: None,
                enh: text::enhanced_in_text(bytes).filter(|e| e.class() != 2),
                reply: None,
                inner: None,
            },
        }
    }

    /// Classifies what [`Classifier::read_text`] read of `text`.
    fn classify_read(&self, read: &TextRead, text: &str) -> Classification {
        let TextRead {
            stage,
            code,
            enh,
            ref reply,
            inner,
        } = *read;
        match (reply, code) {
            (Some(r), Some(c)) if c.is_positive() => positive(r, stage),
            (Some(r), Some(c)) => {
                let v = one_recipients_data_end(
                    self.decide(code, enh, stage, text.as_bytes()),
                    r,
                    stage,
                );
                match inner {
                    Some(i) => inner_code_disagrees(v, c, i),
                    None => v,
                }
            }
            _ => self.decide(code, enh, stage, text.as_bytes()),
        }
    }

    /// Classifies a transport failure at `stage` (where it happened).
    ///
    /// | failure | category | disposition | scope |
    /// |---|---|---|---|
    /// | connection refused, connect timeout | network | transient | destination |
    /// | reset, read timeout, unexpected close (RFC 5321 §3.8: as a 451) | network | transient | connection |
    /// | NXDOMAIN, no MX and no address record | domain_not_found | permanent | destination |
    /// | null MX (RFC 7505) | no_mail_service | permanent | destination |
    /// | temporary DNS failure | dns | transient | destination |
    /// | TLS handshake or certificate failure | tls_failed | transient | connection |
    /// | protocol violation by the server | protocol | transient | connection |
    ///
    /// A reset, read timeout or unexpected close at [`Stage::DataEnd`]/[`Stage::Bdat`] is
    /// rule `transport.lost_after_data`: still transient, but the message may already
    /// have been delivered (RFC 1047).
    #[must_use]
    pub fn classify_failure(&self, failure: TransportFailure, stage: Stage) -> Classification {
        let c = self.classify_failure_inner(failure, stage);
        traced(&c, stage, "transport_failure");
        c
    }

    fn classify_failure_inner(&self, failure: TransportFailure, stage: Stage) -> Classification {
        let rule = self
            .engine
            .find_failure(failure, stage)
            .and_then(|i| self.engine.rules.get(i as usize));
        match rule {
            Some(r) => Classification {
                // A transport failure is never a success (refused when a rule is checked).
                disposition: r
                    .disposition
                    .filter(|d| *d != Disposition::Success)
                    .unwrap_or_else(|| r.category.usual_disposition()),
                category: Some(r.category),
                scope: r.scope.unwrap_or_else(|| r.category.usual_scope(stage)),
                retry_after: r.retry_after,
                rule: r.id.clone(),
                description: r.description.clone(),
                low_confidence: false,
            },
            None => Classification {
                disposition: Disposition::Transient,
                category: Some(Category::Network),
                scope: Scope::Connection,
                retry_after: None,
                rule: Cow::Borrowed("fallback.transport_failure"),
                description: Cow::Owned(format!(
                    "no rule for the transport failure {failure}: treated as a lost connection (RFC 5321 §3.8), transient"
                )),
                low_confidence: true,
            },
        }
    }

    fn decide(
        &self,
        code: Option<ReplyCode>,
        enh: Option<EnhancedCode>,
        stage: Stage,
        text: &[u8],
    ) -> Classification {
        let found = self.engine.find(code, enh, stage, text, true);
        let winner = self.winner(&found);
        let mut v = self.verdict(
            winner.as_ref().map(|w| w.rule),
            found.hint,
            code,
            enh,
            stage,
        );
        // The rules' cause, not the model's, decides whether the reply says it is
        // passing: the model never changes a disposition.
        let won = winner
            .as_ref()
            .and_then(|w| self.engine.rules.get(w.rule as usize));
        if retry_asked_of_passing_cause(&found, won, &self.engine.rules, code, enh) {
            v.disposition = Disposition::Transient;
        }
        match self.consult(&found, winner.as_ref(), code, enh, stage, text) {
            Some(call) if call.decided => self.model_verdict(v, &call, &found, code, stage),
            _ => v,
        }
    }

    /// Whether the learned model is consulted for this reply (the rules' verdict is
    /// weak or nearly tied, see [`Gate`]), and if so what it says.
    fn consult(
        &self,
        found: &Found,
        winner: Option<&Weighed>,
        code: Option<ReplyCode>,
        enh: Option<EnhancedCode>,
        stage: Stage,
        text: &[u8],
    ) -> Option<ModelCall> {
        let (model, gate) = self.model.as_deref()?;
        if found.first.is_some() {
            return None;
        }
        let rules = &self.engine.rules;
        let (against, score) = match winner {
            Some(w) => {
                let r = rules.get(w.rule as usize)?;
                match r.evidence {
                    None | Some(Evidence::Exception) => return None,
                    Some(_) => (r.category, w.score),
                }
            }
            None => (Category::Other, 0),
        };
        if code_disposition(code, enh) == Some(Disposition::Success) {
            return None;
        }
        let weak = winner.is_none() || score <= gate.weak;
        // Causes within `tie` (at most 10: pruning never hides such a cause) of the
        // winner.
        let tie = gate.tie.min(super::engine::MAX_AGREEMENT);
        let mut tied = [Category::Other; 8];
        let mut n_tied = 0usize;
        if !weak && tie > 0 {
            let cands = found.candidates();
            for &i in cands {
                let Some(r) = rules.get(i as usize) else {
                    continue;
                };
                if r.evidence.is_none()
                    || r.category == against
                    || tied[..n_tied].contains(&r.category)
                    || n_tied == tied.len()
                {
                    continue;
                }
                if category_score(rules, cands, r.category)
                    .0
                    .saturating_add(tie)
                    >= score
                {
                    tied[n_tied] = r.category;
                    n_tied += 1;
                }
            }
            if n_tied == 0 {
                return None;
            }
        } else if !weak {
            return None;
        }
        let sc = model.scores(code, enh, stage, text);
        // The codes and the stage are the rules' own evidence: the model speaks only
        // when it knows some of the reply's words beyond RFC 5321's stock text.
        if !sc.words {
            return None;
        }
        let score_of = |c: Category| sc.scores.get(c as usize).copied().unwrap_or(i32::MIN);
        let pick = if weak {
            // The best-scored category (ties: the first declared), `other` aside.
            let mut best: Option<(Category, i32)> = None;
            for &c in Category::ALL {
                let s = score_of(c);
                if c != Category::Other && s != i32::MIN && best.is_none_or(|(_, b)| s > b) {
                    best = Some((c, s));
                }
            }
            best?.0
        } else {
            tied[..n_tied]
                .iter()
                .copied()
                .chain([against])
                .max_by_key(|&c| (score_of(c), core::cmp::Reverse(c)))?
        };
        let margin = score_of(pick).saturating_sub(score_of(against));
        // How common a category is never decides on its own: the reply's features
        // must favour the pick over the rules' verdict without the priors' help.
        let from_features = margin.saturating_sub(model.prior_favour(pick, against));
        Some(ModelCall {
            pick,
            against,
            margin,
            decided: pick != against && margin >= gate.margin.max(1) && from_features > 0,
            why: if weak { "weak" } else { "tie" },
        })
    }

    /// The verdict when the model decided: the rules' disposition (never more final),
    /// the model's category, the scope of that category's rule if one held (else the
    /// category's usual scope at this stage).
    fn model_verdict(
        &self,
        rules_verdict: Classification,
        call: &ModelCall,
        found: &Found,
        code: Option<ReplyCode>,
        stage: Stage,
    ) -> Classification {
        if rules_verdict.disposition == Disposition::Success {
            return rules_verdict;
        }
        let rules = &self.engine.rules;
        let held = found
            .candidates()
            .iter()
            .filter_map(|&i| rules.get(i as usize).map(|r| (i, r)))
            .filter(|(_, r)| r.category == call.pick && r.evidence.is_some())
            .max_by_key(|(i, r)| {
                (
                    r.evidence.map_or(0, Evidence::weight),
                    core::cmp::Reverse(*i),
                )
            })
            .map(|(_, r)| r);
        let (scope, retry_after) = match held {
            Some(r) => (scope_of(r, code, stage), found.hint.or(r.retry_after)),
            None => (scope_for(call.pick, None, code, stage), found.hint),
        };
        Classification {
            disposition: rules_verdict.disposition,
            category: Some(call.pick),
            scope,
            retry_after,
            rule: Cow::Borrowed("model.category"),
            description: Cow::Borrowed(
                "the rules were not confident (a weak or nearly tied verdict): the learned model trained on the shipped corpora chose the category; the disposition is the rules' (see explain for the model's features)",
            ),
            low_confidence: true,
        }
    }

    /// Weighs what the matcher found: a rule tried in order (no evidence kind) decides
    /// at once; otherwise every cause's rules are scored together and the strongest
    /// cause wins.
    fn winner(&self, found: &Found) -> Option<Weighed> {
        if let Some(i) = found.first {
            return Some(Weighed {
                rule: i,
                score: 0,
                corroborated: false,
            });
        }
        let rules = &self.engine.rules;
        if let [only] = found.candidates() {
            let w = rules
                .get(*only as usize)
                .and_then(|r| r.evidence)
                .map_or(0, Evidence::weight);
            return Some(Weighed {
                rule: *only,
                score: w,
                corroborated: false,
            });
        }
        // One pass over the candidates, one slot per cause named: the heaviest weight,
        // the specific kinds of evidence that name it, its earliest-declared rule, and
        // the rule to report for it (a documented exception or a stage's own handling
        // first, as it refines the cause; then the heaviest; then the earliest). A
        // reply names few causes, so the slots are searched linearly; a reply naming
        // more than `SLOTS` (hostile text) is weighed the slow way.
        const SLOTS: usize = 8;
        #[derive(Clone, Copy)]
        struct Slot {
            cat: Category,
            max: u16,
            kinds: u16,
            first: u32,
            pick: u32,
            rank: (bool, u16),
        }
        let mut slots = [Slot {
            cat: Category::Other,
            max: 0,
            kinds: 0,
            first: u32::MAX,
            pick: u32::MAX,
            rank: (false, 0),
        }; SLOTS];
        let mut used = 0usize;
        for &i in found.candidates() {
            let Some(r) = rules.get(i as usize) else {
                continue;
            };
            let Some(e) = r.evidence else { continue };
            let k = match slots[..used].iter().position(|s| s.cat == r.category) {
                Some(k) => k,
                None if used < SLOTS => {
                    slots[used].cat = r.category;
                    used += 1;
                    used - 1
                }
                None => return self.winner_many(found),
            };
            let s = &mut slots[k];
            let w = e.weight();
            // `first`: the earliest-declared of the cause's heaviest rules (ties between
            // causes go to it).
            if w > s.max || (w == s.max && i < s.first) {
                s.first = i;
            }
            s.max = s.max.max(w);
            if w >= Evidence::Stage.weight() {
                s.kinds |= 1 << (e as u16);
            }
            let rank = (matches!(e, Evidence::Exception | Evidence::Stage), w);
            if s.pick == u32::MAX || rank > s.rank || (rank == s.rank && i < s.pick) {
                s.pick = i;
                s.rank = rank;
            }
        }
        let mut best: Option<(u16, u32, u32, bool)> = None;
        for s in &slots[..used] {
            let (score, corroborated) = score_of(s.max, s.kinds);
            let better = match best {
                None => true,
                Some((b, first, _, _)) => score > b || (score == b && s.first < first),
            };
            if better {
                best = Some((score, s.first, s.pick, corroborated));
            }
        }
        let (score, _, rule, corroborated) = best?;
        Some(Weighed {
            rule,
            score,
            corroborated,
        })
    }

    /// [`Classifier::winner`] for a reply naming many causes: each cause scored from
    /// every candidate, quadratic in the (bounded) number of candidates.
    fn winner_many(&self, found: &Found) -> Option<Weighed> {
        let rules = &self.engine.rules;
        let cands = found.candidates();
        let cat_of = |i: u32| rules.get(i as usize).map(|r| r.category);
        let weight = |i: u32| {
            rules
                .get(i as usize)
                .and_then(|r| r.evidence)
                .map_or(0, Evidence::weight)
        };
        let mut best: Option<(u16, u32, Category, bool)> = None;
        for &i in cands {
            let Some(cat) = cat_of(i) else { continue };
            // Score each cause once, at the earliest-declared of its heaviest rules.
            let key = |j: u32| (core::cmp::Reverse(weight(j)), j);
            if cands
                .iter()
                .any(|&j| cat_of(j) == Some(cat) && key(j) < key(i))
            {
                continue;
            }
            let (score, corroborated) = category_score(rules, cands, cat);
            if best.is_none_or(|(s, j, _, _)| score > s || (score == s && i < j)) {
                best = Some((score, i, cat, corroborated));
            }
        }
        let (score, _, cat, corroborated) = best?;
        let rank = |i: u32| {
            let e = rules.get(i as usize).and_then(|r| r.evidence);
            (
                matches!(e, Some(Evidence::Exception | Evidence::Stage)),
                e.map_or(0, Evidence::weight),
                core::cmp::Reverse(i),
            )
        };
        let rule = cands
            .iter()
            .copied()
            .filter(|&i| cat_of(i) == Some(cat))
            .max_by_key(|&i| rank(i))?;
        Some(Weighed {
            rule,
            score,
            corroborated,
        })
    }

    /// The classification a winning rule (or none) gives.
    fn verdict(
        &self,
        winner: Option<u32>,
        hint: Option<Duration>,
        code: Option<ReplyCode>,
        enh: Option<EnhancedCode>,
        stage: Stage,
    ) -> Classification {
        let by_codes = code_disposition(code, enh);
        match winner.and_then(|i| self.engine.rules.get(i as usize)) {
            Some(r) => {
                let disposition = r
                    .disposition
                    .or(by_codes)
                    .unwrap_or_else(|| r.category.usual_disposition());
                if disposition == Disposition::Success {
                    return Classification {
                        rule: r.id.clone(),
                        description: r.description.clone(),
                        ..success(stage)
                    };
                }
                let scope = scope_of(r, code, stage);
                Classification {
                    disposition,
                    category: Some(r.category),
                    scope,
                    retry_after: hint.or(r.retry_after),
                    rule: r.id.clone(),
                    description: r.description.clone(),
                    low_confidence: false,
                }
            }
            None => match by_codes {
                Some(Disposition::Success) => success(stage),
                Some(d) => Classification {
                    disposition: d,
                    category: Some(Category::Other),
                    scope: Category::Other.usual_scope(stage),
                    retry_after: hint,
                    rule: Cow::Borrowed("fallback.code_only"),
                    description: Cow::Borrowed(
                        "no rule matched: decided by the reply codes alone (4xx transient, 5xx permanent, 5xx with a 4.X.X enhanced code transient)",
                    ),
                    low_confidence: true,
                },
                None => Classification {
                    disposition: Disposition::Transient,
                    category: Some(Category::Other),
                    scope: Category::Other.usual_scope(stage),
                    retry_after: hint,
                    rule: Cow::Borrowed("fallback.unrecognised_text"),
                    description: Cow::Borrowed(
                        "no reply code and no recognised wording: treated as transient so that nothing bounces on a guess",
                    ),
                    low_confidence: true,
                },
            },
        }
    }

    /// The evidence behind a decision: every rule that held, scored, strongest first,
    /// and why the winner won.
    fn explain_found(
        &self,
        code: Option<ReplyCode>,
        enh: Option<EnhancedCode>,
        stage: Stage,
        text: &[u8],
    ) -> (Vec<Considered>, String, Option<ModelVote>) {
        let found = self.engine.find(code, enh, stage, text, false);
        let rules = &self.engine.rules;
        let winner = self.winner(&found);
        let call = self.consult(&found, winner.as_ref(), code, enh, stage, text);
        let vote = call.as_ref().and_then(|c| {
            let (model, _) = self.model.as_deref()?;
            Some(ModelVote {
                category: c.pick,
                against: c.against,
                margin: c.margin,
                decided: c.decided,
                why: c.why.to_owned(),
                features: model.top_features(code, enh, stage, text, c.pick, c.against),
            })
        });
        let mut considered: Vec<(u32, Considered)> = Vec::new();
        if let Some(i) = found.first {
            if let Some(r) = rules.get(i as usize) {
                considered.push((
                    i,
                    Considered {
                        rule: r.id.clone(),
                        category: r.category,
                        evidence: None,
                        weight: 0,
                        category_score: 0,
                    },
                ));
            }
        }
        for &i in found.candidates() {
            let Some(r) = rules.get(i as usize) else {
                continue;
            };
            considered.push((
                i,
                Considered {
                    rule: r.id.clone(),
                    category: r.category,
                    evidence: r.evidence,
                    weight: r.evidence.map_or(0, Evidence::weight),
                    category_score: category_score(rules, found.candidates(), r.category).0,
                },
            ));
        }
        considered.sort_by_key(|(i, c)| {
            (
                c.evidence.is_some(),
                core::cmp::Reverse(c.category_score),
                core::cmp::Reverse(c.weight),
                *i,
            )
        });
        // The winner first (a stage rule or an exception is reported for its cause even
        // when a heavier rule of the same cause held).
        if let Some(w) = &winner {
            if let Some(k) = considered.iter().position(|(i, _)| *i == w.rule) {
                considered[..=k].rotate_right(1);
            }
        }
        let reason = match (&winner, winner.as_ref().and_then(|w| rules.get(w.rule as usize))) {
            (Some(w), Some(r)) if r.evidence.is_none() => format!(
                "{} is a rule tried in order before any weighing, and it holds",
                r.id
            ),
            (Some(w), Some(r)) => {
                // Each other cause once, by its heaviest rule (`considered` lists a cause's
                // rules heaviest first).
                let other = |tied: bool| -> Vec<String> {
                    let mut seen: Vec<Category> = Vec::new();
                    considered
                        .iter()
                        .filter(|(_, c)| {
                            c.category != r.category && (c.category_score >= w.score) == tied
                        })
                        .filter(|(_, c)| {
                            let first = !seen.contains(&c.category);
                            if first {
                                seen.push(c.category);
                            }
                            first
                        })
                        .map(|(_, c)| format!("{} ({}, {})", c.rule, c.category, c.category_score))
                        .collect()
                };
                let (tied, others) = (other(true), other(false));
                let mut s = format!(
                    "the cause {} scores {} ({} evidence from {}{})",
                    r.category,
                    w.score,
                    r.evidence.map_or("user", Evidence::name),
                    r.id,
                    if w.corroborated {
                        ", corroborated by other kinds of evidence for the same cause"
                    } else {
                        ""
                    }
                );
                if !tied.is_empty() {
                    // Equal scores: the cause whose heaviest rule was declared first wins.
                    s.push_str("; it ties with ");
                    s.push_str(&tied.join(", "));
                    s.push_str(" and wins because its heaviest rule is declared first");
                }
                if !others.is_empty() {
                    s.push_str(if tied.is_empty() {
                        "; it outweighs "
                    } else {
                        "; it outweighs the rest: "
                    });
                    s.push_str(&others.join(", "));
                } else if tied.is_empty() {
                    s.push_str("; no other cause had evidence");
                }
                s
            }
            _ => match code {
                Some(_) => "no rule held: the codes alone decide (low confidence)".to_owned(),
                None => "no code and no recognised wording: transient, so that nothing bounces on a guess (low confidence)".to_owned(),
            },
        };
        let reason = match &vote {
            Some(v) if v.decided => format!(
                "the rules were not confident ({}): the learned model chose {} over the rules' {} by {} (hundredths of a nat; top features: {}); the rules said: {reason}",
                if v.why == "weak" {
                    "a weak verdict"
                } else {
                    "a near tie"
                },
                v.category,
                v.against,
                v.margin,
                v.features
                    .iter()
                    .map(|f| format!("{} {:+}", f.feature, f.weight))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(v) => format!(
                "{reason}; the learned model was consulted ({}) and preferred {} by {}, not enough to decide",
                if v.why == "weak" {
                    "a weak verdict"
                } else {
                    "a near tie"
                },
                v.category,
                v.margin
            ),
            None => reason,
        };
        // The rules' cause, as when classifying (the model never changes a disposition).
        let won = winner.as_ref().and_then(|w| rules.get(w.rule as usize));
        let reason = if retry_asked_of_passing_cause(&found, won, rules, code, enh) {
            format!(
                "{reason}; the text asks for a later retry and the cause ({}) passes with time, so the 5xx is transient",
                won.map_or("cause", |r| r.category.name())
            )
        } else {
            reason
        };
        (
            considered.into_iter().map(|(_, c)| c).collect(),
            reason,
            vote,
        )
    }
}

/// What the learned model said when consulted.
struct ModelCall {
    pick: Category,
    against: Category,
    margin: i32,
    decided: bool,
    why: &'static str,
}

/// The rule that won the weighing, with its cause's score.
struct Weighed {
    rule: u32,
    score: u16,
    corroborated: bool,
}

/// A cause's score: the weight of its heaviest rule, plus 5 for each other specific
/// kind of evidence (a specific enhanced code, a stage's meaning, wording) that names
/// the same cause, at most 10: wording and a specific code that agree outweigh wording
/// alone. Vague codes and basic codes corroborate nothing (they name a cause for almost
/// any reply). Also whether any corroboration counted.
fn category_score(rules: &[Rule], cands: &[u32], cat: Category) -> (u16, bool) {
    let mut max = 0u16;
    let mut kinds = 0u16;
    for &i in cands {
        let Some(r) = rules.get(i as usize) else {
            continue;
        };
        if r.category != cat {
            continue;
        }
        let Some(e) = r.evidence else { continue };
        max = max.max(e.weight());
        if e.weight() >= Evidence::Stage.weight() {
            kinds |= 1 << (e as u16);
        }
    }
    score_of(max, kinds)
}

/// The score of a cause whose heaviest rule weighs `max`, named by the specific kinds of
/// evidence in the bit set `kinds`: 5 more for each kind beyond the first, at most 10.
fn score_of(max: u16, kinds: u16) -> (u16, bool) {
    let extra = kinds.count_ones().saturating_sub(1).min(2) as u16;
    let bonus = extra.saturating_mul(5).min(super::engine::MAX_AGREEMENT);
    (max.saturating_add(bonus), extra > 0)
}

/// What must wait, for the winning rule at this stage.
///
/// - A rule's own scope stands, except as below.
/// - A protocol error, a server error, a network or DNS failure reported in a reply,
///   or a policy refusal (causes that name no recipient, message or destination of
///   their own) answered to one recipient is
///   about that recipient, and answered to the sender or the data, about this
///   message; a rule that says it refuses the whole destination (our client host)
///   keeps that. A `503` protocol error (bad sequence) answered to one recipient is
///   the transaction's, so about this message.
/// - A `421` closes the transmission channel (RFC 5321 §3.8): a verdict about a
///   recipient, or a stage-scoped one about a message, becomes one about the
///   connection, except a throttle or a concurrency limit of one recipient (it stays that recipient's) and a
///   cause that is the message's own (content, size, sender, authentication, recipient
///   count, a throttle of this message), which stays the message's.
fn scope_of(r: &Rule, code: Option<ReplyCode>, stage: Stage) -> Scope {
    scope_for(r.category, r.scope, code, stage)
}

/// [`scope_of`] for a cause `category` whose rule sets `rule_scope` (none: the model's
/// pick without a rule of its own).
fn scope_for(
    category: Category,
    rule_scope: Option<Scope>,
    code: Option<ReplyCode>,
    stage: Stage,
) -> Scope {
    let mut scope = rule_scope.unwrap_or_else(|| category.usual_scope(stage));
    let stage_scoped = match category {
        Category::ServerError => true,
        // "Service unavailable" without a 421 does not close the session: it is the
        // receiving side's passing trouble with this command, like a server error.
        Category::ServiceUnavailable => {
            code.is_some_and(|c| c != ReplyCode::SERVICE_NOT_AVAILABLE)
                && rule_scope != Some(Scope::Destination)
        }
        Category::Protocol | Category::Policy | Category::Network | Category::Dns => {
            rule_scope != Some(Scope::Destination)
        }
        _ => false,
    };
    if stage_scoped {
        match stage {
            // A bad sequence of commands (503) answered to RCPT TO is the transaction's
            // fault ("MAIL is required before RCPT"), not this recipient's.
            Stage::RcptTo
                if category == Category::Protocol && code == Some(ReplyCode::BAD_SEQUENCE) =>
            {
                scope = Scope::Message
            }
            Stage::RcptTo => scope = Scope::Recipient,
            Stage::MailFrom | Stage::Data | Stage::DataEnd | Stage::Bdat => scope = Scope::Message,
            // Before any transaction a rule's scope names nothing of this message or
            // recipient: the category's usual scope at that stage holds (a policy
            // refusal there can only be of us, the destination's).
            Stage::Connect | Stage::Greeting | Stage::Ehlo | Stage::Helo => {
                scope = category.usual_scope(stage)
            }
            _ => {}
        }
    }
    // A cause that is this message's own (its content, size, sender, authentication,
    // recipient count, or a throttle of this message) stays the message's even when the
    // server also closes the channel: the session ends either way, and what must wait is
    // the message, not every message on the connection.
    let message_cause = scope == Scope::Message && !stage_scoped && category != Category::Policy;
    if code == Some(ReplyCode::SERVICE_NOT_AVAILABLE)
        && matches!(scope, Scope::Recipient | Scope::Message)
        // A per-recipient throttle, a greylisting (kept per sender, recipient and
        // client) or a limit on one mailbox's concurrent deliveries holds the
        // recipient, not every recipient on the connection.
        && !(matches!(
            category,
            Category::RateLimited | Category::Greylisted | Category::TooManyConnections
        ) && scope == Scope::Recipient)
        && !message_cause
    {
        scope = Scope::Connection;
    }
    scope
}

/// A reply to the end of the data whose text opens with one recipient's address
/// (`450 4.3.0 <user@example.org> System resource problem`) is that recipient's
/// result, as LMTP gives one reply per recipient after the data (RFC 2033 §4.2) and a
/// server checking recipients at the end of the data names the one it refuses: a cause
/// that names nothing of its own (a server error, a network or DNS failure, no rule at
/// all) is that recipient's, not the whole message's. A refusal (policy, protocol), a
/// cause that is the message's own (its content, size, sender, a loop) and an address
/// that reads as another's ([`opens_with_one_recipient`]) stay the message's, and a
/// `421`'s connection scope stands.
/// Applied on both paths, to a live reply and to one found in bounce text, so the same
/// reply is scoped alike however it arrives.
fn one_recipients_data_end(mut c: Classification, reply: &Reply, stage: Stage) -> Classification {
    if stage == Stage::DataEnd
        && c.scope == Scope::Message
        && matches!(
            c.category,
            Some(Category::ServerError | Category::Network | Category::Dns | Category::Other)
        )
        && opens_with_one_recipient(reply.text_lines().next().unwrap_or_default())
    {
        c.scope = Scope::Recipient;
    }
    c
}

/// Whether a line opens with one address in angle brackets that reads as a recipient's:
/// not a role address (`postmaster`, `abuse`), no second address later, and no word
/// saying the address is the sender's or a message's id.
fn opens_with_one_recipient(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"<") else {
        return false;
    };
    let Some(end) = rest.iter().position(|&b| b == b'>') else {
        return false;
    };
    let (addr, after) = rest.split_at(end);
    let Some(at) = addr.iter().position(|&b| b == b'@') else {
        return false;
    };
    if addr.iter().any(u8::is_ascii_whitespace) {
        return false;
    }
    let local = addr.get(..at).unwrap_or_default();
    let role = [
        &b"postmaster"[..],
        b"abuse",
        b"hostmaster",
        b"mailer-daemon",
    ]
    .iter()
    .any(|r| local.eq_ignore_ascii_case(r));
    let says_other = [&b"sender"[..], b"from", b"message-id", b"message id", b"@"]
        .iter()
        .any(|w| after.windows(w.len()).any(|x| x.eq_ignore_ascii_case(w)));
    !role && !says_other && !reads_as_message_id(local)
}

/// Whether an address's local part reads as a Message-ID's rather than a mailbox's:
/// long and mostly digits (`20261208101500.4F2A1@host`, `1733650000.12345.678@host`), a
/// UUID (five hyphen-separated hex groups), or a `$` (Sendmail's ids). Mailbox names are
/// short words (`bob`, `j.doe42`, `sales+eu`).
fn reads_as_message_id(local: &[u8]) -> bool {
    let digits = local.iter().filter(|b| b.is_ascii_digit()).count();
    let long_and_numeric =
        local.len() >= 16 && digits.saturating_mul(10) >= local.len().saturating_mul(4);
    let groups: Vec<&[u8]> = local.split(|&b| b == b'-').collect();
    let uuid = groups.len() == 5
        && groups
            .iter()
            .zip([8usize, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.iter().all(u8::is_ascii_hexdigit));
    long_and_numeric || uuid || local.contains(&b'$')
}

/// What the classifier reads from a live (non-positive) reply: its code, its enhanced
/// code (also one buried in the text) and its text lines joined (for training the
/// model on exactly what it will see).
#[cfg(feature = "model-training")]
pub(super) fn reply_input(reply: &Reply) -> (ReplyCode, Option<EnhancedCode>, Vec<u8>) {
    let joined = joined_text(reply);
    let (enh, _) = live_codes(reply, &joined);
    (reply.code(), enh, joined.into_owned())
}

/// What the text path reads of bounce or log text, once ([`Classifier::read_text`]): the
/// stage (from the text when unknown), the reply found and its codes, and the second code
/// its first line begins with when that disagrees with the reply's own.
struct TextRead {
    stage: Stage,
    code: Option<ReplyCode>,
    enh: Option<EnhancedCode>,
    reply: Option<Reply>,
    inner: Option<ReplyCode>,
}

/// A reply's enhanced code (one after a second basic code at the start of its first
/// line, [`text::inner_code`], first; then the reply's own; then `buried`, one found in
/// the text) and that second code when it is of the other failure class than the
/// reply's own ([`codes_disagree`]). One reading of the first line for both; the live
/// and the text path differ only in how they look for a buried code.
fn reply_codes(
    reply: &Reply,
    buried: impl FnOnce() -> Option<EnhancedCode>,
) -> (Option<EnhancedCode>, Option<ReplyCode>) {
    let inner = text::inner_code(first_line(reply), reply.enhanced().is_some());
    let enh = inner
        .and_then(|i| i.1)
        .or_else(|| reply.enhanced())
        .or_else(buried);
    (
        enh,
        inner
            .map(|i| i.0)
            .filter(|i| codes_disagree(reply.code(), *i)),
    )
}

/// [`reply_codes`] of a live reply, whose buried code is looked for in its joined text
/// (`joined_text`) without a bounce's wider search.
fn live_codes(reply: &Reply, joined: &[u8]) -> (Option<EnhancedCode>, Option<ReplyCode>) {
    reply_codes(reply, || text::buried_enhanced(joined, false))
}

/// The `explain` reason's addition for a disagreeing second code ([`reply_codes`]).
fn inner_code_reason(code: ReplyCode, inner: ReplyCode) -> String {
    format!(
        "; the text begins with another code ({inner}) than the reply's ({code}), so the verdict is transient and low confidence"
    )
}

/// A reply's first text line (empty when it has none): where a second code would be.
fn first_line(reply: &Reply) -> &[u8] {
    reply.text_lines().next().unwrap_or_default()
}

/// Whether a reply's code and the code its text begins with disagree about passing
/// (one 4xx, the other 5xx).
fn codes_disagree(code: ReplyCode, inner: ReplyCode) -> bool {
    matches!((code.class(), inner.class()), (4, 5) | (5, 4))
}

/// A reply whose text begins with a code of the other class than the reply's own (a
/// server library's default code in front of the one meant: `550 451 4.3.0 …`, `450
/// 550 Spam detected`) is ambiguous evidence about passing: the category and scope of
/// the rule that matched stay; the disposition becomes transient and the result is
/// flagged low confidence, as for lines that disagree ([`mixed_codes`]).
fn inner_code_disagrees(c: Classification, code: ReplyCode, inner: ReplyCode) -> Classification {
    Classification {
        disposition: Disposition::Transient,
        low_confidence: true,
        rule: Cow::Borrowed("reply.inner_code"),
        description: Cow::Owned(format!(
            "the reply's text begins with another code ({inner}) than the reply's ({code}): a library's default code in front of the one meant, so never final ({}: {})",
            c.rule, c.description
        )),
        ..c
    }
}

/// What the classifier reads from bounce or log text: the stage, code and enhanced
/// code (see [`Classifier::classify_text`]).
#[cfg(feature = "model-training")]
pub(super) fn text_input(
    text: &str,
    stage: Stage,
) -> (Stage, Option<ReplyCode>, Option<EnhancedCode>) {
    let read = Classifier::builtin().read_text(text, stage);
    (read.stage, read.code, read.enh)
}

/// A reply's text lines, joined by spaces (one line: as it is).
fn joined_text(reply: &Reply) -> Cow<'_, [u8]> {
    let mut lines = reply.text_lines();
    let first = lines.next().unwrap_or_default();
    match lines.next() {
        None => Cow::Borrowed(first),
        Some(second) => {
            let mut v = Vec::with_capacity(first.len() + second.len() + 64);
            v.extend_from_slice(first);
            v.push(b' ');
            v.extend_from_slice(second);
            for l in lines {
                v.push(b' ');
                v.extend_from_slice(l);
            }
            Cow::Owned(v)
        }
    }
}

/// A `2xx`/`3xx` reply: a success, unless its lines disagree about the code.
fn positive(reply: &Reply, stage: Stage) -> Classification {
    if reply.has_mixed_codes() {
        // Lines that disagree, even all positive, are no clear success.
        let c = Classification {
            category: Some(Category::Protocol),
            scope: Scope::Connection,
            ..success(stage)
        };
        return mixed_codes(c, reply.code());
    }
    success(stage)
}

/// One `tracing` event per classification (feature `tracing`).
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn traced(c: &Classification, stage: Stage, input: &'static str) {
    trace_event!(
        debug,
        input,
        stage = stage.name(),
        disposition = c.disposition.name(),
        category = c.category.map_or("none", |k| k.name()),
        scope = c.scope.name(),
        rule = %c.rule,
        low_confidence = c.low_confidence,
        "classified"
    );
}

/// A `5xx` (without a `4.X.X` enhanced code) whose winning rule sets no disposition of
/// its own, whose cause passes with time, and whose text asks for a later retry:
/// transient (see [`Classifier`]'s disposition precedence). Whether the cause passes is
/// the winner's `passes` when it says; otherwise it passes when its category usually
/// does ([`Category::usually_passes`]: a rate or connection limit, a greylisting) or a
/// weighed rule of the same category that held says it does (the lock-out rule among
/// the `auth_failed` ones). Only kinds that pruning never skips lend it (not vague
/// wording or a code's meaning), so `classify` and `explain` agree. Both ask this of
/// the rules' winner, never of the model's pick.
fn retry_asked_of_passing_cause(
    found: &Found,
    won: Option<&Rule>,
    rules: &[Rule],
    code: Option<ReplyCode>,
    enh: Option<EnhancedCode>,
) -> bool {
    found.retry_asked
        && won.is_some_and(|r| {
            r.disposition.is_none()
                && r.passes.unwrap_or_else(|| {
                    r.category.usually_passes()
                        || found
                            .candidates()
                            .iter()
                            .filter_map(|&i| rules.get(i as usize))
                            .any(|c| {
                                c.passes == Some(true)
                                    && c.category == r.category
                                    && c.evidence
                                        .is_some_and(|e| e.weight() >= Evidence::Stage.weight())
                            })
                })
        })
        && code_disposition(code, enh) == Some(Disposition::Permanent)
}

/// The disposition the codes alone give (see [`Classifier`]'s precedence).
fn code_disposition(code: Option<ReplyCode>, enh: Option<EnhancedCode>) -> Option<Disposition> {
    let enh_class = enh.map(EnhancedCode::class);
    match code.map(ReplyCode::class) {
        Some(2 | 3) => Some(Disposition::Success),
        Some(4) => Some(Disposition::Transient),
        Some(_) => Some(if enh_class == Some(4) {
            Disposition::Transient
        } else {
            Disposition::Permanent
        }),
        None => match enh_class {
            Some(2) => Some(Disposition::Success),
            Some(4) => Some(Disposition::Transient),
            Some(5) => Some(Disposition::Permanent),
            _ => None,
        },
    }
}

fn success(stage: Stage) -> Classification {
    Classification {
        disposition: Disposition::Success,
        category: None,
        scope: Category::Other.usual_scope(stage),
        retry_after: None,
        rule: Cow::Borrowed("rfc5321.positive"),
        description: Cow::Borrowed("2xx/3xx: the command was accepted (RFC 5321 §4.2.1)"),
        low_confidence: false,
    }
}

/// A reply whose lines disagreed about the code is ambiguous evidence: read by its
/// safest code (never a success, see [`Reply::has_mixed_codes`]), it is never final
/// either. The category and scope of the rule that matched stay; the disposition
/// becomes transient and the result is flagged low confidence.
fn mixed_codes(c: Classification, code: ReplyCode) -> Classification {
    Classification {
        disposition: Disposition::Transient,
        low_confidence: true,
        rule: Cow::Borrowed("reply.mixed_codes"),
        description: Cow::Owned(format!(
            "the reply's lines disagree about the code: read as {code}, the safest of them, and never as final ({}: {})",
            c.rule, c.description
        )),
        ..c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data-end reply that opens with a Message-ID is not one recipient's result: the
    /// id's long numeric, UUID or `$` local part is not read as a mailbox.
    #[test]
    fn a_message_id_is_not_a_recipient() {
        for line in [
            &b"<20261208101500.4F2A1C@mail.example.org> temporary failure"[..],
            b"<1733650000.12345.678@example.org> System resource problem",
            b"<5f0c1e2a-9b7d-4c3e-8a1f-2b3c4d5e6f70@example.org> queue error",
            b"<202612081015.4B8AF$x1@example.org> local error",
        ] {
            assert!(
                !opens_with_one_recipient(line),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        for line in [
            &b"<bob@example.org> System resource problem"[..],
            b"<j.doe42@example.org> temporary failure",
            b"<sales+eu-2026@example.org> local error",
            b"<firstname.lastname1990@example.org> queue error",
        ] {
            assert!(
                opens_with_one_recipient(line),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        let c = Classifier::builtin();
        let id = c.classify_text(
            "451 4.3.0 <20261208101500.4F2A1C@mail.example.org> temporary failure",
            Stage::DataEnd,
        );
        let rcpt = c.classify_text(
            "451 4.3.0 <bob@example.org> temporary failure",
            Stage::DataEnd,
        );
        assert_eq!(id.scope, Scope::Message);
        assert_eq!(rcpt.scope, Scope::Recipient);
    }

    /// Pruning (skipping vague rules that cannot decide) never changes a verdict: on
    /// every reply of the repository's corpora, at every stage, the winner with pruning
    /// is the winner without. Only a row's position is printed on a disagreement.
    #[test]
    fn pruning_keeps_every_verdict() {
        let c = Classifier::builtin();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut n = 0usize;
        for f in [
            "corpus/sisimai.jsonl",
            "corpus/crisp.jsonl",
            "generalisation/replies.jsonl",
        ] {
            let text = std::fs::read_to_string(dir.join(f)).expect("corpus file");
            for (row, line) in text.lines().enumerate() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                let Some(reply_text) = v.get("reply").and_then(|r| r.as_str()) else {
                    continue;
                };
                let (code, enh, bytes): (Option<ReplyCode>, Option<EnhancedCode>, Vec<u8>) =
                    match Reply::parse_loose(reply_text) {
                        Some(r) => (Some(r.code()), r.enhanced(), joined_text(&r).into_owned()),
                        None => (None, None, reply_text.as_bytes().to_vec()),
                    };
                for &stage in Stage::ALL {
                    let fast = c.engine.find(code, enh, stage, &bytes, true);
                    let full = c.engine.find(code, enh, stage, &bytes, false);
                    let a = c.winner(&fast).map(|w| (w.rule, w.score));
                    let b = c.winner(&full).map(|w| (w.rule, w.score));
                    assert_eq!(a, b, "{f} line {row} at {stage}");
                    n += 1;
                }
            }
        }
        assert!(n > 20_000, "{n} verdicts compared");
    }
}
