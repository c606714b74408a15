//! `settlesim risk`: turn the flags into validated options, estimate each (q, z) with its own random stream, and
//! render a table or CSV. The probabilities come from `model::chain::risk`; this module parses and formats.

use crate::app::AppError;
use crate::model::chain::risk::{self, Estimate, Race, RiskError, Z_95};
use crate::rng;
use crate::units::{US_PER_S, parse_duration_us};

/// The CSV columns, in order.
pub const CSV_HEADER: &str = "q,z,trials,p_sim,ci_low,ci_high,p_nakamoto,p_rosenfeld";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for reading.
    #[default]
    Table,
    /// A header and one row per (q, z).
    Csv,
}

/// The flags as typed. Numbers stay text until [`RiskOptions::from_args`], so that every bad value gets one line
/// naming its flag.
#[derive(Clone, Debug)]
pub struct RiskArgs {
    pub attacker_share: String,
    pub confirmations: String,
    pub trials: String,
    pub seed: String,
    pub propagation_delay: String,
    pub block_interval: String,
    pub format: String,
}

/// Validated options: one race per (q, z), q-major in the order given.
#[derive(Clone, Debug)]
pub struct RiskOptions {
    pub races: Vec<Race>,
    pub trials: u64,
    pub seed: u64,
    pub delay_s: f64,
    pub block_interval_s: f64,
    pub format: Format,
}

/// One output row.
#[derive(Clone, Debug)]
pub struct RiskRow {
    pub race: Race,
    pub estimate: Estimate,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_nakamoto: f64,
    pub p_rosenfeld: f64,
}

fn usage(flag: &str, text: &str, why: impl std::fmt::Display) -> AppError {
    AppError::Usage(format!("{flag} {text:?}: {why}"))
}

/// A library error as a usage error naming the flag at fault.
fn flag_error(e: RiskError) -> AppError {
    let flag = match e {
        RiskError::Share(_) => "--attacker-share",
        RiskError::Confirmations(_) => "--confirmations",
        RiskError::Delay(_) | RiskError::DelayAboveInterval { .. } => "--propagation-delay",
        RiskError::BlockInterval(_) => "--block-interval",
        RiskError::Trials(_) => "--trials",
    };
    AppError::Usage(format!("{flag}: {e}"))
}

/// Splits a comma-separated list; empty items are errors.
fn list<'a>(flag: &str, text: &'a str) -> Result<Vec<&'a str>, AppError> {
    let items: Vec<&str> = text.split(',').map(str::trim).collect();
    if items.iter().any(|s| s.is_empty()) {
        return Err(usage(flag, text, "empty item in the comma-separated list"));
    }
    Ok(items)
}

fn share(text: &str) -> Result<f64, AppError> {
    const FLAG: &str = "--attacker-share";
    match text.parse::<f64>() {
        Ok(q) if (0.0..1.0).contains(&q) => Ok(q),
        _ => Err(usage(
            FLAG,
            text,
            "an attacker hash share is a number in [0, 1), e.g. 0.1",
        )),
    }
}

fn confirmations(text: &str) -> Result<u32, AppError> {
    const FLAG: &str = "--confirmations";
    match text.parse::<u32>() {
        Ok(z) if z <= risk::CONFIRMATIONS_MAX => Ok(z),
        _ => Err(usage(
            FLAG,
            text,
            format!(
                "confirmations are a whole number from 0 to {}",
                risk::CONFIRMATIONS_MAX
            ),
        )),
    }
}

/// A whole number, with `_` separators or in the form `1e6` allowed.
fn whole_number(text: &str) -> Option<u64> {
    let plain = text.replace('_', "");
    plain.parse::<u64>().ok().or_else(|| {
        let x = plain.parse::<f64>().ok()?;
        (x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= u64::MAX as f64).then_some(x as u64)
    })
}

fn trials(text: &str) -> Result<u64, AppError> {
    match whole_number(text) {
        Some(n) if (1..=risk::TRIALS_MAX).contains(&n) => Ok(n),
        _ => Err(usage(
            "--trials",
            text,
            format!(
                "the number of trials is a whole number from 1 to {}",
                risk::TRIALS_MAX
            ),
        )),
    }
}

/// Seconds: a bare number (`2.5`) or a duration with units (`500ms`, `12s`, `10m`).
fn seconds(flag: &str, text: &str) -> Result<f64, AppError> {
    if let Ok(s) = text.trim().parse::<f64>() {
        return if s.is_finite() && s >= 0.0 {
            Ok(s)
        } else {
            Err(usage(flag, text, "a number of seconds ≥ 0 is required"))
        };
    }
    parse_duration_us(text)
        .map(|us| us as f64 / US_PER_S as f64)
        .map_err(|e| usage(flag, text, e))
}

impl RiskOptions {
    pub fn from_args(args: &RiskArgs) -> Result<RiskOptions, AppError> {
        let shares = list("--attacker-share", &args.attacker_share)?
            .into_iter()
            .map(share)
            .collect::<Result<Vec<_>, _>>()?;
        let zs = list("--confirmations", &args.confirmations)?
            .into_iter()
            .map(confirmations)
            .collect::<Result<Vec<_>, _>>()?;
        let trials = trials(&args.trials)?;
        let seed = args
            .seed
            .replace('_', "")
            .parse::<u64>()
            .map_err(|_| usage("--seed", &args.seed, "a seed is a whole number ≥ 0"))?;
        let delay_s = seconds("--propagation-delay", &args.propagation_delay)?;
        let block_interval_s = seconds("--block-interval", &args.block_interval)?;
        let format = match args.format.as_str() {
            "table" => Format::Table,
            "csv" => Format::Csv,
            other => return Err(usage("--format", other, "the formats are table and csv")),
        };
        let mut races = Vec::with_capacity(shares.len() * zs.len());
        for &q in &shares {
            for &z in &zs {
                races.push(Race::new(q, z, delay_s, block_interval_s).map_err(flag_error)?);
            }
        }
        Ok(RiskOptions {
            races,
            trials,
            seed,
            delay_s,
            block_interval_s,
            format,
        })
    }
}

/// Simulates every race on its own stream, `risk/q=<q>/z=<z>` under the seed, so a row does not depend on which
/// other rows were asked for.
pub fn estimate(opts: &RiskOptions) -> Result<Vec<RiskRow>, AppError> {
    opts.races
        .iter()
        .map(|race| {
            let mut stream = rng::stream(opts.seed, &race.stream_label());
            let estimate = race
                .simulate(opts.trials, &mut stream)
                .map_err(flag_error)?;
            let (ci_low, ci_high) = estimate.interval(Z_95);
            Ok(RiskRow {
                race: race.clone(),
                estimate,
                ci_low,
                ci_high,
                p_nakamoto: risk::nakamoto(race.share(), race.confirmations()),
                p_rosenfeld: risk::rosenfeld(race.share(), race.confirmations()),
            })
        })
        .collect()
}

/// CSV with [`CSV_HEADER`]: q as given (shortest round-trip form), probabilities with 10 decimals.
pub fn render_csv(rows: &[RiskRow]) -> String {
    let mut out = String::from(CSV_HEADER);
    for r in rows {
        out.push_str(&format!(
            "\n{},{},{},{:.10},{:.10},{:.10},{:.10},{:.10}",
            r.race.share(),
            r.race.confirmations(),
            r.estimate.trials,
            r.estimate.p(),
            r.ci_low,
            r.ci_high,
            r.p_nakamoto,
            r.p_rosenfeld
        ));
    }
    out
}

/// Right-aligns cells into columns two spaces apart.
fn align(cells: &[Vec<String>]) -> Vec<String> {
    let columns = cells.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            cells
                .iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    cells
        .iter()
        .map(|row| {
            row.iter()
                .zip(&widths)
                .map(|(cell, &w)| format!("{cell:>w$}"))
                .collect::<Vec<_>>()
                .join("  ")
        })
        .collect()
}

/// The human table: probabilities with 7 decimals like the whitepaper, a line of context above.
pub fn render_table(rows: &[RiskRow], opts: &RiskOptions) -> String {
    let delayed = opts.delay_s > 0.0;
    let mut header: Vec<String> = vec!["q".into()];
    if delayed {
        header.push("q_eff".into());
    }
    header.extend(["z", "trials", "p_sim", "95% CI", "Nakamoto", "Rosenfeld"].map(String::from));
    let mut cells = vec![header];
    for r in rows {
        let mut row = vec![r.race.share().to_string()];
        if delayed {
            row.push(format!("{:.4}", r.race.effective_share()));
        }
        row.extend([
            r.race.confirmations().to_string(),
            r.estimate.trials.to_string(),
            format!("{:.7}", r.estimate.p()),
            format!("{:.7}–{:.7}", r.ci_low, r.ci_high),
            format!("{:.7}", r.p_nakamoto),
            format!("{:.7}", r.p_rosenfeld),
        ]);
        cells.push(row);
    }
    let mut lines = vec![format!(
        "Probability that an attacker with hash share q catches up after z confirmations: {} races per row \
         (seed {}), 95% Wilson interval, and the analytic values.",
        opts.trials, opts.seed
    )];
    if delayed {
        lines.push(format!(
            "Propagation delay {} s, block interval {} s: q_eff is the attacker's share of chain-extending blocks; \
             p_sim uses it, Nakamoto and Rosenfeld use q.",
            opts.delay_s, opts.block_interval_s
        ));
    }
    lines.push(String::new());
    lines.extend(align(&cells));
    lines.join("\n")
}

/// `settlesim risk`.
pub fn risk(args: &RiskArgs) -> Result<String, AppError> {
    let opts = RiskOptions::from_args(args)?;
    let rows = estimate(&opts)?;
    Ok(match opts.format {
        Format::Csv => render_csv(&rows),
        Format::Table => render_table(&rows, &opts),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(q: &str, z: &str) -> RiskArgs {
        RiskArgs {
            attacker_share: q.into(),
            confirmations: z.into(),
            trials: "100".into(),
            seed: "0".into(),
            propagation_delay: "0".into(),
            block_interval: "600".into(),
            format: "csv".into(),
        }
    }

    fn error(a: &RiskArgs) -> String {
        RiskOptions::from_args(a).unwrap_err().to_string()
    }

    #[test]
    fn lists_expand_q_major() {
        let o = RiskOptions::from_args(&args("0.1, 0.3", "0,1,6")).unwrap();
        let pairs: Vec<_> = o
            .races
            .iter()
            .map(|r| (r.share(), r.confirmations()))
            .collect();
        assert_eq!(
            pairs,
            [(0.1, 0), (0.1, 1), (0.1, 6), (0.3, 0), (0.3, 1), (0.3, 6)]
        );
    }

    #[test]
    fn every_bad_value_names_its_flag() {
        for (q, z, flag) in [
            ("1", "1", "--attacker-share \"1\""),
            ("-0.1", "1", "--attacker-share"),
            ("abc", "1", "--attacker-share"),
            ("0.1,,0.2", "1", "empty item"),
            ("0.1", "-1", "--confirmations \"-1\""),
            ("0.1", "1.5", "--confirmations"),
            ("0.1", "10001", "--confirmations"),
        ] {
            let e = error(&args(q, z));
            assert!(e.contains(flag), "{q} {z}: {e}");
        }
        let mut a = args("0.1", "1");
        a.trials = "0".into();
        assert!(error(&a).starts_with("--trials \"0\""));
        a.trials = "1e6".into();
        assert_eq!(RiskOptions::from_args(&a).unwrap().trials, 1_000_000);
        a.propagation_delay = "2 parsecs".into();
        assert!(error(&a).starts_with("--propagation-delay"));
        a.propagation_delay = "700".into();
        assert!(error(&a).contains("longer than the block interval"));
        a.propagation_delay = "500ms".into();
        assert_eq!(RiskOptions::from_args(&a).unwrap().delay_s, 0.5);
        a.block_interval = "0".into();
        assert!(error(&a).contains("block interval 0 s"));
    }
}
