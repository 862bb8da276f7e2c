//! The expression suite (tests/sql/*.slt): NULLs, decimals, strings, dates, CASE, IN,
//! comparisons and joins, each query against DataFusion on TPC-H SF0.1 (or, in a suite
//! that says `# catalog: nulls`, on tables full of NULLs as CSV and as Parquet), with 1
//! and 4 workers, constructs that are not supported yet failing with a message that
//! names them, and queries DataFusion fails on (a division by zero) failing here too.

use crate::common::{assert_same_rows, nulls, oracle, oracle_error, tpch};
use skadi::Session;
use std::path::Path;

enum Case {
    Query(String),
    Unsupported(String, String),
    /// Fails at run time with this text, where DataFusion fails too.
    Error(String, String),
}

/// Blocks separated by blank lines; `#` lines are comments.
fn cases(text: &str) -> Vec<(usize, Case)> {
    let mut out = Vec::new();
    let mut block: Vec<(usize, &str)> = Vec::new();
    let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    for &(n, line) in lines.iter().chain(std::iter::once(&(0, ""))) {
        if line.trim().starts_with('#') {
            continue;
        }
        if !line.trim().is_empty() {
            block.push((n, line));
            continue;
        }
        let Some(&(at, head)) = block.first() else { continue };
        let sql: Vec<&str> = block[1..].iter().map(|(_, l)| *l).collect();
        let sql = sql.join("\n");
        let case = match head.trim().split_once(' ') {
            None if head.trim() == "query" => Case::Query(sql),
            Some(("unsupported", what)) => Case::Unsupported(what.to_string(), sql),
            Some(("error", what)) => Case::Error(what.to_string(), sql),
            _ => panic!("line {at}: a block starts with 'query', 'unsupported TEXT' or 'error TEXT', not '{head}'"),
        };
        out.push((at, case));
        block.clear();
    }
    out
}

#[test]
fn expression_suite_matches_the_oracle() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql");
    let mut ran = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "slt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // A suite names its tables: TPC-H SF0.1, or the NULL tables as CSV and as Parquet.
        let catalogs: Vec<&Path> = if text.lines().any(|l| l.trim() == "# catalog: nulls") {
            vec![nulls("csv"), nulls("parquet")]
        } else {
            vec![tpch()]
        };
        for (catalog, workers) in catalogs.iter().flat_map(|&c| [(c, 1), (c, 4)]) {
            let session = Session::open(catalog).unwrap().with_workers(workers);
            for (line, case) in cases(&text) {
                let what = format!("{}:{line} ({}, --workers {workers})", path.display(), catalog.display());
                match case {
                    Case::Query(sql) => {
                        let ours = session
                            .sql(&sql, "case.sql")
                            .unwrap_or_else(|e| panic!("{what}: {e}\n{sql}"));
                        assert_same_rows(&ours.batches, &oracle(catalog, &sql), &what);
                    }
                    Case::Unsupported(construct, sql) => {
                        let err = match session.sql(&sql, "case.sql") {
                            Ok(_) => panic!("{what}: expected 'not supported yet: {construct}', but it ran"),
                            Err(e) => e.to_string(),
                        };
                        assert!(
                            err.contains("not supported yet") && err.contains(&construct),
                            "{what}: expected 'not supported yet: ...{construct}...', got: {err}"
                        );
                    }
                    Case::Error(text, sql) => {
                        let err = match session.sql(&sql, "case.sql") {
                            Ok(_) => panic!("{what}: expected an error saying '{text}', but it ran"),
                            Err(e) => e.to_string(),
                        };
                        assert!(
                            err.contains(&text) && !err.contains("not supported yet"),
                            "{what}: expected an error saying '{text}', got: {err}"
                        );
                        let theirs = oracle_error(catalog, &sql)
                            .unwrap_or_else(|| panic!("{what}: DataFusion runs it; the case proves nothing"));
                        assert!(!theirs.is_empty(), "{what}");
                    }
                }
                ran += 1;
            }
        }
    }
    assert!(ran >= 60, "only {ran} cases ran");
}
