//! Key words: each key value of a batch as one 128-bit word, a column at a time —
//! fixed-width values widened (floats by their bits, booleans 0/1), strings of up to 15
//! bytes packed with their length, longer strings by their first 15 bytes and a mark
//! saying the rest must be compared — and the stored keys of each group, per column.

use arrow::{
    array::{
        Array, ArrayRef, AsArray, GenericStringArray, LargeStringArray, OffsetSizeTrait, StringArray, StringViewArray,
    },
    buffer::NullBuffer,
    datatypes::{
        ArrowPrimitiveType, DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type,
        Int32Type, Int64Type,
    },
};

/// A string's word: the length in the top byte (0..=15) and the bytes below it; a longer
/// string has [`LONG`] there and its first 15 bytes; a NULL string is [`NULL_STRING`].
pub(super) const LONG: u8 = 0xFF;
pub(super) const NULL_STRING: u128 = 0xFE << 120;

pub(super) fn string_word(s: &[u8]) -> u128 {
    let mut bytes = [0u8; 16];
    let n = s.len().min(15);
    bytes[..n].copy_from_slice(&s[..n]);
    bytes[15] = if s.len() > 15 { LONG } else { s.len() as u8 };
    u128::from_le_bytes(bytes)
}

/// The word of the string at `values[start..start + len]`: short ones by one unaligned
/// 16-byte load, masked, where the buffer has 16 bytes from `start`.
pub(super) fn word_at(values: &[u8], start: usize, len: usize) -> u128 {
    if len <= 15 && start + 16 <= values.len() {
        let raw = u128::from_le_bytes(values[start..start + 16].try_into().expect("16 bytes"));
        (raw & ((1u128 << (8 * len)) - 1)) | ((len as u128) << 120)
    } else {
        string_word(&values[start..start + len])
    }
}

pub(super) fn offset_words<O: OffsetSizeTrait>(array: &GenericStringArray<O>) -> Vec<u128> {
    let values = array.values().as_slice();
    array
        .value_offsets()
        .windows(2)
        .map(|w| {
            let start = w[0].as_usize();
            word_at(values, start, w[1].as_usize() - start)
        })
        .collect()
}

/// Words of a view array: a string of up to 12 bytes is inside its view (length in the
/// low 32 bits, then the bytes), so its word is made from the view alone.
pub(super) fn view_words(array: &StringViewArray) -> Vec<u128> {
    array
        .views()
        .iter()
        .enumerate()
        .map(|(r, &v)| {
            let len = v as u32 as usize;
            if len <= 12 {
                ((v >> 32) & ((1u128 << (8 * len)) - 1)) | ((len as u128) << 120)
            } else {
                string_word(array.value(r).as_bytes())
            }
        })
        .collect()
}

pub(super) fn is_long(w: u128) -> bool {
    (w >> 120) as u8 == LONG
}

/// A string key column of a batch.
pub(super) enum Strings<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
}

impl Strings<'_> {
    pub(super) fn bytes(&self, r: usize) -> &[u8] {
        match self {
            Strings::Utf8(a) => a.value(r).as_bytes(),
            Strings::LargeUtf8(a) => a.value(r).as_bytes(),
            Strings::Utf8View(a) => a.value(r).as_bytes(),
        }
    }
}

/// One key column of a batch: a word per row, and what else equality needs.
pub(super) struct Probe<'a> {
    pub(super) words: Vec<u128>,
    /// String columns: the values (long strings compare by them).
    pub(super) strings: Option<Strings<'a>>,
    /// Fixed-width columns with NULLs (a string's NULL is in its word).
    pub(super) nulls: Option<NullBuffer>,
}

pub(super) fn widen<T: ArrowPrimitiveType>(array: &ArrayRef, to: impl Fn(T::Native) -> u128) -> Vec<u128> {
    array.as_primitive::<T>().values().iter().map(|&v| to(v)).collect()
}

pub(super) fn probe(array: &ArrayRef) -> Result<Probe<'_>, String> {
    let strings = match array.data_type() {
        DataType::Utf8 => Some(Strings::Utf8(array.as_string::<i32>())),
        DataType::LargeUtf8 => Some(Strings::LargeUtf8(array.as_string::<i64>())),
        DataType::Utf8View => Some(Strings::Utf8View(array.as_string_view())),
        _ => None,
    };
    let nulls = array.logical_nulls();
    if let Some(s) = strings {
        let mut words = match &s {
            Strings::Utf8(a) => offset_words(*a),
            Strings::LargeUtf8(a) => offset_words(*a),
            Strings::Utf8View(a) => view_words(a),
        };
        if let Some(n) = &nulls {
            for r in (0..words.len()).filter(|&r| n.is_null(r)) {
                words[r] = NULL_STRING;
            }
        }
        return Ok(Probe {
            words,
            strings: Some(s),
            nulls: None,
        });
    }
    let mut words = match array.data_type() {
        DataType::Boolean => array.as_boolean().values().iter().map(u128::from).collect(),
        DataType::Int8 => widen::<Int8Type>(array, |v| v as u128),
        DataType::Int16 => widen::<Int16Type>(array, |v| v as u128),
        DataType::Int32 => widen::<Int32Type>(array, |v| v as u128),
        DataType::Date32 => widen::<Date32Type>(array, |v| v as u128),
        DataType::Int64 => widen::<Int64Type>(array, |v| v as u128),
        DataType::Float32 => widen::<Float32Type>(array, |v| u128::from(v.to_bits())),
        DataType::Float64 => widen::<Float64Type>(array, |v| u128::from(v.to_bits())),
        DataType::Decimal128(..) => widen::<Decimal128Type>(array, |v| v as u128),
        other => return Err(format!("cannot group by a {other} column yet")),
    };
    // A NULL's word is 0, whatever its slot holds, so it is stored and hashed as 0.
    if let Some(n) = &nulls {
        for r in (0..words.len()).filter(|&r| n.is_null(r)) {
            words[r] = 0;
        }
    }
    Ok(Probe {
        words,
        strings: None,
        nulls,
    })
}

/// The keys of every group so far, for one key column.
pub(super) struct KeyColumn {
    pub(super) data_type: DataType,
    pub(super) words: Vec<u128>,
    /// Fixed-width columns: whether each group's value is non-NULL, and whether any is not.
    pub(super) valid: Vec<bool>,
    pub(super) has_null: bool,
    /// String columns: the bytes of each group's long string (empty for the others),
    /// group g's ending at `ends[g]`.
    pub(super) bytes: Vec<u8>,
    pub(super) ends: Vec<usize>,
}

impl KeyColumn {
    pub(super) fn is_string(&self) -> bool {
        matches!(
            self.data_type,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        )
    }

    pub(super) fn long_bytes(&self, g: usize) -> &[u8] {
        let start = if g == 0 { 0 } else { self.ends[g - 1] };
        &self.bytes[start..self.ends[g]]
    }

    /// The full bytes of group g's string (its word holds short ones).
    pub(super) fn string(&self, g: usize) -> Option<Vec<u8>> {
        let w = self.words[g];
        if w == NULL_STRING {
            return None;
        }
        if is_long(w) {
            return Some(self.long_bytes(g).to_vec());
        }
        let len = (w >> 120) as usize;
        Some(w.to_le_bytes()[..len].to_vec())
    }
}
