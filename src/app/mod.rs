//! The application edge: commands that read files, run the core and write results. Everything that touches the
//! outside world (files, terminal, clock) lives here or in `output`, never in the core.

pub mod chart;
pub mod claims;
pub mod progress;
pub mod report;
pub mod risk;
pub mod run;
pub mod size;
pub mod sweep;
pub mod sweep_report;
pub mod trace;

use std::path::Path;

use crate::scenario::{self, Loaded, ScenarioError};

/// The embedded default scenario, run when `settlesim run` gets no file.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/claims.toml");
pub const DEFAULT_SCENARIO_NAME: &str = "<embedded default: scenarios/claims.toml>";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad scenario or override: exit code 2.
    #[error("{0}")]
    Scenario(ScenarioError),
    /// Bad command-line use: exit code 2.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Sim(String),
}

impl From<crate::output::staging::StageError> for AppError {
    fn from(e: crate::output::staging::StageError) -> AppError {
        use crate::output::staging::StageError;
        match e {
            // A target that is a file or a foreign directory is the user's input: exit 2, like any bad argument.
            StageError::Refused(m) => AppError::Usage(m),
            StageError::Busy(m) | StageError::Io(m) => AppError::Io(m),
        }
    }
}

impl AppError {
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Scenario(_) | AppError::Usage(_) => 2,
            AppError::Io(_) | AppError::Sim(_) => 1,
        }
    }
}

/// Reads a scenario file (or the embedded default) and applies `--set` overrides.
pub fn load_scenario(file: Option<&Path>, overrides: &[String]) -> Result<Loaded, AppError> {
    let loaded = load_quietly(file, overrides)?;
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    Ok(loaded)
}

fn load_quietly(file: Option<&Path>, overrides: &[String]) -> Result<Loaded, AppError> {
    match file {
        None => scenario::load(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO, overrides)
            .map_err(AppError::Scenario),
        Some(path) => {
            let text = read_scenario(path)?;
            scenario::load(&path.display().to_string(), &text, overrides)
                .map_err(AppError::Scenario)
        }
    }
}

/// Reads a scenario file: a regular file of at most `SCENARIO_BYTES_MAX` bytes, in UTF-8. A FIFO, a device such
/// as /dev/zero or a huge file is refused with one line, before anything is parsed.
pub fn read_scenario(path: &Path) -> Result<String, AppError> {
    let bytes = crate::output::verify::read_capped(path, scenario::SCENARIO_BYTES_MAX)
        .map_err(|e| AppError::Usage(format!("{}: cannot read scenario: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|e| {
        AppError::Usage(format!(
            "{}: cannot read scenario: not UTF-8 (byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// `settlesim check FILE`: validate without running.
pub fn check(file: &Path, overrides: &[String]) -> Result<String, AppError> {
    let loaded = load_scenario(Some(file), overrides)?;
    let w = &loaded.world;
    let mut msg = format!(
        "{}: ok — scenario {:?}: {} banks, {} nostros, {} domestic rails, {} rails, {} corridors, {} routes; sha256 {}",
        file.display(),
        w.name,
        w.banks.len(),
        w.nostros.len(),
        w.dom_rails.len(),
        w.rails.len(),
        w.corridors.len(),
        w.routes.len(),
        &loaded.sha256[..16]
    );
    // The chains, one line each: what kind of consensus, how fast, how big a block.
    for c in &w.chains {
        use crate::model::chain::spec::Consensus;
        let d = |us: u64| crate::units::human_duration_s(us as f64 / 1e6);
        let kind = match &c.consensus {
            Consensus::Nakamoto {
                interval_us,
                shares,
            } => format!(
                "proof of work, a block every {} on average, {} miners",
                d(*interval_us),
                shares.len()
            ),
            Consensus::Pos {
                slot_us,
                validators,
                ..
            } => format!(
                "proof of stake, {} slots, {validators} validators",
                d(*slot_us)
            ),
            Consensus::Bft { validators, .. } => format!("BFT, {validators} validators"),
        };
        msg.push_str(&format!(
            "\n  chain {}: {kind}, blocks of {} size units ({} per transfer), background {} tx/s",
            c.name, c.block_capacity, c.tx_units, c.background_tx_per_s
        ));
    }
    Ok(msg)
}
