//! settlesim: a deterministic discrete-event simulator of cross-border payment rails.
//!
//! A scenario (TOML) is loaded into a validated [`model::world::World`]; [`model::sim::run`] simulates it and hands
//! every finished payment to a [`model::sim::RecordSink`]; the returned [`model::sim::Outcome`] carries the
//! metrics. The core never touches files, the clock or threads, so the same world and seed always give the same
//! results.
//!
//! Run the embedded default scenario for two days and read the median latency of one rail:
//!
//! ```
//! use settlesim::model::record::{PaymentRecord, Status};
//! use settlesim::model::sim::{self, RunOptions};
//! use settlesim::model::world::RailId;
//!
//! let overrides = vec!["duration=2d".to_string()];
//! let loaded = settlesim::scenario::load("default", settlesim::app::DEFAULT_SCENARIO, &overrides)?;
//! let mut settled = 0;
//! let sink = |r: &PaymentRecord| settled += (r.status == Status::Settled) as u64;
//! let (outcome, _) = sim::run(&loaded.world, sink, &RunOptions::default())?;
//! let p50_s = outcome.metrics.rail_total(RailId(0)).latency_s(0.5);
//! assert!(outcome.payments > 0 && p50_s > 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Bad input is an error naming the field, never a panic:
//!
//! ```
//! let err = settlesim::scenario::load("x.toml", "name = 1", &[]).err().unwrap();
//! assert!(err.to_string().starts_with("x.toml:1:8: invalid type"));
//! ```
//!
//! The blockchain layer's double-spend risk is pure in the same way: the analytic values, and a Monte Carlo race
//! that draws from a stream you pass in.
//!
//! ```
//! use settlesim::model::chain::risk::{self, Race, Z_95};
//!
//! assert_eq!(format!("{:.7}", risk::nakamoto(0.1, 6)), "0.0002428"); // whitepaper §11
//! let race = Race::new(0.1, 6, 0.0, 600.0)?; // q = 0.1, z = 6, no propagation delay
//! let mut stream = settlesim::rng::stream(0, &race.stream_label());
//! let (low, high) = race.simulate(20_000, &mut stream)?.interval(Z_95);
//! assert!(low < risk::rosenfeld(0.1, 6) && risk::rosenfeld(0.1, 6) < high);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod app;
pub mod chart;
pub mod cli;
pub mod engine;
pub mod model;
pub mod output;
pub mod rng;
pub mod scenario;
pub mod sweep;
pub mod units;
