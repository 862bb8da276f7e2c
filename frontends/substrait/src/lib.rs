//! Substrait plans in and out: how other engines (DuckDB, Velox-based ones, Isthmus and
//! Calcite) hand a query to an accelerator, and how Skadi hands one back.
//!
//! In: a Substrait `Plan`, as protobuf bytes or its JSON form → DataFusion's consumer
//! (names resolve against the catalog's tables) → the SQL frontend's translation of a
//! logical plan, after DataFusion's optimizer as for SQL; subqueries may come correlated
//! (outer references), as engines send them. Out: SQL → DataFusion's optimized plan →
//! DataFusion's producer. DataFusion only converts here; it never runs a plan.
//!
//! Relations and functions DataFusion's consumer does not know fail with its message;
//! what it knows but Skadi cannot translate fails `not supported yet: …`, as SQL does.

use datafusion_substrait::{
    logical_plan::{consumer::from_substrait_plan, producer::to_substrait_plan},
    substrait::proto::Plan,
};
use prost::Message;
use skadi_sql::{LogicalPlan, Planner, SqlError};

/// The forms a Substrait plan is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Protobuf bytes: what engines exchange.
    Binary,
    /// Substrait's JSON mapping of the protobuf (readable; what tests and tools keep).
    Json,
}

/// Reads a Substrait plan from protobuf bytes or from its JSON form (told apart by the
/// first byte that is not white space: JSON starts with `{`). A JSON error points at its
/// line and column.
pub fn decode(bytes: &[u8]) -> Result<Plan, SqlError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return serde_json::from_slice(bytes).map_err(|e| SqlError {
            message: format!("not a Substrait plan in JSON: {e}"),
            position: (e.line() > 0).then(|| (e.line(), e.column())),
        });
    }
    Plan::decode(bytes).map_err(|e| SqlError {
        message: format!("not a Substrait plan (protobuf, or JSON starting with '{{'): {e}"),
        position: None,
    })
}

/// Writes a Substrait plan as protobuf bytes or as indented JSON.
pub fn encode(plan: &Plan, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Binary => plan.encode_to_vec(),
        Encoding::Json => {
            let mut json = serde_json::to_vec_pretty(plan).expect("a Substrait plan serializes to JSON");
            json.push(b'\n');
            json
        }
    }
}

/// A Substrait plan → the DataFusion logical plan it describes, over the planner's tables
/// (not yet optimized: [`Planner::compile_plan`] optimizes it as it translates it to
/// FlowGraph).
pub fn to_logical_plan(planner: &Planner, plan: &Plan) -> Result<LogicalPlan, SqlError> {
    let state = planner.state();
    let consumed =
        skadi_sql::guarded(|| skadi_sql::block_on(from_substrait_plan(&state, plan), "the Substrait consumer"))??;
    consumed.map_err(|e| SqlError {
        message: format!("in the Substrait plan: {}", SqlError::from(e).message),
        position: None,
    })
}

/// SQL → its Substrait plan: DataFusion's optimized logical plan, subqueries
/// decorrelated into joins (DataFusion's producer cannot write a correlated column
/// reference, though its consumer reads them).
pub fn from_sql(planner: &Planner, sql: &str) -> Result<Plan, SqlError> {
    let optimized = planner.logical_plan(sql)?;
    skadi_sql::guarded(|| to_substrait_plan(&optimized, &planner.state()))?
        .map(|plan| *plan)
        .map_err(|e| SqlError::unsupported(format!("this query in Substrait ({})", SqlError::from(e).message)))
}
