//! LogicalPlan → FlowGraph. Each plan node becomes one or a few vertex ops; the table
//! edge out of a node has exactly the node's columns, in order, named by their qualified
//! names (`lineitem.l_quantity`), so expressions resolve by position in the node's
//! DataFusion schema.

use crate::{
    SqlError,
    body::{Atom, BodyInput, BodyWriter, column_index},
};
use datafusion::{
    arrow::datatypes::{DataType, Field},
    common::{Column as DfColumn, JoinType, NullEquality, ScalarValue, tree_node::TreeNodeRecursion},
    common::{DFSchema, tree_node::TreeNode},
    logical_expr::ExprSchemable,
    logical_expr::{
        Aggregate, BinaryExpr, Expr, Filter, Join, Like, Limit, LogicalPlan, Operator as DfOperator, Projection, Sort,
        TableScan,
        expr::{AggregateFunction as DfAggregate, InList},
        logical_plan::{FetchType, SkipType},
    },
};
use skadi_catalog::Catalog;
use skadi_common::{AggregateCall, AggregateFunction, Column, ColumnType, JoinKind, MatchKind, SortKey};
use skadi_flowgraph::{FlowGraphBuilder, SourceLoc, TableValue};
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
        models: &[],
        lines: Vec::new(),
    };
    let out = t.plan(plan)?;
    let names: Vec<String> = plan.schema().fields().iter().map(|f| f.name().clone()).collect();
    let loc = t.loc(None);
    t.g.sink(out, &names, &loc);
    Ok(g.finish())
}

/// Translates `plan` into ops appended to `g`: a scan of a table named in `bound` reads
/// that table value, any other scan the catalog's files; `predict(...)` calls score with
/// `models`. `lines[i]` is where line `i + 1` of the query's text starts in
/// `source_name` (line, column), so locations and errors point into the file the query
/// came from. The result's columns carry the plan's unqualified names.
#[allow(clippy::too_many_arguments)]
pub(crate) fn translate_step(
    plan: &LogicalPlan,
    g: &mut FlowGraphBuilder,
    catalog: &Catalog,
    bound: Vec<(String, TableValue)>,
    models: &[crate::step::Model],
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
        models,
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
    /// Trained models `predict(...)` may name.
    models: &'a [crate::step::Model],
    /// For a step: where each line of the query text starts in the source file.
    lines: Vec<(u32, u32)>,
}

/// A string predicate on one string value: (value, kind, patterns, negated).
type StringAtom = (Expr, MatchKind, Vec<String>, bool);

fn string_literal(e: &Expr) -> Option<String> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s.clone()),
        _ => None,
    }
}

fn is_string_type(dt: &DataType) -> bool {
    matches!(dt, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

/// `e` as a string function a `flow.string` op computes: the function's name there, its
/// string argument and its integer arguments.
fn string_call(e: &Expr) -> Option<(&'static str, &Expr, Vec<i64>)> {
    // A string cast to a number: computed by `to_number` (NULL where it is not one).
    let numeric = |dt: &DataType| dt.is_numeric();
    match e {
        Expr::Cast(c) if numeric(c.field.data_type()) && !matches!(c.expr.as_ref(), Expr::Literal(..)) => {
            return Some(("to_number", c.expr.as_ref(), Vec::new()));
        }
        Expr::TryCast(c) if numeric(c.field.data_type()) && !matches!(c.expr.as_ref(), Expr::Literal(..)) => {
            return Some(("to_number", c.expr.as_ref(), Vec::new()));
        }
        _ => {}
    }
    let Expr::ScalarFunction(f) = e else { return None };
    let function = match f.name() {
        "substr" | "substring" => "substr",
        "upper" => "upper",
        "lower" => "lower",
        "btrim" | "trim" => "trim",
        "ltrim" => "ltrim",
        "rtrim" => "rtrim",
        "character_length" | "char_length" | "length" => "length",
        _ => return None,
    };
    let (subject, rest) = f.args.split_first()?;
    let args: Option<Vec<i64>> = rest
        .iter()
        .map(|a| match a {
            Expr::Literal(v, _) if !v.is_null() => match v.cast_to(&DataType::Int64).ok()? {
                ScalarValue::Int64(Some(i)) => Some(i),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let (_, fewest, most) = skadi_common::STRING_FUNCTIONS.iter().find(|(n, ..)| *n == function)?;
    let args = args?;
    (args.len() >= *fewest && args.len() <= *most).then_some((function, subject, args))
}

/// Whether a `flow.string` function returns a number (which bodies then read).
fn numeric_result(function: &str) -> bool {
    matches!(function, "length" | "to_number")
}

/// Whether `e` is a string value the frontend can materialize as a column: a string
/// column (possibly cast between string types) or a string function of one.
fn is_string_value(e: &Expr, schema: &DFSchema) -> bool {
    match e {
        Expr::Alias(a) => is_string_value(&a.expr, schema),
        Expr::Cast(c) if is_string_type(c.field.data_type()) => is_string_value(&c.expr, schema),
        Expr::Column(c) => schema
            .index_of_column(c)
            .is_ok_and(|i| is_string_type(schema.field(i).data_type())),
        e => string_call(e).is_some_and(|(f, subject, _)| !numeric_result(f) && is_string_value(subject, schema)),
    }
}

/// `e` as a string predicate a `flow.match` op computes, if it is one.
fn string_atom(e: &Expr, schema: &DFSchema) -> Option<StringAtom> {
    match e {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: op @ (DfOperator::Eq | DfOperator::NotEq),
            right,
        }) => {
            let (c, v) = match string_literal(right) {
                Some(v) if is_string_value(left, schema) => (left, v),
                _ if is_string_value(right, schema) => (right, string_literal(left)?),
                _ => return None,
            };
            Some((c.as_ref().clone(), MatchKind::Eq, vec![v], *op == DfOperator::NotEq))
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op:
                op @ (DfOperator::RegexMatch
                | DfOperator::RegexNotMatch
                | DfOperator::RegexIMatch
                | DfOperator::RegexNotIMatch),
            right,
        }) if is_string_value(left, schema) => {
            let pattern = string_literal(right)?;
            let insensitive = matches!(op, DfOperator::RegexIMatch | DfOperator::RegexNotIMatch);
            let negated = matches!(op, DfOperator::RegexNotMatch | DfOperator::RegexNotIMatch);
            let pattern = if insensitive { format!("(?i){pattern}") } else { pattern };
            Some((left.as_ref().clone(), MatchKind::Regex, vec![pattern], negated))
        }
        Expr::ScalarFunction(f) if f.name() == "regexp_like" => match f.args.as_slice() {
            [subject, pattern] if is_string_value(subject, schema) => {
                Some((subject.clone(), MatchKind::Regex, vec![string_literal(pattern)?], false))
            }
            _ => None,
        },
        Expr::InList(InList { expr, list, negated }) => {
            let values: Option<Vec<String>> = list.iter().map(string_literal).collect();
            is_string_value(expr, schema).then_some(())?;
            Some((expr.as_ref().clone(), MatchKind::Eq, values?, *negated))
        }
        Expr::Like(Like {
            negated,
            expr,
            pattern,
            escape_char: None,
            case_insensitive: false,
        }) if is_string_value(expr, schema) => Some((
            expr.as_ref().clone(),
            MatchKind::Like,
            vec![string_literal(pattern)?],
            *negated,
        )),
        _ => None,
    }
}

/// `e` with every `CASE x WHEN v THEN ...` written as `CASE WHEN x = v THEN ...`, so a
/// string `x` becomes string predicates (atoms) like any other.
fn searched_case(e: &Expr) -> Expr {
    e.clone()
        .transform(|e| {
            Ok(match e {
                Expr::Case(mut case) if case.expr.is_some() => {
                    let base = case.expr.take().expect("checked above");
                    for (when, _) in &mut case.when_then_expr {
                        **when = Expr::BinaryExpr(BinaryExpr::new(base.clone(), DfOperator::Eq, when.clone()));
                    }
                    datafusion::common::tree_node::Transformed::yes(Expr::Case(case))
                }
                e => datafusion::common::tree_node::Transformed::no(e),
            })
        })
        .map(|t| t.data)
        .unwrap_or_else(|_| e.clone())
}

/// Whether a plan always yields exactly one row (an aggregate without groups, renamed or
/// projected).
fn one_row(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Aggregate(a) => a.group_expr.is_empty(),
        LogicalPlan::Projection(p) => one_row(&p.input),
        LogicalPlan::SubqueryAlias(a) => one_row(&a.input),
        _ => false,
    }
}

/// Flow column names of a DataFusion schema: qualified names, in order.
fn column_names(schema: &DFSchema) -> Vec<String> {
    schema.columns().iter().map(|c| c.flat_name()).collect()
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
fn expr_position(e: &Expr) -> Option<(u32, u32)> {
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
            LogicalPlan::Union(_) => Err(SqlError::unsupported("UNION")),
            LogicalPlan::Window(_) => Err(SqlError::unsupported("window functions")),
            LogicalPlan::Distinct(_) => Err(SqlError::unsupported("DISTINCT")),
            LogicalPlan::EmptyRelation(_) | LogicalPlan::Values(_) => Err(SqlError::unsupported(
                "queries without a table (FROM-less SELECT, VALUES)",
            )),
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

    fn scan(&mut self, scan: &TableScan) -> Result<TableValue, SqlError> {
        let name = scan.table_name.table();
        if let Some(&(_, bound)) = self.bound.iter().find(|(n, _)| n == name) {
            return self.bound_scan(bound, scan);
        }
        let table = self.catalog.table(name).ok_or_else(|| SqlError {
            message: format!("table '{name}' not found"),
            position: None,
        })?;
        let indices: Vec<usize> = match &scan.projection {
            // No columns (only rows are counted): read the first, project it away below.
            Some(p) if p.is_empty() => vec![0],
            Some(p) => p.clone(),
            None => (0..table.schema.fields().len()).collect(),
        };
        let mut names = column_names(&scan.projected_schema);
        let no_columns = names.is_empty();
        if no_columns {
            names.push(format!("{name}.{}", table.schema.field(0).name()));
        }
        let mut schema = Vec::new();
        let mut file_columns = Vec::new();
        for (i, name) in indices.iter().zip(&names) {
            let field = table.schema.field(*i);
            let ty = ColumnType::from_arrow(field.data_type()).map_err(|e| SqlError {
                message: e.to_string(),
                position: None,
            })?;
            schema.push(Column::new(name, ty, field.is_nullable()));
            file_columns.push(field.name().clone());
        }
        let files: Vec<String> = table.files.iter().map(|p| p.display().to_string()).collect();
        let loc = self.loc(None);
        let mut out = self
            .g
            .source(&table.name, table.format.name(), &files, &file_columns, schema, &loc);
        if no_columns {
            out = self.g.project(out, &[], Vec::new(), &loc);
        }
        if !scan.filters.is_empty() {
            let predicate =
                datafusion::logical_expr::utils::conjunction(scan.filters.clone()).expect("filters are not empty");
            out = self.filter_expr(out, &scan.projected_schema, &predicate)?;
        }
        if let Some(fetch) = scan.fetch {
            out = self.g.limit(out, 0, Some(fetch), &loc);
        }
        Ok(out)
    }

    /// A step's scan: the bound table's columns the scan projects, under its names.
    fn bound_scan(&mut self, bound: TableValue, scan: &TableScan) -> Result<TableValue, SqlError> {
        let have = self.schema_of(bound);
        let indices: Vec<usize> = match &scan.projection {
            Some(p) => p.clone(),
            None => (0..have.len()).collect(),
        };
        let names = column_names(&scan.projected_schema);
        let loc = self.loc(None);
        let columns: Vec<String> = indices.iter().map(|&i| have[i].name.clone()).collect();
        let out = indices
            .iter()
            .zip(&names)
            .map(|(&i, n)| Column::new(n, have[i].ty, have[i].nullable))
            .collect();
        let mut out = self.g.project(bound, &columns, out, &loc);
        if !scan.filters.is_empty() {
            let predicate =
                datafusion::logical_expr::utils::conjunction(scan.filters.clone()).expect("filters are not empty");
            out = self.filter_expr(out, &scan.projected_schema, &predicate)?;
        }
        if let Some(fetch) = scan.fetch {
            out = self.g.limit(out, 0, Some(fetch), &loc);
        }
        Ok(out)
    }

    fn filter_expr(
        &mut self,
        input: TableValue,
        df_schema: &DFSchema,
        predicate: &Expr,
    ) -> Result<TableValue, SqlError> {
        let predicate = &searched_case(predicate);
        let pos = expr_position(predicate);
        let at = |e: SqlError| e.at(pos.map(|(l, c)| (l as usize, c as usize)));
        let loc = self.loc(pos);
        let width = self.schema_of(input).len();
        let (input, atoms) = self.match_atoms(input, df_schema, &[predicate], &loc).map_err(at)?;
        let columns = self.schema_of(input);
        let body_input = BodyInput {
            df_schema,
            columns: &columns,
            atoms: &atoms,
        };
        let mut w = BodyWriter::new(self.g, "filter", &body_input, &[predicate], &loc).map_err(at)?;
        let result = w.predicate(predicate).map_err(at)?;
        let args = w.args();
        let body = w.finish(&[result]);
        let filtered = self.g.filter(input, &body, &args, &loc);
        Ok(self.keep_first(filtered, width, &loc))
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

    /// Computes every string predicate in `exprs` into a boolean column appended to
    /// `input` (one `flow.match` op each), for bodies to read.
    fn match_atoms(
        &mut self,
        mut input: TableValue,
        df_schema: &DFSchema,
        exprs: &[&Expr],
        loc: &SourceLoc,
    ) -> Result<(TableValue, Vec<Atom>), SqlError> {
        // A predicate, or (None) a numeric string function a body reads as a column.
        let mut found: Vec<(Expr, Option<StringAtom>)> = Vec::new();
        for e in exprs {
            e.apply(|node| {
                let atom = string_atom(node, df_schema);
                let numeric = || {
                    string_call(node)
                        .is_some_and(|(f, subject, _)| numeric_result(f) && is_string_value(subject, df_schema))
                };
                if atom.is_some() || numeric() {
                    if !found.iter().any(|(x, _)| x == node) {
                        found.push((node.clone(), atom));
                    }
                    return Ok(TreeNodeRecursion::Jump);
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
        }
        let mut atoms = Vec::new();
        self.predictions(&mut input, df_schema, exprs, &mut atoms, loc)?;
        for (expr, atom) in found {
            let (column, negated) = match atom {
                Some((value, kind, patterns, negated)) => {
                    if kind == MatchKind::Regex {
                        for p in &patterns {
                            regex::Regex::new(p).map_err(|e| SqlError {
                                message: format!(
                                    "bad regular expression '{p}': {}",
                                    e.to_string().lines().last().unwrap_or_default().trim()
                                ),
                                position: expr_position(&expr).map(|(l, c)| (l as usize, c as usize)),
                            })?;
                        }
                    }
                    let i = self.string_value(&mut input, df_schema, &value, loc)?;
                    let name = self.schema_of(input)[i].name.clone();
                    let out = self.fresh_name("match");
                    input = self.g.string_match(input, &name, kind, &patterns, &out, loc);
                    (self.schema_of(input).len() - 1, negated)
                }
                None => (self.string_value(&mut input, df_schema, &expr, loc)?, false),
            };
            atoms.push(Atom { expr, column, negated });
        }
        Ok((input, atoms))
    }

    /// Computes every `predict('model', x...)` in `exprs` into an f64 column appended to
    /// `input`: the model's one-row table is joined to every row (once per model), then a
    /// map scores the row with the model's prediction body. Each becomes an atom bodies
    /// read.
    fn predictions(
        &mut self,
        input: &mut TableValue,
        df_schema: &DFSchema,
        exprs: &[&Expr],
        atoms: &mut Vec<Atom>,
        loc: &SourceLoc,
    ) -> Result<(), SqlError> {
        let mut calls: Vec<Expr> = Vec::new();
        for e in exprs {
            e.apply(|node| {
                if matches!(node, Expr::ScalarFunction(f) if f.name() == "predict") && !calls.contains(node) {
                    calls.push(node.clone());
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
        }
        // Model name -> position of its first state column in `input`.
        let mut joined: Vec<(String, usize)> = Vec::new();
        for call in calls {
            let Expr::ScalarFunction(f) = &call else {
                unreachable!("collected above")
            };
            let at = |message: String| SqlError {
                message,
                position: expr_position(&call).map(|(l, c)| (l as usize, c as usize)),
            };
            let Some(name) = f.args.first().and_then(string_literal) else {
                return Err(at(
                    "predict() takes a model's name (a string literal), then its features".into(),
                ));
            };
            let Some(model) = self.models.iter().find(|m| m.name == name) else {
                let known: Vec<&str> = self.models.iter().map(|m| m.name.as_str()).collect();
                return Err(at(format!(
                    "no model '{name}' to predict with (trained by an earlier step: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            };
            let features = &f.args[1..];
            if features.len() != model.features.len() {
                return Err(at(format!(
                    "model '{name}' takes {} features ({}), not {}",
                    model.features.len(),
                    model.features.join(", "),
                    features.len()
                )));
            }
            let start = match joined.iter().find(|(n, _)| *n == name) {
                Some(&(_, start)) => start,
                None => {
                    let start = self.schema_of(*input).len();
                    let mut out = self.schema_of(*input);
                    out.extend(self.schema_of(model.table));
                    *input = self
                        .g
                        .join(*input, model.table, JoinKind::Inner, &[], None, false, out, loc);
                    joined.push((name.clone(), start));
                    start
                }
            };
            let columns = self.schema_of(*input);
            let mut body_atoms = atoms.clone();
            let state: Vec<Expr> = (0..model.state)
                .map(|i| Expr::Column(DfColumn::from_name(format!("__model {name} {i}"))))
                .collect();
            for (i, e) in state.iter().enumerate() {
                body_atoms.push(Atom {
                    expr: e.clone(),
                    column: start + i,
                    negated: false,
                });
            }
            let body_input = BodyInput {
                df_schema,
                columns: &columns,
                atoms: &body_atoms,
            };
            let reads: Vec<&Expr> = features.iter().chain(&state).collect();
            let mut w = BodyWriter::new(self.g, "predict", &body_input, &reads, loc)?;
            let xs = features
                .iter()
                .map(|e| w.expr(e))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.at(expr_position(&call).map(|(l, c)| (l as usize, c as usize))))?;
            let ws = state.iter().map(|e| w.expr(e)).collect::<Result<Vec<_>, _>>()?;
            let score = skadi_flowgraph::models::predict(w.builder(), model.kind, &xs, &ws);
            let nullable = w.any_nullable();
            let args = w.args();
            let body = w.finish(&[score]);
            let mut exprs: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
            exprs.push("$0".into());
            let mut out = columns.clone();
            out.push(Column::new(self.fresh_name("predict"), ColumnType::Float64, nullable));
            *input = self.g.map(*input, &body, &args, &exprs, out, loc);
            atoms.push(Atom {
                expr: call.clone(),
                column: columns.len(),
                negated: false,
            });
        }
        Ok(())
    }

    /// The position in `input` of a column holding string value `e` (a string column,
    /// or a string function of one, computed by `flow.string` ops appended to `input`).
    fn string_value(
        &mut self,
        input: &mut TableValue,
        df_schema: &DFSchema,
        e: &Expr,
        loc: &SourceLoc,
    ) -> Result<usize, SqlError> {
        match e {
            Expr::Alias(a) => self.string_value(input, df_schema, &a.expr, loc),
            Expr::Cast(c) if is_string_type(c.field.data_type()) => self.string_value(input, df_schema, &c.expr, loc),
            Expr::Column(c) => column_index(df_schema, c),
            e => {
                let Some((function, subject, args)) = string_call(e) else {
                    return Err(SqlError::unsupported(format!("string expression {e}")));
                };
                let i = self.string_value(input, df_schema, subject, loc)?;
                let from = self.schema_of(*input)[i].clone();
                let (_, field) = e.to_field(df_schema)?;
                let ty =
                    ColumnType::from_arrow(field.data_type()).map_err(|err| SqlError::unsupported(err.to_string()))?;
                let out = Column::new(self.fresh_name("str"), ty, from.nullable);
                let args: Vec<String> = args.iter().map(i64::to_string).collect();
                *input = self.g.string_function(*input, function, &from.name, &args, out, loc);
                Ok(self.schema_of(*input).len() - 1)
            }
        }
    }

    fn filter(&mut self, filter: &Filter) -> Result<TableValue, SqlError> {
        if filter
            .predicate
            .exists(|e| Ok(matches!(e, Expr::Exists(_) | Expr::InSubquery(_))))?
        {
            return Err(SqlError::unsupported("EXISTS and IN subqueries that stay correlated"));
        }
        let input = self.plan(&filter.input)?;
        let mut subqueries = Vec::new();
        filter.predicate.apply(|e| {
            if let Expr::ScalarSubquery(sq) = e {
                subqueries.push(sq.clone());
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        if subqueries.is_empty() {
            return self.filter_expr(input, filter.input.schema(), &filter.predicate);
        }
        // Each (uncorrelated, one-row) scalar subquery becomes a column joined to every
        // row; the predicate reads that column.
        let loc = self.loc(expr_position(&filter.predicate));
        let width = self.schema_of(input).len();
        let mut current = input;
        let mut df = filter.input.schema().as_ref().clone();
        let mut replace: Vec<(Expr, Expr)> = Vec::new();
        for sq in subqueries {
            if !sq.outer_ref_columns.is_empty() {
                return Err(SqlError::unsupported("correlated scalar subqueries"));
            }
            if !one_row(&sq.subquery) {
                return Err(SqlError::unsupported(
                    "scalar subqueries other than an aggregate without GROUP BY",
                ));
            }
            let value = self.plan(&sq.subquery)?;
            let sub = self.schema_of(value);
            let [col] = &sub[..] else {
                return Err(SqlError::unsupported("scalar subqueries of several columns"));
            };
            let name = self.fresh_name("scalar");
            let renamed = Column::new(&name, col.ty, true);
            let value = self
                .g
                .project(value, std::slice::from_ref(&col.name), vec![renamed.clone()], &loc);
            let mut out = self.schema_of(current);
            out.push(renamed);
            current = self
                .g
                .join(current, value, JoinKind::Inner, &[], None, false, out, &loc);
            let dt = sq.subquery.schema().field(0).data_type().clone();
            let field = DFSchema::from_unqualified_fields(vec![Field::new(&name, dt, true)].into(), HashMap::new())?;
            df = df.join(&field)?;
            replace.push((Expr::ScalarSubquery(sq), Expr::Column(DfColumn::from_name(name))));
        }
        let predicate = filter
            .predicate
            .clone()
            .transform(|e| {
                Ok(match replace.iter().find(|(from, _)| *from == e) {
                    Some((_, to)) => datafusion::common::tree_node::Transformed::yes(to.clone()),
                    None => datafusion::common::tree_node::Transformed::no(e),
                })
            })?
            .data;
        let filtered = self.filter_expr(current, &df, &predicate)?;
        Ok(self.keep_first(filtered, width, &loc))
    }

    /// Output columns computed from `exprs` over `input`: plain column references pass
    /// through, everything else becomes a result of one body. Returns a project or map op.
    fn compute(
        &mut self,
        input: TableValue,
        df_schema: &DFSchema,
        exprs: &[Expr],
        names: &[String],
        loc: &SourceLoc,
    ) -> Result<TableValue, SqlError> {
        let exprs: &[Expr] = &exprs.iter().map(searched_case).collect::<Vec<_>>();
        // String functions are computed first (flow.string) and then pass through.
        let mut input = input;
        let mut derived: Vec<(Expr, usize)> = Vec::new();
        for e in exprs {
            let e = e.clone().unalias_nested().data;
            if string_call(&e).is_some_and(|(_, subject, _)| is_string_value(subject, df_schema))
                && !derived.iter().any(|(x, _)| *x == e)
            {
                let i = self.string_value(&mut input, df_schema, &e, loc)?;
                derived.push((e, i));
            }
        }
        let columns = self.schema_of(input);
        let passthrough = |e: &Expr| -> Option<usize> {
            let e = e.clone().unalias_nested().data;
            if let Some((_, i)) = derived.iter().find(|(x, _)| *x == e) {
                return Some(*i);
            }
            match e {
                Expr::Column(c) => column_index(df_schema, &c).ok(),
                _ => None,
            }
        };
        let computed: Vec<&Expr> = exprs.iter().filter(|e| passthrough(e).is_none()).collect();
        let (input, atoms) = self.match_atoms(input, df_schema, &computed, loc)?;
        if computed.is_empty() {
            let picked: Vec<usize> = exprs
                .iter()
                .map(|e| passthrough(e).expect("every expression is a column"))
                .collect();
            let out = picked
                .iter()
                .zip(names)
                .map(|(&i, n)| Column::new(n, columns[i].ty, columns[i].nullable))
                .collect();
            let cols: Vec<String> = picked.iter().map(|&i| columns[i].name.clone()).collect();
            return Ok(self.g.project(input, &cols, out, loc));
        }
        // Bodies are strict: a NULL argument makes every result of the row NULL. That is
        // SQL's answer for each computed column only if they all read the same nullable
        // columns; otherwise each such group gets a map of its own.
        let nullable_deps = |e: &Expr| -> Vec<usize> {
            let mut deps: Vec<usize> = e
                .column_refs()
                .into_iter()
                .filter_map(|c| column_index(df_schema, c).ok())
                .filter(|&i| columns[i].nullable)
                .collect();
            deps.sort_unstable();
            deps
        };
        let mut groups: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
        for (k, e) in exprs.iter().enumerate().filter(|(_, e)| passthrough(e).is_none()) {
            let deps = nullable_deps(e);
            match groups.iter_mut().find(|(d, _)| *d == deps) {
                Some((_, members)) => members.push(k),
                None => groups.push((deps, vec![k])),
            }
        }
        // Each map keeps every column it reads (so input positions stay valid) and appends
        // its group's results; a final project picks and names the outputs.
        let single = groups.len() == 1;
        let mut current = input;
        let mut computed_name: Vec<Option<String>> = vec![None; exprs.len()];
        for (_, members) in &groups {
            let current_columns = self.schema_of(current);
            let body_input = BodyInput {
                df_schema,
                columns: &current_columns,
                atoms: &atoms,
            };
            let group: Vec<&Expr> = members.iter().map(|&k| &exprs[k]).collect();
            let mut w = BodyWriter::new(self.g, "map", &body_input, &group, loc)?;
            let (mut out_exprs, mut out): (Vec<String>, Vec<Column>) = if single {
                (Vec::new(), Vec::new())
            } else {
                (
                    current_columns.iter().map(|c| c.name.clone()).collect(),
                    current_columns.clone(),
                )
            };
            let mut results = Vec::new();
            for (&k, e) in members.iter().zip(&group) {
                let v = w
                    .expr(e)
                    .map_err(|err| err.at(expr_position(e).map(|(l, c)| (l as usize, c as usize))))?;
                let ty = ColumnType::from_body_scalar(&v.ty).expect("bodies produce scalar column types");
                let name = if single {
                    names[k].clone()
                } else {
                    format!("__computed{k}")
                };
                out_exprs.push(format!("${}", results.len()));
                out.push(Column::new(&name, ty, w.any_nullable()));
                computed_name[k] = Some(name);
                results.push(v);
            }
            if single {
                // One map computes everything: passed-through columns go in place.
                let mut ordered_exprs = Vec::new();
                let mut ordered = Vec::new();
                let mut next = 0;
                for (k, e) in exprs.iter().enumerate() {
                    match passthrough(e) {
                        Some(i) => {
                            ordered_exprs.push(columns[i].name.clone());
                            ordered.push(Column::new(&names[k], columns[i].ty, columns[i].nullable));
                        }
                        None => {
                            ordered_exprs.push(out_exprs[next].clone());
                            ordered.push(out[next].clone());
                            next += 1;
                        }
                    }
                }
                let args = w.args();
                let body = w.finish(&results);
                return Ok(self.g.map(current, &body, &args, &ordered_exprs, ordered, loc));
            }
            let args = w.args();
            let body = w.finish(&results);
            current = self.g.map(current, &body, &args, &out_exprs, out, loc);
        }
        let current_columns = self.schema_of(current);
        let picked: Vec<String> = exprs
            .iter()
            .enumerate()
            .map(|(k, e)| match passthrough(e) {
                Some(i) => columns[i].name.clone(),
                None => computed_name[k]
                    .clone()
                    .expect("every computed expression has a column"),
            })
            .collect();
        let out = picked
            .iter()
            .zip(names)
            .map(|(c, n)| {
                let col = current_columns
                    .iter()
                    .find(|x| &x.name == c)
                    .expect("picked columns exist");
                Column::new(n, col.ty, col.nullable)
            })
            .collect();
        Ok(self.g.project(current, &picked, out, loc))
    }

    fn projection(&mut self, p: &Projection) -> Result<TableValue, SqlError> {
        let input = self.plan(&p.input)?;
        let names = column_names(&p.schema);
        let loc = self.loc(p.expr.iter().find_map(expr_position));
        self.compute(input, p.input.schema(), &p.expr, &names, &loc)
    }

    fn aggregate(&mut self, a: &Aggregate) -> Result<TableValue, SqlError> {
        let mut input = self.plan(&a.input)?;
        let loc = self.loc(a.aggr_expr.iter().chain(&a.group_expr).find_map(expr_position));
        if a.group_expr.iter().any(|e| matches!(e, Expr::GroupingSet(_))) {
            return Err(SqlError::unsupported("GROUPING SETS, CUBE and ROLLUP"));
        }
        // (function, argument expression) per aggregate; count(*) has no argument.
        let mut calls: Vec<(AggregateFunction, Option<Expr>)> = Vec::new();
        for e in &a.aggr_expr {
            let Expr::AggregateFunction(DfAggregate { func, params }) = e.clone().unalias_nested().data else {
                return Err(SqlError::unsupported(format!("aggregate expression {e}")));
            };
            if params.distinct {
                return Err(SqlError::unsupported(format!("{}(DISTINCT ...)", func.name())));
            }
            if params.filter.is_some() {
                return Err(SqlError::unsupported("FILTER clauses on aggregates"));
            }
            if !params.order_by.is_empty() {
                return Err(SqlError::unsupported("ORDER BY inside aggregates"));
            }
            let function = match func.name() {
                "sum" => AggregateFunction::Sum,
                "count" => AggregateFunction::Count,
                "min" => AggregateFunction::Min,
                "max" => AggregateFunction::Max,
                "avg" | "mean" => AggregateFunction::Avg,
                other => return Err(SqlError::unsupported(format!("aggregate function {other}"))),
            };
            let arg = match params.args.as_slice() {
                [Expr::Literal(v, _)] if function == AggregateFunction::Count && !v.is_null() => None,
                [arg] => Some(arg.clone()),
                _ => {
                    return Err(SqlError::unsupported(format!(
                        "{} with {} arguments",
                        func.name(),
                        params.args.len()
                    )));
                }
            };
            calls.push((
                if arg.is_none() {
                    AggregateFunction::CountRows
                } else {
                    function
                },
                arg,
            ));
        }
        // Keys and aggregate arguments that are not plain columns are computed first, by a
        // map that passes the plain columns through under their own names.
        let in_df = a.input.schema();
        let in_names = column_names(in_df);
        let plain = |e: &Expr| -> Option<String> {
            match e.clone().unalias_nested().data {
                Expr::Column(c) => column_index(in_df, &c).ok().map(|i| in_names[i].clone()),
                _ => None,
            }
        };
        let mut pre: Vec<(Expr, String)> = Vec::new();
        let mut needs_map = false;
        let mut name_of = |e: &Expr, synthetic: String| -> String {
            let name = plain(e).unwrap_or_else(|| {
                needs_map = true;
                synthetic
            });
            if !pre.iter().any(|(_, n)| *n == name) {
                pre.push((e.clone(), name.clone()));
            }
            name
        };
        let keys: Vec<String> = a
            .group_expr
            .iter()
            .enumerate()
            .map(|(i, e)| name_of(e, format!("__key{i}")))
            .collect();
        let args: Vec<Option<String>> = calls
            .iter()
            .enumerate()
            .map(|(i, (_, arg))| arg.as_ref().map(|e| name_of(e, format!("__arg{i}"))))
            .collect();
        if needs_map {
            let (exprs, names): (Vec<Expr>, Vec<String>) = pre.into_iter().unzip();
            input = self.compute(input, in_df, &exprs, &names, &loc)?;
        }
        let in_schema = self.schema_of(input);
        let type_of = |n: &str| in_schema.iter().find(|c| c.name == n).expect("aggregate inputs exist");
        let out_names = column_names(&a.schema);
        let mut out = Vec::new();
        for (k, name) in keys.iter().zip(&out_names) {
            let c = type_of(k);
            out.push(Column::new(name, c.ty, c.nullable));
        }
        let mut aggregates = Vec::new();
        for ((function, _), (arg, name)) in calls.iter().zip(args.iter().zip(&out_names[keys.len()..])) {
            let input_col = arg.as_deref().map(type_of);
            let ty = function.output_type(input_col.map(|c| c.ty)).ok_or_else(|| {
                SqlError::unsupported(format!(
                    "{}() over {} values",
                    function.name(),
                    input_col.map_or("no".into(), |c| c.ty.to_string())
                ))
            })?;
            // sum/min/max/avg of no rows (or only NULLs) is NULL; counts never are.
            let nullable = !matches!(function, AggregateFunction::Count | AggregateFunction::CountRows);
            out.push(Column::new(name, ty, nullable));
            aggregates.push(AggregateCall {
                function: *function,
                input: arg.clone(),
            });
        }
        Ok(self.g.aggregate(input, &keys, &aggregates, out, &loc))
    }

    /// Columns holding `exprs` over `input`: a plain column itself (unless it must be
    /// cast), others appended to `input` by one map.
    fn key_columns(
        &mut self,
        input: &mut TableValue,
        df_schema: &DFSchema,
        exprs: &[(Expr, Option<DataType>)],
        loc: &SourceLoc,
    ) -> Result<Vec<String>, SqlError> {
        let columns = self.schema_of(*input);
        let mut all: Vec<Expr> = df_schema.columns().into_iter().map(Expr::Column).collect();
        let mut names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let mut out = Vec::new();
        for (e, cast_to) in exprs {
            let e = e.clone().unalias_nested().data;
            if cast_to.is_none()
                && let Expr::Column(c) = &e
            {
                out.push(columns[column_index(df_schema, c)?].name.clone());
                continue;
            }
            let e = match cast_to {
                Some(t) => Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(e), t.clone())),
                None => e,
            };
            let name = self.fresh_name("key");
            all.push(e);
            names.push(name.clone());
            out.push(name);
        }
        if all.len() > df_schema.fields().len() {
            *input = self.compute(*input, df_schema, &all, &names, loc)?;
        }
        Ok(out)
    }

    fn join(&mut self, j: &Join) -> Result<TableValue, SqlError> {
        if j.null_equality == NullEquality::NullEqualsNull {
            return Err(SqlError::unsupported("joins where NULL equals NULL"));
        }
        let (kind, swap) = match j.join_type {
            JoinType::Inner => (JoinKind::Inner, false),
            JoinType::Left => (JoinKind::Left, false),
            JoinType::Right => (JoinKind::Right, false),
            JoinType::Full => (JoinKind::Full, false),
            JoinType::LeftSemi => (JoinKind::Semi, false),
            JoinType::RightSemi => (JoinKind::Semi, true),
            JoinType::LeftAnti => (JoinKind::Anti, false),
            JoinType::RightAnti => (JoinKind::Anti, true),
            JoinType::LeftMark | JoinType::RightMark => {
                return Err(SqlError::unsupported("EXISTS or IN subqueries under OR (mark joins)"));
            }
        };
        let loc = self.loc(j.on.iter().find_map(|(l, _)| expr_position(l)));
        let (lp, rp) = if swap { (&j.right, &j.left) } else { (&j.left, &j.right) };
        let (ldf, rdf) = (lp.schema().clone(), rp.schema().clone());
        let mut left = self.plan(lp)?;
        let mut right = self.plan(rp)?;
        let (lw, rw) = (self.schema_of(left).len(), self.schema_of(right).len());
        let (mut lkeys, mut rkeys) = (Vec::new(), Vec::new());
        for (a, b) in &j.on {
            let (a, b) = if swap { (b, a) } else { (a, b) };
            // Both sides' keys must have one type here; where ours differ (an aggregate's
            // f64 against a decimal column), both are compared as the wider body type.
            let ta = self.key_type(left, &ldf, a)?;
            let tb = self.key_type(right, &rdf, b)?;
            let cast = if ta == tb {
                None
            } else if ta.is_numeric() && tb.is_numeric() {
                Some(
                    if [ta, tb]
                        .iter()
                        .any(|t| matches!(t, ColumnType::Float32 | ColumnType::Float64 | ColumnType::Decimal(..)))
                    {
                        DataType::Float64
                    } else {
                        DataType::Int64
                    },
                )
            } else {
                return Err(SqlError::unsupported(format!("joining {ta} keys with {tb} keys")));
            };
            lkeys.push((a.clone(), cast.clone()));
            rkeys.push((b.clone(), cast));
        }
        let lnames = self.key_columns(&mut left, &ldf, &lkeys, &loc)?;
        let rnames = self.key_columns(&mut right, &rdf, &rkeys, &loc)?;
        let keys: Vec<(String, String)> = lnames.into_iter().zip(rnames).collect();
        // String predicates of the filter read one column each: computed on its side.
        let (mut latoms, mut ratoms) = (Vec::new(), Vec::new());
        let filter_expr = j.filter.as_ref().map(searched_case);
        if let Some(f) = &filter_expr {
            (left, latoms) = self.match_atoms(left, &ldf, &[f], &loc)?;
            (right, ratoms) = self.match_atoms(right, &rdf, &[f], &loc)?;
        }
        let (lcols, rcols) = (self.schema_of(left), self.schema_of(right));
        let filter = match &filter_expr {
            None => None,
            Some(f) => {
                let joined_df = ldf.join(&rdf)?;
                let mut joined: Vec<Column> = lcols[..lw].iter().chain(&rcols[..rw]).cloned().collect();
                let mut atoms = Vec::new();
                for (a, cols) in latoms
                    .iter()
                    .map(|a| (a, &lcols))
                    .chain(ratoms.iter().map(|a| (a, &rcols)))
                {
                    atoms.push(Atom {
                        column: joined.len(),
                        ..a.clone()
                    });
                    joined.push(cols[a.column].clone());
                }
                let body_input = BodyInput {
                    df_schema: &joined_df,
                    columns: &joined,
                    atoms: &atoms,
                };
                let pos = expr_position(f);
                let at = |e: SqlError| e.at(pos.map(|(l, c)| (l as usize, c as usize)));
                let mut w = BodyWriter::new(self.g, "join_filter", &body_input, &[f], &loc).map_err(at)?;
                let result = w.predicate(f).map_err(at)?;
                let args = w.args();
                Some((w.finish(&[result]), args))
            }
        };
        // Our output: left ++ right (as DataFusion's join schema orders them), NULLs
        // on the side an outer join pads.
        let pad = |cols: &[Column], padded: bool| -> Vec<Column> {
            cols.iter()
                .map(|c| Column::new(&c.name, c.ty, c.nullable || padded))
                .collect()
        };
        let mut out = pad(&lcols, kind.preserves(1));
        if kind.outputs_right() {
            out.extend(pad(&rcols, kind.preserves(0)));
        }
        let joined = self.g.join(
            left,
            right,
            kind,
            &keys,
            filter.as_ref().map(|(b, a)| (b, a.as_slice())),
            j.null_aware,
            out,
            &loc,
        );
        // Drop computed key columns: the result has DataFusion's columns.
        let wanted: Vec<Column> = {
            let all = self.schema_of(joined);
            let mut w: Vec<Column> = all[..lw].to_vec();
            if kind.outputs_right() {
                w.extend(all[lcols.len()..lcols.len() + rw].iter().cloned());
            }
            w
        };
        if wanted.len() == self.schema_of(joined).len() {
            return Ok(joined);
        }
        let names: Vec<String> = wanted.iter().map(|c| c.name.clone()).collect();
        Ok(self.g.project(joined, &names, wanted, &loc))
    }

    /// The column type of a join key expression over `input`.
    fn key_type(&self, input: TableValue, df_schema: &DFSchema, e: &Expr) -> Result<ColumnType, SqlError> {
        if let Expr::Column(c) = e.clone().unalias_nested().data {
            return Ok(self.schema_of(input)[column_index(df_schema, &c)?].ty);
        }
        let (_, field) = e.to_field(df_schema)?;
        ColumnType::from_arrow(field.data_type()).map_err(|err| SqlError::unsupported(err.to_string()))
    }

    fn sort(&mut self, s: &Sort) -> Result<TableValue, SqlError> {
        let input = self.plan(&s.input)?;
        let in_df = s.input.schema();
        let names = self.schema_of(input);
        let mut keys = Vec::new();
        for e in &s.expr {
            let Expr::Column(c) = e.expr.clone().unalias_nested().data else {
                return Err(SqlError::unsupported(format!("ORDER BY expression {}", e.expr)));
            };
            let i = column_index(in_df, &c)?;
            keys.push(SortKey {
                column: names[i].name.clone(),
                descending: !e.asc,
                nulls_first: e.nulls_first,
            });
        }
        let loc = self.loc(s.expr.iter().find_map(|e| expr_position(&e.expr)));
        let sorted = self.g.sort(input, &keys, &loc);
        Ok(match s.fetch {
            Some(n) => self.g.limit(sorted, 0, Some(n), &loc),
            None => sorted,
        })
    }

    fn limit(&mut self, l: &Limit) -> Result<TableValue, SqlError> {
        let input = self.plan(&l.input)?;
        let skip = match l.get_skip_type()? {
            SkipType::Literal(n) => n,
            SkipType::UnsupportedExpr => return Err(SqlError::unsupported("non-constant OFFSET")),
        };
        let fetch = match l.get_fetch_type()? {
            FetchType::Literal(n) => n,
            FetchType::UnsupportedExpr => return Err(SqlError::unsupported("non-constant LIMIT")),
        };
        let loc = self.loc(None);
        Ok(self.g.limit(input, skip, fetch, &loc))
    }
}
