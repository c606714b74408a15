//! Foreign exchange: a mid rate per currency against USD that follows the currency's intraday price process
//! (`model::price`: geometric Brownian motion at per-second resolution, optional jumps, a peg deviation for
//! stablecoins), and exact conversion of minor units in fixed point. A rate is the price path's value at that
//! second rounded once to fixed point (floats are fine there: they only set the path); every conversion is
//! integer arithmetic on `i128` with explicit rounding, so money stays exact and reproducible.

use std::cell::RefCell;

use crate::model::price::{PricePath, PriceSpec};
use crate::units::{Currency, US_PER_DAY, US_PER_S};

/// Fixed-point scale of a rate: 10^12.
pub const RATE_ONE: i128 = 1_000_000_000_000;

/// Index into `FxTable::currencies`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CurId(pub u16);

#[derive(Clone, Debug)]
pub struct FxTable {
    pub currencies: Vec<Currency>,
    rates: Vec<Rate>,
    /// Fixed-point rates of moving currencies already computed, direct-mapped by (currency, second): a rate is a
    /// pure function of the second, so this changes no answer, only the cost of asking again (a payment values
    /// the same second several times: conversion, fees, spread, price move).
    memo: RefCell<Vec<(u64, i128)>>,
}

/// Seconds remembered per currency in `FxTable::memo`.
const MEMO_SECONDS: usize = 256;

/// One currency's mid against USD: fixed, or its price path.
#[derive(Clone, Debug)]
enum Rate {
    Fixed(i128),
    /// Boxed: a path holds its grids and two ChaCha states (about 1 KB), a fixed rate 16 bytes.
    Path(Box<PricePath>),
}

/// How to build one currency's path: its opening mid against USD and its price process (whose `value_usd`
/// is `1 / per_usd`).
pub struct RateSpec {
    pub currency: Currency,
    pub per_usd: f64,
    pub process: PriceSpec,
}

impl RateSpec {
    /// A currency whose rate never moves.
    pub fn fixed(currency: Currency, per_usd: f64) -> RateSpec {
        RateSpec {
            currency,
            per_usd,
            process: PriceSpec::default(),
        }
    }
}

impl FxTable {
    /// `specs` must include USD (per_usd = 1, no process). `days` is the number of simulated days to cover; the
    /// path of currency `C` is the stream family `fx/C` (see `PricePath::build`).
    pub fn build(specs: &[RateSpec], days: usize, seed: u64) -> FxTable {
        let horizon_s = days.max(1) as u64 * (US_PER_DAY / US_PER_S);
        let rates: Vec<Rate> = specs
            .iter()
            .map(|spec| {
                let process = PriceSpec {
                    value_usd: 1.0 / spec.per_usd,
                    ..spec.process
                };
                if process.moves() {
                    let label = format!("fx/{}", spec.currency.code());
                    Rate::Path(Box::new(PricePath::build(
                        &process, horizon_s, seed, &label,
                    )))
                } else {
                    Rate::Fixed(to_fixed(spec.per_usd.ln()))
                }
            })
            .collect();
        FxTable {
            currencies: specs.iter().map(|s| s.currency).collect(),
            memo: RefCell::new(vec![(u64::MAX, 0); rates.len() * MEMO_SECONDS]),
            rates,
        }
    }

    pub fn find(&self, c: Currency) -> Option<CurId> {
        self.currencies
            .iter()
            .position(|&x| x == c)
            .map(|i| CurId(i as u16))
    }

    pub fn currency(&self, id: CurId) -> Currency {
        self.currencies[id.0 as usize]
    }

    /// Units of `c` per USD at time `t_us`, times `RATE_ONE`.
    fn rate(&self, c: CurId, t_us: u64) -> i128 {
        match &self.rates[c.0 as usize] {
            Rate::Fixed(r) => *r,
            Rate::Path(p) => {
                let s = t_us / US_PER_S;
                let mut memo = self.memo.borrow_mut();
                let e = &mut memo[c.0 as usize * MEMO_SECONDS + s as usize % MEMO_SECONDS];
                if e.0 != s {
                    *e = (s, to_fixed(-p.log_value(s)));
                }
                e.1
            }
        }
    }

    /// Whether the rate of `c` moves.
    pub fn moves(&self, c: CurId) -> bool {
        matches!(self.rates[c.0 as usize], Rate::Path(_))
    }

    /// The price path of `c`, if its rate moves (for tests and reports).
    pub fn path(&self, c: CurId) -> Option<&PricePath> {
        match &self.rates[c.0 as usize] {
            Rate::Fixed(_) => None,
            Rate::Path(p) => Some(p),
        }
    }

    /// Mid rate as a float, for reports only.
    pub fn mid_f64(&self, from: CurId, to: CurId, t_us: u64) -> f64 {
        self.rate(to, t_us) as f64 / self.rate(from, t_us) as f64
    }

    /// Converts `minor` units of `from` into `to` at the mid rate less `spread_bps` (in hundredths of a bp, so
    /// 150 bps = 15_000), rounding down: the converting bank keeps the fraction, as banks do.
    pub fn convert(
        &self,
        minor: i64,
        from: CurId,
        to: CurId,
        t_us: u64,
        spread_centi_bps: i64,
    ) -> i64 {
        self.convert_at(minor, from, t_us, to, t_us, spread_centi_bps)
    }

    /// `convert` with `from` valued at time `from_us` and `to` at `to_us`: an asset sold now at the price it
    /// was bought for (the reference against which its price move is measured).
    pub fn convert_at(
        &self,
        minor: i64,
        from: CurId,
        from_us: u64,
        to: CurId,
        to_us: u64,
        spread_centi_bps: i64,
    ) -> i64 {
        if from == to && from_us == to_us && spread_centi_bps == 0 {
            return minor;
        }
        let cf = self.currency(from);
        let ct = self.currency(to);
        let (rate_to, scale_to) = (self.rate(to, to_us), pow10(ct.exponent));
        let keep = 1_000_000 - spread_centi_bps as i128;
        let num = if bit_len(minor as i128) + bit_len(rate_to) + bit_len(scale_to) + bit_len(keep)
            <= 126
        {
            // Below 2^126 in magnitude: no product can overflow, so none is checked.
            Some(minor as i128 * rate_to * scale_to * keep)
        } else {
            (minor as i128)
                .checked_mul(rate_to)
                .and_then(|x| x.checked_mul(scale_to))
                .and_then(|x| x.checked_mul(keep))
        };
        let den = self.rate(from, from_us) * pow10(cf.exponent) * 1_000_000;
        match num {
            Some(num) => saturate(num.div_euclid(den)),
            // Beyond i128 only for amounts far past any validated bound: saturate, never wrap.
            None => saturate_sign(minor),
        }
    }

    /// Value of `minor` units of `c` in USD cents at mid, rounded half away from zero (for cost reporting).
    pub fn usd_cents(&self, minor: i64, c: CurId, t_us: u64) -> i64 {
        let usd = CurId(0);
        debug_assert_eq!(self.currency(usd), Currency::usd());
        let cf = self.currency(c);
        let num = minor as i128 * RATE_ONE * 100;
        let den = self.rate(c, t_us) * pow10(cf.exponent);
        saturate(round_div(num, den))
    }

    /// A USD amount written by a person (e.g. a $25 fee), in minor units of `c` at the mid rate of time t.
    pub fn from_usd(&self, usd: f64, c: CurId, t_us: u64) -> i64 {
        let cents = (usd * 100.0).round() as i64;
        let ct = self.currency(c);
        match (cents as i128)
            .checked_mul(self.rate(c, t_us))
            .and_then(|x| x.checked_mul(pow10(ct.exponent)))
        {
            Some(num) => saturate(round_div(num, RATE_ONE * 100)),
            None => saturate_sign(cents),
        }
    }
}

/// 10^e for a minor-unit exponent: ISO 4217 goes to 3 and validation caps an asset at 12 decimals (the table
/// goes to 19).
fn pow10(e: u8) -> i128 {
    i128::from(crate::units::POW10[e as usize])
}

/// The number of bits of |x|: |x| < 2^bit_len(x).
fn bit_len(x: i128) -> u32 {
    128 - x.unsigned_abs().leading_zeros()
}

/// An i128 result as i64, clamped (never wrapped) at the ends of the range.
fn saturate(x: i128) -> i64 {
    x.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// The saturated value with the sign of `x`, for a product that left i128.
fn saturate_sign(x: i64) -> i64 {
    if x < 0 { i64::MIN } else { i64::MAX }
}

/// Integer division rounding half away from zero.
fn round_div(num: i128, den: i128) -> i128 {
    debug_assert!(den > 0);
    if num >= 0 {
        (num + den / 2) / den
    } else {
        -((-num + den / 2) / den)
    }
}

/// A log rate (units per USD) in fixed point, at least one unit of the last place.
fn to_fixed(log_per_usd: f64) -> i128 {
    ((log_per_usd.exp() * RATE_ONE as f64).round() as i128).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> FxTable {
        let c = |s| Currency::from_code(s).unwrap();
        FxTable::build(
            &[
                RateSpec {
                    currency: c("USD"),
                    per_usd: 1.0,
                    process: PriceSpec::default(),
                },
                RateSpec {
                    currency: c("MXN"),
                    per_usd: 17.0,
                    process: PriceSpec::default(),
                },
                RateSpec {
                    currency: c("JPY"),
                    per_usd: 150.0,
                    process: PriceSpec::default(),
                },
                RateSpec {
                    currency: c("EUR"),
                    per_usd: 0.9,
                    process: PriceSpec {
                        daily_vol: 0.005,
                        ..PriceSpec::default()
                    },
                },
            ],
            30,
            1,
        )
    }

    /// `bit_len` bounds a magnitude: |x| < 2^bit_len(x), and no smaller power does (the unchecked product in
    /// `convert_at` relies on the first; the second keeps it from falling back needlessly).
    #[test]
    fn bit_length_is_the_smallest_power_of_two_above_the_magnitude() {
        assert_eq!(bit_len(0), 0);
        for (x, bits) in [
            (1, 1),
            (-1, 1),
            (2, 2),
            (255, 8),
            (256, 9),
            (-256, 9),
            (1 << 62, 63),
        ] {
            assert_eq!(bit_len(x), bits, "{x}");
        }
        assert_eq!(bit_len(i128::MAX), 127);
        assert_eq!(bit_len(i128::MIN), 128);
        assert_eq!(bit_len(pow10(12)), 40);
    }

    #[test]
    fn converts_across_exponents_exactly() {
        let t = table();
        // 100.00 USD -> 1700.00 MXN at mid.
        assert_eq!(t.convert(10_000, CurId(0), CurId(1), 0, 0), 170_000);
        // 100.00 USD -> 15000 JPY (exponent 0).
        assert_eq!(t.convert(10_000, CurId(0), CurId(2), 0, 0), 15_000);
        // 150 bps spread: 1700 * 0.985 = 1674.50 MXN.
        assert_eq!(t.convert(10_000, CurId(0), CurId(1), 0, 15_000), 167_450);
        // Rounds down (the bank keeps the fraction): 0.01 USD = 0.17 MXN, 1 JPY = 0.0066 USD -> 0.
        assert_eq!(t.convert(1, CurId(2), CurId(0), 0, 0), 0);
    }

    /// Products beyond i128 saturate with the sign of the amount, never wrap (issue 8: money never wraps).
    #[test]
    fn overflowing_conversions_saturate_with_their_sign() {
        let t = table();
        let (usd, mxn) = (CurId(0), CurId(1));
        assert_eq!(t.convert(i64::MAX, usd, mxn, 0, 0), i64::MAX);
        assert_eq!(t.convert(-i64::MAX, usd, mxn, 0, 0), i64::MIN);
        assert_eq!(t.from_usd(1e300, mxn, 0), i64::MAX);
        assert_eq!(t.from_usd(-1e300, mxn, 0), i64::MIN);
        // Large but representable amounts stay exact.
        assert_eq!(
            t.convert(1_000_000_000_000, usd, mxn, 0, 0),
            17_000_000_000_000
        );
    }

    #[test]
    fn usd_valuation_and_fees() {
        let t = table();
        assert_eq!(t.usd_cents(170_000, CurId(1), 0), 10_000);
        assert_eq!(t.from_usd(25.0, CurId(1), 0), 42_500);
        assert_eq!(t.from_usd(25.0, CurId(2), 0), 3_750);
    }

    /// Catches `usd_cents` truncating instead of rounding half away from zero: a currency at exactly 2 per USD
    /// (exponent 2) and one at 200 per USD (exponent 0) put values on half cents.
    #[test]
    fn usd_cents_rounds_half_cents_away_from_zero() {
        let c = |s| Currency::from_code(s).unwrap();
        let spec = |code, per_usd| RateSpec {
            currency: c(code),
            per_usd,
            process: PriceSpec::default(),
        };
        let t = FxTable::build(
            &[spec("USD", 1.0), spec("ILS", 2.0), spec("JPY", 200.0)],
            2,
            1,
        );
        let (ils, jpy) = (CurId(1), CurId(2));
        // 0.01 ILS = 0.5 cent → 1; 0.03 ILS = 1.5 cents → 2; 0.04 ILS = 2 cents exactly.
        assert_eq!(t.usd_cents(1, ils, 0), 1);
        assert_eq!(t.usd_cents(3, ils, 0), 2);
        assert_eq!(t.usd_cents(4, ils, 0), 2);
        // Away from zero on the negative side too.
        assert_eq!(t.usd_cents(-1, ils, 0), -1);
        assert_eq!(t.usd_cents(-3, ils, 0), -2);
        // 1 JPY = 0.5 cent → 1; 3 JPY = 1.5 cents → 2; 5 JPY = 2.5 cents → 3.
        assert_eq!(t.usd_cents(1, jpy, 0), 1);
        assert_eq!(t.usd_cents(3, jpy, 0), 2);
        assert_eq!(t.usd_cents(5, jpy, 0), 3);
    }

    #[test]
    fn price_path_is_deterministic_and_moves_within_the_hour() {
        let a = table();
        let b = table();
        let eur = CurId(3);
        assert_eq!(
            a.convert(1_000_000, CurId(0), eur, 20 * US_PER_DAY, 0),
            b.convert(1_000_000, CurId(0), eur, 20 * US_PER_DAY, 0)
        );
        assert_ne!(a.rate(eur, 0), a.rate(eur, 20 * US_PER_DAY));
        // Issue 9: prices move within the day, not once a day.
        assert_ne!(a.rate(eur, 0), a.rate(eur, 3_600 * US_PER_S));
        assert_ne!(a.rate(eur, 3_600 * US_PER_S), a.rate(eur, 3_601 * US_PER_S));
        assert_eq!(
            a.rate(eur, 3_600 * US_PER_S),
            a.rate(eur, 3_600 * US_PER_S + 999_999)
        );
        assert_eq!(a.rate(CurId(1), 0), a.rate(CurId(1), 20 * US_PER_DAY));
    }
}
