//! `settlesim size`, the pure part: a service level (`Target`) and the search for the smallest liquidity scale at
//! which it holds, per cell (a rail and corridor, or a rail's `all` row), by bisection over runs. The runs are
//! the caller's: `search` asks for the pass/fail of every cell at a batch of scales and never runs anything
//! itself, so the same answers in give the same result out, and tests can drive it with any function.
//!
//! Each cell walks its own path: from scale 1 it halves while the target holds (or doubles while it fails) until
//! the target changes, then bisects the bracket [fails, holds] until it is narrower than the tolerance. Every
//! scale is a dyadic rational (1 × 2^k, then midpoints), exact in f64, so cells that walk the same path share
//! their runs; a cell's answer never depends on which other cells there are. The result brackets the smallest
//! scale: the target holds at `hi` and fails at `lo` (both probed), with `hi − lo ≤ tolerance × hi`. That is all
//! a bisection can promise; it is the smallest scale if the target is monotone in the scale. With daily top-ups
//! it is (`tests/size.rs` checks it over a grid); with threshold policies it need not be: the balance stands
//! anywhere between threshold and target when the funding calendar closes for a weekend, and where it stands
//! depends on the scale, so a larger scale can meet a weekend backlog with less. `contradictions` counts the
//! probes (of every cell's walks: each run judges every cell) that disagree with a cell's bracket.

use std::collections::BTreeMap;

use crate::model::metrics::Cell;
use crate::units::parse_duration_us;

/// A service level: a share of payments that must meet a bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// At least `share` of payments never wait for funding (a nostro or inventory shortfall, a ledger member's
    /// limit: the `nostro_wait` stage).
    NoWait { share: f64 },
    /// The `q` quantile of end-to-end latency is at most `secs`: at least `q` of all payments (returned, failed
    /// and still in flight count as misses) settle within `secs`.
    Latency { q: f64, secs: f64 },
    /// The `q` quantile of the wait for funding is at most `secs`, over all payments (zero waits included).
    FundingWait { q: f64, secs: f64 },
}

impl Target {
    /// `no-wait=0.99`, `p99=1h` (also `p99.9=90s`), `wait-p99=30m`.
    pub fn parse(text: &str) -> Result<Target, String> {
        let (kind, value) = text.split_once('=').ok_or_else(|| {
            "expected KIND=VALUE: no-wait=0.99, p99=1h or wait-p99=30m".to_string()
        })?;
        let (kind, value) = (kind.trim(), value.trim());
        if kind == "no-wait" {
            let share: f64 = value
                .parse()
                .map_err(|_| format!("no-wait takes a share between 0 and 1, got {value:?}"))?;
            if !(share > 0.0 && share <= 1.0) {
                return Err(format!(
                    "no-wait takes a share above 0 and at most 1, got {value}"
                ));
            }
            return Ok(Target::NoWait { share });
        }
        let (wait, quantile) = match kind.strip_prefix("wait-") {
            Some(rest) => (true, rest),
            None => (false, kind),
        };
        let q = quantile
            .strip_prefix('p')
            .and_then(|p| p.parse::<f64>().ok())
            .filter(|p| *p > 0.0 && *p < 100.0)
            .ok_or_else(|| {
                format!(
                    "unknown target {kind:?}: no-wait, pNN (a latency percentile, e.g. p99) or wait-pNN (a \
                     percentile of the wait for funding)"
                )
            })?
            / 100.0;
        let us = parse_duration_us(value)
            .map_err(|e| format!("{kind} takes a duration such as 1h or 30m: {e}"))?;
        let secs = us as f64 / 1e6;
        Ok(if wait {
            Target::FundingWait { q, secs }
        } else {
            Target::Latency { q, secs }
        })
    }

    /// The share of payments the target needs.
    pub fn required(&self) -> f64 {
        match *self {
            Target::NoWait { share } => share,
            Target::Latency { q, .. } | Target::FundingWait { q, .. } => q,
        }
    }

    /// The share of a cell's payments that meet the bound (NaN without payments).
    pub fn measured(&self, c: &Cell) -> f64 {
        match *self {
            Target::NoWait { .. } => 1.0 - c.funding_wait_share(),
            Target::Latency { secs, .. } => c.share_within_s(secs),
            Target::FundingWait { secs, .. } => c.funding_wait_within_s(secs),
        }
    }

    /// Whether the cell meets the target; `None` when it has no payments (nothing to judge).
    pub fn holds(&self, c: &Cell) -> Option<bool> {
        let m = self.measured(c);
        m.is_finite().then(|| m >= self.required())
    }

    /// What the measured share means, for headers and the terminal.
    pub fn describe(&self) -> String {
        let pct = |x: f64| format!("{}%", trim(100.0 * x));
        match *self {
            Target::NoWait { share } => {
                format!("{} of payments never wait for funding", pct(share))
            }
            Target::Latency { q, secs } => format!(
                "{} of payments settle within {}",
                pct(q),
                crate::units::human_duration_s(secs)
            ),
            Target::FundingWait { q, secs } => format!(
                "{} of payments wait at most {} for funding",
                pct(q),
                crate::units::human_duration_s(secs)
            ),
        }
    }
}

/// A number without trailing zeros (99.9, 99, 0.5).
fn trim(x: f64) -> String {
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The search's bounds: scales tried lie in [`min_scale`, `max_scale`], both powers of two, and a bracket is done
/// when `hi − lo ≤ tolerance × hi`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub min_scale: f64,
    pub max_scale: f64,
    pub tolerance: f64,
}

impl Bounds {
    /// Checks the bounds: powers of two with min ≤ 1 ≤ max (the walk starts at 1 and moves by factors of two),
    /// and a tolerance in (0, 1).
    pub fn new(min_scale: f64, max_scale: f64, tolerance: f64) -> Result<Bounds, String> {
        let pow2 = |x: f64| x > 0.0 && x.is_finite() && x.log2().fract() == 0.0;
        if !(pow2(min_scale) && min_scale <= 1.0) {
            return Err(format!(
                "--min-scale {min_scale}: a power of two at most 1 (e.g. 0.001953125 = 2^-9)"
            ));
        }
        if !(pow2(max_scale) && max_scale >= 1.0) {
            return Err(format!(
                "--max-scale {max_scale}: a power of two at least 1 (e.g. 64)"
            ));
        }
        if !(tolerance > 0.0 && tolerance < 1.0) {
            return Err(format!(
                "--tolerance {tolerance}: a fraction above 0 and below 1 (e.g. 0.02)"
            ));
        }
        Ok(Bounds {
            min_scale,
            max_scale,
            tolerance,
        })
    }
}

/// What the search found for one cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Found {
    /// The target holds at `hi` and fails at `lo`, with `hi − lo ≤ tolerance × hi`.
    Bracket { lo: f64, hi: f64 },
    /// The target holds even at the smallest scale tried.
    AtMin(f64),
    /// The target fails even at the largest scale tried.
    NotReached(f64),
    /// The cell had no payments at the scale probed.
    NoPayments,
    /// The cell draws on no pre-funded position: the scale cannot change it (not searched).
    Independent,
}

impl Found {
    pub fn status(&self) -> &'static str {
        match self {
            Found::Bracket { .. } => "found",
            Found::AtMin(_) => "at_min_scale",
            Found::NotReached(_) => "not_reached",
            Found::NoPayments => "no_payments",
            Found::Independent => "no_prefunding",
        }
    }
    /// The smallest scale known to meet the target, if any.
    pub fn scale(&self) -> Option<f64> {
        match *self {
            Found::Bracket { hi, .. } => Some(hi),
            Found::AtMin(x) => Some(x),
            _ => None,
        }
    }
    /// The largest scale known to fail it, if any.
    pub fn failing(&self) -> Option<f64> {
        match *self {
            Found::Bracket { lo, .. } => Some(lo),
            Found::NotReached(x) => Some(x),
            _ => None,
        }
    }
}

/// One cell's walk: the scales known to hold and to fail nearest the answer, or its result.
#[derive(Clone, Copy, Debug)]
enum Walk {
    Open { lo: Option<f64>, hi: Option<f64> },
    Done(Found),
}

impl Walk {
    /// The next scale to probe, or the result when the walk ends here.
    fn next(lo: Option<f64>, hi: Option<f64>, b: &Bounds) -> Result<f64, Found> {
        match (lo, hi) {
            (None, None) => Ok(1.0),
            (None, Some(h)) if h / 2.0 < b.min_scale => Err(Found::AtMin(h)),
            (None, Some(h)) => Ok(h / 2.0),
            (Some(l), None) if l * 2.0 > b.max_scale => Err(Found::NotReached(l)),
            (Some(l), None) => Ok(l * 2.0),
            (Some(l), Some(h)) if h - l <= b.tolerance * h => Err(Found::Bracket { lo: l, hi: h }),
            (Some(l), Some(h)) => Ok((l + h) / 2.0),
        }
    }
}

/// Every scale probed, in the order probed, with each cell's verdict there (`None`: no payments).
pub type Probes = Vec<(f64, Vec<Option<bool>>)>;

/// Searches every cell at once. `skip[i]` marks a cell as independent of the scale (not searched). `probe` gets
/// a batch of new scales, ascending, and returns each one's verdicts per cell in the same order; it is called
/// only with scales not probed before. Returns each cell's result and every probe made.
pub fn search<E>(
    skip: &[bool],
    bounds: &Bounds,
    mut probe: impl FnMut(&[f64]) -> Result<Vec<Vec<Option<bool>>>, E>,
) -> Result<(Vec<Found>, Probes), E> {
    let mut walks: Vec<Walk> = skip
        .iter()
        .map(|&s| {
            if s {
                Walk::Done(Found::Independent)
            } else {
                Walk::Open { lo: None, hi: None }
            }
        })
        .collect();
    // Verdicts by scale (keyed by the f64's bits: every scale is exact, so equal scales have equal bits).
    let mut seen: BTreeMap<u64, Vec<Option<bool>>> = BTreeMap::new();
    let mut order = Vec::new();
    loop {
        // Advance every walk as far as known verdicts allow; collect the scales the open ones need next.
        let mut wanted = Vec::new();
        for (i, w) in walks.iter_mut().enumerate() {
            while let Walk::Open { lo, hi } = *w {
                let s = match Walk::next(lo, hi, bounds) {
                    Ok(s) => s,
                    Err(found) => {
                        *w = Walk::Done(found);
                        break;
                    }
                };
                let Some(verdicts) = seen.get(&s.to_bits()) else {
                    wanted.push(s);
                    break;
                };
                *w = match verdicts[i] {
                    None => Walk::Done(Found::NoPayments),
                    Some(true) => Walk::Open { lo, hi: Some(s) },
                    Some(false) => Walk::Open { lo: Some(s), hi },
                };
            }
        }
        if wanted.is_empty() {
            break;
        }
        wanted.sort_by(f64::total_cmp);
        wanted.dedup();
        let verdicts = probe(&wanted)?;
        assert_eq!(verdicts.len(), wanted.len(), "one verdict list per scale");
        for (s, v) in wanted.into_iter().zip(verdicts) {
            assert_eq!(v.len(), walks.len(), "one verdict per cell");
            seen.insert(s.to_bits(), v.clone());
            order.push((s, v));
        }
    }
    let found = walks
        .into_iter()
        .map(|w| match w {
            Walk::Done(f) => f,
            Walk::Open { .. } => unreachable!("every walk ends"),
        })
        .collect();
    Ok((found, order))
}

/// Probes that contradict cell `i`'s answer as a monotone one: scales above the scale found where the target
/// failed, and scales below the failing one where it held.
pub fn contradictions(found: &Found, probes: &Probes, i: usize) -> usize {
    let (lo, hi) = match *found {
        Found::Bracket { lo, hi } => (Some(lo), Some(hi)),
        Found::AtMin(h) => (None, Some(h)),
        Found::NotReached(l) => (Some(l), None),
        Found::NoPayments | Found::Independent => return 0,
    };
    probes
        .iter()
        .filter(|(s, v)| match v[i] {
            Some(false) => hi.is_some_and(|h| *s > h),
            Some(true) => lo.is_some_and(|l| *s < l),
            None => false,
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> Bounds {
        Bounds::new(1.0 / 1024.0, 64.0, 0.01).unwrap()
    }

    /// Cells that hold from a known scale on: the search brackets each threshold within the tolerance.
    #[test]
    fn brackets_known_thresholds_within_the_tolerance() {
        let needed = [0.3, 1.0, 0.001, 100.0, 17.25, 0.5];
        let (found, probes) = search::<()>(&[false; 6], &bounds(), |scales| {
            Ok(scales
                .iter()
                .map(|&s| needed.iter().map(|&n| Some(s >= n)).collect())
                .collect())
        })
        .unwrap();
        for (f, &n) in found.iter().zip(&needed) {
            match *f {
                Found::Bracket { lo, hi } => {
                    assert!(lo < n && n <= hi, "{n}: [{lo}, {hi}]");
                    assert!(hi - lo <= 0.01 * hi, "{n}: [{lo}, {hi}]");
                }
                Found::AtMin(x) => assert!(n <= x && x == 1.0 / 1024.0, "{n}: {f:?}"),
                Found::NotReached(x) => assert!(n > x && x == 64.0, "{n}: {f:?}"),
                _ => panic!("{n}: {f:?}"),
            }
        }
        // Scales are shared: no scale is probed twice.
        let mut bits: Vec<u64> = probes.iter().map(|(s, _)| s.to_bits()).collect();
        bits.sort_unstable();
        bits.dedup();
        assert_eq!(bits.len(), probes.len());
    }

    /// A cell's answer is the one its own walk gives: searching it alone or beside others probes the same path.
    #[test]
    fn a_cells_answer_does_not_depend_on_the_other_cells() {
        let run = |needed: &[f64]| {
            search::<()>(&vec![false; needed.len()], &bounds(), |scales| {
                Ok(scales
                    .iter()
                    .map(|&s| needed.iter().map(|&n| Some(s >= n)).collect())
                    .collect())
            })
            .unwrap()
            .0
        };
        let alone = run(&[0.37]);
        let beside = run(&[5.0, 0.37, 0.02]);
        assert_eq!(alone[0], beside[1]);
    }

    /// A target that holds on [0.3, 0.6) and from 2 on: the walk from 1 doubles to 2 and brackets just below 2;
    /// the other cell's walk probes scales in [0.3, 0.6), where this one held: each is a contradiction.
    #[test]
    fn contradicting_probes_are_counted() {
        let (found, probes) = search::<()>(&[false, false], &bounds(), |scales| {
            Ok(scales
                .iter()
                .map(|&s| vec![Some((0.3..0.6).contains(&s) || s >= 2.0), Some(s >= 0.45)])
                .collect())
        })
        .unwrap();
        let Found::Bracket { lo, hi } = found[0] else {
            panic!("{found:?}")
        };
        assert!(lo < 2.0 && hi == 2.0, "[{lo}, {hi}]");
        let held_below = probes
            .iter()
            .filter(|(s, _)| (0.3..0.6).contains(s))
            .count();
        assert!(held_below >= 1);
        assert_eq!(contradictions(&found[0], &probes, 0), held_below);
        assert_eq!(contradictions(&found[1], &probes, 1), 0);
    }

    #[test]
    fn skipped_and_empty_cells_are_not_searched() {
        let (found, _) = search::<()>(&[true, false], &bounds(), |scales| {
            Ok(scales.iter().map(|_| vec![Some(true), None]).collect())
        })
        .unwrap();
        assert_eq!(found, vec![Found::Independent, Found::NoPayments]);
    }

    #[test]
    fn targets_parse_and_refuse() {
        assert_eq!(
            Target::parse("no-wait=0.99").unwrap(),
            Target::NoWait { share: 0.99 }
        );
        assert_eq!(
            Target::parse("p99=1h").unwrap(),
            Target::Latency {
                q: 0.99,
                secs: 3600.0
            }
        );
        assert_eq!(
            Target::parse("wait-p90=30m").unwrap(),
            Target::FundingWait {
                q: 0.9,
                secs: 1800.0
            }
        );
        for bad in [
            "no-wait",
            "no-wait=1.5",
            "no-wait=0",
            "p100=1h",
            "p99=1",
            "q99=1h",
            "wait-p=1h",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Target::parse("p99.9=90s").unwrap().describe(),
            "99.9% of payments settle within 1.5min"
        );
    }

    #[test]
    fn bounds_are_powers_of_two_around_one() {
        assert!(Bounds::new(0.25, 16.0, 0.02).is_ok());
        assert!(Bounds::new(0.3, 16.0, 0.02).is_err());
        assert!(Bounds::new(2.0, 16.0, 0.02).is_err());
        assert!(Bounds::new(0.25, 0.5, 0.02).is_err());
        assert!(Bounds::new(0.25, 16.0, 0.0).is_err());
        assert!(Bounds::new(0.25, 16.0, 1.0).is_err());
    }
}
