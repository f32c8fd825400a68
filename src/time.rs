//! Wall-clock time as plain data.
//!
//! tempfail never reads a clock. Everything that outlives a connection (retry
//! state, due times in a queue, a delivery's deadlines) is expressed in one
//! type, [`Timestamp`]: a `u64` count of milliseconds since the Unix epoch.
//! All arithmetic on it saturates: adding a year to [`Timestamp::MAX`] gives
//! [`Timestamp::MAX`], subtracting past the epoch gives [`Timestamp::EPOCH`],
//! and nothing ever panics or wraps into the past.
//!
//! The SMTP session machine, whose timers live only as long as a connection,
//! takes `std::time::Instant` instead.
//!
//! With the `serde` feature a `Timestamp` serializes as a bare integer (the
//! milliseconds), so persisted due times survive a restart unchanged.

use core::fmt;
use core::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in wall-clock time: milliseconds since 1970-01-01T00:00:00Z.
///
/// Ordering is chronological. Arithmetic with [`Duration`] saturates at
/// [`Timestamp::EPOCH`] and [`Timestamp::MAX`]; the difference of two
/// timestamps ([`Timestamp::saturating_duration_since`]) is zero when the
/// second is later.
///
/// ```
/// use std::time::Duration;
/// use tempfail::Timestamp;
///
/// let t = Timestamp::from_secs(1_700_000_000);
/// let later = t + Duration::from_secs(300);
/// assert_eq!(later.as_millis(), 1_700_000_300_000);
/// assert_eq!(later.saturating_duration_since(t), Duration::from_secs(300));
/// assert_eq!(t.saturating_duration_since(later), Duration::ZERO);
/// assert_eq!(Timestamp::MAX + Duration::from_secs(1), Timestamp::MAX);
/// assert_eq!(Timestamp::EPOCH - Duration::from_secs(1), Timestamp::EPOCH);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Timestamp(u64);

/// Reads the bare integer, and says what it means otherwise (serde would say `u64`).
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, Unexpected, Visitor};
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a time: whole milliseconds since the Unix epoch")
            }
            fn visit_u64<E: Error>(self, v: u64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_i64<E: Error>(self, v: i64) -> Result<Timestamp, E> {
                u64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_u64(V)
    }
}

impl Timestamp {
    /// The Unix epoch, 1970-01-01T00:00:00Z (zero milliseconds).
    pub const EPOCH: Timestamp = Timestamp(0);
    /// The largest representable instant (`u64::MAX` milliseconds); arithmetic saturates here.
    pub const MAX: Timestamp = Timestamp(u64::MAX);

    /// A timestamp from milliseconds since the Unix epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Timestamp(millis)
    }

    /// A timestamp from whole seconds since the Unix epoch (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        Timestamp(secs.saturating_mul(1000))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the Unix epoch (rounded down).
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// Converts a [`SystemTime`]; times before the epoch become [`Timestamp::EPOCH`],
    /// times beyond the range become [`Timestamp::MAX`]. Sub-millisecond parts are dropped.
    pub fn from_system_time(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            Err(_) => Timestamp::EPOCH,
        }
    }

    /// Converts to a [`SystemTime`], saturating at the largest time the platform can hold.
    pub fn to_system_time(self) -> SystemTime {
        let d = Duration::from_millis(self.0);
        UNIX_EPOCH
            .checked_add(d)
            .or_else(|| UNIX_EPOCH.checked_add(Duration::from_secs(i64::MAX as u64 / 2)))
            .unwrap_or(UNIX_EPOCH)
    }

    /// `self + d`, saturating at [`Timestamp::MAX`].
    pub fn saturating_add(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(duration_millis(d)))
    }

    /// `self - d`, saturating at [`Timestamp::EPOCH`].
    pub fn saturating_sub(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_sub(duration_millis(d)))
    }

    /// The time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, or `None` if it would exceed [`Timestamp::MAX`].
    pub fn checked_add(self, d: Duration) -> Option<Self> {
        self.0
            .checked_add(u64::try_from(d.as_millis()).ok()?)
            .map(Timestamp)
    }
}

/// Milliseconds in a duration, saturating at `u64::MAX` (about 584 million years).
/// `n` minutes (for the presets and scenarios written in code).
pub(crate) const fn mins(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

/// `n` hours.
pub(crate) const fn hours(n: u64) -> Duration {
    Duration::from_secs(n * 3600)
}

/// `n` days.
pub(crate) const fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

pub(crate) fn duration_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        Timestamp::from_system_time(t)
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> Self {
        t.to_system_time()
    }
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: Duration) -> Timestamp {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Timestamp {
    fn add_assign(&mut self, d: Duration) {
        *self = self.saturating_add(d);
    }
}

/// The time from `earlier` to `self`; zero if `earlier` is later (saturating, never
/// a panic).
///
/// ```
/// use std::time::Duration;
/// use tempfail::Timestamp;
/// let t = Timestamp::from_secs(100);
/// assert_eq!((t + Duration::from_secs(5)) - t, Duration::from_secs(5));
/// assert_eq!(t - (t + Duration::from_secs(5)), Duration::ZERO);
/// ```
impl Sub<Timestamp> for Timestamp {
    type Output = Duration;
    fn sub(self, earlier: Timestamp) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, d: Duration) -> Timestamp {
        self.saturating_sub(d)
    }
}

impl SubAssign<Duration> for Timestamp {
    fn sub_assign(&mut self, d: Duration) {
        *self = self.saturating_sub(d);
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({}ms)", self.0)
    }
}

/// RFC 3339 in UTC with millisecond precision, e.g. `2023-11-14T22:13:20.000Z`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 % 1000;
        let secs = self.0 / 1000;
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), after
/// Howard Hinnant's well-known `civil_from_days` algorithm.
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_rfc3339_utc() {
        assert_eq!(Timestamp::EPOCH.to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp::from_millis(1_700_000_000_123).to_string(),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            Timestamp::from_secs(951_782_400).to_string(),
            "2000-02-29T00:00:00.000Z"
        );
        // Never panics, even at the end of time.
        let _ = Timestamp::MAX.to_string();
    }

    #[test]
    fn system_time_round_trip_and_saturation() {
        let t = Timestamp::from_millis(1_700_000_000_123);
        assert_eq!(Timestamp::from(SystemTime::from(t)), t);
        let before = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(Timestamp::from(before), Timestamp::EPOCH);
        let _ = Timestamp::MAX.to_system_time();
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_secs(10);
        assert_eq!(t - Duration::from_secs(11), Timestamp::EPOCH);
        assert_eq!(t + Duration::MAX, Timestamp::MAX);
        assert_eq!(t.checked_add(Duration::MAX), None);
        assert_eq!(Timestamp::from_secs(u64::MAX), Timestamp::MAX);
    }
}
