//! The policy lab on the command line: runs a scenario once per retry preset and
//! compares what each cost.
//!
//! ```sh
//! cargo run --release --example simulate -- --scenario campaign_storm
//! cargo run --release --example simulate -- --scenario greylisting --preset postfix --preset tempfail --json
//! cargo run --release --example simulate -- --scenario my_scenario.toml --messages 100000 --seed 7 --svg plots/
//! ```
//!
//! `--scenario NAME|FILE`: a built-in scenario (`greylisting`, `provider_throttling`,
//! `outage`, `mailbox_full`, `mixed`, `campaign_storm`) or a scenario file, TOML
//! (`.toml`) or JSON (anything else), in the format of `tempfail::sim::Scenario`.
//! `--preset NAME` (repeatable; default: all): `postfix`, `exim`, `sendmail`,
//! `stalwart`, `haraka`, `kumomta`, `rfc5321`, `tempfail` (the tempfail policy with
//! destination health), `tempfail_no_health`. `--messages N` scales the scenario's
//! traffic to N messages. `--seed S` replaces its seed.
//!
//! Output: a table, or with `--json` one line per preset: `{"scenario", "preset",
//! "messages", "delivered", "bounced", "expired", "pending", "latency_secs":
//! {"time_sensitive": {"delivered", "p50", "p90", "p99", "max"}, "bulk": {…}},
//! "attempts", "attempts_per_delivered", "wasted_attempts", "held",
//! "peak_attempts_per_min", "dsns", "destinations": [...], "sim_wall_secs"}`.
//! With `--svg DIR`: three charts in DIR (`SCENARIO-delivered.svg`,
//! `SCENARIO-queue_depth.svg`, `SCENARIO-attempts_per_min.svg`).
//!
//! An unknown scenario or preset, a malformed or out-of-range scenario file: a
//! message naming what was wrong, exit code 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use plotters::prelude::*;
use tempfail::Classifier;
use tempfail::sim::{self, Contender, Metrics, SERIES_STEP, Scenario};

const USAGE: &str = "usage: simulate --scenario NAME|FILE [--preset NAME ...] [--messages N] [--seed S] [--svg DIR] [--json]";
const ALL: &[&str] = &[
    "postfix", "exim", "sendmail", "stalwart", "haraka", "kumomta", "rfc5321", "tempfail",
];

pub struct Args {
    scenario: String,
    presets: Vec<String>,
    messages: Option<u64>,
    seed: Option<u64>,
    svg: Option<PathBuf>,
    json: bool,
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1).collect()) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}\n\nsee the comment at the top of examples/simulate.rs");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("simulate: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("simulate: {e}");
            ExitCode::from(2)
        }
    }
}

pub fn parse(args: Vec<String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        scenario: String::new(),
        presets: Vec::new(),
        messages: None,
        seed: None,
        svg: None,
        json: false,
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--help" | "-h" => return Ok(None),
            "--json" => a.json = true,
            "--scenario" => a.scenario = value("--scenario")?,
            "--preset" => {
                let p = value("--preset")?;
                if Contender::named(&p).is_none() {
                    return Err(format!(
                        "unknown preset {p:?} (expected one of: {}, tempfail_no_health, tempfail_policy_holds)",
                        ALL.join(", ")
                    ));
                }
                a.presets.push(p);
            }
            "--messages" => {
                let v = value("--messages")?;
                let n: u64 = v
                    .parse()
                    .map_err(|_| format!("--messages: {v:?} is not a count"))?;
                if n == 0 || n > sim::MAX_MESSAGES {
                    return Err(format!(
                        "--messages: between 1 and {} messages",
                        sim::MAX_MESSAGES
                    ));
                }
                a.messages = Some(n);
            }
            "--seed" => {
                let v = value("--seed")?;
                a.seed = Some(
                    v.parse()
                        .map_err(|_| format!("--seed: {v:?} is not a number"))?,
                );
            }
            "--svg" => a.svg = Some(PathBuf::from(value("--svg")?)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if a.scenario.is_empty() {
        return Err("--scenario is required".into());
    }
    if a.presets.is_empty() {
        a.presets = ALL.iter().map(|s| s.to_string()).collect();
    }
    Ok(Some(a))
}

pub fn load(name: &str) -> Result<Scenario, String> {
    if sim::BUILTIN.contains(&name) {
        return sim::builtin(name).map_err(|e| e.to_string());
    }
    let path = Path::new(name);
    if !path.exists() {
        return Err(format!(
            "unknown scenario {name:?}: neither a built-in ({}) nor a file",
            sim::BUILTIN.join(", ")
        ));
    }
    // A scenario file is small; refuse to read a huge one.
    let meta = std::fs::metadata(path).map_err(|e| format!("{name}: {e}"))?;
    if meta.len() > 1 << 20 {
        return Err(format!("{name}: a scenario file is at most 1 MiB"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let s: Scenario = if name.ends_with(".toml") {
        toml::from_str(&text).map_err(|e| format!("{name}: {e}"))?
    } else {
        serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?
    };
    s.validate().map_err(|e| format!("{name}: {e}"))?;
    Ok(s)
}

fn run(a: &Args) -> Result<(), String> {
    let mut scenario = load(&a.scenario)?;
    if let Some(n) = a.messages {
        scenario = scenario.with_messages(n);
    }
    if let Some(s) = a.seed {
        scenario = scenario.with_seed(s);
    }
    scenario.validate().map_err(|e| e.to_string())?;
    let classifier = Classifier::builtin();
    let mut results = Vec::new();
    if !a.json {
        println!(
            "scenario {}: {} messages, seed {}",
            scenario.name,
            scenario.messages(),
            scenario.seed
        );
        println!(
            "{:<19} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>8} {:>8} {:>7}",
            "preset",
            "delivered",
            "bounced",
            "expired",
            "pending",
            "ts_p50_s",
            "ts_p99_s",
            "bulk_p50",
            "bulk_p99",
            "att/dlv",
            "wasted",
            "peak/min",
            "dsns",
            "wall_s"
        );
    }
    for name in &a.presets {
        let contender = Contender::named(name).ok_or_else(|| format!("unknown preset {name:?}"))?;
        #[allow(clippy::disallowed_methods)] // sim_wall_secs: the run's own wall time
        let started = Instant::now();
        let m = sim::run(&scenario, &contender, &classifier).map_err(|e| e.to_string())?;
        let wall = started.elapsed().as_secs_f64();
        if a.json {
            let mut v = serde_json::to_value(&m).map_err(|e| e.to_string())?;
            v["sim_wall_secs"] = serde_json::json!((wall * 1000.0).round() / 1000.0);
            println!("{v}");
        } else {
            let l = &m.latency_secs;
            println!(
                "{:<19} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8.2} {:>9} {:>8} {:>8} {:>7.2}",
                m.preset,
                m.delivered,
                m.bounced,
                m.expired,
                m.pending,
                l.time_sensitive.p50,
                l.time_sensitive.p99,
                l.bulk.p50,
                l.bulk.p99,
                m.attempts_per_delivered,
                m.wasted_attempts,
                m.peak_attempts_per_min,
                m.dsns,
                wall
            );
        }
        results.push(m);
    }
    if let Some(dir) = &a.svg {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        charts(dir, &scenario.name, &results).map_err(|e| format!("svg: {e}"))?;
        if !a.json {
            println!("charts written to {}", dir.display());
        }
    }
    Ok(())
}

const PALETTE: &[RGBColor] = &[
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(127, 127, 127),
];

type Line = (String, Vec<(f64, f64)>);

/// One line per preset, its points from `points`.
fn lines(results: &[Metrics], points: impl Fn(&Metrics) -> Vec<(f64, f64)>) -> Vec<Line> {
    results
        .iter()
        .map(|m| (m.preset.clone(), points(m)))
        .collect()
}

fn charts(
    dir: &Path,
    scenario: &str,
    results: &[Metrics],
) -> Result<(), Box<dyn std::error::Error>> {
    let step_h = SERIES_STEP.as_secs_f64() / 3600.0;
    // Show the time until the last queue empties (at least 12 h).
    let last = results
        .iter()
        .filter_map(|m| m.series.queue_depth.iter().rposition(|&d| d > 0))
        .max()
        .unwrap_or(0);
    let until_h = ((last + 2) as f64 * step_h).max(12.0);
    // The points of steps up to `until_h`; `value` reads a step, plotted at its
    // start (`end` 0) or its end (`end` 1).
    let steps = |values: &[u64], end: usize, value: &dyn Fn(u64) -> f64| {
        values
            .iter()
            .enumerate()
            .filter(|(i, _)| *i as f64 * step_h <= until_h)
            .map(|(i, &v)| ((i + end) as f64 * step_h, value(v)))
            .collect()
    };

    let delivered = lines(results, |m| {
        let n = m.messages.max(1) as f64;
        steps(&m.series.delivered, 1, &|d| d as f64 / n)
    });
    let file = |what: &str| dir.join(format!("{scenario}-{what}.svg"));
    chart(
        &file("delivered"),
        &format!("{scenario}: fraction of messages delivered"),
        &delivered,
        until_h,
        Some(1.0),
    )?;

    let depth = lines(results, |m| steps(&m.series.queue_depth, 0, &|d| d as f64));
    chart(
        &file("queue_depth"),
        &format!("{scenario}: messages queued"),
        &depth,
        until_h,
        None,
    )?;

    // The destination that took the most wasted attempts over all presets.
    let n_dest = results.first().map_or(0, |m| m.destinations.len());
    let worst = (0..n_dest)
        .max_by_key(|&d| {
            results
                .iter()
                .map(|m| m.destinations[d].wasted_attempts)
                .sum::<u64>()
        })
        .unwrap_or(0);
    let name = results
        .first()
        .and_then(|m| m.destinations.get(worst))
        .map_or("", |d| d.name.as_str());
    let per = 10usize; // minutes averaged per point
    let attempts = lines(results, |m| {
        let series = m
            .series
            .attempts_per_min
            .get(worst)
            .map_or(&[][..], Vec::as_slice);
        series
            .chunks(per)
            .enumerate()
            .map(|(i, c)| {
                (
                    (i * per) as f64 / 60.0,
                    c.iter().map(|&x| f64::from(x)).sum::<f64>() / c.len() as f64,
                )
            })
            .filter(|p| p.0 <= until_h)
            .collect()
    });
    chart(
        &file("attempts_per_min"),
        &format!("{scenario}: attempts per minute at {name} (10-minute means)"),
        &attempts,
        until_h,
        None,
    )?;
    Ok(())
}

/// A line chart over hours; `y_max` none: 5 % above the highest point (at least 1).
fn chart(
    path: &Path,
    title: &str,
    lines: &[Line],
    x_max: f64,
    y_max: Option<f64>,
) -> Result<(), Box<dyn std::error::Error>> {
    let y_max = y_max.unwrap_or_else(|| {
        lines
            .iter()
            .flat_map(|l| l.1.iter().map(|p| p.1))
            .fold(1.0, f64::max)
            * 1.05
    });
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut c = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
    c.configure_mesh().x_desc("hours").draw()?;
    for (i, (name, pts)) in lines.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        c.draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
