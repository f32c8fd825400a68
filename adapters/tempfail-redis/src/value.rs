//! Script replies, times on the wire, and error mapping.

use redis::{ErrorKind, RedisError, Value};
use tempfail::Timestamp;
use tempfail::shared_queue::SharedQueueError;

/// A time as the scripts hold it: 16 hex digits of milliseconds, so string
/// order is time order over the whole `u64` range.
pub(crate) fn hex_time(t: Timestamp) -> String {
    format!("{:016x}", t.as_millis())
}

/// A lease token as the scripts hold it: 16 hex digits.
pub(crate) fn hex_token(t: tempfail::shared_queue::LeaseToken) -> String {
    format!("{:016x}", t.0)
}

/// The inverse of [`hex_time`].
pub(crate) fn parse_hex_time(s: &str) -> Option<Timestamp> {
    if s.len() != 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok().map(Timestamp::from_millis)
}

/// Connection trouble is `Unavailable` (retry later, elsewhere); anything
/// else the server or the client reported is `Backend`.
pub(crate) fn map_err(e: RedisError) -> SharedQueueError {
    if is_unavailable(&e) {
        SharedQueueError::Unavailable(e.to_string())
    } else {
        SharedQueueError::Backend(e.to_string())
    }
}

pub(crate) fn is_unavailable(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_connection_dropped()
        || matches!(
            e.kind(),
            ErrorKind::BusyLoadingError
                | ErrorKind::TryAgain
                | ErrorKind::ClusterDown
                | ErrorKind::MasterDown
                | ErrorKind::ReadOnly
        )
}

/// A script's reply read front to back.
pub(crate) struct Reply {
    items: std::vec::IntoIter<Value>,
}

impl Reply {
    /// An array reply is read item by item; anything else is one item.
    pub(crate) fn new(value: Value) -> Self {
        let items = match value {
            Value::Array(items) | Value::Set(items) => items,
            other => vec![other],
        };
        Reply {
            items: items.into_iter(),
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.items.len()
    }

    /// The whole reply as text when it is a single string.
    pub(crate) fn text(mut self) -> Option<String> {
        self.next_text()
    }

    pub(crate) fn next_bytes(&mut self) -> Option<Vec<u8>> {
        match self.items.next()? {
            Value::BulkString(b) => Some(b),
            Value::SimpleString(s) => Some(s.into_bytes()),
            Value::Okay => Some(b"OK".to_vec()),
            _ => None,
        }
    }

    pub(crate) fn next_text(&mut self) -> Option<String> {
        String::from_utf8(self.next_bytes()?).ok()
    }

    pub(crate) fn next_int(&mut self) -> Option<i64> {
        match self.items.next()? {
            Value::Int(n) => Some(n),
            Value::BulkString(b) => std::str::from_utf8(&b).ok()?.parse().ok(),
            Value::SimpleString(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub(crate) fn next_array(&mut self) -> Option<Reply> {
        match self.items.next()? {
            v @ (Value::Array(_) | Value::Set(_)) => Some(Reply::new(v)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_times_sort_as_times_and_round_trip() {
        let times = [
            0,
            1,
            15,
            16,
            1_700_000_000_000,
            1 << 53,
            (1 << 53) + 1,
            u64::MAX,
        ];
        let mut last = String::new();
        for ms in times {
            let h = hex_time(Timestamp::from_millis(ms));
            assert!(h > last, "{h} after {last}");
            assert_eq!(parse_hex_time(&h), Some(Timestamp::from_millis(ms)));
            last = h;
        }
        assert_eq!(parse_hex_time("12"), None);
        assert_eq!(parse_hex_time("zzzzzzzzzzzzzzzz"), None);
    }
}
