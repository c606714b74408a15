//! Tokenised-deposit ledgers (scenarios/wallet-remittance.toml): the receiving member credits in seconds, the
//! members carry exposure to each other until net settlement, a member at its limit queues until the next
//! settlement, and the money is exact throughout (every run below ends with the ledger's conservation check).

mod common;

use settlesim::model::record::{Hold, PaymentRecord, Status};
use settlesim::model::sim::Outcome;

const SCENARIO: &str = include_str!("../scenarios/wallet-remittance.toml");

fn run(overrides: &[&str]) -> (Outcome, Vec<PaymentRecord>) {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let loaded = settlesim::scenario::load("wallet-remittance.toml", SCENARIO, &o).expect("loads");
    common::records_of(&loaded.world)
}

fn ledger_latencies(records: &[PaymentRecord]) -> Vec<u64> {
    let mut l: Vec<u64> = records
        .iter()
        .filter(|r| r.rail.0 == 0 && r.status == Status::Settled)
        .map(|r| r.latency_us().unwrap())
        .collect();
    l.sort_unstable();
    l
}

#[test]
fn without_a_binding_limit_the_beneficiary_is_credited_in_seconds() {
    let (outcome, records) = run(&[
        "duration=4d",
        "limits.drain=1d",
        "rails[0].member_limit_usd=1e12",
    ]);
    let l = ledger_latencies(&records);
    let p50 = l[l.len() / 2] as f64 / 1e6;
    let p99 = l[l.len() * 99 / 100] as f64 / 1e6;
    // AlipayHK → GCash was presented as "about 3 seconds": processing at both wallets (~0.8 s and ~0.5 s
    // medians) and one BFT commit on a 4-validator ledger.
    assert!((1.5..5.0).contains(&p50), "p50 {p50} s");
    assert!(p99 < 30.0, "p99 {p99} s");
    assert_eq!(outcome.ledgers.len(), 1);
    let e = &outcome.ledgers[0];
    assert_eq!(e.queued_payments, 0);
    assert!(e.settlements > 0 && e.peak_usd_cents > 0);
    // The exposure's time-average is below its peak and above zero; the gross obligations are the flow.
    let mean = e.usd_cents_us as f64 / outcome.end_us as f64;
    assert!(
        mean > 0.0 && mean < e.peak_usd_cents as f64,
        "{mean} vs {}",
        e.peak_usd_cents
    );
}

#[test]
fn settling_more_often_lowers_the_exposure_members_carry() {
    let (every_4h, _) = run(&[
        "duration=4d",
        "limits.drain=1d",
        "rails[0].member_limit_usd=1e12",
    ]);
    let (hourly, _) = run(&[
        "duration=4d",
        "limits.drain=1d",
        "rails[0].member_limit_usd=1e12",
        "rails[0].settle_every=\"1h\"",
    ]);
    let (a, b) = (&every_4h.ledgers[0], &hourly.ledgers[0]);
    assert!(b.settlements > a.settlements);
    assert!(
        b.usd_cents_us < a.usd_cents_us,
        "{} vs {}",
        b.usd_cents_us,
        a.usd_cents_us
    );
    // The same payments create the same obligations whatever the schedule.
    assert_eq!(a.obligations_usd_cents, b.obligations_usd_cents);
}

#[test]
fn a_member_at_its_limit_queues_until_the_next_net_settlement() {
    // USD 100,000 of unsettled obligations against ~USD 550,000 of flow a day: the sender waits for the
    // settlement bank, which settles three times per Hong Kong business day and not at weekends.
    let (outcome, records) = run(&[
        "duration=3d",
        "limits.drain=3d",
        "rails[0].member_limit_usd=100000",
    ]);
    let e = &outcome.ledgers[0];
    assert!(e.queued_payments > 100, "{}", e.queued_payments);
    // Never more than the limit plus one payment (the head of the queue always goes after a settlement).
    let largest = records.iter().map(|r| r.amount_usd_cents).max().unwrap();
    assert!(
        e.peak_usd_cents <= 10_000_000 + largest,
        "{}",
        e.peak_usd_cents
    );
    // Nothing fails for it: each payment settles, or still waits on the limit when the run stops (reported in
    // flight), or was rejected by screening.
    let ledger: Vec<_> = records.iter().filter(|r| r.rail.0 == 0).collect();
    use settlesim::model::record::EndReason;
    assert!(
        ledger
            .iter()
            .all(|r| matches!(r.status, Status::Settled | Status::InFlight)
                || r.reason == EndReason::ComplianceReject)
    );
    let settled = ledger
        .iter()
        .filter(|r| r.status == Status::Settled)
        .count();
    assert!(settled * 2 > ledger.len(), "{settled} of {}", ledger.len());
    // Their longest hold says why they were slow, and the tail waits hours for the settlement bank.
    assert!(ledger.iter().any(|r| r.slowest == Hold::MemberLimit));
    let l = ledger_latencies(&records);
    assert!(
        l[l.len() * 9 / 10] > 3_600_000_000,
        "p90 {} µs",
        l[l.len() * 9 / 10]
    );
}

/// A BFT block is seen, and final, at its commit: a transfer waits at least one height (proposal, prevotes and
/// precommits, 3 × 50 ms with fixed message delays) from broadcast to inclusion. Without empty blocks
/// (CometBFT's `create_empty_blocks = false`) a transfer that finds the ledger idle starts a height at once
/// and is included exactly one height later; with them it waits for the next height to start, up to the
/// one-second commit pause more.
#[test]
fn a_ledger_transfer_is_included_at_a_commit_one_height_or_more_after_its_broadcast() {
    let inclusion = |extra: &[&str]| {
        let mut o = vec![
            "duration=1d",
            "limits.drain=1d",
            "rails[0].member_limit_usd=1e12",
            "chains[0].message_delay={ fixed = \"50ms\" }",
        ];
        o.extend_from_slice(extra);
        let (_, records) = run(&o);
        let mut w: Vec<u64> = records
            .iter()
            .filter(|r| r.rail.0 == 0 && r.status == Status::Settled)
            .map(|r| r.chain_inclusion_us.expect("a ledger transfer"))
            .collect();
        w.sort_unstable();
        assert!(w.len() > 1_000, "{} ledger payments", w.len());
        w
    };
    let height = 150_000;
    let with = inclusion(&[]);
    assert!(with[0] >= height, "included {} µs after broadcast", with[0]);
    assert!(
        with[with.len() - 1] <= height + 1_000_000 + height,
        "at most a pause and two heights"
    );
    let idle = inclusion(&["chains[0].empty_blocks=false"]);
    assert!(idle[0] >= height);
    // Most transfers find the ledger idle (a few thousand a day against a height of 0.15 s).
    assert_eq!(idle[idle.len() / 2], height);
    let mean = |w: &[u64]| w.iter().sum::<u64>() as f64 / w.len() as f64;
    assert!(
        mean(&idle) < mean(&with) - 400_000.0,
        "idle {} vs {}",
        mean(&idle),
        mean(&with)
    );
}

/// A receiver that waits for three confirmations credits exactly two heights (two commit pauses and two
/// heights of 3 × 50 ms) after the commit that included the transfer: every later block is seen at its
/// commit, including empty ones while a payment waits on the tip.
#[test]
fn three_confirmations_on_the_ledger_take_exactly_two_more_heights() {
    let (_, records) = run(&[
        "duration=1d",
        "limits.drain=1d",
        "rails[0].member_limit_usd=1e12",
        "chains[0].message_delay={ fixed = \"50ms\" }",
        "banks[1].deposit_confirmations=3",
    ]);
    let waits: Vec<u64> = records
        .iter()
        .filter(|r| r.rail.0 == 0 && r.status == Status::Settled)
        .map(|r| r.chain_settlement_us.unwrap() - r.chain_inclusion_us.unwrap())
        .collect();
    assert!(waits.len() > 1_000, "{} ledger payments", waits.len());
    assert!(
        waits.iter().all(|&w| w == 2 * 1_150_000),
        "{:?}",
        &waits[..10]
    );
}
