//! FX settlement exposure: value paid in one currency while the other leg is still outstanding. A payment that
//! changes currency is exposed from the moment the value to be converted into the destination currency is paid
//! to the bank that converts it (the hop into that bank settles, a chain transfer to it is broadcast, or the
//! originator's funds reach it when it is the first bank) until that bank delivers the destination currency
//! (the conversion), or until the payment ends another way. On a PvP rail the platform commits the transfer and
//! the conversion together (`chain::deposit`), so the two instants are the same and the exposure is zero by
//! construction.
//!
//! Per rail: the sum of open exposures (USD cents at the moment each began), its time integral and its peak.

use crate::model::world::RailId;

use super::{FxLeg, RecordSink, Sim};

/// A rail's running FX settlement exposure.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct FxRisk {
    open_cents: i64,
    since_us: u64,
    /// ∫ open exposure dt, USD cents × µs.
    integral: u128,
    peak_cents: i64,
    payments: u64,
}

impl FxRisk {
    /// The exposure held over [since, now) enters the integral and the peak: a sum that lasts no time (a PvP
    /// commit opens and closes an exposure in the same instant) is never a peak.
    fn advance(&mut self, now_us: u64) {
        if now_us > self.since_us {
            let open = self.open_cents.max(0);
            self.integral += open as u128 * (now_us - self.since_us) as u128;
            self.peak_cents = self.peak_cents.max(open);
            self.since_us = now_us;
        }
    }
}

/// What a rail measured about FX settlement exposure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FxExposure {
    pub rail: RailId,
    /// ∫ exposure dt, USD cents × µs.
    pub usd_cents_us: u128,
    /// The largest sum of simultaneous exposures, USD cents.
    pub peak_usd_cents: i64,
    /// Payments that were ever exposed (a PvP rail's payments count, with zero time).
    pub payments: u64,
}

impl<S: RecordSink> Sim<'_, S> {
    /// The index (in its path) of the bank that converts the payment into its destination currency.
    pub(super) fn final_converter(&self, slot: u32) -> Option<usize> {
        let p = &self.arena[slot as usize];
        let dest = self.w.corridors[p.corridor.idx()].dest;
        let route = self.w.route(p.route);
        route
            .conversions
            .last()
            .filter(|&&(_, to)| to == dest)
            .map(|&(at, _)| at)
    }

    /// The payment's value was paid to bank `k` of its path: if that bank makes the final conversion, the
    /// payment is exposed from now.
    pub(super) fn fx_paid_to(&mut self, slot: u32, k: usize) {
        if self.final_converter(slot) != Some(k) {
            return;
        }
        let now = self.now;
        let p = &self.arena[slot as usize];
        if p.fx.since().is_some() {
            return;
        }
        let cents = self.w.fx.usd_cents(p.transit_minor, p.cur, now);
        let rail = p.rail.idx();
        let r = &mut self.fx_risk[rail];
        r.advance(now);
        r.open_cents = r.open_cents.saturating_add(cents);
        r.payments += 1;
        let p = &mut self.arena[slot as usize];
        p.fx = FxLeg::open(now);
        p.fx_cents = cents;
    }

    /// The destination currency is delivered (or the payment ends): the exposure, if open, closes now.
    pub(super) fn fx_delivered(&mut self, slot: u32) {
        let now = self.now;
        let p = &mut self.arena[slot as usize];
        let Some(since) = p.fx.since() else {
            return;
        };
        p.fx = FxLeg::closed(now - since);
        let (rail, cents) = (p.rail.idx(), p.fx_cents);
        let r = &mut self.fx_risk[rail];
        r.advance(now);
        r.open_cents -= cents;
    }

    /// Closes every rail's integral at `end_us` (payments still exposed stay open in it).
    pub(super) fn fx_outcomes(&mut self, end_us: u64) -> Vec<FxExposure> {
        self.fx_risk
            .iter_mut()
            .enumerate()
            .map(|(r, x)| {
                x.advance(end_us.max(x.since_us));
                FxExposure {
                    rail: RailId(r as u16),
                    usd_cents_us: x.integral,
                    peak_usd_cents: x.peak_cents,
                    payments: x.payments,
                }
            })
            .collect()
    }
}
