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
        /// Whether a height starts with nothing to commit (CometBFT's `create_empty_blocks`). When false, a
        /// height whose commit pause ends with nothing waiting idles until a transaction arrives (a payment's
        /// transfer or background load) or `empty_block_interval_us` passes (0: no limit), then proposes.
        empty_blocks: bool,
        empty_block_interval_us: u64,
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

/// How blocks travel between nodes.
#[derive(Clone, Debug)]
pub enum Network {
    /// Each node receives a block after a delay drawn from `ChainSpec::propagation` (cheap: large load tests).
    Abstract,
    /// Gossip over a random peer graph (`model::chain::gossip`): a node that has validated a block announces it
    /// to its peers (inv); a peer that wants it requests it (getdata) from the first node that announced it, and
    /// the holder sends it over its upload link, one transfer at a time. Each message takes the region-to-region
    /// latency. Miners (or validators) sit on random nodes; the observer is the last node.
    Gossip(Box<Gossip>),
}

/// What a requested block is sent as.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Relay {
    /// The whole block (the protocol before BIP 152).
    Full,
    /// A compact block (BIP 152: header and short transaction ids) of `compact_bytes`; a share `missing_share`
    /// of receipts lack transactions and need a further round trip (getblocktxn → blocktxn of `missing_bytes`).
    Compact {
        compact_bytes: u64,
        missing_share: f64,
        missing_bytes: u64,
    },
}

/// How a node's upload link serves the transfers requested of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upload {
    /// All at once, each at an equal share of the bandwidth (processor sharing): the node writes every
    /// requested block into its peer's connection and the TCP connections share the uplink, as Bitcoin's socket
    /// loop does (`ThreadSocketHandler` sends to every writable peer in turn).
    Shared,
    /// One transfer at a time in the order the requests arrived (SimBlock's model).
    Fifo,
}

/// How transactions travel (Nakamoto chains over gossip).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxRelay {
    /// One global mempool: a transaction is at every miner when broadcast.
    Instant,
    /// Bitcoin Core before 0.12 (`SendMessages` with `fSendTrickle`): a node announces a quarter of the
    /// transactions it relays (by a salted hash, never its own) to every peer at its message loop's next pass,
    /// and the rest to one peer a pass, drawn at random; the loop passes every 100 ms when idle.
    Trickle,
    /// Bitcoin Core since 0.21: each peer's announcements go out on an exponential timer, of mean 2 s to a peer
    /// the node connected to (outbound) and 5 s to one that connected to it (inbound).
    Poisson,
}

#[derive(Clone, Debug)]
pub struct Gossip {
    /// `peers[n]`: the nodes `n` announces to, in a random order drawn once (the graph is undirected).
    pub peers: Vec<Vec<u32>>,
    /// `outbound[n][k]`: node n opened the link to `peers[n][k]` (the link is inbound for the peer).
    pub outbound: Vec<Vec<bool>>,
    pub region_of: Vec<u16>,
    /// One-way latency between regions, µs (every message, whatever its size, pays it once).
    pub latency_us: Vec<Vec<u64>>,
    /// Upload bandwidth of each node, bits per second.
    pub upload_bps: Vec<f64>,
    /// Size of a block on the wire, bytes.
    pub block_bytes: u64,
    pub relay: Relay,
    pub upload: Upload,
    /// Time a node takes to validate a block (or a proposal) before it announces it (or votes).
    pub validate_us: u64,
    /// Size of a vote on the wire, bytes (BFT).
    pub vote_bytes: u64,
    pub tx_relay: TxRelay,
    /// Probe transactions for the propagation measurement: one every this many µs (0: none).
    pub tx_probe_every_us: u64,
    /// The node of each miner (Nakamoto, in `shares` order) or validator (PoS and BFT): distinct random nodes,
    /// never the observer.
    pub producers: Vec<u32>,
}

impl Gossip {
    pub fn nodes(&self) -> usize {
        self.peers.len()
    }

    /// The observer's node: the last one (it holds no hash power and no stake).
    pub fn observer(&self) -> usize {
        self.peers.len() - 1
    }

    pub fn latency(&self, from: usize, to: usize) -> u64 {
        self.latency_us[self.region_of[from] as usize][self.region_of[to] as usize]
    }

    /// Time for `node` to upload `bytes`.
    pub fn transmit_us(&self, node: usize, bytes: u64) -> u64 {
        (bytes as f64 * 8e6 / self.upload_bps[node]).round() as u64
    }

    /// What a request for a block costs the sender's upload link at first (a full or a compact block).
    pub fn first_bytes(&self) -> u64 {
        match self.relay {
            Relay::Full => self.block_bytes,
            Relay::Compact { compact_bytes, .. } => compact_bytes,
        }
    }

    /// A typical hop: validation, announce, request, and the first transfer at the median upload bandwidth.
    pub fn typical_hop_us(&self) -> u64 {
        let mut bw = self.upload_bps.clone();
        let mid = bw.len() / 2;
        let median = *bw.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1;
        let lat = self.latency_us.iter().flatten().copied().min().unwrap_or(0);
        self.validate_us + 3 * lat + (self.first_bytes() as f64 * 8e6 / median).round() as u64
    }
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
    /// The first time after `t` at which `load_at` may change (a burst begins or ends); `u64::MAX` if none.
    pub fn next_load_change(&self, t: u64) -> u64 {
        let mut next = u64::MAX;
        for b in &self.bursts {
            for edge in [b.from_us, b.to_us] {
                if edge > t {
                    next = next.min(edge);
                }
            }
        }
        next
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

/// The votes a BFT step needs among `n` equal validators: more than two-thirds of them (Tendermint's and
/// CometBFT's "+2/3 of the voting power"), ⌊2n/3⌋ + 1. For n = 3f + 1 (PBFT's committee for f faults) that is
/// 2f + 1; for other n it is more (21 validators: 15, not 2 × 6 + 1 = 13), since two quorums must share an honest
/// validator: 2q − n > f with f = n − q faults tolerated for liveness.
pub fn bft_quorum(n: usize) -> usize {
    2 * n / 3 + 1
}
