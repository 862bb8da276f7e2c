//! Row functions from the hook (`skadi_flowgraph::functions`): each call `f('key', x...)`
//! of a registered function is computed into an f64 column appended to the input — the
//! table its key binds is joined to every row (once per function and key), then a map
//! computes the call with the function's own body code — and becomes an atom that
//! bodies read like any column.

use super::*;
use skadi_flowgraph::functions::RowFunction;

impl Translator<'_> {
    /// Computes every call of a registered row function in `exprs`; see the module doc.
    pub(super) fn function_calls(
        &mut self,
        input: &mut TableValue,
        df_schema: &DFSchema,
        exprs: &[&Expr],
        atoms: &mut Vec<Atom>,
        loc: &SourceLoc,
    ) -> Result<(), SqlError> {
        let functions = self.functions;
        let registered = |e: &Expr| -> Option<&dyn RowFunction> {
            let Expr::ScalarFunction(f) = e else { return None };
            functions.iter().copied().find(|h| h.name() == f.name())
        };
        let mut calls: Vec<Expr> = Vec::new();
        for e in exprs {
            e.apply(|node| {
                if registered(node).is_some() && !calls.contains(node) {
                    calls.push(node.clone());
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
        }
        // (function, key) -> position of the bound table's first column in `input`.
        let mut joined: Vec<(String, String, usize)> = Vec::new();
        for call in calls {
            let (Expr::ScalarFunction(f), Some(function)) = (&call, registered(&call)) else {
                unreachable!("collected above")
            };
            let position = expr_position(&call).map(|(l, c)| (l as usize, c as usize));
            let at = |message: String| SqlError { message, position };
            let Some(key) = f.args.first().and_then(string_literal) else {
                return Err(at(format!(
                    "{}() takes a string literal first (what to compute with), then its arguments",
                    function.name()
                )));
            };
            let args = &f.args[1..];
            let binding = function.bind(&key, args.len()).map_err(at)?;
            let start = match joined.iter().find(|(n, k, _)| n == function.name() && *k == key) {
                Some(&(_, _, start)) => start,
                None => {
                    let start = self.schema_of(*input).len();
                    let mut out = self.schema_of(*input);
                    out.extend(self.schema_of(binding.table));
                    *input = self
                        .g
                        .join(*input, binding.table, JoinKind::Inner, &[], None, false, out, loc);
                    joined.push((function.name().to_string(), key.clone(), start));
                    start
                }
            };
            let columns = self.schema_of(*input);
            let mut body_atoms = atoms.clone();
            let bound: Vec<Expr> = (0..binding.columns)
                .map(|i| Expr::Column(DfColumn::from_name(format!("__bound {} {key} {i}", function.name()))))
                .collect();
            for (i, e) in bound.iter().enumerate() {
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
            // Models read features as floats: a decimal (its scaled integer in bodies)
            // is cast, as DataFusion would for a function typed over floats.
            let args: Vec<Expr> = args
                .iter()
                .map(|e| match e.get_type(df_schema) {
                    Ok(DataType::Decimal128(..)) => Expr::Cast(Cast::new(Box::new(e.clone()), DataType::Float64)),
                    _ => e.clone(),
                })
                .collect();
            let reads: Vec<&Expr> = args.iter().chain(&bound).collect();
            let mut w = BodyWriter::new(self.g, function.name(), &body_input, &reads, loc)?;
            let xs = args
                .iter()
                .map(|e| w.expr(e))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.at(position))?;
            let ws = bound.iter().map(|e| w.expr(e)).collect::<Result<Vec<_>, _>>()?;
            let result = function.write(w.builder(), &key, &xs, &ws);
            let nullable = w.any_nullable();
            let body_args = w.args();
            let body = w.finish(&[result])?;
            let mut exprs: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
            exprs.push("$0".into());
            let mut out = columns.clone();
            out.push(Column::new(
                self.fresh_name(function.name()),
                ColumnType::Float64,
                nullable,
            ));
            *input = self.g.map(*input, &body, &body_args, &exprs, out, loc);
            atoms.push(Atom {
                expr: call.clone(),
                column: columns.len(),
                negated: false,
            });
        }
        Ok(())
    }
}
