//! The spelling of FlowGraph attribute and type contents: MLIR string literals, table
//! schemas, aggregate calls (`sum(x)`, `count(*)`) and sort keys (`x DESC NULLS FIRST`).

use skadi_common::{AggregateCall, AggregateFunction, Column, Schema, SortKey};

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

pub fn format_aggregate(call: &AggregateCall) -> String {
    match (&call.function, &call.input) {
        (AggregateFunction::CountRows, _) => "count(*)".to_string(),
        (f, Some(c)) => format!("{}({})", f.name(), c),
        (f, None) => format!("{}()", f.name()),
    }
}

pub fn parse_aggregate(text: &str) -> Option<AggregateCall> {
    let (name, rest) = text.split_once('(')?;
    let arg = rest.strip_suffix(')')?;
    let function = match (name, arg) {
        ("count", "*") => {
            return Some(AggregateCall {
                function: AggregateFunction::CountRows,
                input: None,
            });
        }
        ("sum", _) => AggregateFunction::Sum,
        ("count", _) => AggregateFunction::Count,
        ("min", _) => AggregateFunction::Min,
        ("max", _) => AggregateFunction::Max,
        ("avg", _) => AggregateFunction::Avg,
        ("collect", _) => AggregateFunction::Collect,
        ("collect_set", _) => AggregateFunction::CollectSet,
        _ => return None,
    };
    if arg.is_empty() {
        return None;
    }
    Some(AggregateCall {
        function,
        input: Some(arg.to_string()),
    })
}

pub fn format_sort_key(key: &SortKey) -> String {
    format!(
        "{} {} {}",
        key.column,
        if key.descending { "DESC" } else { "ASC" },
        if key.nulls_first { "NULLS FIRST" } else { "NULLS LAST" }
    )
}

pub fn parse_sort_key(text: &str) -> Option<SortKey> {
    let (rest, nulls_first) = if let Some(r) = text.strip_suffix(" NULLS FIRST") {
        (r, true)
    } else {
        (text.strip_suffix(" NULLS LAST")?, false)
    };
    let (column, descending) = if let Some(c) = rest.strip_suffix(" DESC") {
        (c, true)
    } else {
        (rest.strip_suffix(" ASC")?, false)
    };
    Some(SortKey {
        column: column.to_string(),
        descending,
        nulls_first,
    })
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

    #[test]
    fn aggregates_and_sort_keys_round_trip() {
        for a in ["sum(x)", "count(*)", "count(y)", "avg(a(b))", "min(m)", "max(m)"] {
            assert_eq!(format_aggregate(&parse_aggregate(a).unwrap()), a);
        }
        assert!(parse_aggregate("median(x)").is_none());
        for k in ["a ASC NULLS LAST", "b c DESC NULLS FIRST"] {
            assert_eq!(format_sort_key(&parse_sort_key(k).unwrap()), k);
        }
    }
}
