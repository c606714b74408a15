//! A validated chain: consensus family and its parameters, block capacity, fee market, network propagation,
//! background load and scheduled faults. Built by `scenario::validate` from `[[chains]]`; read-only while running.

use crate::rng::Delay;

#[derive(Clone, Debug)]
pub enum Consensus {
    /// Proof of work: exponential block intervals with this mean; miners with hash shares; longest chain wins,
    /// first seen breaks ties; forks come from propagation delay.
    Nakamoto { interval_us: u64, shares: Vec<f64> },
    /// Slot-based proof of stake: a proposer per slot by stake, missed slots, finality after whole epochs.
    Pos {
        slot_us: u64,
        slots_per_epoch: u64,
        finality_epochs: u64,
        missed_rate: f64,
        validators: usize,
    },
    /// PBFT/Tendermint-style: n validators, propose/prevote/precommit with per-message delay, round timeouts
    /// and proposer rotation; a block is final when committed.
    Bft {
        validators: usize,
        /// Pause between a commit and the next height's proposal (`timeout_commit`).
        commit_pause_us: u64,
        round_timeout_us: u64,
        message_delay: Delay,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeeMarket {
    /// Pay what you bid; blocks take the highest fee rates first.
    FirstPrice,
    /// EIP-1559: base fee burned and adjusted toward half-full blocks; a priority tip to the producer.
    Eip1559 { initial_base: u64 },
}

#[derive(Clone, Debug)]
pub struct Burst {
    pub from_us: u64,
    pub to_us: u64,
    pub tx_per_s: f64,
    pub fee_multiplier: f64,
}

#[derive(Clone, Debug)]
pub struct Offline {
    pub validator: usize,
    pub from_us: u64,
    pub to_us: u64,
}

/// How blocks travel between nodes (Nakamoto chains).
#[derive(Clone, Debug)]
pub enum Network {
    /// Each node receives a block after a delay drawn from `ChainSpec::propagation` (cheap: large load tests).
    Abstract,
    /// Gossip over a random peer graph: a node that adopts a block relays it to its peers after validating it;
    /// each message takes the region-to-region latency plus the block's transmission time at the sender's
    /// bandwidth. Miners are nodes `0..miners`; the observer is the last node.
    Gossip(Gossip),
}

#[derive(Clone, Debug)]
pub struct Gossip {
    /// `peers[n]`: the nodes `n` relays to (the graph is undirected).
    pub peers: Vec<Vec<u32>>,
    pub region_of: Vec<u16>,
    /// Latency between regions, µs.
    pub latency_us: Vec<Vec<u64>>,
    /// Time to send one block at a node's upload bandwidth, µs.
    pub transmit_us: u64,
    pub validate_us: u64,
}

#[derive(Clone, Debug)]
pub struct ChainSpec {
    pub name: String,
    pub consensus: Consensus,
    /// Capacity of a block in size units (vbytes or gas).
    pub block_capacity: u64,
    /// Size of one transfer (payments and background transactions).
    pub tx_units: u64,
    pub fee_market: FeeMarket,
    pub mempool_capacity: u64,
    pub native_price_usd: f64,
    pub native_decimals: u8,
    pub native_code: String,
    /// The native coin in the FX table (network fees are paid in it).
    pub native: crate::model::fx::CurId,
    /// Abstract network mode: a block reaches each node after a delay drawn from this distribution.
    pub propagation: Delay,
    pub network: Network,
    pub background_tx_per_s: f64,
    /// Background bids (first price) or tips (EIP-1559), native minor units per size unit: log-normal.
    pub fee_mu: f64,
    pub fee_sigma: f64,
    /// EIP-1559: ln of the median willingness to pay per unit (base fee + tip) of background users.
    pub max_fee_mu: f64,
    pub bursts: Vec<Burst>,
    pub halts: Vec<(u64, u64)>,
    pub offline: Vec<Offline>,
    /// Nakamoto: assumed attacker hash share for the reported reversal risk.
    pub attacker_share: f64,
    /// Operating hours: blocks are produced only while this calendar is open (None: 24/7).
    pub hours: Option<crate::model::ids::CalId>,
}

impl ChainSpec {
    /// The end of the halt covering `t`, if the chain is halted then.
    pub fn halted_until(&self, t: u64) -> Option<u64> {
        self.halts
            .iter()
            .find(|&&(a, b)| a <= t && t < b)
            .map(|&(_, b)| b)
    }
    pub fn is_online(&self, validator: usize, t: u64) -> bool {
        !self
            .offline
            .iter()
            .any(|o| o.validator == validator && o.from_us <= t && t < o.to_us)
    }
    /// Background arrival rate and fee multiplier at time t (bursts add load and scale fees).
    pub fn load_at(&self, t: u64) -> (f64, f64) {
        let mut rate = self.background_tx_per_s;
        let mut mult: f64 = 1.0;
        for b in &self.bursts {
            if b.from_us <= t && t < b.to_us {
                rate += b.tx_per_s;
                mult = mult.max(b.fee_multiplier);
            }
        }
        (rate, mult)
    }
}
