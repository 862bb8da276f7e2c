//! Subquery forms DataFusion's planner leaves: uncorrelated scalar subqueries in a
//! filter or a projection, joined to every row as a column the expressions read (one not
//! known to yield one row through the `single` aggregate, which fails past one row); and
//! EXISTS or IN under OR, which DataFusion plans as mark joins, here a left join against
//! the other side's distinct keys (or, correlated by more than equalities, a left join
//! on the keys and the condition, grouped back by row). (EXISTS and IN elsewhere are
//! planned as semi and anti joins: join.rs.)

use super::*;
use datafusion::{
    functions_aggregate::expr_fn::count,
    logical_expr::{LogicalPlanBuilder, Subquery, lit},
};

/// A mark join's key expressions: the kept side's, then the other side's.
fn mark_keys(j: &Join, flipped: bool) -> (Vec<Expr>, Vec<Expr>) {
    j.on.iter()
        .map(|(l, r)| {
            if flipped {
                (r.clone(), l.clone())
            } else {
                (l.clone(), r.clone())
            }
        })
        .unzip()
}

/// Whether a plan always yields exactly one row (an aggregate without groups, renamed or
/// projected).
pub(super) fn one_row(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Aggregate(a) => a.group_expr.is_empty(),
        LogicalPlan::Projection(p) => one_row(&p.input),
        LogicalPlan::SubqueryAlias(a) => one_row(&a.input),
        _ => false,
    }
}

impl Translator<'_> {
    /// The scalar subqueries in `exprs` over `input` (schema `df`), each (uncorrelated)
    /// joined to every row as a column of its own; returns the widened input,
    /// its schema, and `exprs` reading those columns instead.
    pub(super) fn join_scalar_subqueries(
        &mut self,
        input: TableValue,
        df: &DFSchema,
        exprs: &[Expr],
        loc: &SourceLoc,
    ) -> Result<(TableValue, DFSchema, Vec<Expr>), SqlError> {
        let mut subqueries: Vec<Subquery> = Vec::new();
        for e in exprs {
            e.apply(|e| {
                if let Expr::ScalarSubquery(sq) = e
                    && !subqueries.contains(sq)
                {
                    subqueries.push(sq.clone());
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
        }
        let mut current = input;
        let mut df = df.clone();
        let mut replace: Vec<(Expr, Expr)> = Vec::new();
        for sq in subqueries {
            if !sq.outer_ref_columns.is_empty() {
                return Err(SqlError::unsupported("correlated scalar subqueries"));
            }
            let value = self.plan(&sq.subquery)?;
            let sub = self.schema_of(value);
            let [col] = &sub[..] else {
                return Err(SqlError::unsupported("scalar subqueries of several columns"));
            };
            // A subquery not known to yield one row is read through `single`: its only
            // row's value, NULL without rows, an error at run time past one row.
            let (value, col) = if one_row(&sq.subquery) {
                (value, col.clone())
            } else {
                let ty = AggregateFunction::Single
                    .output_type(Some(col.ty))
                    .ok_or_else(|| SqlError::unsupported(format!("scalar subqueries of {} values", col.ty)))?;
                let single = Column::new(self.fresh_name("single"), ty, true);
                let call = AggregateCall {
                    function: AggregateFunction::Single,
                    input: Some(col.name.clone()),
                };
                (self.g.aggregate(value, &[], &[call], vec![single.clone()], loc), single)
            };
            let name = self.fresh_name("scalar");
            let renamed = Column::new(&name, col.ty, true);
            let value = self
                .g
                .project(value, std::slice::from_ref(&col.name), vec![renamed.clone()], loc);
            let mut out = self.schema_of(current);
            out.push(renamed);
            current = self.g.join(current, value, JoinKind::Inner, &[], None, false, out, loc);
            let dt = sq.subquery.schema().field(0).data_type().clone();
            let field = DFSchema::from_unqualified_fields(vec![Field::new(&name, dt, true)].into(), HashMap::new())?;
            df = df.join(&field)?;
            replace.push((Expr::ScalarSubquery(sq), Expr::Column(DfColumn::from_name(name))));
        }
        let exprs = exprs
            .iter()
            .map(|e| {
                e.clone()
                    .transform(|e| {
                        Ok(match replace.iter().find(|(from, _)| *from == e) {
                            Some((_, to)) => datafusion::common::tree_node::Transformed::yes(to.clone()),
                            None => datafusion::common::tree_node::Transformed::no(e),
                        })
                    })
                    .map(|t| t.data)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((current, df, exprs))
    }

    /// A mark join (`EXISTS`/`IN` under `OR`): every row of one side with a `mark`
    /// column, true where some row of the other side matches on the keys (NULL matching
    /// nothing), false elsewhere — as DataFusion's planner defines it. Planned as that side
    /// left-joined to the other side's distinct keys (a matched key is not NULL), or, with
    /// no keys (an uncorrelated EXISTS), to the other side's row count.
    pub(super) fn mark_join(&mut self, j: &Join) -> Result<TableValue, SqlError> {
        let (keep, probe, flipped) = match j.join_type {
            JoinType::LeftMark => (&j.left, &j.right, false),
            _ => (&j.right, &j.left, true),
        };
        if j.null_equality == NullEquality::NullEqualsNull {
            return Err(SqlError::unsupported("mark joins where NULL equals NULL"));
        }
        if let Some(filter) = &j.filter {
            return self.filtered_mark_join(j, keep, probe, flipped, filter);
        }
        let keep_columns: Vec<Expr> = keep.schema().columns().into_iter().map(Expr::Column).collect();
        let (joined, mark) = if j.on.is_empty() {
            let rows = self.fresh_name("mark_rows");
            let counted = LogicalPlanBuilder::from(probe.as_ref().clone())
                .aggregate(Vec::<Expr>::new(), [count(lit(1)).alias(&rows)])?
                .build()?;
            let joined = LogicalPlanBuilder::from(keep.as_ref().clone())
                .cross_join(counted)?
                .build()?;
            (joined, Expr::Column(DfColumn::from_name(rows)).gt(lit(0i64)))
        } else {
            let names: Vec<String> = j.on.iter().map(|_| self.fresh_name("mark_key")).collect();
            let (keep_keys, probe_keys) = mark_keys(j, flipped);
            let distinct = LogicalPlanBuilder::from(probe.as_ref().clone())
                .aggregate(
                    probe_keys.into_iter().zip(&names).map(|(e, n)| e.alias(n)),
                    Vec::<Expr>::new(),
                )?
                .build()?;
            let probe_columns: Vec<Expr> = names.iter().map(|n| Expr::Column(DfColumn::from_name(n))).collect();
            let joined = LogicalPlanBuilder::from(keep.as_ref().clone())
                .join_with_expr_keys(distinct, JoinType::Left, (keep_keys, probe_columns.clone()), None)?
                .build()?;
            (joined, probe_columns[0].clone().is_not_null())
        };
        let mut exprs = keep_columns;
        exprs.push(mark.alias(self.fresh_name("mark")));
        let plan = LogicalPlanBuilder::from(joined).project(exprs)?.build()?;
        self.plan(&plan)
    }

    /// A mark join whose match also needs `filter` (EXISTS or IN under OR correlated by
    /// more than equalities): each row of the kept side is numbered (`row_number()`, which
    /// gathers that side into one shard), left-joined to the other side on the keys and
    /// the filter, and grouped back by its number: marked where some joined row came
    /// from the other side. A NULL key or filter matches nothing, as in any join.
    fn filtered_mark_join(
        &mut self,
        j: &Join,
        keep: &std::sync::Arc<LogicalPlan>,
        probe: &std::sync::Arc<LogicalPlan>,
        flipped: bool,
        filter: &Expr,
    ) -> Result<TableValue, SqlError> {
        use datafusion::functions_window::expr_fn::row_number;
        let (row, matched, mark) = (
            self.fresh_name("mark_row"),
            self.fresh_name("mark_matched"),
            self.fresh_name("mark"),
        );
        let numbered = LogicalPlanBuilder::from(keep.as_ref().clone())
            .window(vec![row_number().alias(&row)])?
            .build()?;
        let mut probe_columns: Vec<Expr> = probe.schema().columns().into_iter().map(Expr::Column).collect();
        probe_columns.push(lit(true).alias(&matched));
        let probe = LogicalPlanBuilder::from(probe.as_ref().clone())
            .project(probe_columns)?
            .build()?;
        let (keep_keys, probe_keys) = mark_keys(j, flipped);
        let joined = LogicalPlanBuilder::from(numbered)
            .join_with_expr_keys(probe, JoinType::Left, (keep_keys, probe_keys), Some(filter.clone()))?
            .build()?;
        let keep_columns: Vec<Expr> = keep.schema().columns().into_iter().map(Expr::Column).collect();
        let mut keys = keep_columns.clone();
        keys.push(Expr::Column(DfColumn::from_name(&row)));
        let grouped = LogicalPlanBuilder::from(joined)
            .aggregate(
                keys,
                [count(Expr::Column(DfColumn::from_name(&matched))).alias(&matched)],
            )?
            .build()?;
        let mut exprs = keep_columns;
        exprs.push(Expr::Column(DfColumn::from_name(&matched)).gt(lit(0i64)).alias(mark));
        let plan = LogicalPlanBuilder::from(grouped).project(exprs)?.build()?;
        self.plan(&plan)
    }
}
