//! Statistics over replications: the mean and a Student-t 95% confidence interval. Pure functions of their
//! inputs, summed in the order given, so the same values in the same order give the same bits.

/// The mean of `n` replications and its two-sided 95% confidence interval (Student t, n − 1 degrees of freedom).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub n: usize,
    pub mean: f64,
    /// Half-width of the interval; `None` with fewer than two values (no variance to estimate).
    pub half_width: Option<f64>,
}

impl Estimate {
    pub fn lo(&self) -> Option<f64> {
        self.half_width.map(|h| self.mean - h)
    }
    pub fn hi(&self) -> Option<f64> {
        self.half_width.map(|h| self.mean + h)
    }
}

/// Mean and 95% confidence interval of `values`; `None` when there are none.
pub fn estimate(values: &[f64]) -> Option<Estimate> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let half_width = (n >= 2).then(|| {
        // Two passes: the sum of squared deviations from the mean does not cancel catastrophically.
        let ss: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
        let sd = (ss / (n - 1) as f64).sqrt();
        t_quantile(0.975, (n - 1) as f64) * sd / (n as f64).sqrt()
    });
    Some(Estimate {
        n,
        mean,
        half_width,
    })
}

/// The `p` quantile (0.5 < p < 1) of Student's t distribution with `df` degrees of freedom, by bisection on the
/// CDF. Accurate to about 1e-12; `t_quantile(0.975, 1.0)` is 12.706.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    assert!(p > 0.5 && p < 1.0 && df > 0.0, "t_quantile({p}, {df})");
    let mut lo = 0.0;
    let mut hi = 1.0;
    while t_cdf(hi, df) < p {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// P(T ≤ t) for t ≥ 0: 1 − ½·I_x(df/2, ½) with x = df / (df + t²).
fn t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    1.0 - 0.5 * inc_beta(x, 0.5 * df, 0.5)
}

/// The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz's method), using the
/// symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges faster.
fn inc_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut f = d;
    // Converges in O(sqrt(max(a, b))) steps; 100,000 replications need a few hundred.
    for m in 1..=20_000 {
        let m = m as f64;
        for num in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + num * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + num / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            f *= c * d;
        }
        if (c * d - 1.0).abs() < 1e-15 {
            break;
        }
    }
    f
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients; relative error below 1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        sum += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two-sided 95% critical values from the standard t table.
    #[test]
    fn t_quantiles_match_the_table() {
        for (df, t) in [
            (1.0, 12.706_204_736),
            (2.0, 4.302_652_730),
            (3.0, 3.182_446_305),
            (4.0, 2.776_445_105),
            (9.0, 2.262_157_163),
            (29.0, 2.045_229_642),
            (99.0, 1.984_216_952),
            (999.0, 1.962_341_461),
            (99_999.0, 1.959_987_708),
        ] {
            let got = t_quantile(0.975, df);
            assert!((got - t).abs() < 1e-6, "df {df}: {got} vs {t}");
        }
        // Other quantiles: the 0.95 one-sided value for 10 df.
        assert!((t_quantile(0.95, 10.0) - 1.812_461_123).abs() < 1e-6);
    }

    #[test]
    fn ln_gamma_of_integers_and_a_half() {
        assert!(ln_gamma(1.0).abs() < 1e-14);
        assert!((ln_gamma(5.0) - 24_f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
    }

    #[test]
    fn estimate_of_known_samples() {
        assert_eq!(estimate(&[]), None);
        let one = estimate(&[3.0]).unwrap();
        assert_eq!((one.n, one.mean, one.half_width), (1, 3.0, None));
        // 1..=5: mean 3, sd sqrt(2.5), half-width t(4) · sd / sqrt(5).
        let e = estimate(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(e.mean, 3.0);
        let want = 2.776_445_105 * 2.5_f64.sqrt() / 5_f64.sqrt();
        assert!((e.half_width.unwrap() - want).abs() < 1e-8, "{e:?}");
        assert!((e.lo().unwrap() - (3.0 - want)).abs() < 1e-8);
        // Identical values: a zero-width interval, not NaN.
        assert_eq!(estimate(&[7.0; 4]).unwrap().half_width, Some(0.0));
    }

    /// Coverage: the interval covers the true mean of a uniform sample about 95% of the time.
    #[test]
    fn intervals_cover_the_mean_about_95_percent_of_the_time() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let trials = 4000;
        let mut covered = 0;
        for _ in 0..trials {
            let xs: Vec<f64> = (0..6).map(|_| rng.random::<f64>()).collect();
            let e = estimate(&xs).unwrap();
            if e.lo().unwrap() <= 0.5 && 0.5 <= e.hi().unwrap() {
                covered += 1;
            }
        }
        let share = covered as f64 / trials as f64;
        assert!((0.93..0.97).contains(&share), "coverage {share}");
    }
}
