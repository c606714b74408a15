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

/// A scenario file is small (the documented reference of every field is 14 kB): anything above this is refused
/// before it is parsed, so a huge file or an endless stream cannot exhaust memory.
pub const SCENARIO_BYTES_MAX: u64 = 1 << 20;
/// `--set` values are short too.
pub const OVERRIDE_BYTES_MAX: usize = 64 << 10;

/// Top-level tables a `--set section.key=value` may create when the file leaves them out.
pub const OPTIONAL_SECTIONS: &[&str] = &["liquidity"];

/// The `--set` argument whose path is, or contains, `path`: an error there is the override's, not the file's.
fn override_for<'a>(overrides: &'a [String], path: &locate::FieldPath) -> Option<&'a String> {
    overrides.iter().rev().find(|o| {
        locate::split_override(o)
            .and_then(|(lhs, _)| lhs.trim().parse::<locate::FieldPath>().ok())
            .is_some_and(|lhs| path.0.starts_with(&lhs.0))
    })
}

/// A hint for a value that is a bare number where a duration is expected: `--set duration=2`.
fn duration_hint(message: &str, arg: &str) -> String {
    let value = locate::split_override(arg)
        .map(|(_, v)| v.trim())
        .unwrap_or("");
    let looks_like_duration = message.contains("duration") || message.contains("a string");
    if looks_like_duration && !value.is_empty() && value.parse::<f64>().is_ok() {
        format!("{message}; add a unit: {value}d, {value}h, {value}min or {value}s")
    } else {
        message.to_string()
    }
}

/// toml stops at nesting deeper than its recursion limit without a position: say what it means.
fn deep_hint(message: &str) -> String {
    if message.contains("recursion limit") {
        "keys, arrays or tables nested too deeply (beyond toml's recursion limit); no scenario field nests that deep"
            .into()
    } else {
        message.to_string()
    }
}

/// The line with the most nesting (dots, brackets and braces): where an unlocated recursion-limit error is.
fn deepest_line(text: &str) -> Option<locate::Pos> {
    let (line, depth) = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            (
                i,
                l.chars().filter(|c| matches!(c, '.' | '[' | '{')).count(),
            )
        })
        .max_by_key(|&(i, d)| (d, std::cmp::Reverse(i)))?;
    (depth > 0).then_some(locate::Pos {
        line: line + 1,
        col: 1,
    })
}

/// Parses, applies overrides, validates. An error in a value that a `--set` supplied is reported against that
/// argument (`--set duration=2: ...`); every other error against the file's line and column.
pub fn load(source: &str, text: &str, overrides: &[String]) -> Result<Loaded, ScenarioError> {
    let err = |line, col, message: String, field| ScenarioError {
        file: source.to_string(),
        line,
        col,
        message,
        field,
    };
    let blamed = |arg: &String, message: &str, field: String| ScenarioError {
        file: format!("--set {arg}"),
        line: None,
        col: None,
        message: duration_hint(message, arg),
        field: Some(field),
    };
    if text.len() as u64 > SCENARIO_BYTES_MAX {
        return Err(err(
            None,
            None,
            format!(
                "larger than {} kB: not a scenario file",
                SCENARIO_BYTES_MAX >> 10
            ),
            None,
        ));
    }
    if let Some(o) = overrides.iter().find(|o| o.len() > OVERRIDE_BYTES_MAX) {
        return Err(ScenarioError {
            file: format!("--set {}…", o.chars().take(40).collect::<String>()),
            line: None,
            col: None,
            message: format!("longer than {} kB", OVERRIDE_BYTES_MAX >> 10),
            field: None,
        });
    }
    let effective_text = locate::apply_overrides_creating(text, overrides, OPTIONAL_SECTIONS)
        .map_err(|e| match e {
            // The file itself does not parse (before any override could be applied): the file's position.
            locate::OverrideError::Document(le) => err(
                le.pos.as_ref().map(|p| p.line),
                le.pos.as_ref().map(|p| p.col),
                deep_hint(&le.message),
                le.path
                    .as_ref()
                    .filter(|p| !p.is_empty())
                    .map(|p| p.to_string()),
            ),
            other => err(None, None, other.to_string(), None),
        })?;
    let raw: raw::Scenario = locate::from_str_located(&effective_text).map_err(|e| {
        // toml names a missing field only in its message: put it in the field path too.
        let mut path = e.path.clone().unwrap_or_default();
        if let Some(name) = e
            .message
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            path.0.push(locate::Seg::Key(name.to_string()));
        }
        if let Some(arg) = override_for(overrides, &path).filter(|_| !path.is_empty()) {
            return blamed(arg, &e.message, path.to_string());
        }
        let pos = e.pos.or_else(|| deepest_line(&effective_text));
        err(
            pos.as_ref().map(|p| p.line),
            pos.as_ref().map(|p| p.col),
            deep_hint(&e.message),
            (!path.is_empty()).then(|| path.to_string()),
        )
    })?;
    let world = validate::validate(&raw).map_err(|inv| {
        let field = locate::FieldPath::from_str(&inv.path).ok();
        if let Some(arg) = field.as_ref().and_then(|p| override_for(overrides, p)) {
            return blamed(arg, &inv.message, inv.path.clone());
        }
        let pos = field
            .as_ref()
            .and_then(|p| locate::locate(&effective_text, p));
        err(
            pos.as_ref().map(|p| p.line),
            pos.as_ref().map(|p| p.col),
            inv.message,
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
    let mut raw = raw;
    for net in raw.chains.iter_mut().filter_map(|c| c.network.as_mut()) {
        net.fill_defaults();
    }
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
