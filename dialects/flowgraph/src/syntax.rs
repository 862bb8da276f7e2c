//! The spelling of FlowGraph attribute and type contents: MLIR string literals, table
//! schemas, index lists and pruning bounds. (Aggregate calls and sort keys are spelled by
//! their payload types' `Display` and `parse`, in `skadi_common::operators`.)

use melior::ir::attribute::{Attribute, AttributeLike};
use skadi_common::{Column, Schema};

/// The text of a string attribute, or of a flat symbol reference's name. Read through
/// MLIR's C API because melior's reader indexes the last byte of the value and so panics
/// on an empty one (an empty `pattern`, `@""`).
pub fn attribute_text(attribute: Attribute) -> Option<String> {
    let raw = attribute.to_raw();
    // SAFETY: `raw` is a live attribute; the string ref MLIR returns points at `length`
    // bytes it owns for the context's life, read here at once.
    unsafe {
        let value = if mlir_sys::mlirAttributeIsAString(raw) {
            mlir_sys::mlirStringAttrGetValue(raw)
        } else if mlir_sys::mlirAttributeIsAFlatSymbolRef(raw) {
            mlir_sys::mlirFlatSymbolRefAttrGetValue(raw)
        } else {
            return None;
        };
        let bytes = match value.length {
            0 => &[][..],
            n => std::slice::from_raw_parts(value.data as *const u8, n),
        };
        Some(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// An MLIR string literal for `s`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for b in s.bytes() {
        match b {
            b'"' | b'\\' => out.push_str(&format!("\\{:02X}", b)),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{:02X}", b)),
        }
    }
    out.push('"');
    out
}

/// `["a", "b"]` as an MLIR array attribute of strings.
pub fn string_array<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| quote(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

/// The `!flow.table<[...]>` type of a schema.
pub fn table_type(schema: &[Column]) -> String {
    let entries: Vec<String> = schema.iter().map(Column::to_type_entry).collect();
    format!("!flow.table<{}>", string_array(&entries))
}

/// Parses the string literals of a printed array: `["a", "b\22c"]`.
pub(crate) fn parse_string_list(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    let bytes = inner.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b',' => i += 1,
            b'"' => {
                i += 1;
                let mut s = Vec::new();
                loop {
                    match *bytes.get(i)? {
                        b'"' => break,
                        b'\\' => {
                            let esc = bytes.get(i + 1..i + 3)?;
                            match esc[0] {
                                b'\\' | b'"' => {
                                    s.push(esc[0]);
                                    i += 2;
                                    continue;
                                }
                                b'n' => {
                                    s.push(b'\n');
                                    i += 2;
                                    continue;
                                }
                                b't' => {
                                    s.push(b'\t');
                                    i += 2;
                                    continue;
                                }
                                _ => {}
                            }
                            let hex = std::str::from_utf8(esc).ok()?;
                            s.push(u8::from_str_radix(hex, 16).ok()?);
                            i += 3;
                        }
                        b => {
                            s.push(b);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push(String::from_utf8(s).ok()?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Parses a printed array of integer arrays: `[[0, 1], [], [2]]`.
pub(crate) fn parse_index_lists(text: &str) -> Option<Vec<Vec<usize>>> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
    let mut out = Vec::new();
    let mut rest = inner;
    while !rest.is_empty() {
        let open = rest.strip_prefix('[')?;
        let (list, after) = open.split_once(']')?;
        let items = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_end_matches(" : i64").parse().ok())
            .collect::<Option<Vec<usize>>>()?;
        out.push(items);
        rest = after.trim_start().strip_prefix(',').unwrap_or(after).trim_start();
    }
    Some(out)
}

/// `[[0, 1], [], [2]]` as an MLIR attribute.
pub fn index_lists(lists: &[Vec<usize>]) -> String {
    let parts: Vec<String> = lists
        .iter()
        .map(|l| format!("[{}]", l.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// The schema of a printed `!flow.table<[...]>` type.
pub(crate) fn parse_table_type(text: &str) -> Option<Schema> {
    let inner = text.strip_prefix("!flow.table<")?.strip_suffix('>')?;
    parse_string_list(inner)?
        .iter()
        .map(|e| Column::parse_type_entry(e).ok())
        .collect()
}

/// A source's pruning bound, `"column op value"`: the column, the operator (`<`, `<=`,
/// `>`, `>=`, `=`) and the value.
pub fn parse_bound(text: &str) -> Option<(String, &'static str, f64)> {
    let mut parts = text.rsplitn(3, ' ');
    let (value, op, column) = (parts.next()?, parts.next()?, parts.next()?);
    let op = ["<", "<=", ">", ">=", "="].into_iter().find(|o| *o == op)?;
    Some((column.to_string(), op, value.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use skadi_common::ColumnType;

    #[test]
    fn strings_round_trip_through_mlir_escapes() {
        let items = ["plain", "with \"quote\"", "back\\slash", "tab\there"];
        let text = string_array(&items);
        assert_eq!(parse_string_list(&text).unwrap(), items);
    }

    #[test]
    fn index_lists_round_trip() {
        for lists in [vec![], vec![vec![]], vec![vec![0, 1], vec![], vec![2]]] {
            assert_eq!(parse_index_lists(&index_lists(&lists)).unwrap(), lists);
        }
        assert!(parse_index_lists("[[0, x]]").is_none());
    }

    #[test]
    fn table_types_round_trip() {
        let schema = vec![
            Column::new("sum(lineitem.l_quantity)", ColumnType::Float64, true),
            Column::new("l_returnflag", ColumnType::Utf8View, false),
        ];
        assert_eq!(parse_table_type(&table_type(&schema)).unwrap(), schema);
    }
}
