//! Double-spend risk: the probability that an attacker with a share `q` of the hash rate, mining a private chain
//! from the moment a payment is broadcast, ever catches up with the honest chain (reaches equal length) once the
//! receiver has seen `z` confirmations. Three answers to the same question:
//!
//! - [`nakamoto`]: the whitepaper's §11 formula. It takes the attacker's progress while the `z` honest blocks were
//!   found to be Poisson with mean λ = z·q/p, as if those blocks had taken exactly their expected time. That
//!   approximation underestimates the risk (everywhere but z = 1 at small q, where it slightly overestimates it).
//! - [`rosenfeld`]: exact for the model (Rosenfeld 2014, "Analysis of hashrate-based double spending"). When the
//!   z-th honest block arrives the attacker's block count m is negative binomial, and from a deficit of k blocks a
//!   random walk that steps towards the attacker with probability q closes the gap with probability (q/p)^k.
//! - [`Race::simulate`]: Monte Carlo of the race itself, with an optional propagation delay.
//!
//! Success means reaching *equal* length, as in Nakamoto and Rosenfeld. (Rosenfeld states it as the attacker needing
//! one block more than the honest chain while having pre-mined one block before paying; it is the same random walk.)
//! With z = 0 the attacker starts level and succeeds with certainty; with q ≥ p he catches up with certainty.
//!
//! ## Propagation delay
//!
//! Blocks are found as a Poisson process at rate 1/T (T the block interval, all miners together), each the
//! attacker's with probability q. An honest block takes D seconds to reach the other honest miners, so an honest
//! block found less than D after the previous honest block was mined on an old tip: it forks the honest chain, one
//! of the two is orphaned, and the chain does not grow. Honest blocks arrive at rate p/T with independent exponential
//! gaps, so each honest block is stale independently with probability s = 1 − e^(−pD/T) (the honest rate p/T, not
//! 1/T: the attacker's blocks are private and do not race the honest ones). The attacker mines alone and loses
//! nothing. Stale blocks lengthen neither chain, so the race is the D = 0 race with the attacker's share raised to
//! q' = q / (q + p(1 − s)) ([`Race::effective_share`]); the simulation converges to `rosenfeld(q', z)`. This ignores
//! forks of three or more blocks, which branch wins a fork, and confirmations the receiver sees and then loses to a
//! fork. It is meant for D ≪ T; only D ≤ T is accepted.
//!
//! ## Bounding the race
//!
//! After the z-th confirmation the race is a random walk on the deficit (honest length − attacker length). When
//! q' < p' it drifts away from zero, so a losing trial never ends by itself, and at q' = p' the walk is
//! null-recurrent (it returns with certainty, after an infinite expected time). A trial is therefore stepped only
//! until its deficit has grown by b blocks beyond the deficit d₀ at the z-th confirmation. There, instead of counting
//! a failure, the trial succeeds with the exact probability (q'/p')^(d₀+b) of ever closing that gap (gambler's ruin;
//! 1 when q' ≥ p'). Counting a failure would bias `p_sim` low by a relative error of up to (q'/p')^b — with b = 60,
//! 6e−6 at q = 0.45, 0.09 at q = 0.49, and a wrong answer below 1 at q = 0.5 — whereas the closed form keeps the
//! estimate unbiased and every trial's expected length bounded.
//!
//! The closed form contributes at most a fraction (q'/p')^b of `p_sim`, so b is the least number of blocks that
//! makes that fraction ≤ [`CLOSED_FORM_SHARE_MAX`] (1e−9), at most [`CATCH_UP_BOUND_BLOCKS_MAX`] (60): b = 10 at
//! q' = 0.1, 25 at 0.3, 60 from q' ≈ 0.415 up. Below that share the simulation is an independent check of the
//! formulas at any number of trials this command accepts; above it (q' > 0.415) the share is still below
//! (q'/p')^60, e.g. 6e−6 of p_sim at q' = 0.45.

use crate::rng::{self, Stream};

/// The most blocks beyond the deficit at the z-th confirmation that a race is stepped before it is resolved in
/// closed form (see "Bounding the race").
pub const CATCH_UP_BOUND_BLOCKS_MAX: u64 = 60;
/// The largest fraction of a race's success probability that may come from the closed-form resolution, when
/// [`CATCH_UP_BOUND_BLOCKS_MAX`] allows.
pub const CLOSED_FORM_SHARE_MAX: f64 = 1e-9;
/// The largest number of confirmations accepted (Nakamoto's own table stops at 340).
pub const CONFIRMATIONS_MAX: u32 = 10_000;
/// The largest number of trials accepted per (q, z).
pub const TRIALS_MAX: u64 = 1_000_000_000;
/// Standard normal quantile for a two-sided 95% interval.
pub const Z_95: f64 = 1.959_963_984_540_054;
/// Standard normal quantile for a two-sided 99% interval.
pub const Z_99: f64 = 2.575_829_303_548_900_4;

/// Terms of the analytic series are summed until what is left is below this fraction of the sum.
const SERIES_TOLERANCE: f64 = 1e-17;
/// A limit on the terms of a series tail, far beyond what convergence needs for q < 0.5 and z ≤ 10,000.
const SERIES_TERMS_MAX: u32 = 10_000_000;

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RiskError {
    #[error("attacker share {0} is not in [0, 1)")]
    Share(f64),
    #[error("confirmations {0} is above the limit of {CONFIRMATIONS_MAX}")]
    Confirmations(u32),
    #[error("propagation delay {0} s is not a number of seconds ≥ 0")]
    Delay(f64),
    #[error("block interval {0} s is not a number of seconds > 0")]
    BlockInterval(f64),
    #[error(
        "propagation delay {delay_s} s is longer than the block interval {block_interval_s} s: the stale-block \
         approximation only holds for delays well below the interval"
    )]
    DelayAboveInterval { delay_s: f64, block_interval_s: f64 },
    #[error("trials must be between 1 and {TRIALS_MAX}, got {0}")]
    Trials(u64),
}

/// Nakamoto's §11 attacker success probability: 1 − Σ_{k=0}^{z} Poisson(k; λ)·(1 − (q/p)^(z−k)), λ = z·q/p.
///
/// Summed in the equivalent all-positive form Σ_{k≤z} Poisson(k; λ)·(q/p)^(z−k) + Σ_{k>z} Poisson(k; λ), which keeps
/// its relative precision when the probability is tiny. Returns 1 for q ≥ 1/2 and for z = 0. `q` must be in [0, 1).
pub fn nakamoto(q: f64, z: u32) -> f64 {
    debug_assert!((0.0..1.0).contains(&q), "attacker share {q}");
    let p = 1.0 - q;
    if z == 0 || q >= p {
        return 1.0;
    }
    if q == 0.0 {
        return 0.0;
    }
    let ln_ratio = (q / p).ln();
    let lambda = z as f64 * q / p;
    let ln_lambda = lambda.ln();
    let ln_poisson = |k: u32, ln_k_factorial: f64| k as f64 * ln_lambda - lambda - ln_k_factorial;
    let mut sum = 0.0;
    let mut ln_k_factorial = 0.0;
    for k in 0..=z {
        if k > 0 {
            ln_k_factorial += (k as f64).ln();
        }
        sum += (ln_poisson(k, ln_k_factorial) + (z - k) as f64 * ln_ratio).exp();
    }
    // The Poisson upper tail: for k > z ≥ λ the terms shrink by λ/(k+1) < 1 each step, so what is left after a term
    // t is below t·ρ/(1−ρ) with ρ the current ratio.
    for k in z + 1..z.saturating_add(SERIES_TERMS_MAX) {
        ln_k_factorial += (k as f64).ln();
        let term = ln_poisson(k, ln_k_factorial).exp();
        sum += term;
        let rho = lambda / (k + 1) as f64;
        if term * rho / (1.0 - rho) <= sum * SERIES_TOLERANCE {
            break;
        }
    }
    sum.min(1.0)
}

/// Rosenfeld's exact attacker success probability: 1 − Σ_{m=0}^{z} C(m+z−1, m)·(p^z q^m − q^z p^m) for q < p,
/// 1 for q ≥ p, and 1 for z = 0 (the attacker starts level).
///
/// This is E[(q/p)^max(z−m, 0)] with m ~ NegativeBinomial(z, p) the attacker's blocks when the z-th honest block
/// arrives, summed in the all-positive form Σ_{m≤z} C(m+z−1, m)·q^z p^m + Σ_{m>z} C(m+z−1, m)·p^z q^m so that tiny
/// probabilities keep their relative precision. `q` must be in [0, 1).
pub fn rosenfeld(q: f64, z: u32) -> f64 {
    debug_assert!((0.0..1.0).contains(&q), "attacker share {q}");
    let p = 1.0 - q;
    if z == 0 || q >= p {
        return 1.0;
    }
    if q == 0.0 {
        return 0.0;
    }
    let (ln_p, ln_q) = (p.ln(), q.ln());
    let zf = z as f64;
    // ln C(m+z−1, m), updated by ln((m+z−1)/m) at each step.
    let mut ln_binomial = 0.0;
    let mut sum = 0.0;
    for m in 0..=z {
        if m > 0 {
            ln_binomial += ((m + z - 1) as f64 / m as f64).ln();
        }
        sum += (ln_binomial + zf * ln_q + m as f64 * ln_p).exp();
    }
    // The negative binomial tail beyond z: successive terms shrink by ρ = q·(m+z)/(m+1) < 2q < 1.
    for m in z + 1..z.saturating_add(SERIES_TERMS_MAX) {
        ln_binomial += ((m + z - 1) as f64 / m as f64).ln();
        let term = (ln_binomial + zf * ln_p + m as f64 * ln_q).exp();
        sum += term;
        let rho = q * (m + z) as f64 / (m + 1) as f64;
        if term * rho / (1.0 - rho) <= sum * SERIES_TOLERANCE {
            break;
        }
    }
    sum.min(1.0)
}

/// The least z ≤ [`CONFIRMATIONS_MAX`] with `probability(z) < threshold`, or `None`. A linear search: the
/// probabilities fall with z but are cheap to compute.
pub fn least_confirmations(threshold: f64, probability: impl Fn(u32) -> f64) -> Option<u32> {
    (0..=CONFIRMATIONS_MAX).find(|&z| probability(z) < threshold)
}

/// The Wilson score interval for `successes` out of `trials` Bernoulli trials at normal quantile `z_score`
/// ([`Z_95`], [`Z_99`]). Unlike the normal approximation it stays inside [0, 1] and is not empty at 0 or n
/// successes. With no trials it is the whole of [0, 1].
pub fn wilson(successes: u64, trials: u64, z_score: f64) -> (f64, f64) {
    if trials == 0 {
        return (0.0, 1.0);
    }
    let n = trials as f64;
    let p_hat = successes.min(trials) as f64 / n;
    let z2 = z_score * z_score;
    let denominator = 1.0 + z2 / n;
    let centre = (p_hat + z2 / (2.0 * n)) / denominator;
    let half = z_score / denominator * (p_hat * (1.0 - p_hat) / n + z2 / (4.0 * n * n)).sqrt();
    // The bounds at 0 and n successes are exactly 0 and 1; computed, they would carry rounding error.
    let low = if successes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if successes >= trials {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (low, high)
}

/// One block event of the race.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Attacker,
    Honest,
    /// An honest block that lost a fork to propagation delay: neither chain grows.
    Stale,
}

/// A validated race: attacker share, confirmations and the propagation model. Build it with [`Race::new`].
#[derive(Clone, Debug, PartialEq)]
pub struct Race {
    share: f64,
    confirmations: u32,
    /// Probability that an honest block is stale (0 without propagation delay).
    stale: f64,
    /// Draws below this are attacker blocks; below `stale_below`, stale honest blocks; the rest, honest blocks.
    attacker_below: f64,
    stale_below: f64,
    /// Blocks b beyond the deficit at the z-th confirmation at which a trial is resolved in closed form.
    bound_blocks: u64,
}

/// The result of simulating one (q, z).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub trials: u64,
    pub successes: u64,
}

impl Estimate {
    pub fn p(&self) -> f64 {
        self.successes as f64 / self.trials as f64
    }
    /// The Wilson score interval at normal quantile `z_score`.
    pub fn interval(&self, z_score: f64) -> (f64, f64) {
        wilson(self.successes, self.trials, z_score)
    }
}

impl Race {
    /// A race of an attacker with hash share `share` ∈ [0, 1) against a receiver waiting for `confirmations`
    /// blocks, with honest blocks taking `delay_s` ∈ [0, `block_interval_s`] seconds to propagate.
    pub fn new(
        share: f64,
        confirmations: u32,
        delay_s: f64,
        block_interval_s: f64,
    ) -> Result<Race, RiskError> {
        if !(0.0..1.0).contains(&share) {
            return Err(RiskError::Share(share));
        }
        if confirmations > CONFIRMATIONS_MAX {
            return Err(RiskError::Confirmations(confirmations));
        }
        if !(delay_s.is_finite() && delay_s >= 0.0) {
            return Err(RiskError::Delay(delay_s));
        }
        if !(block_interval_s.is_finite() && block_interval_s > 0.0) {
            return Err(RiskError::BlockInterval(block_interval_s));
        }
        if delay_s > block_interval_s {
            return Err(RiskError::DelayAboveInterval {
                delay_s,
                block_interval_s,
            });
        }
        let honest = 1.0 - share;
        let stale = -(-honest * delay_s / block_interval_s).exp_m1();
        let mut race = Race {
            share,
            confirmations,
            stale,
            attacker_below: share,
            stale_below: share + honest * stale,
            bound_blocks: CATCH_UP_BOUND_BLOCKS_MAX,
        };
        race.bound_blocks = (1..CATCH_UP_BOUND_BLOCKS_MAX)
            .find(|&b| race.catch_up_probability(b) <= CLOSED_FORM_SHARE_MAX)
            .unwrap_or(CATCH_UP_BOUND_BLOCKS_MAX);
        Ok(race)
    }

    /// Blocks b beyond the deficit at the z-th confirmation at which a trial is resolved in closed form.
    pub fn bound_blocks(&self) -> u64 {
        self.bound_blocks
    }

    pub fn share(&self) -> f64 {
        self.share
    }

    pub fn confirmations(&self) -> u32 {
        self.confirmations
    }

    /// Probability that an honest block is stale: 1 − e^(−pD/T).
    pub fn stale_probability(&self) -> f64 {
        self.stale
    }

    /// The attacker's share of the blocks that lengthen a chain: q / (q + p(1 − s)). Equal to q without delay.
    pub fn effective_share(&self) -> f64 {
        let extending_honest = (1.0 - self.share) * (1.0 - self.stale);
        self.share / (self.share + extending_honest)
    }

    /// Probability of ever closing a deficit of `blocks` for the effective shares: (q'/p')^blocks, 1 if q' ≥ p'.
    fn catch_up_probability(&self, blocks: u64) -> f64 {
        let q = self.effective_share();
        let p = 1.0 - q;
        if q >= p {
            1.0
        } else {
            (q / p).powf(blocks as f64)
        }
    }

    fn next_block(&self, rng: &mut Stream) -> Block {
        let u = rng::unit(rng);
        if u < self.attacker_below {
            Block::Attacker
        } else if u < self.stale_below {
            Block::Stale
        } else {
            Block::Honest
        }
    }

    /// One race; true if the attacker catches up. Only the order of block events matters, so the trial draws the
    /// sequence of events (the jump chain of the Poisson process) and never their times.
    pub fn trial(&self, rng: &mut Stream) -> bool {
        let z = u64::from(self.confirmations);
        let (mut honest, mut attacker) = (0u64, 0u64);
        // Until the receiver sees z confirmations. The attacker's count only grows, so once it reaches z it will
        // be level with the honest chain at the z-th confirmation whatever happens in between.
        while honest < z {
            if attacker >= z {
                return true;
            }
            match self.next_block(rng) {
                Block::Attacker => attacker += 1,
                Block::Honest => honest += 1,
                Block::Stale => {}
            }
        }
        if attacker >= honest {
            return true;
        }
        // The race after the z-th confirmation, as a walk on the deficit; see "Bounding the race".
        let mut deficit = honest - attacker;
        let bound = deficit + self.bound_blocks;
        loop {
            match self.next_block(rng) {
                Block::Attacker => {
                    deficit -= 1;
                    if deficit == 0 {
                        return true;
                    }
                }
                Block::Honest => {
                    deficit += 1;
                    if deficit == bound {
                        return rng::unit(rng) < self.catch_up_probability(deficit);
                    }
                }
                Block::Stale => {}
            }
        }
    }

    /// `trials` ∈ [1, [`TRIALS_MAX`]] races drawn from `rng`.
    pub fn simulate(&self, trials: u64, rng: &mut Stream) -> Result<Estimate, RiskError> {
        if trials == 0 || trials > TRIALS_MAX {
            return Err(RiskError::Trials(trials));
        }
        let successes = (0..trials).filter(|_| self.trial(rng)).count() as u64;
        Ok(Estimate { trials, successes })
    }

    /// The stream label of this race's trials under a master seed: `risk/q=<q>/z=<z>`. The propagation model is
    /// not part of it, so runs that differ only in delay use common random numbers (a paired comparison).
    pub fn stream_label(&self) -> String {
        format!("risk/q={}/z={}", self.share, self.confirmations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_is_inside_unit_interval_and_contains_the_estimate() {
        assert_eq!(wilson(0, 0, Z_95), (0.0, 1.0));
        let (lo, hi) = wilson(0, 100, Z_95);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.03 && hi < 0.04, "{hi}");
        let (lo, hi) = wilson(100, 100, Z_95);
        assert!(lo > 0.96 && hi == 1.0, "{lo}");
        // 50 of 100: centre 0.5, half-width about 0.0962 (textbook value 0.4038..0.5962).
        let (lo, hi) = wilson(50, 100, Z_95);
        assert!(
            (lo - 0.403_831).abs() < 1e-5 && (hi - 0.596_169).abs() < 1e-5,
            "{lo} {hi}"
        );
    }

    /// `settlesim risk`'s point estimate (risk.csv `p`) is the share of races the attacker won, inside its interval.
    #[test]
    fn the_estimate_is_the_share_of_races_won() {
        let e = Estimate {
            trials: 8,
            successes: 2,
        };
        assert_eq!(e.p(), 0.25);
        let (lo, hi) = e.interval(Z_95);
        assert!(lo < e.p() && e.p() < hi);
        let mut stream = crate::rng::stream(1, "test");
        let e = Race::new(0.3, 2, 0.0, 600.0)
            .unwrap()
            .simulate(2_000, &mut stream)
            .unwrap();
        assert_eq!(e.p(), e.successes as f64 / 2_000.0);
        assert!(e.p() > 0.1 && e.p() < 0.5, "{}", e.p());
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert_eq!(Race::new(1.0, 1, 0.0, 600.0), Err(RiskError::Share(1.0)));
        assert!(Race::new(-0.1, 1, 0.0, 600.0).is_err());
        assert!(Race::new(f64::NAN, 1, 0.0, 600.0).is_err());
        assert!(Race::new(0.1, CONFIRMATIONS_MAX + 1, 0.0, 600.0).is_err());
        assert!(Race::new(0.1, 1, -1.0, 600.0).is_err());
        assert!(Race::new(0.1, 1, 0.0, 0.0).is_err());
        assert!(Race::new(0.1, 1, 601.0, 600.0).is_err());
        let race = Race::new(0.1, 1, 0.0, 600.0).unwrap();
        assert_eq!(
            race.simulate(0, &mut rng::stream(0, "t")),
            Err(RiskError::Trials(0))
        );
    }

    #[test]
    fn delay_raises_the_effective_share() {
        let race = Race::new(0.1, 6, 0.0, 600.0).unwrap();
        assert_eq!(race.effective_share(), 0.1);
        let race = Race::new(0.1, 6, 60.0, 600.0).unwrap();
        let s = 1.0 - (-0.9f64 * 0.1).exp();
        assert!((race.stale_probability() - s).abs() < 1e-15);
        assert!((race.effective_share() - 0.1 / (0.1 + 0.9 * (1.0 - s))).abs() < 1e-15);
    }

    #[test]
    fn edge_cases_are_certain() {
        let mut rng = rng::stream(0, "t");
        for q in [0.0, 0.3, 0.5, 0.9] {
            let race = Race::new(q, 0, 0.0, 600.0).unwrap();
            assert_eq!(
                race.simulate(100, &mut rng).unwrap().successes,
                100,
                "z=0 q={q}"
            );
        }
        for q in [0.5, 0.7, 0.99] {
            let race = Race::new(q, 6, 0.0, 600.0).unwrap();
            assert_eq!(
                race.simulate(1000, &mut rng).unwrap().successes,
                1000,
                "q={q}"
            );
            assert_eq!((nakamoto(q, 6), rosenfeld(q, 6)), (1.0, 1.0));
        }
        let race = Race::new(0.0, 3, 0.0, 600.0).unwrap();
        assert_eq!(race.simulate(1000, &mut rng).unwrap().successes, 0);
        assert_eq!((nakamoto(0.0, 3), rosenfeld(0.0, 3)), (0.0, 0.0));
        assert_eq!((nakamoto(0.0, 0), rosenfeld(0.0, 0)), (1.0, 1.0));
    }
}
