//! Proof-of-stake attestations over the gossip network, and finality by Casper FFG's rule as Ethereum's beacon
//! chain runs it (a proof-of-stake chain with `mode = "gossip"`).
//!
//! Every validator attests once an epoch, in its slot's committee (validators `k·V/S .. (k+1)·V/S` attest in slot
//! k of each epoch, split into `C = clamp(V / S / 128, 1, 64)` committees, the specification's
//! `get_committee_count_per_slot` with `TARGET_COMMITTEE_SIZE = 128`). A validator attests when its node has the
//! slot's block, or a third of the way into the slot if it has not (then it votes for the parent: a wrong head
//! if the block makes it into the chain, a right one if it is orphaned or there is none). Attestations are small
//! messages pushed along the graph: a hop from node u costs the latency plus the upload of the message and of
//! the committee's other traffic ahead of it on u's link (each node forwards each of the committee's M
//! attestations to its other peers, so one waits on average behind `M·(peers − 1)/2` copies:
//! `(1 + M·(peers(u) − 1)/2) · bytes / bandwidth(u)`). Each committee's aggregator (a random online member) takes
//! the attestations that reach it two thirds into the slot and pushes the aggregate (`vote_bytes` + 200 bytes: two
//! BLS signatures and an index; the slot's C aggregates share the links in the same way) to the proposers of
//! the following slots. A proposer includes every aggregate that has reached its node when its slot begins; an
//! aggregate not included by the end of the next epoch is lost (EIP-7045's inclusion window).
//!
//! Justification and finality follow `process_justification_and_finalization`: at the end of epoch X, epochs
//! X − 1 and X are justified when the attestations included so far carry two thirds of the validators, and the
//! four rules over the last four epochs' justification bits finalize a checkpoint. A block at slot s is final
//! once the finalized checkpoint's epoch f has f·S ≥ s: at best two epochs after its slot for the first slot
//! of an epoch, and three epochs less its position for the others (79.5 slots on average for S = 32).
//!
//! Costs: one reverse shortest-path search per aggregator node and per proposer node, kept in a bounded cache
//! (exact while it holds every node, as it does up to ~2,900 nodes), and O(V/S) per slot.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::model::chain::gossip::DelayHist;
use crate::model::chain::spec::Gossip;
use crate::rng::{self, Stream};

/// `TARGET_COMMITTEE_SIZE` and `MAX_COMMITTEES_PER_SLOT` of the beacon-chain specification.
const TARGET_COMMITTEE_SIZE: usize = 128;
const MAX_COMMITTEES_PER_SLOT: usize = 64;
/// An aggregate carries the attestation and an aggregator's index, selection proof and signature.
pub const AGGREGATE_EXTRA_BYTES: u64 = 200;
/// Memory the two distance caches may hold together.
const CACHE_BYTES: usize = 64 << 20;

/// Reverse shortest-path delays to one node, µs (saturating at u32::MAX), computed on demand and kept in a
/// direct-mapped cache keyed by the destination node.
#[derive(Clone, Debug)]
struct DistCache {
    /// Upload cost of one message at each node (its traffic ahead of it included), µs.
    send_us: Vec<u32>,
    slots: Vec<(u32, Vec<u32>)>,
}

impl DistCache {
    fn new(g: &Gossip, bytes: u64, copies_ahead: f64, slots: usize) -> DistCache {
        let send_us = (0..g.nodes())
            .map(|u| {
                let copies = 1.0 + copies_ahead * (g.peers[u].len().saturating_sub(1)) as f64;
                let us = (bytes as f64 * copies * 8e6 / g.upload_bps[u]).round();
                us.min(u32::MAX as f64) as u32
            })
            .collect();
        DistCache {
            send_us,
            slots: vec![(u32::MAX, Vec::new()); slots.max(1)],
        }
    }

    /// Delays from every node to `dst`: a hop u → w costs `send_us[u] + latency(u, w)`.
    fn to(&mut self, g: &Gossip, heap: &mut BinaryHeap<Reverse<(u32, u32)>>, dst: usize) -> &[u32] {
        let k = dst % self.slots.len();
        if self.slots[k].0 != dst as u32 {
            let dist = &mut self.slots[k].1;
            dist.clear();
            dist.resize(g.nodes(), u32::MAX);
            dist[dst] = 0;
            heap.clear();
            heap.push(Reverse((0, dst as u32)));
            while let Some(Reverse((d, w))) = heap.pop() {
                let w = w as usize;
                if d > dist[w] {
                    continue;
                }
                for &u in &g.peers[w] {
                    let u = u as usize;
                    let hop = self.send_us[u] as u64 + g.latency(u, w);
                    let nd = (d as u64 + hop).min(u32::MAX as u64) as u32;
                    if nd < dist[u] {
                        dist[u] = nd;
                        heap.push(Reverse((nd, u as u32)));
                    }
                }
            }
            self.slots[k].0 = dst as u32;
        }
        &self.slots[k].1
    }
}

/// A committee's aggregate on its way to the proposers.
#[derive(Clone, Copy, Debug)]
struct Aggregate {
    slot: u64,
    node: u32,
    depart_us: u64,
    count: u32,
}

/// Attestation figures of a run.
#[derive(Clone, Debug, Default)]
pub struct AttestMetrics {
    /// Attestations due (every validator once an epoch).
    pub expected: u64,
    /// Made by an online validator.
    pub made: u64,
    /// Voting for the head the chain kept at that slot.
    pub head: u64,
    /// Reached the committee's aggregator in time.
    pub aggregated: u64,
    /// Included in a block.
    pub included: u64,
    /// Included in the very next slot's block.
    pub next_slot: u64,
    /// Delay from an attestation's making to its arrival at the aggregator.
    pub delay: DelayHist,
    /// Epochs justified and the last finalized epoch.
    pub justified_epochs: u64,
    pub finalized_epoch: u64,
    /// Slots (from epoch 2 on) final by the end, and not.
    pub slots_final: u64,
    pub slots_unfinal: u64,
}

/// The attestation layer of one proof-of-stake chain over gossip.
#[derive(Clone, Debug)]
pub struct Attestations {
    validators: usize,
    slots_per_epoch: u64,
    slot_us: u64,
    committees: usize,
    to_aggregator: DistCache,
    to_proposer: DistCache,
    heap: BinaryHeap<Reverse<(u32, u32)>>,
    pending: VecDeque<Aggregate>,
    /// Attestations included so far per epoch (ring of 4, by epoch mod 4).
    tally: [u64; 4],
    ffg: Ffg,
    /// (finalized epoch, time) each time finality advanced.
    finalized_at: Vec<(u64, u64)>,
    /// Slots not yet final: (slot, slot start).
    unfinal: VecDeque<(u64, u64)>,
    stream: Stream,
    pub metrics: AttestMetrics,
}

/// Casper FFG's justification and finalization by checkpoints (the consensus specs' phase 0
/// `weigh_justification_and_finalization`): `bits` holds whether each of the last four epochs is justified (bit
/// 0 the current one), and an epoch is finalized when it and the justified epochs after it form one of the four
/// patterns the specs name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ffg {
    pub bits: u8,
    pub previous_justified: u64,
    pub current_justified: u64,
    pub finalized: u64,
}

impl Ffg {
    /// The end of epoch `x`, given whether two thirds of the validators attested to the previous epoch's and to
    /// the current epoch's checkpoint. Returns the epochs newly justified (0, 1 or 2).
    pub fn process(&mut self, x: u64, previous: bool, current: bool) -> u64 {
        let old_previous = self.previous_justified;
        let old_current = self.current_justified;
        self.previous_justified = self.current_justified;
        self.bits = (self.bits << 1) & 0b1111;
        let previous_was = self.bits & 0b10 != 0;
        if previous {
            self.current_justified = x - 1;
            self.bits |= 0b10;
        }
        if current {
            self.current_justified = x;
            self.bits |= 0b01;
        }
        let all = |mask: u8| self.bits & mask == mask;
        // The 2nd, 3rd and 4th most recent epochs justified, the 2nd using the 4th as source.
        if all(0b1110) && old_previous + 3 == x {
            self.finalized = old_previous;
        }
        // The 2nd and 3rd, the 2nd using the 3rd as source.
        if all(0b0110) && old_previous + 2 == x {
            self.finalized = old_previous;
        }
        // The 1st, 2nd and 3rd, the 1st using the 3rd as source.
        if all(0b0111) && old_current + 2 == x {
            self.finalized = old_current;
        }
        // The 1st and 2nd, the 1st using the 2nd as source.
        if all(0b0011) && old_current + 1 == x {
            self.finalized = old_current;
        }
        u64::from(self.bits & 0b01 != 0) + u64::from(!previous_was && self.bits & 0b10 != 0)
    }
}

impl Attestations {
    pub fn new(
        g: &Gossip,
        validators: usize,
        slots_per_epoch: u64,
        slot_us: u64,
        stream: Stream,
    ) -> Attestations {
        let committees = (validators / slots_per_epoch as usize / TARGET_COMMITTEE_SIZE)
            .clamp(1, MAX_COMMITTEES_PER_SLOT);
        let members = validators as f64 / slots_per_epoch as f64 / committees as f64;
        let per_cache = (CACHE_BYTES / 2 / (4 * g.nodes()).max(1)).min(g.nodes());
        Attestations {
            validators,
            slots_per_epoch,
            slot_us,
            committees,
            to_aggregator: DistCache::new(g, g.vote_bytes, members / 2.0, per_cache),
            to_proposer: DistCache::new(
                g,
                g.vote_bytes + AGGREGATE_EXTRA_BYTES,
                committees as f64 / 2.0,
                per_cache,
            ),
            heap: BinaryHeap::new(),
            pending: VecDeque::new(),
            tally: [0; 4],
            ffg: Ffg::default(),
            finalized_at: Vec::new(),
            unfinal: VecDeque::new(),
            stream,
            metrics: AttestMetrics::default(),
        }
    }

    fn node(g: &Gossip, validator: usize) -> usize {
        g.producers[validator % g.producers.len()] as usize
    }

    /// At the start of `slot` (time `now`): the end of the previous epoch is processed when `slot` opens an
    /// epoch. Returns the finalized epoch when it advanced; `on_final` gets the time to finality of each slot
    /// that became final (from its start; slots of epochs 0 and 1, which the rule never judges, left out).
    pub fn begin_slot(
        &mut self,
        slot: u64,
        now: u64,
        mut on_final: impl FnMut(u64),
    ) -> Option<u64> {
        let s = self.slots_per_epoch;
        if slot >= 2 * s {
            self.unfinal.push_back((slot, now));
        }
        if slot == 0 || !slot.is_multiple_of(s) {
            return None;
        }
        let ended = slot / s - 1;
        let before = self.ffg.finalized;
        self.process_epoch(ended);
        // The ring slot of epoch `ended + 1` starts anew (it last held epoch ended − 3).
        self.tally[((ended + 1) % 4) as usize] = 0;
        if self.ffg.finalized == before {
            return None;
        }
        self.finalized_at.push((self.ffg.finalized, now));
        while let Some(&(open, start)) = self.unfinal.front() {
            if self.ffg.finalized * s < open {
                break;
            }
            self.unfinal.pop_front();
            self.metrics.slots_final += 1;
            on_final(now - start);
        }
        Some(self.ffg.finalized)
    }

    /// `process_justification_and_finalization` at the end of epoch `x`.
    fn process_epoch(&mut self, x: u64) {
        if x <= 1 {
            return;
        }
        let v = self.validators as u64;
        let two_thirds = |attestations: u64| attestations * 3 >= v * 2;
        let previous = two_thirds(self.tally[((x - 1) % 4) as usize]);
        let current = two_thirds(self.tally[(x % 4) as usize]);
        self.metrics.justified_epochs += self.ffg.process(x, previous, current);
        self.metrics.finalized_epoch = self.ffg.finalized;
    }

    /// When the block at `slot` is final, if it is already.
    pub fn final_time(&self, slot: u64) -> Option<u64> {
        let need = slot.div_ceil(self.slots_per_epoch);
        let k = self.finalized_at.partition_point(|&(f, _)| f < need);
        self.finalized_at.get(k).map(|&(_, t)| t)
    }

    /// The epoch that must be finalized for the block at `slot` to be final.
    pub fn epoch_needed(&self, slot: u64) -> u64 {
        slot.div_ceil(self.slots_per_epoch)
    }

    /// Slots still waiting for finality (at the end of a run).
    pub fn finish(&mut self) {
        self.metrics.slots_unfinal = self.unfinal.len() as u64;
    }

    /// The block of `slot` (its slot began at `start`) joined the chain; its proposer's node is `proposer`: the
    /// aggregates that reached that node by `start` go into the block.
    pub fn block(&mut self, g: &Gossip, slot: u64, start: u64, proposer: usize) {
        let epoch = slot / self.slots_per_epoch;
        // Aggregates of epochs before the previous one can no longer be included.
        while self
            .pending
            .front()
            .is_some_and(|a| a.slot / self.slots_per_epoch + 1 < epoch)
        {
            self.pending.pop_front();
        }
        if self.pending.is_empty() {
            return;
        }
        let dist = self.to_proposer.to(g, &mut self.heap, proposer);
        let mut k = 0;
        while k < self.pending.len() {
            let a = self.pending[k];
            let at = a.depart_us.saturating_add(dist[a.node as usize] as u64);
            if at <= start {
                self.tally[((a.slot / self.slots_per_epoch) % 4) as usize] += a.count as u64;
                self.metrics.included += a.count as u64;
                if a.slot + 1 == slot {
                    self.metrics.next_slot += a.count as u64;
                }
                self.pending.remove(k);
            } else {
                k += 1;
            }
        }
    }

    /// The committees of `slot` (begun at `start`) attest. `block_at`: when each node validated the slot's
    /// block, if one was proposed; `kept`: whether that block joined the chain.
    pub fn attest(
        &mut self,
        g: &Gossip,
        slot: u64,
        start: u64,
        block_at: Option<&[u64]>,
        kept: bool,
        is_online: impl Fn(usize, u64) -> bool,
    ) {
        let s = self.slots_per_epoch as usize;
        let k = (slot % self.slots_per_epoch) as usize;
        let (first, last) = (k * self.validators / s, (k + 1) * self.validators / s);
        let attest_by = start + self.slot_us / 3;
        let aggregate_by = start + 2 * self.slot_us / 3;
        let len = last - first;
        self.metrics.expected += len as u64;
        for c in 0..self.committees {
            let (a, b) = (
                first + c * len / self.committees,
                first + (c + 1) * len / self.committees,
            );
            if a == b {
                continue;
            }
            // The aggregator: the first online member from a random offset.
            let offset = (rng::unit(&mut self.stream) * (b - a) as f64) as usize;
            let aggregator = (0..b - a)
                .map(|i| a + (offset + i) % (b - a))
                .find(|&v| is_online(v, start));
            let Some(aggregator) = aggregator else {
                continue; // the whole committee is offline: nothing is made
            };
            let agg_node = Self::node(g, aggregator);
            let dist = self.to_aggregator.to(g, &mut self.heap, agg_node);
            let mut count = 0u32;
            for v in a..b {
                if !is_online(v, start) {
                    continue;
                }
                let node = Self::node(g, v);
                let seen = block_at.map_or(u64::MAX, |at| at[node]);
                let made = seen.min(attest_by).max(start);
                let voted_block = seen <= attest_by;
                self.metrics.made += 1;
                // No block, or an orphaned one: the parent is the right head.
                self.metrics.head += u64::from(voted_block == (block_at.is_some() && kept));
                let delay = dist[node] as u64;
                self.metrics.delay.record(delay);
                if made + delay <= aggregate_by {
                    count += 1;
                }
            }
            self.metrics.aggregated += count as u64;
            if count > 0 {
                self.pending.push_back(Aggregate {
                    slot,
                    node: agg_node as u32,
                    depart_us: aggregate_by,
                    count,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ffg;

    /// Runs epochs 2, 3, … with (previous, current) justified as given; returns (finalized, newly justified)
    /// after each. Expected values are worked by hand from the specs' four rules.
    fn run(steps: &[(bool, bool)]) -> Vec<(u64, u64)> {
        let mut f = Ffg::default();
        (2..)
            .zip(steps)
            .map(|(x, &(p, c))| {
                let j = f.process(x, p, c);
                (f.finalized, j)
            })
            .collect()
    }

    #[test]
    fn every_epoch_justified_at_its_end_finalizes_the_one_before() {
        // Epoch 2 justifies 1 and 2 (nothing to finalize from genesis' checkpoint 0); from epoch 3 on, the
        // 1st and 2nd most recent justified epochs finalize the 2nd.
        let got = run(&[(true, true); 5]);
        assert_eq!(got, [(0, 2), (2, 1), (3, 1), (4, 1), (5, 1)]);
    }

    #[test]
    fn a_stall_stops_finality_until_two_epochs_in_a_row_are_justified_again() {
        let all = (true, true);
        let none = (false, false);
        let got = run(&[all, all, all, all, none, none, none, all, all]);
        // Epochs 2–5 finalize up to 4; at 6 the 2nd and 3rd most recent (4, 5) are justified with 4 as source:
        // 4 again. At 7 and 8 only older epochs are justified: nothing new is final, although the previous
        // justified checkpoint (5) is two epochs back at 7 (the second rule needs the 2nd and 3rd justified too).
        // At 9, 8 and 9 are justified from source 5: not adjacent, nothing final; at 10, 9 and 10 finalize 9.
        assert_eq!(
            got,
            [
                (0, 2),
                (2, 1),
                (3, 1),
                (4, 1),
                (4, 0),
                (4, 0),
                (4, 0),
                (4, 2),
                (9, 1)
            ]
        );
    }

    #[test]
    fn justified_only_one_epoch_late_finalizes_three_epochs_back() {
        // From epoch 4 on, only the previous epoch reaches two thirds by the end of each epoch: the 2nd, 3rd and
        // 4th most recent epochs are justified with the 4th as source, and the first rule finalizes x − 3. (At 4,
        // the previous epoch, 3, was already justified at its own end: nothing new.)
        let all = (true, true);
        let late = (true, false);
        let got = run(&[all, all, late, late, late, late, late]);
        assert_eq!(
            got,
            [(0, 2), (2, 1), (2, 0), (3, 1), (3, 1), (4, 1), (5, 1)]
        );
    }

    #[test]
    fn justified_late_then_on_time_finalizes_by_the_third_rule() {
        // Epoch 5 justifies only 4 (late); epoch 6 justifies 5 and 6 with 4 as source: the 1st, 2nd and 3rd most
        // recent epochs finalize 4; epoch 7 (5 and 6 justified before, 7 now) finalizes 6.
        let all = (true, true);
        let got = run(&[all, all, all, (true, false), all, all]);
        assert_eq!(got, [(0, 2), (2, 1), (3, 1), (3, 0), (4, 2), (6, 1)]);
    }
}
