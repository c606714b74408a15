//! The running state of one chain: mempool, block tree, the observer's canonical chain, fee market and
//! consensus. Driven by `Ev::ChainTick` (a block found, a slot, a BFT height) and `Ev::BlockArrive` (Nakamoto
//! propagation to a node). Payments submit transactions and are woken through `ready` when their transaction has
//! the confirmations (or finality) their receiver wants.
//!
//! Simplifications, each stated where it matters: background transactions arrive in bulk when a block is built
//! (a Poisson count over the elapsed time), which is equivalent for block contents; one global mempool (transaction
//! propagation is fast next to block intervals); payment transactions are never evicted (their wallets rebroadcast);
//! proof-of-stake and BFT chains do not fork.

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};

use rand_distr::{Distribution, Exp, LogNormal, Poisson};

use crate::engine::queue::EventQueue;
use crate::model::calendar::Calendar;
use crate::model::chain::spec::{ChainSpec, Consensus, FeeMarket, Gossip, Network};
use crate::model::sim::Ev;
use crate::rng::{self, Stream};

const NONE: u32 = u32::MAX;
/// Blocks and canonical heights kept in memory behind the tip; deeper reorganisations are not modelled.
const WINDOW: usize = 4096;
/// Background transactions are freed once their block is this deep.
const PRUNE_DEPTH: u32 = 128;
/// Blocks a fee estimator looks back over.
const FEE_WINDOW: usize = 6;
/// Background arrivals between two blocks are drawn as at most this many bids (groups of equal size).
const GROUPS: u64 = 32;

#[derive(Clone, Debug)]
struct Tx {
    units: u64,
    /// First price: fee rate bid. EIP-1559: priority tip per unit.
    bid: u64,
    /// EIP-1559: maximum fee per unit.
    max_fee: u64,
    payment: u32,
    /// Block that includes it on the observer's chain.
    block: u32,
    seq: u64,
    in_mempool: bool,
    /// EIP-1559: the base fee of the block that included it.
    paid_base: u64,
    /// Identical transactions this entry stands for: 1 for a payment's transfer; background load arrives in
    /// groups that share a bid, so a block costs O(groups), not O(transactions).
    count: u64,
}

#[derive(Clone, Debug)]
struct Block {
    parent: u32,
    height: u32,
    time_us: u64,
    txs: Vec<u32>,
    /// Nodes that adopted it (Nakamoto propagation).
    reached: u32,
}

/// Measured chain behaviour.
#[derive(Clone, Debug, Default)]
pub struct ChainMetrics {
    pub blocks_produced: u64,
    pub reorgs: u64,
    pub reorg_depth_max: u64,
    pub stale_blocks: u64,
    pub missed_slots: u64,
    pub txs_included: u64,
    pub payment_txs_included: u64,
    /// Payment transfers whose block was orphaned after inclusion (back to the mempool).
    pub payment_reorgs: u64,
    pub units_used: u64,
    pub canonical_blocks: u64,
    pub fees_native_minor: u128,
    pub burned_native_minor: u128,
    pub bft_rounds: u64,
    pub bft_messages: u64,
    pub evicted: u64,
    /// Nakamoto propagation: sums over blocks of the time to reach half and 95% of the nodes.
    pub reach50_us_sum: u128,
    pub reach50_blocks: u64,
    pub reach95_us_sum: u128,
    pub reach95_blocks: u64,
    pub gossip_messages: u64,
    pub mempool_units_max: u64,
    pub base_fee_min: u64,
    pub base_fee_max: u64,
    pub first_block_us: u64,
    pub last_block_us: u64,
    /// Hourly: (blocks, txs included, mempool units at the last block, base fee at the last block).
    pub hourly: Vec<[u64; 4]>,
}

pub struct ChainState {
    idx: u16,
    mempool: BTreeMap<(Reverse<u64>, u64), u32>,
    mempool_units: u64,
    txs: Vec<Tx>,
    free_txs: Vec<u32>,
    seq: u64,
    blocks: VecDeque<Block>,
    block_base: u32,
    /// The observer's canonical chain: block ids by height, from `canon_base`.
    canon: VecDeque<u32>,
    canon_base: u32,
    /// Nakamoto: each node's tip; the last node is the observer (no hash power).
    tips: Vec<u32>,
    pub base_fee: u64,
    /// Payments waiting for the tip to reach a height: (height, seq) → (payment slot, transaction).
    waits: BTreeMap<(u32, u64), (u32, u32)>,
    /// (payment slot, transaction) pairs to look at again: included, reorganised out, or deep enough. The
    /// simulation drains it after each chain event and checks the transaction is still the payment's.
    pub ready: Vec<(u32, u32)>,
    stream: Stream,
    bg_last_us: u64,
    slot: u64,
    height_next: u32,
    /// The lowest bid in each of the last blocks when they were nearly full (0 when not).
    recent_floors: VecDeque<u64>,
    pub metrics: ChainMetrics,
}

impl ChainState {
    /// `world` names the copy of the infrastructure this chain state belongs to (its stream label).
    pub fn new(spec: &ChainSpec, idx: u16, world: &str, seed: u64, hours: usize) -> ChainState {
        let nodes = match (&spec.consensus, &spec.network) {
            (Consensus::Nakamoto { .. }, Network::Gossip(g)) => g.peers.len(),
            (Consensus::Nakamoto { shares, .. }, Network::Abstract) => shares.len() + 1,
            _ => 1,
        };
        let base_fee = match spec.fee_market {
            FeeMarket::Eip1559 { initial_base } => initial_base.max(1),
            FeeMarket::FirstPrice => 0,
        };
        let mut blocks = VecDeque::new();
        blocks.push_back(Block {
            parent: NONE,
            height: 0,
            time_us: 0,
            txs: Vec::new(),
            reached: 0,
        });
        ChainState {
            idx,
            mempool: BTreeMap::new(),
            mempool_units: 0,
            txs: Vec::new(),
            free_txs: Vec::new(),
            seq: 0,
            blocks,
            block_base: 0,
            canon: VecDeque::from([0]),
            canon_base: 0,
            tips: vec![0; nodes],
            base_fee,
            waits: BTreeMap::new(),
            ready: Vec::new(),
            stream: rng::stream(seed, &format!("world/{world}/chain/{}", spec.name)),
            bg_last_us: 0,
            slot: 0,
            height_next: 1,
            recent_floors: VecDeque::with_capacity(FEE_WINDOW),
            metrics: ChainMetrics {
                base_fee_min: base_fee,
                base_fee_max: base_fee,
                hourly: vec![[0; 4]; hours],
                ..ChainMetrics::default()
            },
        }
    }

    /// Schedules the first block, slot or height.
    pub fn start(&mut self, spec: &ChainSpec, q: &mut EventQueue<Ev>) {
        let first = match &spec.consensus {
            Consensus::Nakamoto { interval_us, .. } => self.exp(*interval_us),
            Consensus::Pos { slot_us, .. } => *slot_us,
            Consensus::Bft {
                commit_pause_us, ..
            } => *commit_pause_us,
        };
        q.push(first, Ev::ChainTick(self.idx));
    }

    fn exp(&mut self, mean_us: u64) -> u64 {
        let d = Exp::new(1.0 / mean_us.max(1) as f64).expect("positive rate");
        (d.sample(&mut self.stream).round() as u64).max(1)
    }

    fn block(&self, id: u32) -> &Block {
        &self.blocks[(id - self.block_base) as usize]
    }

    fn has_block(&self, id: u32) -> bool {
        id >= self.block_base && ((id - self.block_base) as usize) < self.blocks.len()
    }

    pub fn tip_height(&self) -> u32 {
        self.canon_base + self.canon.len() as u32 - 1
    }

    fn canon_at(&self, h: u32) -> Option<u32> {
        if h < self.canon_base {
            return None;
        }
        self.canon.get((h - self.canon_base) as usize).copied()
    }

    // ----- transactions and the mempool -----------------------------------------------------------------

    fn key(&self, tx: &Tx) -> (Reverse<u64>, u64) {
        (Reverse(tx.bid), tx.seq)
    }

    fn insert_tx(&mut self, tx: Tx) -> u32 {
        let id = match self.free_txs.pop() {
            Some(id) => {
                self.txs[id as usize] = tx;
                id
            }
            None => {
                self.txs.push(tx);
                self.txs.len() as u32 - 1
            }
        };
        self.enter_mempool(id);
        id
    }

    fn enter_mempool(&mut self, id: u32) {
        let t = &mut self.txs[id as usize];
        t.in_mempool = true;
        t.block = NONE;
        let (key, units) = ((Reverse(t.bid), t.seq), t.units * t.count);
        self.mempool.insert(key, id);
        self.mempool_units += units;
    }

    fn leave_mempool(&mut self, id: u32) {
        let key = self.key(&self.txs[id as usize]);
        if self.mempool.remove(&key).is_some() {
            self.mempool_units -= self.txs[id as usize].units * self.txs[id as usize].count;
        }
        self.txs[id as usize].in_mempool = false;
    }

    /// A payment's transfer enters the mempool with the given bid (first price) or tip and max fee (EIP-1559).
    pub fn submit(&mut self, spec: &ChainSpec, payment: u32, bid: u64, max_fee: u64) -> u32 {
        self.seq += 1;
        let tx = Tx {
            units: spec.tx_units,
            bid,
            max_fee,
            payment,
            block: NONE,
            seq: self.seq,
            in_mempool: false,
            paid_base: self.base_fee,
            count: 1,
        };
        self.insert_tx(tx)
    }

    /// Background arrivals since the last block, in bulk, then eviction of the lowest bids beyond capacity.
    fn fill_background(&mut self, spec: &ChainSpec, now: u64) {
        let dt_s = now.saturating_sub(self.bg_last_us) as f64 / 1e6;
        self.bg_last_us = now;
        let (rate, mult) = spec.load_at(now);
        let mean = rate * dt_s;
        if mean <= 0.0 {
            return;
        }
        let n = Poisson::new(mean)
            .map(|p| p.sample(&mut self.stream) as u64)
            .unwrap_or(0);
        let sigma = spec.fee_sigma.max(1e-9);
        let fee = LogNormal::new(spec.fee_mu, sigma).expect("valid fee distribution");
        let cap = LogNormal::new(spec.max_fee_mu, sigma).expect("valid max-fee distribution");
        let eip1559 = matches!(spec.fee_market, FeeMarket::Eip1559 { .. });
        // Up to GROUPS bids per block interval, each standing for an equal share of the arrivals.
        let groups = n.min(GROUPS);
        for g in 0..groups {
            let count = n / groups + u64::from(g < n % groups);
            let bid = ((fee.sample(&mut self.stream) * mult).round() as u64).max(1);
            // A user's willingness to pay does not follow the base fee: as it rises, demand falls away.
            let max_fee = if eip1559 {
                ((cap.sample(&mut self.stream) * mult).round() as u64).max(1)
            } else {
                bid
            };
            self.seq += 1;
            let tx = Tx {
                units: spec.tx_units,
                bid,
                max_fee,
                payment: NONE,
                block: NONE,
                seq: self.seq,
                in_mempool: false,
                paid_base: 0,
                count,
            };
            self.insert_tx(tx);
        }
        self.evict(spec);
        self.metrics.mempool_units_max = self.metrics.mempool_units_max.max(self.mempool_units);
    }

    fn evict(&mut self, spec: &ChainSpec) {
        while self.mempool_units > spec.mempool_capacity {
            // The lowest bid that is not a payment's (payment wallets rebroadcast rather than give up).
            let victim = self
                .mempool
                .iter()
                .rev()
                .map(|(_, &id)| id)
                .find(|&id| self.txs[id as usize].payment == NONE);
            let Some(id) = victim else { break };
            self.leave_mempool(id);
            self.free_txs.push(id);
            self.metrics.evicted += self.txs[id as usize].count;
        }
    }

    /// Takes the best transactions that fit; under EIP-1559 those whose max fee covers the base fee.
    fn build(&mut self, spec: &ChainSpec, now: u64) -> Vec<u32> {
        self.fill_background(spec, now);
        let mut chosen = Vec::new();
        let mut used = 0;
        let mut skipped = 0;
        let mut split = None;
        for (_, &id) in self.mempool.iter() {
            let tx = &self.txs[id as usize];
            if let FeeMarket::Eip1559 { .. } = spec.fee_market
                && tx.max_fee < self.base_fee
            {
                skipped += 1;
                // Bound the scan: a mempool full of underpriced entries must not make a block slow.
                if skipped > 4 * GROUPS as usize + 64 {
                    break;
                }
                continue;
            }
            let room = (spec.block_capacity - used) / tx.units;
            if room == 0 {
                break;
            }
            if room < tx.count {
                split = Some((id, room)); // the block takes part of a group
                break;
            }
            used += tx.units * tx.count;
            chosen.push(id);
        }
        if let Some((id, k)) = split {
            self.leave_mempool(id);
            self.txs[id as usize].count -= k;
            self.enter_mempool(id);
            self.seq += 1;
            let part = Tx {
                count: k,
                seq: self.seq,
                in_mempool: false,
                ..self.txs[id as usize].clone()
            };
            chosen.push(self.insert_tx(part));
        }
        chosen
    }

    // ----- the canonical chain ----------------------------------------------------------------------------

    fn push_block(&mut self, parent: u32, height: u32, now: u64, txs: Vec<u32>) -> u32 {
        self.blocks.push_back(Block {
            parent,
            height,
            time_us: now,
            txs,
            reached: 0,
        });
        if self.blocks.len() > WINDOW {
            self.blocks.pop_front();
            self.block_base += 1;
        }
        self.metrics.blocks_produced += 1;
        self.block_base + self.blocks.len() as u32 - 1
    }

    /// Block `id` becomes the observer's block at its height: its transactions leave the mempool and pay.
    fn canon_enter(&mut self, spec: &ChainSpec, id: u32, now: u64) {
        let (height, txs) = {
            let b = self.block(id);
            (b.height, b.txs.clone())
        };
        debug_assert_eq!(height, self.tip_height() + 1);
        self.canon.push_back(id);
        if self.canon.len() > WINDOW {
            self.canon.pop_front();
            self.canon_base += 1;
        }
        let mut used = 0;
        let mut included = 0;
        let mut lowest_bid = u64::MAX;
        for t in txs {
            if self.txs[t as usize].block != NONE || !self.txs[t as usize].in_mempool {
                continue; // already included on this chain (a miner ahead of the observer re-included it)
            }
            self.leave_mempool(t);
            let tx = &mut self.txs[t as usize];
            tx.block = id;
            tx.paid_base = self.base_fee;
            let units = tx.units * tx.count;
            used += units;
            lowest_bid = lowest_bid.min(tx.bid);
            if let FeeMarket::Eip1559 { .. } = spec.fee_market {
                self.metrics.burned_native_minor += self.base_fee as u128 * units as u128;
            }
            let per_unit = fee_per_unit(&spec.fee_market, self.base_fee, tx.bid, tx.max_fee);
            self.metrics.fees_native_minor += per_unit as u128 * units as u128;
            self.metrics.txs_included += tx.count;
            included += tx.count;
            if tx.payment != NONE {
                self.metrics.payment_txs_included += 1;
                self.ready.push((tx.payment, t));
            }
        }
        self.metrics.units_used += used;
        self.metrics.canonical_blocks += 1;
        // What it took to get into a nearly full block: the floor a fee estimator bids above.
        let floor = if used * 10 >= spec.block_capacity * 9 {
            lowest_bid
        } else {
            0
        };
        if self.recent_floors.len() == FEE_WINDOW {
            self.recent_floors.pop_front();
        }
        self.recent_floors.push_back(floor);
        if self.metrics.first_block_us == 0 {
            self.metrics.first_block_us = now;
        }
        self.metrics.last_block_us = now;
        self.update_base_fee(spec, used);
        self.record_hour(now, included);
        self.prune(height);
        self.release_waits(height);
    }

    fn update_base_fee(&mut self, spec: &ChainSpec, used: u64) {
        if let FeeMarket::Eip1559 { .. } = spec.fee_market {
            self.base_fee = next_base_fee(self.base_fee, used, spec.block_capacity);
            self.metrics.base_fee_min = self.metrics.base_fee_min.min(self.base_fee);
            self.metrics.base_fee_max = self.metrics.base_fee_max.max(self.base_fee);
        }
    }

    fn record_hour(&mut self, now: u64, txs: u64) {
        let h = ((now / crate::units::US_PER_HOUR) as usize)
            .min(self.metrics.hourly.len().saturating_sub(1));
        if let Some(slot) = self.metrics.hourly.get_mut(h) {
            slot[0] += 1;
            slot[1] += txs;
            slot[2] = self.mempool_units;
            slot[3] = self.base_fee;
        }
    }

    /// Frees background transactions of the block `PRUNE_DEPTH` below the new tip.
    fn prune(&mut self, tip: u32) {
        let Some(deep) = tip.checked_sub(PRUNE_DEPTH).and_then(|h| self.canon_at(h)) else {
            return;
        };
        if !self.has_block(deep) {
            return;
        }
        let txs = std::mem::take(&mut self.blocks[(deep - self.block_base) as usize].txs);
        for t in txs {
            let tx = &self.txs[t as usize];
            if tx.payment == NONE && tx.block == deep {
                self.free_txs.push(t);
            }
        }
    }

    fn release_waits(&mut self, tip: u32) {
        while let Some((&(h, seq), &wake)) = self.waits.first_key_value() {
            if h > tip {
                break;
            }
            self.waits.remove(&(h, seq));
            self.ready.push(wake);
        }
    }

    /// The block height holding a payment's transaction on the observer's chain, if included.
    pub fn included_height(&self, tx: u32) -> Option<u32> {
        let b = self.txs[tx as usize].block;
        if b == NONE || !self.has_block(b) {
            return None;
        }
        let h = self.block(b).height;
        (self.canon_at(h) == Some(b)).then_some(h)
    }

    pub fn included_time(&self, tx: u32) -> Option<u64> {
        let b = self.txs[tx as usize].block;
        self.included_height(tx).map(|_| self.block(b).time_us)
    }

    /// Wake `payment` when the observer's tip reaches `height`.
    pub fn wait_for_height(&mut self, height: u32, payment: u32, tx: u32) {
        self.seq += 1;
        if height <= self.tip_height() {
            self.ready.push((payment, tx));
        } else {
            self.waits.insert((height, self.seq), (payment, tx));
        }
    }

    /// The fee a transaction paid per size unit, once included (what `canon_enter` charged).
    pub fn paid_per_unit(&self, spec: &ChainSpec, tx: u32) -> u64 {
        let t = &self.txs[tx as usize];
        fee_per_unit(&spec.fee_market, t.paid_base, t.bid, t.max_fee)
    }

    /// A wallet's estimate from recent blocks (as Bitcoin Core's `estimatesmartfee` does, simplified): 10% over
    /// the highest floor of the last few full blocks, and never below `min_bid`.
    pub fn market_bid(&self, min_bid: u64) -> u64 {
        let floor = self.recent_floors.iter().copied().max().unwrap_or(0);
        min_bid.max(floor.saturating_mul(11).div_ceil(10))
    }

    pub fn tx_units(&self, tx: u32) -> u64 {
        self.txs[tx as usize].units
    }

    /// Time at which the block holding `tx` is final under proof of stake (Casper FFG: a block is final once
    /// the checkpoint after it is finalized, `finality_epochs` epochs after the end of its own epoch).
    pub fn final_time(&self, spec: &ChainSpec, tx: u32) -> Option<u64> {
        let t = self.included_time(tx)?;
        match spec.consensus {
            Consensus::Pos {
                slot_us,
                slots_per_epoch,
                finality_epochs,
                ..
            } => {
                let epoch_us = slot_us * slots_per_epoch;
                Some((t / epoch_us + 1 + finality_epochs) * epoch_us)
            }
            _ => Some(t),
        }
    }

    /// The payment stops following this transaction (accepted at zero confirmations); it stays in the mempool
    /// and is mined like any other.
    pub fn detach_payment(&mut self, tx: u32) {
        self.txs[tx as usize].payment = NONE;
    }

    pub fn free_payment_tx(&mut self, tx: u32) {
        if self.txs[tx as usize].in_mempool {
            self.leave_mempool(tx);
        }
        self.txs[tx as usize].payment = NONE;
        if self.txs[tx as usize].block == NONE {
            self.free_txs.push(tx);
        }
    }

    // ----- consensus --------------------------------------------------------------------------------------

    /// `hours`: the platform's operating calendar, if it keeps hours (a multi-CBDC platform).
    pub fn on_tick(
        &mut self,
        spec: &ChainSpec,
        hours: Option<&Calendar>,
        now: u64,
        q: &mut EventQueue<Ev>,
    ) {
        if let Some(until) = spec.halted_until(now) {
            q.push(until, Ev::ChainTick(self.idx));
            return;
        }
        if let Some(cal) = hours {
            let open = cal.next_open(now);
            if open != now {
                if open != u64::MAX {
                    q.push(open, Ev::ChainTick(self.idx));
                }
                return;
            }
        }
        match &spec.consensus {
            Consensus::Nakamoto {
                interval_us,
                shares,
            } => {
                let miner = pick(&mut self.stream, shares);
                let parent = self.tips[miner];
                let height = self.block(parent).height + 1;
                let txs = self.build(spec, now);
                let id = self.push_block(parent, height, now, txs);
                self.tips[miner] = id;
                self.reached(id, now);
                match &spec.network {
                    Network::Abstract => {
                        for node in 0..self.tips.len() {
                            if node != miner {
                                let d = spec.propagation.sample(&mut self.stream);
                                let ev = Ev::BlockArrive {
                                    chain: self.idx,
                                    node: node as u32,
                                    block: id,
                                };
                                q.push(now + d, ev);
                            }
                        }
                    }
                    Network::Gossip(g) => self.relay(g, miner, id, now, q),
                }
                let next = now + self.exp(*interval_us);
                q.push(next, Ev::ChainTick(self.idx));
            }
            Consensus::Pos {
                slot_us,
                missed_rate,
                validators,
                ..
            } => {
                let proposer = (rng::unit(&mut self.stream) * *validators as f64) as usize;
                let missed =
                    !spec.is_online(proposer, now) || rng::unit(&mut self.stream) < *missed_rate;
                if missed {
                    self.metrics.missed_slots += 1;
                } else {
                    self.append(spec, now);
                }
                self.slot += 1;
                q.push((self.slot + 1) * slot_us, Ev::ChainTick(self.idx));
            }
            Consensus::Bft {
                validators,
                commit_pause_us,
                round_timeout_us,
                message_delay,
            } => {
                let height = self.height_next as usize;
                let (commit, rounds, messages) = bft_height(
                    &mut self.stream,
                    spec,
                    *validators,
                    height,
                    now,
                    *round_timeout_us,
                    message_delay,
                );
                self.metrics.bft_rounds += rounds;
                self.metrics.bft_messages += messages;
                match commit {
                    Some(t) => {
                        self.append(spec, t);
                        self.height_next += 1;
                        q.push(t + commit_pause_us, Ev::ChainTick(self.idx));
                    }
                    // No quorum online: liveness is lost until validators return; retry after a timeout.
                    None => q.push(
                        now + round_timeout_us * rounds.max(1),
                        Ev::ChainTick(self.idx),
                    ),
                }
            }
        }
    }

    /// A block produced with no fork possible (proof of stake, BFT): straight onto the canonical chain.
    fn append(&mut self, spec: &ChainSpec, t: u64) {
        let parent = *self.canon.back().expect("genesis");
        let height = self.tip_height() + 1;
        let txs = self.build(spec, t);
        let id = self.push_block(parent, height, t, txs);
        self.canon_enter(spec, id, t);
    }

    /// Nakamoto: block `id` reaches `node`; longer chains win, the first seen wins ties.
    pub fn on_arrive(
        &mut self,
        spec: &ChainSpec,
        now: u64,
        node: usize,
        id: u32,
        q: &mut EventQueue<Ev>,
    ) {
        if !self.has_block(id) || !self.has_block(self.tips[node]) {
            return;
        }
        if self.block(id).height <= self.block(self.tips[node]).height {
            return;
        }
        self.tips[node] = id;
        self.reached(id, now);
        if let Network::Gossip(g) = &spec.network {
            self.relay(g, node, id, now, q);
        }
        if node == self.tips.len() - 1 {
            self.observer_switch(spec, id, now);
        }
    }

    /// Gossip: a node that adopted a block validates it and sends it to each peer.
    fn relay(&mut self, g: &Gossip, from: usize, id: u32, now: u64, q: &mut EventQueue<Ev>) {
        let sent = now + g.validate_us;
        for (k, &peer) in g.peers[from].iter().enumerate() {
            // Uploads to peers share the sender's bandwidth: the k-th copy leaves after k+1 transmission times.
            let lat = g.latency_us[g.region_of[from] as usize][g.region_of[peer as usize] as usize];
            let at = sent + g.transmit_us * (k as u64 + 1) + lat;
            q.push(
                at,
                Ev::BlockArrive {
                    chain: self.idx,
                    node: peer,
                    block: id,
                },
            );
            self.metrics.gossip_messages += 1;
        }
    }

    /// Counts the nodes a block has reached; records when it reaches half and 95% of them.
    fn reached(&mut self, id: u32, now: u64) {
        if !self.has_block(id) {
            return;
        }
        let n = self.tips.len() as u32;
        let i = (id - self.block_base) as usize;
        let b = &mut self.blocks[i];
        b.reached += 1;
        let elapsed = now - b.time_us;
        if b.reached == n.div_ceil(2) {
            self.metrics.reach50_us_sum += elapsed as u128;
            self.metrics.reach50_blocks += 1;
        }
        if b.reached == (n * 95).div_ceil(100) {
            self.metrics.reach95_us_sum += elapsed as u128;
            self.metrics.reach95_blocks += 1;
        }
    }

    fn observer_switch(&mut self, spec: &ChainSpec, new_tip: u32, now: u64) {
        // Walk the new branch back to the canonical chain.
        let mut branch = vec![new_tip];
        let mut b = new_tip;
        loop {
            let parent = self.block(b).parent;
            if parent == NONE || !self.has_block(parent) {
                return; // deeper than the window: not modelled
            }
            if self.canon_at(self.block(parent).height) == Some(parent) {
                break;
            }
            branch.push(parent);
            b = parent;
        }
        branch.reverse();
        let fork_height = self.block(branch[0]).height - 1;
        let depth = self.tip_height() - fork_height;
        if depth > 0 {
            self.metrics.reorgs += 1;
            self.metrics.reorg_depth_max = self.metrics.reorg_depth_max.max(depth as u64);
            self.metrics.stale_blocks += depth as u64;
            self.metrics.canonical_blocks -= depth as u64;
            // Orphaned blocks: their transactions go back to the mempool.
            for _ in 0..depth {
                let old = self.canon.pop_back().expect("above the fork");
                let txs = self.block(old).txs.clone();
                for t in txs {
                    if self.txs[t as usize].block == old {
                        let units = self.txs[t as usize].units * self.txs[t as usize].count;
                        if self.txs[t as usize].payment != NONE {
                            self.metrics.payment_reorgs += 1;
                            self.ready.push((self.txs[t as usize].payment, t));
                        }
                        self.metrics.units_used -= units;
                        self.metrics.txs_included -= self.txs[t as usize].count;
                        self.enter_mempool(t);
                    }
                }
            }
        }
        for id in branch {
            self.canon_enter(spec, id, now);
        }
    }

    /// Stale blocks still on a losing branch at the end of the run count as stale too.
    pub fn finish(&mut self) {
        let stale_total = self
            .metrics
            .blocks_produced
            .saturating_sub(self.metrics.canonical_blocks);
        self.metrics.stale_blocks = stale_total;
    }
}

/// What an included transaction pays per size unit, the one computation behind both the chain's fee figures
/// and what a payment is charged. First price: its bid. EIP-1559 (the specification's `effective_gas_price`):
/// the block's base fee plus the priority fee `min(max_priority_fee, max_fee − base_fee)`, so a transaction never
/// pays more than its max fee.
pub fn fee_per_unit(market: &FeeMarket, base_fee: u64, bid: u64, max_fee: u64) -> u64 {
    match market {
        FeeMarket::FirstPrice => bid,
        FeeMarket::Eip1559 { .. } => base_fee + bid.min(max_fee.saturating_sub(base_fee)),
    }
}

/// EIP-1559: the next base fee from the gas used in a block (target = half the limit), in integers as the
/// specification writes it: base ± base·|used − target| / target / 8, rising by at least 1.
pub fn next_base_fee(base: u64, used: u64, limit: u64) -> u64 {
    let target = (limit / 2).max(1) as u128;
    let (b, u) = (base as u128, used as u128);
    if u == target {
        base
    } else if u > target {
        let delta = (b * (u - target) / target / 8).max(1);
        (b + delta).min(u64::MAX as u128) as u64
    } else {
        let delta = b * (target - u) / target / 8;
        (b - delta).max(1) as u64
    }
}

fn pick(stream: &mut Stream, shares: &[f64]) -> usize {
    let total: f64 = shares.iter().sum();
    let mut x = rng::unit(stream) * total;
    for (i, s) in shares.iter().enumerate() {
        x -= s;
        if x < 0.0 {
            return i;
        }
    }
    shares.len() - 1
}

/// One BFT height: rounds of propose, prevote, precommit until a round commits within its timeout. Returns the
/// commit time (None when fewer than 2f+1 validators are online: nothing is final without 2f+1 precommits), the
/// rounds used and the messages sent.
pub fn bft_height(
    stream: &mut Stream,
    spec: &ChainSpec,
    n: usize,
    height: usize,
    start: u64,
    round_timeout_us: u64,
    delay: &crate::rng::Delay,
) -> (Option<u64>, u64, u64) {
    let f = (n - 1) / 3;
    let quorum = 2 * f + 1;
    let mut t = start;
    let mut messages = 0;
    let mut recv = vec![0_u64; n];
    let mut prevoted = vec![0_u64; n];
    let mut arrivals = Vec::with_capacity(n);
    for round in 0..64_u64 {
        let timeout = round_timeout_us * (1 + round);
        let online: Vec<usize> = (0..n).filter(|&v| spec.is_online(v, t)).collect();
        if online.len() < quorum {
            return (None, round + 1, messages);
        }
        let proposer = (height + round as usize) % n;
        if !spec.is_online(proposer, t) {
            t += timeout; // nobody hears a proposal: the round times out, the next proposer takes over
            continue;
        }
        for &v in &online {
            recv[v] = if v == proposer {
                t
            } else {
                t + delay.sample(stream)
            };
        }
        messages += online.len() as u64 - 1;
        // Prevotes: each online validator broadcasts on receiving the proposal; a validator moves on with 2f+1.
        for &j in &online {
            arrivals.clear();
            for &i in &online {
                arrivals.push(if i == j {
                    recv[i]
                } else {
                    recv[i] + delay.sample(stream)
                });
            }
            prevoted[j] = *arrivals.select_nth_unstable(quorum - 1).1;
        }
        messages += (online.len() * (online.len() - 1)) as u64;
        // Precommits, then commit on 2f+1 precommits.
        let mut committed = Vec::with_capacity(online.len());
        for &j in &online {
            arrivals.clear();
            for &i in &online {
                arrivals.push(if i == j {
                    prevoted[i]
                } else {
                    prevoted[i] + delay.sample(stream)
                });
            }
            committed.push(*arrivals.select_nth_unstable(quorum - 1).1);
        }
        messages += (online.len() * (online.len() - 1)) as u64;
        committed.sort_unstable();
        let commit = committed[quorum - 1];
        if commit <= t + timeout {
            return (Some(commit), round + 1, messages);
        }
        t += timeout;
    }
    (None, 64, messages)
}

#[cfg(test)]
mod tests {
    use super::next_base_fee;

    #[test]
    fn eip1559_moves_one_eighth_per_full_or_empty_block() {
        assert_eq!(
            next_base_fee(1_000_000_000, 30_000_000, 30_000_000),
            1_125_000_000
        );
        assert_eq!(next_base_fee(1_000_000_000, 0, 30_000_000), 875_000_000);
        assert_eq!(
            next_base_fee(1_000_000_000, 15_000_000, 30_000_000),
            1_000_000_000
        );
        // A tiny base fee still rises by at least one unit.
        assert_eq!(next_base_fee(7, 30_000_000, 30_000_000), 8);
    }
}
