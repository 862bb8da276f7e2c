//! Input a hostile or careless user controls — specs, FlowGraph modules, saved plans,
//! SQL, data files, output paths — gives a located error or a right answer: never a
//! panic, never a silent wrong answer, never a hurt file. One test per case found.

use crate::common::{fails_with, skadi, stderr, tpch};
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_split_pattern_that_matches_empty_text_is_refused_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("text");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("a.txt"), "one two\nthree\n").unwrap();
    for (kind, pattern) in [("split", ""), ("tokens", ""), ("split", "x*")] {
        let spec = format!(
            "[input]\npath = \"{}\"\n\n[[map]]\n{kind} = \"line\"\npattern = \"{pattern}\"\n",
            data.display()
        );
        let path = write(dir.path(), "job.toml", &spec);
        fails_with(&["run", &path], &["job.toml:6:11", "matches empty text"]);
    }
    // The same op written as FlowGraph: the verifier refuses it, naming the op.
    let module = r#"module {
  %0 = "flow.source"() {table = "t", format = "text", files = ["FILE"], columns = ["line"]} : () -> !flow.table<["line:utf8"]> loc("m.mlir":2:3)
  %1 = "flow.flat_map"(%0) {function = "split", column = "line", pattern = ""} : (!flow.table<["line:utf8"]>) -> !flow.table<["line:utf8"]> loc("m.mlir":3:3)
  "flow.sink"(%1) {names = ["w"]} : (!flow.table<["line:utf8"]>) -> () loc("m.mlir":4:3)
}"#
    .replace("FILE", &data.join("a.txt").display().to_string());
    let path = write(dir.path(), "m.mlir", &module);
    fails_with(&["run", &path], &["m.mlir:3:3", "flow.flat_map", "matches empty text"]);
}

/// Q6's plan at 2 workers, as JSON and as a value.
fn q6_plan() -> (String, skadi::PhysicalPlan) {
    let session = skadi::Session::open(tpch()).unwrap().with_workers(2);
    let sql = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tpch/q6.sql")).unwrap();
    let plan = session.compile(&sql, "q6.sql").unwrap().plan;
    (plan.to_json(), plan)
}

#[test]
fn a_saved_plan_reading_a_row_group_the_file_lacks_is_refused_before_running() {
    let (json, _) = q6_plan();
    let bad = json.replacen("\"row_groups\": [\n", "\"row_groups\": [\n                  99,\n", 1);
    assert_ne!(bad, json, "the plan has a row group list to damage");
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "q6.plan.json", &bad);
    fails_with(
        &["run", "--plan", &path],
        &["q6.plan.json", "row groups; the plan reads row group 99"],
    );
    // Run directly through the library (no file check), the scan says the same.
    let plan = skadi::PhysicalPlan::from_json(&bad, "q6.plan.json").unwrap();
    let err = skadi::Session::without_catalog()
        .run_plan(&plan, None)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("the plan reads row group 99"), "{err}");
}

#[test]
fn a_saved_plan_whose_vertex_disagrees_with_its_stage_is_inconsistent() {
    let (_, mut plan) = q6_plan();
    let v = plan.stages[0].vertices[0];
    plan.vertices[v].parallelism += 1;
    let err = skadi::PhysicalPlan::from_json(&plan.to_json(), "p.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("has parallelism") && err.contains("its stage 0 has"),
        "{err}"
    );
    let (_, mut plan) = q6_plan();
    let last = plan.stages.len() - 1;
    plan.stages[last].vertices.pop();
    let err = skadi::PhysicalPlan::from_json(&plan.to_json(), "p.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not listed once in its stage"), "{err}");
}

#[test]
fn a_saved_plan_joining_keys_of_two_types_is_refused_at_load() {
    let session = skadi::Session::open(tpch()).unwrap().with_workers(2);
    let sql = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tpch/q3.sql")).unwrap();
    let mut plan = session.compile(&sql, "q3.sql").unwrap().plan;
    // The first join, a fused vertex's first step.
    let v = plan
        .vertices
        .iter()
        .position(|v| matches!(&v.op, skadi::Operator::Fused { steps } if matches!(steps[0].op, skadi::Operator::HashJoin { .. })))
        .expect("q3 joins");
    let right = plan.vertices[plan.vertices[v].inputs[1].from].schema.clone();
    let skadi::Operator::Fused { steps } = &mut plan.vertices[v].op else {
        unreachable!()
    };
    let skadi::Operator::HashJoin { join, .. } = &mut steps[0].op else {
        unreachable!()
    };
    let key = right.iter().find(|c| c.name == join.right_keys[0]).unwrap().clone();
    let other = right.iter().find(|c| c.ty != key.ty).expect("a column of another type");
    join.right_keys[0] = other.name.clone();
    let err = skadi::PhysicalPlan::from_json(&plan.to_json(), "q3.plan.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("q3.plan.json") && err.contains("join keys pair columns of one type"),
        "{err}"
    );
}

/// ML tables (`linear`, `logistic`, `blobs`) of 2,000 rows in a fresh directory.
fn ml_tables() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    skadi_workloads::corpus::generate_ml(&dir.path().join("ml"), 2_000, 3, 3, 7).unwrap();
    dir
}

#[test]
fn training_that_diverges_or_meets_bad_labels_fails_at_the_train_step() {
    let dir = ml_tables();
    let model = dir.path().join("model.json");
    let spec = |sql: &str, train: &str, extra: &str| {
        format!(
            "[pipeline]\ntables = \"{}\"\n\n[[step]]\nname = \"rows\"\nsql = \"{sql}\"\n\n[[step]]\nname = \"m\"\ntrain = \"{train}\"\nfeatures = [\"x1\", \"x2\", \"x3\"]\n{extra}output = \"{}\"\n",
            dir.path().join("ml").display(),
            model.display()
        )
    };
    // A learning rate far too large: the model overflows within a few passes.
    let diverging = spec(
        "SELECT x1 * 1e150 AS x1, x2, x3, y FROM linear",
        "linear_regression",
        "method = \"gradient_descent\"\nlabel = \"y\"\nlearning_rate = 1e10\nmax_iterations = 50\n",
    );
    let path = write(dir.path(), "diverge.toml", &diverging);
    fails_with(&["run", &path], &["diverge.toml:10:9", "gradient descent diverged"]);
    assert!(!model.exists(), "a model of NaNs was written");
    // Logistic regression on a label that is not 0/1.
    let bad_labels = spec(
        "SELECT x1, x2, x3, label * 2 AS label FROM logistic",
        "logistic_regression",
        "label = \"label\"\nlearning_rate = 1.0\n",
    );
    let path = write(dir.path(), "labels.toml", &bad_labels);
    fails_with(
        &["run", &path],
        &["labels.toml:10:9", "needs a label of 0 or 1 in every row"],
    );
    assert!(!model.exists());
}

/// Runs `sql` on the catalog `dir` through the CLI and returns its CSV output.
fn run_csv(dir: &Path, sql: &str) -> Result<String, String> {
    let out = skadi(&["run", "--catalog", dir.to_str().unwrap(), "-e", sql, "--format", "csv"]);
    match out.status.code() {
        Some(0) => Ok(String::from_utf8(out.stdout).unwrap()),
        _ => Err(stderr(&out)),
    }
}

#[test]
fn a_csv_table_over_files_of_different_inferred_types_has_one_widened_schema() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t");
    std::fs::create_dir(&t).unwrap();
    std::fs::write(t.join("a.csv"), "k,x\n1,1\n2,2\n").unwrap();
    std::fs::write(t.join("b.csv"), "k,x\n3,1.5\n4,2.5\n").unwrap();
    // 1 + 2 + 1.5 + 2.5: the integers of a.csv and the decimals of b.csv, all read.
    let out = run_csv(dir.path(), "select count(x) as n, sum(x) as s from t").unwrap();
    assert_eq!(out, "n,s\n4,7.0\n");
    // Files whose columns differ are refused, naming both.
    std::fs::write(t.join("c.csv"), "k,y\n5,1\n").unwrap();
    let err = run_csv(dir.path(), "select count(*) from t").unwrap_err();
    assert!(
        err.contains("a.csv") && err.contains("c.csv") && err.contains("do not share one schema"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_csv_value_that_does_not_fit_its_column_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    // Inference sees the first thousand rows: integers. Line 1,502 (the header is
    // line 1) holds a word.
    let mut text = String::from("x\n");
    for i in 0..1500 {
        text.push_str(&format!("{i}\n"));
    }
    text.push_str("oops\n1\n");
    std::fs::write(dir.path().join("t.csv"), text).unwrap();
    let err = run_csv(dir.path(), "select sum(x) from t").unwrap_err();
    assert!(
        err.contains("t.csv") && err.contains("oops") && err.contains("line 1502"),
        "{err}"
    );
}

/// `skadi run` of a small query on TPC-H, rows to `-o <out>` (and more arguments).
fn run_to(out: &Path, more: &[&str]) -> std::process::Output {
    let c = tpch().to_str().unwrap().to_string();
    let mut args = vec![
        "run",
        "--catalog",
        &c,
        "-e",
        "select n_nationkey, n_name from nation order by n_nationkey",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(more);
    skadi(&args)
}

fn partial_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

#[test]
fn outputs_are_refused_unless_a_regular_file_and_symbolic_links_are_written_through() {
    let dir = tempfile::tempdir().unwrap();
    // A directory, a FIFO and a device are refused; each stays what it was.
    let out = run_to(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
    let fifo = dir.path().join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = run_to(&fifo, &["--format", "csv"]);
    assert!(stderr(&out).contains("not a regular file"), "{}", stderr(&out));
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    let out = run_to(Path::new("/dev/null"), &[]);
    assert!(stderr(&out).contains("not a regular file"), "{}", stderr(&out));
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    // A symbolic link is written through: the link stays, its target gets the rows.
    let target = dir.path().join("real.csv");
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink("real.csv", &link).unwrap();
    let out = run_to(&link, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .starts_with("n_nationkey,n_name\n0,ALGERIA\n")
    );
    // A symbolic link planted where a fixed temporary name would be is left alone, and
    // so is the file it points at.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep me").unwrap();
    let plain = dir.path().join("rows.csv");
    std::os::unix::fs::symlink(&victim, dir.path().join(".rows.csv.partial")).unwrap();
    assert!(run_to(&plain, &[]).status.success());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(std::fs::read_to_string(&plain).unwrap().contains("ALGERIA"));
}

#[test]
fn the_output_format_follows_the_extension_unless_format_says_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("rows.parquet");
    assert!(run_to(&parquet, &[]).status.success());
    let bytes = std::fs::read(&parquet).unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"), "not Parquet");
    let json = dir.path().join("rows.json");
    assert!(run_to(&json, &[]).status.success());
    assert!(
        std::fs::read_to_string(&json)
            .unwrap()
            .starts_with("{\"n_nationkey\":0,\"n_name\":\"ALGERIA\"}")
    );
    let forced = dir.path().join("rows.csv");
    assert!(run_to(&forced, &["--format", "json"]).status.success());
    assert!(std::fs::read_to_string(&forced).unwrap().starts_with('{'));
    assert!(partial_files(dir.path()).is_empty());
}

#[test]
fn two_runs_writing_one_output_each_write_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rows.csv");
    let c = tpch().to_str().unwrap().to_string();
    let spawn = |sql: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_skadi"))
            .args(["run", "--catalog", &c, "-e", sql, "-o", out.to_str().unwrap()])
            .spawn()
            .unwrap()
    };
    let a = "select l_orderkey, l_comment from lineitem where l_orderkey < 20000 order by l_orderkey, l_linenumber";
    let b = "select o_orderkey, o_comment from orders where o_orderkey < 20000 order by o_orderkey";
    let runs = [spawn(a), spawn(b)];
    for mut r in runs {
        assert!(r.wait().unwrap().success());
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let whole = |sql: &str| {
        let o = skadi(&["run", "--catalog", &c, "-e", sql, "--format", "csv"]);
        String::from_utf8(o.stdout).unwrap()
    };
    assert!(
        text == whole(a) || text == whole(b),
        "the output mixes the two runs' rows"
    );
    assert!(partial_files(dir.path()).is_empty());
}

#[test]
fn an_interrupted_run_leaves_no_partial_output() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("big.csv");
    let c = tpch().to_str().unwrap().to_string();
    let whole_len = {
        let o = skadi(&[
            "run",
            "--catalog",
            &c,
            "-e",
            "select * from lineitem",
            "--format",
            "csv",
        ]);
        o.stdout.len() as u64
    };
    for (signal, after_ms) in [("INT", 150), ("TERM", 400), ("HUP", 700), ("INT", 1000)] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_skadi"))
            .args([
                "run",
                "--catalog",
                &c,
                "-e",
                "select * from lineitem",
                "-o",
                out.to_str().unwrap(),
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(after_ms));
        let pid = child.id().to_string();
        std::process::Command::new("kill")
            .args(["-s", signal, &pid])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert!(
            partial_files(dir.path()).is_empty(),
            "SIG{signal} after {after_ms} ms left a partial file"
        );
        // Either the run finished before the signal, and the file is whole, or there is none.
        if out.exists() {
            assert_eq!(std::fs::metadata(&out).unwrap().len(), whole_len, "a cut output file");
            assert!(status.success() || status.code().is_some());
            std::fs::remove_file(&out).unwrap();
        }
    }
}

#[test]
fn a_long_result_prints_its_head_and_tail_and_its_row_count() {
    let c = tpch().to_str().unwrap().to_string();
    let out = skadi(&[
        "run",
        "--catalog",
        &c,
        "-e",
        "select o_orderkey from orders order by o_orderkey",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("150000 rows (40 shown)"), "{text}");
    assert!(text.contains('…') && text.lines().count() < 50, "{text}");
    assert!(
        text.contains("| 1          |") && text.contains("| 600000     |"),
        "{text}"
    );
}

#[test]
fn a_spec_output_of_an_unknown_kind_is_refused_before_anything_runs() {
    let dir = ml_tables();
    let spec = format!(
        "[pipeline]\ntables = \"{}\"\n\n[[step]]\nname = \"rows\"\nsql = \"SELECT x1 FROM linear\"\noutput = \"out.xyz\"\n",
        dir.path().join("ml").display()
    );
    let path = write(dir.path(), "p.toml", &spec);
    fails_with(
        &["run", &path],
        &["p.toml:7:10", "cannot tell the output format from '.xyz'"],
    );
}

#[test]
fn a_long_in_list_is_a_hash_lookup_with_the_oracle_s_answer() {
    // 20,000 constants: a body comparing each in turn would take minutes to compile.
    let keys: Vec<String> = (0..20_000).map(|i| (i * 7 + 1).to_string()).collect();
    let sql = format!(
        "select count(*) as n, sum(l_extendedprice) as s from lineitem where l_orderkey in ({}) and l_quantity > 10",
        keys.join(", ")
    );
    let session = skadi::Session::open(tpch()).unwrap().with_workers(2);
    let started = std::time::Instant::now();
    let ours = session.sql(&sql, "in.sql").unwrap();
    eprintln!("20,000-constant IN list: {:?}", started.elapsed());
    crate::common::assert_same_rows(
        &ours.batches,
        &crate::common::oracle(tpch(), &sql),
        "IN (20,000 constants)",
    );
    let plan = session.compile(&sql, "in.sql").unwrap().plan;
    assert!(
        skadi::explain(&plan).contains("match lineitem.l_orderkey eq"),
        "{}",
        skadi::explain(&plan)
    );
}

/// One number from a one-row CSV result.
fn single(dir: &Path, sql: &str) -> f64 {
    let out = run_csv(dir, sql).unwrap_or_else(|e| panic!("{e}\n{}", &sql[..sql.len().min(200)]));
    out.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn deep_and_long_sql_compiles_or_is_refused_by_name_never_overflowing() {
    let dir = tpch();
    let base = single(dir, "select sum(l_quantity) as s from lineitem");
    // Fifty nested parentheses and forty-eight nested CASEs: valid SQL, compiled.
    let parens = format!(
        "select sum({}l_quantity{}) as s from lineitem",
        "(".repeat(50),
        ")".repeat(50)
    );
    assert_eq!(single(dir, &parens), base);
    let mut case = "l_quantity".to_string();
    for i in 0..48 {
        case = format!("CASE WHEN l_quantity > -{i} THEN {case} ELSE -1 END");
    }
    assert_eq!(single(dir, &format!("select sum({case}) as s from lineitem")), base);
    // A chain of 900 additions: compiled, the closed form's answer.
    let chain = |n: usize| format!("select sum({}) as s from lineitem", vec!["l_quantity"; n].join(" + "));
    assert_eq!(single(dir, &chain(900)), 900.0 * base);
    // 10,000 terms: refused by name at the operator past the limit, not a stack overflow.
    let c = dir.to_str().unwrap().to_string();
    fails_with(
        &["run", "--catalog", &c, "-e", &chain(10_000)],
        &[
            "not supported yet: expressions nested more than 1000 operations deep",
            "<command line>:1:",
        ],
    );
    // Nested reserved-word calls around a syntax error: refused at once (sqlparser would
    // take time doubling with each level), as are valid ones nested that deep.
    let unbalanced = format!("select {}l_quantity) from lineitem", "ceil(".repeat(30));
    fails_with(
        &["run", "--catalog", &c, "-e", &unbalanced],
        &["nested more than 16 deep"],
    );
    // Forty CASEs nested around a syntax error: the error at once (sqlparser would parse
    // each level twice, were CASE not reserved).
    let cases = format!(
        "select {} else null end from lineitem",
        "case when l_quantity > 0 then ".repeat(40)
    );
    fails_with(
        &["run", "--catalog", &c, "-e", &cases],
        &["Expected: END, found: null", "<command line>:1:1214"],
    );
    // Chains of NOT and of INTERVAL before a syntax error: at once too.
    for word in ["not", "interval"] {
        let chain = format!(
            "select count(*) from lineitem where l_quantity > {} +",
            format!("{word} + ").repeat(40)
        );
        fails_with(&["run", "--catalog", &c, "-e", &chain], &["Expected: an expression"]);
    }
    // A scalar subquery of no columns, which DataFusion's planner panics on: an error.
    fails_with(
        &[
            "run",
            "--catalog",
            &c,
            "-e",
            "select count(*) from part where (select from partsupp where ps_partkey = p_partkey)",
        ],
        &["not supported yet: this query: DataFusion's planner failed on it"],
    );
    // FROM-first subqueries nested around a syntax error: parsed speculatively too.
    let joins = format!("select n_name from nation{} where", " join (from nation".repeat(30));
    fails_with(&["run", "--catalog", &c, "-e", &joins], &["nested more than 16 deep"]);
    // A dotted name of many parts before a syntax error: refused at once (sqlparser's
    // time doubles with each part).
    let dotted = format!(
        "select n_name from nation n1 where n1{}..n_name = 'x'",
        ".n_name".repeat(30)
    );
    fails_with(
        &["run", "--catalog", &c, "-e", &dotted],
        &["names of more than 8 dotted parts", "<command line>:1:"],
    );
    // An offset past any row count: no rows, not an internal error.
    let out = run_csv(
        dir,
        "select n_name from nation order by n_name limit 5 offset 9223372036854775807",
    )
    .unwrap();
    assert_eq!(out, "n_name\n");
    let out = run_csv(dir, "select n_name from nation limit 10 offset 9223372036854775807").unwrap();
    assert_eq!(out, "n_name\n");
}
