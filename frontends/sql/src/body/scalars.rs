//! Scalars in bodies that do not walk expressions: literals, zeros, the binary operators,
//! and bringing two values to one type.

use super::{BodyWriter, dates::NANOS_PER_DAY};
use crate::SqlError;
use datafusion::{
    arrow::datatypes::DataType,
    common::{DFSchema, ScalarValue},
    logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator},
};
use skadi_common::ColumnType;
use skadi_flowgraph::{BodyBuilder, Scalar};

/// SQL math functions over floats and the `math` op each becomes (`abs` of an integer is
/// `math.absi`); DataFusion's coercion has already made their arguments floats.
pub(super) const MATH_FUNCTIONS: [(&str, &str); 11] = [
    ("abs", "math.absf"),
    ("sqrt", "math.sqrt"),
    ("exp", "math.exp"),
    ("ln", "math.log"),
    ("log2", "math.log2"),
    ("log10", "math.log10"),
    ("floor", "math.floor"),
    ("ceil", "math.ceil"),
    ("round", "math.round"),
    ("trunc", "math.trunc"),
    ("power", "math.powf"),
];

pub(super) fn is_float(t: &str) -> bool {
    t.starts_with('f')
}

fn rank(t: &str) -> u32 {
    match t {
        "i1" => 0,
        "i8" => 1,
        "i16" => 2,
        "i32" => 3,
        "i64" => 4,
        "i128" => 5,
        "f32" => 6,
        _ => 7,
    }
}

/// The body scalar of SQL type `t`.
pub(super) fn body_type(t: &DataType) -> Result<&'static str, SqlError> {
    ColumnType::from_arrow(t)
        .ok()
        .and_then(|t| t.body_scalar())
        .ok_or_else(|| SqlError::unsupported(format!("{t} values in compiled bodies")))
}

pub(super) fn literal(b: &mut BodyBuilder, v: &ScalarValue) -> Result<Scalar, SqlError> {
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
        // Ranks are u64 in DataFusion and i64 here.
        ScalarValue::UInt64(Some(x)) if *x <= i64::MAX as u64 => b.const_int(*x as i64, "i64"),
        ScalarValue::Float32(Some(x)) => b.const_float(*x as f64, "f32"),
        ScalarValue::Float64(Some(x)) => b.const_float(*x, "f64"),
        // A decimal is its scaled integer.
        ScalarValue::Decimal128(Some(x), p, _) => b.const_wide(*x, super::decimals::width(*p)),
        ScalarValue::Date32(Some(d)) => b.const_int(*d as i64, "i32"),
        // Whole days, added to or subtracted from dates (i32 days here).
        // (`date + 1` is an interval of a day's nanoseconds.)
        ScalarValue::IntervalMonthDayNano(Some(i)) if i.months == 0 && i.nanoseconds % NANOS_PER_DAY == 0 => {
            b.const_int(i.days as i64 + i.nanoseconds / NANOS_PER_DAY, "i32")
        }
        ScalarValue::IntervalDayTime(Some(i)) if i.milliseconds == 0 => b.const_int(i.days as i64, "i32"),
        ScalarValue::IntervalMonthDayNano(Some(_)) | ScalarValue::IntervalYearMonth(Some(_)) => {
            return Err(SqlError::unsupported(
                "intervals with parts of a day in compiled bodies, or months beside anything but a date (dates plus whole days and months work)",
            ));
        }
        other => {
            return Err(SqlError::unsupported(format!(
                "{} literals in compiled bodies",
                other.data_type()
            )));
        }
    })
}

/// The constant a binary expression's right side is, through casts, if it is one.
fn constant_right(e: &Expr) -> Option<&ScalarValue> {
    let Expr::BinaryExpr(b) = e else { return None };
    let mut right = b.right.as_ref();
    while let Expr::Cast(c) = right {
        right = c.expr.as_ref();
    }
    match right {
        Expr::Literal(v, _) if !v.is_null() => Some(v),
        _ => None,
    }
}

/// Whether `e` is a binary expression whose right side is an integer constant other than
/// 0 and -1: integer division by it can neither divide by zero nor overflow.
fn safe_divisor(e: &Expr) -> bool {
    constant_right(e).is_some_and(|v| {
        v.data_type().is_integer()
            && matches!(v.cast_to(&DataType::Int64), Ok(ScalarValue::Int64(Some(n))) if n != 0 && n != -1)
    })
}

/// Whether `e` is a division or remainder that can fail: of integers or decimals (floats
/// give infinity or NaN) by a value that may be zero, or of integers by one that may be
/// -1 (the least value divided by -1 overflows).
pub(super) fn may_fault(e: &Expr, schema: &DFSchema) -> bool {
    if !matches!(
        e,
        Expr::BinaryExpr(BinaryExpr {
            op: Operator::Divide | Operator::Modulo,
            ..
        })
    ) {
        return false;
    }
    match e.get_type(schema) {
        Ok(t) if t.is_integer() => !safe_divisor(e),
        Ok(DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..)) => {
            !constant_right(e)
                .is_some_and(|v| matches!(v.cast_to(&DataType::Float64), Ok(ScalarValue::Float64(Some(x))) if x != 0.0))
        }
        _ => false,
    }
}

impl BodyWriter<'_> {
    /// A placeholder value of SQL type `ty` (what a NULL holds).
    pub(super) fn zero(&mut self, ty: &DataType) -> Result<Scalar, SqlError> {
        let scalar = match ty {
            DataType::Null => "i1",
            ty => ColumnType::from_arrow(ty)
                .ok()
                .and_then(|t| t.body_scalar())
                .ok_or_else(|| SqlError::unsupported(format!("NULL {ty} values in compiled bodies")))?,
        };
        Ok(if is_float(scalar) {
            self.builder.const_float(0.0, scalar)
        } else {
            self.builder.const_int(0, scalar)
        })
    }

    pub(super) fn binary(&mut self, op: Operator, l: Scalar, r: Scalar, e: &Expr) -> Result<Scalar, SqlError> {
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
            // Bit operations on integers (`grouping()` reads a grouping set's bits).
            Operator::BitwiseAnd if !float && !bool_ => b.binary("arith.andi", &l, &r),
            Operator::BitwiseOr if !float && !bool_ => b.binary("arith.ori", &l, &r),
            Operator::BitwiseXor if !float && !bool_ => b.binary("arith.xori", &l, &r),
            Operator::BitwiseShiftRight if !float && !bool_ => b.binary("arith.shrsi", &l, &r),
            Operator::BitwiseShiftLeft if !float && !bool_ => b.binary("arith.shli", &l, &r),
            // Integer division truncates toward zero, and its remainder takes the
            // dividend's sign (as DataFusion's). Bodies cannot raise an error, so only a
            // divisor known not to fail (a constant other than 0 and -1) compiles.
            Operator::Divide | Operator::Modulo if !bool_ && safe_divisor(e) => b.binary(
                if op == Operator::Divide {
                    "arith.divsi"
                } else {
                    "arith.remsi"
                },
                &l,
                &r,
            ),
            Operator::Divide | Operator::Modulo => {
                return Err(SqlError::unsupported(format!(
                    "integer {op} by a value that may be 0 or -1 in compiled bodies ({e})"
                )));
            }
            _ => return Err(SqlError::unsupported(format!("operator {op} in compiled bodies ({e})"))),
        })
    }

    /// `l / r` or `l % r` of integers or decimals (f64 here), failing where `r` is zero
    /// (integers: also where `l` is the type's least value and `r` is -1, which
    /// overflows) and both are `valid`. DataFusion fails on them too.
    pub(super) fn checked_division(
        &mut self,
        op: Operator,
        l: Scalar,
        r: Scalar,
        valid: Option<Scalar>,
        e: &Expr,
    ) -> Result<Scalar, SqlError> {
        let (l, r) = self.unify(l, r)?;
        let ty = l.ty.clone();
        let float = is_float(&ty);
        let b = &mut self.builder;
        let (failed, what) = if float {
            let zero = b.const_float(0.0, &ty);
            (
                b.compare("arith.cmpf", "oeq", &r, &zero),
                format!("division by zero in {e}"),
            )
        } else {
            let bits: u32 = match ty.strip_prefix('i').and_then(|n| n.parse().ok()) {
                Some(n) if n > 1 => n,
                _ => {
                    return Err(SqlError::unsupported(format!(
                        "operator {op} over {ty} in compiled bodies ({e})"
                    )));
                }
            };
            let zero = b.const_int(0, &ty);
            let is_zero = b.compare("arith.cmpi", "eq", &r, &zero);
            let least = b.const_int(i64::MIN >> (64 - bits), &ty);
            let minus_one = b.const_int(-1, &ty);
            let at_least = b.compare("arith.cmpi", "eq", &l, &least);
            let by_minus_one = b.compare("arith.cmpi", "eq", &r, &minus_one);
            let overflows = b.binary("arith.andi", &at_least, &by_minus_one);
            (
                b.binary("arith.ori", &is_zero, &overflows),
                format!("division by zero or overflow in {e}"),
            )
        };
        let failed_here = match &valid {
            Some(v) => self.builder.binary("arith.andi", &failed, v),
            None => failed.clone(),
        };
        self.may_fail(failed_here, what)?;
        let b = &mut self.builder;
        Ok(match (float, op) {
            (true, Operator::Divide) => b.binary("arith.divf", &l, &r),
            (true, _) => b.binary("arith.remf", &l, &r),
            (false, _) => {
                // Where it fails, divide by 1 instead: the body itself never traps.
                let one = b.const_int(1, &ty);
                let r = b.select(&failed, &one, &r);
                let op = if op == Operator::Divide {
                    "arith.divsi"
                } else {
                    "arith.remsi"
                };
                b.binary(op, &l, &r)
            }
        })
    }

    /// Brings two operands to one scalar type (DataFusion's coercion already made their
    /// SQL types agree; decimals of different scales meet here as f64).
    pub(super) fn unify(&mut self, l: Scalar, r: Scalar) -> Result<(Scalar, Scalar), SqlError> {
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

    /// `v` as a value of SQL type `to`, where its own SQL type is not a decimal (a
    /// decimal stays the decimal it is: [`Self::decimal_cast`] converts decimals).
    pub(super) fn convert(&mut self, v: Scalar, to: &DataType) -> Result<Scalar, SqlError> {
        if *to == DataType::UInt64 {
            // A rank (u64 in DataFusion) is an i64 column here.
            return self.coerce(v, "i64");
        }
        let target = body_type(to).map_err(|_| SqlError::unsupported(format!("CAST to {to} in compiled bodies")))?;
        if matches!(to, DataType::Decimal128(..)) && v.ty != target {
            return Err(SqlError::unsupported(format!(
                "a {} value as {to} in compiled bodies",
                v.ty
            )));
        }
        self.coerce(v, target)
    }

    pub(super) fn coerce(&mut self, v: Scalar, to: &str) -> Result<Scalar, SqlError> {
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
