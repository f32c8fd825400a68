//! A tour of tempfail: `cargo run --example tour`.
//!
//! Each section lives in its own file beside this one and prints what one part
//! of the crate does with real server replies, under a virtual clock.

mod classify;
mod replies;
mod session;

fn main() {
    replies::show();
    classify::show();
    session::show();
}

/// Prints a section heading.
pub fn heading(title: &str) {
    println!();
    println!("== {title} ==");
    println!();
}
