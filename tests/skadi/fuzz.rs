//! Fuzzing by mutation, on stable Rust: each target takes a corpus of real inputs (the
//! TPC-H queries and the expression suite; the example job and pipeline specs; saved
//! plans, set operations, literal rows and three-valued bodies among them; Substrait plans
//! of TPC-H queries), mutates them (tokens deleted, repeated, swapped or replaced by edge
//! values, text cut, spans nested; for plans, JSON values changed, removed and repeated)
//! and feeds them to the library, asserting: no panic (an abort ends the process, which
//! fails the run too), no hang (an input that runs 30 s ends the process, saying so), and
//! a located error or a result.
//!
//! Each target runs `SKADI_FUZZ_SECONDS` (default 6) from seed `SKADI_FUZZ_SEED`
//! (default: fixed, so CI is repeatable); a failing input is written to
//! `target/fuzz-findings/`, and each input is written there as `<target>-in-flight.txt`
//! before it runs, so one that kills the process (an abort, a stack overflow, a hang) is
//! kept. Longer runs: `SKADI_FUZZ_SECONDS=900 SKADI_FUZZ_SEED=$RANDOM cargo test
//! --release --test skadi fuzz -- --test-threads=1 --nocapture`.

use crate::common::query;
use skadi::{Session, Source, SourceKind};
use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

/// xorshift64*: small, fast, and the same sequence from the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn budget() -> Duration {
    let seconds = std::env::var("SKADI_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6.0);
    Duration::from_secs_f64(seconds)
}

fn seed(target: &str) -> u64 {
    let base = std::env::var("SKADI_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_5ead_1234_u64);
    // Every bit of the seed counts (seeds 2 and 3 once ran the same inputs).
    target.bytes().fold(base.wrapping_mul(0x9e37_79b9_7f4a_7c15), |h, b| {
        h.rotate_left(7) ^ u64::from(b)
    }) | 1
}

/// Splits text into tokens: words, runs of blanks, and single other characters.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let mut t = c.to_string();
        let same = |a: char, b: char| (a.is_alphanumeric() || a == '_') == (b.is_alphanumeric() || b == '_');
        if c.is_alphanumeric() || c == '_' || c.is_whitespace() {
            while let Some(&n) = chars.peek() {
                if same(c, n) && c.is_whitespace() == n.is_whitespace() {
                    t.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
        }
        out.push(t);
    }
    out
}

/// One mutation of `text`, drawing replacements from `dictionary`.
fn mutate(rng: &mut Rng, text: &str, dictionary: &[String]) -> String {
    let mut t = tokens(text);
    if t.is_empty() {
        return rng.pick(dictionary).clone();
    }
    let i = rng.below(t.len());
    match rng.below(9) {
        0 => {
            t.remove(i);
        }
        1 => {
            let x = t[i].clone();
            t.insert(i, x);
        }
        2 => t[i] = rng.pick(dictionary).clone(),
        3 => t.insert(i, rng.pick(dictionary).clone()),
        4 => {
            let j = rng.below(t.len());
            t.swap(i, j);
        }
        5 => t.truncate(i),
        6 => {
            // Repeat a span several times: long chains and deep nesting.
            let j = (i + 1 + rng.below(8)).min(t.len());
            let span: Vec<String> = t[i..j].to_vec();
            for _ in 0..rng.below(40) {
                t.splice(i..i, span.iter().cloned());
            }
        }
        7 => {
            // Wrap a span in parentheses or a CASE, many times over.
            let j = (i + 1 + rng.below(6)).min(t.len());
            let depth = 1 + rng.below(30);
            let (open, close) = if rng.below(2) == 0 {
                ("(".to_string(), ")".to_string())
            } else {
                ("CASE WHEN 1 = 1 THEN ".to_string(), " ELSE NULL END".to_string())
            };
            for _ in 0..depth {
                t.insert(j.min(t.len()), close.clone());
                t.insert(i, open.clone());
            }
        }
        _ => {
            let c = char::from(rng.below(95) as u8 + 32);
            t[i] = c.to_string();
        }
    }
    t.concat()
}

/// Edge values and tokens mutations splice in, besides the corpus' own words.
const EDGES: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "1",
    "2",
    "NULL",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "1e308",
    "-1e308",
    "0.5",
    "1e-320",
    "NaN",
    "''",
    "'x'",
    "\"\"",
    "'%'",
    "'\\'",
    "(",
    ")",
    ",",
    ";",
    ".",
    "*",
    "/",
    "-",
    "+",
    "=",
    "<>",
    "||",
    "[",
    "]",
    "{",
    "}",
    "[[step]]",
    "true",
    "false",
    "AND",
    "OR",
    "NOT",
    "IS",
    "IN",
    "LIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "ON",
    "UNION",
    "EXISTS",
    "DISTINCT",
    "AS",
    "CAST",
    "DATE '1995-01-01'",
    "INTERVAL '1' DAY",
    "count(*)",
    "sum(",
    "avg(",
    "\u{e9}",
    "\u{1F600}",
    "\n",
    "\t",
    "\"\\u0000\"",
];

fn dictionary(corpus: &[String]) -> Vec<String> {
    let mut words: Vec<String> = corpus
        .iter()
        .flat_map(|c| tokens(c))
        .filter(|t| t.chars().any(|c| c.is_alphanumeric()))
        .collect();
    words.sort();
    words.dedup();
    words.extend(EDGES.iter().map(|e| e.to_string()));
    words
}

/// What one input did.
enum Outcome {
    Ok,
    /// An error that says where (the source's name in it).
    Located,
    /// An error that does not: a finding, as is any panic.
    Unlocated(String),
}

/// How long one input may run before it counts as a hang.
const HANG: Duration = Duration::from_secs(30);

/// Runs `check` on mutants of `corpus` (one to `rounds` mutations each, by `mutator`)
/// for the budget; returns (executions, findings). An input that runs past [`HANG`]
/// ends the process (a thread cannot be stopped), saying so; the input is on disk as
/// `<target>-in-flight.txt`.
fn fuzz(
    target: &str,
    corpus: &[String],
    rounds: usize,
    mutator: fn(&mut Rng, &str, &[String]) -> String,
    check: impl Fn(&str) -> Outcome,
) -> (usize, Vec<String>) {
    let deadline = Instant::now() + budget();
    let dictionary = dictionary(corpus);
    let mut rng = Rng(seed(target));
    let (mut runs, mut findings) = (0, Vec::new());
    // The number of the input running (0: none, the run is over).
    let running = AtomicUsize::new(1);
    std::thread::scope(|scope| {
        scope.spawn(|| watch(target, &running));
        while Instant::now() < deadline {
            let mut input = rng.pick(corpus).clone();
            for _ in 0..1 + rng.below(rounds) {
                input = mutator(&mut rng, &input, &dictionary);
            }
            runs += 1;
            in_flight(target, &input);
            running.store(runs, Ordering::Release);
            let finding = match catch_unwind(AssertUnwindSafe(|| check(&input))) {
                Ok(Outcome::Ok | Outcome::Located) => continue,
                Ok(Outcome::Unlocated(e)) => format!("unlocated error: {e}"),
                Err(p) => {
                    let message = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    format!("panic: {message}")
                }
            };
            findings.push(save(target, &input, &finding));
        }
        running.store(0, Ordering::Release);
    });
    eprintln!("fuzz {target}: {runs} executions, {} findings", findings.len());
    (runs, findings)
}

/// Ends the process when the input numbered in `running` stays the same for [`HANG`].
fn watch(target: &str, running: &AtomicUsize) {
    let tick = Duration::from_millis(100);
    let (mut seen, mut since) = (usize::MAX, Instant::now());
    loop {
        std::thread::sleep(tick);
        let now = running.load(Ordering::Acquire);
        if now == 0 {
            return;
        }
        if now != seen {
            (seen, since) = (now, Instant::now());
        } else if since.elapsed() > HANG {
            let input = findings_dir().join(format!("{target}-in-flight.txt"));
            eprintln!(
                "fuzz {target}: input {now} has run for more than {} s, a hang: it is in {}",
                HANG.as_secs(),
                input.display()
            );
            std::process::exit(101);
        }
    }
}

fn findings_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../fuzz-findings");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The input about to run, on disk: if it aborts the process, it is what did it.
fn in_flight(target: &str, input: &str) {
    let _ = std::fs::write(findings_dir().join(format!("{target}-in-flight.txt")), input);
}

fn save(target: &str, input: &str, finding: &str) -> String {
    let dir = findings_dir();
    let hash = input.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let path = dir.join(format!("{target}-{hash:016x}.txt"));
    let _ = std::fs::write(&path, format!("{finding}\n---\n{input}"));
    format!("{finding} (input in {})", path.display())
}

fn judge(result: Result<(), skadi::Error>, name: &str) -> Outcome {
    match result {
        Ok(()) => Outcome::Ok,
        Err(e) => {
            let text = e.to_string();
            if text.contains("panicked") {
                Outcome::Unlocated(format!("a task panicked: {text}"))
            } else if text.contains(name) {
                Outcome::Located
            } else {
                Outcome::Unlocated(text)
            }
        }
    }
}

fn assert_clean(target: &str, (runs, findings): (usize, Vec<String>)) {
    assert!(runs > 0, "{target}: nothing ran");
    assert!(
        findings.is_empty(),
        "{target}: {} of {runs} inputs found something:\n{}",
        findings.len(),
        findings.join("\n")
    );
}

/// TPC-H at SF 0.001 (a few thousand rows): plans from mutated JSON run on it.
fn tiny_tpch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tpch-sf0.001");
        if !dir.join(".complete").exists() {
            skadi_workloads::tpch::generate(&dir, 0.001, 1, |_, _| {}).expect("TPC-H generation");
            std::fs::write(dir.join(".complete"), "").unwrap();
        }
        dir
    })
}

fn sql_corpus() -> Vec<String> {
    let mut corpus: Vec<String> = (1..=22).map(|q| query(&format!("q{q}"))).collect();
    let suite =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/expressions.slt")).unwrap();
    for block in suite.split("\n\n") {
        let sql: Vec<&str> = block
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("query") && !l.starts_with("unsupported"))
            .collect();
        if !sql.is_empty() {
            corpus.push(sql.join("\n"));
        }
    }
    corpus
}

#[test]
fn fuzz_sql_text() {
    let session = Session::open(tiny_tpch()).unwrap().with_workers(2);
    let result = fuzz("sql", &sql_corpus(), 4, mutate, |sql| {
        judge(session.compile(sql, "fuzz.sql").map(|_| ()), "fuzz.sql")
    });
    assert_clean("sql", result);
}

/// Small data for the example specs: text, logs, ML tables and TPC-H, as `data/` holds
/// them after `skadi gen`.
fn spec_data() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-data");
        if !dir.join(".complete").exists() {
            skadi_workloads::corpus::generate_text(&dir.join("text"), 2, 200, 1).unwrap();
            skadi_workloads::corpus::generate_logs(&dir.join("logs"), 2, 200, 1).unwrap();
            skadi_workloads::corpus::generate_ml(&dir.join("ml"), 300, 3, 3, 1).unwrap();
            std::fs::write(dir.join(".complete"), "").unwrap();
        }
        dir
    })
}

/// The example specs of one kind, reading `spec_data()` and TPC-H SF 0.001.
fn specs(dir: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = spec_data().display().to_string();
    let tpch = tiny_tpch().display().to_string();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root.join(dir)).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text
                .replace("\"data/tpch-sf0.1", &format!("\"{tpch}"))
                .replace("\"data/", &format!("\"{data}/"))
                .replace("\"out/", &format!("\"{data}/out/"));
            out.push(text);
        }
    }
    out
}

fn compile_spec(kind: SourceKind, text: &str) -> Outcome {
    let source = Source::new(kind, text, "fuzz.toml");
    judge(
        Session::without_catalog()
            .with_workers(2)
            .compile_source(&source, |_, _| {})
            .map(|_| ()),
        "fuzz.toml",
    )
}

#[test]
fn fuzz_job_specs() {
    let result = fuzz("job", &specs("examples/mapreduce"), 4, mutate, |text| {
        compile_spec(SourceKind::Job, text)
    });
    assert_clean("job", result);
}

#[test]
fn fuzz_pipeline_specs() {
    let mut corpus = specs("examples/ml");
    corpus.extend(specs("examples/pipelines"));
    let result = fuzz("pipeline", &corpus, 4, mutate, |text| {
        compile_spec(SourceKind::Pipeline, text)
    });
    assert_clean("pipeline", result);
}

/// Every path to a value in a JSON document.
fn json_paths(v: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                at.push(k.clone());
                json_paths(x, at, out);
                at.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(i.to_string());
                json_paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn json_at<'a>(v: &'a mut serde_json::Value, path: &[String]) -> &'a mut serde_json::Value {
    path.iter().fold(v, |v, k| match v {
        serde_json::Value::Object(m) => m.get_mut(k).expect("a path found in this value"),
        serde_json::Value::Array(a) => &mut a[k.parse::<usize>().expect("an index")],
        _ => unreachable!("paths end at leaves"),
    })
}

/// One structural mutation of a JSON plan.
fn mutate_json(rng: &mut Rng, text: &str, dictionary: &[String]) -> String {
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(text) else {
        return mutate(rng, text, dictionary);
    };
    let mut paths = Vec::new();
    json_paths(&v, &mut Vec::new(), &mut paths);
    let path = rng.pick(&paths).clone();
    let numbers = [0i64, 1, 2, 3, -1, 7, 99, 1 << 40, i64::MAX, i64::MIN];
    let (choice, number, word, r) = (
        rng.below(4),
        *rng.pick(&numbers),
        rng.pick(dictionary).clone(),
        rng.next(),
    );
    let node = json_at(&mut v, &path);
    match node {
        serde_json::Value::Number(_) => *node = serde_json::json!(number),
        serde_json::Value::String(_) if choice == 0 => *node = serde_json::json!(""),
        serde_json::Value::String(_) => *node = serde_json::json!(word),
        serde_json::Value::Array(a) if choice == 0 && !a.is_empty() => {
            a.remove(r as usize % a.len());
        }
        serde_json::Value::Array(a) if choice == 1 && !a.is_empty() => {
            let x = a[r as usize % a.len()].clone();
            a.push(x);
        }
        serde_json::Value::Array(a) => a.clear(),
        serde_json::Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            m.remove(&keys[r as usize % keys.len()]);
        }
        serde_json::Value::Bool(b) => *b = !*b,
        n => *n = serde_json::json!(null),
    }
    serde_json::to_string_pretty(&v).expect("JSON values print")
}

#[test]
fn fuzz_saved_plans() {
    let data = tiny_tpch();
    let session = Session::open(data).unwrap().with_workers(2);
    let mut sources: Vec<(String, String)> = ["q1", "q3", "q6", "q13", "q18", "q21"]
        .iter()
        .map(|q| (query(q), format!("{q}.sql")))
        .collect();
    // Set operations and literal rows: a union, values, a union's grouping.
    sources.push((
        "select k, count(*) as n from (select n_regionkey as k from nation union all select r_regionkey from region \
         union select k from (values (1), (7), (null)) as v(k)) group by k order by k"
            .into(),
        "sets.sql".into(),
    ));
    // Three-valued bodies: NULLs from an outer join, tested and replaced.
    sources.push((
        "select c_custkey, case when o_orderkey is null then -1 else o_totalprice end as t, coalesce(o_orderkey, 0) as k \
         from customer left join orders on c_custkey = o_custkey where o_totalprice > 1000 or o_orderkey is null"
            .into(),
        "nulls.sql".into(),
    ));
    let corpus: Vec<String> = sources
        .iter()
        .map(|(sql, name)| session.compile(sql, name).unwrap().plan.to_json())
        .collect();
    let runner = Session::without_catalog().with_workers(2);
    let result = fuzz("plan", &corpus, 3, mutate_json, |input| {
        let source = Source::new(SourceKind::Plan, input, "fuzz.plan.json");
        let run = runner
            .compile_source(&source, |_, _| {})
            .and_then(|c| runner.run_plan(&c.plan, None).map(|_| ()));
        // A plan that loads was checked; an error running it names its vertex.
        match run {
            Err(skadi::Error::Runtime(e)) if !e.to_string().contains("panicked") => Outcome::Located,
            other => judge(other, "fuzz.plan.json"),
        }
    });
    assert_clean("plan", result);
}

#[test]
fn fuzz_substrait_plans() {
    let session = Session::open(tiny_tpch()).unwrap().with_workers(2);
    let corpus: Vec<String> = ["q2", "q4", "q9", "q13", "q16", "q18", "q20", "q22"]
        .iter()
        .map(|q| {
            let json = session.substrait(&query(q), q, skadi::SubstraitEncoding::Json).unwrap();
            String::from_utf8(json).unwrap()
        })
        .collect();
    let result = fuzz("substrait", &corpus, 3, mutate_json, |input| {
        let run = Source::substrait(input.as_bytes(), "fuzz.substrait.json")
            .and_then(|source| session.compile_source(&source, |_, _| {}))
            .and_then(|c| session.run_plan(&c.plan, None).map(|_| ()));
        // A plan that compiles runs over checked operators; an error running it names
        // its vertex.
        match run {
            Err(skadi::Error::Runtime(e)) if !e.to_string().contains("panicked") => Outcome::Located,
            other => judge(other, "fuzz.substrait.json"),
        }
    });
    assert_clean("substrait", result);
}
