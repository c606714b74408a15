//! The model of the rails: calendars, FX, the ledger, the validated world, and the simulation that moves
//! payments through it. Pure: no files, no stdout, no clock, no environment, no threads.

pub mod calendar;
pub mod chain;
pub mod event;
pub mod fx;
pub mod ids;
pub mod ledger;
pub mod liquidity;
pub mod metrics;
pub mod price;
pub mod record;
pub mod sim;
pub mod station;
pub mod world;
