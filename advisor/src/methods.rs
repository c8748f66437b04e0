//! The agronomic methods of METHODS.md. Each computes with typed units and no allocation, and a
//! separate `*_steps` function writes the explanation, so the benchmark can time the formulas.

pub mod balance;
pub mod classify;
pub mod lime;
pub mod quefts;
pub mod rb209;
pub mod response;
pub mod target_yield;
pub mod tri_state;
