//! The MapReduce frontend: jobs against references computed here (a HashMap over the
//! same files, `grep -c`), the examples on data `skadi gen` makes, and bad specs.

use crate::common::{skadi, stderr};
use arrow::{
    array::{Array, AsArray},
    compute::cast,
    datatypes::DataType,
    record_batch::RecordBatch,
};
use regex::Regex;
use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    sync::OnceLock,
};

/// Generated corpora, once per test process: (text, logs).
fn corpora() -> &'static (PathBuf, PathBuf) {
    static DIRS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIRS.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mapreduce");
        let (text, logs) = (root.join("text"), root.join("logs"));
        skadi_workloads::corpus::generate_text(&text, 5, 3000, 7).unwrap();
        skadi_workloads::corpus::generate_logs(&logs, 3, 3000, 7).unwrap();
        (text, logs)
    })
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut f: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    f.sort();
    f
}

fn run_job(spec: &str, workers: usize) -> Vec<RecordBatch> {
    let session = skadi::Session::without_catalog().with_workers(workers);
    match session.job(spec, "job.toml") {
        Ok((result, _)) => result.batches,
        Err(e) => panic!("{e}"),
    }
}

/// (text key, i64 value) per row of a two-column result.
fn pairs(batches: &[RecordBatch]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for b in batches {
        let keys = cast(b.column(0), &DataType::Utf8).unwrap();
        let values = cast(b.column(1), &DataType::Int64).unwrap();
        for r in 0..b.num_rows() {
            let v = values.as_primitive::<arrow::datatypes::Int64Type>();
            assert!(
                out.insert(keys.as_string::<i32>().value(r).to_string(), v.value(r))
                    .is_none(),
                "duplicate key"
            );
        }
    }
    out
}

fn word_counts(dir: &Path) -> BTreeMap<String, i64> {
    let tokens = Regex::new(skadi_mapreduce::DEFAULT_TOKENS).unwrap();
    let mut counts: HashMap<String, i64> = HashMap::new();
    for f in files(dir) {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            for m in tokens.find_iter(line) {
                *counts.entry(m.as_str().to_lowercase()).or_default() += 1;
            }
        }
    }
    counts.into_iter().collect()
}

fn word_count_spec(dir: &Path, combiner: bool) -> String {
    format!(
        r#"
[input]
path = "{}"

[[map]]
tokens = "line"
as = "word"

[[map]]
lowercase = "word"

[reduce]
key = ["word"]
combiner = {combiner}
values = {{ n = "count(*)" }}
"#,
        dir.display()
    )
}

#[test]
fn word_count_matches_a_hashmap_over_the_same_files() {
    let (text, _) = corpora();
    let reference = word_counts(text);
    assert!(reference.len() > 500, "the corpus has a real vocabulary");
    for workers in [1, 3] {
        for combiner in [true, false] {
            let got = pairs(&run_job(&word_count_spec(text, combiner), workers));
            assert_eq!(got, reference, "workers {workers}, combiner {combiner}");
        }
    }
}

#[test]
fn word_count_plan_fuses_the_map_side_and_shuffles_on_the_word() {
    let (text, _) = corpora();
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("wc.toml");
    std::fs::write(&spec, word_count_spec(text, true)).unwrap();
    let out = skadi(&["explain", "--workers", "3", spec.to_str().unwrap()]);
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        plan.contains("fused [scan") && plan.contains("flat_map tokens(line") && plan.contains("partial_aggregate"),
        "{plan}"
    );
    assert!(plan.contains("hash(word)"), "{plan}");
    // Without a combiner the raw words are shuffled.
    std::fs::write(&spec, word_count_spec(text, false)).unwrap();
    let out = skadi(&["explain", "--workers", "3", spec.to_str().unwrap()]);
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(
        !plan.contains("partial_aggregate") && plan.contains("no combiner"),
        "{plan}"
    );
}

#[test]
fn grep_step_matches_grep_c() {
    let (text, _) = corpora();
    let spec = format!(
        r#"
[input]
path = "{}"

[[map]]
grep = "line"
regex = '\bkalo\b|^Mi'

[reduce]
key = ["file"]
values = {{ n = "count(*)" }}
"#,
        text.display()
    );
    let got = pairs(&run_job(&spec, 2));
    for f in files(text) {
        let out = std::process::Command::new("grep")
            .args(["-cE", r"\bkalo\b|^Mi"])
            .arg(&f)
            .output()
            .unwrap();
        let expected: i64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let name = f.file_name().unwrap().to_str().unwrap();
        assert_eq!(got.get(name).copied().unwrap_or(0), expected, "{name}");
        assert!(expected > 0);
    }
}

/// Runs each example with the CLI in a directory where `skadi gen` wrote its data.
#[test]
fn examples_run_on_generated_data() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let gen_ = |what: &str, out: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_skadi"))
            .current_dir(cwd)
            .args(["gen", what, "--out", out, "--files", "3", "--lines", "2000"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    };
    gen_("text", "data/text");
    gen_("logs", "data/logs");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mapreduce");
    let run = |name: &str| -> String {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_skadi"))
            .current_dir(cwd)
            .args(["run", "--format", "csv"])
            .arg(examples.join(name))
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };

    // Word count: the 20 most frequent words, ties by word.
    let mut expected: Vec<(String, i64)> = word_counts(&cwd.join("data/text")).into_iter().collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let expected: Vec<String> = expected[..20].iter().map(|(w, n)| format!("{w},{n}")).collect();
    let got: Vec<String> = run("wordcount.toml").lines().skip(1).map(String::from).collect();
    assert_eq!(got, expected);

    // grep -c, zeros included.
    let got = run("grep.toml");
    for f in files(&cwd.join("data/text")) {
        let out = std::process::Command::new("grep")
            .args(["-cP", r"\bkalo\b"])
            .arg(&f)
            .output()
            .unwrap();
        let n = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let line = format!("{},{n}", f.file_name().unwrap().to_str().unwrap());
        assert!(got.lines().any(|l| l == line), "{line} not in\n{got}");
    }

    // Inverted index: written to its output file, one row per long word, listing the
    // files that hold it.
    run("inverted-index.toml");
    let index = std::fs::read_to_string(cwd.join("out/inverted-index.csv")).unwrap();
    let words = word_counts(&cwd.join("data/text"));
    let long: Vec<&String> = words.keys().filter(|w| w.chars().count() >= 8).collect();
    assert_eq!(index.lines().count(), long.len() + 1, "{index}");
    assert!(index.starts_with("word,files,occurrences\n"));

    // Log analytics: requests per status as counted from the lines themselves.
    let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
    for f in files(&cwd.join("data/logs")) {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            *by_status.entry(fields[fields.len() - 2].to_string()).or_default() += 1;
        }
    }
    let got = run("log-analytics.toml");
    for (status, n) in by_status {
        assert!(
            got.lines().any(|l| l.starts_with(&format!("{status},{n},"))),
            "{status}: {n} not in\n{got}"
        );
    }
}

fn fails_with(spec: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, spec).unwrap();
    let out = skadi(&["run", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
}

#[test]
fn bad_specs_name_the_file_line_and_column() {
    let (text, _) = corpora();
    let input = format!("[input]\npath = \"{}\"\n", text.display());
    fails_with(
        &format!("{input}\n[[map]]\ntokens = \"line\"\ncolour = \"red\"\n"),
        &["bad.toml:6:1", "unknown field `colour`"],
    );
    fails_with(
        &format!("{input}\n[[map]]\ngrep = \"line\"\nregex = \"(unclosed\"\n"),
        &["bad.toml:6:9", "bad regular expression '(unclosed'"],
    );
    fails_with(
        "[input]\npath = \"/no/such/dir\"\n",
        &["bad.toml:2:8", "input '/no/such/dir' does not exist"],
    );
    fails_with(
        &format!("{input}\n[[map]]\nfilter = \"length(lin) > 3\"\n"),
        &["bad.toml:5:18", "lin"],
    );
    fails_with(
        &format!("{input}\n[[map]]\nfilter = \"line ~ '[a-'\"\n"),
        &["bad.toml:5:11", "bad regular expression"],
    );
    fails_with(
        &format!("{input}\n[[map]]\nsplit = \"line\"\nlowercase = \"line\"\n"),
        &["bad.toml:4:1", "has both 'split' and 'lowercase'"],
    );
    fails_with(
        &format!("{input}\n[reduce]\nkey = [\"word\"]\nvalues = {{ n = \"count(*)\" }}\n"),
        &["bad.toml:5:8", "no column 'word'"],
    );
    fails_with(
        &format!("{input}\n[reduce]\nkey = [\"file\"]\nvalues = {{ n = \"median(line)\" }}\n"),
        &["bad.toml:6:16", "unknown reduce function 'median'"],
    );
}

#[test]
fn collect_lists_each_group_s_values_sorted() {
    let (_, logs) = corpora();
    let spec = format!(
        r#"
[input]
path = "{}"

[[map]]
extract = "line"
regex = '"([A-Z]+) '
as = "method"

[[map]]
extract = "line"
regex = '" (\d{{3}}) '
as = "status"

[[map]]
filter = "status ~ '^5'"

[reduce]
key = ["method"]
values = {{ statuses = "collect_set(status)", n = "count(*)" }}
"#,
        logs.display()
    );
    let batches = run_job(&spec, 3);
    let mut rows = Vec::new();
    for b in &batches {
        for r in 0..b.num_rows() {
            rows.push((
                b.column(0).as_string::<i32>().value(r).to_string(),
                b.column(1).as_string::<i32>().value(r).to_string(),
            ));
        }
        assert_eq!(b.column(2).null_count(), 0);
    }
    rows.sort();
    let methods: Vec<&str> = rows.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(methods, ["GET", "POST", "PUT"]);
    for (_, statuses) in rows {
        assert_eq!(statuses, "500, 502, 503");
    }
}
