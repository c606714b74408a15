//! Staffed bank desks (processing, repair, compliance review) as queueing stations with c clerks on the bank's
//! hours, and the closing accounting of every station (domestic rails and desks) for Little's law.

use crate::model::record::{Hold, Place, Step};
use crate::model::world::{BankId, Desk, Mode, RailId};

use super::{Ev, Phase, RecordSink, Sim, StationOutcome};

impl<S: RecordSink> Sim<'_, S> {
    /// The index of the current bank's `desk` if it is staffed (a station), in the payment's world.
    pub(super) fn staffed_desk(&self, slot: u32, desk: Desk) -> Option<usize> {
        let b = self.bank_at(slot);
        self.w.bank(b).staff[desk as usize]?;
        let world = self.arena[slot as usize].world as usize;
        Some((world * self.w.banks.len() + b.idx()) * 3 + desk as usize)
    }

    /// Queues the payment at a staffed desk with the service time already drawn (so the bank's stream is read
    /// in the same order as for an unlimited desk), then lets the desk start whoever is next.
    pub(super) fn desk_request(&mut self, slot: u32, desk: Desk, service_us: u64) {
        let i = self.staffed_desk(slot, desk).expect("a staffed desk");
        let by_amount = self.w.bank(self.bank_at(slot)).desk_by_amount;
        let p = &mut self.arena[slot as usize];
        p.phase = Phase::DeskQueued;
        p.queued_since_us = self.now;
        let key = if by_amount { p.amount_usd_cents } else { 0 };
        self.desks[i]
            .as_mut()
            .expect("staffed")
            .push(self.now, key, slot, service_us);
        self.desk_dispatch(i);
    }

    /// Starts waiting payments while clerks are free and the bank is open; when it is closed, wakes the desk
    /// at the next opening. A started payment is served to the end, even past the close (no pre-emption).
    pub(super) fn desk_dispatch(&mut self, i: usize) {
        let bank = BankId(((i / 3) % self.w.banks.len()) as u16);
        let cal = self.w.bank_calendar(bank);
        let now = self.now;
        loop {
            let desk = self.desks[i].as_mut().expect("staffed");
            if desk.is_empty() || desk.busy >= desk.servers {
                return;
            }
            let open = cal.next_open(now);
            if open > now {
                if !desk.wake_pending && open != u64::MAX {
                    desk.wake_pending = true;
                    self.q.push(open, Ev::Desk(i as u32));
                }
                return;
            }
            let (slot, service) = desk.pop().expect("a waiting payment and a free clerk");
            let since = self.arena[slot as usize].queued_since_us;
            let which = Desk::ALL[i % 3];
            desk.stats.leave(now, now - since, service);
            let until = now.saturating_add(service);
            self.held(slot, now - since, Hold::DeskQueue);
            let kind = match which {
                Desk::Processing => Hold::Processing,
                Desk::Repair => Hold::Repair,
                Desk::Review => Hold::ComplianceReview,
            };
            self.hold(slot, service, kind);
            let phase = match which {
                Desk::Processing => Phase::Processed,
                Desk::Repair => {
                    self.trace_step(
                        slot,
                        Place::Bank(bank),
                        Step::ManualRepair { until_us: until },
                    );
                    Phase::Repaired
                }
                Desk::Review => {
                    self.trace_step(
                        slot,
                        Place::Bank(bank),
                        Step::ScreeningHit { until_us: until },
                    );
                    Phase::Reviewed
                }
            };
            self.schedule(slot, until, phase);
        }
    }

    /// Closes every station's window at `end_us` and names it.
    pub(super) fn stations(&mut self, end_us: u64) -> Vec<StationOutcome> {
        let mirror = self.w.mode == Mode::Mirror;
        let world_rail = |world: usize| mirror.then_some(RailId(world as u16));
        let mut out = Vec::new();
        let nd = self.w.dom_rails.len().max(1);
        for (i, d) in self.doms.iter_mut().enumerate() {
            d.servers.close(end_us);
            let rail = &self.w.dom_rails[i % nd];
            out.push(StationOutcome {
                name: format!("domestic/{}", rail.name),
                rail: world_rail(i / nd),
                servers: Some(rail.servers),
                declared: rail.declared_station,
                stats: d.servers.stats.clone(),
            });
        }
        let nb = self.w.banks.len().max(1);
        for (i, desk) in self.desks.iter_mut().enumerate() {
            let Some(desk) = desk else { continue };
            desk.stats.close(end_us);
            out.push(StationOutcome {
                name: format!(
                    "bank/{}/{}",
                    self.w.banks[(i / 3) % nb].name,
                    Desk::ALL[i % 3].name()
                ),
                rail: world_rail(i / 3 / nb),
                servers: Some(desk.servers),
                declared: true,
                stats: desk.stats.clone(),
            });
        }
        out
    }
}
