//! Randomness: one master seed, one independent ChaCha stream per component. A component's stream is keyed by
//! SHA-256 over (seed, label) — e.g. `"demand/USD-MXN"` or `"rail/swift/bank/us_bank"` — so adding a bank or a rail
//! does not shift the draws of any other component. The generator is `ChaCha8Rng` from a version-pinned
//! `rand_chacha`, never `StdRng`/`SmallRng`, whose algorithms may change between releases.

use rand::RngExt;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};
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
    /// Log-normal in seconds: `exp(mu + sigma·z)` for a standard normal z (the parameters of the underlying
    /// normal, as `rand_distr::LogNormal::new(mu, sigma)`).
    LogNormal {
        mu: f64,
        sigma: f64,
    },
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
        Delay::lognormal(mu, sigma)
    }
    pub fn lognormal_median_sigma(median_us: u64, sigma: f64) -> Delay {
        let mu = (median_us as f64 / US_PER_S as f64).ln();
        Delay::lognormal(mu, sigma.max(1e-9))
    }
    fn lognormal(mu: f64, sigma: f64) -> Delay {
        assert!(sigma.is_finite(), "finite sigma");
        Delay::LogNormal { mu, sigma }
    }

    pub fn sample(&self, rng: &mut Stream) -> u64 {
        match self {
            Delay::Zero => 0,
            Delay::Fixed(us) => *us,
            Delay::Exp(d) => {
                let x = d.sample(rng);
                round_small(x).unwrap_or_else(|| x.round() as u64)
            }
            Delay::LogNormal { mu, sigma } => lognormal_us(*mu, *sigma, standard_normal(rng)),
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
            Delay::LogNormal { mu, sigma } => {
                let mut z = [0.0_f64; 32];
                for chunk in out.chunks_mut(z.len()) {
                    for zi in &mut z[..chunk.len()] {
                        *zi = standard_normal(rng);
                    }
                    for (o, &zi) in chunk.iter_mut().zip(&z) {
                        *o = lognormal_us(*mu, *sigma, zi);
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
}

/// A log-normal delay in whole microseconds from its standard normal draw `z`: `exp(mu + sigma·z)` seconds,
/// the value of `rand_distr::LogNormal::from_zscore(z)` but for the exponential (`exp_fast`, within an ulp or
/// two of the C library's, so a delay rounded to the microsecond differs only on a knife-edge).
#[inline]
fn lognormal_us(mu: f64, sigma: f64, z: f64) -> u64 {
    let x = exp_fast(mu + sigma * z) * US_PER_S as f64;
    round_small(x).unwrap_or_else(|| x.round().min(1e17) as u64)
}

/// 2^(j/128) for j in 0..128, each the double nearest the exact value (computed to 60 digits).
#[rustfmt::skip]
const EXP2_128THS: [u64; 128] = [
    0x3ff0000000000000, 0x3ff0163da9fb3335, 0x3ff02c9a3e778061, 0x3ff04315e86e7f85,
    0x3ff059b0d3158574, 0x3ff0706b29ddf6de, 0x3ff0874518759bc8, 0x3ff09e3ecac6f383,
    0x3ff0b5586cf9890f, 0x3ff0cc922b7247f7, 0x3ff0e3ec32d3d1a2, 0x3ff0fb66affed31b,
    0x3ff11301d0125b51, 0x3ff12abdc06c31cc, 0x3ff1429aaea92de0, 0x3ff15a98c8a58e51,
    0x3ff172b83c7d517b, 0x3ff18af9388c8dea, 0x3ff1a35beb6fcb75, 0x3ff1bbe084045cd4,
    0x3ff1d4873168b9aa, 0x3ff1ed5022fcd91d, 0x3ff2063b88628cd6, 0x3ff21f49917ddc96,
    0x3ff2387a6e756238, 0x3ff251ce4fb2a63f, 0x3ff26b4565e27cdd, 0x3ff284dfe1f56381,
    0x3ff29e9df51fdee1, 0x3ff2b87fd0dad990, 0x3ff2d285a6e4030b, 0x3ff2ecafa93e2f56,
    0x3ff306fe0a31b715, 0x3ff32170fc4cd831, 0x3ff33c08b26416ff, 0x3ff356c55f929ff1,
    0x3ff371a7373aa9cb, 0x3ff38cae6d05d866, 0x3ff3a7db34e59ff7, 0x3ff3c32dc313a8e5,
    0x3ff3dea64c123422, 0x3ff3fa4504ac801c, 0x3ff4160a21f72e2a, 0x3ff431f5d950a897,
    0x3ff44e086061892d, 0x3ff46a41ed1d0057, 0x3ff486a2b5c13cd0, 0x3ff4a32af0d7d3de,
    0x3ff4bfdad5362a27, 0x3ff4dcb299fddd0d, 0x3ff4f9b2769d2ca7, 0x3ff516daa2cf6642,
    0x3ff5342b569d4f82, 0x3ff551a4ca5d920f, 0x3ff56f4736b527da, 0x3ff58d12d497c7fd,
    0x3ff5ab07dd485429, 0x3ff5c9268a5946b7, 0x3ff5e76f15ad2148, 0x3ff605e1b976dc09,
    0x3ff6247eb03a5585, 0x3ff6434634ccc320, 0x3ff6623882552225, 0x3ff68155d44ca973,
    0x3ff6a09e667f3bcd, 0x3ff6c012750bdabf, 0x3ff6dfb23c651a2f, 0x3ff6ff7df9519484,
    0x3ff71f75e8ec5f74, 0x3ff73f9a48a58174, 0x3ff75feb564267c9, 0x3ff780694fde5d3f,
    0x3ff7a11473eb0187, 0x3ff7c1ed0130c132, 0x3ff7e2f336cf4e62, 0x3ff80427543e1a12,
    0x3ff82589994cce13, 0x3ff8471a4623c7ad, 0x3ff868d99b4492ed, 0x3ff88ac7d98a6699,
    0x3ff8ace5422aa0db, 0x3ff8cf3216b5448c, 0x3ff8f1ae99157736, 0x3ff9145b0b91ffc6,
    0x3ff93737b0cdc5e5, 0x3ff95a44cbc8520f, 0x3ff97d829fde4e50, 0x3ff9a0f170ca07ba,
    0x3ff9c49182a3f090, 0x3ff9e86319e32323, 0x3ffa0c667b5de565, 0x3ffa309bec4a2d33,
    0x3ffa5503b23e255d, 0x3ffa799e1330b358, 0x3ffa9e6b5579fdbf, 0x3ffac36bbfd3f37a,
    0x3ffae89f995ad3ad, 0x3ffb0e07298db666, 0x3ffb33a2b84f15fb, 0x3ffb59728de5593a,
    0x3ffb7f76f2fb5e47, 0x3ffba5b030a1064a, 0x3ffbcc1e904bc1d2, 0x3ffbf2c25bd71e09,
    0x3ffc199bdd85529c, 0x3ffc40ab5fffd07a, 0x3ffc67f12e57d14b, 0x3ffc8f6d9406e7b5,
    0x3ffcb720dcef9069, 0x3ffcdf0b555dc3fa, 0x3ffd072d4a07897c, 0x3ffd2f87080d89f2,
    0x3ffd5818dcfba487, 0x3ffd80e316c98398, 0x3ffda9e603db3285, 0x3ffdd321f301b460,
    0x3ffdfc97337b9b5f, 0x3ffe264614f5a129, 0x3ffe502ee78b3ff6, 0x3ffe7a51fbc74c83,
    0x3ffea4afa2a490da, 0x3ffecf482d8e67f1, 0x3ffefa1bee615a27, 0x3fff252b376bba97,
    0x3fff50765b6e4540, 0x3fff7bfdad9cbe14, 0x3fffa7c1819e90d8, 0x3fffd3c22b8f71f1,
];

/// e^x within about an ulp (table error ≤ 0.5 ulp, then two roundings), inline and without the C library's call
/// and `errno` wrapper: BFT heights exponentiate millions of normal draws, and the library's `exp` took a tenth
/// of the flagship run's instructions. With x = (k/128)·ln 2 + r, |r| ≤ ln 2/256:
/// e^x = 2^(k div 128) · 2^((k mod 128)/128) · e^r, e^r − 1 by its Taylor polynomial to r^5 (the next term is
/// below 2^-60 of the result). Outside |x| < 700 (results that are not normal doubles, or non-finite x) it defers
/// to `f64::exp`.
#[inline]
fn exp_fast(x: f64) -> f64 {
    /// 128 / ln 2.
    const N_OVER_LN2: f64 = 184.664_965_233_787_3;
    /// ln 2 / 128 split: `HI` has 21 significant bits, so k·HI is exact for |k| < 2^32.
    const LN2_N_HI: f64 = f64::from_bits(0x3f76_2e42_0000_0000);
    const LN2_N_LO: f64 = 3.710_410_186_743_494e-9;
    /// 1.5·2^52: adding it rounds a double of magnitude below 2^51 to an integer, held in the low bits.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    if x.is_nan() || x.abs() >= 700.0 {
        return x.exp();
    }
    let z = x * N_OVER_LN2 + SHIFT;
    let k = z.to_bits() as i64 as i32; // the rounded integer, two's complement in the low 32 bits
    let kf = z - SHIFT;
    let r = (x - kf * LN2_N_HI) - kf * LN2_N_LO;
    let t = f64::from_bits(EXP2_128THS[(k & 127) as usize]);
    let p = r + r * r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0))));
    let y = t + t * p;
    // Scale by 2^(k div 128): y is in [0.99, 2.01), so the result stays a normal double for |x| < 700.
    f64::from_bits(y.to_bits().wrapping_add(((k >> 7) as i64 as u64) << 52))
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
    /// `exp_fast` against the C library's `exp`, both within about an ulp of e^x: at most one ulp apart over
    /// the whole fast range (a million spread draws, the ends, and the points where k changes table entry),
    /// and the library's exactly outside it.
    #[test]
    fn exp_fast_is_within_an_ulp_of_exp() {
        let ulps = |a: f64, b: f64| (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs();
        let mut xs = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            699.999,
            -699.999,
            1e-300,
            -1e-300,
            2.0_f64.ln(),
        ];
        xs.extend((-1000..=1000).map(|i| i as f64 * std::f64::consts::LN_2 / 256.0));
        let mut h = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..1_000_000 {
            h ^= h << 13;
            h ^= h >> 7;
            h ^= h << 17;
            xs.push((h >> 11) as f64 / (1u64 << 53) as f64 * 1400.0 - 700.0);
        }
        let mut worst = 0;
        for &x in &xs {
            worst = worst.max(ulps(super::exp_fast(x), x.exp()));
        }
        assert!(worst <= 1, "{worst} ulps apart");
        for x in [
            700.0,
            -700.0,
            709.0,
            -745.0,
            1e6,
            -1e6,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(super::exp_fast(x).to_bits(), x.exp().to_bits(), "{x}");
        }
        assert!(super::exp_fast(f64::NAN).is_nan());
    }

    /// Both constructors put the median at z = 0, the p90 at z = 1.2816 (the standard normal's 90th percentile)
    /// or the given sigma as it is, from microseconds to hours; and a delay is `rand_distr::LogNormal::from_zscore`
    /// of the same normal draw in whole microseconds, up to the exponential's last ulp (a relative 2^-52, far
    /// below the half microsecond of rounding).
    #[test]
    fn lognormal_delays_are_rand_distr_log_normals_at_their_quantiles() {
        let params = |d: Delay| match d {
            Delay::LogNormal { mu, sigma } => (mu, sigma),
            _ => panic!("a log-normal delay"),
        };
        for (median_us, p90_us) in [
            (3, 4),
            (40_000, 250_000),
            (90_000_000, 600_000_000),
            (7_200_000_000, 9e10 as u64),
        ] {
            let (mu, sigma) = params(Delay::lognormal_median_p90(median_us, p90_us));
            assert_eq!(super::lognormal_us(mu, sigma, 0.0), median_us);
            let p90 = super::lognormal_us(mu, sigma, 1.281_551_565_544_600_4);
            assert!(p90.abs_diff(p90_us) <= 1, "{median_us} {p90_us}: p90 {p90}");
            for given in [0.1, 0.8] {
                let (mu, sigma) = params(Delay::lognormal_median_sigma(median_us, given));
                assert_eq!(
                    (super::lognormal_us(mu, sigma, 0.0), sigma),
                    (median_us, given)
                );
            }
            let d = rand_distr::LogNormal::new(mu, sigma).expect("valid");
            for i in -500..=500 {
                let z = f64::from(i) / 100.0;
                let want = d.from_zscore(z) * 1e6;
                let got = super::lognormal_us(mu, sigma, z) as f64;
                assert!(
                    (got - want).abs() <= 0.5 + want * 1e-15,
                    "median {median_us} p90 {p90_us} z {z}: {got} against {want}"
                );
            }
        }
    }

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
