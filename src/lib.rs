//! settlesim: a deterministic discrete-event simulator of cross-border payment rails.
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod engine;
pub mod metrics;
pub mod model;
pub mod output;
pub mod rng;
pub mod scenario;
pub mod units;
