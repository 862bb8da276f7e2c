//! Machine learning's one home: what each model's state is and how training updates it
//! (update.rs), the step and prediction bodies (bodies.rs), `predict` for SQL steps
//! through the frontends' row-function hook (predict.rs), and the model file
//! (model_file.rs). A training vertex itself is described in the plan vocabulary
//! (`skadi_common::ml::Training`, `flow.iterate`); the pipeline frontend writes train
//! steps with the bodies here, and backends call [`update`] between passes.
//!
//! This crate writes bodies and does arithmetic on model state; it must not plan,
//! run vertices or know SQL.

mod bodies;
mod model_file;
mod predict;
mod update;

pub use bodies::{predict as predict_body, step_body, to_f64};
pub use model_file::{ModelInfo, model_json};
pub use predict::{Model, Predict};
pub use update::{Update, initial_state, solve_symmetric, update};
