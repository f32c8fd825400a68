//! The built-in scenarios.

use std::time::Duration;

use super::{Behaviour, Class, DestinationModel, OutageFailure, Scenario, SimError, Stream};

/// The built-in scenarios' names.
pub const BUILTIN: &[&str] = &[
    "greylisting",
    "provider_throttling",
    "outage",
    "mailbox_full",
    "mixed",
    "campaign_storm",
];

use crate::time::{days, hours, mins};

fn grey() -> Behaviour {
    // postgrey's defaults: --delay=300, a retry window of 2 days.
    Behaviour::Greylisting {
        delay: mins(5),
        retry_window: days(2),
    }
}

/// A provider's limit of `per_minute` messages: a 10-minute block at the 20th
/// refusal in a minute, doubling up to 4 hours.
fn provider_limit(per_minute: u32) -> Behaviour {
    Behaviour::RateLimit {
        limit: per_minute,
        window: mins(1),
        block: mins(10),
        escalate_after: 20,
        max_block: hours(4),
    }
}

/// A built-in scenario by name (see [`BUILTIN`]). Every one spreads its traffic over
/// a day and runs for up to ten days (the longest lifetime of the presets is five).
///
/// - `greylisting`: 80 % of the mail goes to a postgrey-greylisting destination, the
///   rest to one that accepts everything; a fifth of it is time-sensitive.
/// - `provider_throttling`: 70 % to a provider that accepts 20 messages a minute and
///   then answers `421 4.7.28`, blocking for 10 minutes (doubling up to 4 hours)
///   when pushed; the traffic is about twice its limit for the first hours.
/// - `outage`: half the mail goes to a destination that refuses connections from
///   hour 2 to hour 8.
/// - `mailbox_full`: 10 % of the recipients at one destination have a full mailbox
///   for two days; 2 % of all recipients do not exist.
/// - `mixed`: greylisting, throttling, a short outage, unknown users and a
///   congested server, at once.
/// - `campaign_storm`: a steady stream of time-sensitive mail all day; at hour 2 a
///   campaign of bulk mail, 20 times larger, is sent in 30 minutes to the same
///   provider, which times out from hour 2 to hour 3 and is congested (120 attempts a
///   minute) throughout: the deferred bulk mail comes back while time-sensitive mail
///   keeps arriving.
pub fn builtin(name: &str) -> Result<Scenario, SimError> {
    let day = Stream::new;
    let s = match name {
        "greylisting" => Scenario::new(name, 1)
            .destination(DestinationModel::new("grey.example", 4, vec![grey()]))
            .destination(DestinationModel::new("open.example", 1, vec![]))
            .stream(day(Class::TimeSensitive, 2_000, Duration::ZERO, days(1)))
            .stream(day(Class::Bulk, 8_000, Duration::ZERO, days(1))),
        "provider_throttling" => Scenario::new(name, 2)
            .destination(DestinationModel::new(
                "provider.example",
                7,
                vec![provider_limit(20)],
            ))
            .destination(DestinationModel::new("open.example", 3, vec![]))
            .stream(day(Class::TimeSensitive, 4_000, Duration::ZERO, days(1)))
            .stream(day(Class::Bulk, 16_000, Duration::ZERO, hours(6)))
            .stream(day(Class::Bulk, 4_000, hours(6), hours(18))),
        "outage" => Scenario::new(name, 3)
            .destination(DestinationModel::new(
                "down.example",
                1,
                vec![Behaviour::Outage {
                    start: hours(2),
                    duration: hours(6),
                    failure: OutageFailure::Refused,
                }],
            ))
            .destination(DestinationModel::new("open.example", 1, vec![]))
            .stream(day(Class::TimeSensitive, 2_000, Duration::ZERO, days(1)))
            .stream(day(Class::Bulk, 8_000, Duration::ZERO, days(1))),
        "mailbox_full" => Scenario::new(name, 4)
            .destination(DestinationModel::new(
                "full.example",
                1,
                vec![
                    Behaviour::MailboxFull {
                        permille: 100,
                        start: Duration::ZERO,
                        duration: days(2),
                    },
                    Behaviour::UnknownUsers { permille: 20 },
                ],
            ))
            .destination(DestinationModel::new(
                "open.example",
                1,
                vec![Behaviour::UnknownUsers { permille: 20 }],
            ))
            .stream(day(Class::TimeSensitive, 2_000, Duration::ZERO, days(1)))
            .stream(day(Class::Bulk, 8_000, Duration::ZERO, days(1))),
        "mixed" => Scenario::new(name, 5)
            .destination(DestinationModel::new(
                "grey.example",
                3,
                vec![grey(), Behaviour::UnknownUsers { permille: 20 }],
            ))
            .destination(DestinationModel::new(
                "provider.example",
                4,
                vec![provider_limit(10), Behaviour::UnknownUsers { permille: 10 }],
            ))
            .destination(DestinationModel::new(
                "flaky.example",
                1,
                vec![
                    Behaviour::Outage {
                        start: hours(6),
                        duration: hours(1),
                        failure: OutageFailure::Timeout,
                    },
                    Behaviour::ConnectionThrottle { per_minute: 10 },
                ],
            ))
            .destination(DestinationModel::new(
                "busy.example",
                1,
                vec![Behaviour::Congested {
                    capacity_per_minute: 5,
                }],
            ))
            .destination(DestinationModel::new("open.example", 1, vec![]))
            .stream(day(Class::TimeSensitive, 4_000, Duration::ZERO, days(1)))
            .stream(day(Class::Bulk, 16_000, Duration::ZERO, days(1))),
        "campaign_storm" => Scenario::new(name, 6)
            .destination(DestinationModel::new(
                "provider.example",
                1,
                vec![
                    Behaviour::Outage {
                        start: hours(2),
                        duration: hours(1),
                        failure: OutageFailure::Timeout,
                    },
                    Behaviour::Congested {
                        capacity_per_minute: 120,
                    },
                ],
            ))
            .stream(day(Class::TimeSensitive, 2_000, Duration::ZERO, days(1)))
            .stream(day(Class::Bulk, 40_000, hours(2), mins(30))),
        _ => return Err(SimError::UnknownScenario(name.to_owned())),
    };
    Ok(s)
}
