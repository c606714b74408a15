//! The closed set of simulation events, shared by the payment state machine (`sim`) and the chain states
//! (`chain::state`), which both push onto the one event queue. A leaf module: it imports only typed ids.

use crate::model::ids::CorridorId;

/// The closed set of events, twelve bytes: the queue moves them by value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ev {
    /// Next candidate arrival of a corridor's demand (thinned Poisson process).
    Arrival(CorridorId),
    /// Advance payment in arena slot `u32` according to its phase.
    Pay(u32),
    /// A nostro's daily top-up (index into the per-world nostro state).
    TopUp(u32),
    /// Funds requested to rebalance a position arrive (index into the per-world nostro state).
    Funded(u32),
    /// A chain's next block, slot or BFT height.
    ChainTick(u16),
    /// Nakamoto propagation: `block` reaches `node` of `chain`.
    BlockArrive { chain: u16, node: u32, block: u32 },
    /// A staffed desk (index into the per-world desks) opens with payments waiting.
    Desk(u32),
    /// A tokenised-deposit ledger's net settlement (the rail's index).
    NetSettle(u16),
}
