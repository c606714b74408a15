//! The blockchain settlement layer: chain parameters (`spec`) and the running chain (`state`).

pub mod attest;
pub mod gossip;
pub mod mempool;
pub mod risk;
pub mod spec;
pub mod state;
