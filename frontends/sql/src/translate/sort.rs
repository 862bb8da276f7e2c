//! Sort, top-k (a sort with a limit) and limit.

use super::*;

impl Translator<'_> {
    pub(super) fn sort(&mut self, s: &Sort) -> Result<TableValue, SqlError> {
        let mut input = self.plan(&s.input)?;
        let in_df = s.input.schema();
        let loc = self.loc(s.expr.iter().find_map(|e| expr_position(&e.expr)));
        let width = self.schema_of(input).len();
        // Keys that are not plain columns are computed first, after the input's columns,
        // and dropped after the sort.
        let mut exprs: Vec<Expr> = in_df.columns().into_iter().map(Expr::Column).collect();
        let mut names: Vec<String> = self.schema_of(input).iter().map(|c| c.name.clone()).collect();
        let mut keys = Vec::new();
        for e in &s.expr {
            let column = match e.expr.clone().unalias_nested().data {
                Expr::Column(c) => names[column_index(in_df, &c)?].clone(),
                computed => {
                    let name = self.fresh_name("order");
                    exprs.push(computed);
                    names.push(name.clone());
                    name
                }
            };
            keys.push(SortKey {
                column,
                descending: !e.asc,
                nulls_first: e.nulls_first,
            });
        }
        if names.len() > width {
            input = self.compute(input, in_df, &exprs, &names, &loc)?;
        }
        // `ORDER BY ... LIMIT n` (the optimizer puts the limit into the sort) keeps only
        // the first n rows: a top-k, which every shard can cut to n before gathering.
        let sorted = match s.fetch {
            Some(n) => self.g.top_k(input, &keys, n, &loc),
            None => self.g.sort(input, &keys, &loc),
        };
        Ok(self.keep_first(sorted, width, &loc))
    }

    pub(super) fn limit(&mut self, l: &Limit) -> Result<TableValue, SqlError> {
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
