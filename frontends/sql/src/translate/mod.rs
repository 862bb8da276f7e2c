//! LogicalPlan → FlowGraph. Each plan node becomes one or a few vertex ops; the table
//! edge out of a node has exactly the node's columns, in order, named by their qualified
//! names (`lineitem.l_quantity`), so expressions resolve by position in the node's
//! DataFusion schema.
//!
//! One file per logical node (scan, filter, projection, aggregate, join, sort/limit,
//! subquery forms, union, literal rows, window functions), and per expression concern the
//! nodes share: strings (computed into columns by `flow.match`/`flow.string`), values
//! made of several strings (`flow.concat`/`flow.compare`: combine.rs) and registered row
//! functions (the hook).

mod aggregate;
mod combine;
mod filter;
mod functions;
mod join;
mod projection;
mod scan;
mod sort;
mod strings;
mod subquery;
mod union;
mod values;
mod window;

use combine::*;
use strings::*;

use crate::{
    SqlError,
    body::{Atom, BodyInput, BodyWriter, column_index, needs_three_valued},
};
use datafusion::{
    arrow::datatypes::{DataType, Field},
    common::{Column as DfColumn, JoinType, NullEquality, ScalarValue, tree_node::TreeNodeRecursion},
    common::{DFSchema, tree_node::TreeNode},
    logical_expr::ExprSchemable,
    logical_expr::{
        Aggregate, BinaryExpr, Cast, Expr, Filter, Join, Like, Limit, LogicalPlan, Operator as DfOperator, Projection,
        Sort, TableScan,
        expr::{AggregateFunction as DfAggregate, InList},
        logical_plan::{FetchType, SkipType},
    },
};
use skadi_catalog::Catalog;
use skadi_common::{AggregateCall, AggregateFunction, Choice, Column, ColumnType, JoinKind, MatchKind, SortKey};
use skadi_flowgraph::{FlowGraphBuilder, JoinFilter, Scalar, SourceLoc, TableValue, functions::RowFunction};
use std::collections::HashMap;

pub(crate) fn translate(
    plan: &LogicalPlan,
    sql: &str,
    source_name: &str,
    catalog: &Catalog,
) -> Result<String, SqlError> {
    let mut g = FlowGraphBuilder::new();
    let mut t = Translator {
        g: &mut g,
        catalog,
        source_name,
        statement: statement_start(sql),
        fresh: 0,
        bound: Vec::new(),
        functions: &[],
        lines: Vec::new(),
    };
    let out = t.plan(plan)?;
    let names: Vec<String> = plan.schema().fields().iter().map(|f| f.name().clone()).collect();
    let loc = t.loc(None);
    t.g.sink(out, &names, &loc);
    Ok(g.finish())
}

/// Translates `plan` into ops appended to `g`: a scan of a table named in `bound` reads
/// that table value, any other scan the catalog's files; calls of `functions` (row
/// functions from the hook) are computed by them. `lines[i]` is where line `i + 1` of the query's text starts in
/// `source_name` (line, column), so locations and errors point into the file the query
/// came from. The result's columns carry the plan's unqualified names.
#[allow(clippy::too_many_arguments)]
pub(crate) fn translate_step(
    plan: &LogicalPlan,
    g: &mut FlowGraphBuilder,
    catalog: &Catalog,
    bound: Vec<(String, TableValue)>,
    functions: &[&dyn RowFunction],
    source_name: &str,
    lines: Vec<(u32, u32)>,
) -> Result<TableValue, SqlError> {
    let statement = lines.first().copied().unwrap_or((1, 1));
    let mut t = Translator {
        g,
        catalog,
        source_name,
        statement,
        fresh: 0,
        bound,
        functions,
        lines: Vec::new(),
    };
    t.lines = lines;
    let out = t.plan(plan)?;
    let loc = t.loc(None);
    let schema = plan.schema();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let current = t.schema_of(out);
    if current.iter().zip(&names).all(|(c, n)| c.name == *n) {
        return Ok(out);
    }
    let columns: Vec<String> = current.iter().map(|c| c.name.clone()).collect();
    let renamed = current
        .iter()
        .zip(&names)
        .map(|(c, n)| Column::new(n, c.ty, c.nullable))
        .collect();
    Ok(t.g.project(out, &columns, renamed, &loc))
}

/// Line and column of the first non-blank character: where the statement starts.
fn statement_start(sql: &str) -> (u32, u32) {
    for (i, line) in sql.lines().enumerate() {
        if let Some(col) = line.find(|c: char| !c.is_whitespace()) {
            if line[col..].starts_with("--") {
                continue;
            }
            return (i as u32 + 1, col as u32 + 1);
        }
    }
    (1, 1)
}

struct Translator<'a> {
    g: &'a mut FlowGraphBuilder,
    catalog: &'a Catalog,
    source_name: &'a str,
    statement: (u32, u32),
    /// Counter for names the translation makes up (`__match3`, `__key4`).
    fresh: usize,
    /// For a step ([`translate_step`]): tables that are values already in the graph.
    bound: Vec<(String, TableValue)>,
    /// Row functions (from the hook) expressions may call.
    functions: &'a [&'a dyn RowFunction],
    /// For a step: where each line of the query text starts in the source file.
    lines: Vec<(u32, u32)>,
}

/// Flow column names of a DataFusion schema: qualified names, in order.
fn column_names(schema: &DFSchema) -> Vec<String> {
    schema.columns().iter().map(|c| c.flat_name()).collect()
}

/// The one type to compute numbers of the differing `types` as (DataFusion's types agree
/// where ours can differ: a body computes a decimal as f64): f64 if any is a float or
/// decimal, else i64; None unless all are numbers.
fn wider_numeric(types: &[ColumnType]) -> Option<DataType> {
    if !types.iter().all(|t| t.is_numeric()) {
        return None;
    }
    let float = |t: &ColumnType| matches!(t, ColumnType::Float32 | ColumnType::Float64 | ColumnType::Decimal(..));
    Some(if types.iter().any(float) {
        DataType::Float64
    } else {
        DataType::Int64
    })
}

/// The column type of body result `scalar` computing `e`: `e`'s SQL type where the
/// scalar holds it (a date is i32 days in bodies, a decimal its scaled integer), else
/// the scalar's own type.
fn result_type(scalar: &str, e: &Expr, df_schema: &DFSchema) -> ColumnType {
    match e.get_type(df_schema).ok().and_then(|t| ColumnType::from_arrow(&t).ok()) {
        Some(ty) if ty.body_scalar() == Some(scalar) => ty,
        _ => ColumnType::from_body_scalar(scalar).expect("bodies produce scalar column types"),
    }
}

/// Maps (line, column) in a step's query text to the source file, by where each of
/// the text's lines starts there.
pub(crate) fn map_position(lines: &[(u32, u32)], (line, column): (u32, u32)) -> (u32, u32) {
    match lines.get((line as usize).wrapping_sub(1)) {
        Some(&(l, c)) => (l, c + column.saturating_sub(1)),
        None => lines.first().copied().unwrap_or((line, column)),
    }
}

/// The position of the first column an expression names, for locations.
pub(crate) fn expr_position(e: &Expr) -> Option<(u32, u32)> {
    e.column_refs()
        .into_iter()
        .filter_map(|c| c.spans().first().map(|s| (s.start.line as u32, s.start.column as u32)))
        .filter(|(l, _)| *l > 0)
        .min()
}

impl Translator<'_> {
    fn loc(&self, at: Option<(u32, u32)>) -> SourceLoc {
        let (line, column) = match at {
            Some(p) if !self.lines.is_empty() => map_position(&self.lines, p),
            Some(p) => p,
            None => self.statement,
        };
        SourceLoc {
            file: self.source_name.to_string(),
            line,
            column,
        }
    }

    fn schema_of(&self, v: TableValue) -> Vec<Column> {
        self.g.schema(v).clone()
    }

    fn plan(&mut self, plan: &LogicalPlan) -> Result<TableValue, SqlError> {
        match plan {
            LogicalPlan::TableScan(scan) => self.scan(scan),
            LogicalPlan::Filter(filter) => self.filter(filter),
            LogicalPlan::Projection(p) => self.projection(p),
            LogicalPlan::Aggregate(a) => self.aggregate(a),
            LogicalPlan::Sort(s) => self.sort(s),
            LogicalPlan::Limit(l) => self.limit(l),
            LogicalPlan::SubqueryAlias(a) => {
                let input = self.plan(&a.input)?;
                self.rename(input, &a.schema)
            }
            LogicalPlan::Join(j) => self.join(j),
            LogicalPlan::Union(u) => self.union(u),
            LogicalPlan::Window(w) => self.window(w),
            LogicalPlan::Distinct(_) => Err(SqlError::unsupported("DISTINCT")),
            LogicalPlan::Values(v) => self.values(v),
            LogicalPlan::EmptyRelation(e) => self.empty_relation(e),
            LogicalPlan::Subquery(_) => Err(SqlError::unsupported("subqueries")),
            LogicalPlan::Unnest(_) => Err(SqlError::unsupported("UNNEST")),
            LogicalPlan::RecursiveQuery(_) => Err(SqlError::unsupported("recursive queries")),
            other => Err(SqlError::unsupported(format!("plan node {}", other.display()))),
        }
    }

    /// The same rows under the names of `schema` (qualifiers change across aliases).
    fn rename(&mut self, input: TableValue, schema: &DFSchema) -> Result<TableValue, SqlError> {
        let in_schema = self.schema_of(input);
        let names = column_names(schema);
        if names.iter().zip(&in_schema).all(|(n, c)| *n == c.name) {
            return Ok(input);
        }
        let out: Vec<Column> = in_schema
            .iter()
            .zip(&names)
            .map(|(c, n)| Column::new(n, c.ty, c.nullable))
            .collect();
        let columns: Vec<String> = in_schema.iter().map(|c| c.name.clone()).collect();
        let loc = self.loc(None);
        Ok(self.g.project(input, &columns, out, &loc))
    }

    /// `input`'s first `width` columns (dropping columns appended for atoms or keys).
    fn keep_first(&mut self, input: TableValue, width: usize, loc: &SourceLoc) -> TableValue {
        let schema = self.schema_of(input);
        if schema.len() == width {
            return input;
        }
        let kept: Vec<Column> = schema[..width].to_vec();
        let names: Vec<String> = kept.iter().map(|c| c.name.clone()).collect();
        self.g.project(input, &names, kept, loc)
    }

    fn fresh_name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("__{prefix}{}", self.fresh)
    }
}
