//! Redis shared deferral queue for tempfail.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod limiter;
mod queue;
mod scripts;
mod value;

pub use limiter::{Admission, LimitError, MAX_DESTINATION_LEN, RedisLimiter, SharedLimits, Slot};
pub use queue::{MAX_NAME_LEN, RedisQueue, SCHEMA_VERSION};
