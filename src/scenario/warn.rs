//! Warnings about scenarios that are valid but probably not what was meant. They are returned with the loaded
//! scenario and printed on stderr by the edge; they never stop a run.

use crate::model::world::{Corridor, HopFunding, World};

/// A nostro topped up daily restores its balance but never raises it: a payment larger than the funded balance
/// waits forever at the head of the shortfall queue and blocks every payment queued behind it (FIFO). Returns,
/// per nostro and corridor where that is likely enough to matter (at least 1% of runs would see one such
/// payment), the nostro's field path and a message.
pub fn unpayable_tails(w: &World) -> Vec<(String, String)> {
    let demand_days = w.demand_end_us as f64 / crate::units::US_PER_DAY as f64;
    let mut out = Vec::new();
    for (i, n) in w.nostros.iter().enumerate() {
        if !n.daily_topup() {
            continue;
        }
        for c in &w.corridors {
            let uses = c.routes.iter().any(|&r| {
                w.route(r)
                    .hops
                    .iter()
                    .any(|h| matches!(h, HopFunding::SenderNostro(x) if x.idx() == i))
            });
            if !uses {
                continue;
            }
            // The funded balance in the corridor's source currency at the opening mid rate (fees taken on the
            // way only make payments smaller, so this errs toward warning).
            let balance = w.fx.convert(n.opening_minor, n.currency, c.source, 0, 0);
            let p = tail_probability(c, balance, w);
            let expected = p * c.payments_per_day * demand_days;
            if expected >= 0.01 {
                let cur = w.fx.currency(n.currency);
                out.push((
                    format!("nostros[{i}].balance"),
                    format!(
                        "nostro {}@{} is topped up daily to {} {}, but corridor {:?} draws larger payments \
                         (P = {p:.2e} a payment, about {expected:.2} in this run): such a payment never clears and \
                         blocks every payment queued behind it",
                        w.bank(n.owner).name,
                        w.bank(n.at).name,
                        cur.format_minor(n.opening_minor),
                        cur,
                        c.name
                    ),
                ));
            }
        }
    }
    out
}

/// P(amount > balance) for the corridor's log-normal amounts, clipped to [min, max], in minor units.
fn tail_probability(c: &Corridor, balance_minor: i64, w: &World) -> f64 {
    let (mu, sigma) = (c.amount_mu, c.amount_sigma);
    if c.amount_max_minor <= balance_minor {
        return 0.0;
    }
    if c.amount_min_minor > balance_minor {
        return 1.0;
    }
    let scale = 10f64.powi(w.fx.currency(c.source).exponent as i32);
    let balance_major = balance_minor as f64 / scale;
    if balance_major <= 0.0 {
        return 1.0;
    }
    if sigma <= 0.0 {
        return if mu.exp() > balance_major { 1.0 } else { 0.0 };
    }
    0.5 * crate::rng::erfc((balance_major.ln() - mu) / (sigma * std::f64::consts::SQRT_2))
}

#[cfg(test)]
mod tests {
    use crate::rng::erfc;

    #[test]
    fn erfc_matches_tabulated_values() {
        // Abramowitz and Stegun, table 7.1.
        for (x, v) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122),
            (1.0, 0.157_299_207),
            (2.0, 0.004_677_735),
        ] {
            assert!((erfc(x) - v).abs() < 1e-6, "erfc({x})");
            assert!(
                (crate::rng::erfc(-x) - (2.0 - v)).abs() < 1e-6,
                "erfc(-{x})"
            );
        }
    }
}
