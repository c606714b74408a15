//! Validation: the raw scenario (as written) becomes the typed `World` (what runs). Every check that can fail
//! names the field path, e.g. `corridors[1].routes[0].path[2]`, so the loader can point at file, line and column.
//! Semantic errors caught here: unknown references (banks, calendars, rails), impossible numbers (negative rates,
//! shares outside [0, 1]), unknown zones and currencies, currencies without an FX rate, corridors without a rail,
//! routes whose hops have no nostro relationship in the currency they carry.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::model::calendar::{Calendar, CalendarSpec, parse_local_time, parse_weekday};
use crate::model::chain::spec::{ChainSpec, Consensus, Network};
use crate::model::fx::{CurId, FxTable, RateSpec};
use crate::model::price::{Jumps, Peg, PriceSpec};
use crate::model::world::*;
use crate::rng::Delay;
use crate::scenario::raw::{self, DelayDef};
use crate::units::{Currency, US_PER_DAY, US_PER_HOUR, US_PER_S, parse_duration_us};

/// A semantic error: the field path and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub path: String,
    pub message: String,
}

type R<T> = Result<T, Invalid>;

fn bad<T>(path: impl Into<String>, message: impl Into<String>) -> R<T> {
    Err(Invalid {
        path: path.into(),
        message: message.into(),
    })
}

pub(crate) fn duration(path: &str, text: &str) -> R<u64> {
    parse_duration_us(text).or_else(|m| bad(path, m))
}

fn unit_interval(path: &str, x: f64) -> R<f64> {
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        bad(path, format!("must be between 0 and 1, got {x}"))
    }
}

fn non_negative(path: &str, x: f64) -> R<f64> {
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        bad(path, format!("must be a non-negative number, got {x}"))
    }
}

/// A non-negative number no larger than `max`. The limits keep integer money arithmetic far from overflow
/// (amounts and fees are i64 minor units, conversions use i128) and rates far from infinity.
pub(crate) fn at_most(path: &str, x: f64, max: f64) -> R<f64> {
    let x = non_negative(path, x)?;
    if x > max {
        return bad(path, format!("must be at most {max}, got {x}"));
    }
    Ok(x)
}

/// Largest fee, in USD.
const FEE_USD_MAX: f64 = 1e6;
/// Largest amount or balance, in major units.
const MONEY_MAJOR_MAX: f64 = 1e11;

/// A delay distribution from its one shape; an empty table means no delay. `max` beside `min` is a uniform
/// distribution's top; beside any other shape it is an upper bound on the draws.
pub fn delay(path: &str, d: &DelayDef) -> R<Delay> {
    let dur = |field: &str, v: &Option<String>| -> R<Option<u64>> {
        v.as_deref()
            .map(|t| duration(&format!("{path}.{field}"), t))
            .transpose()
    };
    let max = dur("max", &d.max)?;
    let shape = delay_shape(path, d)?;
    Ok(match (max, d.min.is_some()) {
        (Some(_), false) if matches!(shape, Delay::Zero) && d.sigma.is_none() => {
            return bad(
                path,
                "max bounds a shape (fixed, mean, median), or is a uniform's top beside min",
            );
        }
        (Some(m), false) => {
            if let Delay::Fixed(f) = shape
                && f > m
            {
                return bad(
                    format!("{path}.max"),
                    "max must not be below the fixed delay",
                );
            }
            shape.capped(m)
        }
        _ => shape,
    })
}

/// The shape of a delay, without the bound.
fn delay_shape(path: &str, d: &DelayDef) -> R<Delay> {
    let dur = |field: &str, v: &Option<String>| -> R<Option<u64>> {
        v.as_deref()
            .map(|t| duration(&format!("{path}.{field}"), t))
            .transpose()
    };
    let fixed = dur("fixed", &d.fixed)?;
    let mean = dur("mean", &d.mean)?;
    let median = dur("median", &d.median)?;
    let p90 = dur("p90", &d.p90)?;
    let min = dur("min", &d.min)?;
    let max = dur("max", &d.max)?;
    let shapes = [
        fixed.is_some(),
        mean.is_some(),
        median.is_some(),
        min.is_some(),
    ];
    if shapes.iter().filter(|&&s| s).count() > 1 {
        return bad(
            path,
            "give one shape: fixed, mean (exponential), median with p90 or sigma (log-normal), or min with max (uniform)",
        );
    }
    if let Some(f) = fixed {
        return Ok(Delay::Fixed(f));
    }
    if let Some(m) = mean {
        return Ok(Delay::exp_mean_us(m));
    }
    if let Some(m) = median {
        if m == 0 {
            return bad(
                format!("{path}.median"),
                "a log-normal median must be positive",
            );
        }
        return match (p90, d.sigma) {
            (Some(p), None) if p > m => Ok(Delay::lognormal_median_p90(m, p)),
            (Some(_), None) => bad(format!("{path}.p90"), "p90 must be greater than the median"),
            (None, Some(s)) => Ok(Delay::lognormal_median_sigma(
                m,
                non_negative(&format!("{path}.sigma"), s)?,
            )),
            (None, None) => bad(path, "a log-normal needs p90 or sigma beside the median"),
            (Some(_), Some(_)) => bad(path, "give p90 or sigma, not both"),
        };
    }
    match (min, max) {
        (Some(lo), Some(hi)) if hi >= lo => Ok(Delay::Uniform {
            min_us: lo,
            max_us: hi,
        }),
        (Some(_), Some(_)) => bad(format!("{path}.max"), "max must not be below min"),
        (Some(_), None) => bad(path, "a uniform delay needs max beside min"),
        (None, _) if d.sigma.is_some() => bad(format!("{path}.sigma"), "sigma needs a median"),
        (None, _) => Ok(Delay::Zero),
    }
}

/// A compliance review with no `max` of its own is escalated and decided after this long (calendar time from
/// the start of the review): a log-normal review time (median hours, p90 days) otherwise has a tail of months.
pub const REVIEW_MAX_DEFAULT_US: u64 = 14 * 86_400 * 1_000_000;

/// `topup = "daily"` (restored each business morning) or `"none"`.
fn topup_name(path: &str, text: &str) -> R<TopUp> {
    match text {
        "daily" => Ok(TopUp::Daily),
        "none" => Ok(TopUp::None),
        other => bad(
            path,
            format!(
                "unknown top-up {other:?} (\"daily\", \"none\", or a table {{ policy = \"threshold\", ... }})"
            ),
        ),
    }
}

/// The longest funding delay a top-up policy may take: a month of the funding calendar's open hours.
const FUNDING_DELAY_MAX_US: u64 = 30 * US_PER_DAY;
/// The largest `[liquidity] scale`.
const LIQUIDITY_SCALE_MAX: f64 = 1e4;

/// A position's top-up: a name, or a policy table. Its levels are major units of the position's currency,
/// multiplied by `[liquidity] scale` like the balance.
fn topup(ctx: &Ctx, path: &str, t: &raw::TopupDef, currency: CurId) -> R<TopUp> {
    let p = match t {
        raw::TopupDef::Name(name) => return topup_name(path, name),
        raw::TopupDef::Policy(p) => p,
    };
    let fields = [
        ("threshold", p.threshold.is_some()),
        ("target", p.target.is_some()),
        ("delay", p.delay.is_some()),
        ("calendar", p.calendar.is_some()),
        ("fee_usd", p.fee_usd.is_some()),
        ("fee_bps", p.fee_bps.is_some()),
    ];
    match p.policy.as_str() {
        "threshold" => {}
        "daily" | "none" => {
            if let Some((field, _)) = fields.iter().find(|(_, present)| *present) {
                return bad(
                    format!("{path}.{field}"),
                    "only a threshold policy has this field",
                );
            }
            return topup_name(&format!("{path}.policy"), &p.policy);
        }
        other => {
            return bad(
                format!("{path}.policy"),
                format!("unknown policy {other:?} (\"threshold\", \"daily\" or \"none\")"),
            );
        }
    }
    let level = |field: &str, v: Option<f64>| -> R<i64> {
        let Some(x) = v else {
            return bad(
                path,
                format!(
                    "a threshold policy needs {field} (major units of the position's currency)"
                ),
            );
        };
        let f = format!("{path}.{field}");
        let x = scaled(ctx, &f, at_most(&f, x, MONEY_MAJOR_MAX)?)?;
        Ok(ctx.fx.currency(currency).minor_from_major_f64(x))
    };
    let threshold_minor = level("threshold", p.threshold)?;
    let target_minor = level("target", p.target)?;
    if target_minor < threshold_minor {
        return bad(
            format!("{path}.target"),
            "must not be below the threshold (funding brings the balance back up to the target)",
        );
    }
    let delay_us = match &p.delay {
        Some(d) => duration(&format!("{path}.delay"), d)?,
        None => 0,
    };
    if delay_us > FUNDING_DELAY_MAX_US {
        return bad(format!("{path}.delay"), "must be at most 30d");
    }
    let calendar = p
        .calendar
        .as_deref()
        .map(|c| ctx.calendar_ref(&format!("{path}.calendar"), c))
        .transpose()?;
    let fee_usd = at_most(
        &format!("{path}.fee_usd"),
        p.fee_usd.unwrap_or(0.0),
        FEE_USD_MAX,
    )?;
    let fee_bps = non_negative(&format!("{path}.fee_bps"), p.fee_bps.unwrap_or(0.0))?;
    if fee_bps >= 10_000.0 {
        return bad(format!("{path}.fee_bps"), "must be below 10000 (100%)");
    }
    Ok(TopUp::Threshold(Rebalancing {
        threshold_minor,
        target_minor,
        delay_us,
        calendar,
        fee_usd_cents: (fee_usd * 100.0).round() as i64,
        fee_centi_bps: (fee_bps * 100.0).round() as i64,
    }))
}

/// A pre-funded level (major units) times `[liquidity] scale`, refused if the product leaves the money bounds.
fn scaled(ctx: &Ctx, path: &str, major: f64) -> R<f64> {
    let x = major * ctx.liquidity_scale;
    if x > MONEY_MAJOR_MAX {
        return bad(
            "liquidity.scale",
            format!(
                "{} scales {path} to {x}, above the limit of {MONEY_MAJOR_MAX}",
                ctx.liquidity_scale
            ),
        );
    }
    Ok(x)
}

/// `[liquidity] scale`: 1 unless given; refused where the scenario has nothing it could scale (no nostro,
/// inventory or ledger member limit), since it would have no effect.
fn liquidity_scale(s: &raw::Scenario) -> R<f64> {
    let Some(x) = s.liquidity.as_ref().and_then(|l| l.scale) else {
        return Ok(1.0);
    };
    let x = at_most("liquidity.scale", x, LIQUIDITY_SCALE_MAX)?;
    let limits = s.rails.iter().any(|r| r.member_limit_usd.is_some());
    if s.nostros.is_empty() && s.inventories.is_empty() && !limits {
        return bad(
            "liquidity.scale",
            "nothing to scale: the scenario has no nostro, inventory or ledger member limit",
        );
    }
    Ok(x)
}

/// The largest network fee one transaction may bid, in USD at the start rates: far above any fee a chain has
/// charged (Bitcoin's record is in the hundreds of dollars), low enough that fees, their conversions and their
/// totals stay exact in 64-bit minor units.
const NETWORK_FEE_USD_MAX: i64 = 1_000_000;

/// A chain rail's fixed bid times its transaction size, valued at the start, must stay below
/// `NETWORK_FEE_USD_MAX`: the bound is derived from what the bid multiplies.
fn network_fee_bounds(fx: &FxTable, chains: &[ChainSpec], rails: &[Rail]) -> R<()> {
    for (i, r) in rails.iter().enumerate() {
        let RailKind::Chain { chain, fee_bid, .. } = r.kind else {
            continue;
        };
        let spec = &chains[chain.idx()];
        let native = fee_bid
            .checked_mul(spec.tx_units)
            .filter(|&x| x <= i64::MAX as u64);
        let usd_cents = native.map(|x| fx.usd_cents(x as i64, spec.native, 0));
        if usd_cents.is_none_or(|c| c > NETWORK_FEE_USD_MAX * 100) {
            return bad(
                format!("rails[{i}].fee_bid"),
                format!(
                    "{fee_bid} per unit × {} units per transaction is a network fee above ${NETWORK_FEE_USD_MAX} \
                     per transaction at the start rates",
                    spec.tx_units
                ),
            );
        }
    }
    Ok(())
}

/// The median of a delay distribution, estimated from a fixed sample (validation only; no run's stream).
fn typical_us(d: &Delay) -> f64 {
    let mut stream = crate::rng::stream(0, "validate/typical-delay");
    let mut xs: Vec<u64> = (0..255).map(|_| d.sample(&mut stream)).collect();
    xs.sort_unstable();
    xs[xs.len() / 2] as f64
}

/// A limit on work: blocks (or slots, or BFT heights) one chain may produce over a run.
const CHAIN_BLOCKS_MAX: u64 = 50_000_000;

/// Refuses chain parameters that pass one by one but make a run degenerate or endless: more blocks than
/// `CHAIN_BLOCKS_MAX` over the run, a Nakamoto interval no longer than the time a block takes to spread (every
/// block would fork), a BFT round timeout shorter than the three message delays a round needs (no round could
/// ever commit, and each retry costs a round of messages).
fn chain_work_bounds(chains: &[ChainSpec], span_us: u64) -> R<()> {
    for (i, c) in chains.iter().enumerate() {
        let p = format!("chains[{i}]");
        let (step_us, what) = match &c.consensus {
            Consensus::Nakamoto { interval_us, .. } => (*interval_us, "blocks"),
            Consensus::Pos { slot_us, .. } => (*slot_us, "slots"),
            Consensus::Bft {
                commit_pause_us, ..
            } => ((*commit_pause_us).max(1), "heights"),
        };
        let steps = span_us / step_us.max(1);
        if steps > CHAIN_BLOCKS_MAX {
            return bad(
                format!("{p}.block_interval"),
                format!(
                    "{steps} {what} over the run's {:.1} days is beyond the limit of {CHAIN_BLOCKS_MAX}: \
                     lengthen the interval or shorten the run",
                    span_us as f64 / US_PER_DAY as f64
                ),
            );
        }
        match &c.consensus {
            Consensus::Nakamoto { interval_us, .. } => {
                let spread_us = match &c.network {
                    Network::Abstract => typical_us(&c.propagation),
                    Network::Gossip(g) => g.typical_hop_us() as f64,
                };
                if (*interval_us as f64) <= spread_us {
                    return bad(
                        format!("{p}.block_interval"),
                        format!(
                            "{} is not longer than the time a block takes to spread ({}): nearly every block \
                             would fork",
                            crate::units::human_duration_s(*interval_us as f64 / 1e6),
                            crate::units::human_duration_s(spread_us / 1e6)
                        ),
                    );
                }
            }
            Consensus::Bft {
                round_timeout_us,
                message_delay,
                ..
            } => {
                let round_us = 3.0 * typical_us(message_delay);
                if (*round_timeout_us as f64) < round_us {
                    return bad(
                        format!("{p}.round_timeout"),
                        format!(
                            "{} is shorter than the three message delays a round needs (typically {}): no \
                             round could commit",
                            crate::units::human_duration_s(*round_timeout_us as f64 / 1e6),
                            crate::units::human_duration_s(round_us / 1e6)
                        ),
                    );
                }
            }
            Consensus::Pos { .. } => {}
        }
    }
    Ok(())
}

fn index_of(names: &[String], name: &str) -> Option<usize> {
    names.iter().position(|n| n == name)
}

/// The one pattern for every name that can reach a file or directory name (`name`, and the ids of banks,
/// domestic rails, rails, chains and corridors): an ASCII letter or digit, then up to 63 letters, digits, `.`, `_`
/// or `-`, with no `__` (the separator of histogram file names). So `..`, `a/b`, absolute paths and hidden names
/// can never be written, whatever the scenario says.
pub const SAFE_NAME_PATTERN: &str = "[A-Za-z0-9][A-Za-z0-9._-]{0,63} without \"__\"";

/// Checks `value` against `SAFE_NAME_PATTERN`.
pub fn safe_name(path: &str, value: &str) -> R<()> {
    let mut chars = value.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if value.is_empty() {
        return bad(path, "must not be empty");
    }
    if !first_ok || !rest_ok || value.len() > 64 || value.contains("__") {
        return bad(
            path,
            format!(
                "{value:?} is not a safe name: use {SAFE_NAME_PATTERN} (it becomes a file name)"
            ),
        );
    }
    Ok(())
}

fn unique_ids<'a>(section: &str, ids: impl Iterator<Item = &'a String>) -> R<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, id) in ids.enumerate() {
        safe_name(&format!("{section}[{i}].id"), id)?;
        if !seen.insert(id.clone()) {
            return bad(format!("{section}[{i}].id"), format!("duplicate id {id:?}"));
        }
        out.push(id.clone());
    }
    Ok(out)
}

fn zone(path: &str, name: &str) -> R<chrono_tz::Tz> {
    chrono_tz::Tz::from_str(name).or_else(|_| {
        bad(
            path,
            format!("unknown time zone {name:?} (use an IANA name such as \"Europe/Paris\")"),
        )
    })
}

fn parse_start(text: &str) -> R<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|e| {
            bad(
                "start",
                format!("{text:?} is not a UTC instant like \"2026-03-02T00:00:00Z\" ({e})"),
            )
        })
}

struct Ctx<'a> {
    s: &'a raw::Scenario,
    start: DateTime<Utc>,
    horizon_us: u64,
    cal_names: Vec<String>,
    bank_names: Vec<String>,
    dom_names: Vec<String>,
    rail_names: Vec<String>,
    fx: FxTable,
    /// `[liquidity] scale`, applied to every pre-funded level.
    liquidity_scale: f64,
}

impl Ctx<'_> {
    fn calendar_ref(&self, path: &str, name: &str) -> R<CalId> {
        index_of(&self.cal_names, name)
            .map(|i| CalId(i as u16))
            .ok_or_else(|| Invalid {
                path: path.into(),
                message: format!("no calendar named {name:?} under [calendars]"),
            })
    }
    fn bank_ref(&self, path: &str, name: &str) -> R<BankId> {
        index_of(&self.bank_names, name)
            .map(|i| BankId(i as u16))
            .ok_or_else(|| Invalid {
                path: path.into(),
                message: format!("no bank with id {name:?}"),
            })
    }
    fn dom_ref(&self, path: &str, name: &str) -> R<DomRailId> {
        index_of(&self.dom_names, name)
            .map(|i| DomRailId(i as u16))
            .ok_or_else(|| Invalid {
                path: path.into(),
                message: format!("no domestic rail with id {name:?}"),
            })
    }
    fn currency(&self, path: &str, code: &str) -> R<CurId> {
        // Crypto assets (declared by chains and chain rails) are in the FX table under their code.
        if let Some(i) = self.fx.currencies.iter().position(|c| c.code() == code) {
            return Ok(CurId(i as u16));
        }
        let c = Currency::from_code(code).ok_or_else(|| Invalid {
            path: path.into(),
            message: format!("unknown currency {code:?} (ISO 4217 code)"),
        })?;
        self.fx.find(c).ok_or_else(|| Invalid {
            path: path.into(),
            message: format!("currency {code} has no FX rate: add [[fx]] pair = \"USD/{code}\""),
        })
    }
}

/// Turns a parsed scenario into a runnable world.
pub fn validate(s: &raw::Scenario) -> R<World> {
    safe_name("name", &s.name)?;
    // The file, `--set seed=`, `--seed` and `sweep --seed` accept the same range: TOML's integers.
    if s.seed < 0 {
        return bad(
            "seed",
            format!(
                "must be between 0 and {} (the largest TOML integer)",
                i64::MAX
            ),
        );
    }
    let seed = s.seed as u64;
    let start = parse_start(&s.start.text())?;
    let demand_end_us = duration("duration", &s.duration)?;
    if demand_end_us == 0 {
        return bad("duration", "must be positive");
    }
    // A limit on everything: ten years of demand and of drain keep calendars, FX paths and hourly series small.
    if demand_end_us > 3650 * US_PER_DAY {
        return bad("duration", "must be at most 3650d");
    }
    let drain_us = duration("limits.drain", &s.limits.drain)?;
    if drain_us > 3650 * US_PER_DAY {
        return bad("limits.drain", "must be at most 3650d");
    }
    let max_time_us = match &s.limits.max_time {
        Some(t) => {
            let cap = duration("limits.max_time", t)?;
            if cap == 0 {
                return bad("limits.max_time", "must be positive");
            }
            cap.min(demand_end_us + drain_us)
        }
        None => demand_end_us + drain_us,
    };
    let mode = match s.mode.as_str() {
        "mirror" => Mode::Mirror,
        "split" => Mode::Split,
        other => {
            return bad(
                "mode",
                format!("unknown mode {other:?} (\"mirror\" or \"split\")"),
            );
        }
    };
    let horizon_us = max_time_us + 14 * US_PER_DAY;
    let fx = fx_table(s, (horizon_us / US_PER_DAY + 2) as usize)?;
    let cal_names: Vec<String> = s.calendars.keys().cloned().collect();
    let calendars = s
        .calendars
        .iter()
        .map(|(name, c)| calendar(&format!("calendars.{name}"), c, start, horizon_us))
        .collect::<R<Vec<_>>>()?;
    let bank_names = unique_ids("banks", s.banks.iter().map(|b| &b.id))?;
    let dom_names = unique_ids("domestic_rails", s.domestic_rails.iter().map(|d| &d.id))?;
    let rail_names = unique_ids("rails", s.rails.iter().map(|r| &r.id))?;
    let mut ctx = Ctx {
        s,
        start,
        horizon_us,
        cal_names,
        bank_names,
        dom_names,
        rail_names,
        fx,
        liquidity_scale: liquidity_scale(s)?,
    };
    let mut banks = s
        .banks
        .iter()
        .enumerate()
        .map(|(i, b)| bank(&ctx, i, b))
        .collect::<R<Vec<_>>>()?;
    let mut nostros = s
        .nostros
        .iter()
        .enumerate()
        .map(|(i, n)| nostro(&ctx, i, n))
        .collect::<R<Vec<_>>>()?;
    inventories(&ctx, &mut banks, &mut nostros)?;
    let chain_names = unique_ids("chains", s.chains.iter().map(|c| &c.id))?;
    let mut chains = s
        .chains
        .iter()
        .enumerate()
        .map(|(i, c)| crate::scenario::validate_chain::chain(i, c, seed))
        .collect::<R<Vec<_>>>()?;
    for (i, c) in s.chains.iter().enumerate() {
        chains[i].native = ctx.currency(&format!("chains[{i}].native"), &c.native)?;
        if let Some(name) = &c.operating_hours {
            chains[i].hours =
                Some(ctx.calendar_ref(&format!("chains[{i}].operating_hours"), name)?);
        }
    }
    let dom_rails = s
        .domestic_rails
        .iter()
        .enumerate()
        .map(|(i, d)| dom_rail(&ctx, &calendars, i, d))
        .collect::<R<Vec<_>>>()?;
    let rails = s
        .rails
        .iter()
        .enumerate()
        .map(|(i, r)| rail(&ctx, &chain_names, i, r))
        .collect::<R<Vec<_>>>()?;
    network_fee_bounds(&ctx.fx, &chains, &rails)?;
    chain_work_bounds(&chains, max_time_us)?;
    let mut corridors = Vec::new();
    let mut routes = Vec::new();
    let mut corridor_names = BTreeSet::new();
    for (i, c) in s.corridors.iter().enumerate() {
        safe_name(&format!("corridors[{i}].id"), &c.id)?;
        if !corridor_names.insert(c.id.clone()) {
            return bad(
                format!("corridors[{i}].id"),
                format!("duplicate id {:?}", c.id),
            );
        }
        corridors.push(corridor(
            &mut ctx,
            &rails,
            &banks,
            &nostros,
            i,
            c,
            &mut routes,
        )?);
    }
    if corridors.is_empty() && chains.is_empty() {
        return bad(
            "corridors",
            "a scenario needs at least one [[corridors]] entry (or a [[chains]] load test)",
        );
    }
    let rates = rates(s, &ctx.fx, &corridors, &routes)?;
    let Ctx {
        fx,
        cal_names,
        liquidity_scale,
        ..
    } = ctx;
    Ok(World {
        name: s.name.clone(),
        start,
        seed,
        mode,
        demand_end_us,
        max_time_us,
        max_events: s.limits.max_events,
        fx,
        calendars,
        calendar_names: cal_names,
        banks,
        nostros,
        dom_rails,
        rails,
        corridors,
        routes,
        chains,
        liquidity_scale,
        rates,
    })
}

/// `[rates]`: an annual rate in percent for each currency payments hold on their way (their source, a chain
/// rail's asset, the destination), by `CurId`. Every such currency needs one; a rate for a currency no payment
/// holds would have no effect.
fn rates(
    s: &raw::Scenario,
    fx: &FxTable,
    corridors: &[Corridor],
    routes: &[Route],
) -> R<Vec<Option<f64>>> {
    if s.rates.is_empty() {
        return Ok(Vec::new());
    }
    let mut held = vec![false; fx.currencies.len()];
    for r in routes {
        held[corridors[r.corridor.idx()].source.0 as usize] = true;
        for &(_, c) in &r.conversions {
            held[c.0 as usize] = true;
        }
    }
    let mut out = vec![None; fx.currencies.len()];
    for (code, &pct) in &s.rates {
        let path = format!("rates.{code}");
        let c = fx
            .currencies
            .iter()
            .position(|x| x.code() == code.as_str())
            .ok_or_else(|| Invalid {
                path: path.clone(),
                message: format!(
                    "unknown currency {code:?}: the scenario has no FX rate or asset by that code"
                ),
            })?;
        if !pct.is_finite() || !(0.0..=100.0).contains(&pct) {
            return bad(
                path,
                "an annual rate in percent, from 0 to 100 (4.33 for 4.33%)",
            );
        }
        if !held[c] {
            return bad(
                path,
                format!("no payment holds {code}: this rate would have no effect"),
            );
        }
        out[c] = Some(pct / 100.0);
    }
    if let Some(c) = (0..held.len()).find(|&c| held[c] && out[c].is_none()) {
        let code = fx.currencies[c].code();
        return bad(
            "rates",
            format!(
                "no rate for {code}, which payments hold on their way: give every such currency one (e.g. {code} = 4.33, \
                 in percent a year; an asset's rate is the cost of the money tied up in it)"
            ),
        );
    }
    Ok(out)
}

/// Crypto assets priced in USD: each chain's native coin, and each chain rail's asset with its price process.
fn assets(s: &raw::Scenario, specs: &mut Vec<RateSpec>) -> R<()> {
    let mut add = |path: &str, code: &str, decimals: u8, price: f64, process: PriceSpec| -> R<()> {
        if Currency::from_code(code).is_some() {
            return bad(
                path,
                format!("{code} is a fiat currency code; give the asset its own code"),
            );
        }
        // Assets move through i64 minor units and i128 conversions: 12 decimals keep both far from overflow.
        if decimals > 12 {
            return bad(
                path,
                "at most 12 decimals (use a coarser minor unit, e.g. 10^-12 ETH)",
            );
        }
        let currency = Currency::asset(code, decimals).ok_or_else(|| Invalid {
            path: path.into(),
            message: format!("{code:?} is not an asset code (1 to 8 letters or digits)"),
        })?;
        if let Some(prev) = specs.iter_mut().find(|x| x.currency.code() == code) {
            if prev.currency.exponent != decimals
                || (prev.per_usd - 1.0 / price).abs() > 1e-12 * prev.per_usd
            {
                return bad(
                    path,
                    format!("{code} is declared twice with different decimals or price"),
                );
            }
            // A rail moving a chain's native coin may give it the price process the chain did not; two rails
            // moving one asset must agree on it.
            if !prev.process.moves() {
                prev.process = process;
            } else if process.moves() && process != prev.process {
                return bad(
                    path,
                    format!("{code} is given two different price processes"),
                );
            }
            return Ok(());
        }
        if !(price.is_finite() && (1e-6..=1e9).contains(&price)) {
            return bad(
                path,
                format!("price must be between 1e-6 and 1e9 USD, got {price}"),
            );
        }
        specs.push(RateSpec {
            currency,
            per_usd: 1.0 / price,
            process,
        });
        Ok(())
    };
    for (i, c) in s.chains.iter().enumerate() {
        add(
            &format!("chains[{i}].native"),
            &c.native,
            c.native_decimals,
            c.native_price_usd,
            PriceSpec::default(),
        )?;
    }
    for (i, r) in s.rails.iter().enumerate() {
        if let Some(code) = &r.asset {
            let p = format!("rails[{i}]");
            let vol = at_most(
                &format!("{p}.asset_daily_vol_bps"),
                r.asset_daily_vol_bps.unwrap_or(0.0),
                DAILY_VOL_BPS_MAX,
            )?;
            let process = PriceSpec {
                value_usd: 0.0, // set from the price when the table is built
                daily_vol: vol / 10_000.0,
                jumps: jumps(&format!("{p}.asset_jumps"), r.asset_jumps.as_ref())?,
                peg: peg(&format!("{p}.asset_peg"), r.asset_peg.as_ref())?,
            };
            // A rail that moves a chain's native coin inherits its decimals and price.
            let native = s.chains.iter().find(|c| &c.native == code);
            let decimals = r
                .asset_decimals
                .or(native.map(|c| c.native_decimals))
                .unwrap_or(6);
            let price = r
                .asset_price_usd
                .or(native.map(|c| c.native_price_usd))
                .unwrap_or(1.0);
            add(&format!("{p}.asset"), code, decimals, price, process)?;
        }
    }
    Ok(())
}

/// Largest daily volatility, in bps (20% a day).
const DAILY_VOL_BPS_MAX: f64 = 2000.0;
/// Largest jump size (mean or standard deviation of the log size), in bps.
const JUMP_BPS_MAX: f64 = 5000.0;
/// Most jumps a day.
const JUMPS_PER_DAY_MAX: f64 = 100.0;
/// Largest peg deviation (stationary standard deviation), in bps.
const PEG_SD_BPS_MAX: f64 = 1000.0;

fn jumps(path: &str, j: Option<&raw::JumpsDef>) -> R<Option<Jumps>> {
    let Some(j) = j else { return Ok(None) };
    let per_day = at_most(&format!("{path}.per_day"), j.per_day, JUMPS_PER_DAY_MAX)?;
    let sd = at_most(&format!("{path}.sd_bps"), j.sd_bps, JUMP_BPS_MAX)?;
    if !(j.mean_bps.is_finite() && j.mean_bps.abs() <= JUMP_BPS_MAX) {
        return bad(
            format!("{path}.mean_bps"),
            format!(
                "must be between -{JUMP_BPS_MAX} and {JUMP_BPS_MAX}, got {}",
                j.mean_bps
            ),
        );
    }
    if per_day == 0.0 || (sd == 0.0 && j.mean_bps == 0.0) {
        return bad(
            path,
            "jumps need per_day > 0 and a size (sd_bps or mean_bps); leave the table out for none",
        );
    }
    Ok(Some(Jumps {
        per_day,
        mean_log: j.mean_bps / 10_000.0,
        sd_log: sd / 10_000.0,
    }))
}

fn peg(path: &str, p: Option<&raw::PegDef>) -> R<Option<Peg>> {
    let Some(p) = p else { return Ok(None) };
    let sd = at_most(&format!("{path}.sd_bps"), p.sd_bps, PEG_SD_BPS_MAX)?;
    if sd == 0.0 {
        return bad(
            format!("{path}.sd_bps"),
            "must be above 0 (leave asset_peg out for an exact peg)",
        );
    }
    let hl = duration(&format!("{path}.half_life"), &p.half_life)?;
    if !(US_PER_S..=365 * US_PER_DAY).contains(&hl) {
        return bad(format!("{path}.half_life"), "must be between 1s and 365d");
    }
    Ok(Some(Peg {
        sd_log: sd / 10_000.0,
        half_life_s: hl as f64 / US_PER_S as f64,
    }))
}

/// USD is always currency 0; every other currency is quoted against USD.
fn fx_table(s: &raw::Scenario, days: usize) -> R<FxTable> {
    let usd = Currency::usd();
    let mut specs = vec![RateSpec::fixed(usd, 1.0)];
    for (i, f) in s.fx.iter().enumerate() {
        let path = format!("fx[{i}]");
        let Some((base, quote)) = f.pair.split_once('/') else {
            return bad(
                format!("{path}.pair"),
                format!("{:?} is not a pair like \"USD/MXN\"", f.pair),
            );
        };
        let parse = |code: &str| {
            Currency::from_code(code.trim()).ok_or_else(|| Invalid {
                path: format!("{path}.pair"),
                message: format!("unknown currency {code:?} (ISO 4217 code)"),
            })
        };
        let (base, quote) = (parse(base)?, parse(quote)?);
        if !(f.mid.is_finite() && (1e-6..=1e6).contains(&f.mid)) {
            return bad(
                format!("{path}.mid"),
                format!("must be a rate between 1e-6 and 1e6, got {}", f.mid),
            );
        }
        let vol = at_most(
            &format!("{path}.daily_vol_bps"),
            f.daily_vol_bps,
            DAILY_VOL_BPS_MAX,
        )?;
        let process = PriceSpec {
            value_usd: 0.0, // set from the rate when the table is built
            daily_vol: vol / 10_000.0,
            jumps: jumps(&format!("{path}.jumps"), f.jumps.as_ref())?,
            peg: None,
        };
        let (currency, per_usd) = if base == usd && quote != usd {
            (quote, f.mid)
        } else if quote == usd && base != usd {
            (base, 1.0 / f.mid)
        } else {
            return bad(
                format!("{path}.pair"),
                "one side of the pair must be USD (cross rates go through USD)",
            );
        };
        if specs.iter().any(|x| x.currency == currency) {
            return bad(
                format!("{path}.pair"),
                format!("a second rate for {currency}"),
            );
        }
        specs.push(RateSpec {
            currency,
            per_usd,
            process,
        });
    }
    assets(s, &mut specs)?;
    Ok(FxTable::build(&specs, days, s.seed as u64))
}

fn calendar(
    path: &str,
    c: &raw::CalendarDef,
    start: DateTime<Utc>,
    horizon_us: u64,
) -> R<Calendar> {
    let zone = zone(&format!("{path}.zone"), &c.zone)?;
    let mut weekend = [false; 7];
    for (i, d) in c.weekend.iter().enumerate() {
        let day = parse_weekday(d).ok_or_else(|| Invalid {
            path: format!("{path}.weekend[{i}]"),
            message: format!("{d:?} is not a weekday (Mon, Tue, ... Sun)"),
        })?;
        weekend[day.num_days_from_monday() as usize] = true;
    }
    let holidays = c
        .holidays
        .iter()
        .enumerate()
        .map(|(i, h)| {
            NaiveDate::parse_from_str(h, "%Y-%m-%d").or_else(|_| {
                bad(
                    format!("{path}.holidays[{i}]"),
                    format!("{h:?} is not a date YYYY-MM-DD"),
                )
            })
        })
        .collect::<R<Vec<_>>>()?;
    let time = |field: &str, v: &str| {
        parse_local_time(v).ok_or_else(|| Invalid {
            path: format!("{path}.{field}"),
            message: format!("{v:?} is not a local time HH:MM"),
        })
    };
    let spec = CalendarSpec {
        zone,
        weekend,
        holidays,
        open: time("open", &c.open)?,
        cutoff: time("cutoff", &c.cutoff)?,
        always_open: c.always_open,
    };
    Calendar::build(&spec, start, horizon_us).or_else(|m| bad(path, m))
}

/// Largest staff or server count of a station.
const STAFF_MAX: u32 = 100_000;

/// A staff or server count: at least 1 and at most `STAFF_MAX`.
fn staff(path: &str, n: Option<u32>) -> R<Option<u32>> {
    match n {
        Some(0) => bad(path, "must be at least 1 (leave it out for unlimited)"),
        Some(n) if n > STAFF_MAX => bad(path, format!("must be at most {STAFF_MAX}, got {n}")),
        other => Ok(other),
    }
}

fn bank(ctx: &Ctx, i: usize, b: &raw::BankDef) -> R<Bank> {
    let p = format!("banks[{i}]");
    let screening = match &b.screening {
        None => None,
        Some(s) => Some(Screening {
            hit_rate: unit_interval(&format!("{p}.screening.hit_rate"), s.hit_rate)?,
            review: {
                let review = delay(&format!("{p}.screening.review"), &s.review)?;
                // A uniform review already has its top; any other shape gets the default escalation cap.
                if s.review.max.is_none() {
                    review.capped(REVIEW_MAX_DEFAULT_US)
                } else {
                    review
                }
            },
            reject_rate: unit_interval(&format!("{p}.screening.reject_rate"), s.reject_rate)?,
        }),
    };
    if b.country.len() != 2 || !b.country.chars().all(|c| c.is_ascii_uppercase()) {
        return bad(
            format!("{p}.country"),
            format!(
                "{:?} is not an ISO 3166 alpha-2 code like \"US\"",
                b.country
            ),
        );
    }
    Ok(Bank {
        name: b.id.clone(),
        country: b.country.clone(),
        calendar: ctx.calendar_ref(&format!("{p}.calendar"), &b.calendar)?,
        processing: delay(&format!("{p}.processing"), &b.processing)?,
        stp_rate: unit_interval(&format!("{p}.stp_rate"), b.stp_rate)?,
        repair: delay(&format!("{p}.repair"), &b.repair)?,
        screening,
        send_fee_usd: at_most(&format!("{p}.send_fee_usd"), b.send_fee_usd, FEE_USD_MAX)?,
        lifting_fee_usd: at_most(
            &format!("{p}.lifting_fee_usd"),
            b.lifting_fee_usd,
            FEE_USD_MAX,
        )?,
        receive_fee_usd: at_most(
            &format!("{p}.receive_fee_usd"),
            b.receive_fee_usd,
            FEE_USD_MAX,
        )?,
        fx_spread_centi_bps: {
            let bps = non_negative(&format!("{p}.fx_spread_bps"), b.fx_spread_bps)?;
            if bps >= 10_000.0 {
                return bad(format!("{p}.fx_spread_bps"), "must be below 10000 (100%)");
            }
            (bps * 100.0).round() as i64
        },
        deposit_confirmations: b.deposit_confirmations.min(10_000),
        payout_days: b.payout_days.map(|n| n.min(30)),
        withdrawal_batch_us: match &b.withdrawal_batch {
            Some(t) => {
                let us = duration(&format!("{p}.withdrawal_batch"), t)?;
                if us == 0 {
                    return bad(format!("{p}.withdrawal_batch"), "must be positive");
                }
                Some(us)
            }
            None => None,
        },
        withdrawal_limit_usd_cents: match b.withdrawal_limit_usd {
            Some(x) => Some(
                (at_most(&format!("{p}.withdrawal_limit_usd"), x, MONEY_MAJOR_MAX)? * 100.0).round()
                    as i64,
            ),
            None => None,
        },
        deposit_finality: b.deposit_finality,
        inventories: Vec::new(),
        staff: [
            staff(&format!("{p}.processing_staff"), b.processing_staff)?,
            staff(&format!("{p}.repair_staff"), b.repair_staff)?,
            staff(&format!("{p}.review_staff"), b.review_staff)?,
        ],
        desk_by_amount: match b.desk_order.as_deref() {
            None | Some("fifo") => false,
            Some("amount") => true,
            Some(other) => {
                return bad(
                    format!("{p}.desk_order"),
                    format!("unknown order {other:?} (\"fifo\" or \"amount\")"),
                );
            }
        },
    })
}

fn nostro(ctx: &Ctx, i: usize, n: &raw::NostroDef) -> R<Nostro> {
    let p = format!("nostros[{i}]");
    let owner = ctx.bank_ref(&format!("{p}.owner"), &n.owner)?;
    let at = ctx.bank_ref(&format!("{p}.at"), &n.at)?;
    if owner == at {
        return bad(format!("{p}.at"), "a bank cannot hold a nostro at itself");
    }
    let currency = ctx.currency(&format!("{p}.currency"), &n.currency)?;
    let balance = at_most(&format!("{p}.balance"), n.balance, MONEY_MAJOR_MAX)?;
    let balance = scaled(ctx, &format!("{p}.balance"), balance)?;
    let topup = topup(ctx, &format!("{p}.topup"), &n.topup, currency)?;
    Ok(Nostro {
        owner,
        at,
        currency,
        opening_minor: ctx.fx.currency(currency).minor_from_major_f64(balance),
        topup,
    })
}

fn dom_rail(ctx: &Ctx, calendars: &[Calendar], i: usize, d: &raw::DomesticRailDef) -> R<DomRail> {
    let p = format!("domestic_rails[{i}]");
    let kind = match d.kind.as_str() {
        "rtgs" => DomKind::Rtgs,
        "ach" => DomKind::Ach,
        "instant" => DomKind::Instant,
        other => {
            return bad(
                format!("{p}.kind"),
                format!("unknown kind {other:?} (\"rtgs\", \"ach\" or \"instant\")"),
            );
        }
    };
    let calendar = ctx.calendar_ref(&format!("{p}.calendar"), &d.calendar)?;
    if !(d.capacity_per_s.is_finite() && d.capacity_per_s > 0.0 && d.capacity_per_s <= 1e9) {
        return bad(
            format!("{p}.capacity_per_s"),
            format!("must be positive and at most 1e9, got {}", d.capacity_per_s),
        );
    }
    let exp_service = match d.service.as_str() {
        "fixed" => false,
        "exp" => true,
        other => {
            return bad(
                format!("{p}.service"),
                format!("unknown service {other:?} (\"fixed\" or \"exp\")"),
            );
        }
    };
    let servers = staff(&format!("{p}.servers"), d.servers)?.unwrap_or(1);
    let mut batch_closes = Vec::new();
    if kind == DomKind::Ach {
        if d.windows.is_empty() {
            return bad(
                format!("{p}.windows"),
                "an ACH rail needs at least one window close time",
            );
        }
        let times = d
            .windows
            .iter()
            .enumerate()
            .map(|(j, w)| {
                parse_local_time(w).ok_or_else(|| Invalid {
                    path: format!("{p}.windows[{j}]"),
                    message: format!("{w:?} is not a local time HH:MM"),
                })
            })
            .collect::<R<Vec<_>>>()?;
        batch_closes = ach_closes(
            &calendars[calendar.idx()],
            &ctx.s.calendars[&ctx.cal_names[calendar.idx()]].zone,
            &times,
            ctx.start,
            ctx.horizon_us,
        );
    } else if !d.windows.is_empty() {
        return bad(format!("{p}.windows"), "only ACH rails have batch windows");
    }
    let settlement_delay_us = duration(&format!("{p}.settlement_delay"), &d.settlement_delay)?;
    if kind != DomKind::Ach && settlement_delay_us != 0 {
        return bad(
            format!("{p}.settlement_delay"),
            "only ACH rails settle after a delay (RTGS and instant rails settle on submission): leave it out",
        );
    }
    Ok(DomRail {
        name: d.id.clone(),
        kind,
        calendar,
        fee_usd: at_most(&format!("{p}.fee_usd"), d.fee_usd, FEE_USD_MAX)?,
        service_us: 1e6 * servers as f64 / d.capacity_per_s,
        exp_service,
        servers,
        service: d
            .service_time
            .as_ref()
            .map(|s| delay(&format!("{p}.service_time"), s))
            .transpose()?,
        declared_station: d.servers.is_some() || d.service_time.is_some(),
        latency: delay(&format!("{p}.latency"), &d.latency)?,
        batch_closes,
        settlement_delay_us,
    })
}

/// The batch closes of an ACH rail: each window time on each business day of its calendar, as simulated time.
fn ach_closes(
    cal: &Calendar,
    zone_name: &str,
    times: &[chrono::NaiveTime],
    start: DateTime<Utc>,
    horizon_us: u64,
) -> Vec<u64> {
    let tz = chrono_tz::Tz::from_str(zone_name).expect("validated zone");
    let mut out = Vec::new();
    let mut t = 0;
    while t < horizon_us {
        let open = cal.next_open(t);
        if open == u64::MAX {
            break;
        }
        let utc = start + chrono::Duration::microseconds(open as i64);
        let date = utc.with_timezone(&tz).date_naive();
        for &time in times {
            if let Some(local) = tz.from_local_datetime(&date.and_time(time)).earliest() {
                let us = (local.with_timezone(&Utc) - start)
                    .num_microseconds()
                    .unwrap_or(-1);
                if us >= 0 {
                    out.push(us as u64);
                }
            }
        }
        t = cal
            .window_end(open)
            .unwrap_or(open + US_PER_HOUR)
            .max(open + 1);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The chain a chain or ledger rail names (`missing`: what to say when it names none).
fn chain_ref(p: &str, r: &raw::RailDef, chain_names: &[String], missing: &str) -> R<ChainId> {
    let name = r.chain.as_deref().ok_or_else(|| Invalid {
        path: format!("{p}.chain"),
        message: missing.into(),
    })?;
    index_of(chain_names, name)
        .map(|x| ChainId(x as u16))
        .ok_or_else(|| Invalid {
            path: format!("{p}.chain"),
            message: format!("no chain with id {name:?}"),
        })
}

fn rail(ctx: &Ctx, chain_names: &[String], i: usize, r: &raw::RailDef) -> R<Rail> {
    let p = format!("rails[{i}]");
    let bearer = match r.charge_bearer.as_str() {
        "OUR" => ChargeBearer::Our,
        "SHA" => ChargeBearer::Sha,
        "BEN" => ChargeBearer::Ben,
        other => {
            return bad(
                format!("{p}.charge_bearer"),
                format!("unknown charge bearer {other:?} (\"OUR\", \"SHA\" or \"BEN\")"),
            );
        }
    };
    let chain_fields = [
        ("chain", r.chain.is_some()),
        ("asset", r.asset.is_some()),
        ("asset_decimals", r.asset_decimals.is_some()),
        ("asset_price_usd", r.asset_price_usd.is_some()),
        ("asset_daily_vol_bps", r.asset_daily_vol_bps.is_some()),
        ("asset_jumps", r.asset_jumps.is_some()),
        ("asset_peg", r.asset_peg.is_some()),
        ("price_risk", r.price_risk.is_some()),
        ("fee_bid", r.fee_bid.is_some()),
        ("fee_policy", r.fee_policy.is_some()),
        ("duplicate_rate", r.duplicate_rate.is_some()),
        ("pvp", r.pvp.is_some()),
    ];
    let link_fields = [
        ("tx_limit", r.tx_limit.is_some()),
        ("daily_limit", r.daily_limit.is_some()),
        ("link_delay", r.link_delay.is_some()),
        ("link_fee_usd", r.link_fee_usd.is_some()),
        ("screening_budget", r.screening_budget.is_some()),
        ("on_screening_timeout", r.on_screening_timeout.is_some()),
    ];
    if r.kind != "ips_link"
        && let Some((field, _)) = link_fields.iter().find(|(_, present)| *present)
    {
        return bad(
            format!("{p}.{field}"),
            "only an ips_link rail has this field",
        );
    }
    let ledger_fields = [
        ("settlement_bank", r.settlement_bank.is_some()),
        ("settle_every", r.settle_every.is_some()),
        ("member_limit_usd", r.member_limit_usd.is_some()),
    ];
    if r.kind != "ledger"
        && let Some((field, _)) = ledger_fields.iter().find(|(_, present)| *present)
    {
        return bad(format!("{p}.{field}"), "only a ledger rail has this field");
    }
    let kind = match r.kind.as_str() {
        "correspondent" => {
            if let Some((field, _)) = chain_fields.iter().find(|(_, present)| *present) {
                return bad(format!("{p}.{field}"), "only a chain rail has this field");
            }
            RailKind::Correspondent
        }
        "chain" => {
            let chain = chain_ref(&p, r, chain_names, "a chain rail names its chain")?;
            let code = r.asset.as_deref().ok_or_else(|| Invalid {
                path: format!("{p}.asset"),
                message: "a chain rail names the asset it moves, e.g. \"USDT\"".into(),
            })?;
            let asset = ctx.currency(&format!("{p}.asset"), code)?;
            let market_fee = match r.fee_policy.as_deref().unwrap_or("fixed") {
                "fixed" => false,
                "market" => true,
                other => {
                    return bad(
                        format!("{p}.fee_policy"),
                        format!("unknown fee policy {other:?} (\"fixed\" or \"market\")"),
                    );
                }
            };
            let price_risk = match r.price_risk.as_deref() {
                None => PriceRisk::Customer,
                Some(_) if !ctx.fx.moves(asset) => {
                    return bad(
                        format!("{p}.price_risk"),
                        format!(
                            "{code}'s price never moves, so nobody bears a price move (give it \
                             asset_daily_vol_bps, asset_jumps or asset_peg)"
                        ),
                    );
                }
                Some("customer") => PriceRisk::Customer,
                Some("ramp") => PriceRisk::Ramp,
                Some(other) => {
                    return bad(
                        format!("{p}.price_risk"),
                        format!("unknown price risk bearer {other:?} (\"customer\" or \"ramp\")"),
                    );
                }
            };
            RailKind::Chain {
                chain,
                asset,
                fee_bid: r.fee_bid.unwrap_or(1).max(1),
                market_fee,
                duplicate_rate: unit_interval(
                    &format!("{p}.duplicate_rate"),
                    r.duplicate_rate.unwrap_or(0.0),
                )?,
                price_risk,
                pvp: r.pvp.unwrap_or(false),
            }
        }
        "ledger" => {
            if let Some((field, _)) = chain_fields
                .iter()
                .find(|(f, present)| *present && *f != "chain" && *f != "fee_bid")
            {
                return bad(
                    format!("{p}.{field}"),
                    "a ledger rail moves tokenised deposits in the payment's own currency: no asset fields",
                );
            }
            let chain = chain_ref(
                &p,
                r,
                chain_names,
                "a ledger rail names its ledger (a chain with consensus = \"bft\")",
            )?;
            if ctx.s.chains[chain.idx()].consensus != "bft" {
                return bad(
                    format!("{p}.chain"),
                    "a tokenised-deposit ledger is permissioned: its chain needs consensus = \"bft\"",
                );
            }
            let bank = r.settlement_bank.as_deref().ok_or_else(|| Invalid {
                path: format!("{p}.settlement_bank"),
                message: "a ledger rail names the bank that runs its net settlement".into(),
            })?;
            let bank = ctx.bank_ref(&format!("{p}.settlement_bank"), bank)?;
            let settle_every_us = r
                .settle_every
                .as_deref()
                .map(|d| duration(&format!("{p}.settle_every"), d))
                .transpose()?;
            if settle_every_us.is_some_and(|d| d < 60_000_000) {
                return bad(format!("{p}.settle_every"), "at least 1 minute");
            }
            let member_limit_usd_cents = match r.member_limit_usd {
                None => None,
                // Scaled like every pre-funded position: the limit is the liquidity a member commits.
                Some(x) if x > 0.0 && x <= 1e12 => {
                    let x = x * ctx.liquidity_scale;
                    if x > 1e12 {
                        return bad(
                            "liquidity.scale",
                            format!(
                                "{} scales {p}.member_limit_usd to {x}, above the limit of 1e12",
                                ctx.liquidity_scale
                            ),
                        );
                    }
                    Some((x * 100.0).round() as i64)
                }
                Some(_) => {
                    return bad(
                        format!("{p}.member_limit_usd"),
                        "a positive USD amount (at most 1e12)",
                    );
                }
            };
            RailKind::Ledger(LedgerRail {
                chain,
                fee_bid: r.fee_bid.unwrap_or(1).max(1),
                settlement_calendar: ctx.calendar_ref(
                    &format!("{p}.settlement_bank"),
                    &ctx.s.banks[bank.idx()].calendar,
                )?,
                settle_every_us,
                member_limit_usd_cents,
            })
        }
        "ips_link" => {
            if let Some((field, _)) = chain_fields.iter().find(|(_, present)| *present) {
                return bad(format!("{p}.{field}"), "only a chain rail has this field");
            }
            let limit = |field: &str, v: Option<f64>| -> R<Option<f64>> {
                match v {
                    Some(x) if !(x > 0.0 && x.is_finite() && x <= 1e12) => bad(
                        format!("{p}.{field}"),
                        "a positive amount in major units of the source currency (at most 1e12)",
                    ),
                    _ => Ok(v),
                }
            };
            let fee = r.link_fee_usd.unwrap_or(0.0);
            if !(0.0..=1_000.0).contains(&fee) {
                return bad(format!("{p}.link_fee_usd"), "between 0 and 1000 USD");
            }
            let screening_budget_us = r
                .screening_budget
                .as_deref()
                .map(|b| duration(&format!("{p}.screening_budget"), b))
                .transpose()?;
            let timeout_returns = match r.on_screening_timeout.as_deref() {
                None | Some("return") => true,
                Some("review") => false,
                Some(other) => {
                    return bad(
                        format!("{p}.on_screening_timeout"),
                        format!("unknown action {other:?} (\"return\" or \"review\")"),
                    );
                }
            };
            if r.on_screening_timeout.is_some() && screening_budget_us.is_none() {
                return bad(
                    format!("{p}.on_screening_timeout"),
                    "has no effect without screening_budget",
                );
            }
            RailKind::IpsLink(IpsLink {
                tx_limit: limit("tx_limit", r.tx_limit)?,
                daily_limit: limit("daily_limit", r.daily_limit)?,
                link_delay: match &r.link_delay {
                    Some(d) => delay(&format!("{p}.link_delay"), d)?,
                    None => Delay::Zero,
                },
                link_fee_usd: fee,
                screening_budget_us,
                timeout_returns,
            })
        }
        other => {
            return bad(
                format!("{p}.kind"),
                format!(
                    "unknown rail kind {other:?} (\"correspondent\", \"chain\", \"ips_link\" or \"ledger\")"
                ),
            );
        }
    };
    Ok(Rail {
        name: r.id.clone(),
        bearer,
        message_delay: delay(&format!("{p}.message_delay"), &r.message_delay)?,
        return_delay: delay(&format!("{p}.return_delay"), &r.return_delay)?,
        kind,
    })
}

/// Ramp inventories become accounts a bank holds with itself: a drained one queues conversions until its
/// daily top-up, exactly like a nostro shortfall.
fn inventories(ctx: &Ctx, banks: &mut [Bank], nostros: &mut Vec<Nostro>) -> R<()> {
    for (i, inv) in ctx.s.inventories.iter().enumerate() {
        let p = format!("inventories[{i}]");
        let owner = ctx.bank_ref(&format!("{p}.owner"), &inv.owner)?;
        let currency = ctx.currency(&format!("{p}.currency"), &inv.currency)?;
        if banks[owner.idx()]
            .inventories
            .iter()
            .any(|&(c, _)| c == currency)
        {
            return bad(
                format!("{p}.currency"),
                format!("a second {} inventory for {:?}", inv.currency, inv.owner),
            );
        }
        let balance = at_most(&format!("{p}.balance"), inv.balance, MONEY_MAJOR_MAX)?;
        let balance = scaled(ctx, &format!("{p}.balance"), balance)?;
        let topup = topup(ctx, &format!("{p}.topup"), &inv.topup, currency)?;
        nostros.push(Nostro {
            owner,
            at: owner,
            currency,
            opening_minor: ctx.fx.currency(currency).minor_from_major_f64(balance),
            topup,
        });
        banks[owner.idx()]
            .inventories
            .push((currency, NostroId(nostros.len() as u32 - 1)));
    }
    Ok(())
}

fn profile<const N: usize>(path: &str, v: &[f64]) -> R<[f64; N]> {
    if v.is_empty() {
        return Ok([1.0; N]);
    }
    if v.len() != N {
        return bad(path, format!("needs {N} factors, got {}", v.len()));
    }
    let mut out = [0.0; N];
    for (i, &x) in v.iter().enumerate() {
        out[i] = at_most(&format!("{path}[{i}]"), x, 1000.0)?;
    }
    if out.iter().all(|&x| x == 0.0) {
        return bad(path, "at least one factor must be positive");
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn corridor(
    ctx: &mut Ctx,
    rails: &[Rail],
    banks: &[Bank],
    nostros: &[Nostro],
    i: usize,
    c: &raw::CorridorDef,
    routes: &mut Vec<Route>,
) -> R<Corridor> {
    let p = format!("corridors[{i}]");
    let source = ctx.currency(&format!("{p}.source_currency"), &c.source_currency)?;
    let dest = ctx.currency(&format!("{p}.dest_currency"), &c.dest_currency)?;
    let rate = at_most(&format!("{p}.payments_per_day"), c.payments_per_day, 1e9)?;
    if c.routes.is_empty() {
        return bad(
            format!("{p}.routes"),
            format!(
                "corridor {:?} has no rail: add a [[corridors.routes]] entry",
                c.id
            ),
        );
    }
    let a = &c.amount;
    if !(a.median.is_finite() && a.median > 0.0 && a.median <= MONEY_MAJOR_MAX) {
        return bad(
            format!("{p}.amount.median"),
            format!(
                "must be positive and at most {MONEY_MAJOR_MAX}, got {}",
                a.median
            ),
        );
    }
    at_most(&format!("{p}.amount.sigma"), a.sigma, 5.0)?;
    let scale = ctx.fx.currency(source);
    let amount_min_minor = scale
        .minor_from_major_f64(at_most(
            &format!("{p}.amount.min"),
            a.min.unwrap_or(0.01),
            MONEY_MAJOR_MAX,
        )?)
        .max(1);
    let amount_max_minor = match a.max {
        Some(m) => {
            scale.minor_from_major_f64(at_most(&format!("{p}.amount.max"), m, MONEY_MAJOR_MAX)?)
        }
        None => scale.minor_from_major_f64(MONEY_MAJOR_MAX),
    };
    if amount_max_minor < amount_min_minor {
        return bad(format!("{p}.amount.max"), "must not be below amount.min");
    }
    let cid = CorridorId(i as u16);
    let median_usd = ctx
        .fx
        .usd_cents(scale.minor_from_major_f64(a.median), source, 0) as f64
        / 100.0;
    let mut route_ids = Vec::new();
    let mut rails_seen = BTreeSet::new();
    for (j, r) in c.routes.iter().enumerate() {
        let rp = format!("{p}.routes[{j}]");
        let rail = index_of(&ctx.rail_names, &r.rail)
            .map(|x| RailId(x as u16))
            .ok_or_else(|| Invalid {
                path: format!("{rp}.rail"),
                message: format!("no rail with id {:?}", r.rail),
            })?;
        if !rails_seen.insert(rail) {
            return bad(
                format!("{rp}.rail"),
                format!("rail {:?} has two routes in this corridor", r.rail),
            );
        }
        let share = non_negative(&format!("{rp}.share"), r.share)?;
        let kind = &rails[rail.idx()].kind;
        let route = route(
            ctx, banks, nostros, &rp, r, rail, kind, cid, share, source, dest, median_usd,
        )?;
        // The corridor's countries are what its routes connect: the first bank is the originator's, in
        // `from_country`, the last the beneficiary's, in `to_country`.
        let ends = [
            ("from_country", &c.from_country, route.path[0], "first"),
            (
                "to_country",
                &c.to_country,
                route.path[route.path.len() - 1],
                "last",
            ),
        ];
        for (field, country, b, which) in ends {
            let bank = &banks[b.idx()];
            if bank.country != *country {
                return bad(
                    format!("{p}.{field}"),
                    format!(
                        "is {country:?} but route {j}'s {which} bank {:?} is in {:?}",
                        bank.name, bank.country
                    ),
                );
            }
        }
        routes.push(route);
        route_ids.push(RouteId(routes.len() as u16 - 1));
    }
    // In split mode the shares are the routing weights: a route with share 0 gets nothing, and shares that are
    // all zero route nothing at all, which is a mistake, not a scenario.
    if ctx.s.mode == "split" && c.routes.iter().all(|r| r.share == 0.0) {
        return bad(
            format!("{p}.routes"),
            "every route has share 0: in split mode at least one share must be positive",
        );
    }
    let zone = match &c.zone {
        Some(z) => zone(&format!("{p}.zone"), z)?,
        None => {
            let first = routes[route_ids[0].idx()].path[0];
            let cal = banks[first.idx()].calendar;
            chrono_tz::Tz::from_str(&ctx.s.calendars[&ctx.cal_names[cal.idx()]].zone)
                .expect("validated zone")
        }
    };
    Ok(Corridor {
        name: c.id.clone(),
        source,
        dest,
        payments_per_day: rate,
        zone,
        diurnal: profile::<24>(&format!("{p}.diurnal"), &c.diurnal)?,
        weekday: profile::<7>(&format!("{p}.weekday"), &c.weekday)?,
        amount_mu: a.median.ln(),
        amount_sigma: a.sigma,
        amount_min_minor,
        amount_max_minor,
        routes: route_ids,
    })
}

#[allow(clippy::too_many_arguments)]
fn route(
    ctx: &Ctx,
    banks: &[Bank],
    nostros: &[Nostro],
    rp: &str,
    r: &raw::RouteDef,
    rail: RailId,
    rail_kind: &RailKind,
    corridor: CorridorId,
    share: f64,
    source: CurId,
    dest: CurId,
    median_usd: f64,
) -> R<Route> {
    let dom = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|d| ctx.dom_ref(&format!("{rp}.{field}"), d))
            .transpose()
    };
    let (path, convert_at) = if r.path.is_empty() {
        let origin = r.origin.as_deref().ok_or_else(|| Invalid {
            path: rp.into(),
            message: "give a path, or origin and beneficiary for the cheapest path".into(),
        })?;
        let benef = r.beneficiary.as_deref().ok_or_else(|| Invalid {
            path: format!("{rp}.beneficiary"),
            message: "needed beside origin for the cheapest path".into(),
        })?;
        let o = ctx.bank_ref(&format!("{rp}.origin"), origin)?;
        let b = ctx.bank_ref(&format!("{rp}.beneficiary"), benef)?;
        cheapest_path(banks, nostros, o, b, source, dest, median_usd).ok_or_else(|| Invalid {
            path: rp.into(),
            message: format!(
                "no chain of nostro relationships carries {} from {origin:?} to {benef:?}",
                ctx.fx.currency(source)
            ),
        })?
    } else {
        if r.origin.is_some() || r.beneficiary.is_some() {
            return bad(rp, "give either path or origin/beneficiary, not both");
        }
        let path = r
            .path
            .iter()
            .enumerate()
            .map(|(k, b)| ctx.bank_ref(&format!("{rp}.path[{k}]"), b))
            .collect::<R<Vec<_>>>()?;
        for k in 1..path.len() {
            if path[..k].contains(&path[k]) {
                return bad(format!("{rp}.path[{k}]"), "a route visits this bank twice");
            }
        }
        let convert_at = match &r.convert_at {
            Some(name) => {
                let b = ctx.bank_ref(&format!("{rp}.convert_at"), name)?;
                Some(path.iter().position(|&x| x == b).ok_or_else(|| Invalid {
                    path: format!("{rp}.convert_at"),
                    message: format!("bank {name:?} is not on the route's path"),
                })?)
            }
            None if source != dest
                && matches!(
                    rail_kind,
                    RailKind::Correspondent | RailKind::IpsLink(_) | RailKind::Ledger(_)
                ) =>
            {
                return bad(
                    format!("{rp}.convert_at"),
                    "source and destination currencies differ: say which bank on the path converts",
                );
            }
            None => None,
        };
        (path, convert_at)
    };
    let convert_at = if source == dest { None } else { convert_at };
    // Every kind of route ends the same way: its path, its conversion points and how each hop settles.
    let build = |path: Vec<BankId>, conversions: Vec<(usize, CurId)>, hops: Vec<HopFunding>| {
        Ok(Route {
            rail,
            corridor,
            share,
            path,
            conversions,
            hops,
            first_mile: dom("first_mile", &r.first_mile)?,
            last_mile: dom("last_mile", &r.last_mile)?,
        })
    };
    if let RailKind::Chain {
        chain, asset, pvp, ..
    } = rail_kind
    {
        if path.len() != 2 || r.convert_at.is_some() {
            return bad(
                format!("{rp}.path"),
                "a chain rail's path is [on-ramp, off-ramp]: the first buys the asset, the last sells it",
            );
        }
        if *pvp
            && banks[path[1].idx()]
                .inventories
                .iter()
                .any(|&(c, _)| c == dest)
        {
            return bad(
                format!("{rp}.path[1]"),
                format!(
                    "on a PvP rail the receiving bank converts on the platform at the commit: it cannot sell {} \
                     from an inventory (remove the inventory or pvp)",
                    ctx.fx.currency(dest)
                ),
            );
        }
        return build(
            path,
            vec![(0, *asset), (1, dest)],
            vec![HopFunding::Chain(*chain)],
        );
    }
    if !r.via.is_empty() && !matches!(rail_kind, RailKind::IpsLink(_)) {
        return bad(
            format!("{rp}.via"),
            "only a route of an ips_link rail has this field",
        );
    }
    if let RailKind::Ledger(l) = rail_kind {
        if path.len() != 2 {
            return bad(
                format!("{rp}.path"),
                "a ledger rail's path is [sending member, receiving member]",
            );
        }
        return build(
            path,
            convert_at.map(|c| (c, dest)).into_iter().collect(),
            vec![HopFunding::Ledger(l.chain)],
        );
    }
    if let RailKind::IpsLink(_) = rail_kind {
        if r.via.len() != path.len() - 1 {
            return bad(
                format!("{rp}.via"),
                format!(
                    "one instant payment system per hop: {} for a path of {} banks",
                    path.len() - 1,
                    path.len()
                ),
            );
        }
        let mut hops = Vec::new();
        for (k, name) in r.via.iter().enumerate() {
            let field = format!("{rp}.via[{k}]");
            let d = ctx.dom_ref(&field, name)?;
            if ctx.s.domestic_rails[d.idx()].kind != "instant" {
                return bad(
                    field,
                    format!("{name:?} is not an instant payment system (kind \"instant\")"),
                );
            }
            hops.push(HopFunding::Instant(d));
        }
        return build(
            path,
            convert_at.map(|c| (c, dest)).into_iter().collect(),
            hops,
        );
    }
    let mut hops = Vec::new();
    for k in 0..path.len() - 1 {
        let cur = if convert_at.is_some_and(|c| k >= c) {
            dest
        } else {
            source
        };
        let funding = hop_funding(nostros, path[k], path[k + 1], cur).ok_or_else(|| Invalid {
            path: format!("{rp}.path[{}]", k + 1),
            message: format!(
                "no nostro in {} between {:?} and {:?} to settle this hop",
                ctx.fx.currency(cur),
                banks[path[k].idx()].name,
                banks[path[k + 1].idx()].name
            ),
        })?;
        hops.push(funding);
    }
    build(
        path,
        convert_at.map(|c| (c, dest)).into_iter().collect(),
        hops,
    )
}

/// The sender's account at the receiver if it has one, else the receiver's account at the sender.
fn hop_funding(nostros: &[Nostro], a: BankId, b: BankId, c: CurId) -> Option<HopFunding> {
    let find = |owner, at| {
        nostros
            .iter()
            .position(|n| n.owner == owner && n.at == at && n.currency == c)
    };
    find(a, b)
        .map(|i| HopFunding::SenderNostro(NostroId(i as u32)))
        .or_else(|| find(b, a).map(|i| HopFunding::ReceiverNostro(NostroId(i as u32))))
}

/// Dijkstra over (bank, converted?) states: a hop costs the next bank's lifting fee, converting costs the bank's
/// spread on the corridor's median amount. Costs are integer cents, ties break by bank order: deterministic.
fn cheapest_path(
    banks: &[Bank],
    nostros: &[Nostro],
    origin: BankId,
    benef: BankId,
    source: CurId,
    dest: CurId,
    median_usd: f64,
) -> Option<(Vec<BankId>, Option<usize>)> {
    let n = banks.len();
    let needs_fx = source != dest;
    let state = |b: BankId, conv: bool| b.idx() * 2 + conv as usize;
    let mut dist = vec![u64::MAX; n * 2];
    let mut prev: Vec<Option<usize>> = vec![None; n * 2];
    let mut heap = BinaryHeap::new();
    let s0 = state(origin, false);
    dist[s0] = 0;
    heap.push(Reverse((0_u64, s0)));
    let cents = |usd: f64| (usd * 100.0).round() as u64;
    while let Some(Reverse((d, s))) = heap.pop() {
        if d > dist[s] {
            continue;
        }
        let (b, conv) = (BankId((s / 2) as u16), s % 2 == 1);
        let mut relax = |t: usize, cost: u64, heap: &mut BinaryHeap<Reverse<(u64, usize)>>| {
            if d + cost < dist[t] {
                dist[t] = d + cost;
                prev[t] = Some(s);
                heap.push(Reverse((d + cost, t)));
            }
        };
        if needs_fx && !conv {
            let spread = banks[b.idx()].fx_spread_centi_bps as f64 / 1e6 * median_usd;
            relax(state(b, true), cents(spread), &mut heap);
        }
        let cur = if conv || !needs_fx { dest } else { source };
        let mut next: BTreeMap<usize, ()> = BTreeMap::new();
        for nst in nostros.iter().filter(|x| x.currency == cur) {
            if nst.owner == b {
                next.insert(nst.at.idx(), ());
            } else if nst.at == b {
                next.insert(nst.owner.idx(), ());
            }
        }
        for &t in next.keys() {
            let fee = if t == benef.idx() {
                0.0
            } else {
                banks[t].lifting_fee_usd
            };
            relax(state(BankId(t as u16), conv), cents(fee), &mut heap);
        }
    }
    let goal = state(benef, needs_fx);
    if dist[goal] == u64::MAX {
        return None;
    }
    let mut states = vec![goal];
    while let Some(p) = prev[*states.last().expect("non-empty")] {
        states.push(p);
    }
    states.reverse();
    let mut path: Vec<BankId> = Vec::new();
    let mut convert_at = None;
    for s in states {
        let b = BankId((s / 2) as u16);
        if path.last() != Some(&b) {
            path.push(b);
        }
        if s % 2 == 1 && convert_at.is_none() {
            convert_at = Some(path.len() - 1);
        }
    }
    Some((path, convert_at))
}
