//! The reduce: a key and named aggregate calls (`count(*)`, `sum(x)`, `collect(w)`, ...)
//! as one `flow.aggregate`; lowering adds the shuffle and, unless the job or a collect
//! says no, the combiner.

use super::*;

impl Compiler<'_, '_> {
    pub(crate) fn reduce(&mut self, input: TableValue, r: &Spanned<spec::Reduce>) -> Result<TableValue, JobError> {
        let reduce = r.get_ref();
        let loc = self.at.loc(r.span());
        let call = Regex::new(r"^\s*([A-Za-z_]+)\s*\(\s*([^()]*?)\s*\)\s*$").expect("a valid regex");
        let mut keys = Vec::new();
        let mut out = Vec::new();
        for k in reduce.key.get_ref() {
            let c = self.column(input, k.get_ref(), k.span())?;
            if keys.contains(&c.name) {
                return Err(self
                    .at
                    .error(Some(k.span()), format!("key '{}' is listed twice", c.name)));
            }
            keys.push(c.name.clone());
            out.push(c);
        }
        if reduce.values.get_ref().is_empty() {
            return Err(self.at.error(
                Some(reduce.values.span()),
                "values lists no outputs (e.g. count = \"count(*)\")",
            ));
        }
        let mut calls = Vec::new();
        for (name, value) in reduce.values.get_ref() {
            let text = value.get_ref();
            let bad = |m: String| self.at.error(Some(value.span()), m);
            if out.iter().any(|c| c.name == *name) {
                return Err(bad(format!("output column '{name}' is also a key or another value")));
            }
            let Some(m) = call.captures(text) else {
                return Err(bad(format!(
                    "'{text}' is not a reduce call such as count(*), sum(column), collect(column)"
                )));
            };
            let function = match &m[1] {
                "count" if &m[2] == "*" => AggregateFunction::CountRows,
                "count" => AggregateFunction::Count,
                "sum" => AggregateFunction::Sum,
                "min" => AggregateFunction::Min,
                "max" => AggregateFunction::Max,
                "avg" => AggregateFunction::Avg,
                "collect" => AggregateFunction::Collect,
                "collect_set" => AggregateFunction::CollectSet,
                other => {
                    return Err(bad(format!(
                        "unknown reduce function '{other}' (sum, count, min, max, avg, collect, collect_set)"
                    )));
                }
            };
            let arg = match function {
                AggregateFunction::CountRows => None,
                _ => {
                    let c = self.column(input, &m[2], value.span())?;
                    Some(c)
                }
            };
            let ty = function.output_type(arg.as_ref().map(|c| c.ty)).ok_or_else(|| {
                bad(format!(
                    "not supported yet: {}() over {} column '{}'",
                    function.name(),
                    arg.as_ref().map(|c| c.ty.to_string()).unwrap_or_default(),
                    arg.as_ref().map(|c| c.name.as_str()).unwrap_or_default()
                ))
            })?;
            let nullable = !matches!(function, AggregateFunction::Count | AggregateFunction::CountRows);
            out.push(Column::new(name, ty, nullable));
            calls.push(AggregateCall {
                function,
                input: arg.map(|c| c.name),
            });
        }
        let combine = reduce.combiner.unwrap_or(true);
        Ok(self.g.aggregate_with(input, &keys, &calls, combine, out, &loc))
    }
}
