//! Builds FlowGraph text that [`crate::FlowGraph::parse`] turns into a verified module.
//! Frontends describe vertices and bodies here; they never write MLIR by hand.
//!
//! Over 600 lines, knowingly: one short writer per `flow` op and body op, all sharing
//! the builder's state (values, schemas, bodies); string ops already live in
//! `builder/strings.rs`, and splitting the rest by op would scatter that state.

use crate::syntax::{index_lists, quote, string_array, table_type};
use skadi_common::{
    AggregateCall, AggregateFunction, Column, ColumnType, Fault, JoinKind, Schema, SortKey, Values, Window, WindowCall,
    WindowFunction,
    ml::{METRIC_COLUMNS, Training},
};
use std::fmt::{self, Write};

mod strings;

/// Where in the user's source something came from; printed as an MLIR `loc(...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLoc {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loc({}:{}:{})", quote(&self.file), self.line, self.column)
    }
}

/// A table edge produced by a vertex op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableValue(usize);

/// An SSA scalar inside a body, with its MLIR type (`f64`, `i1`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub ssa: String,
    pub ty: String,
}

/// A finished body: a private `func.func` over row scalars.
#[derive(Debug, Clone)]
pub struct BodyFunc {
    pub name: String,
    pub params: Vec<String>,
    pub results: Vec<String>,
    text: String,
}

/// Writes one body function. Every op is in `arith` or `math`, so the body lowers to any
/// backend.
pub struct BodyBuilder {
    name: String,
    params: Vec<String>,
    lines: String,
    next: usize,
    /// The source construct the body computes; every op of the body points at it.
    loc: String,
}

impl BodyBuilder {
    fn new(name: String, params: Vec<String>, loc: &SourceLoc) -> Self {
        BodyBuilder {
            name,
            params,
            lines: String::new(),
            next: 0,
            loc: loc.to_string(),
        }
    }

    pub fn param(&self, index: usize) -> Scalar {
        Scalar {
            ssa: format!("%arg{index}"),
            ty: self.params[index].clone(),
        }
    }

    fn fresh(&mut self, ty: &str) -> Scalar {
        let s = Scalar {
            ssa: format!("%{}", self.next),
            ty: ty.to_string(),
        };
        self.next += 1;
        s
    }

    fn emit(&mut self, ty: &str, rhs: fmt::Arguments<'_>) -> Scalar {
        let out = self.fresh(ty);
        writeln!(self.lines, "    {} = {} {}", out.ssa, rhs, self.loc).expect("writing to a String");
        out
    }

    /// An integer constant of type `ty` (`i1`, `i32`, `i64`, ...).
    pub fn const_int(&mut self, value: i64, ty: &str) -> Scalar {
        let ty = ty.to_string();
        self.emit(&ty, format_args!("arith.constant {value} : {ty}"))
    }

    /// An integer constant wider than an i64 may hold (an i128's).
    pub fn const_wide(&mut self, value: i128, ty: &str) -> Scalar {
        let ty = ty.to_string();
        self.emit(&ty, format_args!("arith.constant {value} : {ty}"))
    }

    /// `arith.mulsi_extended`: the low and high halves of the full product of `a` and
    /// `b` (the product overflowed their type where the high half is not the low
    /// half's sign).
    pub fn mul_extended(&mut self, a: &Scalar, b: &Scalar) -> (Scalar, Scalar) {
        let ty = a.ty.clone();
        let both = self.fresh(&ty);
        writeln!(
            self.lines,
            "    {}:2 = arith.mulsi_extended {}, {} : {ty} {}",
            both.ssa, a.ssa, b.ssa, self.loc
        )
        .expect("writing to a String");
        let half = |k: u8| Scalar {
            ssa: format!("{}#{k}", both.ssa),
            ty: ty.clone(),
        };
        (half(0), half(1))
    }

    /// `scf.if %cond`: false where `cond` holds, else the i1 `otherwise` computes (its
    /// ops run only there: a rare case's costly check off the common path).
    pub fn false_or_else(&mut self, cond: &Scalar, otherwise: impl FnOnce(&mut Self) -> Scalar) -> Scalar {
        let out = self.fresh("i1");
        let loc = self.loc.clone();
        writeln!(self.lines, "    {} = scf.if {} -> (i1) {{", out.ssa, cond.ssa).expect("writing to a String");
        let f = self.const_int(0, "i1");
        writeln!(self.lines, "    scf.yield {} : i1 {loc}", f.ssa).expect("writing to a String");
        writeln!(self.lines, "    }} else {{").expect("writing to a String");
        let v = otherwise(self);
        writeln!(self.lines, "    scf.yield {} : i1 {loc}", v.ssa).expect("writing to a String");
        writeln!(self.lines, "    }} {loc}").expect("writing to a String");
        out
    }

    /// A float constant, written exactly (hexadecimal bits where decimal would round).
    pub fn const_float(&mut self, value: f64, ty: &str) -> Scalar {
        let text = match ty {
            "f32" => {
                let v = value as f32;
                let d = format!("{v:?}");
                if v.is_finite() && d.contains('.') && !d.contains('e') {
                    d
                } else {
                    format!("0x{:08X}", v.to_bits())
                }
            }
            _ => {
                let d = format!("{value:?}");
                if value.is_finite() && d.contains('.') && !d.contains('e') {
                    d
                } else {
                    format!("0x{:016X}", value.to_bits())
                }
            }
        };
        let ty = ty.to_string();
        self.emit(&ty, format_args!("arith.constant {text} : {ty}"))
    }

    /// `op %a, %b : ty` — `arith.addf`, `arith.muli`, `arith.andi`, ...
    pub fn binary(&mut self, op: &str, a: &Scalar, b: &Scalar) -> Scalar {
        let ty = a.ty.clone();
        self.emit(&ty, format_args!("{op} {}, {} : {ty}", a.ssa, b.ssa))
    }

    /// `op %a : ty` — `math.sqrt`, `arith.negf`, ...
    pub fn unary(&mut self, op: &str, a: &Scalar) -> Scalar {
        let ty = a.ty.clone();
        self.emit(&ty, format_args!("{op} {} : {ty}", a.ssa))
    }

    /// `arith.cmpf`/`arith.cmpi` with a predicate (`olt`, `slt`, `eq`, ...); yields `i1`.
    pub fn compare(&mut self, op: &str, predicate: &str, a: &Scalar, b: &Scalar) -> Scalar {
        self.emit("i1", format_args!("{op} {predicate}, {}, {} : {}", a.ssa, b.ssa, a.ty))
    }

    /// A conversion such as `arith.sitofp %a : i64 to f64`.
    pub fn cast(&mut self, op: &str, a: &Scalar, to: &str) -> Scalar {
        self.emit(to, format_args!("{op} {} : {} to {to}", a.ssa, a.ty))
    }

    pub fn select(&mut self, cond: &Scalar, a: &Scalar, b: &Scalar) -> Scalar {
        let ty = a.ty.clone();
        self.emit(
            &ty,
            format_args!("arith.select {}, {}, {} : {ty}", cond.ssa, a.ssa, b.ssa),
        )
    }

    pub fn finish(mut self, results: &[Scalar]) -> BodyFunc {
        let loc = &self.loc;
        let params: Vec<String> = self
            .params
            .iter()
            .enumerate()
            .map(|(i, t)| format!("%arg{i}: {t} {loc}"))
            .collect();
        let result_types: Vec<String> = results.iter().map(|r| r.ty.clone()).collect();
        let values: Vec<&str> = results.iter().map(|r| r.ssa.as_str()).collect();
        writeln!(
            self.lines,
            "    return {} : {} {loc}",
            values.join(", "),
            result_types.join(", ")
        )
        .expect("writing to a String");
        let text = format!(
            "  func.func private @{}({}) -> ({}) {{\n{}  }} {loc}\n",
            self.name,
            params.join(", "),
            result_types.join(", "),
            self.lines
        );
        BodyFunc {
            name: self.name,
            params: self.params,
            results: result_types,
            text,
        }
    }
}

/// Accumulates bodies and vertex ops, then prints the module.
#[derive(Default)]
pub struct FlowGraphBuilder {
    bodies: String,
    ops: String,
    schemas: Vec<Schema>,
    body_count: usize,
}

impl FlowGraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn schema(&self, value: TableValue) -> &Schema {
        &self.schemas[value.0]
    }

    /// Starts a body whose parameters have the given MLIR scalar types. Its name is
    /// `prefix` made unique in this graph.
    pub fn body(&mut self, prefix: &str, params: Vec<String>, loc: &SourceLoc) -> BodyBuilder {
        self.body_count += 1;
        BodyBuilder::new(format!("{prefix}_{}", self.body_count), params, loc)
    }

    fn push(&mut self, schema: Schema, op: String) -> TableValue {
        let id = self.schemas.len();
        writeln!(self.ops, "  %t{id} = {op}").expect("writing to a String");
        self.schemas.push(schema);
        TableValue(id)
    }

    fn unary_op(&mut self, name: &str, input: TableValue, attrs: &str, schema: Schema, loc: &SourceLoc) -> TableValue {
        let op = format!(
            "\"flow.{name}\"(%t{}) {{{attrs}}} : ({}) -> {} {loc}",
            input.0,
            table_type(&self.schemas[input.0]),
            table_type(&schema)
        );
        self.push(schema, op)
    }

    fn add_body(&mut self, body: &BodyFunc) {
        self.bodies.push_str(&body.text);
    }

    /// `columns[i]` is the file column read into result column i.
    pub fn source(
        &mut self,
        table: &str,
        format: &str,
        files: &[String],
        columns: &[String],
        schema: Schema,
        loc: &SourceLoc,
    ) -> TableValue {
        let op = format!(
            "\"flow.source\"() {{table = {}, format = {}, files = {}, columns = {}}} : () -> {} {loc}",
            quote(table),
            quote(format),
            string_array(files),
            string_array(columns),
            table_type(&schema)
        );
        self.push(schema, op)
    }

    /// Literal rows of table type `schema`.
    pub fn values(&mut self, values: &Values, schema: Schema, loc: &SourceLoc) -> TableValue {
        let op = format!(
            "\"flow.values\"() {{rows = {}}} : () -> {} {loc}",
            string_array(&values.row_texts()),
            table_type(&schema)
        );
        self.push(schema, op)
    }

    pub fn filter(&mut self, input: TableValue, body: &BodyFunc, args: &[String], loc: &SourceLoc) -> TableValue {
        self.add_body(body);
        let attrs = format!("body = @{}, args = {}", body.name, string_array(args));
        let schema = self.schemas[input.0].clone();
        self.unary_op("filter", input, &attrs, schema, loc)
    }

    pub fn project(&mut self, input: TableValue, columns: &[String], schema: Schema, loc: &SourceLoc) -> TableValue {
        let attrs = format!("columns = {}", string_array(columns));
        self.unary_op("project", input, &attrs, schema, loc)
    }

    /// `exprs[i]` is `"$N"` for body result N, or an input column name.
    pub fn map(
        &mut self,
        input: TableValue,
        body: &BodyFunc,
        args: &[String],
        exprs: &[String],
        schema: Schema,
        loc: &SourceLoc,
    ) -> TableValue {
        self.add_body(body);
        let attrs = format!(
            "body = @{}, args = {}, exprs = {}",
            body.name,
            string_array(args),
            string_array(exprs)
        );
        self.unary_op("map", input, &attrs, schema, loc)
    }

    /// A row-wise op whose body follows SQL's three-valued logic itself (see
    /// `skadi_common::Pipeline`): it takes `args` and then the validity of the args at
    /// `validity`; result r is NULL where result v is false for each `(r, v)` in
    /// `result_validity`; rows where result `keep` is false are dropped; the op fails
    /// where result `fault.result` is true.
    #[allow(clippy::too_many_arguments)]
    pub fn three_valued(
        &mut self,
        input: TableValue,
        body: &BodyFunc,
        args: &[String],
        validity: &[usize],
        exprs: &[String],
        keep: Option<usize>,
        result_validity: &[(usize, usize)],
        fault: Option<&Fault>,
        schema: Schema,
        loc: &SourceLoc,
    ) -> TableValue {
        self.add_body(body);
        let results = body.results.len();
        let pairs: Vec<Vec<usize>> = result_validity.iter().map(|&(r, v)| vec![r, v]).collect();
        let validity = validity.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
        let mut attrs = format!(
            "body = @{}, args = {}, exprs = {}, keep = {} : i64, strict = {}, validity = [{validity}], result_validity = {}",
            body.name,
            string_array(args),
            string_array(exprs),
            keep.map_or(-1, |k| k as i64),
            index_lists(&vec![Vec::new(); results]),
            index_lists(&pairs)
        );
        if let Some(f) = fault {
            attrs.push_str(&fault_attributes(f));
        }
        self.unary_op("pipeline", input, &attrs, schema, loc)
    }

    /// A map whose body can fail where result `fault.result` is true: with a fault, a
    /// strict `flow.pipeline` (every result NULL where any arg is) that fails there.
    #[allow(clippy::too_many_arguments)]
    pub fn map_with_fault(
        &mut self,
        input: TableValue,
        body: &BodyFunc,
        args: &[String],
        exprs: &[String],
        fault: Option<&Fault>,
        schema: Schema,
        loc: &SourceLoc,
    ) -> TableValue {
        let Some(f) = fault else {
            return self.map(input, body, args, exprs, schema, loc);
        };
        self.add_body(body);
        let all: Vec<usize> = (0..args.len()).collect();
        let attrs = format!(
            "body = @{}, args = {}, exprs = {}, keep = -1 : i64, strict = {}{}",
            body.name,
            string_array(args),
            string_array(exprs),
            index_lists(&vec![all; body.results.len()]),
            fault_attributes(f)
        );
        self.unary_op("pipeline", input, &attrs, schema, loc)
    }

    pub fn aggregate(
        &mut self,
        input: TableValue,
        keys: &[String],
        aggregates: &[AggregateCall],
        schema: Schema,
        loc: &SourceLoc,
    ) -> TableValue {
        self.aggregate_with(input, keys, aggregates, true, schema, loc)
    }

    /// An aggregate; `combine: false` keeps lowering from combining rows per shard before
    /// the shuffle (a MapReduce job without a combiner).
    pub fn aggregate_with(
        &mut self,
        input: TableValue,
        keys: &[String],
        aggregates: &[AggregateCall],
        combine: bool,
        schema: Schema,
        loc: &SourceLoc,
    ) -> TableValue {
        let aggs: Vec<String> = aggregates.iter().map(AggregateCall::to_string).collect();
        let mut attrs = format!("keys = {}, aggregates = {}", string_array(keys), string_array(&aggs));
        if !combine {
            attrs.push_str(", no_combiner");
        }
        self.unary_op("aggregate", input, &attrs, schema, loc)
    }

    /// Joins `left` and `right` (see `flow.join`); `schema` is left ++ right columns, or
    /// the left's for semi and anti joins. `filter` is a body over the joined row, the
    /// columns passed to it, those whose validity it also takes (three-valued logic),
    /// and what can fail in it, if anything (its second result is then where it did).
    #[allow(clippy::too_many_arguments)]
    pub fn join(
        &mut self,
        left: TableValue,
        right: TableValue,
        kind: JoinKind,
        keys: &[(String, String)],
        filter: Option<JoinFilter<'_>>,
        null_aware: bool,
        schema: Schema,
        loc: &SourceLoc,
    ) -> TableValue {
        let (lk, rk): (Vec<String>, Vec<String>) = keys.iter().cloned().unzip();
        let mut attrs = format!(
            "kind = {}, left_keys = {}, right_keys = {}",
            quote(kind.name()),
            string_array(&lk),
            string_array(&rk)
        );
        if let Some(JoinFilter {
            body,
            args,
            validity,
            fault,
        }) = filter
        {
            self.add_body(body);
            attrs.push_str(&format!(
                ", filter = @{}, filter_args = {}",
                body.name,
                string_array(args)
            ));
            if !validity.is_empty() {
                let validity: Vec<String> = validity.iter().map(usize::to_string).collect();
                attrs.push_str(&format!(", filter_validity = [{}]", validity.join(", ")));
            }
            if let Some(what) = fault {
                attrs.push_str(&format!(", filter_fault = {}", quote(what)));
            }
        }
        if null_aware {
            attrs.push_str(", null_aware");
        }
        let op = format!(
            "\"flow.join\"(%t{}, %t{}) {{{attrs}}} : ({}, {}) -> {} {loc}",
            left.0,
            right.0,
            table_type(&self.schemas[left.0]),
            table_type(&self.schemas[right.0]),
            table_type(&schema)
        );
        self.push(schema, op)
    }

    /// Trains a model (see `flow.iterate`) with step `body` over `args` (the features, then
    /// the label); rows with a NULL in any of them are skipped. The result is one row:
    /// the state columns `state_names`, then `{prefix}iterations`, `{prefix}loss` and
    /// `{prefix}rows`.
    #[allow(clippy::too_many_arguments)]
    pub fn iterate(
        &mut self,
        input: TableValue,
        training: &Training,
        body: &BodyFunc,
        args: &[String],
        state_names: &[String],
        prefix: &str,
        loc: &SourceLoc,
    ) -> TableValue {
        self.add_body(body);
        let init: Vec<String> = training.init.iter().map(|v| format!("{v:?}")).collect();
        let attrs = format!(
            "model = {}, method = {}, body = @{}, args = {}, strict = {}, options = {}, init = {}",
            quote(training.model.name()),
            quote(training.method.name()),
            body.name,
            string_array(args),
            string_array(args),
            string_array(&training.options()),
            string_array(&init)
        );
        let mut schema: Schema = state_names
            .iter()
            .map(|n| Column::new(n, ColumnType::Float64, false))
            .collect();
        let metrics = [ColumnType::Int64, ColumnType::Float64, ColumnType::Int64];
        for (name, ty) in METRIC_COLUMNS.iter().zip(metrics) {
            schema.push(Column::new(format!("{prefix}{name}"), ty, false));
        }
        self.unary_op("iterate", input, &attrs, schema, loc)
    }

    pub fn sort(&mut self, input: TableValue, keys: &[SortKey], loc: &SourceLoc) -> TableValue {
        let keys: Vec<String> = keys.iter().map(SortKey::to_string).collect();
        let attrs = format!("keys = {}", string_array(&keys));
        let schema = self.schemas[input.0].clone();
        self.unary_op("sort", input, &attrs, schema, loc)
    }

    /// `input` with one column per call of `window` appended, named `names` (see
    /// `flow.window`); each appended column's type is its call's.
    pub fn window(&mut self, input: TableValue, window: &Window, names: &[String], loc: &SourceLoc) -> TableValue {
        let mut schema = self.schemas[input.0].clone();
        let find = |n: &str| schema.iter().find(|c| c.name == n).map(|c| c.ty);
        let appended: Vec<Column> = window
            .calls
            .iter()
            .zip(names)
            .map(|(call, name)| {
                let ty = call
                    .function
                    .output_type(call.input.as_deref().and_then(find))
                    .unwrap_or(ColumnType::Int64);
                // Ranks and counts always have a value; the rest may be NULL.
                let nullable = !matches!(
                    call.function,
                    WindowFunction::RowNumber
                        | WindowFunction::Rank
                        | WindowFunction::DenseRank
                        | WindowFunction::PercentRank
                        | WindowFunction::CumeDist
                        | WindowFunction::Ntile(_)
                        | WindowFunction::Aggregate(AggregateFunction::Count | AggregateFunction::CountRows)
                );
                Column::new(name, ty, nullable)
            })
            .collect();
        schema.extend(appended);
        let keys: Vec<String> = window.order_by.iter().map(SortKey::to_string).collect();
        let calls: Vec<String> = window.calls.iter().map(WindowCall::to_string).collect();
        let frames: Vec<String> = window.calls.iter().map(|c| c.frame.to_string()).collect();
        let attrs = format!(
            "partition_by = {}, order_by = {}, calls = {}, frames = {}",
            string_array(&window.partition_by),
            string_array(&keys),
            string_array(&calls),
            string_array(&frames)
        );
        self.unary_op("window", input, &attrs, schema, loc)
    }

    /// The rows of every one of `inputs`, one after another (UNION ALL); each input has
    /// table type `schema` (rename them first with [`Self::project`]).
    pub fn union(&mut self, inputs: &[TableValue], schema: Schema, loc: &SourceLoc) -> TableValue {
        let operands: Vec<String> = inputs.iter().map(|t| format!("%t{}", t.0)).collect();
        let types: Vec<String> = inputs.iter().map(|t| table_type(&self.schemas[t.0])).collect();
        let op = format!(
            "\"flow.union\"({}) : ({}) -> {} {loc}",
            operands.join(", "),
            types.join(", "),
            table_type(&schema)
        );
        self.push(schema, op)
    }

    /// The first `fetch` rows of `input` in `keys` order.
    pub fn top_k(&mut self, input: TableValue, keys: &[SortKey], fetch: usize, loc: &SourceLoc) -> TableValue {
        let keys: Vec<String> = keys.iter().map(SortKey::to_string).collect();
        let attrs = format!("keys = {}, fetch = {} : i64", string_array(&keys), row_count(fetch));
        let schema = self.schemas[input.0].clone();
        self.unary_op("top_k", input, &attrs, schema, loc)
    }

    pub fn limit(&mut self, input: TableValue, skip: usize, fetch: Option<usize>, loc: &SourceLoc) -> TableValue {
        let fetch = fetch.map_or(-1, row_count);
        let attrs = format!("skip = {} : i64, fetch = {fetch} : i64", row_count(skip));
        let schema = self.schemas[input.0].clone();
        self.unary_op("limit", input, &attrs, schema, loc)
    }

    pub fn sink(&mut self, input: TableValue, names: &[String], loc: &SourceLoc) {
        writeln!(
            self.ops,
            "  \"flow.sink\"(%t{}) {{names = {}}} : ({}) -> () {loc}",
            input.0,
            string_array(names),
            table_type(&self.schemas[input.0])
        )
        .expect("writing to a String");
    }

    /// The module text.
    pub fn finish(self) -> String {
        format!("module {{\n{}{}}}\n", self.bodies, self.ops)
    }
}

/// A count of rows as an `i64` attribute: past `i64::MAX` it means more rows than any
/// table holds, which `i64::MAX` means too.
fn row_count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A pipeline's fault attributes, after its others.
pub fn fault_attributes(f: &Fault) -> String {
    let kept = if f.kept { ", fault_kept" } else { "" };
    format!(", fault = {} : i64, fault_what = {}{kept}", f.result, quote(&f.what))
}

/// A join's condition (see [`FlowGraphBuilder::join`]): its body over the joined row, the
/// columns passed to it, those whose validity it also takes, and what can fail in it.
pub struct JoinFilter<'a> {
    pub body: &'a BodyFunc,
    pub args: &'a [String],
    pub validity: &'a [usize],
    pub fault: Option<&'a str>,
}
