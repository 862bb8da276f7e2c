//! Calling a compiled kernel on a record batch: Arrow columns in, Arrow columns out.
//! Primitive columns are passed to the kernel in place (no copy), decimals as their
//! scaled integers too; booleans are unpacked to bytes first. NULLs are strict: a row with a NULL
//! argument has NULL results (the frontend only emits bodies where that is SQL's answer).

use crate::jit::Kernel;
use arrow::{
    array::{Array, ArrayRef, AsArray, BooleanArray, PrimitiveArray},
    buffer::{BooleanBuffer, NullBuffer, ScalarBuffer},
    datatypes::{
        ArrowPrimitiveType, DataType, Date32Type, Decimal64Type, Decimal128Type, Float32Type, Float64Type, Int8Type,
        Int16Type, Int32Type, Int64Type,
    },
    record_batch::RecordBatch,
};
use std::sync::Arc;

/// A column buffer for a kernel: the pointer, and whatever keeps it alive.
pub(crate) enum Buffer {
    InPlace(ArrayRef),
    F64(Vec<f64>),
    Bytes(Vec<u8>),
    /// A result column: zeroed, aligned for any type (a `Vec<u8>` is only aligned for
    /// bytes, and an empty one's pointer is 1, which Arrow refuses as an i64 buffer).
    Result(arrow::buffer::MutableBuffer),
}

impl Buffer {
    pub(crate) fn ptr(&mut self) -> *mut u8 {
        match self {
            Buffer::InPlace(a) => match a.data_type() {
                DataType::Int8 => a.as_primitive::<Int8Type>().values().as_ptr() as *mut u8,
                DataType::Int16 => a.as_primitive::<Int16Type>().values().as_ptr() as *mut u8,
                DataType::Int32 => a.as_primitive::<Int32Type>().values().as_ptr() as *mut u8,
                DataType::Date32 => a.as_primitive::<Date32Type>().values().as_ptr() as *mut u8,
                DataType::Int64 => a.as_primitive::<Int64Type>().values().as_ptr() as *mut u8,
                DataType::Float32 => a.as_primitive::<Float32Type>().values().as_ptr() as *mut u8,
                DataType::Float64 => a.as_primitive::<Float64Type>().values().as_ptr() as *mut u8,
                DataType::Decimal128(..) => a.as_primitive::<Decimal128Type>().values().as_ptr() as *mut u8,
                DataType::Decimal64(..) => a.as_primitive::<Decimal64Type>().values().as_ptr() as *mut u8,
                other => unreachable!("only primitive columns are passed in place, not {other}"),
            },
            Buffer::F64(v) => v.as_mut_ptr() as *mut u8,
            Buffer::Bytes(v) => v.as_mut_ptr(),
            Buffer::Result(b) => b.as_mut_ptr(),
        }
    }
}

/// The buffer a kernel reads for `array`, whose body parameter has MLIR type `scalar`;
/// `in_place_decimal` when the kernel reads the decimal's slots itself (kernel.rs'
/// forms).
pub(crate) fn argument(array: &ArrayRef, scalar: &str, in_place_decimal: bool) -> Result<Buffer, String> {
    match (array.data_type(), scalar) {
        (DataType::Decimal128(..) | DataType::Decimal64(..), "i64" | "i128") if in_place_decimal => {
            Ok(Buffer::InPlace(array.clone()))
        }
        (DataType::Decimal128(..), "i128") | (DataType::Decimal64(..), "i64") => Ok(Buffer::InPlace(array.clone())),
        (DataType::Int8, "i8")
        | (DataType::Int16, "i16")
        | (DataType::Int32 | DataType::Date32, "i32")
        | (DataType::Int64, "i64")
        | (DataType::Float32, "f32")
        | (DataType::Float64, "f64") => Ok(Buffer::InPlace(array.clone())),
        (DataType::Boolean, "i1") => Ok(Buffer::Bytes(
            array.as_boolean().values().iter().map(u8::from).collect(),
        )),
        (dt, _) => Err(format!("a {dt} column cannot be a body argument of type {scalar}")),
    }
}

fn result_buffer(scalar: &str, rows: usize) -> Buffer {
    let bytes = match scalar {
        "i1" | "i8" => 1,
        "i16" => 2,
        "i32" | "f32" => 4,
        "i128" => 16,
        _ => 8,
    };
    if scalar == "f64" {
        Buffer::F64(vec![0.0; rows])
    } else {
        Buffer::Result(arrow::buffer::MutableBuffer::from_len_zeroed(rows * bytes))
    }
}

fn primitive<T: ArrowPrimitiveType>(bytes: arrow::buffer::MutableBuffer, nulls: Option<NullBuffer>) -> ArrayRef {
    let values: ScalarBuffer<T::Native> = ScalarBuffer::from(arrow::buffer::Buffer::from(bytes));
    Arc::new(PrimitiveArray::<T>::new(values, nulls))
}

fn result_array(buffer: Buffer, scalar: &str, nulls: Option<NullBuffer>) -> ArrayRef {
    match (buffer, scalar) {
        (Buffer::F64(v), _) => Arc::new(PrimitiveArray::<Float64Type>::new(ScalarBuffer::from(v), nulls)),
        (Buffer::Result(v), "i1") => Arc::new(BooleanArray::new(pack_bits(v.as_slice()), nulls)),
        (Buffer::Result(v), "i8") => primitive::<Int8Type>(v, nulls),
        (Buffer::Result(v), "i16") => primitive::<Int16Type>(v, nulls),
        (Buffer::Result(v), "i32") => primitive::<Int32Type>(v, nulls),
        (Buffer::Result(v), "i64") => primitive::<Int64Type>(v, nulls),
        (Buffer::Result(v), "f32") => primitive::<Float32Type>(v, nulls),
        // A decimal's scaled integers: [`as_column_type`] gives them their type.
        (Buffer::Result(v), "i128") => primitive::<Decimal128Type>(v, nulls),
        _ => unreachable!("result buffers are made by result_buffer for scalar {scalar}"),
    }
}

/// A body result as a column of type `ty`: a decimal's scaled integers (an i64 or i128
/// result) given their precision and scale, anything else cast.
pub(crate) fn as_column_type(array: &ArrayRef, ty: &DataType) -> Result<ArrayRef, String> {
    let decimal = |a: PrimitiveArray<Decimal128Type>, p: u8, s: i8| -> Result<ArrayRef, String> {
        Ok(Arc::new(a.with_precision_and_scale(p, s).map_err(|e| e.to_string())?))
    };
    match (array.data_type(), ty) {
        (a, t) if a == t => Ok(array.clone()),
        (DataType::Int64, DataType::Decimal128(p, s)) => decimal(
            array
                .as_primitive::<Int64Type>()
                .unary::<_, Decimal128Type>(|v| v as i128),
            *p,
            *s,
        ),
        (DataType::Decimal128(..), DataType::Decimal128(p, s)) => {
            decimal(array.as_primitive::<Decimal128Type>().clone(), *p, *s)
        }
        _ => arrow::compute::cast(array, ty).map_err(|e| e.to_string()),
    }
}

/// Bytes as bits (a byte other than 0 is true), eight bytes to a byte at a time: a
/// kernel writes each i1 result as a byte, and a filter's results are most of a scan.
pub(crate) fn pack_bits(bytes: &[u8]) -> BooleanBuffer {
    /// Eight bytes' truth in the low bit of each.
    fn low_bits(mut x: u64) -> u64 {
        x |= (x >> 4) & 0x0f0f_0f0f_0f0f_0f0f;
        x |= (x >> 2) & 0x3333_3333_3333_3333;
        x |= (x >> 1) & 0x5555_5555_5555_5555;
        x & 0x0101_0101_0101_0101
    }
    let eight = |chunk: &[u8]| {
        let x = low_bits(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
        // Byte i's low bit lands in bit 56 + i.
        x.wrapping_mul(0x0102_0408_1020_4080) >> 56
    };
    let mut packed: Vec<u8> = bytes.chunks_exact(8).map(|c| eight(c) as u8).collect();
    let rest = bytes.chunks_exact(8).remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        packed.push(eight(&last) as u8);
    }
    BooleanBuffer::new(arrow::buffer::Buffer::from_vec(packed), 0, bytes.len())
}

/// Where a kernel's results are NULL (see `skadi_common::Pipeline`).
#[derive(Default, Clone, Copy)]
pub(crate) struct Nulls<'a> {
    /// `strict[r]` lists result r's arguments whose NULL makes it NULL (all of them when
    /// `None`).
    pub strict: Option<&'a [Vec<usize>]>,
    /// Arguments whose validity the kernel takes after them, one byte a row each.
    pub validity: &'a [usize],
    /// `(r, v)`: result r is NULL where result v is false.
    pub result_validity: &'a [(usize, usize)],
}

/// Runs `kernel` over `batch`'s columns `args`; returns its results as arrays, NULL as
/// `nulls` says. The second value is the rows where any argument is NULL.
pub(crate) fn evaluate(
    kernel: &Kernel,
    batch: &RecordBatch,
    args: &[usize],
    nulls: Nulls<'_>,
) -> Result<(Vec<ArrayRef>, Option<NullBuffer>), String> {
    let rows = batch.num_rows();
    let sig = &kernel.signature;
    let mut buffers = Vec::with_capacity(sig.params.len() + sig.results.len());
    let mut arg_nulls: Vec<Option<NullBuffer>> = Vec::with_capacity(args.len());
    for (j, (&i, scalar)) in args.iter().zip(&sig.params).enumerate() {
        let column = batch.column(i);
        arg_nulls.push(column.logical_nulls());
        let in_place = kernel.forms.get(j).copied().flatten().is_some();
        buffers.push(argument(column, scalar, in_place)?);
    }
    for &a in nulls.validity {
        let valid = match arg_nulls.get(a).ok_or("a validity names no argument")? {
            Some(n) => n.inner().iter().map(u8::from).collect(),
            None => vec![1u8; rows],
        };
        buffers.push(Buffer::Bytes(valid));
    }
    let union = |on: &mut dyn Iterator<Item = usize>| {
        on.fold(None, |acc: Option<NullBuffer>, a| {
            NullBuffer::union(acc.as_ref(), arg_nulls[a].as_ref())
        })
    };
    let all_nulls = union(&mut (0..args.len()));
    for r in &sig.results {
        buffers.push(result_buffer(r, rows));
    }
    let pointers: Vec<*mut u8> = buffers.iter_mut().map(Buffer::ptr).collect();
    // SAFETY: every argument buffer holds `rows` values of its parameter's type, every
    // result buffer `rows` values of its result's type, as the kernel's signature says.
    unsafe { (kernel.function)(rows as i64, pointers.as_ptr()) };
    let mut results: Vec<ArrayRef> = buffers
        .drain(sig.params.len()..)
        .zip(&sig.results)
        .enumerate()
        .map(|(r, (b, scalar))| {
            let on = match nulls.strict {
                Some(strict) => union(&mut strict[r].iter().copied()),
                None => all_nulls.clone(),
            };
            result_array(b, scalar, on)
        })
        .collect();
    for &(r, v) in nulls.result_validity {
        // Valid where the validity result is true (and not itself NULL).
        let valid = NullBuffer::new(keep_mask(&results[v]).values().clone());
        let on = NullBuffer::union(results[r].logical_nulls().as_ref(), Some(&valid));
        let data = results[r]
            .to_data()
            .into_builder()
            .nulls(on)
            .build()
            .map_err(|e| e.to_string())?;
        results[r] = arrow::array::make_array(data);
    }
    Ok((results, all_nulls))
}

/// The rows a boolean result keeps: true and not NULL.
pub(crate) fn keep_mask(result: &ArrayRef) -> BooleanArray {
    let values = result.as_boolean().values().clone();
    let mask = match result.logical_nulls() {
        Some(n) => &values & n.inner(),
        None => values,
    };
    BooleanArray::new(mask, None)
}

/// The rows of `batch` a filter kernel keeps: true, and no NULL argument.
pub(crate) fn selection(kernel: &Kernel, batch: &RecordBatch, args: &[usize]) -> Result<BooleanArray, String> {
    let (results, _) = evaluate(kernel, batch, args, Nulls::default())?;
    Ok(keep_mask(&results[0]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn packed_bits_are_the_bytes_truth_in_order() {
        for len in [0, 1, 7, 8, 9, 63, 64, 65, 200] {
            let bytes: Vec<u8> = (0..len)
                .map(|i| [0u8, 1, 0, 0, 2, 255, 1, 0, 128][(i * 7 + i / 3) % 9])
                .collect();
            let bits = super::pack_bits(&bytes);
            assert_eq!(bits.len(), len);
            let expected: Vec<bool> = bytes.iter().map(|&b| b != 0).collect();
            assert_eq!(bits.iter().collect::<Vec<_>>(), expected, "{len} bytes");
        }
    }
}
