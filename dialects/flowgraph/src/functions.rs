//! Row functions defined outside a frontend: a frontend's expressions may call one by
//! name, and the crate that defines it writes its code. The SQL frontend takes them as a
//! hook (its step API and planner register each by name), so a domain such as ML adds
//! `predict('model', x...)` without SQL knowing what a model is.
//!
//! A call's first argument is a string literal naming what to compute with (a trained
//! model's name); the function binds it to a one-row table already in the graph, which
//! the frontend joins to every row; the body then reads the call's other arguments and
//! that row's values, and returns an f64.

use crate::{BodyBuilder, Scalar, TableValue};

/// What a call's literal names: a one-row table joined to every row, whose first
/// `columns` columns the body reads.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub table: TableValue,
    pub columns: usize,
}

/// A function callable from row expressions; see the module's doc.
pub trait RowFunction: Sync {
    /// The name calls use (`predict`).
    fn name(&self) -> &str;
    /// What a call with first argument `key` and `args` further arguments computes with;
    /// the error (an unknown model, a wrong number of arguments) is the user's, and the
    /// frontend reports it at the call.
    fn bind(&self, key: &str, args: usize) -> Result<Binding, String>;
    /// Writes the call's result into `b` from its arguments `args` and the bound row's
    /// values `bound`; the result is an f64.
    fn write(&self, b: &mut BodyBuilder, key: &str, args: &[Scalar], bound: &[Scalar]) -> Scalar;
}
