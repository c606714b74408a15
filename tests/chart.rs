//! `settlesim chart` end to end on a small run of the flagship (one day of demand): every figure renders as SVG
//! and as a 2× PNG that is not blank, the same inputs give the same bytes, and bad input is one line with exit 2.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

fn settlesim() -> Command {
    Command::cargo_bin("settlesim").expect("binary builds")
}

/// The flagship, short: one day of demand and two of drain (six rails on four corridors, four chains).
fn small_run(out: &Path) {
    settlesim()
        .args([
            "run",
            "--quiet",
            "--set",
            "duration=1d",
            "--set",
            "limits.drain=2d",
            "--out",
        ])
        .arg(out)
        .assert()
        .success();
}

/// Width, height and the number of distinct colours of a PNG.
fn png_facts(path: &Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let mut colours: Vec<[u8; 3]> = buf[..info.buffer_size()]
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    colours.sort_unstable();
    colours.dedup();
    (info.width, info.height, colours.len())
}

#[test]
fn every_run_figure_renders_as_svg_and_png() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    small_run(&run);
    let out = tmp.path().join("figs");
    let a = settlesim()
        .arg("chart")
        .arg(&run)
        .args(["--format", "both", "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    for name in [
        "latency-cdf",
        "corridor-scorecard",
        "cost",
        "throughput",
        "backlog",
        "chain-mempool",
    ] {
        assert!(
            text.contains(&format!("{name}.svg")),
            "{name} missing from: {text}"
        );
        let svg = fs::read_to_string(out.join(format!("{name}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("claims (sha256 "),
            "{name}.svg"
        );
        let (w, h, colours) = png_facts(&out.join(format!("{name}.png")));
        assert_eq!((w, h), (1344, 840), "{name}.png is the SVG at 2×");
        assert!(colours > 8, "{name}.png looks blank ({colours} colours)");
    }
    // Deterministic: the same inputs give the same bytes.
    let again = tmp.path().join("again");
    settlesim()
        .arg("chart")
        .arg(&run)
        .args(["--format", "both", "--out"])
        .arg(&again)
        .assert()
        .success();
    for entry in fs::read_dir(&out).unwrap() {
        let name = entry.unwrap().file_name();
        assert_eq!(
            fs::read(out.join(&name)).unwrap(),
            fs::read(again.join(&name)).unwrap(),
            "{name:?} differs between two renderings"
        );
    }
}

#[test]
fn a_sweep_directory_gives_curves_with_intervals() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("sweep");
    settlesim()
        .args([
            "sweep",
            "tests/fixtures/base.toml",
            "--set",
            "duration=2d",
            "-r",
            "2",
            "--quiet",
        ])
        .args(["--grid", "banks[1].lifting_fee_usd=10,20,40", "--out"])
        .arg(&sweep)
        .assert()
        .success();
    settlesim()
        .arg("chart")
        .arg(&sweep)
        .args(["--format", "png"])
        .assert()
        .success();
    let png = sweep.join("figures/sweep-cost-vs-banks-1--lifting-fee-usd.png");
    let (w, h, colours) = png_facts(&png);
    assert_eq!((w, h), (1344, 840));
    assert!(colours > 8);
    // A sweep gets a report too: each headline with its 95% interval over the replications.
    settlesim().arg("report").arg(&sweep).assert().success();
    let md = fs::read_to_string(sweep.join("report/report.md")).unwrap();
    assert!(
        md.contains("settlesim sweep") && md.contains("--replications 2"),
        "{md}"
    );
    assert!(md.contains(" – "), "intervals in brackets: {md}");
    assert!(
        md.contains("lifting fee usd, banks[1]"),
        "axis named in words: {md}"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    for (dir, expected) in [
        (tmp.path().join("nope"), "no such directory"),
        (
            tmp.path().to_path_buf(),
            "not a settlesim results directory",
        ),
    ] {
        let a = settlesim().arg("chart").arg(&dir).assert().code(2);
        let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert!(
            err.contains(expected) && err.trim().lines().count() == 1,
            "{err}"
        );
    }
    settlesim()
        .arg("chart")
        .arg(tmp.path())
        .args(["--format", "gif"])
        .assert()
        .code(2);
}

/// Opens report.html in headless Chromium where Debian's `chromium` is installed and checks that every figure is
/// in the rendered DOM; skipped with a message elsewhere.
#[test]
fn report_html_loads_every_figure_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    small_run(&run);
    let a = settlesim().arg("report").arg(&run).assert().success();
    let text = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(text.contains("report.html"), "{text}");
    let html = fs::read_to_string(run.join("report/report.html")).unwrap();
    let figures = html.matches("<figure").count();
    assert_eq!(
        figures, 11,
        "latency, corridor scorecard, where the time goes, cost, cost by amount, paired difference, \
confirmations, chain credit, throughput, backlog, mempool"
    );
    for id in [
        "fig-where-the-time-goes",
        "fig-cost-by-amount",
        "fig-paired-difference",
        "fig-confirmations",
    ] {
        assert!(html.contains(id), "{id}");
    }
    assert!(html.contains("Claims vs measured") && html.contains("Provenance: "));
    // Every claim of the seeds has rows, each cost figure is named, and provenance is printed once (figures carry
    // it in their footer).
    for claim in [
        "settles in seconds instead of days",
        "cheaper because intermediaries are removed",
        "available 24/7",
        "duplicate payments are impossible",
        "cost, per-payment mean (bps)",
        "cost, amount-weighted (bps)",
        "G20 remittances: ≤ 3% at $200",
        "demand payments, each replayed on every rail of its corridor (USD-MXN 4, EUR-NGN 4, SGD-THB 3, HKD-PHP 3)",
    ] {
        assert!(html.contains(&claim.replace('&', "&amp;")), "{claim}");
    }
    assert_eq!(html.matches("Provenance: ").count(), 1);
    assert!(
        html.find("fig-latency-cdf").unwrap() < html.find("fig-chain-credit-cdf").unwrap(),
        "the headline latency figure comes first"
    );
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium to run this check)");
        return;
    };
    let profile = tmp.path().join("profile");
    let out = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!(
            "file://{}",
            run.join("report/report.html").display()
        ))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        dom.matches("<figure").count(),
        figures,
        "figures in the DOM"
    );
    assert!(
        dom.matches("<svg").count() >= figures,
        "every figure has its SVG"
    );
}

#[test]
fn two_swept_parameters_give_a_heatmap() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("sweep");
    settlesim()
        .args([
            "sweep",
            "tests/fixtures/chain.toml",
            "--quiet",
            "--replications",
            "2",
            "--set",
            "duration=1d",
        ])
        .args([
            "--grid",
            "chains[0].propagation={ fixed = \"1s\" },{ fixed = \"6s\" }",
        ])
        .args(["--grid", "chains[0].block_interval=30s,2m", "--out"])
        .arg(&sweep)
        .assert()
        .success();
    let figs = dir.path().join("figs");
    settlesim()
        .arg("chart")
        .arg(&sweep)
        .args(["--format", "png", "--out"])
        .arg(&figs)
        .assert()
        .success();
    let heat = figs.join("heatmap-c-stale-rate.png");
    assert!(heat.is_file(), "a stale-rate heatmap for the chain");
    let (w, h, colours) = png_facts(&heat);
    assert_eq!((w, h), (1344, 840));
    assert!(colours > 8, "cells of several colours, not a blank page");
}
