//! `predict('model', x...)`: scores a row with a model an earlier pipeline step trained.
//! It reaches SQL through the frontend's row-function hook (`skadi_flowgraph::functions`):
//! the model's one-row table is joined to every row, and the model's prediction body
//! (bodies.rs) reads the features and the state.

use crate::bodies;
use skadi_common::ml::ModelKind;
use skadi_flowgraph::{
    BodyBuilder, Scalar, TableValue,
    functions::{Binding, RowFunction},
};

/// A trained model a later step can score rows with.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub kind: ModelKind,
    /// The feature names, in the order `predict` takes them.
    pub features: Vec<String>,
    /// The model's one-row table (its state first, then its metrics).
    pub table: TableValue,
    /// How many leading columns of `table` are the state.
    pub state: usize,
}

/// `predict` over the models trained so far.
#[derive(Debug, Clone, Default)]
pub struct Predict {
    pub models: Vec<Model>,
}

impl Predict {
    fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }
}

impl RowFunction for Predict {
    fn name(&self) -> &str {
        "predict"
    }

    fn bind(&self, key: &str, args: usize) -> Result<Binding, String> {
        let Some(model) = self.model(key) else {
            let known: Vec<&str> = self.models.iter().map(|m| m.name.as_str()).collect();
            return Err(format!(
                "no model '{key}' to predict with (trained by an earlier step: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        };
        if args != model.features.len() {
            return Err(format!(
                "model '{key}' takes {} features ({}), not {args}",
                model.features.len(),
                model.features.join(", "),
            ));
        }
        Ok(Binding {
            table: model.table,
            columns: model.state,
        })
    }

    fn write(&self, b: &mut BodyBuilder, key: &str, args: &[Scalar], bound: &[Scalar]) -> Scalar {
        let kind = self.model(key).expect("bind found the model").kind;
        bodies::predict(b, kind, args, bound)
    }
}
