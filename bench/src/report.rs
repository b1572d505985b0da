//! Markdown tables on stdout, raw figures as JSON.

use std::path::Path;

use crate::child::{Library, Polling};
use crate::measure::Endpoint;
use crate::pebble::{Mode, Report, Run};

/// Writes `json` to `out/name`, saying where.
pub fn write_json(out: &Path, name: &str, json: &[serde_json::Value]) {
    let written = std::fs::create_dir_all(out).and_then(|()| {
        let text = serde_json::to_string_pretty(json).unwrap_or_default();
        std::fs::write(out.join(name), text)
    });
    match written {
        Ok(()) => println!("\nraw figures: {}", out.join(name).display()),
        Err(e) => println!("\nraw figures not written to {}: {e}", out.display()),
    }
}

fn library(run: &Run) -> String {
    match run.plan.polling {
        Polling::Defaults => run.plan.library.name().to_owned(),
        polling => format!("{}, {}", run.plan.library.name(), polling.name()),
    }
}

fn ms(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "-".into()
    }
}

/// The main table, then instant-acme ÷ acme-proto (tokio) and lego ÷ acme-proto (tokio),
/// then the slow CA's overshoot, then the notes (retries after stalls).
pub fn pebble_tables(runs: &[Run]) {
    println!(
        "| scenario | library | c | K | issued | certs/s | p50 ms | p90 ms | requests/cert | newNonce/cert | badNonce | CPU ms/cert | peak RSS MiB (before the orders) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for run in runs {
        let plan = &run.plan;
        let head = format!(
            "| {} | {} | {} | {} ",
            plan.mode.name(),
            library(run),
            plan.concurrency,
            plan.names
        );
        let Some(r) = &run.report else {
            println!(
                "{head}| failed: {} attempts | | | | | | | | |",
                run.attempts
            );
            continue;
        };
        let retried = if run.attempts > 1 {
            format!(" (try {})", run.attempts)
        } else {
            String::new()
        };
        println!(
            "{head}| {}/{}{retried} | {:.1} | {} | {} | {:.1} | {:.2} | {} | {} | {:.1} ({:.1}) |",
            r.issued(),
            plan.certificates,
            r.certs_per_sec(),
            ms(r.p(0.5)),
            ms(r.p(0.9)),
            r.per_cert(r.timed.total() as f64),
            r.per_cert(r.timed.get(Endpoint::NewNonce) as f64),
            r.timed.bad_nonce,
            ms(r.per_cert(r.cpu.as_secs_f64() * 1e3)),
            r.max_rss_kib as f64 / 1024.0,
            r.ready_rss_kib as f64 / 1024.0,
        );
    }

    for peer in [Library::Instant, Library::Lego] {
        ratios(runs, peer);
    }

    latency(runs);

    overshoot(runs);

    let notes: Vec<String> = runs
        .iter()
        .flat_map(|run| {
            run.notes.iter().map(move |note| {
                format!(
                    "* {} | {} | c = {} | K = {}: {note}",
                    run.plan.mode.name(),
                    library(run),
                    run.plan.concurrency,
                    run.plan.names
                )
            })
        })
        .collect();
    let failed: Vec<String> = runs
        .iter()
        .filter_map(|run| {
            let r = run.report.as_ref().filter(|r| r.failures > 0)?;
            Some(format!(
                "* {} | {} | c = {} | K = {}: {} of {} orders failed, e.g. {:?}",
                run.plan.mode.name(),
                library(run),
                run.plan.concurrency,
                run.plan.names,
                r.failures,
                run.plan.certificates,
                r.failure_examples.first().map_or("", String::as_str)
            ))
        })
        .collect();
    if !failed.is_empty() {
        println!("\nFailed orders (not retried: what the library did):\n");
        for line in failed {
            println!("{line}");
        }
    }
    if notes.is_empty() {
        println!("\nNo run was retried (no Pebble stall, no crash).");
    } else {
        println!("\nRetried runs:\n");
        for note in notes {
            println!("{note}");
        }
    }
}

/// `peer` ÷ acme-proto's tokio driver, same scenario, polling, c and K.
fn ratios(runs: &[Run], peer: Library) {
    if !runs.iter().any(|r| r.plan.library == peer) {
        return;
    }
    println!(
        "\n{} ÷ {}, same scenario, polling, c and K:\n",
        peer.name(),
        Library::Tokio.name()
    );
    println!(
        "| scenario | polling | c | K | certs/s | p50 | p90 | requests/cert | CPU/cert | peak RSS |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for run in runs.iter().filter(|r| r.plan.library == peer) {
        let plan = &run.plan;
        let Some(tokio) = runs.iter().find(|o| {
            o.plan.library == Library::Tokio
                && o.plan.mode == plan.mode
                && o.plan.polling == plan.polling
                && o.plan.concurrency == plan.concurrency
                && o.plan.names == plan.names
        }) else {
            continue;
        };
        let (Some(a), Some(b)) = (&run.report, &tokio.report) else {
            continue;
        };
        if a.issued() == 0 || b.issued() == 0 {
            println!(
                "| {} | {} | {} | {} | no certificate issued by one of them | | | | | |",
                plan.mode.name(),
                plan.polling.name(),
                plan.concurrency,
                plan.names
            );
            continue;
        }
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            plan.mode.name(),
            plan.polling.name(),
            plan.concurrency,
            plan.names,
            ratio(a.certs_per_sec(), b.certs_per_sec()),
            ratio(a.p(0.5), b.p(0.5)),
            ratio(a.p(0.9), b.p(0.9)),
            ratio(
                a.per_cert(a.timed.total() as f64),
                b.per_cert(b.timed.total() as f64)
            ),
            ratio(
                a.per_cert(a.cpu.as_secs_f64()),
                b.per_cert(b.cpu.as_secs_f64())
            ),
            ratio(a.max_rss_kib as f64, b.max_rss_kib as f64),
        );
    }
}

/// The slow CA: each library's latency beyond what the server needed, taken as the
/// latency of acme-proto polling every 5 to 20 ms against a Pebble of the same settings.
fn overshoot(runs: &[Run]) {
    let slow: Vec<&Run> = runs
        .iter()
        .filter(|r| matches!(r.plan.mode, Mode::Slow(_)))
        .collect();
    let Some(reference) = slow
        .iter()
        .find(|r| r.plan.polling == Polling::Reference)
        .and_then(|r| r.report.as_ref())
    else {
        return;
    };
    println!(
        "\nSlow CA: the server's need is the latency of acme-proto polling every 5-20 ms (p50 {} ms, p90 {} ms); overshoot = a library's latency minus that, at the same quantile:\n",
        ms(reference.p(0.5)),
        ms(reference.p(0.9))
    );
    println!("| library | p50 ms | p90 ms | overshoot p50 ms | overshoot p90 ms | requests/cert |");
    println!("|---|---:|---:|---:|---:|---:|");
    for run in slow.iter().filter(|r| r.plan.polling != Polling::Reference) {
        let Some(r) = &run.report else { continue };
        println!(
            "| {} | {} | {} | {} | {} | {:.1} |",
            library(run),
            ms(r.p(0.5)),
            ms(r.p(0.9)),
            ms(r.p(0.5) - reference.p(0.5)),
            ms(r.p(0.9) - reference.p(0.9)),
            r.per_cert(r.timed.total() as f64),
        );
    }
}

/// One run's raw figures.
/// The runs across latency: time and requests per certificate for every library, and
/// acme-proto's round trips on the critical path (c = 1), beside the best of the peers.
fn latency(runs: &[Run]) {
    let latency: Vec<&Run> = runs
        .iter()
        .filter(|r| matches!(r.plan.mode, Mode::Latency(_)))
        .collect();
    if latency.is_empty() {
        return;
    }
    println!(
        "\nAcross latency (defaults; time per certificate = the run's wall time ÷ certificates issued; round trips on the critical path per certificate from acme-proto's transport log, at c = 1):\n"
    );
    println!(
        "| RTT | c | K | library | issued | s per cert | p50 s | requests/cert | round trips/cert | ÷ best peer |"
    );
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    for run in &latency {
        let plan = &run.plan;
        let Mode::Latency(rtt) = plan.mode else {
            continue;
        };
        let Some(r) = &run.report else {
            println!(
                "| {rtt} ms | {} | {} | {} | failed | | | | | |",
                plan.concurrency,
                plan.names,
                library(run)
            );
            continue;
        };
        let per_cert = r.per_cert(r.wall.as_secs_f64());
        // The best of instant-acme and lego in the same shape.
        let best_peer = latency
            .iter()
            .filter(|o| {
                matches!(o.plan.library, Library::Instant | Library::Lego)
                    && o.plan.mode == plan.mode
                    && o.plan.concurrency == plan.concurrency
                    && o.plan.names == plan.names
            })
            .filter_map(|o| o.report.as_ref())
            .filter(|o| o.issued() > 0)
            .map(|o| o.per_cert(o.wall.as_secs_f64()))
            .fold(f64::NAN, f64::min);
        let rounds = match (plan.concurrency, r.rounds_per_cert) {
            (1, Some(rounds)) => format!("{rounds:.1}"),
            _ => "-".into(),
        };
        println!(
            "| {rtt} ms | {} | {} | {} | {}/{} | {:.2} | {:.2} | {:.1} | {rounds} | {} |",
            plan.concurrency,
            plan.names,
            library(run),
            r.issued(),
            plan.certificates,
            per_cert,
            r.p(0.5) / 1e3,
            r.per_cert(r.timed.total() as f64),
            ratio(per_cert, best_peer),
        );
    }
}

pub fn run_json(run: &Run) -> serde_json::Value {
    let plan = &run.plan;
    let figures = run.report.as_ref().map(|r: &Report| {
        serde_json::json!({
            "issued": r.issued(),
            "failures": r.failures,
            "failure_examples": r.failure_examples,
            "latencies_ms": r.latencies_ms,
            "p50_ms": r.p(0.5),
            "p90_ms": r.p(0.9),
            "certs_per_sec": r.certs_per_sec(),
            "wall_s": r.wall.as_secs_f64(),
            "cpu_ms": r.cpu.as_secs_f64() * 1e3,
            "cpu_ms_per_cert": r.per_cert(r.cpu.as_secs_f64() * 1e3),
            "max_rss_kib": r.max_rss_kib,
            "ready_rss_kib": r.ready_rss_kib,
            "requests_timed": r.timed.to_json(),
            "requests_per_cert": r.per_cert(r.timed.total() as f64),
            "requests_total_client": r.total.to_json(),
            "requests_total_pebble_log": r.pebble_log.to_json(),
            "client_agrees_with_pebble_log": r.agrees_with_pebble_log(),
            "rounds_per_cert": r.rounds_per_cert,
        })
    });
    serde_json::json!({
        "scenario": plan.mode.name(),
        "library": plan.library.name(),
        "polling": plan.polling.name(),
        "concurrency": plan.concurrency,
        "names": plan.names,
        "certificates": plan.certificates,
        "attempts": run.attempts,
        "notes": run.notes,
        "figures": figures,
    })
}
