//! Units of the simulation: simulated time, durations written by people ("2h", "1d12h"), currencies with their
//! ISO 4217 exponents, and exact money amounts in integer minor units. Nothing here uses `f64` for money: a float
//! only appears when a person writes a decimal in a scenario file, and it is rounded once, explicitly, to minor units.

use std::fmt;

/// Simulated time is a `u64` of microseconds since the scenario's start instant (UTC), never read from a clock.
pub const US_PER_S: u64 = 1_000_000;
pub const US_PER_MIN: u64 = 60 * US_PER_S;
pub const US_PER_HOUR: u64 = 60 * US_PER_MIN;
pub const US_PER_DAY: u64 = 24 * US_PER_HOUR;

/// 10^e for e in 0..=19 (every power of ten in u64): minor-unit scales and decimal rendering.
pub const POW10: [u64; 20] = {
    let mut p = [1_u64; 20];
    let mut i = 1;
    while i < 20 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// Parses a duration such as `"90s"`, `"2h"`, `"1d12h"`, `"1.5h"`, `"500ms"`, `"250us"`, `"2w"` into microseconds.
/// Every component needs a unit; components add up. Returns a message suitable for an error line.
pub fn parse_duration_us(text: &str) -> Result<u64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration (write e.g. \"30s\", \"2h\", \"1d12h\")".into());
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!(
                "bad duration {text:?}: expected a number at {rest:?}"
            ));
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| {
            format!(
                "bad duration {text:?}: {:?} is not a number",
                &rest[..num_len]
            )
        })?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].trim();
        rest = rest[unit_len..].trim_start();
        let scale = match unit {
            "us" | "µs" => 1.0,
            "ms" => 1e3,
            "s" | "sec" => 1e6,
            "m" | "min" => 60e6,
            "h" | "hr" => 3600e6,
            "d" | "day" | "days" => 86_400e6,
            "w" | "week" | "weeks" => 604_800e6,
            "" => {
                return Err(format!(
                    "bad duration {text:?}: a unit is required (us, ms, s, m, h, d, w)"
                ));
            }
            other => {
                return Err(format!(
                    "bad duration {text:?}: unknown unit {other:?} (use us, ms, s, m, h, d, w)"
                ));
            }
        };
        total += value * scale;
    }
    if !total.is_finite() || total > 1e18 {
        return Err(format!("bad duration {text:?}: too large"));
    }
    Ok(total.round() as u64)
}

/// Human units for terminal output: `850ms`, `42s`, `12.5min`, `3.2h`, `2.1d`.
pub fn human_duration_s(secs: f64) -> String {
    if !secs.is_finite() {
        return "-".into();
    }
    if secs < 1.0 {
        format!("{:.0}ms", secs * 1e3)
    } else if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3600.0 {
        format!("{:.1}min", secs / 60.0)
    } else if secs < 86_400.0 {
        format!("{:.1}h", secs / 3600.0)
    } else {
        format!("{:.1}d", secs / 86_400.0)
    }
}

/// A currency known to settlesim, with its ISO 4217 minor-unit exponent, or a crypto asset (a stablecoin, a
/// chain's native coin) with the decimals of its smallest unit. Codes are up to 8 ASCII characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency {
    pub code: [u8; 8],
    pub exponent: u8,
}

/// ISO 4217 exponents for the currencies scenarios use. Exponents differ (JPY 0, KWD 3), so amounts are always
/// converted through this table, never by assuming cents.
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("GHS", 2),
    ("HKD", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("JPY", 0),
    ("KES", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("PEN", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TRY", 2),
    ("UGX", 0),
    ("USD", 2),
    ("VND", 0),
    ("XOF", 0),
    ("ZAR", 2),
];

impl Currency {
    pub fn from_code(code: &str) -> Option<Currency> {
        ISO_4217
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(c, exponent)| Currency::asset(c, exponent).expect("ISO codes are short"))
    }
    /// A crypto asset (or any unit) with `decimals` digits in its smallest unit; None if the code is not 1 to 8
    /// ASCII alphanumerics.
    pub fn asset(code: &str, decimals: u8) -> Option<Currency> {
        if code.is_empty()
            || code.len() > 8
            || !code.bytes().all(|b| b.is_ascii_alphanumeric())
            || decimals > 18
        {
            return None;
        }
        let mut bytes = [0_u8; 8];
        bytes[..code.len()].copy_from_slice(code.as_bytes());
        Some(Currency {
            code: bytes,
            exponent: decimals,
        })
    }
    pub fn code(&self) -> &str {
        let n = self.code.iter().position(|&b| b == 0).unwrap_or(8);
        std::str::from_utf8(&self.code[..n]).unwrap_or("???")
    }
    /// 10^exponent: minor units per major unit.
    pub fn scale(&self) -> i64 {
        10_i64.pow(self.exponent.min(18) as u32)
    }
    pub fn usd() -> Currency {
        Currency::from_code("USD").expect("USD is in the table")
    }
    /// Rounds a decimal written by a person (e.g. a fee of 12.5) to minor units, half away from zero.
    pub fn minor_from_major_f64(&self, major: f64) -> i64 {
        (major * self.scale() as f64).round() as i64
    }
    /// Exact decimal rendering of minor units: `1234.50` for USD, `1234` for JPY.
    pub fn format_minor(&self, minor: i64) -> String {
        format_minor(minor, self.exponent)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Exact decimal rendering of an integer amount with `exponent` decimals.
pub fn format_minor(minor: i64, exponent: u8) -> String {
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10_u64.pow(exponent as u32);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = exponent as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration_us("30s"), Ok(30 * US_PER_S));
        assert_eq!(parse_duration_us("2h"), Ok(2 * US_PER_HOUR));
        assert_eq!(parse_duration_us("1d12h"), Ok(36 * US_PER_HOUR));
        assert_eq!(parse_duration_us("1.5h"), Ok(90 * US_PER_MIN));
        assert_eq!(parse_duration_us("500ms"), Ok(500_000));
        assert_eq!(parse_duration_us("2w"), Ok(14 * US_PER_DAY));
        assert!(
            parse_duration_us("30")
                .unwrap_err()
                .contains("unit is required")
        );
        assert!(
            parse_duration_us("3 fortnights")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration_us("").is_err());
        assert!(parse_duration_us("h").is_err());
    }

    #[test]
    fn currencies_have_iso_exponents() {
        assert_eq!(Currency::from_code("JPY").unwrap().exponent, 0);
        assert_eq!(Currency::from_code("KWD").unwrap().exponent, 3);
        assert_eq!(Currency::from_code("USD").unwrap().scale(), 100);
        assert!(Currency::from_code("XXX").is_none());
    }

    #[test]
    fn minor_units_format_exactly() {
        assert_eq!(format_minor(123_450, 2), "1234.50");
        assert_eq!(format_minor(-5, 2), "-0.05");
        assert_eq!(format_minor(7, 0), "7");
        assert_eq!(format_minor(1, 3), "0.001");
    }

    #[test]
    fn human_units_pick_a_scale() {
        assert_eq!(human_duration_s(0.25), "250ms");
        assert_eq!(human_duration_s(42.0), "42.0s");
        assert_eq!(human_duration_s(3.0 * 3600.0), "3.0h");
        assert_eq!(human_duration_s(2.5 * 86_400.0), "2.5d");
    }
}
