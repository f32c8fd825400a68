//! Section: a deferral queue releasing deferred messages in due and priority
//! order under a virtual clock.

use std::time::Duration;

use tempfail::Timestamp;
use tempfail::queue::{DeferralQueue, FairQueue, WheelQueue};

pub fn show() {
    crate::heading("Deferral queue");
    let t0 = Timestamp::from_secs(1_700_000_000);
    let min = |m: u64| t0 + Duration::from_secs(60 * m);
    let mut q = WheelQueue::new();
    // (message, why it was deferred, retry at, priority: higher is more urgent)
    let deferred = [
        (
            "newsletter #1 to bob@example.com",
            "450 4.2.0 greylisted",
            min(5),
            0,
        ),
        (
            "password reset to ann@example.org",
            "421 4.7.0 try again later",
            min(5),
            9,
        ),
        (
            "newsletter #2 to eve@example.net",
            "452 4.2.2 mailbox full",
            min(30),
            0,
        ),
        (
            "invoice to carl@example.com",
            "451 4.3.0 local error",
            min(15),
            5,
        ),
        (
            "newsletter #3 to dan@example.com",
            "421 4.7.28 rate limited",
            min(10),
            0,
        ),
    ];
    let mut handles = Vec::new();
    for (msg, why, due, prio) in deferred {
        let Ok(h) = q.insert(msg, due, prio) else {
            continue;
        };
        handles.push(h);
        println!(
            "defer  {msg:<36} prio {prio}  until +{:>2} min  ({why})",
            minutes(t0, due)
        );
    }
    // The server's hint for the rate-limited newsletter: wait an hour; and the
    // invoice was sent through another route, so cancel it.
    if let Some(&h) = handles.get(4) {
        let _ = q.reschedule(h, min(60), None);
        println!("move   newsletter #3 to +60 min (server asked for an hour)");
    }
    if let Some(&h) = handles.get(3) {
        let _ = q.cancel(h);
        println!("cancel invoice (delivered another way)");
    }
    println!();
    let mut now = t0;
    while let Some(next) = q.next_due() {
        // Sleep until the next due time, as a sender would (virtually).
        now = next.max(now);
        while let Some(p) = q.pop_due(now) {
            println!(
                "+{:>2} min  release {:<36} prio {} (due +{} min)",
                minutes(t0, now),
                p.item,
                p.priority,
                minutes(t0, p.due)
            );
        }
    }
    let stats = q.stats(now);
    println!(
        "queue empty: {} entries left, {} due",
        stats.len, stats.due_now
    );

    println!();
    println!("fair across domains (round-robin among due entries of equal priority):");
    let domain = |rcpt: &String| rcpt.rsplit('@').next().unwrap_or_default().to_string();
    let mut fair = FairQueue::new(domain);
    for i in 1..=4 {
        let _ = fair.insert(format!("user{i}@big.example"), t0, 0);
    }
    let _ = fair.insert("ops@small.example".to_string(), t0, 0);
    let order: Vec<String> = std::iter::from_fn(|| fair.pop_due(t0).map(|p| p.item)).collect();
    println!("  {}", order.join(", "));
}

fn minutes(t0: Timestamp, t: Timestamp) -> u64 {
    t.saturating_duration_since(t0).as_secs() / 60
}
