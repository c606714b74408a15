//! The sweep plan: scenarios × grid points × replications expanded into an ordered list of runs with ids
//! k = 0..n−1, each with a seed derived from what the run *is* (master seed, scenario, grid point, replication)
//! and never from where or when it runs (shard, thread, completion order). Pure: no files, no clock.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::scenario::locate::{FieldPath, split_override};
use crate::sweep::SweepError;

/// At most this many runs in one sweep (a limit on everything: a typo in a grid should not plan a billion runs).
pub const RUNS_MAX: u64 = 10_000_000;
/// At most this many replications per grid point.
pub const REPLICATIONS_MAX: u32 = 1_000_000;
/// At most this many values on one grid axis.
pub const AXIS_VALUES_MAX: usize = 100_000;
/// At most this many shards.
pub const SHARDS_MAX: u32 = 1_000_000;

/// One `--grid path=v1,v2,...`: a scenario field and the values it takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Axis {
    /// The field path in canonical form (`banks[1].stp_rate`).
    pub path: String,
    /// The values as written (TOML values or bare words, like `--set`).
    pub values: Vec<String>,
}

impl FromStr for Axis {
    type Err = SweepError;

    fn from_str(arg: &str) -> Result<Axis, SweepError> {
        let bad = |reason: String| SweepError::Grid {
            arg: arg.to_string(),
            reason,
        };
        let (lhs, rhs) =
            split_override(arg).ok_or_else(|| bad("expected PATH=V1,V2,...".into()))?;
        let path = FieldPath::from_str(lhs.trim()).map_err(|e| bad(e.to_string()))?;
        if path.is_empty() {
            return Err(bad("empty field path".into()));
        }
        let path = path.to_string();
        if path == "seed" {
            return Err(bad(
                "the seed of each run is derived from --seed, the scenario, the grid point and the replication; \
                 use --seed and --replications instead"
                    .into(),
            ));
        }
        let values = split_values(rhs).map_err(bad)?;
        if values.len() > AXIS_VALUES_MAX {
            return Err(bad(format!("more than {AXIS_VALUES_MAX} values")));
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                return Err(bad(format!("value `{v}` appears twice")));
            }
        }
        Ok(Axis { path, values })
    }
}

/// Splits `v1,v2,...` at commas outside quotes, brackets and braces, so `[1,2],[3]` and `{a=1,b=2}` are one value
/// each. Every value is trimmed and must be non-empty.
fn split_values(s: &str) -> Result<Vec<String>, String> {
    let mut values = Vec::new();
    let mut depth: i32 = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' | '{' => depth += 1,
                ']' | '}' => {
                    depth -= 1;
                    if depth < 0 {
                        return Err(format!("unbalanced `{c}`"));
                    }
                }
                ',' if depth == 0 => {
                    values.push(s[start..i].trim().to_string());
                    start = i + 1;
                }
                _ => {}
            },
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if depth != 0 {
        return Err("unbalanced brackets".into());
    }
    values.push(s[start..].trim().to_string());
    if values.iter().any(|v| v.is_empty()) {
        return Err("empty value (write V1,V2,... without empty entries)".into());
    }
    Ok(values)
}

/// `--shard I/N`: this process runs the runs k with k mod N = I. Unsharded is 0/1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    pub fn owns(&self, k: u64) -> bool {
        k % self.count as u64 == self.index as u64
    }
    pub fn is_all(&self) -> bool {
        self.count == 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = SweepError;

    fn from_str(arg: &str) -> Result<Shard, SweepError> {
        let bad = |reason: &str| SweepError::Shard {
            arg: arg.to_string(),
            reason: reason.to_string(),
        };
        let (i, n) = arg
            .split_once('/')
            .ok_or_else(|| bad("expected I/N, e.g. 3/8"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| bad("I is not a whole number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| bad("N is not a whole number"))?;
        if count == 0 || count > SHARDS_MAX {
            return Err(bad(&format!("N must be between 1 and {SHARDS_MAX}")));
        }
        if index >= count {
            return Err(bad("I must be below N (shards are numbered 0..N−1)"));
        }
        Ok(Shard { index, count })
    }
}

/// A scenario as the sweep knows it: its name (which labels rows) and its identity, the SHA-256 of its canonical
/// form with the sweep's `--set` overrides applied and the seed zeroed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioId {
    pub name: String,
    pub sha256: String,
}

/// Everything that determines a sweep's results. Two directories with equal definitions hold runs of the same
/// sweep; shards must agree on it exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    pub settlesim_version: String,
    pub scenarios: Vec<ScenarioId>,
    /// `--set` overrides applied to every run, before the grid point's.
    pub set: Vec<String>,
    pub grid: Vec<Axis>,
    pub replications: u32,
    /// The master seed.
    pub seed: u64,
    /// Whether each run keeps its payments.csv.
    pub payments: bool,
    /// Seeds differ between grid points (`--independent`); otherwise replication r has the same seed at every
    /// point of a scenario (common random numbers). A definition written before this field existed was
    /// independent, hence the default.
    #[serde(default = "independent_before_crn")]
    pub independent: bool,
}

fn independent_before_crn() -> bool {
    true
}

/// One run of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSpec {
    pub k: u64,
    pub point: u64,
    pub scenario: usize,
    pub replication: u32,
    pub seed: u64,
}

impl Definition {
    /// Checks the limits; call before using the plan.
    pub fn check(&self) -> Result<(), SweepError> {
        if self.replications == 0 || self.replications > REPLICATIONS_MAX {
            return Err(SweepError::Replications {
                value: self.replications,
                max: REPLICATIONS_MAX,
            });
        }
        let mut runs: u64 = self.scenarios.len() as u64 * self.replications as u64;
        for axis in &self.grid {
            runs = runs.saturating_mul(axis.values.len() as u64);
        }
        if runs > RUNS_MAX {
            return Err(SweepError::TooManyRuns {
                runs,
                max: RUNS_MAX,
            });
        }
        for (i, a) in self.grid.iter().enumerate() {
            if self.grid[..i].iter().any(|b| b.path == a.path) {
                return Err(SweepError::Grid {
                    arg: a.path.clone(),
                    reason: "this field has two --grid axes; give all its values in one".into(),
                });
            }
        }
        Ok(())
    }

    /// Grid points per scenario: the product of the axis lengths (1 without a grid).
    pub fn points_per_scenario(&self) -> u64 {
        self.grid.iter().map(|a| a.values.len() as u64).product()
    }

    /// Points overall: scenario-major, then grid points with the last axis varying fastest.
    pub fn points(&self) -> u64 {
        self.scenarios.len() as u64 * self.points_per_scenario()
    }

    pub fn runs(&self) -> u64 {
        self.points() * self.replications as u64
    }

    pub fn point_scenario(&self, point: u64) -> usize {
        (point / self.points_per_scenario()) as usize
    }

    /// The value index on each axis of a point.
    pub fn point_values(&self, point: u64) -> Vec<usize> {
        let mut g = point % self.points_per_scenario();
        let mut idx = vec![0; self.grid.len()];
        for (slot, axis) in idx.iter_mut().zip(&self.grid).rev() {
            let n = axis.values.len() as u64;
            *slot = (g % n) as usize;
            g /= n;
        }
        idx
    }

    /// The point's values, one per axis, as written.
    pub fn point_labels(&self, point: u64) -> Vec<&str> {
        self.point_values(point)
            .iter()
            .zip(&self.grid)
            .map(|(&i, a)| a.values[i].as_str())
            .collect()
    }

    /// The point's overrides, `path=value` in axis order.
    pub fn point_overrides(&self, point: u64) -> Vec<String> {
        self.point_labels(point)
            .iter()
            .zip(&self.grid)
            .map(|(v, a)| format!("{}={v}", a.path))
            .collect()
    }

    /// Run k: point k / R, replication k mod R, and its seed.
    pub fn run(&self, k: u64) -> RunSpec {
        let r = self.replications as u64;
        let point = k / r;
        let replication = (k % r) as u32;
        let scenario = self.point_scenario(point);
        // Common random numbers: the grid point is left out of the seed, so every point of a scenario replays the
        // same demand and component streams in replication r.
        let overrides = if self.independent {
            self.point_overrides(point)
        } else {
            Vec::new()
        };
        let seed = run_seed(
            self.seed,
            &self.scenarios[scenario].sha256,
            &overrides,
            replication,
        );
        RunSpec {
            k,
            point,
            scenario,
            replication,
            seed,
        }
    }

    /// Names of the fields in which two definitions differ (for an error message).
    pub fn differences(&self, other: &Definition) -> Vec<&'static str> {
        let mut d = Vec::new();
        if self.settlesim_version != other.settlesim_version {
            d.push("settlesim version");
        }
        if self.scenarios != other.scenarios {
            d.push("scenarios");
        }
        if self.set != other.set {
            d.push("--set");
        }
        if self.grid != other.grid {
            d.push("--grid");
        }
        if self.replications != other.replications {
            d.push("--replications");
        }
        if self.seed != other.seed {
            d.push("--seed");
        }
        if self.payments != other.payments {
            d.push("--payments");
        }
        if self.independent != other.independent {
            d.push("--independent");
        }
        d
    }
}

/// A run's seed: the first 8 bytes (little-endian) of SHA-256 over a version tag, the master seed, the scenario's
/// identity, the grid point's overrides (sorted, so the order of `--grid` flags does not matter) and the
/// replication, each field length-prefixed; the top bit is cleared so the seed fits a TOML integer.
pub fn run_seed(master: u64, scenario_sha256: &str, overrides: &[String], replication: u32) -> u64 {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(b"settlesim sweep seed v1");
    field(&master.to_le_bytes());
    field(scenario_sha256.as_bytes());
    let mut sorted: Vec<&String> = overrides.iter().collect();
    sorted.sort();
    field(&(sorted.len() as u64).to_le_bytes());
    for o in sorted {
        field(o.as_bytes());
    }
    field(&replication.to_le_bytes());
    let bytes = h.finalize();
    let mut first = [0_u8; 8];
    first.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(first) & (i64::MAX as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(grid: &[&str], replications: u32) -> Definition {
        Definition {
            settlesim_version: "test".into(),
            scenarios: vec![
                ScenarioId {
                    name: "a".into(),
                    sha256: "aa".into(),
                },
                ScenarioId {
                    name: "b".into(),
                    sha256: "bb".into(),
                },
            ],
            set: vec![],
            grid: grid.iter().map(|g| g.parse().unwrap()).collect(),
            replications,
            seed: 9,
            payments: false,
            independent: true,
        }
    }

    #[test]
    fn grid_values_split_at_top_level_commas() {
        let check = |arg: &str, path: &str, values: &[&str]| {
            let a: Axis = arg.parse().unwrap_or_else(|e| panic!("{arg}: {e}"));
            assert_eq!(a.path, path, "{arg}");
            assert_eq!(a.values, values, "{arg}");
        };
        check("duration=2d,3d", "duration", &["2d", "3d"]);
        check(
            " banks[1].stp_rate = 0.5 , 0.9 ",
            "banks[1].stp_rate",
            &["0.5", "0.9"],
        );
        check("x=[1,2],[3]", "x", &["[1,2]", "[3]"]);
        check(
            "x={ a = 1, b = \"p,q\" },{a=2}",
            "x",
            &["{ a = 1, b = \"p,q\" }", "{a=2}"],
        );
        check("x='a,b',\"c\\\",d\"", "x", &["'a,b'", "\"c\\\",d\""]);
        check("x=1", "x", &["1"]);
    }

    #[test]
    fn bad_grids_say_why() {
        for (arg, why) in [
            ("duration", "expected PATH=V1,V2"),
            ("=1,2", "invalid field path"),
            ("x=1,,2", "empty value"),
            ("x=", "empty value"),
            ("x=[1,2", "unbalanced"),
            ("x=1]", "unbalanced"),
            ("x=\"a", "unterminated quote"),
            ("x=1,2,1", "appears twice"),
            ("seed=1,2", "use --seed"),
            ("a..b=1", ""),
        ] {
            let e = arg.parse::<Axis>().unwrap_err().to_string();
            assert!(e.starts_with(&format!("--grid `{arg}`: ")), "{e}");
            assert!(e.contains(why), "{arg}: {e}");
        }
    }

    #[test]
    fn shards_parse_and_partition() {
        let s: Shard = "2/5".parse().unwrap();
        assert_eq!(s, Shard { index: 2, count: 5 });
        assert_eq!(s.to_string(), "2/5");
        assert!(s.owns(7) && !s.owns(8));
        for bad in ["5/5", "1/0", "x/2", "1", "-1/3", "1/2/3"] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.starts_with(&format!("--shard `{bad}`: ")), "{e}");
        }
        // Every run belongs to exactly one shard.
        for k in 0..100 {
            let owners = (0..7)
                .filter(|&i| Shard { index: i, count: 7 }.owns(k))
                .count();
            assert_eq!(owners, 1);
        }
    }

    #[test]
    fn runs_enumerate_scenarios_then_points_then_replications() {
        let d = def(&["x=1,2,3", "y=p,q"], 4);
        assert_eq!(d.points(), 12);
        assert_eq!(d.runs(), 48);
        // The last axis varies fastest; replications are innermost.
        assert_eq!(d.point_labels(0), ["1", "p"]);
        assert_eq!(d.point_labels(1), ["1", "q"]);
        assert_eq!(d.point_labels(2), ["2", "p"]);
        assert_eq!(d.point_labels(7), ["1", "q"]);
        assert_eq!(d.point_scenario(5), 0);
        assert_eq!(d.point_scenario(6), 1);
        let r = d.run(29);
        assert_eq!((r.point, r.replication, r.scenario), (7, 1, 1));
        assert_eq!(d.point_overrides(7), ["x=1", "y=q"]);
        // No grid: one point per scenario.
        let d = def(&[], 3);
        assert_eq!((d.points(), d.runs()), (2, 6));
        assert!(d.point_overrides(1).is_empty());
    }

    /// A run's seed depends on what the run is, not on its position: adding grid values, scenarios or
    /// replications, or reordering axes, moves runs to other ids but keeps their seeds.
    #[test]
    fn seeds_depend_on_the_run_not_its_position() {
        let small = def(&["x=2"], 2);
        let big = def(&["y=p,q", "x=1,2,3"], 5);
        let seed_of = |d: &Definition, scenario: usize, labels: &[&str], rep: u32| {
            let k = (0..d.runs())
                .find(|&k| {
                    let r = d.run(k);
                    let mut o = d.point_overrides(r.point);
                    o.sort();
                    r.scenario == scenario && o == labels && r.replication == rep
                })
                .unwrap();
            d.run(k).seed
        };
        // x=2 in a plan where x takes one value and in one where it takes three: the same seed.
        assert_eq!(
            seed_of(&small, 1, &["x=2"], 1),
            seed_of(&def(&["x=3,2,1"], 7), 1, &["x=2"], 1)
        );
        // Neither the order of the axes nor the other values matter.
        assert_eq!(
            seed_of(&big, 0, &["x=3", "y=q"], 4),
            seed_of(&def(&["x=3", "y=q,p"], 5), 0, &["x=3", "y=q"], 4)
        );
        // Different replications, points, scenarios and master seeds give different seeds.
        let mut seeds: Vec<u64> = (0..big.runs()).map(|k| big.run(k).seed).collect();
        seeds.sort();
        seeds.dedup();
        assert_eq!(seeds.len() as u64, big.runs());
        let mut other = big.clone();
        other.seed = 10;
        assert_ne!(other.run(0).seed, big.run(0).seed);
        assert!(seeds.iter().all(|&s| s <= i64::MAX as u64));
    }

    #[test]
    fn common_random_numbers_share_a_replication_seed_across_points() {
        let mut d = def(&["x=1,2,3", "y=p,q"], 4);
        d.independent = false;
        for k in 0..d.runs() {
            let r = d.run(k);
            // The same replication of the same scenario at grid point 0 has the same seed.
            let first = d.run(
                (d.point_scenario(r.point) as u64 * d.points_per_scenario()) * 4
                    + r.replication as u64,
            );
            assert_eq!(r.seed, first.seed);
        }
        // Replications and scenarios still differ.
        assert_ne!(d.run(0).seed, d.run(1).seed);
        assert_ne!(d.run(0).seed, d.run(d.points_per_scenario() * 4).seed);
    }

    #[test]
    fn limits_are_checked() {
        assert!(def(&["x=1"], 0).check().is_err());
        let values: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
        let arg = format!("x={}", values.join(","));
        let arg2 = format!("y={}", values.join(","));
        let e = def(&[&arg, &arg2], 1).check().unwrap_err().to_string();
        assert!(e.contains("50000000 runs"), "{e}");
        let e = def(&["x=1", "x=2"], 1).check().unwrap_err().to_string();
        assert!(e.contains("two --grid axes"), "{e}");
    }
}
