//! Bad input: one clear error with a position where there is one, a non-zero exit, no
//! panic, and no output file left behind.

use crate::common::{fails_with, tpch};

fn catalog() -> String {
    tpch().to_str().unwrap().to_string()
}

#[test]
fn missing_table() {
    fails_with(
        &["run", "--catalog", &catalog(), "-e", "select x from\n  nosuchtable"],
        &["table 'nosuchtable' not found", "<command line>:2:3"],
    );
}

#[test]
fn unknown_column() {
    fails_with(
        &["run", "--catalog", &catalog(), "-e", "select l_nosuch from lineitem"],
        &["l_nosuch", "<command line>:1:8"],
    );
}

#[test]
fn syntax_error() {
    fails_with(
        &["run", "--catalog", &catalog(), "-e", "select 1 +* from lineitem"],
        &["<command line>:1:"],
    );
}

#[test]
fn syntax_error_in_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("bad.sql");
    std::fs::write(&q, "select\n  l_quantity\nfrom lineitem\nwhere l_quantity >< 3").unwrap();
    let err = fails_with(&["run", "--catalog", &catalog(), q.to_str().unwrap()], &["bad.sql:4:"]);
    assert!(err.contains('^'), "no caret under the spot:\n{err}");
}

#[test]
fn unsupported_construct_is_named() {
    fails_with(
        &[
            "run",
            "--catalog",
            &catalog(),
            "-e",
            "select n_name, count(*) over (order by n_regionkey groups between 1 preceding and current row) from nation",
        ],
        &["not supported yet: GROUPS window frames"],
    );
}

#[test]
fn unsupported_function_is_named_at_its_call() {
    // An aggregate function, and a string function bodies cannot compute: each by name,
    // at its argument.
    fails_with(
        &[
            "run",
            "--catalog",
            &catalog(),
            "-e",
            "select n_regionkey,\n  approx_distinct(n_name) from nation group by 1",
        ],
        &[
            "not supported yet: aggregate function approx_distinct",
            "<command line>:2:19",
        ],
    );
    fails_with(
        &[
            "run",
            "--catalog",
            &catalog(),
            "-e",
            "select n_nationkey, md5(n_name) from nation",
        ],
        &["not supported yet: function md5", "<command line>:1:25"],
    );
}

#[test]
fn missing_catalog_directory() {
    fails_with(
        &["run", "--catalog", "/nonexistent/skadi", "-e", "select 1"],
        &["/nonexistent/skadi"],
    );
}

#[test]
fn failed_run_leaves_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rows.csv");
    fails_with(
        &[
            "run",
            "--catalog",
            &catalog(),
            "-e",
            "select nope from lineitem",
            "-o",
            out.to_str().unwrap(),
        ],
        &["nope"],
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a partial file was left behind"
    );
}

#[test]
fn scalar_subquery_of_several_rows_fails_at_run_time() {
    // SQL's rule, and DataFusion's: a scalar subquery yields at most one row.
    fails_with(
        &[
            "run",
            "--catalog",
            &catalog(),
            "-e",
            "select n_name from nation where n_regionkey = (select r_regionkey from region where r_regionkey < 3)",
        ],
        &["a scalar subquery returned more than one row"],
    );
}
