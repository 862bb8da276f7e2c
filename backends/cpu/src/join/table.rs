//! The build side as a hash table: each row's key (one integer inline in the slot
//! table, other key lists through Arrow's row format), rows of equal keys chained, and
//! the candidate pairs of a probe batch.

use super::NONE;
use crate::slots::{SlotKey, SlotTable};
use arrow::{
    array::{Array, ArrayRef, AsArray, RecordBatch},
    datatypes::{DataType, Date32Type, Int8Type, Int16Type, Int32Type, Int64Type},
    row::RowConverter,
};
use hashbrown::HashTable;
use xxhash_rust::xxh3::xxh3_64;

/// Key values of rows, as the hash table sees them.
pub(super) enum Keys {
    /// No keys: every row matches every row.
    None,
    Int(Vec<Option<i64>>),
    /// Row-format keys, and which rows have a NULL key.
    Rows(arrow::row::Rows, Vec<bool>),
}

impl Keys {
    pub(super) fn null_key(&self, row: usize) -> bool {
        match self {
            Keys::None => false,
            Keys::Int(k) => k[row].is_none(),
            Keys::Rows(_, nulls) => nulls[row],
        }
    }
}

pub(super) fn is_int(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Date32 | DataType::Int64
    )
}

fn int_keys(column: &ArrayRef) -> Option<Vec<Option<i64>>> {
    fn collect<T: arrow::datatypes::ArrowPrimitiveType>(c: &ArrayRef) -> Vec<Option<i64>>
    where
        T::Native: Into<i64>,
    {
        c.as_primitive::<T>().iter().map(|v| v.map(Into::into)).collect()
    }
    Some(match column.data_type() {
        DataType::Int8 => collect::<Int8Type>(column),
        DataType::Int16 => collect::<Int16Type>(column),
        DataType::Int32 => collect::<Int32Type>(column),
        DataType::Date32 => collect::<Date32Type>(column),
        DataType::Int64 => collect::<Int64Type>(column),
        _ => return None,
    })
}

pub(super) fn keys_of(
    batch: &RecordBatch,
    indices: &[usize],
    converter: &Option<RowConverter>,
) -> Result<Keys, String> {
    match indices {
        [] => Ok(Keys::None),
        [i] if converter.is_none() => int_keys(batch.column(*i)).map(Keys::Int).ok_or_else(|| {
            format!(
                "join key column {i} is {}, where the build side's key is an integer",
                batch.column(*i).data_type()
            )
        }),
        _ => {
            let columns: Vec<ArrayRef> = indices.iter().map(|&i| batch.column(i).clone()).collect();
            let converter = converter
                .as_ref()
                .ok_or("join keys differ in number between the sides")?;
            let rows = converter.convert_columns(&columns).map_err(|e| e.to_string())?;
            let nulls: Vec<Option<arrow::buffer::NullBuffer>> = columns.iter().map(|c| c.logical_nulls()).collect();
            let null_rows = (0..batch.num_rows())
                .map(|r| nulls.iter().any(|n| n.as_ref().is_some_and(|n| n.is_null(r))))
                .collect();
            Ok(Keys::Rows(rows, null_rows))
        }
    }
}

/// The build side in a chained hash table: `head[key]` is the last row with that key and
/// `next[row]` the one before it.
pub(super) struct Table {
    pub(super) batch: RecordBatch,
    /// Single integer keys: each key's chain head, the key inline.
    pub(super) int_heads: SlotTable<u64>,
    /// Row-format keys: per distinct key, its latest build row (the chain's head); the
    /// key's bytes are that row's in `build_rows`, so no key is copied.
    pub(super) row_heads: HashTable<u32>,
    pub(super) build_rows: Option<arrow::row::Rows>,
    pub(super) next: Vec<u32>,
    /// Whether some build row has a NULL key (NOT IN is then never true).
    pub(super) null_key: bool,
    /// Build rows some probe row matched (for kinds that keep unmatched build rows).
    pub(super) matched: Vec<bool>,
}

impl Table {
    pub(super) fn build(batch: RecordBatch, keys: Keys) -> Table {
        let n = batch.num_rows();
        let mut t = Table {
            batch,
            int_heads: SlotTable::new(),
            row_heads: HashTable::new(),
            build_rows: None,
            next: vec![NONE; n],
            null_key: false,
            matched: Vec::new(),
        };
        match keys {
            Keys::None => {}
            Keys::Int(keys) => {
                t.int_heads.reserve(n);
                for (r, k) in keys.into_iter().enumerate() {
                    match k {
                        Some(k) => {
                            let k = k as u64;
                            t.next[r] = t.int_heads.replace(k, k.hash(), r as u32).unwrap_or(NONE);
                        }
                        None => t.null_key = true,
                    }
                }
            }
            Keys::Rows(rows, nulls) => {
                let bytes = |r: u32| rows.row(r as usize);
                for (r, null) in nulls.into_iter().enumerate() {
                    if null {
                        t.null_key = true;
                        continue;
                    }
                    let row = rows.row(r);
                    let key = row.as_ref();
                    let hash = xxh3_64(key);
                    match t.row_heads.find_mut(hash, |&h| bytes(h).as_ref() == key) {
                        Some(head) => {
                            t.next[r] = *head;
                            *head = r as u32;
                        }
                        None => {
                            t.row_heads
                                .insert_unique(hash, r as u32, |&h| xxh3_64(bytes(h).as_ref()));
                        }
                    }
                }
                t.build_rows = Some(rows);
            }
        }
        t
    }

    /// Candidate pairs (probe row, build row) of a probe batch with these keys.
    pub(super) fn candidates(&self, keys: &Keys, probe_rows: usize) -> (Vec<u32>, Vec<u32>) {
        let (mut p, mut b) = (Vec::new(), Vec::new());
        let mut walk = |row: usize, mut at: u32| {
            while at != NONE {
                p.push(row as u32);
                b.push(at);
                at = self.next[at as usize];
            }
        };
        match keys {
            Keys::None => {
                for row in 0..probe_rows {
                    for at in 0..self.batch.num_rows() as u32 {
                        p.push(row as u32);
                        b.push(at);
                    }
                }
            }
            Keys::Int(keys) => {
                // Hashes first, so each probe's slot is asked for a few rows ahead.
                const AHEAD: usize = 16;
                let hashes: Vec<u64> = keys.iter().map(|k| k.map_or(0, |k| (k as u64).hash())).collect();
                for (row, k) in keys.iter().enumerate() {
                    if let Some(&h) = hashes.get(row + AHEAD) {
                        self.int_heads.prefetch(h);
                    }
                    if let Some(head) = k.and_then(|k| self.int_heads.get(k as u64, hashes[row])) {
                        walk(row, head);
                    }
                }
            }
            Keys::Rows(rows, nulls) => {
                for (row, null) in nulls.iter().enumerate() {
                    let Some(build_rows) = &self.build_rows else { break };
                    let key = rows.row(row);
                    let key = key.as_ref();
                    if !null
                        && let Some(&head) = self
                            .row_heads
                            .find(xxh3_64(key), |&h| build_rows.row(h as usize).as_ref() == key)
                    {
                        walk(row, head);
                    }
                }
            }
        }
        (p, b)
    }
}
