//! The binary end to end: determinism of the digest, the files written, error lines and exit codes.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

fn settlesim() -> Command {
    Command::cargo_bin("settlesim").expect("binary builds")
}

const SHORT: [&str; 4] = ["--set", "duration=3d", "--set", "limits.drain=4d"];

fn run_default(out: &Path, extra: &[&str]) -> serde_json::Value {
    settlesim()
        .args(["run", "--quiet", "--out"])
        .arg(out)
        .args(SHORT)
        .args(extra)
        .assert()
        .success();
    serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn same_seed_same_digest_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = run_default(&dir.path().join("a"), &[]);
    let b = run_default(&dir.path().join("b"), &[]);
    assert_eq!(a["digest"], b["digest"]);
    assert_eq!(a["scenario_sha256"], b["scenario_sha256"]);
    for f in [
        "payments.csv",
        "summary.csv",
        "timeseries.csv",
        "histograms/swift__all.hdr",
    ] {
        assert_eq!(
            fs::read(dir.path().join("a").join(f)).unwrap(),
            fs::read(dir.path().join("b").join(f)).unwrap(),
            "{f}"
        );
    }
    let c = run_default(&dir.path().join("c"), &["--seed", "7"]);
    assert_ne!(a["digest"], c["digest"], "another seed gives other results");
    assert_ne!(a["scenario_sha256"], c["scenario_sha256"]);
}

#[test]
fn run_writes_every_output_and_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let m = run_default(&out, &[]);
    for f in [
        "manifest.json",
        "summary.csv",
        "payments.csv",
        "timeseries.csv",
        "scenario.toml",
        "histograms/swift__USD-MXN.hdr",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let leftovers: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty());
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    let header = summary.lines().next().unwrap();
    for col in [
        "rail",
        "corridor",
        "payments",
        "settled",
        "returned",
        "failed",
        "in_flight",
        "latency_s_p50",
        "latency_s_p90",
        "latency_s_p99",
        "latency_s_max",
        "cost_bps_mean",
        "cost_bps_p90",
        "fees_usd_total",
        "fx_cost_usd_total",
    ] {
        assert!(
            header.split(',').any(|h| h == col),
            "summary.csv lacks {col}"
        );
    }
    assert!(summary.lines().any(|l| l.starts_with("swift,all,")));
    // The payment count in the manifest matches the rows of payments.csv.
    let rows = fs::read_to_string(out.join("payments.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(m["payments"].as_u64().unwrap() as usize, rows);
    assert!(m["events"].as_u64().unwrap() > 0);
}

#[test]
fn trace_tells_the_story_of_a_payment() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_default(&out, &[]);
    // The first settled payment on the USDT rail, from payments.csv.
    let payments = fs::read_to_string(out.join("payments.csv")).unwrap();
    let header: Vec<&str> = payments.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (id_col, rail_col, status_col) = (col("id"), col("rail"), col("status"));
    let id = payments
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f[rail_col] == "usdt" && f[status_col] == "settled")
        .map(|f| f[id_col].to_string())
        .unwrap();
    let assert = settlesim()
        .arg("trace")
        .arg(&out)
        .arg(&id)
        .assert()
        .success();
    let text = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(text.starts_with(&format!("payment {id} ")), "{text}");
    assert!(text.contains("payment created"));
    assert!(text.contains("accepted for processing"));
    // A payment on the USDT rail: its cost line names the chain components.
    let cost = text.lines().nth(1).unwrap_or_default();
    assert!(
        cost.starts_with("cost USD")
            && cost.contains("network fee")
            && cost.contains("ramp spread"),
        "{text}"
    );
    settlesim()
        .arg("trace")
        .arg(&out)
        .arg("99999999")
        .assert()
        .code(2);
}

#[test]
fn bad_scenario_is_one_line_exit_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    fs::write(
        &file,
        "name = \"x\"\nstart = \"2026-01-01T00:00:00Z\"\nduration = \"1d\"\nbogus = 1\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let assert = settlesim()
        .args(["run", "--quiet"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("bad.toml:4:1: unknown field `bogus`"),
        "{stderr}"
    );
    assert!(!out.exists(), "no output for bad input");
    settlesim().arg("check").arg(&file).assert().code(2);
}

#[test]
fn missing_file_bad_override_and_unwritable_dir() {
    let dir = tempfile::tempdir().unwrap();
    let a = settlesim()
        .args(["run", "/no/such/scenario.toml"])
        .assert()
        .code(2);
    let e = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(
        e.contains("/no/such/scenario.toml: cannot read scenario") && e.lines().count() == 1,
        "{e}"
    );
    let a = settlesim()
        .args(["run", "--quiet", "--set", "nosuch=1"])
        .arg("--out")
        .arg(dir.path().join("x"))
        .assert()
        .code(2);
    let e = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(e.contains("nosuch") && e.lines().count() == 1, "{e}");
    let blocker = dir.path().join("file");
    fs::write(&blocker, "not a directory").unwrap();
    let a = settlesim()
        .args(["run", "--quiet"])
        .args(SHORT)
        .arg("--out")
        .arg(blocker.join("sub"))
        .assert()
        .code(1);
    let e = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(
        e.starts_with("error: ") && e.lines().count() == 1 && !e.contains("panicked"),
        "{e}"
    );
}

#[test]
fn check_accepts_the_shipped_scenarios() {
    let mut n = 0;
    for entry in fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            settlesim().arg("check").arg(&path).assert().success();
            n += 1;
        }
    }
    assert!(n >= 6, "the shipped scenarios: {n}");
}

#[test]
fn help_teaches() {
    let a = settlesim().arg("--help").assert().success();
    let text = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(text.contains("Examples:") && text.contains("settlesim trace"));
    let a = settlesim().args(["run", "--help"]).assert().success();
    let text = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(text.contains("manifest.json") && text.contains("--set"));
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

const RISK_CSV: [&str; 9] = [
    "risk",
    "--attacker-share",
    "0.1,0.3",
    "--confirmations",
    "0,1,2,6",
    "--trials",
    "2000",
    "--format",
    "csv",
];

#[test]
fn risk_csv_has_a_row_per_share_and_confirmation_and_repeats_byte_for_byte() {
    let a = settlesim().args(RISK_CSV).assert().success();
    let text = stdout(&a);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "q,z,trials,p_sim,ci_low,ci_high,p_nakamoto,p_rosenfeld"
    );
    assert_eq!(lines.len(), 1 + 2 * 4, "{text}");
    let pairs: Vec<String> = lines[1..]
        .iter()
        .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(
        pairs,
        [
            "0.1,0,2000",
            "0.1,1,2000",
            "0.1,2,2000",
            "0.1,6,2000",
            "0.3,0,2000",
            "0.3,1,2000",
            "0.3,2,2000",
            "0.3,6,2000"
        ]
    );
    // Nakamoto's and Rosenfeld's columns for q = 0.1, z = 6.
    assert!(
        lines[4].ends_with(",0.0002428027,0.0005914122"),
        "{}",
        lines[4]
    );
    let b = settlesim().args(RISK_CSV).assert().success();
    assert_eq!(a.get_output().stdout, b.get_output().stdout);
    let c = settlesim()
        .args(RISK_CSV)
        .args(["--seed", "1"])
        .assert()
        .success();
    assert_ne!(a.get_output().stdout, c.get_output().stdout);
}

#[test]
fn risk_table_and_help() {
    let a = settlesim()
        .args(["risk", "--attacker-share", "0.25", "--confirmations", "6"])
        .args(["--trials", "1000", "--propagation-delay", "10s"])
        .assert()
        .success();
    let text = stdout(&a);
    let table: Vec<&str> = text.lines().skip_while(|l| !l.is_empty()).skip(1).collect();
    assert_eq!(table.len(), 2, "{text}");
    assert!(
        table[0].contains("q_eff") && table[0].ends_with("Rosenfeld"),
        "{text}"
    );
    assert_eq!(
        table[0].chars().count(),
        table[1].chars().count(),
        "aligned: {text}"
    );
    let a = settlesim().args(["risk", "--help"]).assert().success();
    let help = stdout(&a);
    for needle in ["p_rosenfeld", "Wilson", "Examples:", "--propagation-delay"] {
        assert!(help.contains(needle), "risk --help lacks {needle}");
    }
}

#[test]
fn risk_bad_input_is_one_line_and_exit_2() {
    for (args, flag) in [
        (
            ["--attacker-share", "1.2", "--confirmations", "6"],
            "--attacker-share",
        ),
        (
            ["--attacker-share", "0.1", "--confirmations", "-1"],
            "--confirmations",
        ),
        (
            ["--attacker-share", "0.1", "--confirmations", "six"],
            "--confirmations",
        ),
        (
            ["--attacker-share", "0.1,", "--confirmations", "6"],
            "--attacker-share",
        ),
    ] {
        let a = settlesim().arg("risk").args(args).assert().code(2);
        let e = String::from_utf8(a.get_output().stderr.clone()).unwrap();
        assert!(
            e.lines().count() == 1 && e.starts_with(&format!("error: {flag} ")),
            "{e}"
        );
        assert!(a.get_output().stdout.is_empty());
    }
    let a = settlesim()
        .args([
            "risk",
            "--attacker-share",
            "0.1",
            "--confirmations",
            "6",
            "--trials",
            "0",
        ])
        .assert()
        .code(2);
    let e = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(
        e.lines().count() == 1 && e.starts_with("error: --trials "),
        "{e}"
    );
}

#[test]
fn bad_arguments_are_one_line_and_a_closed_pipe_is_not_a_panic() {
    let a = settlesim().args(["run", "--seed", "-3"]).assert().code(2);
    let e = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("-3"), "{e}");
    let a = settlesim().arg("frobnicate").assert().code(2);
    assert_eq!(
        String::from_utf8(a.get_output().stderr.clone())
            .unwrap()
            .lines()
            .count(),
        1
    );
    // Reading one line of a long output and closing the pipe must not make settlesim panic.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("settlesim"))
        .args([
            "risk",
            "--attacker-share",
            "0.1,0.2,0.3,0.4",
            "--confirmations",
            "0,1,2,3,4,5,6,7,8,9,10",
            "--trials",
            "10",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}
