//! Randomness: one master seed, one independent ChaCha stream per component. A component's stream is keyed by
//! SHA-256 over (seed, label) — e.g. `"demand/USD-MXN"` or `"rail/swift/bank/us_bank"` — so adding a bank or a rail
//! does not shift the draws of any other component. The generator is `ChaCha8Rng` from a version-pinned
//! `rand_chacha`, never `StdRng`/`SmallRng`, whose algorithms may change between releases.

use rand::RngExt;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use sha2::{Digest, Sha256};

use crate::units::US_PER_S;

pub type Stream = ChaCha8Rng;

/// The stream of component `label` under master seed `seed`.
pub fn stream(seed: u64, label: &str) -> Stream {
    let mut h = Sha256::new();
    h.update(b"settlesim/stream/v1\0");
    h.update(seed.to_le_bytes());
    h.update(label.as_bytes());
    let key: [u8; 32] = h.finalize().into();
    ChaCha8Rng::from_seed(key)
}

/// A uniform draw in [0, 1).
pub fn unit(rng: &mut Stream) -> f64 {
    rng.random::<f64>()
}

/// An index drawn with probability proportional to `weights` (positive, finite).
pub fn pick_weighted(rng: &mut Stream, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = unit(rng) * total;
    for (i, w) in weights.iter().enumerate() {
        x -= w;
        if x < 0.0 {
            return i;
        }
    }
    weights.len() - 1
}

/// A standard normal draw.
pub fn standard_normal(rng: &mut Stream) -> f64 {
    rand_distr::StandardNormal.sample(rng)
}

/// A delay distribution, in microseconds. Built once from the scenario; sampling allocates nothing.
#[derive(Clone, Debug)]
pub enum Delay {
    Zero,
    Fixed(u64),
    Exp(Exp<f64>),
    /// Log-normal in seconds (parameters of the underlying normal).
    LogNormal(LogNormal<f64>),
    Uniform {
        min_us: u64,
        max_us: u64,
    },
    /// Another shape with an upper bound: draws above `max_us` are `max_us` (an escalation deadline: the step
    /// is decided by then whatever the draw says).
    Capped {
        inner: Box<Delay>,
        max_us: u64,
    },
}

impl Delay {
    pub fn exp_mean_us(mean_us: u64) -> Delay {
        if mean_us == 0 {
            return Delay::Zero;
        }
        Delay::Exp(Exp::new(1.0 / mean_us as f64).expect("positive rate"))
    }
    /// Log-normal with the given median and p90 (both in microseconds); p90 > median.
    pub fn lognormal_median_p90(median_us: u64, p90_us: u64) -> Delay {
        let mu = (median_us as f64 / US_PER_S as f64).ln();
        // z(0.90) = 1.2815515655446004
        let sigma = ((p90_us as f64 / median_us as f64).ln() / 1.281_551_565_544_600_4).max(1e-9);
        Delay::LogNormal(LogNormal::new(mu, sigma).expect("finite sigma"))
    }
    pub fn lognormal_median_sigma(median_us: u64, sigma: f64) -> Delay {
        let mu = (median_us as f64 / US_PER_S as f64).ln();
        Delay::LogNormal(LogNormal::new(mu, sigma.max(1e-9)).expect("finite sigma"))
    }

    pub fn sample(&self, rng: &mut Stream) -> u64 {
        match self {
            Delay::Zero => 0,
            Delay::Fixed(us) => *us,
            Delay::Exp(d) => {
                let x = d.sample(rng);
                round_small(x).unwrap_or_else(|| x.round() as u64)
            }
            Delay::LogNormal(d) => {
                let x = d.sample(rng) * US_PER_S as f64;
                round_small(x).unwrap_or_else(|| x.round().min(1e17) as u64)
            }
            Delay::Uniform { min_us, max_us } => {
                if max_us <= min_us {
                    *min_us
                } else {
                    rng.random_range(*min_us..=*max_us)
                }
            }
            Delay::Capped { inner, max_us } => inner.sample(rng).min(*max_us),
        }
    }

    /// `out.len()` draws in a row, the same values from the same stream positions as that many `sample` calls.
    /// A log-normal draws its standard normals first and exponentiates them after, so that the `exp` calls,
    /// independent of one another, overlap instead of each waiting for the stream (BFT heights draw millions).
    pub fn sample_into(&self, rng: &mut Stream, out: &mut [u64]) {
        match self {
            Delay::LogNormal(d) => {
                let mut z = [0.0_f64; 32];
                for chunk in out.chunks_mut(z.len()) {
                    for zi in &mut z[..chunk.len()] {
                        *zi = rand_distr::StandardNormal.sample(rng);
                    }
                    for (o, &zi) in chunk.iter_mut().zip(&z) {
                        // `LogNormal::sample` is `from_zscore` of a standard normal draw.
                        let x = d.from_zscore(zi) * US_PER_S as f64;
                        *o = round_small(x).unwrap_or_else(|| x.round().min(1e17) as u64);
                    }
                }
            }
            other => {
                for o in out {
                    *o = other.sample(rng);
                }
            }
        }
    }

    /// This delay with an upper bound (one draw, then the bound): the stream is read as without it.
    pub fn capped(self, max_us: u64) -> Delay {
        match self {
            Delay::Zero => Delay::Zero,
            other => Delay::Capped {
                inner: Box::new(other),
                max_us,
            },
        }
    }

    /// The distribution's mean in microseconds (for documentation and validity tests).
    pub fn mean_us(&self) -> f64 {
        match self {
            Delay::Zero => 0.0,
            Delay::Fixed(us) => *us as f64,
            Delay::Exp(_) | Delay::LogNormal(_) | Delay::Capped { .. } => f64::NAN,
            Delay::Uniform { min_us, max_us } => (*min_us + *max_us) as f64 / 2.0,
        }
    }
}

/// `x` rounded half away from zero, for 0 ≤ x < 2^52 (where the truncation and the fraction `x − trunc(x)` are
/// exact): the same value as `x.round() as u64`, without the libm call `round` compiles to on baseline x86-64
/// (BFT heights round millions of delays). `None` outside that range: the caller keeps its general rounding.
#[inline]
fn round_small(x: f64) -> Option<u64> {
    (0.0..4_503_599_627_370_496.0).contains(&x).then(|| {
        // Through i64: in this range the signed conversions are exact and single instructions, where u64 ones
        // take a branch-free sequence of several on x86-64 (and sit on the path of every delay drawn).
        let whole = x as i64;
        whole as u64 + u64::from(x - whole as f64 >= 0.5)
    })
}

/// The complementary error function (Numerical Recipes' `erfcc`, fractional error below 1.2e-7): enough
/// for warning thresholds and fee tables, never for a draw.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_small_is_round_half_away_from_zero() {
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let mut values = vec![
            0.0,
            0.5,
            1.5,
            2.5,
            0.499_999_999_999_999_94,
            4_503_599_627_370_495.5,
        ];
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x >> 2);
            values.extend([v, (x >> 11) as f64 / 1024.0, (x % 10_000) as f64 + 0.5]);
        }
        for v in values {
            if let Some(r) = super::round_small(v) {
                assert_eq!(r, v.round() as u64, "{v:e}");
            }
        }
        assert_eq!(super::round_small(-0.2), None);
        assert_eq!(super::round_small(f64::NAN), None);
    }

    use super::*;

    #[test]
    fn streams_differ_by_label_and_repeat_by_seed() {
        let a1: u64 = stream(7, "demand/A").random();
        let a2: u64 = stream(7, "demand/A").random();
        let b: u64 = stream(7, "demand/B").random();
        let c: u64 = stream(8, "demand/A").random();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, c);
    }

    #[test]
    fn sample_into_reads_the_stream_as_repeated_samples() {
        let delays = [
            Delay::lognormal_median_p90(80_000, 300_000),
            Delay::lognormal_median_p90(600 * US_PER_S, 3600 * US_PER_S),
            Delay::exp_mean_us(1_000_000),
            Delay::Uniform {
                min_us: 5,
                max_us: 50,
            },
        ];
        for d in &delays {
            for n in [0, 1, 11, 32, 33, 100] {
                let (mut a, mut b) = (stream(3, "t"), stream(3, "t"));
                let one: Vec<u64> = (0..n).map(|_| d.sample(&mut a)).collect();
                let mut many = vec![0; n];
                d.sample_into(&mut b, &mut many);
                assert_eq!(one, many, "{d:?} n={n}");
                assert_eq!(
                    a.random::<u64>(),
                    b.random::<u64>(),
                    "stream positions, {d:?} n={n}"
                );
            }
        }
    }

    #[test]
    fn exponential_delay_has_its_mean() {
        let d = Delay::exp_mean_us(1_000_000);
        let mut rng = stream(1, "t");
        let n = 200_000;
        let mean = (0..n).map(|_| d.sample(&mut rng) as f64).sum::<f64>() / n as f64;
        // Standard error is mean/sqrt(n) ≈ 0.22%: allow 1%.
        assert!((mean / 1e6 - 1.0).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn lognormal_delay_has_its_median_and_p90() {
        let d = Delay::lognormal_median_p90(600 * US_PER_S, 3600 * US_PER_S);
        let mut rng = stream(2, "t");
        let mut v: Vec<u64> = (0..100_001).map(|_| d.sample(&mut rng)).collect();
        v.sort_unstable();
        let median = v[50_000] as f64 / 1e6;
        let p90 = v[90_000] as f64 / 1e6;
        assert!((median / 600.0 - 1.0).abs() < 0.02, "median {median}");
        assert!((p90 / 3600.0 - 1.0).abs() < 0.03, "p90 {p90}");
    }
}
