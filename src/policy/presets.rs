//! The retry policies of established mail systems, and tempfail's own.

use core::fmt;
use core::str::FromStr;
use std::borrow::Cow;
use std::time::Duration;

use super::{CategoryRule, DelayWarnings, HintBounds, LifetimeMode, PolicyError, RetryPolicy};
use crate::backoff::{
    AgeBased, AnyBackoff, DelayList, EximRules, Exponential, Factor, Fixed, Jitter,
};
use crate::classify::Category;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
use crate::time::{days, hours, mins};

/// postgrey's default greylist delay (`--delay=300`).
pub const POSTGREY_DELAY: Duration = secs(300);

/// A named preset policy. Timelines below assume every attempt fails at once and
/// runs exactly when due (run `cargo run --example schedule -- --preset NAME`).
///
/// MTA presets reproduce that MTA's timing only: no category rules, no hints
/// (those MTAs decide retry versus bounce from the reply codes alone). Add
/// category rules with [`RetryPolicy::with_category`].
///
/// | preset | backoff | lifetime | first attempts |
/// |---|---|---|---|
/// | `postfix` | wait = clamp(age, 300 s, 4000 s) | 5 d, at the first failure at or after | 0, 5m, 10m, 20m, 40m, 1h20m, 2h26m40s … bounce at the 113th, 5d0h13m20s |
/// | `exim` | `F,2h,15m; G,16h,1h,1.5; F,4d,6h`, gaps ≤ 24 h | none: the rule's last cutoff | 0, 15m … 2h, 2h15m, 3h15m, 4h45m, 7h … times out at the 29th, 4d5h1m52s |
/// | `sendmail` | `-q30m`, `MaxQueueAge=4h`: clamp(age, 30m, 4h) on 30-min queue runs | 5 d, at the first failure at or after | 0, 30m, 1h, 2h, 4h, 8h, 12h … bounce at the 34th, 5d0h |
/// | `stalwart` | `[2m, 5m, 10m, 15m, 30m, 1h, 2h, 1d, 3d]`, last repeats | 3 d, exactly | 0, 2m, 7m, 17m … 1d4h2m, expires at 3d |
/// | `haraka` | waits 2^(i+5) s, i = 1…12, then bounce | none: the list's end | 0, 1m4s, 3m12s … bounce at the 13th, 3d0h48m |
/// | `kumomta` | 20 min × 2^n, ±30 s jitter | 7 d, when the next due time would pass it | 0, ~20m, ~1h, ~2h20m … last ~85h |
/// | `rfc5321` | `[30m, 2h, 3h]`, last repeats | 5 d, at the first failure at or after | 0, 30m, 2h30m, 5h30m, 8h30m … |
/// | `tempfail` | 5 min × 2^n, capped at 3 h, ±10 % | 5 d, at the first failure at or after | see [`Preset::Tempfail`] |
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Preset {
    /// Postfix's qmgr: `minimal_backoff_time` 300 s, `maximal_backoff_time` 4000 s,
    /// `maximal_queue_lifetime` 5 d; the wait after a failure equals the message's age,
    /// within those bounds, so it doubles until the cap. No delay warning
    /// (`delay_warning_time` is 0 by default). `queue_run_delay` is not modelled:
    /// attempts run exactly when due.
    Postfix,
    /// Exim's default retry rule `* * F,2h,15m; G,16h,1h,1.5; F,4d,6h`, with the
    /// failing interval floored by the message's age and every gap capped at
    /// `retry_interval_max` (24 h); `delay_warning` 24 h, repeating. There is no
    /// separate lifetime: passing the last cutoff times the address out.
    Exim,
    /// Sendmail run as `-q30m` with `MaxQueueAge=4h`: the wait is proportional to the
    /// message's age (30 min to 4 h) and retries happen on queue runs every 30 min
    /// (queue runs are taken to start at the message's arrival);
    /// `Timeout.queuewarn` 4 h (one warning), `Timeout.queuereturn` 5 d.
    ///
    /// The bounce comes at the first failed run at or after 5 d: the run at exactly
    /// 5 d (the 34th attempt) is the one whose failure bounces. Sendmail decides
    /// after an attempt, when it drops the envelope, and since 8.12 it times a
    /// message out when `now >= arrival + queuereturn` (and warns when
    /// `now >= arrival + queuewarn`); an attempt takes some time, so the failure of
    /// a run due at 5 d is always seen after 5 d. This is "the first run after 5 d"
    /// of the reference schedule, read with attempts that take no time. Older
    /// releases compared strictly; [`LifetimeMode::FailureAfter`] gives that (then
    /// the bounce comes one run later, at 5d4h).
    Sendmail,
    /// Stalwart (v0.16) remote delivery: intervals `[2m, 5m, 10m, 15m, 30m, 1h, 2h,
    /// 1d, 3d]`, the last repeating; expiry exactly 3 d after arrival; delay notices
    /// 1 d and then 3 d later; rate-limit deferrals do not count as attempts.
    Stalwart,
    /// Haraka's default `temp_fail_intervals`: 12 waits of 2^(i+5) s (i = 1…12); the
    /// 13th temporary failure bounces. No separate lifetime.
    Haraka,
    /// KumoMTA: wait(n) = `retry_interval` × 2^n (n = 0 for the first retry), with
    /// `retry_interval` 20 min, no `max_retry_interval`, jitter ±min(retry_interval / 20,
    /// 60 s) / 2 = ±30 s (drawn from the seeded hash unless an RNG is injected), and
    /// `max_age` 7 d: a message expires at a failure as soon as its next due time
    /// would pass `max_age`, so the last attempt is at about 85 h. Unlike KumoMTA, the
    /// attempt count is kept in the persisted [`crate::backoff::RetryState`], so a
    /// restart does not make every deferred message due at once.
    Kumomta,
    /// RFC 5321 §4.5.4.1 turned into numbers: the retry interval SHOULD be at least
    /// 30 minutes, and "two attempts in the first hour, then every two or three
    /// hours" (so retries at 30 min, then 2 h later, then every 3 h); the give-up
    /// time SHOULD generally be at least 4–5 days (5 d here, the upper figure).
    /// "Keep per-host state for unreachable hosts": `network` failures on the
    /// destination hold the destination until the retry time.
    Rfc5321,
    /// The recommended default. Its choices:
    ///
    /// - **Backoff** 5 min × 2^n, capped at 3 h, ±10 % jitter keyed by the
    ///   message's seed: the first retry comes as soon as greylisting allows, waits
    ///   double so a dead host is not hammered, and the cap keeps RFC 5321's "every
    ///   two or three hours"; jitter spreads a queue that failed together (an outage)
    ///   so it does not return together.
    /// - **Lifetime** 5 d, giving up at the first failure at or after it (Postfix,
    ///   Sendmail, RFC 5321's upper figure): no attempt is wasted before the deadline.
    /// - **Greylisting**: first retry exactly after postgrey's default delay (300 s),
    ///   then soon after: 5 min, 10 min, 20 min, 40 min, then hourly, counting
    ///   greylistings only (earlier failures of other kinds do not move it along).
    /// - **Rate limits and too many connections**: the server's hint is honoured
    ///   within 1 min – 4 h; without one, 15 min (rate limits) or 2 min (too many
    ///   connections), ±10 %; the destination is held until then (destination scope);
    ///   these deferrals do not count as attempts (Stalwart), so a throttled message
    ///   keeps its place in the schedule; the lifetime still applies.
    /// - **Mailbox full**: its own backoff, 15 min × 2^n capped at 6 h, ±10 % (a full
    ///   mailbox empties when its owner acts, in hours or days, so retrying it every
    ///   3 h wastes attempts: in the policy lab's `mailbox_full` scenario this cut the
    ///   refused attempts from 8,521 to 5,188 for a p99 latency 1,005 s later); give
    ///   up after 3 days of it (Exim's `quota_7d` idea, shorter: an account whose
    ///   mailbox stays full that long is usually unattended).
    /// - **Never retried** even on a 4xx: `user_unknown` and `no_mail_service` (a null MX
    ///   is definitive, RFC 7505).
    /// - **Delay warnings** at 4 h (Sendmail's `queuewarn`: early enough to act the same
    ///   day), then every day (Exim).
    Tempfail,
}

impl Preset {
    /// Every preset.
    pub const ALL: &'static [Preset] = &[
        Preset::Postfix,
        Preset::Exim,
        Preset::Sendmail,
        Preset::Stalwart,
        Preset::Haraka,
        Preset::Kumomta,
        Preset::Rfc5321,
        Preset::Tempfail,
    ];

    /// The snake_case name (`postfix`, …, `rfc5321`, `tempfail`).
    pub const fn name(self) -> &'static str {
        match self {
            Preset::Postfix => "postfix",
            Preset::Exim => "exim",
            Preset::Sendmail => "sendmail",
            Preset::Stalwart => "stalwart",
            Preset::Haraka => "haraka",
            Preset::Kumomta => "kumomta",
            Preset::Rfc5321 => "rfc5321",
            Preset::Tempfail => "tempfail",
        }
    }

    /// The preset with this name.
    pub fn from_name(s: &str) -> Option<Self> {
        Preset::ALL.iter().copied().find(|p| p.name() == s)
    }

    /// The policy.
    pub fn policy(self) -> RetryPolicy {
        let p = match self {
            Preset::Postfix => RetryPolicy::new(AgeBased::postfix())
                .with_lifetime(days(5), LifetimeMode::FailureAtOrAfter),
            Preset::Exim => RetryPolicy::new(EximRules::exim_default())
                .without_lifetime()
                .with_delay_warnings(DelayWarnings::repeating(vec![hours(24)])),
            Preset::Sendmail => {
                RetryPolicy::new(AgeBased::new(mins(30), hours(4)).with_queue_runs(mins(30)))
                    .with_lifetime(days(5), LifetimeMode::FailureAtOrAfter)
                    .with_delay_warnings(DelayWarnings::once(hours(4)))
            }
            Preset::Stalwart => RetryPolicy::new(DelayList::repeat_last(vec![
                mins(2),
                mins(5),
                mins(10),
                mins(15),
                mins(30),
                hours(1),
                hours(2),
                days(1),
                days(3),
            ]))
            .with_lifetime(days(3), LifetimeMode::Exact)
            .with_delay_warnings(DelayWarnings {
                at: vec![days(1), days(4)],
                repeat: false,
            })
            .count_rate_limits(false),
            Preset::Haraka => RetryPolicy::new(DelayList::haraka_default()).without_lifetime(),
            Preset::Kumomta => RetryPolicy::new(
                AnyBackoff::from(Exponential::new(mins(20), Factor::integer(2))).with_jitter(
                    Jitter::Additive {
                        minus: secs(30),
                        plus: secs(30),
                    },
                ),
            )
            .with_lifetime(days(7), LifetimeMode::NextDuePast),
            Preset::Rfc5321 => {
                RetryPolicy::new(DelayList::repeat_last(vec![mins(30), hours(2), hours(3)]))
                    .with_lifetime(days(5), LifetimeMode::FailureAtOrAfter)
                    .with_category(CategoryRule::new(Category::Network).hold_destination())
            }
            Preset::Tempfail => tempfail(),
        };
        p.with_name(Cow::Borrowed(self.name()))
    }
}

fn ten_percent(b: impl Into<AnyBackoff>) -> AnyBackoff {
    b.into().with_jitter(Jitter::Proportional { permille: 100 })
}

fn tempfail() -> RetryPolicy {
    let mut p = RetryPolicy::new(ten_percent(
        Exponential::new(mins(5), Factor::integer(2)).with_cap(hours(3)),
    ))
    .with_lifetime(days(5), LifetimeMode::FailureAtOrAfter)
    .with_delay_warnings(DelayWarnings::repeating(vec![hours(4), hours(28)]))
    .count_rate_limits(false);
    p.hint_bounds = HintBounds {
        min: mins(1),
        max: hours(4),
    };
    p.categories = vec![
        CategoryRule::greylisted(POSTGREY_DELAY),
        CategoryRule::new(Category::RateLimited)
            .honour_hint()
            .hold_destination()
            .backoff(ten_percent(Fixed { delay: mins(15) })),
        CategoryRule::new(Category::TooManyConnections)
            .honour_hint()
            .hold_destination()
            .backoff(ten_percent(Fixed { delay: mins(2) })),
        CategoryRule::new(Category::MailboxFull)
            .give_up_after(days(3))
            .backoff(ten_percent(
                Exponential::new(mins(15), Factor::integer(2)).with_cap(hours(6)),
            )),
        CategoryRule::never(Category::UserUnknown),
        CategoryRule::never(Category::NoMailService),
    ];
    p
}

impl CategoryRule {
    /// Greylisting: the first retry exactly `delay` after the failure (set it to the
    /// greylister's delay; postgrey's default is [`POSTGREY_DELAY`], 300 s), then
    /// soon after: 5 min, 10 min, 20 min, 40 min, then hourly. Entries are taken by
    /// the count of *greylisting* failures (`RetryState::category_failures`): after
    /// any number of failures of other kinds, the first greylisting still waits
    /// `delay`, the second 5 min, and so on.
    pub fn greylisted(delay: Duration) -> Self {
        CategoryRule::new(Category::Greylisted).backoff(DelayList::repeat_last(vec![
            delay,
            mins(5),
            mins(10),
            mins(20),
            mins(40),
            hours(1),
        ]))
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, PolicyError> {
        Preset::from_name(s).ok_or_else(|| PolicyError::UnknownPreset(s.to_owned()))
    }
}
