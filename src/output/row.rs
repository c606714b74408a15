//! Byte-level field formatting for the streamed payment rows: integers, exact minor units, seconds with three
//! decimals and ISO 8601 timestamps written straight into one reused buffer. A large run writes millions of rows;
//! going through `format!`, chrono's `strftime` and a `Vec<String>` per row cost more than simulating them. Each
//! function renders exactly what its general counterpart does (`units::format_minor`, `csv_out::fixed`,
//! `csv_out::iso`); the tests below compare them over wide ranges.

use std::io::Write;

use chrono::{DateTime, Datelike, Utc};

/// "00" to "99": two digits per division.
const PAIRS: [u8; 200] = {
    let mut p = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        p[2 * i] = b'0' + (i / 10) as u8;
        p[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    p
};

/// Appends the decimal digits of `n`.
pub fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    while n >= 100 {
        let r = (n % 100) as usize;
        n /= 100;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&PAIRS[2 * r..2 * r + 2]);
    }
    if n >= 10 {
        i -= 2;
        digits[i..i + 2].copy_from_slice(&PAIRS[2 * n as usize..2 * n as usize + 2]);
    } else {
        i -= 1;
        digits[i] = b'0' + n as u8;
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `n` as exactly `width` digits, zero-padded (`n` < 10^width).
fn push_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut n = n;
    for d in digits[..width].iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits[..width]);
}

/// Exact decimal rendering of minor units with `exponent` decimals, as `units::format_minor`.
pub fn push_minor(out: &mut Vec<u8>, minor: i64, exponent: u8) {
    if minor < 0 {
        out.push(b'-');
    }
    let abs = minor.unsigned_abs();
    if exponent == 0 {
        push_u64(out, abs);
        return;
    }
    let scale = 10_u64.pow(exponent as u32);
    push_u64(out, abs / scale);
    out.push(b'.');
    push_padded(out, abs % scale, exponent as usize);
}

/// Microseconds as seconds with three decimals, as `fixed(us as f64 / 1e6, 3)`: exact integer rounding, except
/// at a tie (a remainder of exactly 500 µs) where the float's binary value decides, so the float path is kept.
pub fn push_secs3(out: &mut Vec<u8>, us: u64) {
    let (ms, rest) = (us / 1000, us % 1000);
    if rest == 500 || us >= 1 << 52 {
        write!(out, "{:.3}", us as f64 / 1e6).expect("writing to a Vec");
        return;
    }
    // Away from a tie the float's error (< 1 ulp) cannot cross the rounding boundary, which is 1 µs away or more.
    let ms = ms + u64::from(rest > 500);
    push_u64(out, ms / 1000);
    out.push(b'.');
    push_padded(out, ms % 1000, 3);
}

/// A float with fixed decimals, as `csv_out::fixed` (NaN and infinities are an empty field).
pub fn push_fixed(out: &mut Vec<u8>, x: f64, decimals: usize) {
    if x.is_finite() && !push_fixed_exact(out, x, decimals) {
        write!(out, "{x:.decimals$}").expect("writing to a Vec");
    }
}

/// `{x:.decimals$}` in integer arithmetic for the common case (x ≥ +0, at most 9 decimals, below 2^64 in
/// units of the last decimal): x is exactly m·2^e, so x·10^d = m·10^d·2^e is rounded to the nearest integer
/// exactly. Writes nothing and returns false otherwise, and on an exact tie, which the general formatter settles.
fn push_fixed_exact(out: &mut Vec<u8>, x: f64, decimals: usize) -> bool {
    if decimals > 9 || x.is_sign_negative() {
        return false;
    }
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = u128::from(bits & ((1 << 52) - 1));
    let (m, e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased - 1075)
    };
    let scale = 10_u128.pow(decimals as u32);
    let q = if e >= 0 {
        if e > 40 {
            return false;
        }
        (m * scale) << e
    } else {
        let s = (-e) as u32;
        if s > 120 {
            return false;
        }
        let v = m * scale;
        let (whole, rest, half) = (v >> s, v & ((1 << s) - 1), 1_u128 << (s - 1));
        if rest == half {
            return false;
        }
        whole + u128::from(rest > half)
    };
    let Ok(units) = u64::try_from(q / scale) else {
        return false;
    };
    push_u64(out, units);
    if decimals > 0 {
        out.push(b'.');
        push_padded(out, (q % scale) as u64, decimals);
    }
    true
}

/// ISO 8601 UTC timestamps of simulated time to the millisecond, as `csv_out::iso`, with the date part cached
/// (consecutive rows mostly fall on the same day).
#[derive(Clone, Debug)]
pub struct IsoClock {
    start: DateTime<Utc>,
    /// The start in microseconds since the Unix epoch.
    start_us: i64,
    /// The day (since the epoch) whose `YYYY-MM-DDT` prefix is cached.
    day: i64,
    prefix: [u8; 11],
}

impl IsoClock {
    pub fn new(start: DateTime<Utc>) -> IsoClock {
        IsoClock {
            start,
            start_us: start.timestamp_micros(),
            day: i64::MIN,
            prefix: [0; 11],
        }
    }

    pub fn push(&mut self, out: &mut Vec<u8>, t_us: u64) {
        let Some(us) = i64::try_from(t_us)
            .ok()
            .and_then(|t| t.checked_add(self.start_us))
        else {
            out.extend_from_slice(super::csv_out::iso(self.start, t_us).as_bytes());
            return;
        };
        // chrono truncates sub-millisecond digits (`%.3f`): floor to the millisecond.
        let ms = us.div_euclid(1000);
        let day = ms.div_euclid(86_400_000);
        if day != self.day && !self.cache_day(day) {
            out.extend_from_slice(super::csv_out::iso(self.start, t_us).as_bytes());
            return;
        }
        let in_day = ms.rem_euclid(86_400_000) as u64;
        out.extend_from_slice(&self.prefix);
        let (s, milli) = (in_day / 1000, in_day % 1000);
        push_padded(out, s / 3600, 2);
        out.push(b':');
        push_padded(out, s / 60 % 60, 2);
        out.push(b':');
        push_padded(out, s % 60, 2);
        out.push(b'.');
        push_padded(out, milli, 3);
        out.push(b'Z');
    }

    /// Caches the date prefix of `day`; false for a year chrono writes with a sign (outside 0000–9999).
    fn cache_day(&mut self, day: i64) -> bool {
        let Some(date) = i32::try_from(day)
            .ok()
            .and_then(|d| d.checked_add(719_163))
            .and_then(chrono::NaiveDate::from_num_days_from_ce_opt)
        else {
            return false;
        };
        if !(0..=9999).contains(&date.year()) {
            return false;
        }
        let mut p = Vec::with_capacity(11);
        push_padded(&mut p, date.year() as u64, 4);
        p.push(b'-');
        push_padded(&mut p, date.month() as u64, 2);
        p.push(b'-');
        push_padded(&mut p, date.day() as u64, 2);
        p.push(b'T');
        self.prefix.copy_from_slice(&p);
        self.day = day;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::csv_out::{fixed, iso};
    use crate::units::format_minor;

    #[test]
    fn push_u64_and_push_fixed_render_as_format_does() {
        let mut x = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut ints = vec![
            0,
            1,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            u64::MAX,
            u64::MAX / 10,
        ];
        let mut floats = vec![
            0.0, -0.0, 0.005, 0.015, 0.125, 0.375, 2.5, 1e-300, 5e-324, 1e15, 1.8e19, 1e22, -1.5,
            123.455,
        ];
        for _ in 0..200_000 {
            let r = next();
            ints.extend([r, r >> (r % 64), r % 1000]);
            floats.extend([
                f64::from_bits(r >> 1),
                (r % 10_000_000) as f64 / 1000.0,
                (r % 100_000) as f64 / 100.0 + 0.005,
                (r >> 11) as f64 / (1u64 << 40) as f64,
                ((r % 2_000_000) as f64 - 1e6) / 7.0,
            ]);
        }
        for n in ints {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
        for v in floats {
            for d in [0, 1, 2, 3, 6, 9, 12] {
                let mut out = Vec::new();
                push_fixed(&mut out, v, d);
                let want = if v.is_finite() {
                    format!("{v:.d$}")
                } else {
                    String::new()
                };
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    want,
                    "{v:e} with {d} decimals"
                );
            }
        }
    }

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).expect("ASCII")
    }

    /// A deterministic spread of values: small, around powers of ten and ties, and large.
    fn samples() -> Vec<u64> {
        let mut v: Vec<u64> = (0..5_000).collect();
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.push(x >> (x % 40));
        }
        for p in 3..19 {
            let t = 10u64.pow(p);
            v.extend([t - 1, t, t + 1, t + 500, t - 500, t + 499, t + 501]);
        }
        v
    }

    #[test]
    fn minor_units_match_format_minor() {
        for n in samples() {
            for e in [0, 2, 3, 8, 18] {
                for m in [n as i64, (n as i64).wrapping_neg()] {
                    assert_eq!(
                        text(|o| push_minor(o, m, e)),
                        format_minor(m, e),
                        "{m} e{e}"
                    );
                }
            }
        }
        assert_eq!(
            text(|o| push_minor(o, i64::MIN, 2)),
            format_minor(i64::MIN, 2)
        );
    }

    #[test]
    fn seconds_match_the_float_rendering_including_ties() {
        for us in samples() {
            let us = us % (1 << 53);
            assert_eq!(
                text(|o| push_secs3(o, us)),
                fixed(us as f64 / 1e6, 3),
                "{us}"
            );
        }
    }

    #[test]
    fn timestamps_match_chrono() {
        let start = DateTime::parse_from_rfc3339("2026-03-02T00:00:00.250Z")
            .expect("date")
            .with_timezone(&Utc);
        let mut clock = IsoClock::new(start);
        for t in samples() {
            let t = t % (400 * 365 * 86_400_000_000);
            assert_eq!(text(|o| clock.push(o, t)), iso(start, t), "{t}");
        }
    }
}
