//! Domestic rails (RTGS, ACH batches, instant payments) for the first and last mile: business hours or batch
//! windows, a station of c servers, settlement delay and latency, and the rail's fee.

use crate::model::calendar::WaitReason;
use crate::model::record::{Hold, Place, Step};
use crate::model::station::Servers;
use crate::model::world::{ChargeBearer, DomKind, DomRailId};
use crate::rng::{self, Stream};

use super::{Part, Phase, RecordSink, Sim};

pub(super) struct DomState {
    pub(super) servers: Servers,
    pub(super) stream: Stream,
}

impl<S: RecordSink> Sim<'_, S> {
    pub(super) fn domestic_fee(&mut self, slot: u32, d: DomRailId) {
        let usd = self.w.dom_rails[d.idx()].fee_usd;
        if usd <= 0.0 {
            return;
        }
        let p = &self.arena[slot as usize];
        let originator_pays = self.w.rails[p.rail.idx()].bearer == ChargeBearer::Our || p.hop == 0;
        let holder = self.bank_at(slot);
        let cents = self.charge(
            slot,
            usd,
            originator_pays,
            |acc, c| acc.dom_fees(d, c),
            holder,
        );
        self.arena[slot as usize]
            .tally
            .add_cost(Part::DomesticFees, cents);
    }

    /// Submit to a domestic rail: business hours (or batch windows), a FIFO server at the rail's capacity, then
    /// the rail's latency.
    pub(super) fn submit_domestic(&mut self, slot: u32, d: DomRailId, then: Phase) {
        let now = self.now;
        let rail = &self.w.dom_rails[d.idx()];
        let cal = self.w.calendar(rail.calendar);
        let si = self.arena[slot as usize].world as usize * self.w.dom_rails.len() + d.idx();
        let st = &mut self.doms[si];
        let service = if let Some(s) = &rail.service {
            s.sample(&mut st.stream)
        } else if rail.exp_service {
            (-(1.0 - rng::unit(&mut st.stream)).ln() * rail.service_us).round() as u64
        } else {
            rail.service_us.round() as u64
        };
        let ready = match rail.kind {
            DomKind::Ach => {
                let i = rail.batch_closes.partition_point(|&c| c < now);
                rail.batch_closes.get(i).copied().unwrap_or(u64::MAX)
            }
            DomKind::Rtgs | DomKind::Instant => cal.next_open(now),
        };
        let (server, free_us) = st.servers.earliest();
        let mut start = ready.max(free_us);
        if rail.kind != DomKind::Ach && start != u64::MAX && !cal.is_open(start) {
            start = cal.next_open(start);
        }
        if start == u64::MAX {
            self.arena[slot as usize].phase = then;
            return;
        }
        st.servers.book(now, server, ready, start, service);
        let latency = rail.latency.sample(&mut st.stream);
        let settle_delay = if rail.kind == DomKind::Ach {
            rail.settlement_delay_us
        } else {
            0
        };
        let done = start + service + settle_delay + latency;
        self.hold(slot, done - now, Hold::DomesticRail);
        if self.is_traced(slot) {
            if ready > now {
                let reason = if rail.kind == DomKind::Ach {
                    WaitReason::AchWindow
                } else {
                    cal.wait_reason(now)
                };
                self.trace_step(
                    slot,
                    Place::Domestic(d),
                    Step::Waiting {
                        until_us: ready,
                        reason,
                    },
                );
            }
            self.trace_step(
                slot,
                Place::Domestic(d),
                Step::DomesticSubmitted {
                    queue_wait_us: start - ready.min(start),
                    done_us: done,
                },
            );
        }
        self.schedule(slot, done, then);
    }
}
