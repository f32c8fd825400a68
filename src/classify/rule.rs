//! User rules: plain data, checked into the engine's rule form.
use std::borrow::Cow;
use std::time::Duration;

use super::{Category, Disposition, Evidence, Scope, Stage, TransportFailure};
use crate::reply::{EnhancedCode, ReplyCode};

/// A user rule: how a deployment teaches the classifier what its receivers mean.
///
/// A [`UserRule`] is plain data (strings and lists), so it can come from any
/// configuration format through `serde` (feature `serde`) or be built in code.
/// [`Classifier::with_rules`](crate::Classifier::with_rules) checks every field and
/// refuses a bad rule with a [`RuleError`] naming the rule and the field.
///
/// # Fields
///
/// | field | type | meaning | default |
/// |---|---|---|---|
/// | `id` | string | unique, non-empty; reported as [`Classification::rule`](crate::Classification::rule) | required |
/// | `description` | string | reported as [`Classification::description`](crate::Classification::description) | empty |
/// | `stages` | list of stage names | the rule applies only to replies to these commands (`rcpt_to`, `data_end`, …; see [`Stage`]) | every stage |
/// | `codes` | list of code patterns | basic code, three characters, each a digit or `x` (any digit): `"550"`, `"55x"`, `"4xx"`; `"none"` matches text without a basic code (a bounce's or a log's account, not a live reply) | any code, or none |
/// | `enhanced` | list of enhanced patterns | `class.subject.detail`, each part a number or `*`: `"5.7.1"`, `"5.7.*"`, `"*.2.2"`; `"none"` matches a reply without an enhanced code; a pattern with a leading `!` excludes (`"!5.7.*"`: any enhanced code but `5.7.*`, or none): the rule holds when one plain pattern matches (or there is none) and no excluding pattern does | any |
/// | `text` | list of strings | the reply text contains at least one of them, ASCII case-insensitively (plain substring, no regex) | any text |
/// | `words` | list of phrases | like `text`, but each phrase must start and end at a word boundary; a leading or trailing `*` lets it run into a word (`"greylist*"` matches `greylisted`); `{a\|b\|c}` gives alternatives (`"{won't\|cannot} accept mail from your {host\|ip}"` is four phrases; no nesting, at most 64 phrases from one entry, an empty alternative allowed; a `*` counts only at either end of a whole phrase, and an empty alternative between two spaces leaves two spaces, which match only two spaces) | any text |
/// | `failures` | list of [`TransportFailure`] names | the rule classifies these transport failures (`connection_refused`, `read_timeout`, `pipeline_desync`, `no_outcome`…) instead of replies; it cannot also set `codes`, `enhanced`, `text` or `words`, nor the disposition `success` | the rule classifies replies and text |
/// | `disposition` | `success`/`transient`/`permanent` | overrides the codes (and a reply's own request for a later retry) | from the codes, as [`Classifier`](crate::Classifier) describes |
/// | `category` | a [`Category`] name | the category reported | required |
/// | `scope` | a [`Scope`] name | what must wait | the category's usual scope ([`Category::usual_scope`]) |
/// | `retry_after` | duration: `"300"`, `"300s"`, `"5m"`, `"2h"`, `"1d"` | retry hint used when the reply has none of its own; clamped like the parsed hints | none |
/// | `evidence` | an [`Evidence`] name (`wording`, `enhanced_code`, …) | the rule is weighed with the built-in rules as this kind of evidence instead of being tried first | tried first, in order |
/// | `passes` | `true`/`false` | the cause this rule names passes with time (a lock-out, a quota window): a `5xx` it decides whose text asks for a later retry is transient; `false` keeps such a `5xx` as its code says. A weighed rule (not a vague kind) that says `true` lends it to a winner of the same category that says nothing | from the category ([`Category::usually_passes`]: rate and connection limits, greylisting) |
///
/// A rule matches when every condition that is set holds. Rules without `evidence` are
/// tried in the order given (the first that holds decides), before the built-in rules (or instead of them, with
/// [`Classifier::from_rules_only`](crate::Classifier::from_rules_only)). They apply to
/// negative replies and transport wording; a `2xx`/`3xx` reply is always a success.
/// A rule with `failures` applies to those transport failures only
/// ([`Classifier::classify_failure`](crate::Classifier::classify_failure)): this is how a
/// deployment overrides what the session and the delivery machine conclude on their own
/// (a lost connection, a timeout, a desynchronised pipeline, an attempt that ended
/// without an outcome).
///
/// A rule with `evidence` is not tried first: it is weighed with every other rule
/// that holds, as the built-in rules are (see [`Evidence`]).
///
/// The built-in rules are themselves [`UserRule`]s, in this same format, each with its
/// `evidence`
/// ([`Classifier::builtin_rules`](crate::Classifier::builtin_rules)): print them, edit
/// them, load the result with
/// [`Classifier::from_rules_only`](crate::Classifier::from_rules_only).
///
/// # JSON
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use tempfail::classify::{Classifier, UserRule};
/// use tempfail::{Category, Reply, ReplyCode, Stage};
///
/// let json = r#"[{
///     "id": "acme.quota_is_temporary",
///     "description": "Acme's 552 quota replies clear within hours (Acme support article 42)",
///     "stages": ["rcpt_to"],
///     "codes": ["55x"],
///     "enhanced": ["5.2.*"],
///     "text": ["acme quota"],
///     "disposition": "transient",
///     "category": "mailbox_full",
///     "retry_after": "2h"
/// }]"#;
/// let rules: Vec<UserRule> = serde_json::from_str(json).unwrap();
/// let c = Classifier::builtin().with_rules(rules).unwrap();
/// let reply = Reply::new(ReplyCode::new(552).unwrap(), ["5.2.2 Acme quota reached"]);
/// let v = c.classify(&reply, Stage::RcptTo);
/// assert_eq!(v.rule, "acme.quota_is_temporary");
/// assert_eq!(v.category, Some(Category::MailboxFull));
/// assert_eq!(v.disposition.name(), "transient");
/// # }
/// ```
///
/// # TOML
///
/// The same rule in TOML (any serde format works; tempfail does not parse TOML itself):
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use tempfail::classify::{Classifier, UserRule};
/// use tempfail::{Category, Stage};
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Config {
///     rules: Vec<UserRule>,
/// }
/// let toml = r#"
/// [[rules]]
/// id = "acme.quota_is_temporary"
/// description = "Acme's 552 quota replies clear within hours (Acme support article 42)"
/// stages = ["rcpt_to"]
/// codes = ["55x"]
/// enhanced = ["5.2.*"]
/// text = ["acme quota"]
/// disposition = "transient"
/// category = "mailbox_full"
/// retry_after = "2h"
///
/// [[rules]]
/// id = "acme.slow_down"
/// words = ["slow down", "slowdown*"]
/// category = "rate_limited"
/// scope = "destination"
///
/// [[rules]]
/// id = "ours.read_timeout_after_data"
/// failures = ["read_timeout"]
/// stages = ["data_end"]
/// category = "network"
/// scope = "message"
/// "#;
/// let cfg: Config = toml::from_str(toml).unwrap();
/// let c = Classifier::builtin().with_rules(cfg.rules).unwrap();
/// let v = c.classify_text("552 5.2.2 Acme quota reached", Stage::RcptTo);
/// assert_eq!(v.rule, "acme.quota_is_temporary");
/// assert_eq!(v.category, Some(Category::MailboxFull));
/// let v = c.classify_text("451 please slow down", Stage::RcptTo);
/// assert_eq!(v.rule, "acme.slow_down");
/// // A misspelt field is refused, naming it.
/// let err = toml::from_str::<Config>("[[rules]]\nid = \"x\"\ncategory = \"other\"\ncode = [\"550\"]").unwrap_err();
/// assert!(err.to_string().contains("code"), "{err}");
/// # }
/// ```
///
/// # In code (no `serde` needed)
///
/// ```
/// use tempfail::classify::{Classifier, UserRule};
/// use tempfail::{Category, Disposition, Stage};
///
/// let rule = UserRule::new("acme.slow_down", Category::RateLimited)
///     .codes(["550"])
///     .text(["slow down, partner"])
///     .disposition(Disposition::Transient);
/// let c = Classifier::builtin().with_rules(vec![rule]).unwrap();
/// let v = c.classify_text("550 slow down, partner", Stage::MailFrom);
/// assert_eq!(v.rule, "acme.slow_down");
/// assert_eq!(v.disposition, Disposition::Transient);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct UserRule {
    /// Unique, non-empty id, reported as the classification's rule.
    pub id: String,
    /// Human description, reported with the classification.
    #[cfg_attr(feature = "serde", serde(default))]
    pub description: String,
    /// Stage names (`rcpt_to`, `data_end`…); empty means every stage.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub stages: Vec<String>,
    /// Basic code patterns (`"550"`, `"55x"`, `"4xx"`; `"none"`: text without a basic
    /// code); empty means any.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub codes: Vec<String>,
    /// Enhanced code patterns (`"5.7.1"`, `"5.7.*"`, `"none"`; `"!5.7.*"` excludes);
    /// empty means any.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub enhanced: Vec<String>,
    /// The text contains one of these, ASCII case-insensitively; empty means any text.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub text: Vec<String>,
    /// The text contains one of these phrases at word boundaries (a leading or trailing
    /// `*` lets the phrase run into a word; `{a|b}` gives alternatives), ASCII
    /// case-insensitively; empty means any.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub words: Vec<String>,
    /// Transport-failure names (`read_timeout`, `no_outcome`…): the rule classifies
    /// these failures instead of replies. Empty means: a rule for replies and text.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub failures: Vec<String>,
    /// `success`, `transient` or `permanent`; none means: from the codes (and a passing
    /// cause's request for a later retry, see [`Classifier`](crate::Classifier)).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub disposition: Option<String>,
    /// The category name (`rate_limited`, …).
    pub category: String,
    /// The scope name; none means the category's usual scope.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub scope: Option<String>,
    /// Retry hint used when the reply has none (`"300"`, `"300s"`, `"5m"`, `"2h"`, `"1d"`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub retry_after: Option<String>,
    /// The kind of evidence (an [`Evidence`] name): the rule is weighed with the
    /// built-in rules. None means: tried first, in order.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub evidence: Option<String>,
    /// Whether the cause passes with time; none means the category's usual answer
    /// ([`Category::usually_passes`]).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub passes: Option<bool>,
}

impl UserRule {
    /// A rule with this id and category and no conditions yet (it would match every
    /// negative reply): add conditions with the builder methods.
    pub fn new(id: impl Into<String>, category: Category) -> Self {
        UserRule {
            id: id.into(),
            category: category.name().to_owned(),
            ..UserRule::default()
        }
    }

    /// Sets the description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = d.into();
        self
    }

    /// Restricts the rule to these stages.
    pub fn stages(mut self, stages: impl IntoIterator<Item = Stage>) -> Self {
        self.stages = stages.into_iter().map(|s| s.name().to_owned()).collect();
        self
    }

    /// Restricts the rule to these basic code patterns (`"55x"`).
    pub fn codes<S: Into<String>>(mut self, codes: impl IntoIterator<Item = S>) -> Self {
        self.codes = codes.into_iter().map(Into::into).collect();
        self
    }

    /// Restricts the rule to these enhanced code patterns (`"5.7.*"`, `"none"`; a
    /// leading `!` excludes: `"!5.7.*"`).
    pub fn enhanced<S: Into<String>>(mut self, pats: impl IntoIterator<Item = S>) -> Self {
        self.enhanced = pats.into_iter().map(Into::into).collect();
        self
    }

    /// Requires the text to contain one of these (ASCII case-insensitive).
    pub fn text<S: Into<String>>(mut self, phrases: impl IntoIterator<Item = S>) -> Self {
        self.text = phrases.into_iter().map(Into::into).collect();
        self
    }

    /// Requires the text to contain one of these phrases at word boundaries (a leading
    /// or trailing `*` lets a phrase run into a word, and a `*` anywhere else is an error;
    /// `{a|b}` gives alternatives; ASCII case-insensitive).
    pub fn words<S: Into<String>>(mut self, phrases: impl IntoIterator<Item = S>) -> Self {
        self.words = phrases.into_iter().map(Into::into).collect();
        self
    }

    /// Makes this a rule for these transport failures (instead of replies).
    pub fn failures(mut self, failures: impl IntoIterator<Item = TransportFailure>) -> Self {
        self.failures = failures.into_iter().map(|f| f.name().to_owned()).collect();
        self
    }

    /// Overrides the disposition.
    pub fn disposition(mut self, d: Disposition) -> Self {
        self.disposition = Some(d.name().to_owned());
        self
    }

    /// Overrides the scope.
    pub fn scope(mut self, s: Scope) -> Self {
        self.scope = Some(s.name().to_owned());
        self
    }

    /// Makes the rule weighed as this kind of evidence, with the built-in rules,
    /// instead of tried first.
    pub fn evidence(mut self, e: Evidence) -> Self {
        self.evidence = Some(e.name().to_owned());
        self
    }

    /// Says whether the cause passes with time (see the `passes` field).
    pub fn passes(mut self, passes: bool) -> Self {
        self.passes = Some(passes);
        self
    }

    /// Sets the retry hint used when the reply carries none.
    pub fn retry_after(mut self, d: Duration) -> Self {
        self.retry_after = Some(format!("{}s", d.as_secs()));
        self
    }
}

/// A user rule that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// A field of a rule is invalid.
    #[error("rule {rule:?}: field `{field}`: {reason}")]
    Invalid {
        /// The rule's id (or its position, `#3`, when the id itself is empty).
        rule: String,
        /// The field at fault (`codes`, `enhanced`, `stages`…).
        field: &'static str,
        /// What was expected and what was found.
        reason: String,
    },
    /// Two rules share one id.
    #[error("rule {rule:?}: field `id`: the id is used by more than one rule")]
    DuplicateId {
        /// The repeated id.
        rule: String,
    },
}

/// A basic code pattern: each digit fixed or any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CodePat([Option<u8>; 3]);

impl CodePat {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        let b = s.trim().as_bytes();
        if b.len() != 3 {
            return Err(format!(
                "{s:?} is not a code pattern (expected three characters, digits or x: \"550\", \"55x\", \"4xx\")"
            ));
        }
        let mut out = [None; 3];
        for (i, c) in b.iter().enumerate() {
            out[i] = match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'x' | b'X' | b'*' => None,
                _ => {
                    return Err(format!(
                        "{s:?} is not a code pattern (expected digits or x: \"550\", \"55x\", \"4xx\")"
                    ));
                }
            };
        }
        match out[0] {
            Some(2..=5) => Ok(CodePat(out)),
            None => Ok(CodePat(out)),
            Some(_) => Err(format!("{s:?}: a reply code starts with 2, 3, 4 or 5")),
        }
    }

    pub(crate) fn matches(self, code: ReplyCode) -> bool {
        let v = code.as_u16();
        let d = [(v / 100) as u8, ((v / 10) % 10) as u8, (v % 10) as u8];
        self.0.iter().zip(d).all(|(p, d)| p.is_none_or(|p| p == d))
    }
}

/// An enhanced code pattern, or "no enhanced code".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EnhPat {
    /// The reply has no enhanced code.
    Absent,
    /// class.subject.detail, each part fixed or any.
    Code(Option<u8>, Option<u16>, Option<u16>),
}

impl EnhPat {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("none") {
            return Ok(EnhPat::Absent);
        }
        let parts: Vec<&str> = t.split('.').collect();
        let bad = || {
            format!(
                "{s:?} is not an enhanced code pattern (expected class.subject.detail with numbers or *: \"5.7.1\", \"5.7.*\", \"*.2.2\", or \"none\")"
            )
        };
        if parts.len() != 3 {
            return Err(bad());
        }
        let num = |p: &str, max: u16| -> Result<Option<u16>, String> {
            if p == "*" || p.eq_ignore_ascii_case("x") {
                return Ok(None);
            }
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            let v: u16 = p.parse().map_err(|_| bad())?;
            if v > max { Err(bad()) } else { Ok(Some(v)) }
        };
        let class = num(parts[0], 5)?;
        if let Some(c) = class {
            if !matches!(c, 2 | 4 | 5) {
                return Err(format!("{s:?}: an enhanced code's class is 2, 4 or 5"));
            }
        }
        Ok(EnhPat::Code(
            class.map(|c| c as u8),
            num(parts[1], 999)?,
            num(parts[2], 999)?,
        ))
    }

    pub(crate) fn matches(self, e: Option<EnhancedCode>) -> bool {
        match (self, e) {
            (EnhPat::Absent, None) => true,
            (EnhPat::Absent, Some(_)) | (EnhPat::Code(..), None) => false,
            (EnhPat::Code(c, s, d), Some(e)) => {
                c.is_none_or(|c| c == e.class())
                    && s.is_none_or(|s| s == e.subject())
                    && d.is_none_or(|d| d == e.detail())
            }
        }
    }
}

/// Parses `"300"`, `"300s"`, `"5m"`, `"2h"`, `"1d"` (one number and an optional unit).
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| {
        format!("{s:?} is not a duration (expected a number and an optional unit s, m, h or d: \"300\", \"5m\")")
    })?;
    let mult = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        other => {
            return Err(format!(
                "{s:?}: unknown unit {other:?} (expected s, m, h or d)"
            ));
        }
    };
    Ok(Duration::from_secs(n.saturating_mul(mult)))
}

/// One phrase of a rule's text condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Phrase {
    /// Lower-case bytes to find.
    pub(crate) text: Cow<'static, str>,
    /// The byte before the match must not be a letter or digit.
    pub(crate) word_start: bool,
    /// The byte after the match must not be a letter or digit.
    pub(crate) word_end: bool,
}

/// A rule ready for the engine (built-in or checked user rule).
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub(crate) id: Cow<'static, str>,
    pub(crate) description: Cow<'static, str>,
    /// Bit `1 << stage as usize`; 0 means every stage.
    pub(crate) stages: u16,
    pub(crate) codes: Vec<CodePat>,
    /// The rule also (or, with no `codes`, only) holds for text without a basic code.
    pub(crate) codes_none: bool,
    pub(crate) enhanced: Vec<EnhPat>,
    /// Enhanced patterns that must not match (`!5.7.*`).
    pub(crate) enhanced_not: Vec<EnhPat>,
    pub(crate) phrases: Vec<Phrase>,
    pub(crate) disposition: Option<Disposition>,
    pub(crate) category: Category,
    pub(crate) scope: Option<Scope>,
    pub(crate) retry_after: Option<Duration>,
    /// Bit `1 << failure index` ([`TransportFailure::ALL`]); 0 means a rule for replies.
    pub(crate) failures: u32,
    /// The kind of evidence; `None` for a rule tried first, in order.
    pub(crate) evidence: Option<Evidence>,
    /// Whether the cause passes with time, as the rule says (`passes`); `None`: the
    /// category's usual answer ([`Category::usually_passes`]).
    pub(crate) passes: Option<bool>,
}

const _: () = assert!(TransportFailure::ALL.len() <= 32, "failure bits fit a u32");

pub(crate) fn failure_bit(f: TransportFailure) -> u32 {
    TransportFailure::ALL
        .iter()
        .position(|x| *x == f)
        .map_or(0, |i| 1u32 << (i as u32 & 31))
}

pub(crate) fn stage_bit(s: Stage) -> u16 {
    1u16 << (s as u16)
}

impl UserRule {
    /// Checks every field; `pos` names a rule whose id is empty.
    pub(crate) fn compile(&self, pos: usize) -> Result<Rule, RuleError> {
        let name = if self.id.trim().is_empty() {
            format!("#{pos}")
        } else {
            self.id.clone()
        };
        let err = |field: &'static str, reason: String| RuleError::Invalid {
            rule: name.clone(),
            field,
            reason,
        };
        if self.id.trim().is_empty() {
            return Err(err("id", "the id is empty".into()));
        }
        let mut stages = 0u16;
        for s in &self.stages {
            let st = Stage::from_name(s.trim()).ok_or_else(|| {
                err(
                    "stages",
                    format!(
                        "{s:?} is not a stage (expected one of: {})",
                        names(Stage::ALL.iter().map(|s| s.name()))
                    ),
                )
            })?;
            stages |= stage_bit(st);
        }
        let mut codes = Vec::with_capacity(self.codes.len());
        let mut codes_none = false;
        for c in &self.codes {
            if c.trim().eq_ignore_ascii_case("none") {
                codes_none = true;
            } else {
                codes.push(CodePat::parse(c).map_err(|r| err("codes", r))?);
            }
        }
        let mut enhanced = Vec::with_capacity(self.enhanced.len());
        let mut enhanced_not = Vec::new();
        for c in &self.enhanced {
            match c.trim().strip_prefix('!') {
                Some(rest) => {
                    enhanced_not.push(EnhPat::parse(rest).map_err(|r| err("enhanced", r))?)
                }
                None => enhanced.push(EnhPat::parse(c).map_err(|r| err("enhanced", r))?),
            }
        }
        let mut phrases = Vec::with_capacity(self.text.len());
        for t in &self.text {
            if t.trim().is_empty() {
                return Err(err(
                    "text",
                    "an empty string would match every reply".into(),
                ));
            }
            phrases.push(Phrase {
                text: Cow::Owned(t.to_ascii_lowercase()),
                word_start: false,
                word_end: false,
            });
        }
        for entry in &self.words {
            for w in &expand_alternatives(entry).map_err(|r| err("words", r))? {
                let mut t = w.trim();
                let word_start = !t.starts_with('*');
                if !word_start {
                    t = &t[1..];
                }
                let word_end = !t.ends_with('*');
                if !word_end {
                    t = &t[..t.len() - 1];
                }
                if t.is_empty() {
                    return Err(err(
                        "words",
                        format!("{w:?}: an empty phrase would match every reply"),
                    ));
                }
                if t.contains('*') {
                    return Err(err(
                        "words",
                        format!(
                            "{w:?}: `*` lets a phrase run into a word only at its start or end; inside a phrase it would match a literal asterisk (use `text` for that)"
                        ),
                    ));
                }
                phrases.push(Phrase {
                    text: Cow::Owned(t.to_ascii_lowercase()),
                    word_start,
                    word_end,
                });
            }
        }
        let mut failures = 0u32;
        for f in &self.failures {
            let tf = TransportFailure::from_name(f.trim()).ok_or_else(|| {
                err(
                    "failures",
                    format!(
                        "{f:?} is not a transport failure (expected one of: {})",
                        names(TransportFailure::ALL.iter().map(|f| f.name()))
                    ),
                )
            })?;
            failures |= failure_bit(tf);
        }
        if failures != 0
            && !(phrases.is_empty() && self.codes.is_empty() && self.enhanced.is_empty())
        {
            return Err(err(
                "failures",
                "a transport-failure rule matches no reply: it cannot also set codes, enhanced, text or words".into(),
            ));
        }
        let category = Category::from_name(self.category.trim()).ok_or_else(|| {
            err(
                "category",
                format!(
                    "{:?} is not a category (expected one of: {})",
                    self.category,
                    names(Category::ALL.iter().map(|c| c.name()))
                ),
            )
        })?;
        let disposition = match &self.disposition {
            None => None,
            Some(d) => Some(Disposition::from_name(d.trim()).ok_or_else(|| {
                err(
                    "disposition",
                    format!(
                        "{d:?} is not a disposition (expected success, transient or permanent)"
                    ),
                )
            })?),
        };
        let scope = match &self.scope {
            None => None,
            Some(s) => Some(Scope::from_name(s.trim()).ok_or_else(|| {
                err(
                    "scope",
                    format!(
                        "{s:?} is not a scope (expected recipient, message, connection or destination)"
                    ),
                )
            })?),
        };
        if failures != 0 && disposition == Some(Disposition::Success) {
            return Err(err(
                "disposition",
                "a transport failure is never a success (a lost connection proves nothing was delivered, nor that it was not)".into(),
            ));
        }
        let evidence = match &self.evidence {
            None => None,
            Some(e) => Some(Evidence::from_name(e.trim()).ok_or_else(|| {
                err(
                    "evidence",
                    format!(
                        "{e:?} is not an evidence kind (expected one of: {})",
                        names(Evidence::ALL.iter().map(|e| e.name()))
                    ),
                )
            })?),
        };
        let retry_after = match &self.retry_after {
            None => None,
            Some(r) => Some(super::hint::clamp(
                parse_duration(r).map_err(|e| err("retry_after", e))?,
            )),
        };
        Ok(Rule {
            id: Cow::Owned(self.id.clone()),
            description: Cow::Owned(self.description.clone()),
            stages,
            codes,
            codes_none,
            enhanced,
            enhanced_not,
            phrases,
            disposition,
            category,
            scope,
            retry_after,
            failures,
            evidence,
            passes: self.passes,
        })
    }
}

/// At most this many phrases come from one `words` entry's alternatives.
pub(crate) const MAX_ALTERNATIVES: usize = 64;

/// Expands a phrase's `{a|b|c}` groups into every combination, in order (`"{a|b} {c|d}"`
/// gives `a c`, `a d`, `b c`, `b d`). Groups do not nest; an alternative may be empty.
/// A phrase without braces is itself. The phrase is split once and each combination is
/// built once: the work is at most [`MAX_ALTERNATIVES`] times the phrase's length.
pub(crate) fn expand_alternatives(phrase: &str) -> Result<Vec<String>, String> {
    // Pieces in order: a literal is a group of one.
    let mut pieces: Vec<Vec<&str>> = Vec::new();
    let mut rest = phrase;
    let mut count = 1usize;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(format!("{phrase:?}: '}}' without '{{'"));
        }
        let (head, tail) = rest.split_at(open);
        let tail = &tail[1..];
        let close = tail
            .find(['{', '}'])
            .filter(|&i| tail.as_bytes()[i] == b'}')
            .ok_or_else(|| format!("{phrase:?}: '{{' without its '}}' (groups do not nest)"))?;
        let alts: Vec<&str> = tail[..close].split('|').collect();
        count = count.saturating_mul(alts.len());
        if count > MAX_ALTERNATIVES {
            return Err(format!(
                "{phrase:?}: more than {MAX_ALTERNATIVES} phrases from its alternatives"
            ));
        }
        pieces.push(vec![head]);
        pieces.push(alts);
        rest = &tail[close + 1..];
    }
    pieces.push(vec![rest]);
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        // Mixed-radix digits of n, the last group varying fastest.
        let mut picks = vec![0usize; pieces.len()];
        let mut k = n;
        for (i, p) in pieces.iter().enumerate().rev() {
            picks[i] = k % p.len();
            k /= p.len();
        }
        let mut phrase = String::with_capacity(rest.len() + 16);
        for (p, &i) in pieces.iter().zip(&picks) {
            phrase.push_str(p[i]);
        }
        out.push(phrase);
    }
    Ok(out)
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}
