//! Byte-level field formatting for the streamed payment rows: integers, exact minor units, seconds with three
//! decimals and ISO 8601 timestamps written straight into one reused buffer. A large run writes millions of rows;
//! going through `format!`, chrono's `strftime` and a `Vec<String>` per row cost more than simulating them. Each
//! function renders exactly what its general counterpart does (`units::format_minor`, `csv_out::fixed`,
//! `csv_out::iso`); the tests below compare them over wide ranges.

use chrono::{DateTime, Datelike, Utc};

use crate::units::POW10;

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

/// A row being rendered, reused from row to row. Its buffer always has `SLACK` bytes of room past the end of
/// the row, so that a number is written in place with fixed-size copies: no bounds to grow and no `memcpy`
/// call per field (a row has about fifty fields, and a large run writes millions of rows).
#[derive(Clone, Debug)]
pub struct Row {
    buf: Vec<u8>,
    len: usize,
}

/// Room kept past the end of a row: enough for any one number (20 digits, a sign, a point and 18 decimals).
const SLACK: usize = 64;

impl Default for Row {
    fn default() -> Row {
        Row {
            buf: vec![0; 512 + SLACK],
            len: 0,
        }
    }
}

impl Row {
    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The `SLACK` bytes past the end, to write into before `advance`.
    #[inline]
    fn tail(&mut self) -> &mut [u8; SLACK] {
        if self.len + SLACK > self.buf.len() {
            self.grow(SLACK);
        }
        (&mut self.buf[self.len..self.len + SLACK])
            .try_into()
            .expect("SLACK bytes")
    }

    #[inline]
    fn advance(&mut self, n: usize) {
        self.len += n;
    }

    #[cold]
    fn grow(&mut self, extra: usize) {
        let want = (self.len + extra + SLACK).max(2 * self.buf.len());
        self.buf.resize(want, 0);
    }

    #[inline]
    pub fn push(&mut self, b: u8) {
        self.tail()[0] = b;
        self.advance(1);
    }

    pub fn extend_from_slice(&mut self, s: &[u8]) {
        if self.len + s.len() + SLACK > self.buf.len() {
            self.grow(s.len());
        }
        self.buf[self.len..self.len + s.len()].copy_from_slice(s);
        self.advance(s.len());
    }
}

/// The number of decimal digits of `n` (1 for 0), from its bit length: ⌊bits·log10(2)⌋ (1233/4096 is log10(2)
/// to within 2^-13, exact enough for 64 bits) is the count or one less, and one comparison settles which.
#[inline]
fn digit_count(n: u64) -> usize {
    let n = n | 1; // 0 has one digit, as 1 has
    let bits = 64 - n.leading_zeros() as usize;
    let t = (bits * 1233) >> 12;
    t + usize::from(n >= POW10[t])
}

/// Writes the `width` lowest decimal digits of `n` into `out[..width]`, two per division (`width` <= 20).
#[inline]
fn put_digits(out: &mut [u8], mut n: u64, width: usize) {
    let mut i = width;
    while i >= 2 {
        let r = (n % 100) as usize;
        n /= 100;
        i -= 2;
        out[i] = PAIRS[2 * r];
        out[i + 1] = PAIRS[2 * r + 1];
    }
    if i == 1 {
        out[0] = b'0' + (n % 10) as u8;
    }
}

/// Writes `whole`, a point and `frac` as `decimals` digits at `out[at..]` (`decimals` >= 1, 20 + 1 + 19 bytes
/// at most); returns where it ends.
#[inline]
fn put_decimal(out: &mut [u8; SLACK], at: usize, whole: u64, frac: u64, decimals: usize) -> usize {
    let width = digit_count(whole);
    put_digits(&mut out[at..], whole, width);
    out[at + width] = b'.';
    put_digits(&mut out[at + width + 1..], frac, decimals);
    at + width + 1 + decimals
}

/// Appends the decimal digits of `n`.
#[inline]
pub fn push_u64(out: &mut Row, n: u64) {
    let width = digit_count(n);
    put_digits(out.tail(), n, width);
    out.advance(width);
}

/// Appends `n` as exactly `width` digits, zero-padded (`n` < 10^width, `width` <= 20).
#[inline]
fn push_padded(out: &mut Row, n: u64, width: usize) {
    put_digits(out.tail(), n, width);
    out.advance(width);
}

/// Exact decimal rendering of minor units with `exponent` decimals, as `units::format_minor`.
pub fn push_minor(out: &mut Row, minor: i64, exponent: u8) {
    let abs = minor.unsigned_abs();
    let (whole, frac) = match exponent {
        0 => {
            if minor < 0 {
                out.push(b'-');
            }
            return push_u64(out, abs);
        }
        // Cents, the common case, by a constant: a multiplication, not a division.
        2 => (abs / 100, abs % 100),
        e => (abs / POW10[e as usize], abs % POW10[e as usize]),
    };
    // The sign, whole units, point and fraction in one place: a row has a dozen of these, most of them "0.00".
    let sign = usize::from(minor < 0);
    let t = out.tail();
    t[0] = b'-'; // kept only when negative: the digits start after it or over it
    let end = put_decimal(t, sign, whole, frac, exponent as usize);
    out.advance(end);
}

/// Microseconds as seconds with three decimals, as `fixed(us as f64 / 1e6, 3)`: exact integer rounding, except
/// at a tie (a remainder of exactly 500 µs) where the float's binary value decides, so the float path is kept.
pub fn push_secs3(out: &mut Row, us: u64) {
    let (ms, rest) = (us / 1000, us % 1000);
    if rest == 500 || us >= 1 << 52 {
        out.extend_from_slice(format!("{:.3}", us as f64 / 1e6).as_bytes());
        return;
    }
    // Away from a tie the float's error (< 1 ulp) cannot cross the rounding boundary, which is 1 µs away or more.
    let ms = ms + u64::from(rest > 500);
    let end = put_decimal(out.tail(), 0, ms / 1000, ms % 1000, 3);
    out.advance(end);
}

/// A float with fixed decimals, as `csv_out::fixed` (NaN and infinities are an empty field).
pub fn push_fixed(out: &mut Row, x: f64, decimals: usize) {
    if x.is_finite() && !push_fixed_exact(out, x, decimals) {
        out.extend_from_slice(format!("{x:.decimals$}").as_bytes());
    }
}

/// `{x:.decimals$}` in integer arithmetic for the common case (x ≥ +0, at most 9 decimals, below 2^64 in
/// units of the last decimal): x is exactly m·2^e, so x·10^d = m·10^d·2^e is rounded to the nearest integer
/// exactly. Writes nothing and returns false otherwise, and on an exact tie, which the general formatter settles.
fn push_fixed_exact(out: &mut Row, x: f64, decimals: usize) -> bool {
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

    pub fn push(&mut self, out: &mut Row, t_us: u64) {
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
        let (s, milli) = (in_day / 1000, in_day % 1000);
        // `YYYY-MM-DDT` `HH:MM:SS.mmmZ`, 24 bytes written in place.
        let t = out.tail();
        t[..11].copy_from_slice(&self.prefix);
        for (at, v) in [(11, s / 3600), (14, s / 60 % 60), (17, s % 60)] {
            t[at] = PAIRS[2 * v as usize];
            t[at + 1] = PAIRS[2 * v as usize + 1];
        }
        t[13] = b':';
        t[16] = b':';
        t[19] = b'.';
        t[20] = b'0' + (milli / 100) as u8;
        t[21] = PAIRS[2 * (milli % 100) as usize];
        t[22] = PAIRS[2 * (milli % 100) as usize + 1];
        t[23] = b'Z';
        out.advance(24);
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
        let mut p = Row::default();
        push_padded(&mut p, date.year() as u64, 4);
        p.push(b'-');
        push_padded(&mut p, date.month() as u64, 2);
        p.push(b'-');
        push_padded(&mut p, date.day() as u64, 2);
        p.push(b'T');
        self.prefix.copy_from_slice(p.as_bytes());
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
            assert_eq!(text(|o| push_u64(o, n)), n.to_string());
        }
        for v in floats {
            for d in [0, 1, 2, 3, 6, 9, 12] {
                let got = text(|o| push_fixed(o, v, d));
                let want = if v.is_finite() {
                    format!("{v:.d$}")
                } else {
                    String::new()
                };
                assert_eq!(got, want, "{v:e} with {d} decimals");
            }
        }
    }

    #[test]
    fn digit_counts_match_the_decimal_length() {
        let mut edges = vec![0, u64::MAX];
        for p in POW10 {
            edges.extend([p - 1, p, p + 1]);
        }
        for n in edges.into_iter().chain(samples()) {
            assert_eq!(digit_count(n), n.to_string().len(), "{n}");
        }
    }

    fn text(f: impl FnOnce(&mut Row)) -> String {
        let mut row = Row::default();
        f(&mut row);
        String::from_utf8(row.as_bytes().to_vec()).expect("ASCII")
    }

    /// One row that grows far past its first buffer, fields written at every offset against the buffer's end:
    /// the same bytes as the general renderings, concatenated.
    #[test]
    fn a_long_row_grows_and_keeps_every_field() {
        let start = DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
            .expect("date")
            .with_timezone(&Utc);
        let mut clock = IsoClock::new(start);
        let mut row = Row::default();
        let mut want = String::new();
        for round in 0..3 {
            row.clear();
            want.clear();
            for (i, n) in samples().into_iter().take(3_000).enumerate() {
                let name = "x".repeat(i % 97);
                row.extend_from_slice(name.as_bytes());
                want.push_str(&name);
                push_u64(&mut row, n);
                want.push_str(&n.to_string());
                row.push(b',');
                want.push(',');
                push_minor(&mut row, -(n as i64 >> 1), (i % 19) as u8);
                want.push_str(&format_minor(-(n as i64 >> 1), (i % 19) as u8));
                push_secs3(&mut row, n >> 12);
                want.push_str(&fixed((n >> 12) as f64 / 1e6, 3));
                clock.push(&mut row, n >> 14);
                want.push_str(&iso(start, n >> 14));
            }
            assert_eq!(row.as_bytes(), want.as_bytes(), "round {round}");
        }
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
