//! Scalar expressions → body functions: DataFusion `Expr`s over the columns of one input
//! become one `func.func` in `arith`/`math` whose parameters are the columns it reads.
//!
//! NULLs, two ways. A strict body ([`BodyWriter::new`]): a row whose arguments include a
//! NULL yields NULL (a filter drops it). That is SQL's answer for arithmetic and
//! comparisons, and the fast way; for AND/OR, IS NULL, CASE, COALESCE and NULL literals
//! over nullable columns it is not, so there a strict body refuses them. A three-valued
//! body ([`BodyWriter::three_valued`]) also takes each nullable argument's validity (an
//! i1, true where it is not NULL) and computes every value with its validity, by SQL's
//! rules; its results' validities are results too (a `flow.pipeline` with `validity` and
//! `result_validity`).
//!
//! Faults. A division by a value that may be zero (of integers or decimals; floats give
//! infinity), or an integer one that may overflow, fails in SQL. A three-valued body
//! also returns an i1 true on a row where one did ([`BodyWriter::finish_with_fault`]),
//! and its pipeline fails there. Only where the failing operation is reached: a CASE
//! branch that is not taken, the right side of an AND whose left is FALSE, a COALESCE
//! argument after a valid one, or a NULL operand does not fail (as DataFusion evaluates
//! them). [`needs_three_valued`] sends such expressions to three-valued bodies.
//!
//! Over 600 lines, knowingly: the strict and three-valued ways, and the faults, share
//! one expression walk (`value`: a value, its validity, and where it is reached), which
//! is the file's one idea; splitting the walk by expression kind would scatter that
//! state across files. What does not walk expressions lives beside it:
//! `body/scalars.rs` (literals, operators, divisions that fail, types), `body/dates.rs`
//! (civil dates), `body/decimals.rs` (scaled-integer arithmetic, casts and overflow).

use crate::SqlError;
use datafusion::{
    arrow::datatypes::DataType,
    common::{
        Column as DfColumn, DFSchema, ScalarValue,
        tree_node::{TreeNode, TreeNodeRecursion},
    },
    logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, Operator, TryCast},
};
use skadi_common::{Column, ColumnType, Fault};
use skadi_flowgraph::{BodyBuilder, BodyFunc, FlowGraphBuilder, Scalar, SourceLoc};

mod dates;
mod decimals;
mod scalars;

use dates::month_interval;
use decimals::{Rounding, decimal, may_overflow};
use scalars::{MATH_FUNCTIONS, is_float, literal, may_fault};

/// The columns of the body's input, positionally matching the DataFusion schema (then
/// any columns appended for atoms).
pub(crate) struct BodyInput<'a> {
    pub df_schema: &'a DFSchema,
    pub columns: &'a [Column],
    /// String predicates computed before the body by `flow.match` ops: the expression,
    /// the boolean column holding it, and whether the body negates it.
    pub atoms: &'a [Atom],
}

/// A string predicate (`s = 'x'`, `s IN (...)`, `s LIKE 'p%'`, or their negations) that a
/// `flow.match` op computes into a boolean column, since bodies cannot take strings.
#[derive(Debug, Clone)]
pub(crate) struct Atom {
    pub expr: Expr,
    pub column: usize,
    pub negated: bool,
}

impl BodyInput<'_> {
    fn atom(&self, e: &Expr) -> Option<&Atom> {
        self.atoms.iter().find(|a| &a.expr == e)
    }

    /// Whether `e` reads a column that may be NULL (or one it cannot find).
    fn reads_nullable(&self, e: &Expr) -> bool {
        e.column_refs().into_iter().any(|c| {
            column_index(self.df_schema, c)
                .map(|i| self.columns[i].nullable)
                .unwrap_or(true)
        })
    }
}

/// Whether `e`, over `input`, needs a three-valued body ([`BodyWriter::three_valued`]):
/// it holds a NULL literal, a CASE without ELSE, or an operation that is not strict (AND,
/// OR, IS [NOT] NULL, IS TRUE and friends, IS DISTINCT FROM, CASE, COALESCE, NULLIF, IN
/// with an item that may be NULL) over a nullable column. A filter's top-level AND-ed
/// conjuncts are strict enough: a NULL in either drops the row, as FALSE would.
pub(crate) fn needs_three_valued(input: &BodyInput<'_>, e: &Expr, predicate: bool) -> bool {
    if predicate
        && let Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) = e
    {
        return needs_three_valued(input, left, true) || needs_three_valued(input, right, true);
    }
    let nullable = |x: &Expr| input.reads_nullable(x);
    let mut needs = false;
    let _ = e.apply(|node| {
        let non_strict = match node {
            Expr::Literal(v, _) => v.is_null(),
            Expr::Case(case) if case.else_expr.is_none() => true,
            Expr::BinaryExpr(BinaryExpr {
                op: Operator::And | Operator::Or | Operator::IsDistinctFrom | Operator::IsNotDistinctFrom,
                ..
            })
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotTrue(_)
            | Expr::IsNotFalse(_)
            | Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::Case(_) => nullable(node),
            Expr::ScalarFunction(f)
                if matches!(
                    f.name(),
                    "coalesce" | "nvl" | "ifnull" | "nullif" | "greatest" | "least"
                ) =>
            {
                nullable(node)
            }
            Expr::InList(list) => list.list.iter().any(nullable),
            _ => false,
        } || may_fault(node, input.df_schema)
            // A predicate that can overflow fails where it is reached, which only a
            // three-valued body says (a projection's strict body can fail too).
            || (predicate && may_overflow(node, input.df_schema));
        needs |= non_strict;
        Ok(if needs {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    needs
}

/// A body under construction, with the input columns it reads as parameters.
pub(crate) struct BodyWriter<'a> {
    input: &'a BodyInput<'a>,
    builder: BodyBuilder,
    /// Input column positions, one per body parameter (before the validity parameters).
    params: Vec<usize>,
    /// Three-valued bodies: per parameter, its validity parameter (nullable ones only).
    validity: Option<Vec<Option<usize>>>,
    /// Where the expression being written is evaluated (see [`Reached`]): every entry
    /// holds.
    reach: Vec<Reached>,
    /// Three-valued bodies: true on a row where an operation reached failed, and what
    /// can fail.
    fault: Option<Scalar>,
    fault_what: Vec<String>,
}

/// What is not supported where a body would read column `i` (of type `ty`, which bodies
/// cannot take): the expression that reads it, by its function's name where it has one,
/// at its position.
fn reading(exprs: &[&Expr], schema: &DFSchema, i: usize, ty: &ColumnType, name: &str) -> SqlError {
    let reads = |x: &Expr| matches!(x, Expr::Column(c) if column_index(schema, c).ok() == Some(i));
    let mut found = None;
    for e in exprs {
        let _ = e.apply(|node| {
            let children: Vec<&Expr> = match node {
                Expr::ScalarFunction(f) => f.args.iter().collect(),
                Expr::Cast(Cast { expr, .. }) | Expr::TryCast(TryCast { expr, .. }) => vec![expr],
                Expr::BinaryExpr(BinaryExpr { left, right, .. }) => vec![left, right],
                _ => Vec::new(),
            };
            if found.is_none() && children.into_iter().any(reads) {
                let at = crate::translate::expr_position(node).map(|(l, c)| (l as usize, c as usize));
                found = Some((
                    at,
                    match node {
                        Expr::ScalarFunction(f) => format!("function {} over {ty} values ({node})", f.name()),
                        Expr::Cast(Cast { field, .. }) | Expr::TryCast(TryCast { field, .. }) => {
                            format!("CAST of {ty} values to {}", field.data_type())
                        }
                        _ => format!("{node} over {ty} values"),
                    },
                ));
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
    match found {
        Some((at, what)) => SqlError::unsupported(what).at(at),
        None => SqlError::unsupported(format!("{ty} expressions (column {name})")),
    }
}

/// A condition under which an expression is evaluated: everywhere except where `value`
/// is valid and equals `is` (the right side of an AND is not evaluated where its left is
/// a valid FALSE). Written out only when an operation that can fail is reached.
#[derive(Clone)]
struct Reached {
    value: Valued,
    is: bool,
}

/// A value and where it is valid: `None` when it is never NULL.
pub(crate) type Valued = (Scalar, Option<Scalar>);

impl<'a> BodyWriter<'a> {
    /// Starts a body over every input column the expressions read.
    pub fn new(
        g: &mut FlowGraphBuilder,
        prefix: &str,
        input: &'a BodyInput<'a>,
        exprs: &[&Expr],
        loc: &SourceLoc,
    ) -> Result<Self, SqlError> {
        Self::with_nulls(g, prefix, input, exprs, loc, false)
    }

    /// A three-valued body: it also takes each nullable argument's validity, after the
    /// arguments ([`Self::validity_args`]), and writes values with their validity.
    pub fn three_valued(
        g: &mut FlowGraphBuilder,
        prefix: &str,
        input: &'a BodyInput<'a>,
        exprs: &[&Expr],
        loc: &SourceLoc,
    ) -> Result<Self, SqlError> {
        Self::with_nulls(g, prefix, input, exprs, loc, true)
    }

    fn with_nulls(
        g: &mut FlowGraphBuilder,
        prefix: &str,
        input: &'a BodyInput<'a>,
        exprs: &[&Expr],
        loc: &SourceLoc,
        three_valued: bool,
    ) -> Result<Self, SqlError> {
        // Parameters in order of first use, so the same query always prints the same body.
        let mut params: Vec<usize> = Vec::new();
        for e in exprs {
            let mut refs = Vec::new();
            e.apply(|node| {
                if let Some(a) = input.atom(node) {
                    refs.push(Ok(a.column));
                    return Ok(TreeNodeRecursion::Jump);
                }
                if let Expr::Column(c) = node {
                    refs.push(Err(c.clone()));
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
            for r in refs {
                let i = match r {
                    Ok(i) => i,
                    Err(c) => column_index(input.df_schema, &c)?,
                };
                if !params.contains(&i) {
                    params.push(i);
                }
            }
        }
        let mut types = Vec::new();
        for &i in &params {
            let col = &input.columns[i];
            let t = col
                .ty
                .body_scalar()
                .ok_or_else(|| reading(exprs, input.df_schema, i, &col.ty, &col.name))?;
            types.push(t.to_string());
        }
        let validity = three_valued.then(|| {
            let mut next = params.len();
            params
                .iter()
                .map(|&i| {
                    input.columns[i].nullable.then(|| {
                        types.push("i1".to_string());
                        next += 1;
                        next - 1
                    })
                })
                .collect()
        });
        Ok(BodyWriter {
            input,
            builder: g.body(prefix, types, loc),
            params,
            validity,
            reach: Vec::new(),
            fault: None,
            fault_what: Vec::new(),
        })
    }

    /// The positions (in [`Self::args`]) of the arguments whose validity a three-valued
    /// body takes after them, in order.
    pub fn validity_args(&self) -> Vec<usize> {
        let Some(validity) = &self.validity else {
            return Vec::new();
        };
        (0..self.params.len()).filter(|&p| validity[p].is_some()).collect()
    }

    /// The input column names passed as the body's arguments.
    pub fn args(&self) -> Vec<String> {
        self.params
            .iter()
            .map(|&i| self.input.columns[i].name.clone())
            .collect()
    }

    /// True if any argument may be NULL.
    pub fn any_nullable(&self) -> bool {
        self.params.iter().any(|&i| self.input.columns[i].nullable)
    }

    fn nullable_refs(&self, e: &Expr) -> bool {
        self.input.reads_nullable(e)
    }

    /// The body being written, for ops this writer has no expression for.
    pub fn builder(&mut self) -> &mut BodyBuilder {
        &mut self.builder
    }

    /// The body, returning `results`, for an op that cannot fail: a body in which an
    /// operation can fail is refused by name (see [`Self::finish_with_fault`]).
    pub fn finish(self, results: &[Scalar]) -> Result<BodyFunc, SqlError> {
        if self.fault.is_some() {
            return Err(SqlError::unsupported(format!(
                "arithmetic that can fail ({}) in this position",
                self.fault_what.join("; ")
            )));
        }
        Ok(self.builder.finish(results))
    }

    /// The body, returning `results` and, if an operation in it can fail, after them an
    /// i1 that is true where one did; with the fault that names it.
    pub fn finish_with_fault(self, results: &[Scalar]) -> (BodyFunc, Option<Fault>) {
        match self.fault {
            None => (self.builder.finish(results), None),
            Some(failed) => {
                let mut all = results.to_vec();
                all.push(failed);
                let fault = Fault {
                    result: results.len(),
                    what: match self.fault_what.as_slice() {
                        [one] => one.clone(),
                        several => format!("one of: {}", several.join("; ")),
                    },
                    kept: false,
                };
                (self.builder.finish(&all), Some(fault))
            }
        }
    }

    /// Records that the operation `what` fails where `failed` (an i1) is true, on the
    /// rows where it is reached. (In a strict body, a row with a NULL argument is NULL
    /// in every result, its fault too: it fails nowhere.)
    fn may_fail(&mut self, failed: Scalar, what: String) -> Result<(), SqlError> {
        let mut failed = failed;
        for Reached { value: (v, valid), is } in self.reach.clone() {
            // Not reached where the value is a valid `is`.
            let equal = if is { v } else { self.not(v) };
            let decided = match valid {
                Some(valid) => self.builder.binary("arith.andi", &equal, &valid),
                None => equal,
            };
            let reached = self.not(decided);
            failed = self.builder.binary("arith.andi", &failed, &reached);
        }
        self.fault = Some(match self.fault.take() {
            None => failed,
            Some(before) => self.builder.binary("arith.ori", &before, &failed),
        });
        if !self.fault_what.contains(&what) {
            self.fault_what.push(what);
        }
        Ok(())
    }

    /// `value` evaluated only where `reached` holds (see [`Reached`]).
    fn value_where(&mut self, e: &Expr, reached: Vec<Reached>) -> Result<Valued, SqlError> {
        let depth = self.reach.len();
        self.reach.extend(reached);
        let v = self.value(e);
        self.reach.truncate(depth);
        v
    }

    /// Writes a predicate; top-level AND-ed conjuncts keep SQL's meaning under strict NULLs.
    /// A three-valued body's predicate is whether it is TRUE (never NULL).
    pub fn predicate(&mut self, e: &Expr) -> Result<Scalar, SqlError> {
        if self.validity.is_some() {
            let v = self.value(e)?;
            if v.0.ty != "i1" {
                return Err(SqlError::unsupported(format!("a non-boolean predicate ({e})")));
            }
            return Ok(self.truth(v));
        }
        if let Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) = e
        {
            let l = self.predicate(left)?;
            let r = self.predicate(right)?;
            return Ok(self.builder.binary("arith.andi", &l, &r));
        }
        let v = self.expr(e)?;
        if v.ty != "i1" {
            return Err(SqlError::unsupported(format!("a non-boolean predicate ({e})")));
        }
        Ok(v)
    }

    /// `e`'s precision and scale, if it is a decimal.
    fn decimal_type(&self, e: &Expr) -> Option<(u8, i8)> {
        e.get_type(self.input.df_schema).ok().as_ref().and_then(decimal)
    }

    /// A column's parameter and, in a three-valued body, its validity.
    fn param_of(&self, column: usize) -> Valued {
        let p = self
            .params
            .iter()
            .position(|&x| x == column)
            .expect("every column reference is a parameter");
        let valid = self.validity.as_ref().and_then(|v| v[p]).map(|q| self.builder.param(q));
        (self.builder.param(p), valid)
    }

    fn not(&mut self, v: Scalar) -> Scalar {
        let t = self.builder.const_int(1, "i1");
        self.builder.binary("arith.xori", &v, &t)
    }

    /// Where both are valid (`None`: everywhere).
    fn both(&mut self, a: Option<Scalar>, b: Option<Scalar>) -> Option<Scalar> {
        match (a, b) {
            (Some(a), Some(b)) => Some(self.builder.binary("arith.andi", &a, &b)),
            (a, b) => a.or(b),
        }
    }

    /// Where either is valid.
    fn either(&mut self, a: Option<Scalar>, b: Option<Scalar>) -> Option<Scalar> {
        match (a, b) {
            (Some(a), Some(b)) => Some(self.builder.binary("arith.ori", &a, &b)),
            _ => None,
        }
    }

    /// Whether a boolean value is TRUE (valid and true).
    fn truth(&mut self, (v, valid): Valued) -> Scalar {
        match valid {
            Some(valid) => self.builder.binary("arith.andi", &v, &valid),
            None => v,
        }
    }

    fn valid_or_true(&mut self, valid: Option<Scalar>) -> Scalar {
        valid.unwrap_or_else(|| self.builder.const_int(1, "i1"))
    }

    /// `e`'s value; a strict body's. In a three-valued body, use [`Self::value`].
    pub fn expr(&mut self, e: &Expr) -> Result<Scalar, SqlError> {
        Ok(self.value(e)?.0)
    }

    /// `e`'s value and validity. In a strict body the validity is always `None` (NULL
    /// arguments make the row's results NULL), and what that cannot express is refused.
    pub fn value(&mut self, e: &Expr) -> Result<Valued, SqlError> {
        let three_valued = self.validity.is_some();
        if let Some(a) = self.input.atom(e) {
            let (column, negated) = (a.column, a.negated);
            let (v, valid) = self.param_of(column);
            return Ok((if negated { self.not(v) } else { v }, valid));
        }
        let strict_only = |w: &Self, what: &str| -> Result<(), SqlError> {
            if !three_valued && w.nullable_refs(e) {
                return Err(SqlError::unsupported(format!(
                    "{what} over nullable columns in compiled bodies"
                )));
            }
            Ok(())
        };
        Ok(match e {
            Expr::Alias(a) => return self.value(&a.expr),
            Expr::Column(c) => {
                let i = column_index(self.input.df_schema, c)?;
                self.param_of(i)
            }
            Expr::Literal(v, _) if v.is_null() && three_valued => {
                let zero = self.zero(&v.data_type())?;
                let f = self.builder.const_int(0, "i1");
                (zero, Some(f))
            }
            Expr::Literal(v, _) => (literal(&mut self.builder, v)?, None),
            // A date plus or minus months (and days): months first, the day clamped to
            // the month's last (as Arrow, and so DataFusion, add them).
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: op @ (Operator::Plus | Operator::Minus),
                right,
            }) if let Some((months, days)) = month_interval(right)
                && left.get_type(self.input.df_schema).ok() == Some(DataType::Date32) =>
            {
                let (date, valid) = self.value(left)?;
                let sign = if *op == Operator::Minus { -1 } else { 1 };
                let v = self.add_months(&date, sign * months);
                let v = match days {
                    0 => v,
                    days => {
                        let k = self.builder.const_int(sign * days, "i32");
                        self.builder.binary("arith.addi", &v, &k)
                    }
                };
                (v, valid)
            }
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                let (l, vl) = self.value(left)?;
                // AND's right side is not reached where its left is FALSE, OR's where TRUE.
                let (r, vr) = match op {
                    Operator::And | Operator::Or => {
                        let reached = Reached {
                            value: (l.clone(), vl.clone()),
                            is: *op == Operator::Or,
                        };
                        self.value_where(right, vec![reached])?
                    }
                    _ => self.value(right)?,
                };
                match op {
                    Operator::And | Operator::Or => {
                        if !three_valued && self.nullable_refs(e) {
                            return Err(SqlError::unsupported(format!(
                                "{op} over nullable columns (three-valued logic) in compiled bodies"
                            )));
                        }
                        // AND is valid where both are, or either is a valid FALSE; OR
                        // where both are, or either is a valid TRUE.
                        let and = *op == Operator::And;
                        let value = self.binary(*op, l.clone(), r.clone(), e)?;
                        let decides = |w: &mut Self, v: &Scalar, valid: &Option<Scalar>| -> Scalar {
                            let v = if and { w.not(v.clone()) } else { v.clone() };
                            match valid {
                                Some(valid) => w.builder.binary("arith.andi", &v, valid),
                                None => v,
                            }
                        };
                        let valid = match (&vl, &vr) {
                            (None, None) => None,
                            _ => {
                                let (dl, dr) = (decides(self, &l, &vl), decides(self, &r, &vr));
                                let both = self.both(vl.clone(), vr.clone()).expect("one is Some");
                                let any = self.builder.binary("arith.ori", &both, &dl);
                                Some(self.builder.binary("arith.ori", &any, &dr))
                            }
                        };
                        (value, valid)
                    }
                    Operator::IsDistinctFrom | Operator::IsNotDistinctFrom => {
                        // Equal when both are valid and equal, or both NULL; never NULL.
                        let eq = self.binary(Operator::Eq, l, r, e)?;
                        let same = match (vl, vr) {
                            (None, None) => eq,
                            (vl, vr) => {
                                let (vl, vr) = (self.valid_or_true(vl), self.valid_or_true(vr));
                                let both = self.builder.binary("arith.andi", &vl, &vr);
                                let equal = self.builder.binary("arith.andi", &both, &eq);
                                let either = self.builder.binary("arith.ori", &vl, &vr);
                                let neither = self.not(either);
                                self.builder.binary("arith.ori", &equal, &neither)
                            }
                        };
                        let v = if *op == Operator::IsDistinctFrom {
                            self.not(same)
                        } else {
                            same
                        };
                        (v, None)
                    }
                    _ if let (Some(lt), Some(rt)) = (self.decimal_type(left), self.decimal_type(right)) => {
                        let valid = self.both(vl, vr);
                        let out = self.decimal_type(e);
                        let v = self.decimal_binary(*op, (l, lt), (r, rt), out, &valid, e)?;
                        (v, valid)
                    }
                    _ if self.decimal_type(left).is_some() != self.decimal_type(right).is_some()
                        && !matches!(op, Operator::And | Operator::Or) =>
                    {
                        return Err(SqlError::unsupported(format!(
                            "{op} between a decimal and a non-decimal in compiled bodies ({e})"
                        )));
                    }
                    Operator::Divide | Operator::Modulo if may_fault(e, self.input.df_schema) => {
                        let valid = self.both(vl, vr);
                        let v = self.checked_division(*op, l, r, valid.clone(), e)?;
                        (v, valid)
                    }
                    _ => {
                        let v = self.binary(*op, l, r, e)?;
                        let valid = self.both(vl, vr);
                        (v, valid)
                    }
                }
            }
            Expr::Not(inner) => {
                let (v, valid) = self.value(inner)?;
                (self.not(v), valid)
            }
            Expr::Negative(inner) => {
                let (v, valid) = self.value(inner)?;
                let v = if is_float(&v.ty) {
                    self.builder.unary("arith.negf", &v)
                } else {
                    let z = self.builder.const_int(0, &v.ty);
                    self.builder.binary("arith.subi", &z, &v)
                };
                (v, valid)
            }
            Expr::Between(between) => {
                // x BETWEEN lo AND hi is x >= lo AND x <= hi, NULLs and all.
                let ge = Expr::BinaryExpr(BinaryExpr::new(
                    between.expr.clone(),
                    Operator::GtEq,
                    between.low.clone(),
                ));
                let le = Expr::BinaryExpr(BinaryExpr::new(
                    between.expr.clone(),
                    Operator::LtEq,
                    between.high.clone(),
                ));
                let both = Expr::BinaryExpr(BinaryExpr::new(Box::new(ge), Operator::And, Box::new(le)));
                let (v, valid) = self.value(&both)?;
                (if between.negated { self.not(v) } else { v }, valid)
            }
            Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => {
                if matches!(e, Expr::TryCast(_)) && may_overflow(e, self.input.df_schema) {
                    // TRY_CAST is NULL where CAST fails, which a fault cannot say.
                    return Err(SqlError::unsupported(format!("TRY_CAST that can overflow ({e})")));
                }
                let (v, valid) = self.value(expr)?;
                let from = expr.get_type(self.input.df_schema)?;
                let v = match self.decimal_cast(v.clone(), &from, field.data_type(), &valid, e)? {
                    Some(v) => v,
                    None => self.convert(v, field.data_type())?,
                };
                (v, valid)
            }
            Expr::IsNull(inner) | Expr::IsNotNull(inner) => {
                strict_only(self, "IS [NOT] NULL")?;
                let (_, valid) = self.value(inner)?;
                let is_null = matches!(e, Expr::IsNull(_));
                let v = match valid {
                    Some(valid) if is_null => self.not(valid),
                    Some(valid) => valid,
                    None => self.builder.const_int(if is_null { 0 } else { 1 }, "i1"),
                };
                (v, None)
            }
            Expr::IsTrue(inner)
            | Expr::IsFalse(inner)
            | Expr::IsNotTrue(inner)
            | Expr::IsNotFalse(inner)
            | Expr::IsUnknown(inner)
            | Expr::IsNotUnknown(inner) => {
                strict_only(self, "IS [NOT] TRUE, FALSE or UNKNOWN")?;
                let (v, valid) = self.value(inner)?;
                let valid = self.valid_or_true(valid);
                let truth = match e {
                    Expr::IsTrue(_) | Expr::IsNotTrue(_) => self.builder.binary("arith.andi", &v, &valid),
                    Expr::IsFalse(_) | Expr::IsNotFalse(_) => {
                        let f = self.not(v);
                        self.builder.binary("arith.andi", &f, &valid)
                    }
                    _ => self.not(valid),
                };
                let negated = matches!(e, Expr::IsNotTrue(_) | Expr::IsNotFalse(_) | Expr::IsNotUnknown(_));
                (if negated { self.not(truth) } else { truth }, None)
            }
            Expr::Case(case) => {
                strict_only(self, "CASE")?;
                // Each condition is reached where no earlier one is TRUE; a branch's value
                // where its condition is TRUE (not NULL); ELSE where none is.
                let mut not_taken: Vec<Reached> = Vec::new();
                let mut branches = Vec::new();
                for (when, then) in &case.when_then_expr {
                    let cond = match &case.expr {
                        Some(base) => Expr::BinaryExpr(BinaryExpr::new(
                            base.clone(),
                            Operator::Eq,
                            Box::new(when.as_ref().clone()),
                        )),
                        None => when.as_ref().clone(),
                    };
                    let cond = self.value_where(&cond, not_taken.clone())?;
                    let cond = self.truth(cond);
                    let mut taken = not_taken.clone();
                    taken.push(Reached {
                        value: (cond.clone(), None),
                        is: false,
                    });
                    let then = self.value_where(then, taken)?;
                    not_taken.push(Reached {
                        value: (cond.clone(), None),
                        is: true,
                    });
                    branches.push((cond, then));
                }
                let mut result = match &case.else_expr {
                    Some(otherwise) => self.value_where(otherwise, not_taken)?,
                    None if three_valued => {
                        let ty = e.get_type(self.input.df_schema)?;
                        let zero = self.zero(&ty)?;
                        let f = self.builder.const_int(0, "i1");
                        (zero, Some(f))
                    }
                    None => return Err(SqlError::unsupported("CASE without ELSE (a NULL result)")),
                };
                for (cond, (t, vt)) in branches.into_iter().rev() {
                    let (t, r) = self.unify(t, result.0)?;
                    let value = self.builder.select(&cond, &t, &r);
                    let valid = match (vt, result.1) {
                        (None, None) => None,
                        (vt, vr) => {
                            let (vt, vr) = (self.valid_or_true(vt), self.valid_or_true(vr));
                            Some(self.builder.select(&cond, &vt, &vr))
                        }
                    };
                    result = (value, valid);
                }
                result
            }
            Expr::InList(list) => {
                // TRUE where an item equals x (both valid); else NULL where x or an item
                // is NULL; else FALSE.
                let (x, vx) = self.value(&list.expr)?;
                let mut any: Option<Scalar> = None;
                let mut all_valid: Option<Scalar> = None;
                for item in &list.list {
                    let (v, vv) = self.value(item)?;
                    let eq = self.binary(Operator::Eq, x.clone(), v, e)?;
                    let eq = match &vv {
                        Some(valid) => self.builder.binary("arith.andi", &eq, valid),
                        None => eq,
                    };
                    all_valid = self.both(all_valid, vv);
                    any = Some(match any {
                        None => eq,
                        Some(a) => self.builder.binary("arith.ori", &a, &eq),
                    });
                }
                let any = match any {
                    Some(a) => a,
                    None => self.builder.const_int(0, "i1"),
                };
                let valid = match all_valid {
                    // Some item is NULL: only a match decides.
                    Some(items) => {
                        let decided = self.builder.binary("arith.ori", &any, &items);
                        self.both(vx, Some(decided))
                    }
                    None => vx,
                };
                (if list.negated { self.not(any) } else { any }, valid)
            }
            Expr::Like(_) | Expr::SimilarTo(_) => {
                return Err(SqlError::unsupported(format!(
                    "{e} (LIKE is supported on a column against a constant pattern)"
                )));
            }
            Expr::ScalarFunction(f) if matches!(f.name(), "coalesce" | "nvl" | "ifnull") => {
                strict_only(self, f.name())?;
                // The first valid argument; NULL where none is. An argument is reached
                // where every one before it is NULL: none after one that never is.
                let mut values = Vec::new();
                let mut before: Vec<Reached> = Vec::new();
                for a in &f.args {
                    let (v, valid) = self.value_where(a, before.clone())?;
                    values.push((v, valid.clone()));
                    let Some(valid) = valid else { break };
                    before.push(Reached {
                        value: (valid, None),
                        is: true,
                    });
                }
                let mut result = values.pop().ok_or_else(|| SqlError::unsupported(format!("{e}")))?;
                for (v, valid) in values.into_iter().rev() {
                    let Some(valid) = valid else {
                        result = (v, None);
                        continue;
                    };
                    let (v, r) = self.unify(v, result.0)?;
                    let value = self.builder.select(&valid, &v, &r);
                    let valid = self.either(Some(valid), result.1);
                    result = (value, valid);
                }
                result
            }
            Expr::ScalarFunction(f) if matches!(f.name(), "greatest" | "least") && !f.args.is_empty() => {
                strict_only(self, f.name())?;
                // The largest (smallest) argument that is not NULL; NULL where all are.
                let op = if f.name() == "greatest" {
                    Operator::Gt
                } else {
                    Operator::Lt
                };
                let mut best: Option<Valued> = None;
                for a in &f.args {
                    let (v, valid) = self.value(a)?;
                    best = Some(match best {
                        None => (v, valid),
                        Some((b, b_valid)) => {
                            let (v, b) = self.unify(v, b)?;
                            let better = self.binary(op, v.clone(), b.clone(), e)?;
                            // v where it is valid and better, or where none so far is valid.
                            let take = match &b_valid {
                                Some(bv) => {
                                    let none_yet = self.not(bv.clone());
                                    self.builder.binary("arith.ori", &better, &none_yet)
                                }
                                None => better,
                            };
                            let take = match &valid {
                                Some(vv) => self.builder.binary("arith.andi", &take, vv),
                                None => take,
                            };
                            let value = self.builder.select(&take, &v, &b);
                            (value, self.either(valid, b_valid))
                        }
                    });
                }
                let (v, valid) = best.expect("one argument or more");
                let v = match e.to_field(self.input.df_schema).map(|(_, f)| f.data_type().clone()) {
                    Ok(dt) => self.convert(v, &dt)?,
                    Err(_) => v,
                };
                (v, valid)
            }
            // signum(x): 1, -1 or 0 (NaN stays NaN), as DataFusion's.
            Expr::ScalarFunction(f) if f.name() == "signum" && f.args.len() == 1 => {
                let (x, valid) = self.value(&f.args[0])?;
                if !is_float(&x.ty) {
                    return Err(SqlError::unsupported(format!("signum of a {} value ({e})", x.ty)));
                }
                let b = &mut self.builder;
                let (zero, one, minus_one) = (
                    b.const_float(0.0, &x.ty),
                    b.const_float(1.0, &x.ty),
                    b.const_float(-1.0, &x.ty),
                );
                let is_zero = b.compare("arith.cmpf", "oeq", &x, &zero);
                let positive = b.compare("arith.cmpf", "ogt", &x, &zero);
                let negative = b.compare("arith.cmpf", "olt", &x, &zero);
                let v = b.select(&negative, &minus_one, &x);
                let v = b.select(&positive, &one, &v);
                (b.select(&is_zero, &zero, &v), valid)
            }
            Expr::ScalarFunction(f) if f.name() == "nullif" && f.args.len() == 2 => {
                strict_only(self, "NULLIF")?;
                // a, but NULL where a = b (both valid).
                let (a, va) = self.value(&f.args[0])?;
                let (b, vb) = self.value(&f.args[1])?;
                let eq = self.binary(Operator::Eq, a.clone(), b, e)?;
                let eq = match self.both(va.clone(), vb) {
                    Some(valid) => self.builder.binary("arith.andi", &eq, &valid),
                    None => eq,
                };
                let differ = self.not(eq);
                let valid = self.both(va, Some(differ));
                (a, valid)
            }
            Expr::ScalarFunction(f) if f.name() == "date_part" || f.name() == "extract" => {
                let part = match f.args.first() {
                    Some(Expr::Literal(ScalarValue::Utf8(Some(p)) | ScalarValue::Utf8View(Some(p)), _)) => {
                        p.to_lowercase()
                    }
                    _ => return Err(SqlError::unsupported(format!("{e}"))),
                };
                let (date, valid) = self.value(f.args.get(1).ok_or_else(|| SqlError::unsupported(format!("{e}")))?)?;
                if date.ty != "i32" {
                    return Err(SqlError::unsupported(format!("date_part of a non-date value ({e})")));
                }
                let v = self.date_part(&part, &date)?;
                let out = e.to_field(self.input.df_schema).map(|(_, f)| f.data_type().clone());
                let v = match out {
                    Ok(dt) => self.convert(v, &dt)?,
                    Err(_) => v,
                };
                (v, valid)
            }
            Expr::ScalarFunction(f) if MATH_FUNCTIONS.iter().any(|(n, _)| *n == f.name()) => {
                let mut args = Vec::new();
                let mut valid = None;
                for a in &f.args {
                    let (v, va) = self.value(a)?;
                    valid = self.both(valid, va);
                    args.push(v);
                }
                let op = MATH_FUNCTIONS.iter().find(|(n, _)| *n == f.name()).expect("listed").1;
                let v = match (f.name(), args.as_slice()) {
                    // Of a decimal: to n digits of scale (a constant), as DataFusion types it.
                    ("round" | "trunc" | "floor" | "ceil", [x, ..]) if let Some(xt) = self.decimal_type(&f.args[0]) => {
                        let places = match f.args.get(1) {
                            None => 0,
                            Some(n) => decimals::constant_integer(n).ok_or_else(|| {
                                SqlError::unsupported(format!("{}() of a decimal to a computed scale ({e})", f.name()))
                            })?,
                        };
                        let out = self
                            .decimal_type(e)
                            .ok_or_else(|| SqlError::unsupported(format!("{}() of a decimal ({e})", f.name())))?;
                        let mode = match f.name() {
                            "round" => Rounding::HalfAwayFromZero,
                            "trunc" => Rounding::TowardZero,
                            "floor" => Rounding::Down,
                            _ => Rounding::Up,
                        };
                        self.decimal_round(x.clone(), xt, places, mode, out)?
                    }
                    ("abs", [x]) if !is_float(&x.ty) && x.ty != "i1" => self.builder.unary("math.absi", x),
                    ("power", [x, y]) if is_float(&x.ty) => {
                        let (x, y) = self.unify(x.clone(), y.clone())?;
                        self.builder.binary(op, &x, &y)
                    }
                    (_, [x]) if is_float(&x.ty) => self.builder.unary(op, x),
                    // round(x, n), trunc(x, n): at n decimal places, as x * 10^n rounded
                    // (truncated), then divided by 10^n (DataFusion's way for floats).
                    ("round" | "trunc", [x, n]) if is_float(&x.ty) && !is_float(&n.ty) => {
                        let x = self.coerce(x.clone(), "f64")?;
                        let n = self.coerce(n.clone(), "f64")?;
                        let ten = self.builder.const_float(10.0, "f64");
                        let scale = self.builder.binary("math.powf", &ten, &n);
                        let scaled = self.builder.binary("arith.mulf", &x, &scale);
                        let cut = self.builder.unary(op, &scaled);
                        self.builder.binary("arith.divf", &cut, &scale)
                    }
                    _ => {
                        let types: Vec<&str> = args.iter().map(|a| a.ty.as_str()).collect();
                        return Err(SqlError::unsupported(format!(
                            "{}({}) in compiled bodies ({e})",
                            f.name(),
                            types.join(", ")
                        )));
                    }
                };
                let v = match e.to_field(self.input.df_schema).map(|(_, f)| f.data_type().clone()) {
                    Ok(dt) => self.convert(v, &dt)?,
                    Err(_) => v,
                };
                (v, valid)
            }
            Expr::ScalarFunction(f) => return Err(SqlError::unsupported(format!("function {}", f.name()))),
            Expr::ScalarSubquery(_) => return Err(SqlError::unsupported("scalar subqueries here")),
            Expr::Exists(_) | Expr::InSubquery(_) => {
                return Err(SqlError::unsupported("EXISTS and IN subqueries outside WHERE"));
            }
            other => return Err(SqlError::unsupported(format!("expression {other}"))),
        })
    }
}

pub(crate) fn column_index(schema: &DFSchema, c: &DfColumn) -> Result<usize, SqlError> {
    schema.index_of_column(c).map_err(|_| SqlError {
        message: format!("column {} is not in its input", c.flat_name()),
        position: None,
    })
}
