//! Scenario files: TOML text → `--set` overrides applied → raw serde structs → validated `World`. Every error,
//! syntactic or semantic, names the file, line, column and field path: `FILE:LINE:COL: message (field)`.

pub mod locate;
pub mod raw;
pub mod validate;
pub mod validate_chain;
pub mod warn;

use std::fmt;
use std::str::FromStr;

use crate::model::world::World;
use crate::output::sha256_hex;

/// A scenario that parsed and validated.
pub struct Loaded {
    /// Where it came from (a path, or the embedded default).
    pub source: String,
    pub raw: raw::Scenario,
    pub world: World,
    /// The scenario text with overrides applied: what actually ran.
    pub effective_text: String,
    /// Not errors: `FILE:LINE:COL: warning: message (field)` lines for the edge to print on stderr.
    pub warnings: Vec<String>,
    /// SHA-256 of the effective scenario in canonical form (JSON of the parsed fields, defaults filled in), so
    /// comments, formatting and key order do not change it but any value does.
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub line: Option<usize>,
    pub col: Option<usize>,
    pub message: String,
    pub field: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.col) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(field) = &self.field {
            write!(f, " ({field})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Parses, applies overrides, validates.
pub fn load(source: &str, text: &str, overrides: &[String]) -> Result<Loaded, ScenarioError> {
    let err = |line, col, message: String, field| ScenarioError {
        file: source.to_string(),
        line,
        col,
        message,
        field,
    };
    let effective_text = locate::apply_overrides(text, overrides)
        .map_err(|e| err(None, None, e.to_string(), None))?;
    let raw: raw::Scenario = locate::from_str_located(&effective_text).map_err(|e| {
        err(
            e.pos.as_ref().map(|p| p.line),
            e.pos.as_ref().map(|p| p.col),
            e.message.clone(),
            e.path.as_ref().map(|p| p.to_string()),
        )
    })?;
    let world = validate::validate(&raw).map_err(|inv| {
        let pos = locate::FieldPath::from_str(&inv.path)
            .ok()
            .and_then(|p| locate::locate(&effective_text, &p));
        let overridden = overrides
            .iter()
            .any(|o| o.split_once('=').is_some_and(|(k, _)| k.trim() == inv.path));
        let message = if overridden {
            format!("{} (value set by --set)", inv.message)
        } else {
            inv.message
        };
        err(
            pos.as_ref().map(|p| p.line),
            pos.as_ref().map(|p| p.col),
            message,
            Some(inv.path),
        )
    })?;
    let warnings = warn::unpayable_tails(&world)
        .into_iter()
        .map(|(path, message)| {
            let pos = locate::FieldPath::from_str(&path)
                .ok()
                .and_then(|p| locate::locate(&effective_text, &p));
            let at = pos.map_or(String::new(), |p| format!(":{}:{}", p.line, p.col));
            format!("{source}{at}: warning: {message} ({path})")
        })
        .collect();
    let canonical = serde_json::to_vec(&raw).expect("scenario serializes");
    Ok(Loaded {
        warnings,
        source: source.to_string(),
        raw,
        world,
        effective_text,
        sha256: sha256_hex(&canonical),
    })
}
