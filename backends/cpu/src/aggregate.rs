//! Hash aggregation: partial (raw rows → per-group states), final (states → values) and
//! single-step. Groups are found by their keys column by column ([`GroupKeys`]); sums and
//! averages accumulate in f64 (floats), i64 (integers) or i128 (decimals, exactly, at
//! their scale), minima and maxima of strings as text.
//!
//! Over 600 lines, knowingly: the file's one idea is the per-group accumulator, and most
//! of its length is one fold loop per lane (f64, i64, i128), function and null layout,
//! kept separate so each loop stays tight; the driver (`HashAggregate`) is short.

use crate::keys::GroupKeys;
use crate::stage::Stream;
use arrow::{
    array::{Array, ArrayRef, AsArray, Decimal128Array, Float64Array, Int64Array, StringArray},
    buffer::NullBuffer,
    compute::cast,
    datatypes::{
        DataType, Date32Type, Decimal64Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
        Int64Type, SchemaRef,
    },
    record_batch::RecordBatch,
};
use skadi_common::{Aggregate, AggregateFunction as F, AggregateMode};
use skadi_runtime::RuntimeError;
use std::sync::Arc;

/// Accumulation lane: what a value is summed or compared as.
#[derive(Clone, Copy, PartialEq)]
enum Lane {
    F64,
    I64,
    /// Decimals: their scaled integers, as i128.
    Decimal,
    /// Strings (min and max only), compared as Rust strings: byte order, as Arrow's.
    Text,
}

fn lane_of(dt: &DataType) -> Lane {
    match dt {
        DataType::Float32 | DataType::Float64 => Lane::F64,
        DataType::Decimal128(..) | DataType::Decimal64(..) => Lane::Decimal,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Lane::Text,
        _ => Lane::I64,
    }
}

/// Per-group state of one aggregate call.
struct Accumulator {
    function: F,
    lane: Lane,
    f: Vec<f64>,
    i: Vec<i64>,
    /// The decimal lane's values, and the scale of the decimals it holds.
    d: Vec<i128>,
    scale: i8,
    /// Values seen (rows for count(*)); zero means the result is NULL (or 0 for counts).
    count: Vec<i64>,
    /// Variances: the sum of squared deviations from the running mean (held in `f`).
    m2: Vec<f64>,
    /// collect and collect_set: every value of each group, as text.
    values: Vec<Vec<String>>,
    /// The text lane: each group's minimum or maximum so far.
    text: Vec<Option<String>>,
    /// `single`: rows seen (NULLs too), at most one.
    rows: Vec<i64>,
    /// `median`: every value of each group, as integers (the decimal and integer lanes;
    /// a decimal's scaled integer) or floats.
    integers: Vec<Vec<i128>>,
    floats: Vec<Vec<f64>>,
}

impl Accumulator {
    fn new(function: F, lane: Lane, scale: i8) -> Self {
        Accumulator {
            function,
            lane,
            f: Vec::new(),
            i: Vec::new(),
            d: Vec::new(),
            scale,
            count: Vec::new(),
            m2: Vec::new(),
            values: Vec::new(),
            text: Vec::new(),
            rows: Vec::new(),
            integers: Vec::new(),
            floats: Vec::new(),
        }
    }

    fn collects(&self) -> bool {
        matches!(self.function, F::Collect | F::CollectSet | F::CountDistinct)
    }

    fn grow(&mut self, groups: usize) {
        // Only the lane's values grow: group states are most of a large aggregate's
        // memory traffic (an average of integers, and every variance, use the f64 lane).
        match self.lane {
            Lane::Decimal => self.d.resize(groups, 0),
            Lane::I64 => self.i.resize(groups, 0),
            Lane::F64 | Lane::Text => {}
        }
        if self.lane == Lane::F64
            || self.function == F::Avg && self.lane != Lane::Decimal
            || self.function.is_variance()
        {
            self.f.resize(groups, 0.0);
        }
        self.count.resize(groups, 0);
        if self.function.is_variance() {
            self.m2.resize(groups, 0.0);
        }
        if self.collects() {
            self.values.resize_with(groups, Vec::new);
        }
        if self.lane == Lane::Text {
            self.text.resize(groups, None);
        }
        if self.function == F::Single {
            self.rows.resize(groups, 0);
        }
        if self.function == F::Median {
            match self.lane {
                Lane::F64 => self.floats.resize_with(groups, Vec::new),
                _ => self.integers.resize_with(groups, Vec::new),
            }
        }
    }

    /// `median`'s input: each valid value kept in its group, exactly.
    fn keep_values(&mut self, groups: &[usize], array: &ArrayRef) -> Result<(), String> {
        let valid = |r: usize| array.is_valid(r);
        if self.lane == Lane::F64 {
            let values = cast(array, &DataType::Float64).map_err(|e| e.to_string())?;
            for (r, (&v, &g)) in values
                .as_primitive::<Float64Type>()
                .values()
                .iter()
                .zip(groups)
                .enumerate()
            {
                if valid(r) {
                    self.floats[g].push(v);
                    self.count[g] += 1;
                }
            }
            return Ok(());
        }
        let values: Vec<i128> = match array.data_type() {
            DataType::Decimal128(..) => array.as_primitive::<Decimal128Type>().values().to_vec(),
            DataType::Decimal64(..) => array
                .as_primitive::<Decimal64Type>()
                .values()
                .iter()
                .map(|&v| v as i128)
                .collect(),
            _ => {
                let ints = cast(array, &DataType::Int64).map_err(|e| e.to_string())?;
                ints.as_primitive::<Int64Type>()
                    .values()
                    .iter()
                    .map(|&v| v as i128)
                    .collect()
            }
        };
        for (r, (&v, &g)) in values.iter().zip(groups).enumerate() {
            if valid(r) {
                self.integers[g].push(v);
                self.count[g] += 1;
            }
        }
        Ok(())
    }

    /// Each group's median ([`middle`]) as an array of the lane's type.
    fn medians(&self) -> ArrayRef {
        if self.lane == Lane::F64 {
            return Arc::new(Float64Array::from_iter(
                self.floats
                    .iter()
                    .map(|v| middle(&mut v.clone(), f64::total_cmp, |a, b| (a + b) / 2.0)),
            ));
        }
        // Two middle integers' mean, truncated toward zero, without overflowing.
        let mean = |a: i128, b: i128| a.checked_add(b).map_or(a / 2 + b / 2 + (a % 2 + b % 2) / 2, |s| s / 2);
        let values = self.integers.iter().map(|v| middle(&mut v.clone(), i128::cmp, mean));
        match self.lane {
            // At the values' scale; emit casts to the result's precision.
            Lane::Decimal => {
                Arc::new(Decimal128Array::from_iter(values).with_data_type(DataType::Decimal128(38, self.scale)))
            }
            _ => Arc::new(Int64Array::from_iter(values.map(|v| v.map(|v| v as i64)))),
        }
    }

    /// Raw input rows. Values are read in place (decimals as their scaled integers, but
    /// for variances as `value as f64 / 10^scale`, as bodies scale them), with one loop
    /// per function and null layout.
    fn update(&mut self, groups: &[usize], input: Option<&ArrayRef>) -> Result<(), String> {
        let Some(array) = input else {
            for &g in groups {
                self.count[g] += 1;
            }
            return Ok(());
        };
        if self.function == F::Median {
            return self.keep_values(groups, array);
        }
        if self.function == F::Single {
            // A group holds at most one row; its value is then kept as a maximum is.
            for &g in groups {
                self.rows[g] += 1;
                if self.rows[g] > 1 {
                    return Err("a scalar subquery returned more than one row".into());
                }
            }
        }
        let nulls = array.logical_nulls();
        if self.collects() {
            let text = cast(array, &DataType::Utf8).map_err(|e| e.to_string())?;
            for (v, &g) in text.as_string::<i32>().iter().zip(groups) {
                if let Some(v) = v {
                    self.values[g].push(v.to_string());
                    self.count[g] += 1;
                }
            }
            return Ok(());
        }
        if self.lane == Lane::Text && matches!(self.function, F::Min | F::Max | F::Single) {
            let text = cast(array, &DataType::Utf8).map_err(|e| e.to_string())?;
            let max = self.function != F::Min;
            for (v, &g) in text.as_string::<i32>().iter().zip(groups) {
                let Some(v) = v else { continue };
                let better = match &self.text[g] {
                    None => true,
                    Some(held) => (v > held.as_str()) == max && v != held,
                };
                if better {
                    self.text[g] = Some(v.to_string());
                }
            }
            return Ok(());
        }
        if matches!(self.function, F::Count) {
            for (r, &g) in groups.iter().enumerate() {
                if nulls.as_ref().is_none_or(|n| n.is_valid(r)) {
                    self.count[g] += 1;
                }
            }
            return Ok(());
        }
        let n = nulls.as_ref();
        let as_f = self.lane == Lane::F64 || self.function == F::Avg || self.function.is_variance();
        match array.data_type() {
            DataType::Float64 => self.fold_f(groups, array.as_primitive::<Float64Type>().values(), |v| v, n),
            DataType::Float32 => self.fold_f(groups, array.as_primitive::<Float32Type>().values(), |v| v as f64, n),
            DataType::Decimal128(_, scale) if self.function.is_variance() => {
                let div = 10f64.powi(*scale as i32);
                self.fold_f(
                    groups,
                    array.as_primitive::<Decimal128Type>().values(),
                    |v| v as f64 / div,
                    n,
                )
            }
            DataType::Decimal64(_, scale) if self.function.is_variance() => {
                let div = 10f64.powi(*scale as i32);
                self.fold_f(
                    groups,
                    array.as_primitive::<Decimal64Type>().values(),
                    |v| v as f64 / div,
                    n,
                )
            }
            DataType::Decimal128(..) => {
                self.fold_d(groups, array.as_primitive::<Decimal128Type>().values(), |v| v, n)?
            }
            DataType::Decimal64(..) => {
                self.fold_d(groups, array.as_primitive::<Decimal64Type>().values(), |v| v as i128, n)?
            }
            DataType::Int64 if as_f => self.fold_f(groups, array.as_primitive::<Int64Type>().values(), |v| v as f64, n),
            DataType::Int64 => self.fold_i(groups, array.as_primitive::<Int64Type>().values(), |v| v, n),
            DataType::Int32 if as_f => self.fold_f(groups, array.as_primitive::<Int32Type>().values(), |v| v as f64, n),
            DataType::Int32 => self.fold_i(groups, array.as_primitive::<Int32Type>().values(), |v| v as i64, n),
            DataType::Date32 => self.fold_i(groups, array.as_primitive::<Date32Type>().values(), |v| v as i64, n),
            DataType::Int16 if as_f => self.fold_f(groups, array.as_primitive::<Int16Type>().values(), |v| v as f64, n),
            DataType::Int16 => self.fold_i(groups, array.as_primitive::<Int16Type>().values(), |v| v as i64, n),
            DataType::Int8 if as_f => self.fold_f(groups, array.as_primitive::<Int8Type>().values(), |v| v as f64, n),
            DataType::Int8 => self.fold_i(groups, array.as_primitive::<Int8Type>().values(), |v| v as i64, n),
            other => return Err(format!("cannot aggregate {other} values yet")),
        }
        Ok(())
    }

    /// Folds `values` (converted by `conv`) into the f64 lane of each row's group.
    fn fold_f<T: Copy>(&mut self, groups: &[usize], values: &[T], conv: impl Fn(T) -> f64, nulls: Option<&NullBuffer>) {
        match nulls {
            None => self.fold_f_where(groups, values, conv, |_| true),
            Some(n) => self.fold_f_where(groups, values, conv, |r| n.is_valid(r)),
        }
    }

    /// [`Self::fold_f`] over the rows `valid` says (one loop per null layout).
    fn fold_f_where<T: Copy>(
        &mut self,
        groups: &[usize],
        values: &[T],
        conv: impl Fn(T) -> f64,
        valid: impl Fn(usize) -> bool,
    ) {
        let (slots, count) = (&mut self.f, &mut self.count);
        match self.function {
            F::Sum | F::Avg => {
                for (r, &g) in groups.iter().enumerate() {
                    if valid(r) {
                        slots[g] += conv(values[r]);
                        count[g] += 1;
                    }
                }
            }
            F::Min | F::Max | F::Single => {
                let min = self.function == F::Min;
                for (r, &g) in groups.iter().enumerate() {
                    if valid(r) {
                        let v = conv(values[r]);
                        let s = &mut slots[g];
                        *s = if count[g] == 0 {
                            v
                        } else if min {
                            s.min(v)
                        } else {
                            s.max(v)
                        };
                        count[g] += 1;
                    }
                }
            }
            F::VarSamp | F::VarPop | F::StddevSamp | F::StddevPop => {
                // Welford: the running mean in `f`, squared deviations in `m2`.
                let m2 = &mut self.m2;
                for (r, &g) in groups.iter().enumerate() {
                    if valid(r) {
                        let v = conv(values[r]);
                        count[g] += 1;
                        let delta = v - slots[g];
                        slots[g] += delta / count[g] as f64;
                        m2[g] += delta * (v - slots[g]);
                    }
                }
            }
            F::Count | F::CountRows | F::Collect | F::CollectSet | F::CountDistinct | F::Median => {
                unreachable!("counts and collects fold no numbers")
            }
        }
    }

    /// Folds `values` (converted by `conv`) into the i64 lane of each row's group.
    fn fold_i<T: Copy>(&mut self, groups: &[usize], values: &[T], conv: impl Fn(T) -> i64, nulls: Option<&NullBuffer>) {
        match nulls {
            None => self.fold_i_where(groups, values, conv, |_| true),
            Some(n) => self.fold_i_where(groups, values, conv, |r| n.is_valid(r)),
        }
    }

    /// [`Self::fold_i`] over the rows `valid` says.
    fn fold_i_where<T: Copy>(
        &mut self,
        groups: &[usize],
        values: &[T],
        conv: impl Fn(T) -> i64,
        valid: impl Fn(usize) -> bool,
    ) {
        let (slots, count) = (&mut self.i, &mut self.count);
        let function = self.function;
        for (r, &g) in groups.iter().enumerate() {
            if valid(r) {
                let v = conv(values[r]);
                let s = &mut slots[g];
                *s = match function {
                    F::Sum | F::Avg => s.wrapping_add(v),
                    F::Min if count[g] > 0 => (*s).min(v),
                    F::Max | F::Single if count[g] > 0 => (*s).max(v),
                    _ => v,
                };
                count[g] += 1;
            }
        }
    }

    /// Folds decimal `values` (scaled integers, converted by `conv`) into the decimal
    /// lane of each row's group. Sums wrap as DataFusion's do; an average's sum fails
    /// where it overflows (DataFusion's is wider).
    fn fold_d<T: Copy>(
        &mut self,
        groups: &[usize],
        values: &[T],
        conv: impl Fn(T) -> i128,
        nulls: Option<&NullBuffer>,
    ) -> Result<(), String> {
        match nulls {
            None => self.fold_d_where(groups, values, conv, |_| true),
            Some(n) => self.fold_d_where(groups, values, conv, |r| n.is_valid(r)),
        }
    }

    /// [`Self::fold_d`] over the rows `valid` says.
    fn fold_d_where<T: Copy>(
        &mut self,
        groups: &[usize],
        values: &[T],
        conv: impl Fn(T) -> i128,
        valid: impl Fn(usize) -> bool,
    ) -> Result<(), String> {
        let (slots, count) = (&mut self.d, &mut self.count);
        // One loop per function, as fold_f_where's.
        match self.function {
            F::Sum => {
                for (r, &g) in groups.iter().enumerate() {
                    if valid(r) {
                        slots[g] = slots[g].wrapping_add(conv(values[r]));
                        count[g] += 1;
                    }
                }
            }
            F::Avg => {
                for (r, &g) in groups.iter().enumerate() {
                    if valid(r) {
                        slots[g] = slots[g].checked_add(conv(values[r])).ok_or("decimal overflow in avg")?;
                        count[g] += 1;
                    }
                }
            }
            F::Min | F::Max | F::Single => {
                let min = self.function == F::Min;
                for (r, &g) in groups.iter().enumerate() {
                    if valid(r) {
                        let v = conv(values[r]);
                        let s = &mut slots[g];
                        *s = if count[g] == 0 {
                            v
                        } else if min {
                            (*s).min(v)
                        } else {
                            (*s).max(v)
                        };
                        count[g] += 1;
                    }
                }
            }
            f => unreachable!("{} folds no decimals", f.name()),
        }
        Ok(())
    }

    /// Partial states (one or two columns) from other shards.
    fn merge(&mut self, groups: &[usize], states: &[ArrayRef]) -> Result<(), String> {
        match self.function {
            F::Count | F::CountRows => {
                let c = states[0].as_primitive::<Int64Type>();
                for (r, &g) in groups.iter().enumerate() {
                    self.count[g] += c.value(r);
                }
            }
            F::Avg if self.lane == Lane::Decimal => {
                let s = states[0].as_primitive::<Decimal128Type>();
                let c = states[1].as_primitive::<Int64Type>();
                for (r, &g) in groups.iter().enumerate() {
                    self.d[g] = self.d[g].checked_add(s.value(r)).ok_or("decimal overflow in avg")?;
                    self.count[g] += c.value(r);
                }
            }
            F::Avg => {
                let s = states[0].as_primitive::<Float64Type>();
                let c = states[1].as_primitive::<Int64Type>();
                for (r, &g) in groups.iter().enumerate() {
                    self.f[g] += s.value(r);
                    self.count[g] += c.value(r);
                }
            }
            f if f.is_variance() => {
                // Chan et al.: two groups' means and squared deviations combine exactly.
                let (mean, m2) = (
                    states[0].as_primitive::<Float64Type>(),
                    states[1].as_primitive::<Float64Type>(),
                );
                let c = states[2].as_primitive::<Int64Type>();
                for (r, &g) in groups.iter().enumerate() {
                    let (nb, na) = (c.value(r), self.count[g]);
                    if nb == 0 {
                        continue;
                    }
                    let n = na + nb;
                    let delta = mean.value(r) - self.f[g];
                    self.f[g] += delta * nb as f64 / n as f64;
                    self.m2[g] += m2.value(r) + delta * delta * (na as f64 * nb as f64 / n as f64);
                    self.count[g] = n;
                }
            }
            // Sums, minima and maxima merge like raw values (a NULL state: no value seen).
            _ => {
                self.update(groups, Some(&states[0]))?;
            }
        }
        Ok(())
    }

    fn value_array(&self) -> ArrayRef {
        let seen = |g: usize| self.count[g] > 0;
        if self.function == F::Median {
            return self.medians();
        }
        if self.function == F::CountDistinct {
            return Arc::new(Int64Array::from_iter_values(self.values.iter().map(|v| {
                let mut v: Vec<&str> = v.iter().map(String::as_str).collect();
                v.sort_unstable();
                v.dedup();
                v.len() as i64
            })));
        }
        if self.collects() {
            let set = self.function == F::CollectSet;
            return Arc::new(StringArray::from_iter(self.values.iter().map(|v| {
                let mut v: Vec<&str> = v.iter().map(String::as_str).collect();
                v.sort_unstable();
                if set {
                    v.dedup();
                }
                (!v.is_empty()).then(|| v.join(", "))
            })));
        }
        if self.lane == Lane::Text && matches!(self.function, F::Min | F::Max | F::Single) {
            return Arc::new(StringArray::from(self.text.clone()));
        }
        if self.function.is_variance() {
            return Arc::new(Float64Array::from_iter((0..self.count.len()).map(|g| {
                let n = self.count[g];
                let variance = match self.function {
                    F::VarPop | F::StddevPop if n > 0 => self.m2[g] / n as f64,
                    F::VarSamp | F::StddevSamp if n > 1 => self.m2[g] / (n - 1) as f64,
                    _ => return None,
                };
                Some(match self.function {
                    F::StddevSamp | F::StddevPop => variance.sqrt(),
                    _ => variance,
                })
            })));
        }
        if self.lane == Lane::F64 || self.function == F::Avg {
            let avg = self.function == F::Avg;
            Arc::new(Float64Array::from_iter((0..self.count.len()).map(|g| {
                seen(g).then(|| {
                    if avg {
                        self.f[g] / self.count[g] as f64
                    } else {
                        self.f[g]
                    }
                })
            })))
        } else {
            Arc::new(Int64Array::from_iter(
                (0..self.count.len()).map(|g| seen(g).then_some(self.i[g])),
            ))
        }
    }

    /// The decimal lane's values (NULL where a group saw none) as decimals of type `ty`
    /// (of this lane's scale: only the precision is set).
    fn decimals(&self, values: impl Iterator<Item = Option<i128>>, ty: &DataType) -> Result<ArrayRef, String> {
        let DataType::Decimal128(p, s) = ty else {
            return Err(format!("a decimal aggregate's value is typed {ty}"));
        };
        if *s != self.scale {
            return Err(format!("a decimal aggregate of scale {} is typed {ty}", self.scale));
        }
        let array = Decimal128Array::from_iter(values)
            .with_precision_and_scale(*p, *s)
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(array))
    }

    /// Each group's average of decimals as a decimal of type `ty` (a scale at least the
    /// values'): the sum scaled up to it, divided by the count, truncated, as DataFusion
    /// computes it; failing where that overflows the precision.
    fn decimal_average(&self, ty: &DataType) -> Result<ArrayRef, String> {
        let DataType::Decimal128(p, s) = *ty else {
            return Err(format!("a decimal average is typed {ty}"));
        };
        let overflow = || "decimal overflow in avg".to_string();
        let up = 10i128
            .checked_pow(u32::try_from(s - self.scale).map_err(|_| overflow())?)
            .ok_or_else(overflow)?;
        let bound = 10i128.checked_pow(p as u32);
        let mut values = Vec::with_capacity(self.count.len());
        for (&sum, &n) in self.d.iter().zip(&self.count) {
            if n == 0 {
                values.push(None);
                continue;
            }
            let avg = sum.checked_mul(up).ok_or_else(overflow)? / n as i128;
            if bound.is_some_and(|b| avg.unsigned_abs() >= b as u128) {
                return Err(overflow());
            }
            values.push(Some(avg));
        }
        let array = Decimal128Array::from(values)
            .with_precision_and_scale(p, s)
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(array))
    }

    /// Final values, or partial states, as arrays of the given types.
    fn emit(&self, partial: bool, types: &[DataType]) -> Result<Vec<ArrayRef>, String> {
        let counts = || Arc::new(Int64Array::from(self.count.clone())) as ArrayRef;
        let seen = |g: usize| self.count[g] > 0;
        let arrays = match (self.function, partial) {
            (F::Count | F::CountRows, _) => vec![counts()],
            (F::Avg, true) if self.lane == Lane::Decimal => {
                vec![self.decimals(self.d.iter().map(|&v| Some(v)), &types[0])?, counts()]
            }
            (F::Avg, false) if self.lane == Lane::Decimal => vec![self.decimal_average(&types[0])?],
            (F::Sum | F::Min | F::Max | F::Single, _) if self.lane == Lane::Decimal => {
                vec![self.decimals(self.d.iter().enumerate().map(|(g, &v)| seen(g).then_some(v)), &types[0])?]
            }
            (F::Avg, true) => vec![Arc::new(Float64Array::from(self.f.clone())) as ArrayRef, counts()],
            (f, true) if f.is_variance() => vec![
                Arc::new(Float64Array::from(self.f.clone())) as ArrayRef,
                Arc::new(Float64Array::from(self.m2.clone())) as ArrayRef,
                counts(),
            ],
            _ => vec![self.value_array()],
        };
        arrays
            .into_iter()
            .zip(types)
            .map(|(a, t)| {
                if a.data_type() == t {
                    Ok(a)
                } else {
                    cast(&a, t).map_err(|e| e.to_string())
                }
            })
            .collect()
    }
}

/// The aggregate of one shard's input: every batch pushed, then one batch of groups.
pub(crate) fn stream<'a>(
    mode: AggregateMode,
    aggregate: &Aggregate,
    input: Stream<'a>,
    in_schema: &SchemaRef,
    out_schema: SchemaRef,
    fail: impl Fn(String) -> RuntimeError + Copy + 'a,
) -> Result<Stream<'a>, RuntimeError> {
    let mut agg = HashAggregate::new(mode, aggregate, in_schema, out_schema).map_err(fail)?;
    for b in input {
        agg.push(&b?).map_err(fail)?;
    }
    Ok(Box::new(std::iter::once(agg.finish().map_err(fail))))
}

/// The middle of `values` by `order`; of two middle ones, their `mean`. `None` for none.
fn middle<T: Copy>(
    values: &mut [T],
    order: impl Fn(&T, &T) -> std::cmp::Ordering,
    mean: impl Fn(T, T) -> T,
) -> Option<T> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (below, &mut mid, _) = values.select_nth_unstable_by(n / 2, &order);
    if n % 2 == 1 {
        return Some(mid);
    }
    let low = *below
        .iter()
        .max_by(|a, b| order(a, b))
        .expect("an even count of at least two");
    Some(mean(low, mid))
}

/// A call whose count, and where `sum` its sum too (in the same lane), are call `from`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SharedState {
    pub call: usize,
    pub from: usize,
    pub sum: bool,
}

/// A hash aggregation over one shard's input.
pub(crate) struct HashAggregate {
    mode: AggregateMode,
    keys: Vec<usize>,
    /// Per call: the input column (raw modes) or first state column (final mode).
    inputs: Vec<Option<usize>>,
    accumulators: Vec<Accumulator>,
    /// Group ids by key; `None` without GROUP BY (one group).
    groups: Option<GroupKeys>,
    out: SchemaRef,
    /// Calls whose states are another's, copied from it at the end ([`Self::share_states`]).
    shared: Vec<SharedState>,
}

impl HashAggregate {
    pub fn new(mode: AggregateMode, aggregate: &Aggregate, input: &SchemaRef, out: SchemaRef) -> Result<Self, String> {
        let (keys, calls) = (&aggregate.keys, &aggregate.aggregates);
        let index = |c: &str| {
            input
                .index_of(c)
                .map_err(|_| format!("aggregate input has no column '{c}'"))
        };
        let key_idx: Vec<usize> = keys.iter().map(|k| index(k)).collect::<Result<_, _>>()?;
        let mut inputs = Vec::new();
        let mut accumulators = Vec::new();
        let mut state_col = key_idx.len();
        for call in calls {
            let col = if mode == AggregateMode::Final {
                state_col += call.function.state_width();
                Some(state_col - call.function.state_width())
            } else {
                call.input.as_deref().map(index).transpose()?
            };
            let ty = col.map(|i| input.field(i).data_type());
            let lane = ty.map_or(Lane::I64, lane_of);
            let scale = match ty {
                Some(DataType::Decimal128(_, s) | DataType::Decimal64(_, s)) => *s,
                _ => 0,
            };
            inputs.push(col);
            accumulators.push(Accumulator::new(call.function, lane, scale));
        }
        let groups = if key_idx.is_empty() {
            None
        } else {
            let types: Vec<DataType> = key_idx.iter().map(|&i| input.field(i).data_type().clone()).collect();
            Some(GroupKeys::new(&types)?)
        };
        let mut agg = HashAggregate {
            mode,
            keys: key_idx,
            inputs,
            accumulators,
            groups,
            out,
            shared: Vec::new(),
        };
        if agg.groups.is_none() {
            // Without GROUP BY there is exactly one group, even over no rows.
            agg.accumulators.iter_mut().for_each(|a| a.grow(1));
        }
        Ok(agg)
    }

    fn group_ids(&mut self, batch: &RecordBatch) -> Result<Vec<usize>, String> {
        let columns: Vec<ArrayRef> = self.keys.iter().map(|&i| batch.column(i).clone()).collect();
        self.ids_of(&columns, batch.num_rows(), None)
    }

    /// Group ids of `rows` rows whose keys are `keys` (of the `selected` ones only, when
    /// given: the others' ids are 0 and find no group); every state grown to hold them.
    fn ids_of(&mut self, keys: &[ArrayRef], rows: usize, selected: Option<&[u32]>) -> Result<Vec<usize>, String> {
        let Some(groups) = &mut self.groups else {
            return Ok(vec![0; rows]);
        };
        let ids = groups.ids(keys, selected)?;
        let n = groups.len();
        self.accumulators.iter_mut().for_each(|a| a.grow(n));
        Ok(ids)
    }

    /// For a folded kernel (kernel.rs' fold form) over `rows` rows whose keys are `keys`,
    /// of which it adds the `selected` ones: their group ids, and pointers to each call's
    /// f64 values, integer values (i64, or i128 in the decimal lane) and counts, as the
    /// kernel reads them. The pointers are valid
    /// until this aggregate is used again.
    pub fn fold_targets(
        &mut self,
        keys: &[ArrayRef],
        rows: usize,
        selected: &[u32],
    ) -> Result<(Vec<usize>, Vec<*mut u8>), String> {
        let ids = self.ids_of(keys, rows, Some(selected))?;
        let mut targets = Vec::with_capacity(3 * self.accumulators.len());
        for acc in &mut self.accumulators {
            targets.push(acc.f.as_mut_ptr() as *mut u8);
            targets.push(match acc.lane {
                Lane::Decimal => acc.d.as_mut_ptr() as *mut u8,
                _ => acc.i.as_mut_ptr() as *mut u8,
            });
            targets.push(acc.count.as_mut_ptr() as *mut u8);
        }
        Ok((ids, targets))
    }

    /// Calls whose count (and sum) a fold does not store (fold.rs): another call's are
    /// theirs, copied at the end.
    pub fn share_states(&mut self, shared: &[SharedState]) {
        self.shared = shared.to_vec();
    }

    pub fn push(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let ids = self.group_ids(batch)?;
        for (acc, input) in self.accumulators.iter_mut().zip(&self.inputs) {
            if self.mode == AggregateMode::Final {
                let first = input.expect("final aggregates read state columns");
                let states: Vec<ArrayRef> = (first..first + acc.function.state_width())
                    .map(|i| batch.column(i).clone())
                    .collect();
                acc.merge(&ids, &states)?;
            } else {
                acc.update(&ids, input.map(|i| batch.column(i)))?;
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<RecordBatch, String> {
        for s in &self.shared {
            // A call shares an earlier call's state (fold.rs).
            let (earlier, later) = self.accumulators.split_at_mut(s.call);
            let (from, to) = (&earlier[s.from], &mut later[0]);
            to.count.clone_from(&from.count);
            if s.sum {
                // The lane's array, which the kernel summed into.
                match from.lane {
                    Lane::Decimal => to.d.clone_from(&from.d),
                    Lane::I64 => to.i.clone_from(&from.i),
                    Lane::F64 | Lane::Text => to.f.clone_from(&from.f),
                }
            }
        }
        let mut columns: Vec<ArrayRef> = match &self.groups {
            Some(groups) => groups.emit()?,
            None => Vec::new(),
        };
        let partial = self.mode == AggregateMode::Partial;
        let mut next = columns.len();
        for acc in &self.accumulators {
            let width = if partial { acc.function.state_width() } else { 1 };
            let types: Vec<DataType> = (next..next + width)
                .map(|i| self.out.field(i).data_type().clone())
                .collect();
            columns.extend(acc.emit(partial, &types)?);
            next += width;
        }
        RecordBatch::try_new(self.out.clone(), columns).map_err(|e| e.to_string())
    }
}
