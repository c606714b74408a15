//! Scenario files: TOML text → raw serde structs → validated `World`.

pub mod raw;
pub mod validate;
