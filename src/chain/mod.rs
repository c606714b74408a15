//! The blockchain layer. For now it holds `risk`: the probability that a payment with `z` confirmations is reversed
//! by a double-spend attacker, analytically (Nakamoto, Rosenfeld) and by Monte Carlo race simulation. Like the rest
//! of the core it is pure: no files, no clock, no threads; randomness comes in as a stream.

pub mod risk;
