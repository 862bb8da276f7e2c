//! Scalar expressions → body functions: DataFusion `Expr`s over the columns of one input
//! become one `func.func` in `arith`/`math` whose parameters are the columns it reads.
//!
//! NULLs: a body is strict — a row whose arguments include a NULL yields NULL (a filter
//! drops it). That is SQL's answer for arithmetic and comparisons; for AND/OR, IS NULL
//! and friends over nullable columns it is not, so those fail as not supported.

use crate::SqlError;
use datafusion::{
    arrow::datatypes::DataType,
    common::{
        Column as DfColumn, DFSchema, ScalarValue,
        tree_node::{TreeNode, TreeNodeRecursion},
    },
    logical_expr::{BinaryExpr, Expr, Operator},
};
use skadi_common::{Column, ColumnType};
use skadi_flowgraph::{BodyBuilder, BodyFunc, FlowGraphBuilder, Scalar, SourceLoc};

/// The columns of the body's input, positionally matching the DataFusion schema.
pub(crate) struct BodyInput<'a> {
    pub df_schema: &'a DFSchema,
    pub columns: &'a [Column],
}

/// A body under construction, with the input columns it reads as parameters.
pub(crate) struct BodyWriter<'a> {
    input: &'a BodyInput<'a>,
    builder: BodyBuilder,
    /// Input column positions, one per body parameter.
    params: Vec<usize>,
}

impl<'a> BodyWriter<'a> {
    /// Starts a body over every input column the expressions read.
    pub fn new(
        g: &mut FlowGraphBuilder,
        prefix: &str,
        input: &'a BodyInput<'a>,
        exprs: &[&Expr],
        loc: &SourceLoc,
    ) -> Result<Self, SqlError> {
        // Parameters in order of first use, so the same query always prints the same body.
        let mut params: Vec<usize> = Vec::new();
        for e in exprs {
            let mut refs = Vec::new();
            e.apply(|node| {
                if let Expr::Column(c) = node {
                    refs.push(c.clone());
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
            for c in &refs {
                let i = column_index(input.df_schema, c)?;
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
                .ok_or_else(|| SqlError::unsupported(format!("{} expressions (column {})", col.ty, col.name)))?;
            types.push(t.to_string());
        }
        Ok(BodyWriter {
            input,
            builder: g.body(prefix, types, loc),
            params,
        })
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
        e.column_refs().into_iter().any(|c| {
            column_index(self.input.df_schema, c)
                .map(|i| self.input.columns[i].nullable)
                .unwrap_or(true)
        })
    }

    pub fn finish(self, results: &[Scalar]) -> BodyFunc {
        self.builder.finish(results)
    }

    /// Writes a predicate; top-level AND-ed conjuncts keep SQL's meaning under strict NULLs.
    pub fn predicate(&mut self, e: &Expr) -> Result<Scalar, SqlError> {
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

    pub fn expr(&mut self, e: &Expr) -> Result<Scalar, SqlError> {
        let b = &mut self.builder;
        Ok(match e {
            Expr::Alias(a) => return self.expr(&a.expr),
            Expr::Column(c) => {
                let i = column_index(self.input.df_schema, c)?;
                let p = self
                    .params
                    .iter()
                    .position(|&x| x == i)
                    .expect("every column reference is a parameter");
                b.param(p)
            }
            Expr::Literal(v, _) => literal(b, v)?,
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                if matches!(op, Operator::And | Operator::Or) && self.nullable_refs(e) {
                    return Err(SqlError::unsupported(format!(
                        "{op} over nullable columns (three-valued logic) in compiled bodies"
                    )));
                }
                let l = self.expr(left)?;
                let r = self.expr(right)?;
                self.binary(*op, l, r, e)?
            }
            Expr::Not(inner) => {
                let v = self.expr(inner)?;
                let t = self.builder.const_int(1, "i1");
                self.builder.binary("arith.xori", &v, &t)
            }
            Expr::Negative(inner) => {
                let v = self.expr(inner)?;
                if is_float(&v.ty) {
                    self.builder.unary("arith.negf", &v)
                } else {
                    let z = self.builder.const_int(0, &v.ty);
                    self.builder.binary("arith.subi", &z, &v)
                }
            }
            Expr::Between(between) => {
                let x = self.expr(&between.expr)?;
                let lo = self.expr(&between.low)?;
                let hi = self.expr(&between.high)?;
                let ge = self.binary(Operator::GtEq, x.clone(), lo, e)?;
                let le = self.binary(Operator::LtEq, x, hi, e)?;
                let both = self.builder.binary("arith.andi", &ge, &le);
                if between.negated {
                    let t = self.builder.const_int(1, "i1");
                    self.builder.binary("arith.xori", &both, &t)
                } else {
                    both
                }
            }
            Expr::Cast(c) => {
                let v = self.expr(&c.expr)?;
                self.convert(v, c.field.data_type())?
            }
            Expr::TryCast(c) => {
                let v = self.expr(&c.expr)?;
                self.convert(v, c.field.data_type())?
            }
            Expr::IsNull(inner) | Expr::IsNotNull(inner) => {
                if self.nullable_refs(inner) {
                    return Err(SqlError::unsupported(
                        "IS [NOT] NULL over nullable columns in compiled bodies",
                    ));
                }
                let is_null = matches!(e, Expr::IsNull(_));
                self.builder.const_int(if is_null { 0 } else { 1 }, "i1")
            }
            Expr::Case(_) => return Err(SqlError::unsupported("CASE expressions")),
            Expr::InList(_) => return Err(SqlError::unsupported("IN lists")),
            Expr::Like(_) | Expr::SimilarTo(_) => return Err(SqlError::unsupported("LIKE")),
            Expr::ScalarFunction(f) => return Err(SqlError::unsupported(format!("function {}", f.name()))),
            Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_) => {
                return Err(SqlError::unsupported("subqueries"));
            }
            other => return Err(SqlError::unsupported(format!("expression {other}"))),
        })
    }

    fn binary(&mut self, op: Operator, l: Scalar, r: Scalar, e: &Expr) -> Result<Scalar, SqlError> {
        let (l, r) = self.unify(l, r)?;
        let b = &mut self.builder;
        let float = is_float(&l.ty);
        let bool_ = l.ty == "i1";
        let cmp = |b: &mut BodyBuilder, fp: &str, ip: &str| {
            if float {
                b.compare("arith.cmpf", fp, &l, &r)
            } else if bool_ {
                // false < true: as an i1, true is -1 signed, so booleans compare unsigned.
                b.compare("arith.cmpi", &ip.replacen('s', "u", 1), &l, &r)
            } else {
                b.compare("arith.cmpi", ip, &l, &r)
            }
        };
        Ok(match op {
            Operator::Eq => cmp(b, "oeq", "eq"),
            Operator::NotEq => cmp(b, "une", "ne"),
            Operator::Lt => cmp(b, "olt", "slt"),
            Operator::LtEq => cmp(b, "ole", "sle"),
            Operator::Gt => cmp(b, "ogt", "sgt"),
            Operator::GtEq => cmp(b, "oge", "sge"),
            Operator::And if bool_ => b.binary("arith.andi", &l, &r),
            Operator::Or if bool_ => b.binary("arith.ori", &l, &r),
            Operator::Plus if !bool_ => b.binary(if float { "arith.addf" } else { "arith.addi" }, &l, &r),
            Operator::Minus if !bool_ => b.binary(if float { "arith.subf" } else { "arith.subi" }, &l, &r),
            Operator::Multiply if !bool_ => b.binary(if float { "arith.mulf" } else { "arith.muli" }, &l, &r),
            Operator::Divide if float => b.binary("arith.divf", &l, &r),
            Operator::Modulo if float => b.binary("arith.remf", &l, &r),
            Operator::Divide | Operator::Modulo => {
                return Err(SqlError::unsupported(format!("integer {op} in compiled bodies ({e})")));
            }
            _ => return Err(SqlError::unsupported(format!("operator {op} in compiled bodies ({e})"))),
        })
    }

    /// Brings two operands to one scalar type (DataFusion's coercion already made their
    /// SQL types agree; decimals of different scales meet here as f64).
    fn unify(&mut self, l: Scalar, r: Scalar) -> Result<(Scalar, Scalar), SqlError> {
        if l.ty == r.ty {
            return Ok((l, r));
        }
        let wider = if rank(&l.ty) >= rank(&r.ty) {
            l.ty.clone()
        } else {
            r.ty.clone()
        };
        let l = self.coerce(l, &wider)?;
        let r = self.coerce(r, &wider)?;
        Ok((l, r))
    }

    fn convert(&mut self, v: Scalar, to: &DataType) -> Result<Scalar, SqlError> {
        let target = ColumnType::from_arrow(to)
            .ok()
            .and_then(|t| t.body_scalar())
            .ok_or_else(|| SqlError::unsupported(format!("CAST to {to} in compiled bodies")))?;
        self.coerce(v, target)
    }

    fn coerce(&mut self, v: Scalar, to: &str) -> Result<Scalar, SqlError> {
        let b = &mut self.builder;
        let from = v.ty.clone();
        Ok(match (is_float(&from), is_float(to)) {
            _ if from == to => v,
            (false, true) if from == "i1" => b.cast("arith.uitofp", &v, to),
            (false, true) => b.cast("arith.sitofp", &v, to),
            (true, false) => b.cast("arith.fptosi", &v, to),
            (true, true) if rank(to) > rank(&from) => b.cast("arith.extf", &v, to),
            (true, true) => b.cast("arith.truncf", &v, to),
            (false, false) if from == "i1" => b.cast("arith.extui", &v, to),
            (false, false) if to == "i1" => {
                let z = b.const_int(0, &from);
                b.compare("arith.cmpi", "ne", &v, &z)
            }
            (false, false) if rank(to) > rank(&from) => b.cast("arith.extsi", &v, to),
            (false, false) => b.cast("arith.trunci", &v, to),
        })
    }
}

fn is_float(t: &str) -> bool {
    t.starts_with('f')
}

fn rank(t: &str) -> u32 {
    match t {
        "i1" => 0,
        "i8" => 1,
        "i16" => 2,
        "i32" => 3,
        "i64" => 4,
        "f32" => 5,
        _ => 6,
    }
}

fn literal(b: &mut BodyBuilder, v: &ScalarValue) -> Result<Scalar, SqlError> {
    if v.is_null() {
        return Err(SqlError::unsupported("NULL literals in compiled bodies"));
    }
    Ok(match v {
        ScalarValue::Boolean(Some(x)) => b.const_int(*x as i64, "i1"),
        ScalarValue::Int8(Some(x)) => b.const_int(*x as i64, "i8"),
        ScalarValue::Int16(Some(x)) => b.const_int(*x as i64, "i16"),
        ScalarValue::Int32(Some(x)) => b.const_int(*x as i64, "i32"),
        ScalarValue::Int64(Some(x)) => b.const_int(*x, "i64"),
        ScalarValue::UInt8(Some(x)) => b.const_int(*x as i64, "i16"),
        ScalarValue::UInt16(Some(x)) => b.const_int(*x as i64, "i32"),
        ScalarValue::UInt32(Some(x)) => b.const_int(*x as i64, "i64"),
        ScalarValue::Float32(Some(x)) => b.const_float(*x as f64, "f32"),
        ScalarValue::Float64(Some(x)) => b.const_float(*x, "f64"),
        ScalarValue::Decimal128(Some(x), _, s) => b.const_float(*x as f64 / 10f64.powi(*s as i32), "f64"),
        ScalarValue::Date32(Some(d)) => b.const_int(*d as i64, "i32"),
        other => {
            return Err(SqlError::unsupported(format!(
                "{} literals in compiled bodies",
                other.data_type()
            )));
        }
    })
}

pub(crate) fn column_index(schema: &DFSchema, c: &DfColumn) -> Result<usize, SqlError> {
    schema.index_of_column(c).map_err(|_| SqlError {
        message: format!("column {} is not in its input", c.flat_name()),
        position: None,
    })
}
