//! Merchant QR payments: acceptance at 0 or 1 confirmation or at finality, T+1 payout to the merchant's bank, and
//! duplicate submissions of an order detected, refunded and counted.

use chrono::{Datelike, Timelike};
use settlesim::model::record::{PaymentRecord, Status, Step};
use settlesim::model::sim::{self, RunOptions};
use settlesim::model::world::RailId;

const SCENARIO: &str = include_str!("../scenarios/qr-merchant.toml");

fn run(
    trace: Option<u64>,
) -> (
    settlesim::scenario::Loaded,
    sim::Outcome,
    Vec<PaymentRecord>,
) {
    // Two-second slots and 8-slot epochs keep the test fast in debug builds; the scenario itself uses 400 ms.
    let o: Vec<String> = [
        "duration=1d",
        "limits.drain=2d",
        "corridors[0].payments_per_day=4000",
        "chains[0].block_interval=\"2s\"",
        "chains[0].slots_per_epoch=8",
        "chains[0].background.tx_per_s=50",
    ]
    .map(String::from)
    .to_vec();
    let loaded =
        settlesim::scenario::load("qr.toml", SCENARIO, &o).unwrap_or_else(|e| panic!("{e}"));
    let mut records = Vec::new();
    let (outcome, _) = sim::run(
        &loaded.world,
        |r: &PaymentRecord| records.push(r.clone()),
        &RunOptions {
            trace_payment: trace,
        },
    )
    .expect("conservation holds with duplicates and refunds");
    records.sort_by_key(|r| r.id);
    (loaded, outcome, records)
}

#[test]
fn acceptance_policy_sets_the_time_to_credit() {
    let (_, outcome, _) = run(None);
    let m = &outcome.metrics;
    let p50 = |rail: u16| {
        m.rail_total(RailId(rail))
            .chain_settlement_ms
            .value_at_quantile(0.5) as f64
            / 1000.0
    };
    let (zero, one, fin) = (p50(0), p50(1), p50(2));
    eprintln!("time to credit p50: 0-conf {zero} s, 1-conf {one} s, finality {fin} s");
    assert_eq!(zero, 0.0, "accepted on sight");
    assert!(one > 0.0 && one <= 2.5, "within one 2 s slot: {one}");
    // Finality: the end of the block's 8-slot epoch plus one more epoch: 16 to 32 s, 24 s on average.
    assert!((16.0..=32.5).contains(&fin), "finality {fin}");
}

#[test]
fn duplicates_are_detected_refunded_and_counted() {
    let (loaded, _, records) = run(None);
    let dups: Vec<_> = records.iter().filter(|r| r.duplicate).collect();
    let originals = records.iter().filter(|r| !r.duplicate).count() as f64;
    // 0.5% of orders, per rail: about 60 of 12,000; allow 4 standard errors.
    let expected = 0.005 * originals;
    assert!(
        (dups.len() as f64 - expected).abs() < 4.0 * expected.sqrt(),
        "{} duplicates, expected {expected}",
        dups.len()
    );
    for d in &dups {
        assert!(
            matches!(d.status, Status::Returned | Status::InFlight),
            "duplicate {} must be refunded",
            d.id
        );
        let original = records
            .iter()
            .find(|r| r.demand_id == d.demand_id && r.rail == d.rail && !r.duplicate);
        assert_eq!(
            original.expect("the order it duplicates").status,
            Status::Settled
        );
    }
    let id = dups
        .iter()
        .find(|d| d.status == Status::Returned)
        .expect("a refunded duplicate")
        .id;
    let (_, outcome, _) = run(Some(id));
    assert!(
        outcome
            .trace
            .iter()
            .any(|s| matches!(s.step, Step::DuplicateSubmitted { .. }))
    );
    assert!(
        outcome
            .trace
            .iter()
            .any(|s| matches!(s.step, Step::DuplicateDetected))
    );
    let summary = settlesim::output::csv_out::summary_rows(&loaded.world, &outcome);
    let counted: u64 = summary
        .iter()
        .filter(|r| r.corridor == "all")
        .map(|r| r.cell.duplicates)
        .sum();
    assert_eq!(counted as usize, dups.len());
}

#[test]
fn merchants_are_paid_t_plus_one() {
    let (loaded, _, records) = run(None);
    let local = |t: u64| {
        (loaded.world.start + chrono::Duration::microseconds(t as i64))
            .with_timezone(&chrono_tz::America::Mexico_City)
    };
    let mut checked = 0;
    for r in records.iter().filter(|r| r.status == Status::Settled) {
        let (created, paid) = (local(r.created_us), local(r.ended_us.unwrap()));
        // The payout leaves at 08:00 on the next business day and SPEI takes seconds.
        assert!(
            paid.date_naive() > created.date_naive(),
            "payment {} paid {paid} created {created}",
            r.id
        );
        assert!(
            paid.hour() == 8 && paid.minute() <= 5,
            "payment {} paid {paid}",
            r.id
        );
        assert!(!matches!(
            paid.weekday(),
            chrono::Weekday::Sat | chrono::Weekday::Sun
        ));
        checked += 1;
    }
    assert!(checked > 10_000);
}
