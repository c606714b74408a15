//! The logarithmic time axis shared by latency figures: values are log10(seconds), ticks sit at the durations a
//! reader thinks in (1 s, 1 min, 1 h, 1 day, 1 week) and are labelled in those units, never as powers of ten.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

/// A linear f64 axis with chosen tick positions (plotters' own `with_key_points` loses the label formatter on
/// f64 axes); with no ticks given it falls back to plotters' round-number ticks.
#[derive(Clone, Debug)]
pub struct Ticked {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
}

impl Ticked {
    pub fn new(range: Range<f64>, ticks: Vec<f64>) -> Ticked {
        Ticked {
            lo: range.start,
            hi: range.end,
            ticks,
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.lo..self.hi).map(v, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if self.ticks.is_empty() {
            RangedCoordf64::from(self.lo..self.hi).key_points(hint)
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Tick durations in seconds with their labels.
const TIME_TICKS: [(f64, &str); 12] = [
    (0.01, "10 ms"),
    (0.1, "100 ms"),
    (1.0, "1 s"),
    (10.0, "10 s"),
    (60.0, "1 min"),
    (600.0, "10 min"),
    (3600.0, "1 h"),
    (6.0 * 3600.0, "6 h"),
    (86_400.0, "1 day"),
    (3.0 * 86_400.0, "3 days"),
    (7.0 * 86_400.0, "1 week"),
    (28.0 * 86_400.0, "4 weeks"),
];

/// The axis range in log10(seconds) covering `[min_s, max_s]`, widened to whole ticks and to at least three of them.
pub fn log_time_range(min_s: f64, max_s: f64) -> (f64, f64) {
    let lo_s = if min_s.is_finite() && min_s > 0.0 {
        min_s
    } else {
        1.0
    };
    let hi_s = if max_s.is_finite() {
        max_s.max(lo_s * 10.0)
    } else {
        86_400.0
    };
    let lo = TIME_TICKS
        .iter()
        .rev()
        .find(|(t, _)| *t <= lo_s)
        .map_or(0.01, |(t, _)| *t);
    let hi = TIME_TICKS
        .iter()
        .find(|(t, _)| *t >= hi_s)
        .map_or(hi_s, |(t, _)| *t);
    (lo.log10(), hi.log10())
}

/// The ticks inside `[lo, hi]` (log10 seconds).
pub fn log_time_ticks(lo: f64, hi: f64) -> Vec<f64> {
    TIME_TICKS
        .iter()
        .map(|(t, _)| t.log10())
        .filter(|v| *v >= lo - 1e-9 && *v <= hi + 1e-9)
        .collect()
}

/// Finer tick durations for an axis fitted to data in a narrow band (a sweep's medians within a factor of three).
const FINE_TICKS: [(f64, &str); 27] = [
    (0.01, "10 ms"),
    (0.1, "100 ms"),
    (0.2, "200 ms"),
    (0.5, "500 ms"),
    (1.0, "1 s"),
    (2.0, "2 s"),
    (5.0, "5 s"),
    (10.0, "10 s"),
    (20.0, "20 s"),
    (30.0, "30 s"),
    (60.0, "1 min"),
    (120.0, "2 min"),
    (300.0, "5 min"),
    (600.0, "10 min"),
    (1200.0, "20 min"),
    (1800.0, "30 min"),
    (3600.0, "1 h"),
    (7200.0, "2 h"),
    (3.0 * 3600.0, "3 h"),
    (6.0 * 3600.0, "6 h"),
    (12.0 * 3600.0, "12 h"),
    (86_400.0, "1 day"),
    (2.0 * 86_400.0, "2 days"),
    (3.0 * 86_400.0, "3 days"),
    (7.0 * 86_400.0, "1 week"),
    (14.0 * 86_400.0, "2 weeks"),
    (28.0 * 86_400.0, "4 weeks"),
];

/// A log time axis fitted to `[min_s, max_s]` (both > 0): the data plus a small margin, not widened to whole
/// decades, with ticks from the fine list (thinned to at most eight) so a narrow band still gets labelled ticks.
/// Returns (lo, hi, ticks) in log10 seconds.
pub fn fitted_log_time(min_s: f64, max_s: f64) -> (f64, f64, Vec<f64>) {
    let (a, b) = if min_s.is_finite() && min_s > 0.0 && max_s.is_finite() && max_s >= min_s {
        (min_s.log10(), max_s.log10())
    } else {
        (0.0, 86_400.0_f64.log10())
    };
    // At least a factor of 2 on screen, so two fine ticks usually fall inside.
    let span = (b - a).max(0.3);
    let mid = (a + b) / 2.0;
    let pad = span * 0.08;
    let (mut lo, mut hi) = (mid - span / 2.0 - pad, mid + span / 2.0 + pad);
    // Fewer than two fine ticks inside: reach out to the nearest tick on each side, so the band is readable.
    let count = |lo: f64, hi: f64| {
        FINE_TICKS
            .iter()
            .filter(|(t, _)| (lo..=hi).contains(&t.log10()))
            .count()
    };
    if count(lo, hi) < 2 {
        if let Some((t, _)) = FINE_TICKS.iter().rev().find(|(t, _)| t.log10() <= lo) {
            lo = t.log10() - 0.02;
        }
        if count(lo, hi) < 2
            && let Some((t, _)) = FINE_TICKS.iter().find(|(t, _)| t.log10() >= hi)
        {
            hi = t.log10() + 0.02;
        }
    }
    let inside = |list: &[(f64, &str)]| -> Vec<f64> {
        list.iter()
            .map(|(t, _)| t.log10())
            .filter(|v| *v >= lo && *v <= hi)
            .collect()
    };
    let mut ticks = inside(&FINE_TICKS);
    if ticks.len() > 8 {
        let coarse = inside(&TIME_TICKS);
        if coarse.len() >= 3 {
            ticks = coarse;
        }
        let step = ticks.len().div_ceil(8);
        ticks = ticks.into_iter().step_by(step).collect();
    }
    (lo, hi, ticks)
}

/// The label of the tick nearest to `v` (log10 seconds).
pub fn time_label(v: f64) -> String {
    FINE_TICKS
        .iter()
        .min_by(|a, b| (a.0.log10() - v).abs().total_cmp(&(b.0.log10() - v).abs()))
        .map_or_else(String::new, |(_, l)| (*l).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_covers_the_data_on_whole_ticks() {
        let (lo, hi) = log_time_range(1.5, 5.0 * 86_400.0);
        assert_eq!(lo, 0.0); // 1 s
        let (lo2, _) = log_time_range(5000.0, 86_400.0);
        assert!((lo2 - 3600.0_f64.log10()).abs() < 1e-12);
        assert!((hi - (7.0 * 86_400.0_f64).log10()).abs() < 1e-12);
        let (lo, hi) = log_time_range(0.3, 86_400.0);
        assert!((lo - (-1.0)).abs() < 1e-12);
        assert!((hi - 86_400.0_f64.log10()).abs() < 1e-12);
        let ticks = log_time_ticks(lo, hi);
        assert_eq!(ticks.len(), 8);
        assert_eq!(log_time_ticks(0.0, (28.0 * 86_400.0_f64).log10()).len(), 10);
        assert_eq!(time_label(ticks[5]), "1 h");
    }

    #[test]
    fn a_narrow_band_gets_a_fitted_axis_with_ticks_inside() {
        // Medians between 6 h and 9 h: the axis stays near them, with at least two labelled ticks.
        let (lo, hi, ticks) = fitted_log_time(6.0 * 3600.0, 9.0 * 3600.0);
        assert!(
            lo > 7200.0_f64.log10() && hi < 86_400.0_f64.log10(),
            "{lo} {hi}"
        );
        assert!(ticks.len() >= 2 && ticks.iter().all(|t| *t >= lo && *t <= hi));
        // A wide spread thins to the coarse ticks.
        let (_, _, ticks) = fitted_log_time(1.0, 28.0 * 86_400.0);
        assert!(ticks.len() <= 8);
        assert_eq!(time_label(7200.0_f64.log10()), "2 h");
    }
}
