//! Training: a vertex that passes over its input until a model converges.

use crate::ml::Training;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Trains a model (see [`crate::ml`]) on all its input's rows: each pass calls
/// `body(args..., state...)` on every row whose `strict` args (positions in `args`) are
/// all non-NULL and sums its results; the model's update turns the sums into the next
/// state. The output is one row: the state, then [`crate::ml::METRIC_COLUMNS`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Iterate {
    pub training: Training,
    pub body: String,
    pub args: Vec<String>,
    pub strict: Vec<usize>,
}

impl fmt::Display for Iterate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "iterate {} {} @{}({}) max_iterations={}",
            self.training.model.name(),
            self.training.method.name(),
            self.body,
            super::list(&self.args),
            self.training.max_iterations
        )
    }
}
