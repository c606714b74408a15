//! Behaviour of the traditional rails, each checked on every payment of a small fixture run: cut-offs and
//! weekends, charge bearers, screening, nostro shortfalls, ACH windows.

mod common;

use chrono::{Datelike, Timelike, Weekday};
use settlesim::model::record::{Place, Status, Step};

#[test]
fn friday_after_cutoff_settles_monday() {
    let run = common::run(&[]);
    let mut seen = 0;
    for r in &run.records {
        let created = run.ny(r.created_us);
        let after_cutoff_friday = created.weekday() == Weekday::Fri && created.hour() >= 17;
        let weekend = matches!(created.weekday(), Weekday::Sat | Weekday::Sun);
        if !(after_cutoff_friday || weekend) {
            continue;
        }
        seen += 1;
        let settled = run.ny(r.ended_us.expect("settles"));
        assert_eq!(r.status, Status::Settled);
        assert_eq!(
            settled.weekday(),
            Weekday::Mon,
            "payment {} created {created} settled {settled}",
            r.id
        );
        // Three banks each take one minute of processing once open, plus two 30 s messages: 08:04 at the earliest.
        assert!(
            settled.hour() == 8 && settled.minute() == 4,
            "payment {} settled {settled}",
            r.id
        );
    }
    assert!(
        seen > 50,
        "the fixture should create weekend payments, saw {seen}"
    );
}

#[test]
fn our_arrives_in_full() {
    let run = common::run(&["rails[0].charge_bearer=OUR"]);
    for r in run.records.iter().filter(|r| r.status == Status::Settled) {
        assert_eq!(r.delivered_minor, r.amount_minor, "payment {}", r.id);
        assert_eq!(r.cost.total(), 10_00 + 20_00 + 5_00);
    }
}

#[test]
fn sha_deducts_intermediary_and_receiver_fees() {
    let run = common::run(&[]);
    for r in run.records.iter().filter(|r| r.status == Status::Settled) {
        assert_eq!(
            r.delivered_minor,
            r.amount_minor - 20_00 - 5_00,
            "payment {}",
            r.id
        );
        assert_eq!(r.cost.sender_fee, 10_00);
    }
}

#[test]
fn ben_deducts_every_fee() {
    let run = common::run(&["rails[0].charge_bearer=BEN"]);
    for r in run.records.iter().filter(|r| r.status == Status::Settled) {
        assert_eq!(
            r.delivered_minor,
            r.amount_minor - 10_00 - 20_00 - 5_00,
            "payment {}",
            r.id
        );
    }
}

#[test]
fn screening_hit_delays_by_the_review() {
    let base = common::run(&["calendars.ny.always_open=true"]);
    let hit = common::run(&[
        "calendars.ny.always_open=true",
        "banks[1].screening={ hit_rate = 1.0, review = { fixed = \"3h\" }, reject_rate = 0.0 }",
    ]);
    assert_eq!(base.records.len(), hit.records.len());
    for (a, b) in base.records.iter().zip(&hit.records) {
        assert_eq!(b.status, Status::Settled);
        assert_eq!(
            b.latency_us().unwrap() - a.latency_us().unwrap(),
            3 * 3_600_000_000,
            "payment {}",
            a.id
        );
    }
}

#[test]
fn screening_reject_returns_and_keeps_fees() {
    let run = common::run(&[
        "banks[1].screening={ hit_rate = 1.0, review = { fixed = \"1h\" }, reject_rate = 1.0 }",
    ]);
    assert!(!run.records.is_empty());
    for r in &run.records {
        assert_eq!(r.status, Status::Returned, "payment {}", r.id);
        // The intermediary took its lifting fee (SHA: deducted) before rejecting; the sender fee is kept too.
        assert_eq!(r.delivered_minor, r.amount_minor - 20_00);
        assert_eq!(r.cost.sender_fee + r.cost.intermediary_fees, 30_00);
        assert!(
            r.latency_us().unwrap() >= 2 * 86_400_000_000,
            "the return takes two days"
        );
    }
}

#[test]
fn reject_at_the_first_bank_fails() {
    let run = common::run(&[
        "banks[0].screening={ hit_rate = 1.0, review = { fixed = \"1h\" }, reject_rate = 1.0 }",
    ]);
    for r in &run.records {
        assert_eq!(r.status, Status::Failed, "payment {}", r.id);
        assert_eq!(
            r.delivered_minor, r.amount_minor,
            "funds never left: all back to the originator"
        );
    }
}

#[test]
fn nostro_shortfall_queues_until_the_morning_top_up() {
    // A 1,500 USD nostro topped up each morning and 1,000 USD payments: one payment a day fits, the others wait
    // on the shortfall queue until a later morning's top-up releases them, in order.
    let run = common::run(&[
        "nostros[0].balance=1500",
        "corridors[0].payments_per_day=2",
        "corridors[0].amount={ median = 1000, sigma = 0.0 }",
    ]);
    let mut waited = 0;
    for r in &run.records {
        assert_eq!(r.status, Status::Settled, "payment {}", r.id);
        let steps = run.trace_of(r.id);
        let Some(short) = steps
            .iter()
            .find(|s| matches!(s.step, Step::NostroShortfall { .. }))
        else {
            continue;
        };
        waited += 1;
        let funded = steps
            .iter()
            .find(|s| matches!(s.step, Step::NostroFunded { .. }))
            .expect("funded later");
        let local = run.ny(funded.t_us);
        assert_eq!(
            (local.hour(), local.minute()),
            (8, 0),
            "payment {}: released by the 08:00 top-up",
            r.id
        );
        assert!(run.ny(funded.t_us).date_naive() > run.ny(short.t_us).date_naive());
        assert!(r.ended_us.unwrap() > funded.t_us);
    }
    assert!(
        waited >= 3,
        "some payments must hit the shortfall, saw {waited}"
    );
}

#[test]
fn ach_payment_waits_for_its_window() {
    let run = common::run(&[
        "corridors[0].routes[0].last_mile=\"ach\"",
        "domestic_rails[0].capacity_per_s=1000000",
    ]);
    let mut checked = 0;
    for r in run.records.iter().filter(|r| r.status == Status::Settled) {
        let s = run.ny(r.ended_us.unwrap());
        // Window closes at 10:00 and 15:00 local, settlement one hour later.
        assert!(
            (s.hour() == 11 || s.hour() == 16) && s.minute() == 0 && s.second() == 0,
            "payment {} settled at {s}",
            r.id
        );
        checked += 1;
    }
    assert!(checked > 1000);
}

#[test]
fn no_payment_is_lost() {
    let run = common::run(&["duration=3d", "limits.drain=1h"]);
    assert_eq!(run.records.len() as u64, run.outcome.payments);
    for (i, r) in run.records.iter().enumerate() {
        assert_eq!(r.id, i as u64);
    }
    assert!(
        run.records.iter().any(|r| r.status == Status::InFlight),
        "a short drain leaves payments in flight"
    );
}

/// Banks `b` (lifting fee 20) and `d` (lifting fee `d_fee`) both connect `a` to `c`: the cheapest path takes the
/// cheaper intermediary.
fn cheapest_route_via(d_fee: u32) -> Vec<String> {
    let extra = format!(
        "[[banks]]\nid = \"d\"\ncountry = \"US\"\ncalendar = \"ny\"\nlifting_fee_usd = {d_fee}\n\n\
         [[nostros]]\nowner = \"a\"\nat = \"d\"\ncurrency = \"USD\"\nbalance = 1000000\n\n\
         [[nostros]]\nowner = \"c\"\nat = \"d\"\ncurrency = \"USD\"\nbalance = 0\n\n[[domestic_rails]]"
    );
    let text = common::BASE
        .replacen("[[domestic_rails]]", &extra, 1)
        .replacen(
            "path = [\"a\", \"b\", \"c\"]",
            "origin = \"a\"\nbeneficiary = \"c\"",
            1,
        );
    let loaded =
        settlesim::scenario::load("cheapest.toml", &text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let w = &loaded.world;
    w.routes[0]
        .path
        .iter()
        .map(|&b| w.bank(b).name.clone())
        .collect()
}

#[test]
fn cheapest_path_takes_the_cheaper_intermediary() {
    assert_eq!(cheapest_route_via(50), ["a", "b", "c"]);
    assert_eq!(cheapest_route_via(5), ["a", "d", "c"]);
}

#[test]
fn limits_end_the_run_cleanly() {
    use settlesim::model::sim::EndedBy;
    let run = common::run(&["limits.max_time=\"2d\""]);
    assert_eq!(run.outcome.ended_by, EndedBy::MaxTime);
    assert_eq!(run.outcome.end_us, 2 * 86_400_000_000);
    assert!(
        run.records
            .iter()
            .all(|r| r.created_us <= run.outcome.end_us)
    );
    let run = common::run(&["limits.max_events=500"]);
    assert_eq!(run.outcome.ended_by, EndedBy::MaxEvents);
    assert_eq!(run.outcome.events, 500);
    assert_eq!(
        run.records.len() as u64,
        run.outcome.payments,
        "in-flight payments are still reported"
    );
}

#[test]
fn nostro_shortfall_is_released_by_incoming_flow() {
    // `a` has no money at `b` and no top-up; a reverse corridor c → b → a credits `a`'s account at `b`
    // (the b → a hop settles on it), and each credit releases the queued a → b payments.
    let reverse = "[[corridors]]\nid = \"BACK\"\nfrom_country = \"US\"\nto_country = \"US\"\nsource_currency = \"USD\"\n\
                   dest_currency = \"USD\"\npayments_per_day = 500\namount = { median = 1000, sigma = 0.5 }\n\n\
                   [[corridors.routes]]\nrail = \"wire\"\npath = [\"c\", \"b\", \"a\"]\n";
    let text = format!("{}\n{reverse}", common::BASE);
    let overrides = [
        "nostros[0].balance=0",
        "nostros[0].topup=\"none\"",
        "nostros[1].balance=100000000",
        "nostros[1].topup=\"none\"",
    ];
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let loaded =
        settlesim::scenario::load("flow.toml", &text, &o).unwrap_or_else(|e| panic!("{e}"));
    let mut records = Vec::new();
    let opts = settlesim::model::sim::RunOptions::default();
    let (outcome, _) = settlesim::model::sim::run(
        &loaded.world,
        |r: &settlesim::model::record::PaymentRecord| records.push(r.clone()),
        &opts,
    )
    .unwrap();
    let forward: Vec<_> = records.iter().filter(|r| r.corridor.0 == 0).collect();
    assert!(outcome.payments > 0 && !forward.is_empty());
    let settled = forward
        .iter()
        .filter(|r| r.status == Status::Settled)
        .count();
    assert!(
        settled * 10 >= forward.len() * 9,
        "incoming flow funds most forward payments: {settled} of {}",
        forward.len()
    );
    // Some forward payment waited on the shortfall and was released at a time that is not a top-up (there is none).
    let mut released = 0;
    for r in forward.iter().take(200) {
        let opts = settlesim::model::sim::RunOptions {
            trace_payment: Some(r.id),
        };
        let (o, _) =
            settlesim::model::sim::run(&loaded.world, settlesim::model::sim::NullSink, &opts)
                .unwrap();
        if o.trace
            .iter()
            .any(|s| matches!(s.step, Step::NostroShortfall { .. }))
        {
            assert!(
                o.trace
                    .iter()
                    .any(|s| matches!(s.step, Step::NostroFunded { .. })),
                "payment {} released",
                r.id
            );
            released += 1;
        }
    }
    assert!(
        released > 0,
        "some payment must have waited for incoming flow"
    );
}

/// Throughput counts the settlements completed while demand arrives, per simulated day; with a backlog left at
/// the end of the window it is below the arrival rate.
#[test]
fn throughput_counts_settlements_inside_the_demand_window() {
    let run = common::run(&[]);
    let w = &run.loaded.world;
    let inside = run
        .records
        .iter()
        .filter(|r| r.status == Status::Settled && r.ended_us.is_some_and(|e| e < w.demand_end_us))
        .count();
    let settled = run
        .records
        .iter()
        .filter(|r| r.status == Status::Settled)
        .count();
    assert!(inside > 0 && inside < settled, "{inside} of {settled}");
    let days = w.demand_end_us as f64 / 86_400e6;
    let all = run
        .outcome
        .metrics
        .rail_total(settlesim::model::world::RailId(0));
    assert!((all.throughput_per_day() - inside as f64 / days).abs() < 1e-9);
}

/// The summary (summary.csv's columns) agrees with the records it summarises: counts per status, the largest,
/// mean and median latency and the mean cost, per corridor and for the rail, on a run that returns and leaves
/// payments in flight as well as settling them.
/// Five days of the fixture where bank b's screening returns some payments and fails others.
fn returns_and_failures() -> common::Run {
    common::run(&[
        "duration=5d",
        "limits.drain=12h",
        "banks[1].screening={ hit_rate = 0.1, review = { fixed = \"1h\" }, reject_rate = 0.5 }",
    ])
}

#[test]
fn metrics_agree_with_the_records_they_summarise() {
    let run = returns_and_failures();
    let m = &run.outcome.metrics;
    let w = &run.loaded.world;
    let rail = settlesim::model::world::RailId(0);
    let cells: Vec<(Option<usize>, settlesim::model::metrics::Cell)> = (0..w.corridors.len())
        .map(|c| (Some(c), m.cell(rail, c).clone()))
        .chain([(None, m.rail_total(rail))])
        .collect();
    let mut seen_returned_or_failed = false;
    for (corridor, cell) in cells {
        let recs: Vec<_> = run
            .records
            .iter()
            .filter(|r| r.rail == rail && corridor.is_none_or(|c| r.corridor.idx() == c))
            .collect();
        assert_eq!(cell.payments(), recs.len() as u64, "{corridor:?}");
        for s in [
            Status::Settled,
            Status::Returned,
            Status::Failed,
            Status::InFlight,
        ] {
            let n = recs.iter().filter(|r| r.status == s).count() as u64;
            assert_eq!(cell.count(s), n, "{corridor:?} {s:?}");
            seen_returned_or_failed |= n > 0 && matches!(s, Status::Returned | Status::Failed);
        }
        let mut lat: Vec<u64> = recs
            .iter()
            .filter(|r| r.status == Status::Settled)
            .map(|r| r.latency_us().unwrap())
            .collect();
        assert!(lat.len() > 10, "{corridor:?}: {} settled", lat.len());
        lat.sort_unstable();
        let max = *lat.last().unwrap() as f64 / 1e6;
        assert_eq!(cell.latency_s_max(), max, "{corridor:?} largest latency");
        let mean = lat.iter().sum::<u64>() as f64 / lat.len() as f64 / 1e6;
        assert!(
            (cell.latency_s_mean() - mean).abs() <= 1e-9 * mean,
            "{corridor:?} mean latency"
        );
        // The median comes from a 3-significant-digit histogram of ms: between the two middle records' latencies,
        // give or take 0.1% and 1 ms.
        let (lo, hi) = (
            lat[lat.len() / 2 - 1] as f64 / 1e6,
            lat[lat.len() / 2] as f64 / 1e6,
        );
        let p50 = cell.latency_s(0.5);
        assert!(
            lo * (1.0 - 1e-3) - 1e-3 <= p50 && p50 <= hi * (1.0 + 1e-3) + 1e-3,
            "{corridor:?} median {p50} vs records {lo}..{hi}"
        );
        // Cost in bps of the amount, by hand: 10,000 × cost / amount, both in USD cents.
        let bps_mean = |with_liquidity: bool| {
            recs.iter()
                .filter(|r| r.status == Status::Settled)
                .map(|r| {
                    let cost = r.cost.total() + if with_liquidity { r.cost.liquidity } else { 0 };
                    cost as f64 * 10_000.0 / r.amount_usd_cents as f64
                })
                .sum::<f64>()
                / lat.len() as f64
        };
        let cost = bps_mean(false);
        assert!(cost > 1.0, "{corridor:?}: fees are charged");
        assert!(
            (cell.cost_bps_mean() - cost).abs() <= 1e-9 * cost,
            "{corridor:?} mean cost"
        );
        let cost = bps_mean(true);
        assert!(
            (cell.cost_with_liquidity_bps_mean() - cost).abs() <= 1e-9 * cost,
            "{corridor:?} mean cost with capital"
        );
        let on_gpi_basis = recs.iter().filter(|r| r.latency_gpi_us().is_some()).count();
        assert!(
            on_gpi_basis > 10,
            "{corridor:?}: {on_gpi_basis} on gpi's basis"
        );
        common::assert_cell_summarises(&format!("{corridor:?}"), &cell, &recs, w.demand_end_us);
    }
    assert!(
        seen_returned_or_failed,
        "the fixture returns or fails some payments"
    );
}

/// The summary of a run where payments wait on a thin nostro: the funding-wait figures are non-trivial.
#[test]
fn funding_wait_metrics_agree_with_the_records() {
    let run = common::run(&[
        "nostros[0].balance=20000",
        "corridors[0].payments_per_day=40",
    ]);
    let rail = settlesim::model::world::RailId(0);
    let recs: Vec<_> = run.records.iter().filter(|r| r.rail == rail).collect();
    let waited = recs
        .iter()
        .filter(|r| r.stages_us[settlesim::model::record::Stage::NostroWait.idx()] > 0);
    let waited = waited.count();
    assert!(
        waited * 10 > recs.len() && waited < recs.len(),
        "{waited} of {} waited",
        recs.len()
    );
    let cell = run.outcome.metrics.rail_total(rail);
    common::assert_cell_summarises("all", &cell, &recs, run.loaded.world.demand_end_us);
}

// ----- Pinned behaviour: each test below fails on a specific plausible bug (named in its comment) ------------

/// The trace of every payment of a run, one replay each (small runs only).
fn traces(run: &common::Run) -> Vec<Vec<settlesim::model::record::TraceStep>> {
    run.records.iter().map(|r| run.trace_of(r.id)).collect()
}

fn bank_id(run: &common::Run, name: &str) -> settlesim::model::world::BankId {
    settlesim::model::world::BankId(
        run.loaded
            .world
            .banks
            .iter()
            .position(|b| b.name == name)
            .unwrap() as u16,
    )
}

/// Catches: the shortfall queue's FIFO check removed, so a small payment overtakes a larger one waiting on the
/// same nostro. Amounts are unequal (a log-normal with σ = 1), so overtaking would show: every payment that
/// reaches the nostro hop while another waits must queue behind it, and hops are posted in arrival order.
#[test]
fn nostro_queue_is_fifo_with_unequal_amounts() {
    let run = common::run(&[
        "nostros[0].balance=2000",
        "corridors[0].payments_per_day=6",
        "corridors[0].amount={ median = 800, sigma = 1.0 }",
    ]);
    let a = bank_id(&run, "a");
    // (time the payment reached the hop, time the hop was posted, amount)
    let mut hops = Vec::new();
    for steps in traces(&run) {
        let sent = steps
            .iter()
            .find(|s| matches!(s.step, Step::Sent { .. }) && s.place == Place::Bank(a));
        let Some(sent) = sent else { continue };
        let reached = steps
            .iter()
            .find(|s| matches!(s.step, Step::NostroShortfall { .. }))
            .map_or(sent.t_us, |s| s.t_us);
        hops.push((reached, sent.t_us));
    }
    hops.sort();
    let mut overtakable = 0;
    for w in hops.windows(2) {
        assert!(
            w[0].1 <= w[1].1,
            "a payment reaching the hop at {} was posted at {}, after one reaching it later ({}) posted at {}",
            w[0].0,
            w[0].1,
            w[1].0,
            w[1].1
        );
        // The later one arrived while the earlier one still waited: the case an overtaking bug would get wrong.
        if w[1].0 < w[0].1 {
            overtakable += 1;
        }
    }
    assert!(
        overtakable >= 5,
        "the run must queue payments behind waiting ones, saw {overtakable} of {}",
        hops.len()
    );
}

/// Catches: the queue releasing its head only when the balance strictly exceeds what it needs. The nostro
/// holds exactly one 1,000 USD payment and is topped back up to exactly that each morning: every payment
/// settles, one per business morning, released at 08:00.
#[test]
fn queue_releases_when_the_balance_exactly_covers() {
    let run = common::run(&[
        "nostros[0].balance=1000",
        "corridors[0].payments_per_day=2",
        "limits.drain=21d",
        "corridors[0].amount={ median = 1000, sigma = 0.0 }",
    ]);
    assert!(run.records.len() >= 4, "{} payments", run.records.len());
    let mut released = 0;
    for (r, steps) in run.records.iter().zip(traces(&run)) {
        assert_eq!(r.amount_minor, 100_000);
        assert_eq!(r.status, Status::Settled, "payment {}", r.id);
        if let Some(f) = steps
            .iter()
            .find(|s| matches!(s.step, Step::NostroFunded { .. }))
        {
            let local = run.ny(f.t_us);
            assert_eq!((local.hour(), local.minute()), (8, 0), "payment {}", r.id);
            released += 1;
        }
    }
    assert!(
        released >= 2,
        "payments must wait for a top-up, saw {released}"
    );
}

/// Catches: a manual repair timed from the moment processing ends instead of from the bank's next opening.
/// Processing takes 3 h, so payments accepted after 14:00 finish after the 17:00 cut-off; their one-hour
/// repair then runs 08:00–09:00 on the next business day.
#[test]
fn manual_repair_starts_at_the_next_opening() {
    let run = common::run(&[
        "corridors[0].payments_per_day=20",
        "banks[1].processing={ fixed = \"3h\" }",
        "banks[1].stp_rate=0",
        "banks[1].repair={ fixed = \"1h\" }",
    ]);
    let b = bank_id(&run, "b");
    let (mut after_hours, mut in_hours) = (0, 0);
    for steps in traces(&run) {
        let Some(done) = steps
            .iter()
            .find(|s| s.step == Step::Processed && s.place == Place::Bank(b))
        else {
            continue;
        };
        let until = steps
            .iter()
            .find_map(|s| match s.step {
                Step::ManualRepair { until_us } => Some(until_us),
                _ => None,
            })
            .expect("STP 0: every payment is repaired");
        let local = run.ny(done.t_us);
        let closed = local.hour() >= 17
            || local.hour() < 8
            || matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
        if closed {
            after_hours += 1;
            let end = run.ny(until);
            assert_eq!(
                (end.hour(), end.minute(), end.second()),
                (9, 0, 0),
                "processed {local}, repaired until {end}"
            );
            assert!(end.date_naive() > local.date_naive() || local.hour() < 8);
            assert!(!matches!(end.weekday(), Weekday::Sat | Weekday::Sun));
        } else {
            in_hours += 1;
            assert_eq!(until, done.t_us + 3_600_000_000, "processed {local}");
        }
    }
    assert!(
        after_hours >= 10 && in_hours >= 10,
        "{after_hours} after hours, {in_hours} in hours"
    );
}

/// Catches: the domestic fee of a first-mile rail charged to the amount instead of the originator under SHA
/// (the originator pays everything at the first hop). A $1.50 first-mile fee: the originator pays it, the
/// beneficiary still gets the amount less the intermediary's and the receiver's fees.
#[test]
fn first_mile_domestic_fee_is_paid_by_the_originator_under_sha() {
    let run = common::run(&[
        "corridors[0].payments_per_day=50",
        "corridors[0].routes[0].first_mile=\"instant\"",
        "domestic_rails[1].fee_usd=1.5",
    ]);
    let mut settled = 0;
    for r in run.records.iter().filter(|r| r.status == Status::Settled) {
        assert_eq!(r.cost.domestic_fees, 150, "payment {}", r.id);
        assert_eq!(
            r.delivered_minor,
            r.amount_minor - 20_00 - 5_00,
            "payment {}: the first-mile fee is not deducted from the amount",
            r.id
        );
        settled += 1;
    }
    assert!(settled > 100);
    // On the last mile (not the first hop) the same fee is deducted under SHA.
    let run = common::run(&[
        "corridors[0].payments_per_day=50",
        "corridors[0].routes[0].last_mile=\"instant\"",
        "domestic_rails[1].fee_usd=1.5",
    ]);
    for r in run.records.iter().filter(|r| r.status == Status::Settled) {
        assert_eq!(r.delivered_minor, r.amount_minor - 20_00 - 5_00 - 1_50);
    }
}

/// The hourly series (timeseries.csv) counted from the records: payments created, ended and settled in each
/// hour of simulated time, on a run with returns and failures.
#[test]
fn the_hourly_series_counts_the_records_by_hour() {
    let run = returns_and_failures();
    let rail = settlesim::model::world::RailId(0);
    let s = &run.outcome.metrics.series[0];
    let hours = s.arrivals.len();
    let hour = |t: u64| ((t / 3_600_000_000) as usize).min(hours - 1);
    let (mut arrivals, mut ended, mut settled) = (vec![0; hours], vec![0; hours], vec![0; hours]);
    for r in run.records.iter().filter(|r| r.rail == rail) {
        arrivals[hour(r.created_us)] += 1;
        if let Some(e) = r.ended_us {
            ended[hour(e)] += 1;
            settled[hour(e)] += u64::from(r.status == Status::Settled);
        }
    }
    assert!(
        arrivals.iter().filter(|&&n| n > 1).count() > 10,
        "several hours with arrivals"
    );
    assert_eq!(s.arrivals, arrivals, "arrivals by hour");
    assert_eq!(s.ended, ended, "ended by hour");
    assert_eq!(s.settled, settled, "settled by hour");
    assert!(
        ended != settled,
        "the fixture returns or fails some payments"
    );
}
