//! Shared test helpers: load the fixture with overrides, run it, collect every payment record.
#![allow(dead_code)]

use settlesim::model::record::{PaymentRecord, TraceStep};
use settlesim::model::sim::{self, Outcome, RunOptions};
use settlesim::scenario::{self, Loaded};

pub const BASE: &str = include_str!("../fixtures/base.toml");

pub fn load(overrides: &[&str]) -> Loaded {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    scenario::load("base.toml", BASE, &o).unwrap_or_else(|e| panic!("fixture does not load: {e}"))
}

/// Runs a loaded world and collects every payment record (the conservation check must hold).
pub fn records_of(world: &settlesim::model::world::World) -> (Outcome, Vec<PaymentRecord>) {
    let mut records = Vec::new();
    let (outcome, _) = sim::run(
        world,
        |r: &PaymentRecord| records.push(r.clone()),
        &RunOptions::default(),
    )
    .unwrap_or_else(|e| panic!("run failed: {e}"));
    (outcome, records)
}

pub struct Run {
    pub loaded: Loaded,
    pub outcome: Outcome,
    pub records: Vec<PaymentRecord>,
}

pub fn run(overrides: &[&str]) -> Run {
    run_traced(overrides, None)
}

pub fn run_traced(overrides: &[&str], trace: Option<u64>) -> Run {
    let loaded = load(overrides);
    let mut records = Vec::new();
    let (outcome, _) = sim::run(
        &loaded.world,
        |r: &PaymentRecord| records.push(r.clone()),
        &RunOptions {
            trace_payment: trace,
        },
    )
    .unwrap_or_else(|e| panic!("run failed: {e}"));
    records.sort_by_key(|r| r.id);
    Run {
        loaded,
        outcome,
        records,
    }
}

impl Run {
    pub fn trace_of(&self, id: u64) -> Vec<TraceStep> {
        let mut records = Vec::new();
        let (outcome, _) = sim::run(
            &self.loaded.world,
            |r: &PaymentRecord| records.push(r.clone()),
            &RunOptions {
                trace_payment: Some(id),
            },
        )
        .expect("rerun");
        outcome.trace
    }
    /// Local (New York) time of a simulated instant.
    pub fn ny(&self, t_us: u64) -> chrono::DateTime<chrono_tz::Tz> {
        (self.loaded.world.start + chrono::Duration::microseconds(t_us as i64))
            .with_timezone(&chrono_tz::America::New_York)
    }
}
