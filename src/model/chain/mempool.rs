//! Background load in the mempool as a fee histogram. Background transactions are fungible: what a block
//! builder, the eviction rule and the fee figures need from them is how many sit at each bid (and, under
//! EIP-1559, at each maximum fee), not which is which. So they are counts in the cells of a grid of bid levels ×
//! max-fee levels, and arrivals pick their cell from a precomputed alias table instead of drawing a log-normal
//! per group. Payment transfers stay individual entries (in `state`), because each must wake its payment.
//!
//! The grid is geometric around the background fee distribution of the chain: level `l` stands for the fee
//! `exp(ln_lo + l·step)` with `step` = σ/8 (at least 0.5%), covering ±4σ around the median, plus enough levels
//! above for the largest burst multiplier (a burst shifts bids up by whole levels). The tails beyond ±4σ are
//! folded into the end levels. Quantising to σ/8 moves a bid by at most ±σ/16 in log terms (±5% at σ = 0.8).

use rand::RngExt;

use crate::rng::Stream;

/// Levels per standard deviation of ln(fee).
const LEVELS_PER_SIGMA: f64 = 8.0;
/// The grid covers this many standard deviations on each side of the median.
const SIGMAS: f64 = 4.0;
/// The smallest step between levels in ln(fee): a near-degenerate distribution still has a usable grid.
const STEP_MIN: f64 = 0.005;
/// Max-fee levels: one `u64` occupancy mask per bid level, so block building finds the eligible cells of a bid
/// level with one AND.
pub const CAP_LEVELS_MAX: usize = 64;

/// A geometric grid of fee levels with an alias table for the log-normal's probability of each base level.
#[derive(Clone, Debug)]
pub struct FeeGrid {
    ln_lo: f64,
    step: f64,
    /// Representative fee of each level (rounded, at least 1), non-decreasing.
    values: Vec<u64>,
    /// Alias table over the base levels (the distribution without a burst).
    alias: Alias,
}

impl FeeGrid {
    /// A grid for ln(fee) ~ N(mu, sigma²), with room for bursts multiplying fees by up to `mult_max`; at most
    /// `levels_max` levels (the step widens if needed).
    pub fn new(mu: f64, sigma: f64, mult_max: f64, levels_max: usize) -> FeeGrid {
        let sigma = sigma.max(0.0);
        let headroom = mult_max.max(1.0).ln();
        let span = 2.0 * SIGMAS * sigma;
        let mut step = (sigma / LEVELS_PER_SIGMA).max(STEP_MIN);
        if ((span + headroom) / step).ceil() as usize + 1 > levels_max {
            step = (span + headroom) / (levels_max - 1) as f64;
        }
        let ln_lo = mu - SIGMAS * sigma;
        let base = (span / step).round() as usize + 1;
        let levels = (base + (headroom / step).ceil() as usize).min(levels_max);
        let values = (0..levels)
            .map(|l| ((ln_lo + l as f64 * step).exp().round() as u64).max(1))
            .collect();
        // Probability of each base level: the normal mass between the midpoints to its neighbours, tails folded in.
        let cdf = |l: usize| {
            if l == 0 {
                0.0
            } else if l >= base {
                1.0
            } else {
                // 0 < l < base implies sigma > 0 (a zero sigma gives a single base level).
                normal_cdf((ln_lo + (l as f64 - 0.5) * step - mu) / sigma)
            }
        };
        let weights: Vec<f64> = (0..base).map(|l| cdf(l + 1) - cdf(l)).collect();
        FeeGrid {
            ln_lo,
            step,
            values,
            alias: Alias::new(&weights),
        }
    }

    pub fn levels(&self) -> usize {
        self.values.len()
    }

    pub fn value(&self, level: usize) -> u64 {
        self.values[level]
    }

    /// Levels a burst multiplier `mult` shifts fees up by.
    pub fn shift(&self, mult: f64) -> usize {
        if mult <= 1.0 {
            0
        } else {
            (mult.ln() / self.step).round() as usize
        }
    }

    /// A level drawn from the distribution shifted up by `shift` levels: one uniform draw, no transcendental call.
    pub fn draw(&self, stream: &mut Stream, shift: usize) -> usize {
        (self.alias.sample(stream) + shift).min(self.values.len() - 1)
    }

    /// The lowest level whose value is at least `fee`.
    pub fn level_at_least(&self, fee: u64) -> usize {
        self.values.partition_point(|&v| v < fee)
    }

    /// ln of the level's exact (unrounded) fee, for tests.
    pub fn ln_value(&self, level: usize) -> f64 {
        self.ln_lo + level as f64 * self.step
    }
}

/// Walker's alias method (Vose's construction): a draw is one 64-bit uniform — the high half picks a column,
/// the low half decides between the column and its alias.
#[derive(Clone, Debug)]
struct Alias {
    /// Per column: the threshold in 2^-32 units (a full column keeps `u32::MAX` and is its own alias, so either
    /// outcome is the column) and the alias, side by side so that a draw reads one entry.
    columns: Vec<(u32, u32)>,
}

impl Alias {
    fn new(weights: &[f64]) -> Alias {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w / total * n as f64).collect();
        let mut keep = vec![1u64 << 32; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            keep[s] = (scaled[s] * (1u64 << 32) as f64) as u64;
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left has probability 1 up to rounding: it keeps its own column. A column whose threshold
        // is 2^32 (or rounds to it) is its own alias, so capping the threshold at u32::MAX changes no draw.
        let columns = keep
            .iter()
            .zip(&alias)
            .enumerate()
            .map(|(i, (&k, &a))| {
                debug_assert!(k < 1 << 32 || a == i as u32);
                (k.min(u32::MAX as u64) as u32, a)
            })
            .collect();
        Alias { columns }
    }

    fn sample(&self, stream: &mut Stream) -> usize {
        let x: u64 = stream.random();
        let col = (((x >> 32) * self.columns.len() as u64) >> 32) as usize;
        let (keep, alias) = self.columns[col];
        // A conditional move, not a branch: the outcome is a coin flip per draw, which no predictor can learn.
        std::hint::select_unpredictable((x as u32) < keep, col, alias as usize)
    }
}

/// Φ(z), the standard normal CDF, from `rng::erfc` (relative error < 1.2e-7): table building only.
fn normal_cdf(z: f64) -> f64 {
    0.5 * crate::rng::erfc(-z / std::f64::consts::SQRT_2)
}

/// Counts of background transactions per (bid level, max-fee level) cell, with occupancy masks so the highest
/// and lowest non-empty levels are found in a few word operations.
#[derive(Clone, Debug)]
pub struct Histogram {
    /// A cell is `bid << cap_bits | cap`: cap levels rounded up to a power of two, so a cell splits with a
    /// shift and a mask, not a division.
    cap_bits: u32,
    counts: Vec<u64>,
    /// Per bid level: bit c set iff cell (level, c) is non-empty.
    cap_mask: Vec<u64>,
    /// Bit set iff the bid level has a non-empty cell.
    bid_mask: Vec<u64>,
    /// Transactions held.
    pub total: u64,
}

impl Histogram {
    pub fn new(bids: usize, caps: usize) -> Histogram {
        assert!(
            (1..=CAP_LEVELS_MAX).contains(&caps),
            "cap levels fit one mask"
        );
        let cap_bits = caps.next_power_of_two().trailing_zeros();
        Histogram {
            cap_bits,
            counts: vec![0; bids << cap_bits],
            cap_mask: vec![0; bids],
            bid_mask: vec![0; bids.div_ceil(64)],
            total: 0,
        }
    }

    pub fn cell(&self, bid: usize, cap: usize) -> u32 {
        ((bid << self.cap_bits) | cap) as u32
    }

    /// (bid level, cap level) of a cell.
    pub fn levels_of(&self, cell: u32) -> (usize, usize) {
        let cell = cell as usize;
        (cell >> self.cap_bits, cell & ((1 << self.cap_bits) - 1))
    }

    pub fn count(&self, cell: u32) -> u64 {
        self.counts[cell as usize]
    }

    pub fn add(&mut self, cell: u32, k: u64) {
        if k == 0 {
            return;
        }
        let (b, c) = self.levels_of(cell);
        self.counts[cell as usize] += k;
        self.cap_mask[b] |= 1 << c;
        self.bid_mask[b / 64] |= 1 << (b % 64);
        self.total += k;
    }

    /// Removes up to `k` from the cell; returns how many were there to remove.
    pub fn take(&mut self, cell: u32, k: u64) -> u64 {
        let n = &mut self.counts[cell as usize];
        let k = k.min(*n);
        *n -= k;
        if *n == 0 && k > 0 {
            let (b, c) = self.levels_of(cell);
            self.cap_mask[b] &= !(1 << c);
            if self.cap_mask[b] == 0 {
                self.bid_mask[b / 64] &= !(1 << (b % 64));
            }
        }
        self.total -= k;
        k
    }

    /// Empties the histogram, calling `each(cell, count)` for every non-empty cell (lowest bid level first).
    pub fn drain(&mut self, mut each: impl FnMut(u32, u64)) {
        for w in 0..self.bid_mask.len() {
            let mut word = std::mem::take(&mut self.bid_mask[w]);
            while word != 0 {
                let b = w * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                let mut caps = std::mem::take(&mut self.cap_mask[b]);
                while caps != 0 {
                    let c = caps.trailing_zeros() as usize;
                    caps &= caps - 1;
                    let cell = (b << self.cap_bits) | c;
                    each(cell as u32, std::mem::take(&mut self.counts[cell]));
                }
            }
        }
        self.total = 0;
    }

    /// Non-empty cap levels of a bid level.
    pub fn caps_at(&self, bid: usize) -> u64 {
        self.cap_mask[bid]
    }

    /// The highest non-empty bid level strictly below `below` (all levels with `usize::MAX`).
    pub fn highest_below(&self, below: usize) -> Option<usize> {
        let below = below.min(self.cap_mask.len());
        if below == 0 {
            return None;
        }
        let top = below - 1;
        let mut w = top / 64;
        let mut word = self.bid_mask[w] & (u64::MAX >> (63 - top % 64));
        loop {
            if word != 0 {
                return Some(w * 64 + 63 - word.leading_zeros() as usize);
            }
            if w == 0 {
                return None;
            }
            w -= 1;
            word = self.bid_mask[w];
        }
    }

    /// The lowest non-empty bid level.
    pub fn lowest(&self) -> Option<usize> {
        self.bid_mask
            .iter()
            .enumerate()
            .find(|(_, w)| **w != 0)
            .map(|(i, w)| i * 64 + w.trailing_zeros() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn alias_draws_follow_the_lognormal_level_masses() {
        // ln(fee) ~ N(ln 20, 0.8²): the median, quartiles and 95th percentile of drawn levels match theory within
        // half a level plus sampling error.
        let (mu, sigma) = (20f64.ln(), 0.8);
        let g = FeeGrid::new(mu, sigma, 1.0, 4096);
        let mut s = rng::stream(1, "t");
        let n = 200_000;
        let mut v: Vec<f64> = (0..n).map(|_| g.ln_value(g.draw(&mut s, 0))).collect();
        v.sort_by(f64::total_cmp);
        for (p, z) in [
            (0.25, -0.674_49),
            (0.5, 0.0),
            (0.75, 0.674_49),
            (0.95, 1.644_85),
        ] {
            let got = v[(p * n as f64) as usize];
            let want = mu + z * sigma;
            assert!(
                (got - want).abs() <= 0.5 * sigma / 8.0 + 0.01,
                "p{p}: {got} vs {want}"
            );
        }
        // The mean of ln(fee) is mu (folded tails are symmetric).
        let mean = v.iter().sum::<f64>() / n as f64;
        assert!((mean - mu).abs() < 0.01, "mean {mean} vs {mu}");
    }

    #[test]
    fn a_burst_shifts_levels_by_its_multiplier() {
        let g = FeeGrid::new(10f64.ln(), 0.5, 4.0, 4096);
        let k = g.shift(4.0);
        let ratio = (g.ln_value(20 + k) - g.ln_value(20)).exp();
        assert!((ratio / 4.0 - 1.0).abs() < 0.04, "shift ratio {ratio}");
        assert_eq!(g.draw(&mut rng::stream(2, "t"), 10_000), g.levels() - 1);
    }

    #[test]
    fn histogram_finds_highest_and_lowest_levels() {
        let mut h = Histogram::new(200, 3);
        let h_levels = |cell: u32| (cell as usize / 4, cell as usize % 4);
        assert_eq!(h.highest_below(usize::MAX), None);
        h.add(h.cell(5, 1), 3);
        h.add(h.cell(130, 2), 4);
        h.add(h.cell(64, 0), 1);
        assert_eq!(h.highest_below(usize::MAX), Some(130));
        assert_eq!(h.highest_below(130), Some(64));
        assert_eq!(h.highest_below(64), Some(5));
        assert_eq!(h.highest_below(5), None);
        assert_eq!(h.lowest(), Some(5));
        assert_eq!(h.take(h.cell(5, 1), 10), 3);
        assert_eq!(h.lowest(), Some(64));
        assert_eq!(h.total, 5);
        assert_eq!(h.caps_at(130), 0b100);
        let mut seen = Vec::new();
        h.drain(|cell, k| seen.push((h_levels(cell), k)));
        assert_eq!(seen, [((64, 0), 1), ((130, 2), 4)]);
        assert_eq!((h.total, h.lowest()), (0, None));
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        for (z, p) in [
            (0.0, 0.5),
            (1.0, 0.841_344_75),
            (-1.959_964, 0.025),
            (3.0, 0.998_650_1),
        ] {
            assert!((normal_cdf(z) - p).abs() < 1e-6, "Φ({z})");
        }
    }
}
