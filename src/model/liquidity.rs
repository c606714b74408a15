//! Balances over time: a time-weighted integrator per *series* (one account, or several accounts read as one,
//! such as every transit account of a rail in one currency), fed by the ledger's postings and nothing else.
//! `Ledger::transfer` calls `Tracker::post` for each side of a posting whose account belongs to a series, so a
//! series' balance is, by construction, the sum of its accounts' ledger balances.
//!
//! Integrals are exact: integer minor units × integer microseconds in `i128`. Between closes a series keeps
//! the integral of its balance and the highest and lowest balance it *held* (for a positive time: a balance
//! that exists only between two postings of the same instant is never a peak or a minimum). The simulation
//! closes every series at fixed boundaries (hours, the end of demand, the end of the run) and aggregates the
//! periods into days and the demand window.

/// One period's figures for one series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    /// ∫ balance dt over the period, in minor units × µs.
    pub integral: i128,
    /// Highest and lowest balance held during the period (minor units), and from when it was held.
    pub peak: Extreme,
    pub min: Extreme,
}

/// A balance and the instant from which it was held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extreme {
    pub minor: i64,
    pub at_us: u64,
}

/// The running state of one series.
#[derive(Clone, Debug, Default)]
pub struct Integrator {
    pub balance: i64,
    since_us: u64,
    integral: i128,
    peak: Option<Extreme>,
    min: Option<Extreme>,
}

impl Integrator {
    /// The balance held over [since, now) enters the integral and the extremes.
    fn advance(&mut self, now_us: u64) {
        debug_assert!(now_us >= self.since_us, "time went backwards");
        if now_us > self.since_us {
            self.integral += self.balance as i128 * (now_us - self.since_us) as i128;
            let held = Extreme {
                minor: self.balance,
                at_us: self.since_us,
            };
            if self.peak.is_none_or(|p| held.minor > p.minor) {
                self.peak = Some(held);
            }
            if self.min.is_none_or(|m| held.minor < m.minor) {
                self.min = Some(held);
            }
            self.since_us = now_us;
        }
    }

    pub fn post(&mut self, now_us: u64, delta: i64) {
        self.advance(now_us);
        self.balance += delta;
    }

    /// Ends the current period at `t_us` and starts the next: the figures of [last close, t).
    pub fn close(&mut self, t_us: u64) -> Period {
        self.advance(t_us);
        let now = Extreme {
            minor: self.balance,
            at_us: t_us,
        };
        let p = Period {
            integral: self.integral,
            peak: self.peak.unwrap_or(now),
            min: self.min.unwrap_or(now),
        };
        self.integral = 0;
        self.peak = None;
        self.min = None;
        p
    }
}

/// Every series of a ledger.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    pub series: Vec<Integrator>,
}

impl Tracker {
    pub fn add(&mut self) -> u32 {
        self.series.push(Integrator::default());
        self.series.len() as u32 - 1
    }

    pub fn post(&mut self, series: u32, now_us: u64, delta: i64) {
        self.series[series as usize].post(now_us, delta);
    }

    pub fn balance(&self, series: u32) -> i64 {
        self.series[series as usize].balance
    }
}

/// Figures of a series over several periods (a day, the demand window): the exact integral over the span and
/// its extremes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub integral: i128,
    pub len_us: u64,
    pub peak: Option<Extreme>,
    pub min: Option<Extreme>,
}

impl Span {
    pub fn add(&mut self, p: &Period, len_us: u64) {
        self.integral += p.integral;
        self.len_us += len_us;
        if self.peak.is_none_or(|x| p.peak.minor > x.minor) {
            self.peak = Some(p.peak);
        }
        if self.min.is_none_or(|x| p.min.minor < x.minor) {
            self.min = Some(p.min);
        }
    }

    /// Time-weighted mean in minor units (NaN over an empty span).
    pub fn mean_minor(&self) -> f64 {
        if self.len_us == 0 {
            return f64::NAN;
        }
        self.integral as f64 / self.len_us as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built posting sequence: 100 for 10 µs, 250 for 5 µs, 40 for 5 µs → ∫ = 1000 + 1250 + 200.
    #[test]
    fn integral_and_extremes_of_a_hand_built_sequence() {
        let mut i = Integrator::default();
        i.post(0, 100);
        i.post(10, 150);
        i.post(15, -210);
        let p = i.close(20);
        assert_eq!(p.integral, 2450);
        assert_eq!(
            p.peak,
            Extreme {
                minor: 250,
                at_us: 10
            }
        );
        assert_eq!(
            p.min,
            Extreme {
                minor: 40,
                at_us: 15
            }
        );
        // The next period starts at the balance held.
        let q = i.close(30);
        assert_eq!(q.integral, 400);
        assert_eq!(q.peak.minor, 40);
        assert_eq!(q.min.minor, 40);
    }

    /// A dip that lasts no time (two postings at one instant) is neither a minimum nor part of the integral.
    #[test]
    fn a_balance_held_for_no_time_is_not_an_extreme() {
        let mut i = Integrator::default();
        i.post(0, 100);
        i.post(5, -90);
        i.post(5, 80);
        let p = i.close(10);
        assert_eq!(p.integral, 500 + 450);
        assert_eq!(p.min.minor, 90);
        assert_eq!(p.peak.minor, 100);
    }

    #[test]
    fn spans_add_periods_exactly() {
        let mut i = Integrator::default();
        i.post(0, 7);
        let mut s = Span::default();
        s.add(&i.close(3), 3);
        i.post(3, 3);
        s.add(&i.close(5), 2);
        assert_eq!(s.integral, 21 + 20);
        assert_eq!(s.len_us, 5);
        assert!((s.mean_minor() - 41.0 / 5.0).abs() < 1e-12);
        assert_eq!(s.peak.unwrap().minor, 10);
        assert_eq!(s.min.unwrap().minor, 7);
    }
}
