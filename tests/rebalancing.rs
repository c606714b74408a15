//! Threshold top-up policies (rebalancing that takes time), on tests/fixtures/ramp.toml: a 24/7 off-ramp pays
//! 1,000 USD payments (17,000 MXN each, no spread, a fixed rate) out of a 200,000 MXN inventory that a wire
//! refills on Mexico City business days (09:00–17:00, no DST): threshold 100,000, target 400,000, 2 h of the
//! wire's open hours, USD 25 + 10 bps a request. Each test names the bug it catches.

mod common;

use chrono::{Datelike, Duration, NaiveTime, Timelike, Weekday};
use proptest::prelude::*;
use settlesim::model::record::{PaymentRecord, Place, Stage, Step};
use settlesim::model::sim::{self, Outcome, Rebalance, RunOptions};
use settlesim::model::world::RailId;
use settlesim::scenario::{self, Loaded};

const RAMP: &str = include_str!("fixtures/ramp.toml");
const HOUR: u64 = 3_600_000_000;

struct Run {
    loaded: Loaded,
    outcome: Outcome,
    records: Vec<PaymentRecord>,
}

fn run_text(name: &str, text: &str, overrides: &[&str]) -> Run {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let loaded = scenario::load(name, text, &o).unwrap_or_else(|e| panic!("{e}"));
    let mut records = Vec::new();
    let (outcome, _) = sim::run(
        &loaded.world,
        |r: &PaymentRecord| records.push(r.clone()),
        &RunOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    records.sort_by_key(|r| r.id);
    Run {
        loaded,
        outcome,
        records,
    }
}

fn ramp(overrides: &[&str]) -> Run {
    run_text("ramp.toml", RAMP, overrides)
}

impl Run {
    /// Mexico City local time of a simulated instant (UTC−6 all year since 2022).
    fn mx(&self, t_us: u64) -> chrono::DateTime<chrono_tz::Tz> {
        (self.loaded.world.start + Duration::microseconds(t_us as i64))
            .with_timezone(&chrono_tz::America::Mexico_City)
    }
    fn trace(&self, id: u64) -> Vec<settlesim::model::record::TraceStep> {
        let (outcome, _) = sim::run(
            &self.loaded.world,
            |_: &PaymentRecord| {},
            &RunOptions {
                trace_payment: Some(id),
            },
        )
        .unwrap();
        outcome.trace
    }
    fn requests(&self) -> &[Rebalance] {
        assert!(
            !self.outcome.rebalances.is_empty(),
            "the fixture must rebalance"
        );
        &self.outcome.rebalances
    }
}

/// Catches: a request at a balance equal to the threshold (`<=` for `<`), or a request amount that ignores the
/// balance. With the threshold at 115,000 the fifth payment leaves exactly 115,000 (no request) and the sixth
/// 98,000: the first request leaves at the sixth conversion, for 400,000 − 98,000.
#[test]
fn a_request_leaves_when_the_balance_falls_below_the_threshold() {
    let run = ramp(&[
        "inventories[1].topup={ policy = \"threshold\", threshold = 115000, target = 400000, delay = \"2h\", calendar = \"mx\", fee_usd = 25, fee_bps = 10 }",
    ]);
    let first = &run.requests()[0];
    assert_eq!(first.balance_minor, 9_800_000);
    assert_eq!(first.amount_minor, 30_200_000);
    assert_eq!(first.waiting, 0);
    let offramp = Place::Bank(settlesim::model::world::BankId(1));
    let mut sales: Vec<u64> = run.records[..12]
        .iter()
        .flat_map(|r| run.trace(r.id))
        .filter(|s| s.place == offramp && matches!(s.step, Step::Converted { .. }))
        .map(|s| s.t_us)
        .collect();
    sales.sort_unstable();
    assert_eq!(
        first.requested_us, sales[5],
        "the request leaves with the sixth sale"
    );
    // Every later request finds the balance below the threshold or a payment waiting.
    for r in run.requests() {
        assert!(
            r.balance_minor < 11_500_000 || r.waiting > 0,
            "{r:?} was not due"
        );
    }
}

/// The arrival a wire on Mexico City business days (09:00–17:00, Monday to Friday) gives a 2 h funding time,
/// worked out by hand: counted from the request (or the next opening), pausing from the cut-off to the opening.
fn expected_arrival(run: &Run, requested_us: u64) -> u64 {
    let open = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    let cutoff = NaiveTime::from_hms_opt(17, 0, 0).unwrap();
    let business = |d: chrono::NaiveDate| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    let local = run.mx(requested_us);
    let mut left = Duration::hours(2);
    let mut day = local.date_naive();
    let mut from = local.time().max(open);
    loop {
        if business(day) && from < cutoff {
            let room = cutoff - from;
            if left <= room {
                let at = day.and_time(from) + left;
                // Both in local time, at a fixed offset: the difference is simulated time.
                let us = (at - run.mx(0).naive_local()).num_microseconds().unwrap();
                return us as u64;
            }
            left -= room;
        }
        day = day.succ_opt().unwrap();
        from = open;
    }
}

/// Catches: funding time counted in calendar time (arriving after the cut-off or at the weekend), counted
/// from the request instead of the next opening, or the funding calendar ignored.
#[test]
fn funds_arrive_after_the_delay_in_the_funding_calendars_open_hours() {
    let run = ramp(&[]);
    assert_eq!(
        run.mx(0).hour(),
        18,
        "the fixture starts at 18:00 Sunday local"
    );
    let mut inside = 0;
    let mut outside = 0;
    for r in run.requests() {
        let Some(at) = r.arrives_us else { continue };
        assert_eq!(at, expected_arrival(&run, r.requested_us), "{r:?}");
        let local = run.mx(at);
        assert!(
            !matches!(local.weekday(), Weekday::Sat | Weekday::Sun)
                && (9..=17).contains(&local.hour()),
            "arrives {local}"
        );
        if at == r.requested_us + 2 * HOUR {
            inside += 1;
        } else {
            outside += 1;
        }
    }
    assert!(
        inside >= 3 && outside >= 3,
        "requests in and out of hours: {inside}, {outside}"
    );
    // The same policy on a 24/7 funding rail arrives exactly 2 h after every request.
    let always = ramp(&[
        "inventories[1].topup={ policy = \"threshold\", threshold = 100000, target = 400000, delay = \"2h\" }",
    ]);
    for r in always.requests() {
        if let Some(at) = r.arrives_us {
            assert_eq!(at, r.requested_us + 2 * HOUR);
        }
    }
}

/// Catches: a second request while one is in flight (funding the same shortfall twice).
#[test]
fn at_most_one_request_is_in_flight() {
    let run = ramp(&[]);
    for w in run.requests().windows(2) {
        let arrived = w[0]
            .arrives_us
            .expect("only the last may arrive after the run");
        assert!(
            w[1].requested_us >= arrived,
            "{:?} left before {:?} arrived",
            w[1],
            w[0]
        );
    }
}

/// The drained inventory over a weekend: on Friday evening (local) the balance falls below the threshold, the
/// wire moves on Monday, and every payment that reaches the off-ramp in between waits for it.
#[test]
fn a_drained_inventory_waits_over_the_weekend_for_mondays_wire() {
    let run = ramp(&[]);
    let weekend = run
        .requests()
        .iter()
        .find(|r| {
            let l = run.mx(r.requested_us);
            l.weekday() == Weekday::Fri && l.hour() >= 17
        })
        .expect("a request after Friday's cut-off");
    let monday = run.mx(weekend.arrives_us.unwrap());
    assert_eq!(monday.weekday(), Weekday::Mon);
    assert_eq!((monday.hour(), monday.minute()), (11, 0));
    // The payments created over the weekend (after the request) waited for funding until Monday's wire.
    let sat_sun: Vec<&PaymentRecord> = run
        .records
        .iter()
        .filter(|r| {
            r.created_us > weekend.requested_us
                && matches!(run.mx(r.created_us).weekday(), Weekday::Sat | Weekday::Sun)
        })
        .collect();
    assert!(sat_sun.len() >= 20, "{} weekend payments", sat_sun.len());
    // The balance left at the request (94,000 MXN) pays five more 17,000 MXN payments (some of them still on
    // Friday evening); every later one waits for Monday.
    assert_eq!(weekend.balance_minor, 9_400_000);
    let waited: Vec<&&PaymentRecord> = sat_sun
        .iter()
        .filter(|r| r.stages_us[Stage::NostroWait.idx()] > 0)
        .collect();
    assert!(waited.len() >= sat_sun.len() - 5);
    for r in &waited {
        assert!(
            r.ended_us.unwrap() >= weekend.arrives_us.unwrap(),
            "payment {} settled before the wire",
            r.id
        );
        assert!(r.stages_us[Stage::NostroWait.idx()] > 12 * HOUR);
    }
    for r in waited.iter().take(5) {
        let funded = run
            .trace(r.id)
            .into_iter()
            .find(|s| matches!(s.step, Step::NostroFunded { .. }))
            .expect("funded");
        assert_eq!(funded.t_us, weekend.arrives_us.unwrap(), "payment {}", r.id);
    }
    // The queue on Monday is in the request that follows the weekend wire.
    let next = run
        .requests()
        .iter()
        .find(|r| r.requested_us == weekend.arrives_us.unwrap())
        .expect("a request on arrival: the queue needs more than the wire brought");
    assert!(next.waiting >= 20, "{next:?}");
}

/// Catches: a fee that leaves out the fixed or the proportional part, or totals that drift from the requests.
#[test]
fn each_request_costs_its_fee_and_the_summary_adds_them_up() {
    let run = ramp(&[]);
    let mut amount_cents = 0;
    let mut fee_cents = 0;
    for r in run.requests() {
        // USD 25 at 17 MXN/USD is 425.00 MXN; 10 bps of the amount, rounded half up to the centavo.
        let bps = (r.amount_minor * 10 + 5_000) / 10_000;
        assert_eq!(r.fee_minor, 42_500 + bps, "{r:?}");
        assert_eq!(r.fee_usd_cents, (r.fee_minor * 100 + 850) / 1_700);
        amount_cents += r.amount_usd_cents;
        fee_cents += r.fee_usd_cents;
    }
    let all = run.outcome.metrics.rail_total(RailId(0));
    assert_eq!(all.rebalancings, run.requests().len() as u64);
    assert_eq!(all.rebalanced_usd_cents, amount_cents);
    assert_eq!(all.rebalancing_cost_cents, fee_cents);
    // The customer's cost is untouched: the rebalancing cost is the ramp's, reported per rail.
    assert!(run.records.iter().all(|r| r.cost.total() == 0));
}

/// Catches: the table forms of "daily" and "none" drifting from the names.
#[test]
fn daily_and_none_as_tables_mean_what_the_names_mean() {
    let named = common::run(&["nostros[0].balance=3000"]);
    let table = common::run(&[
        "nostros[0].balance=3000",
        "nostros[0].topup={ policy = \"daily\" }",
    ]);
    assert_eq!(named.records, table.records);
    let named = ramp(&["inventories[1].topup=\"none\""]);
    let table = ramp(&["inventories[1].topup={ policy = \"none\" }"]);
    assert_eq!(named.records, table.records);
    assert!(named.outcome.rebalances.is_empty());
}

/// A nostro on a threshold policy: correspondent payments queue on the shortfall and the wire's arrival releases
/// them in order; with no delay and a 24/7 funding rail, no payment waits past the moment it reached the hop.
#[test]
fn a_nostro_on_a_threshold_policy_is_refilled_on_its_calendar() {
    let run = common::run(&[
        "nostros[0].balance=3000",
        "corridors[0].amount={ median = 1000, sigma = 0.0 }",
        "corridors[0].payments_per_day=40",
        "nostros[0].topup={ policy = \"threshold\", threshold = 2000, target = 5000, delay = \"3h\", calendar = \"ny\", fee_usd = 15 }",
    ]);
    let reqs = &run.outcome.rebalances;
    assert!(reqs.len() >= 5, "{} requests", reqs.len());
    for r in reqs {
        if let Some(at) = r.arrives_us {
            let local = run.ny(at);
            assert!((8..=17).contains(&local.hour()), "{local}");
        }
    }
    assert!(
        run.records
            .iter()
            .any(|r| r.stages_us[Stage::NostroWait.idx()] > 0)
    );
    let instant = common::run(&[
        "nostros[0].balance=3000",
        "corridors[0].amount={ median = 1000, sigma = 0.0 }",
        "corridors[0].payments_per_day=40",
        "nostros[0].topup={ policy = \"threshold\", threshold = 2000, target = 5000 }",
    ]);
    assert!(
        instant
            .records
            .iter()
            .all(|r| r.stages_us[Stage::NostroWait.idx()] == 0)
    );
}

/// Random policies and scales on both fixtures: money is conserved (the run checks the ledger, with funds on
/// their way in the funding accounts), no payment is lost, requests never overlap.
fn policy() -> impl Strategy<Value = (String, f64)> {
    (
        0.0f64..300_000.0,
        0.0f64..600_000.0,
        prop::sample::select(vec!["0s", "30m", "2h", "9h", "3d"]),
        prop::sample::select(vec!["", ", calendar = \"mx\"", ", calendar = \"always\""]),
        0.0f64..50.0,
        0.0f64..40.0,
        prop::sample::select(vec![0.0, 0.25, 1.0, 3.0]),
    )
        .prop_map(|(a, b, delay, cal, fee, bps, scale)| {
            let (t, g) = if a <= b { (a, b) } else { (b, a) };
            (
                format!(
                    "{{ policy = \"threshold\", threshold = {t:.2}, target = {g:.2}, delay = \"{delay}\"{cal}, fee_usd = {fee:.2}, fee_bps = {bps:.2} }}"
                ),
                scale,
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn rebalancing_conserves_money_and_loses_nothing((topup, scale) in policy()) {
        let t = format!("inventories[1].topup={topup}");
        let s = format!("liquidity.scale={scale}");
        let run = ramp(&[&t, &s]);
        prop_assert_eq!(run.records.len() as u64, run.outcome.payments);
        for (i, r) in run.records.iter().enumerate() {
            prop_assert_eq!(r.id, i as u64);
            if let Some(latency) = r.latency_us() {
                prop_assert_eq!(r.stages_us.iter().sum::<u64>(), latency);
            }
        }
        for w in run.outcome.rebalances.windows(2) {
            prop_assert!(w[0].arrives_us.is_some_and(|a| w[1].requested_us >= a));
        }
        let nostro = topup.replace("calendar = \"mx\"", "calendar = \"ny\"");
        let t = format!("nostros[0].topup={nostro}");
        let run = common::run(&[&t, &s, "nostros[0].balance=5000", "corridors[0].payments_per_day=50"]);
        prop_assert_eq!(run.records.len() as u64, run.outcome.payments);
    }
}

/// Each request counts against the (rail, corridor) cell of the payment that triggered it, not only in the rail's
/// total: the ramp fixture with a second corridor on the same positions, so requests come from both.
#[test]
fn each_request_counts_against_its_own_corridor() {
    let i = RAMP.find("[[corridors]]").expect("a corridor");
    let second = RAMP[i..].replace("id = \"USD-MXN\"", "id = \"USD-MXN-2\"");
    let text = format!("{RAMP}\n{second}");
    let run = run_text("ramp2.toml", &text, &[]);
    let m = &run.outcome.metrics;
    let mut corridors_seen = 0;
    for corridor in 0..2 {
        let ours: Vec<_> = run
            .requests()
            .iter()
            .filter(|r| r.rail == RailId(0) && r.corridor.idx() == corridor)
            .collect();
        corridors_seen += usize::from(!ours.is_empty());
        let cell = m.cell(RailId(0), corridor);
        assert_eq!(cell.rebalancings, ours.len() as u64, "corridor {corridor}");
        let amount: i64 = ours.iter().map(|r| r.amount_usd_cents).sum();
        assert_eq!(cell.rebalanced_usd_cents, amount, "corridor {corridor}");
        let fee: i64 = ours.iter().map(|r| r.fee_usd_cents).sum();
        assert_eq!(cell.rebalancing_cost_cents, fee, "corridor {corridor}");
    }
    assert_eq!(corridors_seen, 2, "both corridors trigger requests");
}
