//! Redis shared deferral queue for tempfail (in progress).
#![forbid(unsafe_code)]
