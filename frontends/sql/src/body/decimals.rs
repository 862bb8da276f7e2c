//! Decimals in bodies, exactly: a `decimal(p,s)` value is its scaled integer (1.25 at
//! scale 2 is 125), an i64 where p ≤ 18 and an i128 above. Arithmetic follows the rules
//! of Arrow's kernels, which DataFusion's types already encode: `+`/`-` at the larger
//! scale, `*` at the sum of the scales, `/` at the dividend's scale plus 4 (truncating),
//! `%` at the larger scale; casts round half away from zero. Where Arrow fails (an i128
//! that overflows, a cast whose value has more digits than its type, a division by
//! zero), the body records a fault; only operations whose operands' digit bounds
//! ([`bound`]: from literals, casts and arithmetic, not only types) allow an overflow
//! check for one, and values are computed as narrow as those bounds allow, so TPC-H's
//! sums of products over decimal(15,2) stay cheap.
//!
//! Just over 600 lines, knowingly: the bounds (`bound`, `may_overflow`) and the writer
//! that uses them are one set of rules, read side by side; if it grows, the seam is the
//! bounds analysis (pure functions of an `Expr`) into a file of its own.

use super::BodyWriter;
use crate::SqlError;
use datafusion::{
    arrow::datatypes::DataType,
    common::{DFSchema, ScalarValue},
    logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, Operator, TryCast},
};
use skadi_flowgraph::Scalar;

/// The most digits a decimal (an i128) holds.
const MAX_DIGITS: i32 = 38;

/// A decimal type's precision and scale (DataFusion types SQL decimals as Decimal128).
pub(super) fn decimal(t: &DataType) -> Option<(u8, i8)> {
    match t {
        DataType::Decimal128(p, s) => Some((*p, *s)),
        _ => None,
    }
}

/// The scalar a decimal of precision `p` is in bodies.
pub(super) fn width(p: u8) -> &'static str {
    if p <= 18 { "i64" } else { "i128" }
}

/// The decimal digits an integer type's values may have.
fn digits(t: &DataType) -> Option<i32> {
    Some(match t {
        DataType::Int8 | DataType::UInt8 => 3,
        DataType::Int16 | DataType::UInt16 => 5,
        DataType::Int32 | DataType::UInt32 => 10,
        DataType::Int64 => 19,
        DataType::UInt64 => 20,
        _ => return None,
    })
}

fn bits(t: &str) -> u32 {
    t.strip_prefix('i').and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Digits to scale an operand up by for `+`, `-` and `%` at scale `s`.
fn shift(s: i8, from: i8) -> i32 {
    s as i32 - from as i32
}

/// For `/` at result scale `s`: how far the dividend and the divisor are scaled up.
fn division_shifts((_, s1): (u8, i8), (_, s2): (u8, i8), s: i8) -> (i32, i32) {
    let k = s as i32 - s1 as i32 + s2 as i32;
    if k >= 0 { (k, 0) } else { (0, -k) }
}

/// How a decimal loses digits of scale.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Rounding {
    HalfAwayFromZero,
    TowardZero,
    Down,
    Up,
}

/// The most digits `e`'s values can have as scaled integers (at its type's scale): a
/// decimal's or integer's type bounds them, and so, often more tightly, does what `e`
/// is computed from. DataFusion types the `1` of `1 - discount` as decimal(20,0), and
/// so the difference as decimal(23,2), yet it has at most 16 digits: bodies compute it
/// in an i64 and check for no overflow. Above 38 digits (an i128's), `OVER`: arithmetic
/// on such a value must check. `None` where `e` is neither a decimal nor an integer.
pub(super) fn bound(e: &Expr, schema: &DFSchema) -> Option<i32> {
    let t = e.get_type(schema).ok()?;
    let typed = match decimal(&t) {
        Some((p, _)) => p as i32,
        None => digits(&t)?,
    };
    let scale = |x: &Expr| {
        x.get_type(schema)
            .ok()
            .as_ref()
            .and_then(decimal)
            .map_or(0, |(_, s)| s as i32)
    };
    let s = scale(e);
    let derived = || match e {
        Expr::Alias(a) => bound(&a.expr, schema),
        Expr::Negative(x) => bound(x, schema),
        Expr::Literal(v, _) => match v {
            ScalarValue::Decimal128(Some(x), ..) => Some(digits_of(*x)),
            v => match v.cast_to(&DataType::Int64) {
                Ok(ScalarValue::Int64(Some(n))) => Some(digits_of(n as i128)),
                _ => None,
            },
        },
        Expr::Cast(Cast { expr, .. }) | Expr::TryCast(TryCast { expr, .. }) => {
            // Rounding to fewer digits of scale can carry one more integer digit. Where
            // the value has more digits than the type, the cast fails.
            let (b, from) = (bound(expr, schema)?, scale(expr));
            Some((b + s - from + i32::from(s < from)).min(typed))
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) if decimal(&t).is_some() => {
            let (b1, b2) = (bound(left, schema)?, bound(right, schema)?);
            let (s1, s2) = (scale(left), scale(right));
            Some(match op {
                Operator::Plus | Operator::Minus => (b1 - s1).max(b2 - s2) + s + 1,
                Operator::Multiply => b1 + b2,
                // |l·10^k / r| ≤ |l·10^k|: a scaled integer that is not 0 is at least 1.
                Operator::Divide => b1 + division_shifts((0, s1 as i8), (0, s2 as i8), s as i8).0,
                // |l % r| is below both |l| and |r|.
                Operator::Modulo => (b1 + shift(s as i8, s1 as i8)).min(b2 + shift(s as i8, s2 as i8)),
                _ => return Some(typed.min(OVER)),
            })
        }
        _ => None,
    };
    // Arithmetic's bound is its operands'; a value read or cast holds its type's digits.
    let arithmetic = matches!(e, Expr::BinaryExpr(_) | Expr::Negative(_) | Expr::Alias(_)) && decimal(&t).is_some();
    Some(
        match derived() {
            Some(d) if arithmetic => d,
            Some(d) => d.min(typed),
            None => typed,
        }
        .min(OVER),
    )
}

/// Digits past an i128's 38: a value that may overflow.
const OVER: i32 = MAX_DIGITS + 1;

/// The decimal digits of `x` (at least one).
fn digits_of(x: i128) -> i32 {
    let mut n = 1;
    let mut m = x.unsigned_abs();
    while m >= 10 {
        m /= 10;
        n += 1;
    }
    n
}

/// Whether `e` is decimal arithmetic or a cast to a decimal that can overflow (where
/// Arrow fails), as its operands' bounds tell.
pub(super) fn may_overflow(e: &Expr, schema: &DFSchema) -> bool {
    let ty = |x: &Expr| x.get_type(schema).ok();
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (Some((_, s1)), Some((_, s2))) = (
                ty(left).as_ref().and_then(decimal),
                ty(right).as_ref().and_then(decimal),
            ) else {
                return false;
            };
            let Some((_, s)) = ty(e).as_ref().and_then(decimal) else {
                return false;
            };
            let (Some(b1), Some(b2)) = (bound(left, schema), bound(right, schema)) else {
                return true;
            };
            match op {
                Operator::Plus | Operator::Minus => (b1 - s1 as i32).max(b2 - s2 as i32) + s as i32 + 1 > MAX_DIGITS,
                Operator::Multiply => b1 + b2 > MAX_DIGITS,
                Operator::Divide => {
                    let (ul, ur) = division_shifts((0, s1), (0, s2), s);
                    b1 + ul > MAX_DIGITS || b2 + ur > MAX_DIGITS
                }
                Operator::Modulo => b1 + shift(s, s1) > MAX_DIGITS || b2 + shift(s, s2) > MAX_DIGITS,
                _ => false,
            }
        }
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) => {
            cast_may_overflow(ty(expr).as_ref(), bound(expr, schema), field.data_type())
        }
        _ => false,
    }
}

/// Whether a cast from `from` (values of at most `digits` digits, where known) to `to`
/// can fail for a value's digits.
fn cast_may_overflow(from: Option<&DataType>, digits_bound: Option<i32>, to: &DataType) -> bool {
    let Some(from) = from else { return false };
    match (decimal(from), decimal(to)) {
        (Some((p1, s1)), Some((p2, s2))) => {
            // Rounding to fewer digits of scale can carry one more integer digit.
            let carry = i32::from(s2 < s1);
            digits_bound.unwrap_or(p1 as i32) - s1 as i32 + s2 as i32 + carry > p2 as i32
        }
        (None, Some((p, s))) => match digits_bound.or(digits(from)) {
            Some(d) => d + s as i32 > p as i32,
            None => true,
        },
        (Some((p, s)), None) => digits(to).is_some_and(|d| digits_bound.unwrap_or(p as i32) - s as i32 > d - 1),
        (None, None) => false,
    }
}

/// The integer value of a constant, through casts.
pub(super) fn constant_integer(e: &Expr) -> Option<i64> {
    match e {
        Expr::Cast(c) => constant_integer(&c.expr),
        Expr::Literal(v, _) if !v.is_null() => match v.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(n))) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

impl BodyWriter<'_> {
    fn ten_to(&mut self, n: u32, ty: &str) -> Scalar {
        self.builder.const_wide(10i128.pow(n), ty)
    }

    /// An integer as type `ty`, sign-extended or truncated.
    pub(super) fn int_as(&mut self, v: Scalar, ty: &str) -> Scalar {
        match bits(&v.ty).cmp(&bits(ty)) {
            std::cmp::Ordering::Equal => v,
            std::cmp::Ordering::Less => self.builder.cast("arith.extsi", &v, ty),
            std::cmp::Ordering::Greater => self.builder.cast("arith.trunci", &v, ty),
        }
    }

    /// Records that `e` fails where `failed` is true and the operands are `valid`.
    fn fail_where(&mut self, failed: Scalar, valid: &Option<Scalar>, what: String) -> Result<(), SqlError> {
        let failed = match valid {
            Some(v) => self.builder.binary("arith.andi", &failed, v),
            None => failed,
        };
        self.may_fail(failed, what)
    }

    /// `v * 10^n`; where `check`, failing (as `e`'s overflow) where that overflows.
    fn scale_up(
        &mut self,
        v: Scalar,
        n: i32,
        check: bool,
        valid: &Option<Scalar>,
        e: &Expr,
    ) -> Result<Scalar, SqlError> {
        if n <= 0 {
            return Ok(v);
        }
        let ty = v.ty.clone();
        let m = self.ten_to(n as u32, &ty);
        let out = self.builder.binary("arith.muli", &v, &m);
        if check {
            let max = if ty == "i128" { i128::MAX } else { i64::MAX as i128 };
            let limit = max / 10i128.pow(n as u32);
            let (hi, lo) = (
                self.builder.const_wide(limit, &ty),
                self.builder.const_wide(-limit, &ty),
            );
            let over = self.builder.compare("arith.cmpi", "sgt", &v, &hi);
            let under = self.builder.compare("arith.cmpi", "slt", &v, &lo);
            let failed = self.builder.binary("arith.ori", &over, &under);
            self.fail_where(failed, valid, format!("decimal overflow in {e}"))?;
        }
        Ok(out)
    }

    /// `v / 10^n`, rounded as `mode` says.
    pub(super) fn scale_down(&mut self, v: Scalar, n: i32, mode: Rounding) -> Result<Scalar, SqlError> {
        if n <= 0 {
            return Ok(v);
        }
        if n > MAX_DIGITS {
            return Err(SqlError::unsupported(format!("dropping {n} digits of a decimal")));
        }
        let ty = v.ty.clone();
        // 10^19 and more need an i128.
        let (v, back) = if n > 18 && ty != "i128" {
            (self.int_as(v, "i128"), Some(ty.clone()))
        } else {
            (v, None)
        };
        let t = v.ty.clone();
        let b = &mut self.builder;
        let p = b.const_wide(10i128.pow(n as u32), &t);
        let d = b.binary("arith.divsi", &v, &p);
        let r = b.binary("arith.remsi", &v, &p);
        let zero = b.const_int(0, &t);
        let one = b.const_int(1, &t);
        let plus = b.binary("arith.addi", &d, &one);
        let minus = b.binary("arith.subi", &d, &one);
        let out = match mode {
            Rounding::TowardZero => d,
            Rounding::Down => {
                let below = b.compare("arith.cmpi", "slt", &r, &zero);
                b.select(&below, &minus, &d)
            }
            Rounding::Up => {
                let above = b.compare("arith.cmpi", "sgt", &r, &zero);
                b.select(&above, &plus, &d)
            }
            Rounding::HalfAwayFromZero => {
                let half = b.const_wide(10i128.pow(n as u32) / 2, &t);
                let neg_half = b.const_wide(-(10i128.pow(n as u32) / 2), &t);
                let up = b.compare("arith.cmpi", "sge", &r, &half);
                let down = b.compare("arith.cmpi", "sle", &r, &neg_half);
                let d = b.select(&up, &plus, &d);
                b.select(&down, &minus, &d)
            }
        };
        Ok(match back {
            Some(ty) => self.int_as(out, &ty),
            None => out,
        })
    }

    /// Fails (as `e`'s overflow) where `v` has more than `p` digits.
    fn check_digits(&mut self, v: &Scalar, p: u8, valid: &Option<Scalar>, e: &Expr) -> Result<(), SqlError> {
        if v.ty != "i128" && p > 18 {
            return Ok(()); // an i64 never reaches 10^19
        }
        let ty = v.ty.clone();
        let bound = 10i128.pow(p as u32);
        let b = &mut self.builder;
        let (hi, lo) = (b.const_wide(bound, &ty), b.const_wide(-bound, &ty));
        let over = b.compare("arith.cmpi", "sge", v, &hi);
        let under = b.compare("arith.cmpi", "sle", v, &lo);
        let failed = b.binary("arith.ori", &over, &under);
        self.fail_where(failed, valid, format!("decimal overflow in {e}"))
    }

    /// A cast of `v` from SQL type `from` to `to` where either is a decimal (`None`
    /// where neither is).
    pub(super) fn decimal_cast(
        &mut self,
        v: Scalar,
        from: &DataType,
        to: &DataType,
        valid: &Option<Scalar>,
        e: &Expr,
    ) -> Result<Option<Scalar>, SqlError> {
        // The operand's digits, as its bound says.
        let digits_bound = match e {
            Expr::Cast(Cast { expr, .. }) | Expr::TryCast(TryCast { expr, .. }) => bound(expr, self.input.df_schema),
            _ => None,
        };
        let check = cast_may_overflow(Some(from), digits_bound, to);
        Ok(Some(match (decimal(from), decimal(to)) {
            (None, None) => return Ok(None),
            (Some((p1, s1)), Some((p2, s2))) => {
                let up = shift(s2, s1);
                let b1 = digits_bound.unwrap_or(p1 as i32);
                let work = if b1 + up.max(0) > 18 { "i128" } else { "i64" };
                let v = self.int_as(v, work);
                let v = if up >= 0 {
                    self.scale_up(v, up, b1 + up > MAX_DIGITS, valid, e)?
                } else {
                    self.scale_down(v, -up, Rounding::HalfAwayFromZero)?
                };
                if check {
                    self.check_digits(&v, p2, valid, e)?;
                }
                self.int_as(v, width(p2))
            }
            (Some((_, s)), None) if matches!(to, DataType::Float64 | DataType::Float32) => {
                // As Arrow: the integer as a float, divided by 10^scale.
                let f = self.builder.cast("arith.sitofp", &v, "f64");
                let div = self.builder.const_float(10f64.powi(s as i32), "f64");
                let f = self.builder.binary("arith.divf", &f, &div);
                self.coerce(f, if *to == DataType::Float32 { "f32" } else { "f64" })?
            }
            (Some((_, s)), None) if digits(to).is_some() => {
                // As Arrow: truncated toward zero, failing outside the integer's range.
                let d = self.scale_down(v, s as i32, Rounding::TowardZero)?;
                let target = super::scalars::body_type(to)?;
                if check {
                    let (lo, hi) = match to {
                        DataType::Int8 => (i8::MIN as i128, i8::MAX as i128),
                        DataType::Int16 => (i16::MIN as i128, i16::MAX as i128),
                        DataType::Int32 => (i32::MIN as i128, i32::MAX as i128),
                        _ => (i64::MIN as i128, i64::MAX as i128),
                    };
                    let t = d.ty.clone();
                    let b = &mut self.builder;
                    let (l, h) = (b.const_wide(lo, &t), b.const_wide(hi, &t));
                    let over = b.compare("arith.cmpi", "sgt", &d, &h);
                    let under = b.compare("arith.cmpi", "slt", &d, &l);
                    let failed = b.binary("arith.ori", &over, &under);
                    self.fail_where(failed, valid, format!("overflow in {e}"))?;
                }
                self.int_as(d, target)
            }
            (None, Some((p, s))) if digits(from).is_some() => {
                let d = digits_bound.or(digits(from)).expect("an integer") + s as i32;
                let work = if d > 18 { "i128" } else { "i64" };
                let v = self.int_as(v, work);
                let v = self.scale_up(v, s as i32, false, valid, e)?;
                if check {
                    self.check_digits(&v, p, valid, e)?;
                }
                self.int_as(v, width(p))
            }
            (None, Some((p, s))) if matches!(from, DataType::Float64 | DataType::Float32) => {
                // As Arrow: x * 10^scale rounded half away from zero, failing where that
                // has more than p digits (or is not a number).
                let x = self.coerce(v, "f64")?;
                let b = &mut self.builder;
                let m = b.const_float(10f64.powi(s as i32), "f64");
                let scaled = b.binary("arith.mulf", &x, &m);
                let rounded = b.unary("math.round", &scaled);
                let magnitude = b.unary("math.absf", &rounded);
                let bound = b.const_float(10f64.powi(p as i32), "f64");
                let failed = b.compare("arith.cmpf", "uge", &magnitude, &bound);
                self.fail_where(failed.clone(), valid, format!("decimal overflow in {e}"))?;
                // Where it fails, convert 0 instead: the body itself never traps.
                let zero = self.builder.const_float(0.0, "f64");
                let safe = self.builder.select(&failed, &zero, &rounded);
                self.builder.cast("arith.fptosi", &safe, width(p))
            }
            _ => {
                return Err(SqlError::unsupported(format!(
                    "CAST to {to} from {from} in compiled bodies ({e})"
                )));
            }
        }))
    }

    /// `l op r` of decimals `lt` and `rt` into a decimal `out` (`valid` where both are),
    /// as Arrow computes it; comparisons at the larger scale.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decimal_binary(
        &mut self,
        op: Operator,
        (l, lt): (Scalar, (u8, i8)),
        (r, rt): (Scalar, (u8, i8)),
        out: Option<(u8, i8)>,
        valid: &Option<Scalar>,
        e: &Expr,
    ) -> Result<Scalar, SqlError> {
        let ((p1, s1), (p2, s2)) = (lt, rt);
        let overflows = may_overflow(e, self.input.df_schema);
        // Each operand's digits as its bound says, where `e` is arithmetic on two.
        let schema = self.input.df_schema;
        let (b1, b2) = match e {
            Expr::BinaryExpr(BinaryExpr { left, right, .. }) => (
                bound(left, schema).unwrap_or(p1 as i32),
                bound(right, schema).unwrap_or(p2 as i32),
            ),
            _ => (p1 as i32, p2 as i32),
        };
        // The digits an operand needs scaled up by `up` (an i128 not scaled stays one).
        let at = |b: i32, up: i32| if up > 0 { b + up } else { b.min(MAX_DIGITS) };
        let narrowest = |digits: i32| if digits <= 18 { "i64" } else { "i128" };
        match op {
            Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom => {
                let s = s1.max(s2);
                let (ul, ur) = (shift(s, s1), shift(s, s2));
                if at(b1, ul) > MAX_DIGITS || at(b2, ur) > MAX_DIGITS {
                    return Err(SqlError::unsupported(format!("comparing decimals this wide ({e})")));
                }
                let work = narrowest(at(b1, ul).max(at(b2, ur)));
                let (l, r) = (self.int_as(l, work), self.int_as(r, work));
                let l = self.scale_up(l, ul, false, valid, e)?;
                let r = self.scale_up(r, ur, false, valid, e)?;
                return self.binary(op, l, r, e);
            }
            _ => {}
        }
        let Some((p, s)) = out else {
            return Err(SqlError::unsupported(format!("decimal {op} into a non-decimal ({e})")));
        };
        let overflow = format!("decimal overflow in {e}");
        let v = match op {
            Operator::Plus | Operator::Minus => {
                let work = narrowest((b1 - s1 as i32).max(b2 - s2 as i32) + s as i32 + 1);
                let (l, r) = (self.int_as(l, work), self.int_as(r, work));
                let l = self.scale_up(l, shift(s, s1), overflows, valid, e)?;
                let r = self.scale_up(r, shift(s, s2), overflows, valid, e)?;
                let plus = op == Operator::Plus;
                let b = &mut self.builder;
                let v = b.binary(if plus { "arith.addi" } else { "arith.subi" }, &l, &r);
                if overflows {
                    // Signed overflow: the result's sign differs from both operands' (a
                    // sum), or from the minuend's where the operands' signs differ.
                    let zero = b.const_int(0, work);
                    let a = b.binary("arith.xori", &l, &v);
                    let c = if plus {
                        b.binary("arith.xori", &r, &v)
                    } else {
                        b.binary("arith.xori", &l, &r)
                    };
                    let both = b.binary("arith.andi", &a, &c);
                    let failed = b.compare("arith.cmpi", "slt", &both, &zero);
                    self.fail_where(failed, valid, overflow)?;
                }
                v
            }
            Operator::Multiply => {
                let work = narrowest(b1 + b2);
                let (l, r) = (self.int_as(l, work), self.int_as(r, work));
                if overflows {
                    // Operands that each fit 64 bits cannot overflow an i128; only others
                    // take the full product's high half. One whose bound says it fits
                    // needs no test.
                    let b = &mut self.builder;
                    let fits = |b: &mut skadi_flowgraph::BodyBuilder, v: &Scalar, digits: i32| {
                        if digits <= 18 {
                            return None;
                        }
                        let narrow = b.cast("arith.trunci", v, "i64");
                        let back = b.cast("arith.extsi", &narrow, work);
                        Some(b.compare("arith.cmpi", "eq", &back, v))
                    };
                    let small = match (fits(b, &l, b1), fits(b, &r, b2)) {
                        (Some(fl), Some(fr)) => b.binary("arith.andi", &fl, &fr),
                        (Some(f), None) | (None, Some(f)) => f,
                        (None, None) => b.const_int(1, "i1"),
                    };
                    let (l2, r2) = (l.clone(), r.clone());
                    let failed = b.false_or_else(&small, |b| {
                        let (low, high) = b.mul_extended(&l2, &r2);
                        let top = b.const_int(bits(work) as i64 - 1, work);
                        let sign = b.binary("arith.shrsi", &low, &top);
                        b.compare("arith.cmpi", "ne", &high, &sign)
                    });
                    self.fail_where(failed, valid, overflow)?;
                }
                self.builder.binary("arith.muli", &l, &r)
            }
            Operator::Divide | Operator::Modulo => {
                let (ul, ur) = match op {
                    Operator::Divide => division_shifts(lt, rt, s),
                    _ => (shift(s, s1), shift(s, s2)),
                };
                let work = narrowest(at(b1, ul).max(at(b2, ur)));
                let (l, r) = (self.int_as(l, work), self.int_as(r, work));
                let l = self.scale_up(l, ul, b1 + ul > MAX_DIGITS, valid, e)?;
                let r = self.scale_up(r, ur, b2 + ur > MAX_DIGITS, valid, e)?;
                let b = &mut self.builder;
                let zero = b.const_int(0, work);
                let one = b.const_int(1, work);
                let is_zero = b.compare("arith.cmpi", "eq", &r, &zero);
                // Where it fails, divide by 1 instead: the body itself never traps.
                let safe = b.select(&is_zero, &one, &r);
                let v = b.binary(
                    if op == Operator::Divide {
                        "arith.divsi"
                    } else {
                        "arith.remsi"
                    },
                    &l,
                    &safe,
                );
                if super::scalars::may_fault(e, self.input.df_schema) {
                    self.fail_where(is_zero, valid, format!("division by zero in {e}"))?;
                }
                v
            }
            _ => return Err(SqlError::unsupported(format!("operator {op} over decimals ({e})"))),
        };
        // Computed as narrow as the bounds allow, held as wide as the type says.
        Ok(self.int_as(v, width(p)))
    }

    /// `round`, `trunc`, `floor` or `ceil` of decimal `x` (of type `xt`) to `places`
    /// digits of scale, as a decimal of scale `out_scale`.
    pub(super) fn decimal_round(
        &mut self,
        x: Scalar,
        (p, s): (u8, i8),
        places: i64,
        mode: Rounding,
        (out_p, out_s): (u8, i8),
    ) -> Result<Scalar, SqlError> {
        let drop = s as i64 - places;
        let work = if p > 18 || out_p > 18 { "i128" } else { "i64" };
        let v = self.int_as(x, work);
        let (v, at) = if drop > 0 {
            (self.scale_down(v, drop as i32, mode)?, places)
        } else {
            (v, s as i64)
        };
        let up = out_s as i64 - at;
        let v = match up {
            0 => v,
            up if up > 0 => {
                let m = self.ten_to(up as u32, work);
                self.builder.binary("arith.muli", &v, &m)
            }
            up => self.scale_down(v, -up as i32, Rounding::HalfAwayFromZero)?,
        };
        Ok(self.int_as(v, width(out_p)))
    }
}
