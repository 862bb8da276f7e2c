//! Filters: a predicate compiled into one body, after its string predicates are computed
//! into columns; scalar subqueries in it are joined in first (subquery.rs).

use super::*;

impl Translator<'_> {
    pub(super) fn filter_expr(
        &mut self,
        input: TableValue,
        df_schema: &DFSchema,
        predicate: &Expr,
    ) -> Result<TableValue, SqlError> {
        let predicate = &body_form(predicate, df_schema);
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
        if needs_three_valued(&body_input, predicate, true) {
            // Rows where the predicate is TRUE, by SQL's three-valued logic.
            let mut w = BodyWriter::three_valued(self.g, "filter", &body_input, &[predicate], &loc).map_err(at)?;
            let result = w.predicate(predicate).map_err(at)?;
            let (args, validity) = (w.args(), w.validity_args());
            let body = w.finish(&[result]);
            let exprs: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
            let filtered = self.g.three_valued(
                input,
                &body,
                &args,
                &validity,
                &exprs,
                Some(0),
                &[],
                columns.clone(),
                &loc,
            );
            return Ok(self.keep_first(filtered, width, &loc));
        }
        let mut w = BodyWriter::new(self.g, "filter", &body_input, &[predicate], &loc).map_err(at)?;
        let result = w.predicate(predicate).map_err(at)?;
        let args = w.args();
        let body = w.finish(&[result]);
        let filtered = self.g.filter(input, &body, &args, &loc);
        Ok(self.keep_first(filtered, width, &loc))
    }

    pub(super) fn filter(&mut self, filter: &Filter) -> Result<TableValue, SqlError> {
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
        self.filter_with_subqueries(input, filter, subqueries)
    }
}
