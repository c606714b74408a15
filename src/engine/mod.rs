//! The discrete-event engine: a monotone priority queue of events ordered by (time, insertion sequence).
//! Time is integer microseconds of simulated time; nothing here reads a clock. `slab` is the chunked arena that
//! holds payments in flight.

pub mod queue;
pub mod slab;
