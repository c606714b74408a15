//! The command line: clap definitions and dispatch. Parsing only; the work happens in `app`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::app::{self, AppError};

#[derive(Parser, Debug)]
#[command(
    name = "settlesim",
    version,
    about = "Simulate cross-border payment rails and compare their latency and cost",
    long_about = "settlesim replays payment demand over correspondent banking (and, later, blockchain) rails in a \
deterministic discrete-event simulation: business calendars and cut-offs, compliance holds, fees, FX spreads and \
nostro liquidity. The same scenario, seed and overrides always give byte-identical results.",
    after_help = "Examples:\n  settlesim run                          # the embedded default scenario\n  settlesim run scenarios/default.toml --set duration=2d --seed 7\n  settlesim check my.toml                # validate only\n  settlesim trace results/default 1234   # why did payment 1234 take so long?"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario and write results (manifest, summary, payments, histograms, time series).
    #[command(
        after_help = "Outputs in DIR (default results/<scenario name>/):\n  manifest.json    provenance: scenario sha256, seed, version, events, digest of the result files\n  summary.csv      one row per (rail, corridor) and an `all` row per rail\n  payments.csv     one row per payment, with its cost split\n  timeseries.csv   arrivals, completions and backlog per simulated hour and rail\n  histograms/      HDR latency histograms (ms, V2) per (rail, corridor)\n  scenario.toml    the effective scenario (overrides applied), used by `trace`"
    )]
    Run {
        /// Scenario file (TOML). Without it, the embedded default scenario runs.
        file: Option<PathBuf>,
        /// Master seed (overrides the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Override any scenario field: `--set duration=2d --set banks[1].stp_rate=0.8`. Repeatable.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Validate a scenario file without running it. Errors print FILE:LINE:COL: message (field) and exit 2.
    Check {
        file: PathBuf,
        /// Overrides to validate along with the file.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Tell one payment's story: every step in UTC and local time, why it waited, the fees taken.
    Trace {
        /// A directory written by `settlesim run`.
        dir: PathBuf,
        /// The payment id (column `id` of payments.csv).
        id: u64,
    },
}

/// Runs the parsed command; returns what to print on stdout.
pub fn dispatch(cli: Cli) -> Result<String, AppError> {
    match cli.command {
        Command::Run {
            file,
            seed,
            out,
            set,
            quiet,
        } => {
            let args = app::run::RunArgs {
                file,
                seed,
                out,
                set,
                quiet,
            };
            let report = app::run::run(&args)?;
            Ok(app::run::render_table(&report))
        }
        Command::Check { file, set } => app::check(&file, &set),
        Command::Trace { dir, id } => app::trace::trace(&dir, id),
    }
}
