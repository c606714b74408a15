//! Business-day calendar for settlesim: maps simulated time (`u64` microseconds since the
//! scenario's start instant) onto a payment system's operating windows. A system accepts work
//! on business days (not a weekend day, not a holiday, both judged on the *local* date) while
//! `open <= local time < cutoff`; 24/7 systems (`always_open`) accept work at every instant.
//!
//! All windows `[open, cutoff)` between the start and a horizon are precomputed once, in
//! [`Calendar::build`], as sim-time microsecond intervals. This is deliberate:
//!
//! * **Hot path.** The simulator asks "when can this payment next be accepted?" for every
//!   payment event. With precomputed windows that is a binary search over a sorted `u64` slice:
//!   no time-zone lookups, no date arithmetic, no allocation and no chance of a panic.
//! * **DST correctness.** Converting local wall-clock times to instants is where daylight-saving
//!   bugs live (a 08:00 opening is 12:00 UTC in a New York summer but 13:00 UTC in winter;
//!   some local times do not exist, others occur twice). Doing the conversion once per local
//!   date, with one explicit rule, keeps every query consistent with every other and testable.
//!
//! DST rules: an opening or cut-off time that does not exist on a date (spring-forward gap)
//! resolves to the first valid instant after it (the transition itself); one that occurs twice
//! (fall-back overlap) resolves to the earlier instant. The cut-off therefore ends the window
//! the first time the local clock reaches it. The core never reads the wall clock.

use std::fmt;

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

/// Microseconds in a 24-hour day; used only for `always_open` calendars in
/// [`Calendar::add_business_days`].
const DAY_US: u64 = 86_400_000_000;

/// How far past the horizon `build` keeps looking for a business day before giving up.
const MAX_DAYS_PAST_HORIZON: i64 = 400;

/// Validated calendar configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSpec {
    /// Time zone in which dates, opening and cut-off times are interpreted.
    pub zone: Tz,
    /// Non-business weekdays; index = [`Weekday::num_days_from_monday`].
    pub weekend: [bool; 7],
    /// Non-business local dates (any order, duplicates allowed).
    pub holidays: Vec<NaiveDate>,
    /// Local opening time (inclusive).
    pub open: NaiveTime,
    /// Local cut-off time (exclusive); must be later than `open` unless `always_open`.
    pub cutoff: NaiveTime,
    /// 24/7 system: always open; `weekend`, `holidays`, `open` and `cutoff` are ignored
    /// (and not validated).
    pub always_open: bool,
}

/// Why work arriving at a given instant cannot be accepted immediately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// The system is open: no wait.
    None,
    /// Business day, but the local time is before the opening time.
    BeforeOpening,
    /// Business day, local time at or after the cut-off (also used for instants past the
    /// precomputed horizon or outside chrono's representable range).
    AfterCutoff,
    /// The local date is a weekend day.
    Weekend,
    /// Waiting for the next batch window of an ACH rail (set by the rail, never by the calendar itself).
    AchWindow,
    /// Waiting for the next withdrawal batch of an on-ramp.
    Batch,
    /// The local date is a holiday (takes priority over `Weekend`).
    Holiday,
}

/// Precomputed business calendar. Cheap, chrono-free queries: [`Calendar::next_open`],
/// [`Calendar::is_open`], [`Calendar::window_end`], [`Calendar::add_business_days`].
#[derive(Clone)]
pub struct Calendar {
    zone: Tz,
    start: DateTime<Utc>,
    always_open: bool,
    weekend: [bool; 7],
    /// Sorted, deduplicated.
    holidays: Vec<NaiveDate>,
    open: NaiveTime,
    /// Window `i` is `[starts[i], ends[i])` in sim-time microseconds. Invariants:
    /// `starts[i] < ends[i] <= starts[i + 1]`. Kept as two slices so the binary search only
    /// touches `starts`.
    starts: Vec<u64>,
    ends: Vec<u64>,
}

impl fmt::Debug for Calendar {
    // Hand-written so that a trace or error message does not dump thousands of windows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("zone", &self.zone)
            .field("start", &self.start)
            .field("always_open", &self.always_open)
            .field("weekend", &self.weekend)
            .field("holidays", &self.holidays.len())
            .field("windows", &self.starts.len())
            .field("first_window", &self.starts.first().zip(self.ends.first()))
            .field("last_window", &self.starts.last().zip(self.ends.last()))
            .finish()
    }
}

impl Calendar {
    /// Precompute every business window `[open, cutoff)` as sim-time microseconds from `start`
    /// through `horizon_us`, continuing until at least one window starts strictly after the
    /// horizon so that [`Calendar::next_open`] always has an answer for `t <= horizon_us`.
    /// A window already in progress at `start` is clipped to begin at 0.
    ///
    /// Errors: `cutoff <= open` (windows may not span midnight), a horizon outside chrono's
    /// range, or no business day within 400 days after the horizon (e.g. every weekday is a
    /// weekend day).
    pub fn build(
        spec: &CalendarSpec,
        start: DateTime<Utc>,
        horizon_us: u64,
    ) -> Result<Calendar, String> {
        let mut holidays = spec.holidays.clone();
        holidays.sort_unstable();
        holidays.dedup();
        let mut cal = Calendar {
            zone: spec.zone,
            start,
            always_open: spec.always_open,
            weekend: spec.weekend,
            holidays,
            open: spec.open,
            starts: Vec::new(),
            ends: Vec::new(),
        };
        if spec.always_open {
            // No windows needed: every query short-circuits on `always_open`.
            return Ok(cal);
        }
        if spec.cutoff <= spec.open {
            return Err(format!(
                "calendar cut-off {} must be later than opening time {} \
                 (business windows cannot be empty or span midnight)",
                spec.cutoff, spec.open
            ));
        }

        let horizon = i64::try_from(horizon_us)
            .ok()
            .and_then(|us| start.checked_add_signed(TimeDelta::microseconds(us)))
            .ok_or_else(|| format!("calendar horizon of {horizon_us} us is out of range"))?;
        let last_date = horizon
            .with_timezone(&spec.zone)
            .date_naive()
            .checked_add_signed(TimeDelta::days(MAX_DAYS_PAST_HORIZON))
            .ok_or_else(|| "calendar horizon is out of range".to_string())?;
        // Start one local date early: cheap insurance that a window in progress at `start`
        // is not missed whatever the offsets do around the start instant.
        let mut date = start
            .with_timezone(&spec.zone)
            .date_naive()
            .pred_opt()
            .ok_or_else(|| "calendar start is out of range".to_string())?;

        loop {
            if date > last_date {
                return Err(format!(
                    "calendar in {} has no business day within {MAX_DAYS_PAST_HORIZON} days \
                     after the horizon (check weekend and holidays)",
                    spec.zone
                ));
            }
            if cal.is_business_day(date) {
                let open = resolve_local(spec.zone, date.and_time(spec.open))?;
                let cutoff = resolve_local(spec.zone, date.and_time(spec.cutoff))?;
                if let Some((s, e)) = cal.to_window(open, cutoff)? {
                    cal.push_window(s, e);
                    if s > horizon_us {
                        break;
                    }
                }
            }
            date = date
                .succ_opt()
                .ok_or_else(|| "calendar date out of range".to_string())?;
        }
        cal.starts.shrink_to_fit();
        cal.ends.shrink_to_fit();
        Ok(cal)
    }

    /// Earliest time `>= t` at which work can be accepted: `t` itself if inside a window, else
    /// the next window's open; `u64::MAX` if `t` is past the last precomputed window (the
    /// simulator reads that as "never within the run"). Hot path: integer binary search only.
    pub fn next_open(&self, t: u64) -> u64 {
        if self.always_open {
            return t;
        }
        let idx = self.starts.partition_point(|&s| s <= t);
        if idx > 0 && t < self.ends[idx - 1] {
            t
        } else {
            self.starts.get(idx).copied().unwrap_or(u64::MAX)
        }
    }

    /// Is `t` inside a business window? Hot path: integer binary search only.
    pub fn is_open(&self, t: u64) -> bool {
        self.always_open || self.containing(t).is_some()
    }

    /// Why work arriving at `t` must wait ([`WaitReason::None`] if open). Uses chrono; meant
    /// for traces, not the hot path. Priority: `Holiday` > `Weekend` > `BeforeOpening` >
    /// `AfterCutoff`. A business-day instant inside local business hours that is nevertheless
    /// closed (past the precomputed horizon, or repeated local time after a fall-back cut-off)
    /// reports `AfterCutoff`.
    pub fn wait_reason(&self, t: u64) -> WaitReason {
        if self.is_open(t) {
            return WaitReason::None;
        }
        let Some(local) = self.to_utc(t).map(|u| u.with_timezone(&self.zone)) else {
            return WaitReason::AfterCutoff;
        };
        let date = local.date_naive();
        if self.holidays.binary_search(&date).is_ok() {
            WaitReason::Holiday
        } else if self.weekend[date.weekday().num_days_from_monday() as usize] {
            WaitReason::Weekend
        } else if local.time() < self.open {
            WaitReason::BeforeOpening
        } else {
            WaitReason::AfterCutoff
        }
    }

    /// End (cut-off) of the window containing `t`, or `None` if closed at `t`. For an
    /// `always_open` calendar the window never ends: `Some(u64::MAX)`.
    pub fn window_end(&self, t: u64) -> Option<u64> {
        if self.always_open {
            return Some(u64::MAX);
        }
        self.containing(t).map(|i| self.ends[i])
    }

    /// The local calendar date of `t` as days since 1970-01-01 (daily limits reset at local midnight).
    pub fn local_day(&self, t: u64) -> i64 {
        match self.to_utc(t) {
            Some(u) => u
                .with_timezone(&self.zone)
                .date_naive()
                .signed_duration_since(NaiveDate::default())
                .num_days(),
            None => i64::MAX,
        }
    }

    /// Format `t` as local time, e.g. `"2026-03-06 17:05 CST"` (`%Y-%m-%d %H:%M %Z`; zones
    /// without an abbreviation print a numeric one such as `+03`). `u64::MAX` prints `"never"`.
    pub fn local_string(&self, t: u64) -> String {
        if t == u64::MAX {
            return "never".to_string();
        }
        match self.to_utc(t) {
            Some(u) => u
                .with_timezone(&self.zone)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string(),
            None => format!("start+{t}us (out of range)"),
        }
    }

    /// Add `n` business days (T+n settlement): the open of the `n`-th business window after
    /// the one containing `t` (or, if closed, the next one to open). `n == 0` gives
    /// [`Calendar::next_open`]. Work arriving after Friday's cut-off therefore has T+1 =
    /// Tuesday's open. Returns `u64::MAX` past the precomputed windows. For an `always_open`
    /// calendar every day counts: `t + n * 24h` (saturating).
    pub fn add_business_days(&self, t: u64, n: u32) -> u64 {
        if self.always_open {
            return t.saturating_add(u64::from(n).saturating_mul(DAY_US));
        }
        if n == 0 {
            return self.next_open(t);
        }
        let idx = self.starts.partition_point(|&s| s <= t);
        let base = match idx.checked_sub(1) {
            Some(i) if t < self.ends[i] => i,
            _ => idx,
        };
        base.checked_add(n as usize)
            .and_then(|i| self.starts.get(i).copied())
            .unwrap_or(u64::MAX)
    }

    /// The instant at which the calendar has been open for `d` µs, counting from `t`: time runs only inside
    /// business windows, so work that does not finish by the cut-off resumes at the next opening (a funding
    /// wire that moves only on business days). `d == 0` gives [`Calendar::next_open`]. An arrival exactly at
    /// a cut-off is at that cut-off, never on the following closed days. `u64::MAX` past the precomputed
    /// windows. For an `always_open` calendar: `t + d` (saturating).
    pub fn add_open_time(&self, t: u64, d: u64) -> u64 {
        if self.always_open {
            return t.saturating_add(d);
        }
        let mut left = d;
        let mut i = self.starts.partition_point(|&s| s <= t);
        let mut from = match i.checked_sub(1) {
            Some(j) if t < self.ends[j] => {
                i = j;
                t
            }
            _ => match self.starts.get(i) {
                Some(&s) => s,
                None => return u64::MAX,
            },
        };
        loop {
            let end = self.ends[i];
            if left <= end - from {
                return from + left;
            }
            left -= end - from;
            i += 1;
            match self.starts.get(i) {
                Some(&s) => from = s,
                None => return u64::MAX,
            }
        }
    }

    /// Index of the window containing `t`, if any.
    fn containing(&self, t: u64) -> Option<usize> {
        let i = self.starts.partition_point(|&s| s <= t).checked_sub(1)?;
        (t < self.ends[i]).then_some(i)
    }

    fn is_business_day(&self, date: NaiveDate) -> bool {
        !self.weekend[date.weekday().num_days_from_monday() as usize]
            && self.holidays.binary_search(&date).is_err()
    }

    fn to_utc(&self, t: u64) -> Option<DateTime<Utc>> {
        let us = i64::try_from(t).ok()?;
        self.start.checked_add_signed(TimeDelta::microseconds(us))
    }

    /// Convert a window's instants to sim time, clipping at 0; `None` if it is empty or
    /// entirely before the start.
    fn to_window(
        &self,
        open: DateTime<Utc>,
        cutoff: DateTime<Utc>,
    ) -> Result<Option<(u64, u64)>, String> {
        let rel = |x: DateTime<Utc>| {
            (x - self.start)
                .num_microseconds()
                .ok_or_else(|| format!("calendar instant {x} is too far from the start"))
        };
        let (s, e) = (rel(open)?.max(0), rel(cutoff)?);
        // Both non-negative past this check, so the casts are lossless.
        Ok((e > s).then_some((s as u64, e as u64)))
    }

    /// Append a window, merging it into the previous one if DST oddities made them overlap,
    /// so the `starts[i] < ends[i] <= starts[i + 1]` invariant always holds.
    fn push_window(&mut self, s: u64, e: u64) {
        if let Some(prev_end) = self.ends.last_mut()
            && s < *prev_end
        {
            *prev_end = (*prev_end).max(e);
            return;
        }
        self.starts.push(s);
        self.ends.push(e);
    }
}

/// Resolve a local wall-clock time to an instant: unique -> that instant; ambiguous (fall-back
/// overlap) -> the earlier instant; nonexistent (spring-forward gap) -> the first valid instant
/// after it, i.e. the transition that skipped it.
fn resolve_local(zone: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, String> {
    if let Some(dt) = zone.from_local_datetime(&local).earliest() {
        return Ok(dt.with_timezone(&Utc));
    }
    // Gap: find, to the second, the first instant whose local time is >= `local`. UTC offsets
    // are under a day in magnitude, so that instant lies within two days either side of
    // `local` read as UTC. Any false->true flip of the predicate is a transition jumping over
    // `local` (it does not exist, so the local clock can only pass it by jumping), and offsets
    // and transitions are whole seconds, so second granularity is exact.
    let err = || format!("cannot resolve local time {local} in {zone}");
    let reaches = |secs: i64| -> Result<bool, String> {
        let utc = DateTime::<Utc>::from_timestamp(secs, 0).ok_or_else(err)?;
        Ok(utc.with_timezone(&zone).naive_local() >= local)
    };
    let centre = local.and_utc().timestamp();
    let (mut lo, mut hi) = (centre - 2 * 86_400, centre + 2 * 86_400);
    if reaches(lo)? || !reaches(hi)? {
        return Err(err());
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reaches(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::<Utc>::from_timestamp(hi, 0).ok_or_else(err)
}

/// Parse a weekday name, case-insensitively: three-letter ("Mon") or full ("Monday") forms,
/// plus the common "Tues", "Thur" and "Thurs". Surrounding whitespace is ignored.
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    let day = match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tues" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    };
    Some(day)
}

/// Parse a local time of day: "HH:MM" or "HH:MM:SS" (24-hour; the hour may have one digit,
/// minutes and seconds must have two). Rejects out-of-range fields such as "24:00" or
/// "12:60". Surrounding whitespace is ignored.
pub fn parse_local_time(s: &str) -> Option<NaiveTime> {
    let field = |p: &str, max_len: usize| -> Option<u32> {
        let ok = (1..=max_len).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| p.parse().ok()).flatten()
    };
    let mut parts = s.trim().split(':');
    let h = field(parts.next()?, 2)?;
    let m = parts
        .next()
        .filter(|p| p.len() == 2)
        .and_then(|p| field(p, 2))?;
    let sec = match parts.next() {
        Some(p) if p.len() == 2 => field(p, 2)?,
        Some(_) => return None,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    NaiveTime::from_hms_opt(h, m, sec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Asia::Riyadh;
    use proptest::prelude::*;

    const HOUR: u64 = 3_600_000_000;
    const DAY: u64 = 24 * HOUR;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(y: i32, mo: u32, day: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, day, h, mi, 0).unwrap()
    }

    const SAT_SUN: [bool; 7] = [false, false, false, false, false, true, true];

    fn ny_spec() -> CalendarSpec {
        CalendarSpec {
            zone: New_York,
            weekend: SAT_SUN,
            holidays: vec![],
            open: t(8, 0),
            cutoff: t(17, 0),
            always_open: false,
        }
    }

    /// Sim time of a UTC instant relative to `start`.
    fn sim(start: DateTime<Utc>, at: DateTime<Utc>) -> u64 {
        u64::try_from((at - start).num_microseconds().unwrap()).unwrap()
    }

    /// Scenario starting Thu 2026-03-05 00:00 UTC, 60-day horizon.
    fn ny_cal(spec: &CalendarSpec) -> (Calendar, DateTime<Utc>) {
        let start = utc(2026, 3, 5, 0, 0);
        (Calendar::build(spec, start, 60 * DAY).unwrap(), start)
    }

    #[test]
    fn friday_after_cutoff_opens_monday_morning() {
        let (cal, start) = ny_cal(&ny_spec());
        // Fri 2026-03-06 17:30 EST = 22:30 UTC.
        let fri = sim(start, utc(2026, 3, 6, 22, 30));
        assert!(!cal.is_open(fri));
        // Mon 2026-03-09 08:00 EDT (DST began Sunday) = 12:00 UTC.
        assert_eq!(cal.next_open(fri), sim(start, utc(2026, 3, 9, 12, 0)));
        assert_eq!(cal.local_string(fri), "2026-03-06 17:30 EST");
        assert_eq!(cal.local_string(cal.next_open(fri)), "2026-03-09 08:00 EDT");
    }

    #[test]
    fn holiday_monday_pushes_to_tuesday() {
        let mut spec = ny_spec();
        spec.holidays = vec![d(2026, 3, 9)];
        let (cal, start) = ny_cal(&spec);
        let fri = sim(start, utc(2026, 3, 6, 22, 30));
        assert_eq!(cal.next_open(fri), sim(start, utc(2026, 3, 10, 12, 0)));
        let mon_noon = sim(start, utc(2026, 3, 9, 16, 0));
        assert!(!cal.is_open(mon_noon));
        assert_eq!(cal.wait_reason(mon_noon), WaitReason::Holiday);
    }

    #[test]
    fn dst_moves_utc_opening_in_spring_and_autumn() {
        let spec = ny_spec();
        let start = utc(2026, 3, 1, 0, 0);
        let cal = Calendar::build(&spec, start, 300 * DAY).unwrap();
        let open_after = |at: DateTime<Utc>| cal.next_open(sim(start, at));
        // Spring forward on Sun 2026-03-08: Fri 03-06 opens 13:00 UTC (EST, -5),
        // Mon 03-09 opens 12:00 UTC (EDT, -4); cut-offs 22:00 and 21:00 UTC.
        let fri = open_after(utc(2026, 3, 6, 0, 0));
        assert_eq!(fri, sim(start, utc(2026, 3, 6, 13, 0)));
        assert_eq!(
            cal.window_end(fri),
            Some(sim(start, utc(2026, 3, 6, 22, 0)))
        );
        let mon = open_after(utc(2026, 3, 7, 0, 0));
        assert_eq!(mon, sim(start, utc(2026, 3, 9, 12, 0)));
        assert_eq!(
            cal.window_end(mon),
            Some(sim(start, utc(2026, 3, 9, 21, 0)))
        );
        // Fall back on Sun 2026-11-01: Fri 10-30 opens 12:00 UTC, Mon 11-02 opens 13:00 UTC.
        let fri = open_after(utc(2026, 10, 30, 0, 0));
        assert_eq!(fri, sim(start, utc(2026, 10, 30, 12, 0)));
        let mon = open_after(utc(2026, 10, 31, 0, 0));
        assert_eq!(mon, sim(start, utc(2026, 11, 2, 13, 0)));
        // 12:30 UTC on that Monday is 07:30 EST: before opening, not open.
        let early = sim(start, utc(2026, 11, 2, 12, 30));
        assert!(!cal.is_open(early));
        assert_eq!(cal.wait_reason(early), WaitReason::BeforeOpening);
    }

    #[test]
    fn nonexistent_open_uses_transition_and_ambiguous_open_uses_earlier() {
        let mut spec = ny_spec();
        spec.weekend = [false; 7];
        // 02:30 does not exist on 2026-03-08 (02:00 EST -> 03:00 EDT = 07:00 UTC).
        spec.open = t(2, 30);
        spec.cutoff = t(4, 0);
        let start = utc(2026, 3, 1, 0, 0);
        let cal = Calendar::build(&spec, start, 300 * DAY).unwrap();
        let gap_day = cal.next_open(sim(start, utc(2026, 3, 8, 0, 0)));
        assert_eq!(gap_day, sim(start, utc(2026, 3, 8, 7, 0)));
        assert_eq!(cal.local_string(gap_day), "2026-03-08 03:00 EDT");
        assert!(!cal.is_open(gap_day - 1));
        // 01:30 occurs twice on 2026-11-01: EDT (05:30 UTC) then EST (06:30 UTC).
        spec.open = t(1, 30);
        spec.cutoff = t(3, 0);
        let cal = Calendar::build(&spec, start, 300 * DAY).unwrap();
        let overlap_day = cal.next_open(sim(start, utc(2026, 11, 1, 0, 0)));
        assert_eq!(overlap_day, sim(start, utc(2026, 11, 1, 5, 30)));
        // 03:00 EST = 08:00 UTC: the window spans the repeated hour.
        assert_eq!(
            cal.window_end(overlap_day),
            Some(sim(start, utc(2026, 11, 1, 8, 0)))
        );
    }

    #[test]
    fn always_open_returns_t() {
        let mut spec = ny_spec();
        spec.always_open = true;
        // open/cutoff are ignored for 24/7 systems, even if they would be invalid.
        spec.cutoff = spec.open;
        let (cal, _) = ny_cal(&spec);
        for x in [0, 1, 17 * HOUR + 12_345, 400 * DAY, u64::MAX] {
            assert_eq!(cal.next_open(x), x);
            assert!(cal.is_open(x));
            assert_eq!(cal.wait_reason(x), WaitReason::None);
        }
        assert_eq!(cal.add_business_days(5, 2), 5 + 2 * DAY);
    }

    #[test]
    fn friday_saturday_weekend_riyadh() {
        let spec = CalendarSpec {
            zone: Riyadh,
            weekend: [false, false, false, false, true, true, false],
            holidays: vec![],
            open: t(9, 0),
            cutoff: t(15, 0),
            always_open: false,
        };
        let start = utc(2026, 3, 1, 0, 0);
        let cal = Calendar::build(&spec, start, 30 * DAY).unwrap();
        // Thu 2026-03-05 16:00 AST (+03) = 13:00 UTC: after cut-off.
        let thu = sim(start, utc(2026, 3, 5, 13, 0));
        assert_eq!(cal.wait_reason(thu), WaitReason::AfterCutoff);
        // Next opening: Sun 2026-03-08 09:00 +03 = 06:00 UTC.
        assert_eq!(cal.next_open(thu), sim(start, utc(2026, 3, 8, 6, 0)));
        let fri_noon = sim(start, utc(2026, 3, 6, 9, 0));
        assert_eq!(cal.wait_reason(fri_noon), WaitReason::Weekend);
        let sun_noon = sim(start, utc(2026, 3, 8, 9, 0));
        assert!(cal.is_open(sun_noon));
    }

    #[test]
    fn wait_reason_values() {
        let mut spec = ny_spec();
        spec.holidays = vec![d(2026, 3, 7)]; // a Saturday: Holiday outranks Weekend
        let (cal, start) = ny_cal(&spec);
        let at = |h: u32| sim(start, utc(2026, 3, 6, h, 0)); // Fri, EST = UTC-5
        assert_eq!(cal.wait_reason(at(12)), WaitReason::BeforeOpening); // 07:00
        assert_eq!(cal.wait_reason(at(13)), WaitReason::None); // 08:00
        assert_eq!(cal.wait_reason(at(21)), WaitReason::None); // 16:00
        assert_eq!(cal.wait_reason(at(22)), WaitReason::AfterCutoff); // 17:00
        let sat = sim(start, utc(2026, 3, 7, 15, 0));
        assert_eq!(cal.wait_reason(sat), WaitReason::Holiday);
        let sun = sim(start, utc(2026, 3, 8, 15, 0));
        assert_eq!(cal.wait_reason(sun), WaitReason::Weekend);
    }

    #[test]
    fn add_business_days_over_weekend() {
        let (cal, start) = ny_cal(&ny_spec());
        let fri_morning = sim(start, utc(2026, 3, 6, 15, 0)); // 10:00 EST, open
        assert_eq!(cal.add_business_days(fri_morning, 0), fri_morning);
        // T+1 from inside Friday's window: Monday's open.
        assert_eq!(
            cal.add_business_days(fri_morning, 1),
            sim(start, utc(2026, 3, 9, 12, 0))
        );
        // After Friday's cut-off the trade day is Monday, so T+1 is Tuesday, T+2 Wednesday.
        let fri_late = sim(start, utc(2026, 3, 6, 22, 30));
        assert_eq!(
            cal.add_business_days(fri_late, 1),
            sim(start, utc(2026, 3, 10, 12, 0))
        );
        assert_eq!(
            cal.add_business_days(fri_late, 2),
            sim(start, utc(2026, 3, 11, 12, 0))
        );
        assert_eq!(cal.add_business_days(fri_late, 100_000), u64::MAX);
    }

    /// Catches: funding time counted in calendar time instead of open time, so a wire requested on Friday
    /// afternoon "arrives" on Friday evening or Saturday.
    #[test]
    fn open_time_pauses_over_the_night_and_the_weekend() {
        let (cal, start) = ny_cal(&ny_spec());
        let fri_3pm = sim(start, utc(2026, 3, 6, 20, 0)); // 15:00 EST, 2 h before the cut-off
        assert_eq!(cal.add_open_time(fri_3pm, 0), fri_3pm);
        assert_eq!(
            cal.add_open_time(fri_3pm, HOUR),
            sim(start, utc(2026, 3, 6, 21, 0))
        );
        // Exactly to the cut-off: arrives at 17:00 Friday, not Monday.
        assert_eq!(
            cal.add_open_time(fri_3pm, 2 * HOUR),
            sim(start, utc(2026, 3, 6, 22, 0))
        );
        // 2 h on Friday, the last hour from Monday's 08:00 EDT opening (12:00 UTC).
        assert_eq!(
            cal.add_open_time(fri_3pm, 3 * HOUR),
            sim(start, utc(2026, 3, 9, 13, 0))
        );
        // Requested on Saturday: counted from Monday's opening.
        let sat = sim(start, utc(2026, 3, 7, 15, 0));
        assert_eq!(
            cal.add_open_time(sat, 2 * HOUR),
            sim(start, utc(2026, 3, 9, 14, 0))
        );
        // A full business day (9 open hours) from Friday 15:00 is Monday 15:00, then Tuesday.
        assert_eq!(
            cal.add_open_time(fri_3pm, 9 * HOUR),
            sim(start, utc(2026, 3, 9, 19, 0))
        );
        assert_eq!(
            cal.add_open_time(fri_3pm, 18 * HOUR),
            sim(start, utc(2026, 3, 10, 19, 0))
        );
        assert_eq!(cal.add_open_time(fri_3pm, 10_000 * HOUR), u64::MAX);
        let (always, _) = ny_cal(&CalendarSpec {
            always_open: true,
            ..ny_spec()
        });
        assert_eq!(always.add_open_time(sat, 2 * HOUR), sat + 2 * HOUR);
    }

    proptest! {
        /// Open time is additive (a delay in two parts ends where it ends in one) and never ends on a closed
        /// instant other than a cut-off.
        #[test]
        fn open_time_is_additive_and_ends_in_a_window(a in 0u64..40 * HOUR, b in 1u64..20 * HOUR, t in 0u64..20 * DAY) {
            let (cal, _) = ny_cal(&ny_spec());
            let one = cal.add_open_time(t, a + b);
            // (b > 0: a first part ending exactly at a cut-off continues from the next opening, as one delay
            // does; with b == 0 the second call would move a cut-off arrival to the next opening.)
            let two = cal.add_open_time(cal.add_open_time(t, a), b);
            prop_assert_eq!(one, two);
            prop_assert!(cal.is_open(one) || cal.is_open(one.saturating_sub(1)));
        }
    }

    #[test]
    fn window_in_progress_at_start_is_clipped() {
        // Start Thu 2026-03-05 15:00 UTC = 10:00 EST, mid-window.
        let start = utc(2026, 3, 5, 15, 0);
        let cal = Calendar::build(&ny_spec(), start, DAY).unwrap();
        assert!(cal.is_open(0));
        assert_eq!(cal.next_open(0), 0);
        assert_eq!(cal.window_end(0), Some(7 * HOUR));
        assert_eq!(cal.window_end(7 * HOUR), None);
    }

    #[test]
    fn past_last_window_is_never() {
        let (cal, _) = ny_cal(&ny_spec());
        let last_end = *cal.ends.last().unwrap();
        assert!(*cal.starts.last().unwrap() > 60 * DAY);
        assert_eq!(cal.next_open(last_end), u64::MAX);
        assert_eq!(cal.next_open(u64::MAX), u64::MAX);
        assert_eq!(cal.local_string(u64::MAX), "never");
    }

    #[test]
    fn build_rejects_bad_input() {
        let mut spec = ny_spec();
        spec.cutoff = spec.open;
        let err = Calendar::build(&spec, utc(2026, 1, 1, 0, 0), DAY).unwrap_err();
        assert!(err.contains("cut-off"), "{err}");
        spec.cutoff = t(7, 0);
        assert!(Calendar::build(&spec, utc(2026, 1, 1, 0, 0), DAY).is_err());
        let mut spec = ny_spec();
        spec.weekend = [true; 7];
        let err = Calendar::build(&spec, utc(2026, 1, 1, 0, 0), DAY).unwrap_err();
        assert!(err.contains("no business day"), "{err}");
        let spec = ny_spec();
        assert!(Calendar::build(&spec, utc(2026, 1, 1, 0, 0), u64::MAX).is_err());
    }

    #[test]
    fn local_string_uses_zone_abbreviation() {
        let spec = CalendarSpec {
            zone: chrono_tz::America::Chicago,
            ..ny_spec()
        };
        let start = utc(2026, 3, 6, 0, 0);
        let cal = Calendar::build(&spec, start, DAY).unwrap();
        let at = sim(start, utc(2026, 3, 6, 23, 5));
        assert_eq!(cal.local_string(at), "2026-03-06 17:05 CST");
    }

    #[test]
    fn parse_helpers() {
        for s in ["Mon", "mon", "MONDAY", "Monday", " monday "] {
            assert_eq!(parse_weekday(s), Some(Weekday::Mon), "{s}");
        }
        assert_eq!(parse_weekday("Thurs"), Some(Weekday::Thu));
        assert_eq!(parse_weekday("sun"), Some(Weekday::Sun));
        for s in ["", "mo", "mond", "funday"] {
            assert_eq!(parse_weekday(s), None, "{s}");
        }
        assert_eq!(parse_local_time("08:00"), Some(t(8, 0)));
        assert_eq!(parse_local_time("8:00"), Some(t(8, 0)));
        assert_eq!(
            parse_local_time("17:05:30"),
            NaiveTime::from_hms_opt(17, 5, 30)
        );
        for s in [
            "",
            "24:00",
            "12:60",
            "12:5",
            "12",
            "12:00:00:00",
            "1a:00",
            "12:00:",
            "+1:00",
        ] {
            assert_eq!(parse_local_time(s), None, "{s}");
        }
    }

    /// Independent chrono-based oracle for a calendar whose open/cut-off never fall in a DST
    /// transition (New York 08:00-17:00).
    fn oracle_open(spec: &CalendarSpec, start: DateTime<Utc>, t: u64) -> bool {
        let local = (start + TimeDelta::microseconds(t as i64)).with_timezone(&spec.zone);
        let date = local.date_naive();
        !spec.weekend[date.weekday().num_days_from_monday() as usize]
            && !spec.holidays.contains(&date)
            && spec.open <= local.time()
            && local.time() < spec.cutoff
    }

    fn arb_spec() -> impl Strategy<Value = CalendarSpec> {
        let zones = prop::sample::select(vec![
            New_York,
            Riyadh,
            chrono_tz::Europe::London,
            chrono_tz::Australia::Lord_Howe, // 30-minute DST shift
            chrono_tz::Asia::Kolkata,
        ]);
        (
            zones,
            prop::array::uniform7(prop::bool::weighted(0.3)),
            prop::collection::vec(0u32..200, 0..10),
            0u32..23 * 60,
            1u32..24 * 60,
        )
            .prop_map(|(zone, weekend, hol, open_min, len)| {
                let open_min = open_min.min(24 * 60 - 2);
                let cut_min = (open_min + len).min(24 * 60 - 1).max(open_min + 1);
                let hm = |m: u32| t(m / 60, m % 60);
                CalendarSpec {
                    zone,
                    weekend: if weekend.iter().all(|&w| w) {
                        SAT_SUN
                    } else {
                        weekend
                    },
                    holidays: hol
                        .into_iter()
                        .map(|k| d(2026, 1, 1) + TimeDelta::days(i64::from(k)))
                        .collect(),
                    open: hm(open_min),
                    cutoff: hm(cut_min),
                    always_open: false,
                }
            })
    }

    proptest! {
        #[test]
        fn next_open_invariants(
            spec in arb_spec(),
            start_offset in 0u64..120 * DAY,
            ts in prop::collection::vec(0u64..130 * DAY, 1..50),
        ) {
            let start = utc(2026, 1, 1, 0, 0) + TimeDelta::microseconds(start_offset as i64);
            let horizon = 100 * DAY;
            let cal = Calendar::build(&spec, start, horizon).unwrap();
            prop_assert!(cal.starts.iter().zip(&cal.ends).all(|(s, e)| s < e));
            prop_assert!(cal.ends.iter().zip(cal.starts.iter().skip(1)).all(|(e, s)| e <= s));
            prop_assert!(*cal.starts.last().unwrap() > horizon);
            for t in ts {
                let n = cal.next_open(t);
                prop_assert!(n >= t);
                if t <= horizon {
                    prop_assert!(n != u64::MAX);
                }
                if n != u64::MAX {
                    prop_assert!(cal.is_open(n));
                    prop_assert!(cal.window_end(n).is_some_and(|e| e > n));
                    prop_assert_eq!(cal.wait_reason(n), WaitReason::None);
                }
                // No window starts strictly between t and next_open(t).
                prop_assert!(!cal.starts.iter().any(|&s| t < s && s < n));
                prop_assert_eq!(cal.is_open(t), n == t);
                prop_assert_eq!(cal.wait_reason(t) == WaitReason::None, n == t);
            }
        }

        #[test]
        fn new_york_matches_chrono_oracle(
            start_offset in 0u64..300 * DAY,
            ts in prop::collection::vec(0u64..60 * DAY, 1..50),
            hol in prop::collection::vec(0u32..400, 0..10),
        ) {
            let mut spec = ny_spec();
            spec.holidays = hol.into_iter().map(|k| d(2026, 1, 1) + TimeDelta::days(i64::from(k))).collect();
            let start = utc(2026, 1, 1, 0, 0) + TimeDelta::microseconds(start_offset as i64);
            let cal = Calendar::build(&spec, start, 60 * DAY).unwrap();
            for t in ts {
                prop_assert_eq!(cal.is_open(t), oracle_open(&spec, start, t), "t={}", t);
            }
        }
    }
}
