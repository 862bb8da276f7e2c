//! Group keys, column by column. Each key value of a batch becomes one 128-bit **word**, a
//! column at a time: fixed-width values widened (floats by their bits, booleans 0/1),
//! strings of up to 15 bytes packed with their length, longer strings by their first 15
//! bytes and a mark saying the rest must be compared. A row is hashed from its words (long
//! strings by all their bytes), looked up, and compared with a candidate group word by
//! word. The groups' keys are stored per column the same way (words, plus the bytes of
//! long strings), so nothing is encoded per row and short keys compare as integers.
//!
//! This module finds group ids; `words.rs` makes the words, and `crate::slots` is the
//! inline-key table small keys use.

mod words;

use crate::slots::{SlotKey, SlotTable, mix, mix_word};
use arrow::{
    array::{
        Array, ArrayRef, BooleanArray, Decimal128Array, LargeStringArray, PrimitiveArray, StringArray, StringViewArray,
    },
    buffer::NullBuffer,
    datatypes::{
        ArrowPrimitiveType, DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    },
};
use hashbrown::HashTable;
use std::sync::Arc;
use words::*;
use xxhash_rust::xxh3::xxh3_64;

/// Dense group ids for rows of key columns: equal keys (NULL equal to NULL, as GROUP BY
/// has it) get the same id, ids count up from 0 in order of first appearance.
pub(crate) struct GroupKeys {
    columns: Vec<KeyColumn>,
    groups: usize,
    /// (hash, group id): the hash beside the id, so growing the table reads no group.
    table: HashTable<(u64, usize)>,
    /// Keys that fit in 128 bits are in this table instead, inline beside their ids, so a
    /// probe reads no group's words.
    inline: Option<Inline>,
}

/// The inline-key tables: one column of at most 64 bits (`Narrow`); one decimal column,
/// or two columns of at most 64 bits each (`Wide`, the second in the high half).
enum Inline {
    Narrow(SlotTable<u64>),
    Wide(SlotTable<u128>),
}

impl<K: SlotKey> SlotTable<K> {
    /// Group ids of rows (all, or the `selected` ones) whose keys are `key(r)`; `None`
    /// for a NULL key (one-column keys only). New groups take their words from `probes`.
    fn ids(
        &mut self,
        columns: &mut [KeyColumn],
        groups: &mut usize,
        probes: &[Probe],
        key: impl Fn(usize) -> Option<K>,
        selected: Option<&[u32]>,
    ) -> Vec<usize> {
        const AHEAD: usize = 16;
        let rows = probes[0].words.len();
        let keys: Vec<Option<K>> = (0..rows).map(&key).collect();
        let hashes: Vec<u64> = keys.iter().map(|k| k.map_or(0, K::hash)).collect();
        self.reserve(selected.map_or(rows, |s| s.len()));
        let count = std::cell::Cell::new(*groups);
        let mut new_group = |r: usize, valid: bool| {
            for (col, p) in columns.iter_mut().zip(probes) {
                col.words.push(p.words[r]);
                col.valid.push(valid);
                col.has_null |= !valid;
            }
            count.replace(count.get() + 1)
        };
        let mut last: Option<(K, usize)> = None;
        let mut find = |table: &mut Self, r: usize| -> usize {
            let Some(key) = keys[r] else {
                return *table.null.get_or_insert_with(|| new_group(r, false));
            };
            // Rows often repeat the key of the row before (clustered or sorted input).
            if let Some((k, g)) = last
                && k == key
            {
                return g;
            }
            let g = match table.find_or_insert(key, hashes[r], count.get()) {
                Some(g) => g,
                None => new_group(r, true),
            };
            last = Some((key, g));
            g
        };
        let mut ids = vec![0; rows];
        match selected {
            None => {
                for r in 0..rows {
                    if r + AHEAD < rows {
                        self.prefetch(hashes[r + AHEAD]);
                    }
                    ids[r] = find(self, r);
                }
            }
            Some(sel) => {
                for (k, &r) in sel.iter().enumerate() {
                    if let Some(&ahead) = sel.get(k + AHEAD) {
                        self.prefetch(hashes[ahead as usize]);
                    }
                    ids[r as usize] = find(self, r as usize);
                }
            }
        }
        *groups = count.get();
        ids
    }
}

/// Whether a key column's words fit in 64 bits.
fn fits_u64(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Date32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
    )
}

/// A row's hash in the general table: its first column's word hash, then each next
/// column's mixed in (a long string's hash is of all its bytes).
fn combine(h: u64, next: u64) -> u64 {
    mix(h.rotate_left(17) ^ next)
}

impl GroupKeys {
    pub fn new(types: &[DataType]) -> Result<Self, String> {
        let columns = types
            .iter()
            .map(|t| match t {
                t if fits_u64(t)
                    || matches!(
                        t,
                        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Decimal128(..)
                    ) =>
                {
                    Ok(KeyColumn {
                        data_type: t.clone(),
                        words: Vec::new(),
                        valid: Vec::new(),
                        has_null: false,
                        bytes: Vec::new(),
                        ends: Vec::new(),
                    })
                }
                other => Err(format!("cannot group by a {other} column yet")),
            })
            .collect::<Result<_, String>>()?;
        Ok(GroupKeys {
            columns,
            groups: 0,
            table: HashTable::new(),
            inline: match types {
                [t] if fits_u64(t) => Some(Inline::Narrow(SlotTable::new())),
                [DataType::Decimal128(..)] => Some(Inline::Wide(SlotTable::new())),
                [a, b] if fits_u64(a) && fits_u64(b) => Some(Inline::Wide(SlotTable::new())),
                _ => None,
            },
        })
    }

    /// Leaves the inline table for the general one (a two-column key met a NULL): every
    /// group so far goes into the general table, hashed as `ids` hashes rows.
    fn leave_inline(&mut self) {
        self.inline = None;
        self.table = HashTable::with_capacity(self.groups);
        for g in 0..self.groups {
            let hash = self
                .columns
                .iter()
                .map(|c| mix_word(c.words[g]))
                .reduce(combine)
                .unwrap_or(0);
            self.table.insert_unique(hash, (hash, g), |&(h, _)| h);
        }
    }

    /// How many groups there are.
    pub fn len(&self) -> usize {
        self.groups
    }

    /// The group id of every row of `keys` (one array per key column), adding new groups;
    /// with `selected`, of those rows only (the others' ids are 0 and add no group).
    pub fn ids(&mut self, keys: &[ArrayRef], selected: Option<&[u32]>) -> Result<Vec<usize>, String> {
        let rows = keys.first().map_or(0, |k| k.len());
        let probes: Vec<Probe> = keys.iter().map(probe).collect::<Result<_, _>>()?;
        if probes.len() == 2
            && self.inline.is_some()
            && probes
                .iter()
                .any(|p| p.nulls.as_ref().is_some_and(|n| n.null_count() > 0))
        {
            self.leave_inline();
        }
        let GroupKeys {
            columns,
            groups,
            inline,
            ..
        } = self;
        let valid = |p: &Probe, r: usize| p.nulls.as_ref().is_none_or(|n| n.is_valid(r));
        match (inline, &probes[..]) {
            (Some(Inline::Narrow(t)), [p]) => {
                return Ok(t.ids(
                    columns,
                    groups,
                    &probes,
                    |r| valid(p, r).then(|| p.words[r] as u64),
                    selected,
                ));
            }
            (Some(Inline::Wide(t)), [p]) => {
                return Ok(t.ids(columns, groups, &probes, |r| valid(p, r).then(|| p.words[r]), selected));
            }
            (Some(Inline::Wide(t)), [a, b]) => {
                let key = |r: usize| Some(u128::from(a.words[r] as u64) | (u128::from(b.words[r] as u64) << 64));
                return Ok(t.ids(columns, groups, &probes, key, selected));
            }
            _ => {}
        }
        // A row's hash: its first column's, then each next column's mixed in. A value's
        // hash depends on the value only (a NULL hashes as its word).
        let mut hashes = vec![0u64; rows];
        let mut column = vec![0u64; rows];
        for (c, p) in probes.iter().enumerate() {
            let out = if c == 0 { &mut hashes } else { &mut column };
            for (h, &w) in out.iter_mut().zip(&p.words) {
                *h = mix_word(w);
            }
            if let Some(s) = &p.strings {
                for (r, &w) in p.words.iter().enumerate() {
                    if is_long(w) {
                        out[r] = xxh3_64(s.bytes(r));
                    }
                }
            }
            if c > 0 {
                for (h, &v) in hashes.iter_mut().zip(&column) {
                    *h = combine(*h, v);
                }
            }
        }
        let GroupKeys {
            columns, groups, table, ..
        } = self;
        let mut last: Option<(usize, usize)> = None;
        let mut find = |r: usize| -> Result<usize, String> {
            let hash = hashes[r];
            let equal = |&g: &usize| {
                columns.iter().zip(&probes).all(|(col, p)| {
                    let w = p.words[r];
                    if col.words[g] != w {
                        return false;
                    }
                    match (&p.strings, &p.nulls) {
                        (Some(s), _) => !is_long(w) || col.long_bytes(g) == s.bytes(r),
                        (None, Some(n)) => col.valid[g] == n.is_valid(r),
                        (None, None) => !col.has_null || col.valid[g],
                    }
                })
            };
            // Rows often repeat the key of the row before (clustered or sorted input).
            if let Some((before, g)) = last
                && hashes[before] == hash
                && equal(&g)
            {
                last = Some((r, g));
                return Ok(g);
            }
            let id = match table.find(hash, |&(h, g)| h == hash && equal(&g)) {
                Some(&(_, g)) => g,
                None => {
                    let g = *groups;
                    *groups += 1;
                    for (col, p) in columns.iter_mut().zip(&probes) {
                        let valid = p.nulls.as_ref().is_none_or(|n| n.is_valid(r));
                        let w = p.words[r];
                        col.words.push(w);
                        col.valid.push(valid);
                        col.has_null |= !valid;
                        match &p.strings {
                            Some(s) if is_long(w) => col.bytes.extend_from_slice(s.bytes(r)),
                            Some(_) => {}
                            None if col.is_string() => {
                                return Err(format!("a non-string value for a {} key", col.data_type));
                            }
                            None => {}
                        }
                        if col.is_string() {
                            col.ends.push(col.bytes.len());
                        }
                    }
                    table.insert_unique(hash, (hash, g), |&(h, _)| h);
                    g
                }
            };
            last = Some((r, id));
            Ok(id)
        };
        let mut ids = vec![0; rows];
        match selected {
            None => {
                for (r, id) in ids.iter_mut().enumerate() {
                    *id = find(r)?;
                }
            }
            Some(rows) => {
                for &r in rows {
                    ids[r as usize] = find(r as usize)?;
                }
            }
        }
        Ok(ids)
    }

    /// Every group's key, one array per key column, in group-id order.
    pub fn emit(&self) -> Result<Vec<ArrayRef>, String> {
        self.columns.iter().map(emit_column).collect()
    }
}

fn narrow<T: ArrowPrimitiveType>(col: &KeyColumn, to: impl Fn(u128) -> T::Native) -> ArrayRef {
    let values = col.words.iter().map(|&v| to(v)).collect::<Vec<_>>();
    Arc::new(PrimitiveArray::<T>::new(
        values.into(),
        Some(NullBuffer::from(col.valid.clone())),
    ))
}

fn emit_column(col: &KeyColumn) -> Result<ArrayRef, String> {
    if col.is_string() {
        let values: Vec<Option<Vec<u8>>> = (0..col.words.len()).map(|g| col.string(g)).collect();
        let texts = values.iter().map(|v| {
            v.as_deref()
                .map(|b| std::str::from_utf8(b).expect("keys are the bytes of strings"))
        });
        return Ok(match col.data_type {
            DataType::Utf8 => Arc::new(texts.collect::<StringArray>()) as ArrayRef,
            DataType::LargeUtf8 => Arc::new(texts.collect::<LargeStringArray>()),
            _ => Arc::new(texts.collect::<StringViewArray>()),
        });
    }
    Ok(match &col.data_type {
        DataType::Boolean => Arc::new(BooleanArray::new(
            col.words.iter().map(|&v| v != 0).collect(),
            Some(NullBuffer::from(col.valid.clone())),
        )),
        DataType::Int8 => narrow::<Int8Type>(col, |v| v as i8),
        DataType::Int16 => narrow::<Int16Type>(col, |v| v as i16),
        DataType::Int32 => narrow::<Int32Type>(col, |v| v as i32),
        DataType::Date32 => narrow::<Date32Type>(col, |v| v as i32),
        DataType::Int64 => narrow::<Int64Type>(col, |v| v as i64),
        DataType::Float32 => narrow::<Float32Type>(col, |v| f32::from_bits(v as u32)),
        DataType::Float64 => narrow::<Float64Type>(col, |v| f64::from_bits(v as u64)),
        DataType::Decimal128(p, s) => {
            let values: Vec<i128> = col.words.iter().map(|&v| v as i128).collect();
            let array = Decimal128Array::new(values.into(), Some(NullBuffer::from(col.valid.clone())));
            Arc::new(array.with_precision_and_scale(*p, *s).map_err(|e| e.to_string())?)
        }
        other => return Err(format!("cannot group by a {other} column yet")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Float64Array, Int64Array};

    /// Not a check: prints how long finding group ids takes for sorted keys, many random
    /// keys and few (`cargo test --release -p skadi-backend-cpu bench_group_ids -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn bench_group_ids() {
        for (name, modulo, sorted, columns) in [
            ("sorted", 0u64, true, 1),
            ("200k random", 200_000, false, 1),
            ("10k", 10_000, false, 1),
            ("800k random, two columns", 800_000, false, 2),
            ("800k random, two columns, general table", 800_000, false, 3),
        ] {
            let types = vec![DataType::Int64; columns.min(2)];
            let mut keys = GroupKeys::new(&types).unwrap();
            if columns == 3 {
                keys.inline = None;
            }
            let batches: Vec<Vec<ArrayRef>> = (0..366)
                .map(|b| {
                    let v: Vec<i64> = (0..8192u64)
                        .map(|r| {
                            let i = b * 8192 + r;
                            if sorted {
                                (i / 4) as i64
                            } else {
                                (mix(i) % modulo) as i64
                            }
                        })
                        .collect();
                    let second: Vec<i64> = v.iter().map(|k| k % 7).collect();
                    let mut out = vec![Arc::new(Int64Array::from(v)) as ArrayRef];
                    if columns > 1 {
                        out.push(Arc::new(Int64Array::from(second)));
                    }
                    out
                })
                .collect();
            let start = std::time::Instant::now();
            for b in &batches {
                std::hint::black_box(keys.ids(b, None).unwrap());
            }
            eprintln!("{name}: {:?} for 3M rows, {} groups", start.elapsed(), keys.len());
        }
    }

    #[test]
    fn one_integer_key_has_its_own_table_with_nulls_and_selections() {
        let mut keys = GroupKeys::new(&[DataType::Int64]).unwrap();
        assert!(matches!(keys.inline, Some(Inline::Narrow(_))));
        let batch: ArrayRef = Arc::new(Int64Array::from(vec![Some(7), None, Some(-7), Some(7), None, Some(0)]));
        assert_eq!(
            keys.ids(std::slice::from_ref(&batch), None).unwrap(),
            vec![0, 1, 2, 0, 1, 3]
        );
        // Only rows 1 and 2 (4, 7) of the next batch are looked at; then 4998 more new keys
        // grow the table.
        let more: ArrayRef = Arc::new(Int64Array::from((0..5000).map(|i| Some(i * 3 + 1)).collect::<Vec<_>>()));
        assert_eq!(
            keys.ids(std::slice::from_ref(&more), Some(&[1, 2])).unwrap()[..3],
            [0, 4, 0]
        );
        keys.ids(std::slice::from_ref(&more), None).unwrap();
        assert_eq!(keys.len(), 4 + 4999);
        let again: ArrayRef = Arc::new(Int64Array::from(vec![Some(4), Some(1), None, Some(7)]));
        assert_eq!(keys.ids(std::slice::from_ref(&again), None).unwrap(), vec![4, 5, 1, 0]);
        let out = keys.emit().unwrap();
        let out = out[0].as_primitive::<Int64Type>();
        assert_eq!(out.len(), 5003);
        assert_eq!(
            (out.value(0), out.is_null(1), out.value(2), out.value(3)),
            (7, true, -7, 0)
        );
        assert_eq!((out.value(4), out.value(5), out.value(6)), (4, 1, 10));
    }

    #[test]
    fn two_integer_keys_go_inline_until_a_null_comes() {
        let mut keys = GroupKeys::new(&[DataType::Int32, DataType::Int64]).unwrap();
        assert!(matches!(keys.inline, Some(Inline::Wide(_))));
        let batch = |a: Vec<Option<i32>>, b: Vec<Option<i64>>| -> Vec<ArrayRef> {
            vec![
                Arc::new(arrow::array::Int32Array::from(a)),
                Arc::new(Int64Array::from(b)),
            ]
        };
        // (1, 2) and (2, 1) differ; (-1, 0) keeps its sign.
        let first = batch(
            vec![Some(1), Some(2), Some(1), Some(-1)],
            vec![Some(2), Some(1), Some(2), Some(0)],
        );
        assert_eq!(keys.ids(&first, None).unwrap(), vec![0, 1, 0, 2]);
        let nulls = batch(
            vec![None, Some(2), Some(-1), None],
            vec![Some(2), Some(1), Some(0), Some(2)],
        );
        assert_eq!(keys.ids(&nulls, None).unwrap(), vec![3, 1, 2, 3]);
        assert!(keys.inline.is_none());
        assert_eq!(keys.ids(&first, None).unwrap(), vec![0, 1, 0, 2]);
        let out = keys.emit().unwrap();
        let a = out[0].as_primitive::<arrow::datatypes::Int32Type>();
        assert_eq!((a.value(2), a.is_null(3)), (-1, true));
        assert_eq!(out[1].as_primitive::<Int64Type>().value(3), 2);
        // One decimal column is inline too, its NULL a group of its own.
        let mut dec = GroupKeys::new(&[DataType::Decimal128(38, 2)]).unwrap();
        let values: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(i128::MAX), None, Some(-5), Some(i128::MAX)])
                .with_precision_and_scale(38, 2)
                .unwrap(),
        );
        assert_eq!(dec.ids(&[values], None).unwrap(), vec![0, 1, 2, 0]);
    }

    #[test]
    fn equal_keys_share_an_id_and_come_back_out() {
        // The same strings as views have the same words.
        let values = [
            "",
            "x",
            "twelve bytes",
            "thirteen byte",
            "a string longer than fifteen bytes",
        ];
        let plain: ArrayRef = Arc::new(StringArray::from(values.to_vec()));
        let views: ArrayRef = Arc::new(StringViewArray::from(values.to_vec()));
        assert_eq!(probe(&plain).unwrap().words, probe(&views).unwrap().words);
        let long = "a string longer than fifteen bytes";
        let mut keys = GroupKeys::new(&[DataType::Utf8, DataType::Int64]).unwrap();
        let batch = |s: Vec<Option<&str>>, i: Vec<Option<i64>>| -> Vec<ArrayRef> {
            vec![Arc::new(StringArray::from(s)), Arc::new(Int64Array::from(i))]
        };
        let first = keys
            .ids(
                &batch(
                    vec![Some("x"), Some(long), None, Some("x"), Some(""), Some(long)],
                    vec![Some(1), Some(1), Some(1), Some(1), None, Some(2)],
                ),
                None,
            )
            .unwrap();
        assert_eq!(first, vec![0, 1, 2, 0, 3, 4]);
        // The same keys in a later batch find the same groups; a prefix of a long string
        // (its first 15 bytes) is another key.
        let second = keys
            .ids(
                &batch(
                    vec![Some(long), Some(&long[..15]), Some(""), None, Some("")],
                    vec![Some(2), Some(2), None, Some(1), Some(0)],
                ),
                None,
            )
            .unwrap();
        assert_eq!(second, vec![4, 5, 3, 2, 6]);
        let out = keys.emit().unwrap();
        let s = out[0].as_string::<i32>();
        let got: Vec<Option<&str>> = (0..s.len()).map(|g| s.is_valid(g).then(|| s.value(g))).collect();
        assert_eq!(
            got,
            vec![
                Some("x"),
                Some(long),
                None,
                Some(""),
                Some(long),
                Some(&long[..15]),
                Some("")
            ]
        );
        let i = out[1].as_primitive::<Int64Type>();
        let got: Vec<Option<i64>> = (0..i.len()).map(|g| i.is_valid(g).then(|| i.value(g))).collect();
        assert_eq!(got, vec![Some(1), Some(1), Some(1), None, Some(2), Some(2), Some(0)]);
    }

    #[test]
    fn a_null_and_a_zero_are_different_keys() {
        let mut keys = GroupKeys::new(&[DataType::Float64]).unwrap();
        let column: ArrayRef = Arc::new(Float64Array::from(vec![Some(0.0), None, Some(0.0), None, Some(1.5)]));
        assert_eq!(keys.ids(&[column], None).unwrap(), vec![0, 1, 0, 1, 2]);
        // Rows not selected add no group.
        let column: ArrayRef = Arc::new(Float64Array::from(vec![Some(7.0), Some(1.5), Some(8.0), None]));
        assert_eq!(keys.ids(&[column], Some(&[1, 3])).unwrap(), vec![0, 2, 0, 1]);
        assert_eq!(keys.len(), 3);
        let out = keys.emit().unwrap();
        assert_eq!(out[0].null_count(), 1);
        assert_eq!(out[0].as_primitive::<Float64Type>().value(2), 1.5);
    }
}
