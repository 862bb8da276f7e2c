//! The SQL frontend: SQL text + a catalog → DataFusion's parser, binder and logical
//! optimizer → FlowGraph text. DataFusion only plans here; it never executes a Skadi plan
//! (its tables are registered as schema-only `EmptyTable`s).
//!
//! Translation is one file per logical node (`translate/`). Functions defined outside
//! SQL (a trained model's `predict`) come in through the row-function hook
//! (`skadi_flowgraph::functions::RowFunction`): the step API takes them, registers each
//! with DataFusion by name, and computes their calls with the code they write.
//!
//! Every construct this frontend cannot translate yet fails with
//! `not supported yet: <construct>`, never with a different answer.

mod body;
mod dialect;
mod error;
mod limits;
mod session;
pub mod step;
mod translate;

pub use datafusion::logical_expr::LogicalPlan;
pub use error::SqlError;
pub use session::{Planner, block_on, guarded, planning_session, sql_to_logical_plan};

use skadi_catalog::Catalog;

/// Compiles one SQL query to FlowGraph text. `source_name` names the query in locations
/// (`q1.sql:3:7`) and error messages.
pub fn compile_sql(sql: &str, source_name: &str, catalog: &Catalog) -> Result<String, SqlError> {
    Planner::new(catalog)?.compile(sql, source_name, catalog)
}
