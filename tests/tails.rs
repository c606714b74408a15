//! Bounded tails: every delay shape takes an upper bound `max`; a compliance review without one is escalated and
//! decided after `REVIEW_MAX_DEFAULT_US` (14 days); payments.csv names why a payment took more than a week.

mod common;

use settlesim::model::record::{Hold, Status};
use settlesim::rng::{self, Delay};
use settlesim::scenario::validate::REVIEW_MAX_DEFAULT_US;

#[test]
fn a_capped_delay_never_exceeds_its_max_and_keeps_its_body() {
    let d =
        Delay::lognormal_median_p90(6 * 3_600_000_000, 2 * 86_400_000_000).capped(86_400_000_000);
    let mut s = rng::stream(3, "t");
    let v: Vec<u64> = (0..100_000).map(|_| d.sample(&mut s)).collect();
    assert!(v.iter().all(|&x| x <= 86_400_000_000));
    // P(X > 1 d) for this log-normal is 1 − Φ(ln 4 / σ) with σ = ln 8 / z(0.9): 0.1965. That mass sits at the
    // cap, the rest is untouched. Tolerance 0.005: four standard errors at n = 100,000 (SE ≈ 0.0013).
    let at_cap = v.iter().filter(|&&x| x == 86_400_000_000).count() as f64 / v.len() as f64;
    assert!((at_cap - 0.1965).abs() < 0.005, "{at_cap}");
}

#[test]
fn reviews_are_escalated_by_default_and_slow_payments_say_why() {
    // Every payment hits screening at the middle bank, with a review whose tail runs to months.
    let run = common::run(&[
        "banks[1].screening={ hit_rate = 1.0, review = { median = \"2d\", p90 = \"40d\" } }",
        "limits.drain=60d",
    ]);
    let mut slow = 0;
    for r in &run.records {
        assert_ne!(r.status, Status::InFlight, "every review ends by its cap");
        if r.slowest == Hold::ComplianceReview {
            assert!(r.slowest_us <= REVIEW_MAX_DEFAULT_US + 3 * 86_400_000_000);
        }
        if let Some(why) = r.slow_reason() {
            slow += 1;
            assert_eq!(why, Hold::ComplianceReview, "payment {}", r.id);
        }
    }
    assert!(slow > 0, "some reviews take over a week");
    // An explicit max replaces the default.
    let run = common::run(&[
        "banks[1].screening={ hit_rate = 1.0, review = { median = \"2d\", p90 = \"40d\", max = \"3d\" } }",
    ]);
    assert!(run.records.iter().all(|r| r.slow_reason().is_none()));
}
