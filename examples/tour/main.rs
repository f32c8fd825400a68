//! A tour of tempfail: `cargo run --example tour`.
//!
//! Each section lives in its own file beside this one and prints what one part
//! of the crate does with real server replies, under a virtual clock.

mod classify;
mod destination;
#[allow(dead_code)] // the examples' shared drive loop; the tour uses part of it
#[path = "../driver/mod.rs"]
mod driver;
#[cfg(feature = "sim")]
mod lab;
mod queue;
mod replies;
mod schedule;
mod session;
mod story;
mod workers;

fn main() {
    replies::show();
    classify::show();
    session::show();
    schedule::show();
    queue::show();
    workers::show();
    destination::show();
    #[cfg(feature = "sim")]
    lab::show();
    story::show();
}

/// Prints a section heading.
pub fn heading(title: &str) {
    println!();
    println!("== {title} ==");
    println!();
}
