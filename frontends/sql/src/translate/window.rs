//! Window functions: arguments, partition and order expressions computed by a map first
//! where they are not plain columns, then one `flow.window` per distinct
//! `PARTITION BY ... ORDER BY ...` (calls sharing one share the op), then a projection
//! to the node's columns.

use super::*;
use datafusion::logical_expr::{
    Window, WindowFrame, WindowFrameBound, WindowFrameUnits, WindowFunctionDefinition,
    expr::{NullTreatment, WindowFunction as DfWindowFunction, WindowFunctionParams},
};
use skadi_common::{Frame, FrameBound, Window as FlowWindow, WindowCall, WindowFunction};

/// One call before its columns are named: its function, argument, partition and order
/// expressions.
struct Call {
    function: WindowFunction,
    arg: Option<Expr>,
    partition_by: Vec<Expr>,
    order_by: Vec<(Expr, bool, bool)>,
    frame: Frame,
    ignore_nulls: bool,
}

impl Translator<'_> {
    pub(super) fn window(&mut self, w: &Window) -> Result<TableValue, SqlError> {
        let mut input = self.plan(&w.input)?;
        let loc = self.loc(w.window_expr.iter().find_map(expr_position));
        let calls: Vec<Call> = w.window_expr.iter().map(call).collect::<Result<_, _>>()?;
        // Arguments, partition and order keys that are not plain columns are computed
        // first, appended after the input's columns.
        let in_df = w.input.schema();
        let in_names = column_names(in_df);
        let mut extra: Vec<(Expr, String)> = Vec::new();
        let mut name_of = |e: &Expr, fresh: &mut usize| -> String {
            if let Expr::Column(c) = e.clone().unalias_nested().data
                && let Ok(i) = column_index(in_df, &c)
            {
                return in_names[i].clone();
            }
            if let Some((_, n)) = extra.iter().find(|(x, _)| x == e) {
                return n.clone();
            }
            *fresh += 1;
            let name = format!("__window{fresh}");
            extra.push((e.clone(), name.clone()));
            name
        };
        let mut fresh = self.fresh;
        let named: Vec<(Option<String>, Vec<String>, Vec<SortKey>)> = calls
            .iter()
            .map(|c| {
                let arg = c.arg.as_ref().map(|e| name_of(e, &mut fresh));
                let partition = c.partition_by.iter().map(|e| name_of(e, &mut fresh)).collect();
                let order = c
                    .order_by
                    .iter()
                    .map(|(e, asc, nulls_first)| SortKey {
                        column: name_of(e, &mut fresh),
                        descending: !asc,
                        nulls_first: *nulls_first,
                    })
                    .collect();
                (arg, partition, order)
            })
            .collect();
        self.fresh = fresh;
        if !extra.is_empty() {
            let mut exprs: Vec<Expr> = in_df.columns().into_iter().map(Expr::Column).collect();
            let mut names = in_names.clone();
            for (e, n) in extra {
                exprs.push(e);
                names.push(n);
            }
            input = self.compute(input, in_df, &exprs, &names, &loc)?;
        }
        // One op per distinct (partition, order), in the calls' first appearance.
        let out_names = column_names(&w.schema);
        let mut done = vec![false; calls.len()];
        for i in 0..calls.len() {
            if done[i] {
                continue;
            }
            let (_, partition_by, order_by) = &named[i];
            let group: Vec<usize> = (i..calls.len())
                .filter(|&k| !done[k] && named[k].1 == *partition_by && named[k].2 == *order_by)
                .collect();
            let window = FlowWindow {
                partition_by: partition_by.clone(),
                order_by: order_by.clone(),
                calls: group
                    .iter()
                    .map(|&k| WindowCall {
                        function: calls[k].function.clone(),
                        input: named[k].0.clone(),
                        frame: calls[k].frame.clone(),
                        ignore_nulls: calls[k].ignore_nulls,
                    })
                    .collect(),
            };
            let schema = self.schema_of(input);
            let type_of = |n: &str| schema.iter().find(|c| c.name == n).map(|c| c.ty);
            if let Err(e) = window.check(&schema) {
                return Err(SqlError::unsupported(format!("window function: {e}")));
            }
            for call in &window.calls {
                let ty = call.input.as_deref().and_then(type_of);
                if call.function.output_type(ty).is_none() {
                    return Err(SqlError::unsupported(format!(
                        "window function {}() over {} values",
                        call.function.name(),
                        ty.map_or("no".into(), |t| t.to_string())
                    )));
                }
            }
            let names: Vec<String> = group.iter().map(|&k| out_names[in_names.len() + k].clone()).collect();
            input = self.g.window(input, &window, &names, &loc);
            for k in group {
                done[k] = true;
            }
        }
        // The node's columns: the input's, then each call's, in order.
        let schema = self.schema_of(input);
        let columns: Vec<String> = out_names.clone();
        let out: Vec<Column> = columns
            .iter()
            .map(|n| {
                schema
                    .iter()
                    .find(|c| c.name == *n)
                    .cloned()
                    .expect("window outputs exist")
            })
            .collect();
        if out.len() == schema.len() {
            return Ok(input);
        }
        Ok(self.g.project(input, &columns, out, &loc))
    }
}

/// A window expression as a call, or why it is not supported.
fn call(e: &Expr) -> Result<Call, SqlError> {
    let Expr::WindowFunction(f) = e.clone().unalias_nested().data else {
        return Err(SqlError::unsupported(format!("window expression {e}")));
    };
    let DfWindowFunction {
        fun,
        params:
            WindowFunctionParams {
                args,
                partition_by,
                order_by,
                window_frame,
                filter,
                null_treatment,
                distinct,
            },
    } = *f;
    let name = fun.name().to_string();
    if filter.is_some() {
        return Err(SqlError::unsupported("FILTER clauses on window functions"));
    }
    if distinct {
        return Err(SqlError::unsupported(format!("{name}(DISTINCT ...) over a window")));
    }
    let ignore_nulls = null_treatment == Some(NullTreatment::IgnoreNulls);
    if ignore_nulls
        && !matches!(
            name.as_str(),
            "lag" | "lead" | "first_value" | "last_value" | "nth_value"
        )
    {
        return Err(SqlError::unsupported(format!("{name}(...) IGNORE NULLS")));
    }
    let literal_int = |e: &Expr| -> Option<i64> {
        match e.clone().unalias_nested().data {
            Expr::Literal(v, _) => number(&v).filter(|x| x.fract() == 0.0).map(|x| x as i64),
            _ => None,
        }
    };
    let bad_args = || SqlError::unsupported(format!("{name} with arguments ({})", list_exprs(&args)));
    let (function, arg) = match (&fun, name.as_str(), args.as_slice()) {
        (WindowFunctionDefinition::AggregateUDF(_), _, _) => {
            let function = super::aggregate::aggregate_function(&name)
                .ok_or_else(|| SqlError::unsupported(format!("aggregate function {name} over a window")))?;
            match args.as_slice() {
                [Expr::Literal(v, _)] if function == AggregateFunction::Count && !v.is_null() => {
                    (WindowFunction::Aggregate(AggregateFunction::CountRows), None)
                }
                [] if function == AggregateFunction::Count => {
                    (WindowFunction::Aggregate(AggregateFunction::CountRows), None)
                }
                [arg] => (WindowFunction::Aggregate(function), Some(arg.clone())),
                _ => return Err(bad_args()),
            }
        }
        (_, "row_number", []) => (WindowFunction::RowNumber, None),
        (_, "rank", []) => (WindowFunction::Rank, None),
        (_, "dense_rank", []) => (WindowFunction::DenseRank, None),
        (_, "percent_rank", []) => (WindowFunction::PercentRank, None),
        (_, "cume_dist", []) => (WindowFunction::CumeDist, None),
        (_, "ntile", [n]) => match literal_int(n) {
            Some(n) if n > 0 => (WindowFunction::Ntile(n as u64), None),
            _ => return Err(bad_args()),
        },
        (_, "first_value", [x]) => (WindowFunction::FirstValue, Some(x.clone())),
        (_, "last_value", [x]) => (WindowFunction::LastValue, Some(x.clone())),
        (_, "nth_value", [x, n]) => match literal_int(n) {
            Some(n) if n > 0 => (WindowFunction::NthValue(n as u64), Some(x.clone())),
            _ => return Err(bad_args()),
        },
        (_, "lag" | "lead", [x, rest @ ..]) if rest.len() <= 2 => {
            let offset = match rest.first() {
                Some(o) => literal_int(o).ok_or_else(bad_args)?,
                None => 1,
            };
            let default = match rest.get(1).map(|d| d.clone().unalias_nested().data) {
                None => None,
                Some(Expr::Literal(v, _)) if v.is_null() => None,
                Some(Expr::Literal(v, _)) if number(&v).is_some() || matches!(v, ScalarValue::Date32(_)) => {
                    Some(v.to_string())
                }
                Some(_) => {
                    return Err(SqlError::unsupported(format!(
                        "{name} with a default that is not a number literal"
                    )));
                }
            };
            let function = if name == "lag" {
                WindowFunction::Lag { offset, default }
            } else {
                WindowFunction::Lead { offset, default }
            };
            (function, Some(x.clone()))
        }
        (
            _,
            "row_number" | "rank" | "dense_rank" | "percent_rank" | "cume_dist" | "ntile" | "first_value"
            | "last_value" | "nth_value" | "lag" | "lead",
            _,
        ) => return Err(bad_args()),
        (_, other, _) => return Err(SqlError::unsupported(format!("window function {other}"))),
    };
    Ok(Call {
        function,
        arg,
        partition_by,
        order_by: order_by
            .iter()
            .map(|s| (s.expr.clone(), s.asc, s.nulls_first))
            .collect(),
        frame: frame(&window_frame)?,
        ignore_nulls,
    })
}

fn frame(f: &WindowFrame) -> Result<Frame, SqlError> {
    let rows = match f.units {
        WindowFrameUnits::Rows => true,
        WindowFrameUnits::Range => false,
        WindowFrameUnits::Groups => return Err(SqlError::unsupported("GROUPS window frames")),
    };
    let bound = |b: &WindowFrameBound| -> Result<FrameBound, SqlError> {
        let offset = |v: &ScalarValue| {
            number(v)
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| SqlError::unsupported(format!("window frame offset {v} (only non-negative numbers)")))
        };
        Ok(match b {
            WindowFrameBound::Preceding(v) if v.is_null() => FrameBound::UnboundedPreceding,
            WindowFrameBound::Following(v) if v.is_null() => FrameBound::UnboundedFollowing,
            WindowFrameBound::Preceding(v) => FrameBound::Preceding(offset(v)?),
            WindowFrameBound::Following(v) => FrameBound::Following(offset(v)?),
            WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
        })
    };
    Ok(Frame {
        rows,
        start: bound(&f.start_bound)?,
        end: bound(&f.end_bound)?,
    })
}

/// A numeric literal's value (decimals in their units).
fn number(v: &ScalarValue) -> Option<f64> {
    Some(match v {
        ScalarValue::Int8(Some(x)) => *x as f64,
        ScalarValue::Int16(Some(x)) => *x as f64,
        ScalarValue::Int32(Some(x)) => *x as f64,
        ScalarValue::Int64(Some(x)) => *x as f64,
        ScalarValue::UInt8(Some(x)) => *x as f64,
        ScalarValue::UInt16(Some(x)) => *x as f64,
        ScalarValue::UInt32(Some(x)) => *x as f64,
        ScalarValue::UInt64(Some(x)) => *x as f64,
        ScalarValue::Float32(Some(x)) => *x as f64,
        ScalarValue::Float64(Some(x)) => *x,
        ScalarValue::Decimal128(Some(x), _, s) => *x as f64 / 10f64.powi(*s as i32),
        _ => return None,
    })
}

fn list_exprs(args: &[Expr]) -> String {
    args.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
}
