//! Input and environments that try to hurt: names that would escape the output directory, results directories
//! that mix runs, writers killed at every step of committing, a full disk, two writers at once, money that would
//! wrap, parameters that would never end, and errors that must keep one format. Each test is named after the
//! defect it guards against (issue 8).

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

const CHAIN: &str = "scenarios/chain-loadtest.toml";

fn settlesim() -> Command {
    Command::cargo_bin("settlesim").unwrap()
}

/// Runs and returns (exit code, stderr).
fn fails(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "expected a failure");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A short run of the flagship (the embedded default) into `out`.
fn short_run(out: &Path, seed: u64) -> Command {
    let mut c = settlesim();
    c.args(["run", "--quiet", "--seed", &seed.to_string()])
        .args(["--set", "duration=6h", "--set", "limits.drain=1d", "--out"])
        .arg(out);
    c
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
        }
    }
    out.sort();
    out
}

#[test]
fn ids_and_names_cannot_escape_the_output_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("a/b");
    fs::create_dir_all(&work).unwrap();
    for set in [
        "rails[0].id=../../../escaped",
        "corridors[0].id=a/b",
        "corridors[0].id=..",
        "corridors[0].id=.",
        "name=../../pwned",
        "name=/tmp/x",
        "name=..",
        "name=.hidden",
        "rails[0].id=a__b",
    ] {
        let (code, err) = fails(
            settlesim()
                .current_dir(&work)
                .args(["run", "--quiet", "--set", set]),
        );
        assert_eq!(code, 2, "{set}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{set}: {err}");
        assert!(err.contains("is not a safe name"), "{set}: {err}");
    }
    // Nothing was created anywhere: not in the working directory, not above it.
    assert_eq!(tree(tmp.path()), vec!["a", "a/b"]);
}

#[test]
fn a_new_run_replaces_every_file_of_the_previous_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    short_run(&out, 1).assert().success();
    assert!(out.join("chains.csv").is_file());
    fs::create_dir_all(out.join("figures")).unwrap();
    fs::write(out.join("figures/old.svg"), "old").unwrap();
    // A scenario without chains into the same directory: no chain file of the first run survives.
    settlesim()
        .args(["run", "--quiet", "scenarios/correspondent.toml"])
        .args(["--set", "duration=1d", "--out"])
        .arg(&out)
        .assert()
        .success();
    let files = tree(&out);
    assert!(!files.iter().any(|f| f.contains("chain")), "{files:?}");
    assert!(!files.iter().any(|f| f.starts_with("figures")), "{files:?}");
    // And no staging directory or temporary file is left beside it.
    let beside: Vec<String> = tree(tmp.path())
        .into_iter()
        .filter(|f| !f.starts_with("out/"))
        .collect();
    assert_eq!(beside, vec![".out.lock", "out"]);
}

#[test]
fn readers_refuse_a_mixed_tampered_or_truncated_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    short_run(&out, 1).assert().success();
    settlesim().arg("chart").arg(&out).assert().success();

    // A file the manifest does not list (another run's leftovers).
    fs::write(out.join("histograms/other__all.hdr"), b"x").unwrap();
    for cmd in ["chart", "report"] {
        let (code, err) = fails(settlesim().arg(cmd).arg(&out));
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("histograms/other__all.hdr: not listed in manifest.json"),
            "{err}"
        );
    }
    fs::remove_file(out.join("histograms/other__all.hdr")).unwrap();

    // A truncated file.
    let summary = fs::read(out.join("summary.csv")).unwrap();
    fs::write(out.join("summary.csv"), &summary[..summary.len() / 2]).unwrap();
    let (code, err) = fails(settlesim().arg("chart").arg(&out));
    assert_eq!(code, 2);
    assert!(
        err.contains("summary.csv: does not match the SHA-256"),
        "{err}"
    );
    fs::write(out.join("summary.csv"), &summary).unwrap();

    // An edited scenario: trace would replay another run.
    let scenario = fs::read_to_string(out.join("scenario.toml")).unwrap();
    fs::write(
        out.join("scenario.toml"),
        scenario.replace("seed = 1", "seed = 2"),
    )
    .unwrap();
    let (code, err) = fails(settlesim().arg("trace").arg(&out).arg("1"));
    assert_eq!(code, 2);
    assert!(err.contains("scenario.toml: does not match"), "{err}");
    fs::write(out.join("scenario.toml"), scenario).unwrap();

    // A manifest that is not one: refused, unless the user insists, and then every figure says so.
    fs::write(out.join("manifest.json"), r#"{"x":1}"#).unwrap();
    let (code, err) = fails(settlesim().arg("chart").arg(&out));
    assert_eq!(code, 2);
    assert!(
        err.contains("manifest.json: not a settlesim manifest"),
        "{err}"
    );
    settlesim()
        .arg("chart")
        .arg(&out)
        .arg("--no-verify")
        .assert()
        .success();
    let svg = fs::read_to_string(out.join("figures/latency-cdf.svg")).unwrap();
    assert!(svg.contains("UNVERIFIED"));

    // Not a results directory at all.
    let (code, err) = fails(settlesim().arg("trace").arg(tmp.path()).arg("1"));
    assert_eq!(code, 2, "{err}");
}

/// Kills a writer at each step of committing a run over an earlier one: the directory is always one whole run,
/// the old or the new, and the next writer cleans up what the killed one left.
#[test]
fn a_killed_writer_leaves_the_old_run_or_the_new_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    short_run(&out, 1).assert().success();
    for (point, expect_seed) in [
        ("after-payments", 1),
        ("before-manifest", 1),
        ("before-swap", 1),
        ("after-swap", 2),
    ] {
        short_run(&out, 1).assert().success();
        let status = short_run(&out, 2)
            .env("SETTLESIM_FAILPOINT", point)
            .output()
            .unwrap()
            .status;
        assert!(!status.success(), "{point}: the writer should have died");
        // Whole and verified: chart reads every file it needs against the manifest's hashes.
        settlesim().arg("chart").arg(&out).assert().success();
        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["seed"], expect_seed, "{point}");
        // The next run removes the staging directory the killed one left.
        short_run(&out, 3).assert().success();
        let beside: Vec<String> = tree(tmp.path())
            .into_iter()
            .filter(|f| !f.starts_with("out/"))
            .collect();
        assert_eq!(beside, vec![".out.lock", "out"], "{point}");
    }
}

#[test]
fn a_second_writer_fails_at_once_instead_of_interleaving() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    short_run(&out, 1).assert().success();
    // Hold the lock as a running writer would.
    let lock = fs::OpenOptions::new()
        .write(true)
        .open(tmp.path().join(".out.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let (code, err) = fails(&mut short_run(&out, 2));
    assert_eq!(code, 1);
    assert!(
        err.contains("another settlesim process is writing here"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1);
    drop(lock);
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["seed"], 1, "the first run is untouched");
    short_run(&out, 2).assert().success();
}

#[test]
fn a_foreign_directory_or_a_file_is_not_replaced_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let foreign = tmp.path().join("thesis");
    fs::create_dir_all(&foreign).unwrap();
    fs::write(foreign.join("chapter1.tex"), "precious").unwrap();
    let (code, err) = fails(&mut short_run(&foreign, 1));
    assert_eq!(code, 2);
    assert!(err.contains("use --force"), "{err}");
    assert_eq!(
        fs::read_to_string(foreign.join("chapter1.tex")).unwrap(),
        "precious"
    );
    short_run(&foreign, 1).arg("--force").assert().success();

    let file = tmp.path().join("afile");
    fs::write(&file, "x").unwrap();
    let (code, err) = fails(&mut short_run(&file, 1));
    assert_eq!(code, 2);
    assert!(err.contains("is not a directory"), "{err}");
}

/// A full disk: a real tmpfs of 64 kB where this machine lets us mount one (root on Linux), else skipped.
#[test]
fn a_full_disk_is_one_line_exit_1_and_leaves_no_litter() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("tiny");
    fs::create_dir_all(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.clone());
    fs::write(mnt.join("keep.txt"), "earlier results").unwrap();
    let out = mnt.join("out");
    let (code, err) = fails(&mut short_run(&out, 1));
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(tree(&mnt), vec![".out.lock", "keep.txt"]);
}

#[test]
fn money_never_wraps_and_fees_never_settle_an_empty_payment() {
    let tmp = tempfile::tempdir().unwrap();
    for bid in ["9223372036854775807", "10000000000000"] {
        let (code, err) = fails(settlesim().args([
            "check",
            "scenarios/claims.toml",
            "--set",
            &format!("rails[1].fee_bid={bid}"),
        ]));
        assert_eq!(code, 2);
        assert!(err.contains("network fee above $1000000"), "{err}");
    }
    // A fee that eats small payments: they fail with the reason, none is settled with nothing delivered.
    let out = tmp.path().join("out");
    short_run(&out, 1)
        .args(["--set", "duration=2d", "--set", "rails[1].fee_bid=40000"])
        .assert()
        .success();
    let mut rdr = csv::Reader::from_path(out.join("payments.csv")).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let (status, delivered, reason, total, price_move) = (
        col("status"),
        col("delivered_amount"),
        col("end_reason"),
        col("cost_total_usd"),
        col("price_move_usd"),
    );
    let mut exceeded = 0;
    for row in rdr.records() {
        let row = row.unwrap();
        let d: f64 = row[delivered].parse().unwrap();
        // Every cost but the signed price move (a gain is negative) is non-negative.
        let cost = |c: usize| row[c].parse::<f64>().unwrap();
        assert!(cost(total) - cost(price_move) >= -1e-9, "{row:?}");
        if &row[status] == "settled" {
            assert!(d > 0.0, "settled with nothing delivered: {row:?}");
        }
        if &row[reason] == "fees_exceed_amount" {
            // Failed where the fees took it all; returned if a later bank rejected it first.
            assert!(matches!(&row[status], "failed" | "returned"), "{row:?}");
            exceeded += 1;
        }
    }
    assert!(
        exceeded > 0,
        "a 40000 sun/unit bid (about $250 a transfer) should exceed some payments"
    );
}

#[test]
fn degenerate_chains_are_refused_before_they_run() {
    for (file, set, field) in [
        (
            "scenarios/chain-bft.toml",
            "chains[0].round_timeout=1us",
            "chains[0].round_timeout",
        ),
        (
            "scenarios/chain-bitcoin.toml",
            "chains[0].block_interval=1us",
            "chains[0].block_interval",
        ),
        (
            CHAIN,
            "chains[0].block_interval=1us",
            "chains[0].block_interval",
        ),
    ] {
        let (code, err) = fails(settlesim().args(["check", file, "--set", set]));
        assert_eq!(code, 2, "{set}: {err}");
        assert!(err.trim().ends_with(&format!("({field})")), "{set}: {err}");
    }
}

/// Every bad input is one line: `FILE:LINE:COL: message (field)`, or the argument at fault.
#[test]
fn one_error_format_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("bigseed.toml");
    let text = fs::read_to_string(CHAIN).unwrap();
    fs::write(&big, text.replace("seed = 1", "seed = 9223372036854775808")).unwrap();
    let missing = tmp.path().join("noname.toml");
    fs::write(&missing, "seed = 1\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "check".into(),
                CHAIN.into(),
                "--set".into(),
                "duration=2".into(),
            ],
            "--set duration=2: invalid type: integer `2`, expected a string; add a unit: 2d",
        ),
        (
            vec![
                "check".into(),
                CHAIN.into(),
                "--set".into(),
                "duraton=2d".into(),
            ],
            "--set duraton=2d: unknown field `duraton`",
        ),
        (
            vec!["check".into(), big.display().to_string()],
            "bigseed.toml:9:8: invalid value: integer `9223372036854775808`, expected i64 (seed)",
        ),
        (
            vec![
                "check".into(),
                big.display().to_string(),
                "--set".into(),
                "duration=2d".into(),
            ],
            "bigseed.toml:9:8: ",
        ),
        (
            vec!["check".into(), missing.display().to_string()],
            "noname.toml:1:1: missing field `name` (name)",
        ),
        (
            vec!["run".into(), "--seed".into(), "9223372036854775808".into()],
            "invalid value '9223372036854775808' for '--seed <SEED>'",
        ),
        (
            vec!["check".into(), "/dev/zero".into()],
            "/dev/zero: cannot read scenario: not a regular file",
        ),
        (vec!["trace".into(), "results/reference".into()], "<ID>"),
    ];
    for (args, expected) in cases {
        let (code, err) = fails(settlesim().args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains(expected),
            "{args:?}:\n got {err}\nwant {expected}"
        );
    }
}

#[test]
fn a_route_with_share_zero_gets_nothing_in_split_mode() {
    let text = fs::read_to_string("scenarios/claims.toml").unwrap();
    let o = |s: &str| s.to_string();
    let loaded = settlesim::scenario::load(
        "claims.toml",
        &text,
        &[
            o("mode=split"),
            o("duration=2d"),
            o("corridors[0].routes[0].share=0"),
            o("corridors[0].routes[1].share=1"),
            o("corridors[0].routes[2].share=0"),
            o("corridors[0].routes[3].share=0"),
        ],
    )
    .unwrap();
    let w = &loaded.world;
    let mut rails = std::collections::BTreeSet::new();
    let _ = settlesim::model::sim::run(
        w,
        |r: &settlesim::model::record::PaymentRecord| {
            if r.corridor.0 == 0 {
                rails.insert(w.rails[r.rail.0 as usize].name.clone());
            }
        },
        &Default::default(),
    )
    .unwrap();
    assert_eq!(rails.into_iter().collect::<Vec<_>>(), vec!["usdt"]);
    let err = settlesim::scenario::load(
        "claims.toml",
        &text,
        &[
            o("mode=split"),
            o("corridors[0].routes[0].share=0"),
            o("corridors[0].routes[1].share=0"),
            o("corridors[0].routes[2].share=0"),
            o("corridors[0].routes[3].share=0"),
        ],
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("every route has share 0"), "{err}");
}

mod hostile_overrides {
    //! Hostile `--set` values on the flagship: whatever the value, loading never panics, a refusal is one line
    //! naming the file or the argument, and what loads runs (bounded) with its invariants: conservation (checked
    //! by the run itself), every id once, no negative fee, amount or delivered sum.
    use proptest::prelude::*;
    use settlesim::model::record::{CostSplit, PaymentRecord};
    use settlesim::model::sim::{self, RunOptions};

    const FIELDS: &[&str] = &[
        "duration",
        "limits.drain",
        "seed",
        "mode",
        "banks[0].send_fee_usd",
        "banks[1].lifting_fee_usd",
        "banks[0].stp_rate",
        "nostros[0].balance",
        "corridors[0].payments_per_day",
        "corridors[0].amount.median",
        "corridors[0].amount.sigma",
        "corridors[0].amount.max",
        "corridors[0].diurnal",
        "corridors[0].routes[0].share",
        "rails[1].fee_bid",
        "rails[1].duplicate_rate",
        "chains[0].block_interval",
        "chains[0].block_capacity",
        "chains[0].tx_units",
        "chains[1].miners[0]",
        "chains[2].round_timeout",
        "name",
        "rails[0].id",
    ];
    const VALUES: &[&str] = &[
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551616",
        "1e308",
        "-1e308",
        "-1",
        "0",
        "1",
        "nan",
        "inf",
        "1e-300",
        "0.5",
        "\"\"",
        "\"1us\"",
        "\"999999d\"",
        "\"../x\"",
        "[]",
        "[1e308, 0]",
        "{}",
        "true",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
        #[test]
        fn hostile_set_values_fail_cleanly_or_run_clean(
            picks in proptest::collection::vec((0..FIELDS.len(), 0..VALUES.len()), 1..3),
        ) {
            let text = std::fs::read_to_string("scenarios/claims.toml").unwrap();
            let mut o = vec!["duration=3h".to_string(), "limits.drain=12h".to_string()];
            o.extend(picks.iter().map(|&(f, v)| format!("{}={}", FIELDS[f], VALUES[v])));
            o.push("limits.max_events=300000".into());
            match settlesim::scenario::load("claims.toml", &text, &o) {
                Err(e) => {
                    let line = e.to_string();
                    prop_assert!(!line.contains('\n'), "{line}");
                    prop_assert!(line.starts_with("claims.toml") || line.starts_with("--set "), "{line}");
                }
                Ok(loaded) => {
                    let mut ids = Vec::new();
                    let mut bad = None;
                    let sink = |r: &PaymentRecord| {
                        if r.delivered_minor < 0 || r.amount_minor <= 0 || r.cost.parts().iter().zip(CostSplit::NAMES).any(|(&c, name)| c < 0 && name != "price_move") {
                            bad = Some(format!("{r:?}"));
                        }
                        ids.push(r.id);
                    };
                    let (outcome, _) = sim::run(&loaded.world, sink, &RunOptions::default())
                        .map_err(|e| TestCaseError::fail(format!("{o:?}: {e}")))?;
                    prop_assert!(bad.is_none(), "{o:?}: {bad:?}");
                    ids.sort_unstable();
                    prop_assert_eq!(ids.len() as u64, outcome.payments);
                    prop_assert!(ids.iter().enumerate().all(|(i, &id)| i as u64 == id));
                }
            }
        }
    }
}

/// Found by `scripts/fuzz.sh load` (the input that triggered it is kept in tests/fixtures/fuzz/): a quoted key holding newlines
/// (a `'''` string where a key was expected) put a multi-line field path into the error. Field paths now escape
/// control characters, so the error stays one line, and the escaped path parses back to the same key.
#[test]
fn fuzz_multiline_key_in_an_error_stays_one_line() {
    let text = fs::read_to_string("tests/fixtures/fuzz/multiline-key-in-error.toml").unwrap();
    for overrides in [vec![], vec!["duration=1d".to_string()]] {
        let err = settlesim::scenario::load("fuzz.toml", &text, &overrides)
            .err()
            .expect("the input is malformed");
        let line = err.to_string();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("fuzz.toml"), "{line}");
    }
    let path = settlesim::scenario::locate::FieldPath(vec![settlesim::scenario::locate::Seg::Key(
        "a\nb\t\"c\u{1}".into(),
    )]);
    let shown = path.to_string();
    assert!(!shown.contains('\n'), "{shown}");
    assert_eq!(
        shown
            .parse::<settlesim::scenario::locate::FieldPath>()
            .unwrap(),
        path
    );
}
