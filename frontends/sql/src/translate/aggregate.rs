//! Aggregates: keys and arguments computed by a map first where they are not plain
//! columns, then one `flow.aggregate`.

use super::*;
use datafusion::logical_expr::GroupingSet;
use std::sync::Arc;

/// The aggregate function DataFusion's function `name` is, if Skadi has it.
pub(super) fn aggregate_function(name: &str) -> Option<AggregateFunction> {
    Some(match name {
        "sum" => AggregateFunction::Sum,
        "count" => AggregateFunction::Count,
        "min" => AggregateFunction::Min,
        "max" => AggregateFunction::Max,
        "avg" | "mean" => AggregateFunction::Avg,
        "var" | "var_samp" | "var_sample" => AggregateFunction::VarSamp,
        "var_pop" | "var_population" => AggregateFunction::VarPop,
        "stddev" | "stddev_samp" => AggregateFunction::StddevSamp,
        "stddev_pop" => AggregateFunction::StddevPop,
        "median" => AggregateFunction::Median,
        _ => return None,
    })
}

impl Translator<'_> {
    pub(super) fn aggregate(&mut self, a: &Aggregate) -> Result<TableValue, SqlError> {
        let mut input = self.plan(&a.input)?;
        let loc = self.loc(a.aggr_expr.iter().chain(&a.group_expr).find_map(expr_position));
        if let [Expr::GroupingSet(sets)] = a.group_expr.as_slice() {
            return self.grouping_sets(a, sets);
        }
        if a.group_expr.iter().any(|e| matches!(e, Expr::GroupingSet(_))) {
            return Err(SqlError::unsupported(
                "GROUPING SETS, CUBE and ROLLUP beside other keys",
            ));
        }
        if a.aggr_expr.iter().any(|e| rewritten(e).is_some()) {
            return self.rewritten(a);
        }
        // (function, argument expression) per aggregate; count(*) has no argument.
        let mut calls: Vec<(AggregateFunction, Option<Expr>)> = Vec::new();
        for e in &a.aggr_expr {
            // What is not supported fails at the call (its first column's position).
            let here = expr_position(e).map(|(l, c)| (l as usize, c as usize));
            let Expr::AggregateFunction(DfAggregate { func, params }) = e.clone().unalias_nested().data else {
                return Err(SqlError::unsupported(format!("aggregate expression {e}")).at(here));
            };
            // min and max of the distinct values are min and max.
            if params.distinct && !matches!(func.name(), "count" | "min" | "max") {
                return Err(SqlError::unsupported(format!("{}(DISTINCT ...)", func.name())).at(here));
            }
            if !params.order_by.is_empty() {
                return Err(SqlError::unsupported("ORDER BY inside aggregates").at(here));
            }
            let function = match aggregate_function(func.name()) {
                Some(AggregateFunction::Count) if params.distinct => AggregateFunction::CountDistinct,
                Some(f) => f,
                None => return Err(SqlError::unsupported(format!("aggregate function {}", func.name())).at(here)),
            };
            let arg = match params.args.as_slice() {
                [Expr::Literal(v, _)] if function == AggregateFunction::Count && !v.is_null() => None,
                [arg] => Some(arg.clone()),
                _ => {
                    return Err(
                        SqlError::unsupported(format!("{} with {} arguments", func.name(), params.args.len())).at(here),
                    );
                }
            };
            // `agg(x) FILTER (WHERE c)` is `agg(CASE WHEN c THEN x END)`: every aggregate
            // here skips NULLs (`count(*)` counts the 1s of the rows that pass).
            let arg = match &params.filter {
                None => arg,
                Some(c) => Some(Expr::Case(datafusion::logical_expr::Case::new(
                    None,
                    vec![(
                        c.clone(),
                        Box::new(arg.unwrap_or(Expr::Literal(ScalarValue::Int64(Some(1)), None))),
                    )],
                    None,
                ))),
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
        for (((function, _), (arg, name)), e) in calls
            .iter()
            .zip(args.iter().zip(&out_names[keys.len()..]))
            .zip(&a.aggr_expr)
        {
            let input_col = arg.as_deref().map(type_of);
            let ty = function.output_type(input_col.map(|c| c.ty)).ok_or_else(|| {
                SqlError::unsupported(format!(
                    "{}() over {} values",
                    function.name(),
                    input_col.map_or("no".into(), |c| c.ty.to_string())
                ))
                .at(expr_position(e).map(|(l, c)| (l as usize, c as usize)))
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
}

/// An aggregate call Skadi computes as others (see [`Translator::rewritten`]): `corr`,
/// `covar_samp` (`covar`), `covar_pop`, the `regr_*` functions but `regr_count`,
/// `bool_and` or `bool_or`, by that name.
fn rewritten(e: &Expr) -> Option<(&'static str, DfAggregate)> {
    let Expr::AggregateFunction(call) = e.clone().unalias_nested().data else {
        return None;
    };
    let name = match call.func.name() {
        "corr" => "corr",
        "covar" | "covar_samp" => "covar_samp",
        "covar_pop" => "covar_pop",
        "bool_and" | "every" => "bool_and",
        "bool_or" => "bool_or",
        "regr_slope" => "regr_slope",
        "regr_intercept" => "regr_intercept",
        "regr_r2" => "regr_r2",
        "regr_avgx" => "regr_avgx",
        "regr_avgy" => "regr_avgy",
        "regr_sxx" => "regr_sxx",
        "regr_syy" => "regr_syy",
        "regr_sxy" => "regr_sxy",
        _ => return None,
    };
    Some((name, call))
}

impl Translator<'_> {
    /// An aggregate with calls that are others in disguise, written as a DataFusion
    /// aggregate of those others and a projection over it, translated like any:
    /// - `corr(x, y)`, `covar_samp(x, y)`, `covar_pop(x, y)`: over the rows where both
    ///   are not NULL (x' and y', each NULL where either is), the covariance is half of
    ///   var(x' + y') - var(x') - var(y'), and the correlation is covar_pop /
    ///   (stddev_pop(x') * stddev_pop(y')), NULL where either deviation is 0 (fewer than
    ///   two rows among them) as DataFusion's. The variances are the stable ones Skadi
    ///   has (Welford's, merged by Chan's rule), in f64 as DataFusion's are.
    /// - `regr_*(y, x)`, over the same rows: with vx, vy the population variances and c
    ///   the population covariance, `regr_slope` is c / vx and `regr_intercept`
    ///   avg(y') - slope · avg(x') (NULL where vx is 0: fewer than two rows, or x
    ///   constant), `regr_r2` c² / (vx · vy) (NULL where either is 0), `regr_avgx`/`avgy`
    ///   the averages, `regr_sxx`/`syy`/`sxy` n · vx, n · vy, n · c (n the rows), as
    ///   DataFusion defines them. (`regr_count` is a UInt64 there, a type Skadi lacks.)
    /// - `bool_and(b)`, `bool_or(b)`: min (max) of b as 0 or 1, equal to 1.
    fn rewritten(&mut self, a: &Aggregate) -> Result<TableValue, SqlError> {
        use datafusion::{
            functions_aggregate::{
                average::avg_udaf,
                count::count_udaf,
                min_max::{max_udaf, min_udaf},
                stddev::stddev_pop_udaf,
                variance::{var_pop_udaf, var_samp_udaf},
            },
            logical_expr::{Cast, expr::AggregateFunction as Call, lit, when},
        };
        enum Out {
            Call(usize),
            /// Half of var(s) - var(x) - var(y); over the product of the deviations.
            Covar([usize; 3]),
            Corr([usize; 3], [usize; 2]),
            /// A `regr_*` function: the covariance's parts, then the rows and the averages
            /// of y and x.
            Regr(&'static str, [usize; 3], [usize; 3]),
            /// Whether it is 1.
            Truth(usize),
        }
        let mut calls: Vec<Expr> = Vec::new();
        let mut at = |e: Expr| match calls.iter().position(|c| *c == e) {
            Some(i) => i,
            None => {
                calls.push(e);
                calls.len() - 1
            }
        };
        let mut outs = Vec::new();
        for e in &a.aggr_expr {
            let Some((name, call)) = rewritten(e) else {
                outs.push(Out::Call(at(e.clone().unalias_nested().data)));
                continue;
            };
            let p = &call.params;
            let truth = matches!(name, "bool_and" | "bool_or");
            if (p.distinct && !truth) || !p.order_by.is_empty() {
                return Err(SqlError::unsupported(format!("{name} with DISTINCT or ORDER BY")));
            }
            let of = |f: Arc<datafusion::logical_expr::AggregateUDF>, arg: Expr| {
                Expr::AggregateFunction(Call::new_udf(f, vec![arg], false, p.filter.clone(), vec![], None))
            };
            if let ([b], true) = (p.args.as_slice(), truth) {
                let bit = Expr::Cast(Cast::new(Box::new(b.clone()), DataType::Int64));
                let f = if name == "bool_and" { min_udaf() } else { max_udaf() };
                outs.push(Out::Truth(at(of(f, bit))));
                continue;
            }
            // regr_*(y, x): the dependent variable first; the rest are symmetric.
            let [x, y] = p.args.as_slice() else {
                return Err(SqlError::unsupported(format!("{name} with {} arguments", p.args.len())));
            };
            let regression = name.starts_with("regr_");
            let (x, y) = if regression { (y, x) } else { (x, y) };
            let float = |e: &Expr| Expr::Cast(Cast::new(Box::new(e.clone()), DataType::Float64));
            let (x, y) = (float(x), float(y));
            let xp = when(y.clone().is_not_null(), x.clone()).end()?;
            let yp = when(x.is_not_null(), y).end()?;
            let sum = xp.clone() + yp.clone();
            let mut of = |f, arg| at(of(f, arg));
            let var = if name == "covar_samp" {
                var_samp_udaf()
            } else {
                var_pop_udaf()
            };
            let parts = [of(var.clone(), sum), of(var.clone(), xp.clone()), of(var, yp.clone())];
            outs.push(match name {
                "corr" => Out::Corr(parts, [of(stddev_pop_udaf(), xp), of(stddev_pop_udaf(), yp)]),
                _ if regression => {
                    let n = of(count_udaf(), xp.clone());
                    Out::Regr(name, parts, [n, of(avg_udaf(), yp), of(avg_udaf(), xp)])
                }
                _ => Out::Covar(parts),
            });
        }
        let keys = a.group_expr.len();
        let inner = LogicalPlan::Aggregate(datafusion::logical_expr::Aggregate::try_new(
            a.input.clone(),
            a.group_expr.clone(),
            calls,
        )?);
        let columns = inner.schema().columns();
        let col = |i: usize| Expr::Column(columns[keys + i].clone());
        let mut exprs: Vec<Expr> = columns[..keys].iter().cloned().map(Expr::Column).collect();
        for (i, out) in outs.into_iter().enumerate() {
            let covar = |[s, x, y]: [usize; 3]| (col(s) - col(x) - col(y)) / lit(2.0);
            let e = match out {
                Out::Call(c) => col(c),
                Out::Truth(c) => col(c).eq(lit(1i64)),
                Out::Covar(parts) => covar(parts),
                Out::Corr(parts, [sx, sy]) => when(
                    col(sx).eq(lit(0.0)).or(col(sy).eq(lit(0.0))),
                    lit(ScalarValue::Float64(None)),
                )
                .otherwise(covar(parts) / (col(sx) * col(sy)))?,
                Out::Regr(name, parts @ [_, vx, vy], [n, ay, ax]) => {
                    let (c, vx, vy) = (covar(parts), col(vx), col(vy));
                    let null = || lit(ScalarValue::Float64(None));
                    let n = Expr::Cast(Cast::new(Box::new(col(n)), DataType::Float64));
                    let flat = vx.clone().eq(lit(0.0));
                    match name {
                        "regr_slope" => when(flat, null()).otherwise(c / vx)?,
                        "regr_intercept" => when(flat, null()).otherwise(col(ay) - c / vx * col(ax))?,
                        "regr_r2" => {
                            when(flat.or(vy.clone().eq(lit(0.0))), null()).otherwise(c.clone() * c / (vx * vy))?
                        }
                        "regr_avgx" => col(ax),
                        "regr_avgy" => col(ay),
                        "regr_sxx" => n * vx,
                        "regr_syy" => n * vy,
                        _ => n * c,
                    }
                }
            };
            exprs.push(e.alias(format!("__aggregate{i}")));
        }
        let projected = LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(inner))?);
        let value = self.plan(&projected)?;
        self.rename(value, &a.schema)
    }

    /// `GROUPING SETS`, `ROLLUP` and `CUBE`: one aggregate per set, each padded to every
    /// key (NULL where the set lacks it) and the set's `__grouping_id` (a bit per key, set
    /// where the key is absent, the rightmost key lowest; then the set's ordinal among
    /// equal sets), all of them one `UNION ALL`. Written as DataFusion plans and
    /// translated like any.
    fn grouping_sets(&mut self, a: &Aggregate, sets: &GroupingSet) -> Result<TableValue, SqlError> {
        let keys: Vec<Expr> = sets.distinct_expr().into_iter().cloned().collect();
        let sets: Vec<Vec<Expr>> = match sets {
            GroupingSet::Rollup(k) => (0..=k.len()).map(|i| k[..i].to_vec()).collect(),
            GroupingSet::Cube(k) => (0..1usize << k.len())
                .map(|bits| {
                    (0..k.len())
                        .filter(|i| bits & (1 << i) != 0)
                        .map(|i| k[i].clone())
                        .collect()
                })
                .collect(),
            GroupingSet::GroupingSets(s) => s.clone(),
        };
        let id_type = a
            .schema
            .field_with_unqualified_name(datafusion::logical_expr::Aggregate::INTERNAL_GROUPING_ID)
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::UInt64);
        let mut masks_seen: Vec<u64> = Vec::new();
        let mut branches = Vec::new();
        for set in &sets {
            let n = keys.len();
            let mask = keys
                .iter()
                .enumerate()
                .filter(|(_, k)| !set.contains(k))
                .fold(0u64, |m, (i, _)| m | 1 << (n - 1 - i));
            let ordinal = masks_seen.iter().filter(|&&m| m == mask).count() as u64;
            masks_seen.push(mask);
            let id = ScalarValue::UInt64(Some(mask | ordinal << n)).cast_to(&id_type)?;
            let grouped = LogicalPlan::Aggregate(datafusion::logical_expr::Aggregate::try_new(
                a.input.clone(),
                set.clone(),
                a.aggr_expr.clone(),
            )?);
            let schema = grouped.schema().clone();
            let mut exprs = Vec::new();
            for (k, out) in keys.iter().zip(a.schema.columns()) {
                let e = match set.iter().position(|s| s == k) {
                    Some(i) => Expr::Column(schema.columns()[i].clone()),
                    None => Expr::Literal(ScalarValue::try_from(k.get_type(a.input.schema())?)?, None),
                };
                exprs.push(e.alias(out.name()));
            }
            exprs.push(Expr::Literal(id, None).alias(datafusion::logical_expr::Aggregate::INTERNAL_GROUPING_ID));
            for (c, out) in schema.columns()[set.len()..]
                .iter()
                .zip(&a.schema.columns()[keys.len() + 1..])
            {
                exprs.push(Expr::Column(c.clone()).alias(out.name()));
            }
            branches.push(Arc::new(LogicalPlan::Projection(Projection::try_new(
                exprs,
                Arc::new(grouped),
            )?)));
        }
        let union = LogicalPlan::Union(datafusion::logical_expr::Union::try_new_with_loose_types(branches)?);
        let value = self.plan(&union)?;
        self.rename(value, &a.schema)
    }
}
