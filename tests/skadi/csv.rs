//! CSV tables (a file, and a directory of files) through the whole stack, against the
//! oracle reading the same files.

use crate::common::{assert_same_rows, oracle, skadi, stderr};
use skadi::Session;
use std::fmt::Write;

/// A catalog with `sales.csv` and `events/` (three CSV files), made of deterministic rows.
fn catalog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let regions = ["north", "south", "east", "west", "centre"];
    let mut sales = String::from("id,region,amount,qty,day,bonus\n");
    for i in 0..5000u64 {
        let amount = ((i * 7919) % 10007) as f64 / 100.0;
        let day = format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
        // Every seventh bonus is missing: a NULL.
        let bonus = if i % 7 == 3 {
            String::new()
        } else {
            ((i * 13) % 50).to_string()
        };
        let region = regions[(i % 5) as usize];
        writeln!(sales, "{i},{region},{amount},{},{day},{bonus}", (i * 31) % 97).unwrap();
    }
    std::fs::write(dir.path().join("sales.csv"), sales).unwrap();
    std::fs::create_dir(dir.path().join("events")).unwrap();
    for f in 0..3u64 {
        let mut events = String::from("user,kind,score\n");
        for i in 0..1000u64 {
            // The second file has NULL scores: read by one shard with the others, its
            // batch takes another way through a folded aggregate than theirs.
            let score = if f == 1 && i % 10 == 0 {
                String::new()
            } else {
                ((i * f + 3) % 101).to_string()
            };
            writeln!(
                events,
                "{},{},{score}",
                (i * 13 + f) % 211,
                ["view", "click", "buy"][((i + f) % 3) as usize],
            )
            .unwrap();
        }
        std::fs::write(dir.path().join(format!("events/part-{f}.csv")), events).unwrap();
    }
    dir
}

const QUERIES: [&str; 11] = [
    "select region, count(*) as n, sum(amount) as total, avg(qty) as q, min(day) as first, max(id) as top \
     from sales where amount > 10.5 and qty < 90 group by region order by region",
    "select id, amount * 2 - qty as score from sales where day >= date '2024-06-01' order by score desc, id limit 17",
    "select kind, count(*) as n, sum(score) as s, max(user) as u from events group by kind order by kind",
    "select count(*) as n, sum(score) as s from events where score between 10 and 50",
    // NULLs: computed columns reading different nullable columns, and aggregates skipping NULLs.
    "select id, bonus * 2 as b2, amount + qty as aq, bonus + qty as bq from sales where id < 60 order by id",
    "select region, count(bonus) as nb, count(*) as n, sum(bonus) as sb, avg(bonus) as ab, min(bonus) as lo \
     from sales group by region order by region",
    "select id from sales where bonus > 45 and qty < 10 order by id",
    // A pipeline folded into the partial aggregate (backends/cpu/src/fold.rs): keys found
    // for every row, but a region the filter drops entirely has no group; integer and
    // float lanes; min and max; a keyless one.
    "select region, count(*) as n, sum(qty) as sq, min(amount) as lo, max(amount * 2) as hi, avg(qty) as aq, \
     sum(id) as si, min(id) as mi from sales where region <> 'west' and amount > 50 group by region order by region",
    "select count(*) as n, sum(amount * qty) as s, min(qty) as lo, max(id) as hi from sales where qty > 90",
    // A NULL in a column the folded kernel would read: the batch goes the unfolded way.
    "select region, count(bonus) as nb, max(bonus) as hb, sum(qty) as sq from sales where amount < 20 \
     group by region order by region",
    "select kind, count(*) as n, sum(score) as s, min(score) as lo, avg(score) as a from events where user > 20 \
     group by kind order by kind",
];

#[test]
fn csv_queries_match_the_oracle() {
    let dir = catalog();
    for workers in [1, 3] {
        let session = Session::open(dir.path()).unwrap().with_workers(workers);
        for sql in QUERIES {
            let ours = session.sql(sql, "q.sql").unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert_same_rows(
                &ours.batches,
                &oracle(dir.path(), sql),
                &format!("{sql} with {workers} workers"),
            );
        }
    }
}

#[test]
fn a_csv_directory_is_sharded_by_file() {
    let dir = catalog();
    let session = Session::open(dir.path()).unwrap().with_workers(4);
    let plan = session.compile(QUERIES[2], "q.sql").unwrap().plan;
    assert_eq!(plan.vertices[0].parallelism, 3, "{}", skadi::explain(&plan));
}

#[test]
fn flowgraph_files_compile_and_run_like_sql() {
    let dir = catalog();
    let c = dir.path().to_str().unwrap();
    let mlir = dir.path().join("q.mlir");
    let out = skadi(&[
        "compile",
        "--catalog",
        c,
        "-e",
        QUERIES[0],
        "--emit",
        "flowgraph",
        "-O",
        "0",
        "-o",
        mlir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let from_sql = skadi(&["run", "--catalog", c, "-e", QUERIES[0], "--format", "csv"]);
    let from_mlir = skadi(&["run", "--flowgraph", mlir.to_str().unwrap(), "--format", "csv"]);
    assert!(from_mlir.status.success(), "{}", stderr(&from_mlir));
    assert_eq!(from_mlir.stdout, from_sql.stdout);

    // The same module with its predicate declared to return a float is rejected by MLIR's
    // verifier, pointing into the file.
    let text = std::fs::read_to_string(&mlir).unwrap();
    assert!(text.contains("-> i1 {"), "{text}");
    let bad = text.replacen("-> i1 {", "-> f64 {", 1);
    let bad_path = dir.path().join("bad.mlir");
    std::fs::write(&bad_path, &bad).unwrap();
    let out = skadi(&["explain", "--flowgraph", bad_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad.mlir:") && !err.contains("panicked"), "{err}");
}

#[test]
fn booleans_compare_false_before_true() {
    let dir = catalog();
    let sql = "select id, (qty > 50) > (amount > 50.0) as gt, (qty > 50) <= (amount > 50.0) as le \
               from sales where id < 40 order by id";
    let session = Session::open(dir.path()).unwrap();
    let ours = session.sql(sql, "q.sql").unwrap();
    assert_same_rows(&ours.batches, &oracle(dir.path(), sql), sql);
}
