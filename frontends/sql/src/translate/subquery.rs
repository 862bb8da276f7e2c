//! Subquery forms DataFusion's planner leaves: uncorrelated scalar subqueries in a
//! filter (each an aggregate without GROUP BY: one row), joined to every row as a column
//! the predicate reads. (EXISTS and IN are planned as semi and anti joins: join.rs.)

use super::*;
use datafusion::logical_expr::Subquery;

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
    /// `filter` over `input`, whose predicate holds `subqueries`.
    pub(super) fn filter_with_subqueries(
        &mut self,
        input: TableValue,
        filter: &Filter,
        subqueries: Vec<Subquery>,
    ) -> Result<TableValue, SqlError> {
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
}
