//! Demand: per corridor a thinned non-homogeneous Poisson process of payment orders with log-normal amounts;
//! each order becomes one payment per route (mirror mode) or one on a route drawn by share (split mode).

use rand_distr::{Distribution, Exp, LogNormal};

use crate::model::record::{EndReason, Hold, Place, Stage, Step};
use crate::model::world::{CorridorId, Mode, RouteId, World};
use crate::rng::{self, Stream};
use crate::units::US_PER_DAY;

use super::tally::Tally;
use super::{Ev, FxLeg, MaybeUs, NO_LEG, Payment, Phase, Queued, RecordSink, Sim};

pub(super) struct Demand {
    pub(super) stream: Stream,
    pub(super) gap: Exp<f64>,
    pub(super) lambda_max_per_us: f64,
    pub(super) amount: LogNormal<f64>,
    pub(super) share_total: f64,
}

/// The demand profile's factor at time t: diurnal by local hour times weekday, in the corridor's zone.
pub(super) fn profile_factor(w: &World, c: CorridorId, t_us: u64) -> f64 {
    use chrono::{Datelike, Timelike};
    let corridor = &w.corridors[c.idx()];
    let utc = w.start + chrono::Duration::microseconds(t_us as i64);
    let local = utc.with_timezone(&corridor.zone);
    corridor.diurnal[local.hour() as usize]
        * corridor.weekday[local.weekday().num_days_from_monday() as usize]
}

impl<S: RecordSink> Sim<'_, S> {
    pub(super) fn schedule_next_arrival(&mut self, c: CorridorId, from_us: u64) {
        let d = &mut self.demand[c.idx()];
        if d.lambda_max_per_us <= 0.0 {
            return;
        }
        let gap = d.gap.sample(&mut d.stream).ceil() as u64;
        let t = from_us.saturating_add(gap.max(1));
        if t < self.w.demand_end_us {
            self.q.push(t, Ev::Arrival(c));
        }
    }

    /// Thinning: a candidate at the peak rate is kept with probability λ(t)/λmax.
    pub(super) fn on_arrival(&mut self, c: CorridorId) {
        let now = self.now;
        let corridor = &self.w.corridors[c.idx()];
        let factor = profile_factor(self.w, c, now);
        let peak =
            self.demand[c.idx()].lambda_max_per_us * US_PER_DAY as f64 / corridor.payments_per_day;
        let keep = rng::unit(&mut self.demand[c.idx()].stream) < factor / peak;
        if keep {
            self.create_demand(c);
        }
        self.schedule_next_arrival(c, now);
    }

    pub(super) fn create_demand(&mut self, c: CorridorId) {
        let w = self.w;
        let corridor = &w.corridors[c.idx()];
        let d = &mut self.demand[c.idx()];
        let major = d.amount.sample(&mut d.stream);
        let scale = w.fx.currency(corridor.source).scale() as f64;
        let amount_minor = ((major * scale).round() as i64)
            .clamp(corridor.amount_min_minor, corridor.amount_max_minor);
        let demand_id = self.next_demand;
        self.next_demand += 1;
        match w.mode {
            Mode::Mirror => {
                for &r in &corridor.routes {
                    self.create_payment(r, demand_id, amount_minor);
                }
            }
            Mode::Split => {
                let mut pick = rng::unit(&mut d.stream) * d.share_total;
                // Rounding can leave `pick` at or above zero after the last subtraction: fall back to the last
                // route that has a share, never to one with share 0.
                let mut chosen = *corridor
                    .routes
                    .iter()
                    .rev()
                    .find(|&&r| w.route(r).share > 0.0)
                    .expect("validated: a split corridor has a positive share");
                for &r in &corridor.routes {
                    pick -= w.route(r).share;
                    if pick < 0.0 {
                        chosen = r;
                        break;
                    }
                }
                self.create_payment(chosen, demand_id, amount_minor);
            }
        }
    }

    /// One payment of a demand draw on one route (and, on a merchant QR rail, perhaps a duplicate submission).
    pub(super) fn create_payment(&mut self, r: RouteId, demand_id: u64, amount_minor: i64) {
        let (_, order) = self.spawn_payment(r, demand_id, amount_minor, false);
        self.maybe_submit_twice(r, demand_id, amount_minor, order);
    }

    /// Creates a payment and starts it; returns its slot and id.
    pub(super) fn spawn_payment(
        &mut self,
        r: RouteId,
        demand_id: u64,
        amount_minor: i64,
        duplicate: bool,
    ) -> (u32, u64) {
        let now = self.now;
        let route = self.w.route(r);
        let corridor = &self.w.corridors[route.corridor.idx()];
        let cur = corridor.source;
        let world = match self.w.mode {
            Mode::Mirror => route.rail.0,
            Mode::Split => 0,
        };
        let p = Payment {
            id: self.next_id,
            demand_id,
            route: r,
            rail: route.rail,
            corridor: route.corridor,
            phase: Phase::Accept,
            hop: 0,
            world,
            created_us: now,
            amount_minor,
            amount_usd_cents: self.w.fx.usd_cents(amount_minor, cur, now),
            transit_minor: amount_minor,
            cur,
            queued_since_us: 0,
            queued_for: Queued::Hop,
            duplicate,
            leg: NO_LEG,
            reason: EndReason::None,
            accepted_us: MaybeUs::NONE,
            slowest_us: 0,
            slowest: Hold::None,
            stage: Stage::Initiation,
            stage_since_us: now,
            tally: Tally::default(),
            fx: FxLeg::NEVER,
            fx_cents: 0,
        };
        let id = self.next_id;
        self.next_id += 1;
        let first_bank = route.path[0];
        self.ledger.transfer(
            self.acc.originators(cur),
            self.acc.transit(route.rail, first_bank, cur),
            amount_minor,
        );
        self.metrics.arrival(route.rail, now);
        let cents = p.amount_usd_cents;
        let slot = self.alloc(p);
        self.capital.use_route(r, now, cents);
        // The originator pays the first bank: if it converts into the destination currency, the FX leg is open.
        self.fx_paid_to(slot, 0);
        self.trace_step(
            slot,
            Place::Rail(route.rail),
            Step::Created {
                amount_minor,
                currency: cur,
            },
        );
        if !self.admitted(slot) {
            return (slot, id);
        }
        match route.first_mile {
            Some(d) => {
                self.domestic_fee(slot, d);
                self.submit_domestic(slot, d, Phase::FirstMileDone);
            }
            None => self.arrive(slot),
        }
        (slot, id)
    }
}
