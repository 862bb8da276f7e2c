//! Sort, top-k (a sort with a limit) and limit.

use super::*;

impl Translator<'_> {
    pub(super) fn sort(&mut self, s: &Sort) -> Result<TableValue, SqlError> {
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
        // `ORDER BY ... LIMIT n` (the optimizer puts the limit into the sort) keeps only
        // the first n rows: a top-k, which every shard can cut to n before gathering.
        Ok(match s.fetch {
            Some(n) => self.g.top_k(input, &keys, n, &loc),
            None => self.g.sort(input, &keys, &loc),
        })
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
