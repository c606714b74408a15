//! Statistics over replications: the mean and a Student-t 95% confidence interval, and for proportions a Wilson
//! score interval that never leaves [0, 1]. Pure functions of their inputs, summed in the order given, so the
//! same values in the same order give the same bits.

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

/// Whether every value is the same (and there are at least two): an interval from them would have zero width
/// and read as certainty.
pub fn all_equal(values: &[f64]) -> bool {
    values.len() >= 2 && values.iter().all(|&x| x == values[0])
}

/// A 95% interval for a proportion estimated by the mean of `fractions` (one per replication, each in [0, 1]),
/// which rest on `trials` trials in all (payments, blocks): the Wilson score interval at the Korn–Graubard
/// effective sample size `n_eff = p̂(1 − p̂) / V`, where `V` is the replications' variance of the mean (capped at
/// `trials`), with a Student-t critical value for the `R − 1` degrees of freedom of `V`. The replication variance
/// carries what the trials share (one network, one queue), so the interval is honest where a binomial count
/// would be overconfident; it lies inside [0, 1] by construction.
///
/// When every replication gave the same value there is no variance to estimate: the interval is the plain
/// Wilson interval on the pooled trials (z = 1.96), so a stale rate of 0 in every replication reads as
/// [0, 3.84/(N + 3.84)], not as a certain 0. `None` with fewer than two replications or no trials.
pub fn proportion_interval(fractions: &[f64], trials: u64) -> Option<(f64, f64)> {
    let r = fractions.len();
    if r < 2 || trials == 0 {
        return None;
    }
    let p = (fractions.iter().sum::<f64>() / r as f64).clamp(0.0, 1.0);
    let ss: f64 = fractions.iter().map(|x| (x - p) * (x - p)).sum();
    let var_of_mean = ss / (r - 1) as f64 / r as f64;
    let n_all = trials as f64;
    let (n, z) = if all_equal(fractions) || var_of_mean <= 0.0 {
        (n_all, Z_975)
    } else {
        let n_eff = (p * (1.0 - p) / var_of_mean).min(n_all);
        (n_eff, t_quantile(0.975, (r - 1) as f64))
    };
    Some(wilson(p, n, z))
}

/// The normal 0.975 quantile.
const Z_975: f64 = 1.959_963_984_540_054;

/// Wilson's score interval for a proportion `p` observed over `n` (possibly effective, non-integer) trials.
pub fn wilson(p: f64, n: f64, z: f64) -> (f64, f64) {
    let z2n = z * z / n;
    let centre = (p + z2n / 2.0) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * (p * (1.0 - p) / n + z2n / (4.0 * n)).sqrt();
    // At p = 0 (or 1) the bound is 0 (or 1) exactly; the formula gets there only up to rounding.
    let lo = if p <= 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if p >= 1.0 {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lo, hi)
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
        // Below ½, by reflection: Γ(¼) = 3.625 609 908 221 908 3…, Γ(0.1) = 9.513 507 698 668 731 8…
        assert!((ln_gamma(0.25) - 3.625_609_908_221_908_f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.1) - 9.513_507_698_668_732_f64.ln()).abs() < 1e-13);
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

    /// Wilson's interval against textbook values (Newcombe 1998, table I: 81/263 → 0.2553–0.3662; 0/10 →
    /// 0–0.2775), and never outside [0, 1].
    #[test]
    fn wilson_matches_newcombe() {
        let (lo, hi) = wilson(81.0 / 263.0, 263.0, Z_975);
        assert!(
            (lo - 0.2553).abs() < 1e-4 && (hi - 0.3662).abs() < 1e-4,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0.0, 10.0, Z_975);
        assert!(lo == 0.0 && (hi - 0.2775).abs() < 1e-4, "{lo} {hi}");
        let (lo, hi) = wilson(1.0, 10.0, Z_975);
        assert!(hi == 1.0 && (lo - 0.7225).abs() < 1e-4, "{lo} {hi}");
    }

    /// Issue 9 item 6: a stale rate of 0 in every replication is not a certain 0, and a small positive rate
    /// never gets a negative lower bound (the Student-t interval gave −0.000622).
    #[test]
    fn proportion_intervals_stay_in_the_unit_interval() {
        let (lo, hi) = proportion_interval(&[0.0; 5], 1_000).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 3.841_5 / 1_003.841_5).abs() < 1e-6, "{hi}");
        assert!(all_equal(&[0.0; 5]) && !all_equal(&[0.0, 1e-9]) && !all_equal(&[0.0]));
        // One stale block in one replication of five, 1,000 blocks each: Student t goes below zero.
        let xs = [0.0, 0.0, 0.001, 0.0, 0.0];
        let t = estimate(&xs).unwrap();
        assert!(t.lo().unwrap() < 0.0);
        let (lo, hi) = proportion_interval(&xs, 5_000).unwrap();
        assert!(
            (0.0..0.0002).contains(&lo) && hi > 0.0002 && hi < 0.01,
            "{lo} {hi}"
        );
        assert_eq!(proportion_interval(&[0.3], 100), None);
        assert_eq!(proportion_interval(&[0.3, 0.4], 0), None);
    }

    /// Coverage of the replicated Wilson interval: replications of 200 trials whose success probability itself
    /// varies between replications (overdispersion, as payments sharing one queue): about 95%, where a pooled
    /// binomial interval would undercover.
    #[test]
    fn proportion_intervals_cover_about_95_percent() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let (sims, reps, trials) = (2000, 8, 200);
        let mut covered = 0;
        for _ in 0..sims {
            let xs: Vec<f64> = (0..reps)
                .map(|_| {
                    let p = 0.02 + 0.06 * rng.random::<f64>(); // mean 0.05
                    (0..trials).filter(|_| rng.random::<f64>() < p).count() as f64 / trials as f64
                })
                .collect();
            let (lo, hi) = proportion_interval(&xs, (reps * trials) as u64).unwrap();
            assert!((0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi));
            if lo <= 0.05 && 0.05 <= hi {
                covered += 1;
            }
        }
        let share = covered as f64 / sims as f64;
        println!("replicated Wilson coverage: {share:.4} of {sims}");
        assert!((0.93..0.975).contains(&share), "coverage {share}");
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
