//! Section: the policy lab. A campaign storm, in virtual time, under three presets.

use tempfail::sim::{self, Contender};
use tempfail::{Classifier, Preset};

pub fn show() {
    crate::heading("The policy lab: a day of mail in a moment");
    // The built-in storm, scaled down so the tour stays quick: steady time-sensitive
    // mail all day; at hour 2 a bulk campaign meets an hour-long outage at a provider
    // that is congested when pushed.
    let scenario = sim::builtin("campaign_storm")
        .expect("a built-in scenario")
        .with_messages(4_200);
    let classifier = Classifier::builtin();
    println!(
        "  {:<10} {:>9} {:>20} {:>12} {:>14}",
        "preset", "delivered", "time_sensitive_p99", "wasted", "peak_per_min"
    );
    for preset in [Preset::Postfix, Preset::Exim, Preset::Tempfail] {
        let m = sim::run(&scenario, &Contender::preset(preset), &classifier)
            .expect("the scenario is valid");
        println!(
            "  {:<10} {:>9} {:>19}s {:>12} {:>14}",
            m.preset,
            m.delivered,
            m.latency_secs.time_sensitive.p99,
            m.wasted_attempts,
            m.peak_attempts_per_min
        );
    }
    println!();
    println!("  tempfail runs with destination health: it stops hammering the provider while");
    println!("  it is down or overwhelmed, and time-sensitive mail is not stuck behind the");
    println!("  campaign. Every preset, every scenario: cargo run --release --example simulate");
}
