//! End-to-end tests: SQL (and Substrait plans) through every tier, checked against
//! DataFusion (the oracle) on the same Parquet files, and the CLI's behaviour on bad
//! input.

mod common;
mod csv;
mod errors;
mod expressions;
mod flowgraph;
mod fuzz;
mod hardening;
mod jit;
mod mapreduce;
mod ml;
mod optimizer;
mod passes;
mod plans;
mod render;
mod substrait;
mod tpch;
