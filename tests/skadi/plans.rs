//! Physical plans as data: a saved JSON plan runs to the same answer, explain shows the
//! sharding, and damaged plan files are rejected clearly.

use crate::common::{assert_same_rows, oracle, query, skadi, stderr, tpch};
use skadi::{PhysicalPlan, Session};

#[test]
fn saved_plan_runs_to_the_same_answer() {
    let session = Session::open(tpch()).unwrap().with_workers(3);
    // Q1 (aggregation) and Q21 (inner, semi and anti joins with filters, string matches).
    for q in ["q1", "q21"] {
        let sql = query(q);
        let plan = session.compile(&sql, &format!("{q}.sql")).unwrap().plan;
        let json = plan.to_json();
        let loaded = PhysicalPlan::from_json(&json, &format!("{q}.plan.json")).unwrap();
        assert_eq!(loaded, plan);
        let ours = Session::without_catalog()
            .with_workers(3)
            .run_plan(&loaded, None)
            .unwrap();
        assert_same_rows(&ours.batches, &oracle(tpch(), &sql), &format!("{q} from a saved plan"));
    }
}

#[test]
fn cli_saves_and_runs_a_plan() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("q6.plan.json");
    let q6 = format!("{}/queries/tpch/q6.sql", env!("CARGO_MANIFEST_DIR"));
    let c = tpch().to_str().unwrap().to_string();
    let out = skadi(&[
        "compile",
        "--catalog",
        &c,
        &q6,
        "--emit",
        "json",
        "-o",
        plan.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let direct = skadi(&["run", "--catalog", &c, &q6, "--format", "csv"]);
    let saved = skadi(&["run", "--plan", plan.to_str().unwrap(), "--format", "csv"]);
    assert!(saved.status.success(), "{}", stderr(&saved));
    assert_eq!(saved.stdout, direct.stdout);
}

#[test]
fn corrupted_and_mismatched_plans_are_rejected() {
    let session = Session::open(tpch()).unwrap();
    let json = session.compile(&query("q6"), "q6.sql").unwrap().plan.to_json();
    let truncated = &json[..json.len() / 2];
    let err = PhysicalPlan::from_json(truncated, "cut.json").unwrap_err().to_string();
    assert!(
        err.starts_with("cut.json:") && err.contains("malformed physical plan"),
        "{err}"
    );
    let newer = json.replacen(&format!("\"version\": {}", skadi::PLAN_VERSION), "\"version\": 99", 1);
    let err = PhysicalPlan::from_json(&newer, "new.json").unwrap_err().to_string();
    assert!(err.contains("version 99 is not supported"), "{err}");
    let dangling = json.replacen("\"output\": ", "\"output\": 1000", 1);
    let err = PhysicalPlan::from_json(&dangling, "dangling.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("output vertex") && err.contains("does not exist"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.json");
    std::fs::write(&path, truncated).unwrap();
    let out = skadi(&["run", "--plan", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("malformed physical plan"), "{}", stderr(&out));
}

#[test]
fn explain_shows_stages_exchanges_and_reasons() {
    let c = tpch().to_str().unwrap().to_string();
    let q1 = format!("{}/queries/tpch/q1.sql", env!("CARGO_MANIFEST_DIR"));
    let out = skadi(&["explain", "--catalog", &c, "--workers", "4", &q1]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "Stage 0 — 4 shard(s)",
        "scan lineitem",
        "partial_aggregate",
        "hash(lineitem.l_returnflag, lineitem.l_linestatus) from #",
        "final_aggregate",
        "gather",
        "sort",
        "why:",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn bench_prints_ratios_against_datafusion() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sf0.01");
    let out = skadi(&[
        "bench",
        "tpch",
        "--scale",
        "0.01",
        "--data",
        data.to_str().unwrap(),
        "--runs",
        "1",
        "--workers",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in ["skadi/datafusion", "q1 ", "q6 ", "geomean ratio"] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

/// A plan whose stage runs on `gpu`: every vertex of the last stage moved there.
fn on_an_unregistered_backend(session: &Session) -> PhysicalPlan {
    let mut plan = session.compile(&query("q6"), "q6.sql").unwrap().plan;
    let last = plan.stages.last().unwrap().vertices.clone();
    for v in last {
        plan.vertices[v].backend = "gpu".into();
    }
    plan.check().expect("moving a whole stage keeps the plan consistent");
    plan
}

#[test]
fn a_plan_naming_an_unregistered_backend_is_refused_before_any_task_runs() {
    let session = Session::open(tpch()).unwrap().with_workers(2);
    let plan = on_an_unregistered_backend(&session);
    let moved = plan.stages.last().unwrap().vertices[0];
    let tasks = std::sync::atomic::AtomicUsize::new(0);
    let count = |_: usize, _: usize| {
        tasks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    };
    let err = session
        .run_plan(&plan, Some(&count))
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains(&format!("vertex #{moved}"))
            && err.contains("backend 'gpu', which is not registered")
            && err.contains("(registered: cpu)"),
        "{err}"
    );
    assert_eq!(tasks.load(std::sync::atomic::Ordering::SeqCst), 0, "a task ran");

    // The same from a saved plan on the command line: a clear error and a failing exit.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q6-gpu.plan.json");
    std::fs::write(&path, plan.to_json()).unwrap();
    let out = skadi(&["run", "--plan", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("backend 'gpu', which is not registered (registered: cpu)"),
        "{}",
        stderr(&out)
    );
    assert!(
        out.stdout.is_empty(),
        "printed rows: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_stage_whose_vertices_name_two_backends_is_inconsistent() {
    let session = Session::open(tpch()).unwrap().with_workers(2);
    let mut plan = session.compile(&query("q6"), "q6.sql").unwrap().plan;
    let stage = plan
        .stages
        .iter()
        .find(|s| s.vertices.len() > 1)
        .expect("a stage of two vertices");
    let second = stage.vertices[1];
    plan.vertices[second].backend = "gpu".into();
    let err = PhysicalPlan::from_json(&plan.to_json(), "mixed.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("mixes backends") && err.contains("'gpu'"), "{err}");
}

#[test]
fn order_by_limit_cuts_every_shard_before_gathering() {
    let sql = "select l_orderkey, l_linenumber, l_extendedprice from lineitem \
               order by l_extendedprice desc, l_orderkey, l_linenumber limit 7";
    let session = Session::open(tpch()).unwrap().with_workers(4);
    let plan = session.compile(sql, "top.sql").unwrap().plan;
    let text = skadi::explain(&plan);
    let top_k: Vec<_> = plan
        .vertices
        .iter()
        .filter(|v| v.op.flatten().iter().any(|o| o.name() == "top_k"))
        .collect();
    assert_eq!(
        top_k.len(),
        2,
        "a top-k per shard, then one over the gathered rows\n{text}"
    );
    assert!(top_k[0].parallelism > 1 && top_k[1].parallelism == 1, "{text}");
    assert!(
        text.contains("top_k [lineitem.l_extendedprice DESC NULLS FIRST"),
        "{text}"
    );
    let ours = session.run_plan(&plan, None).unwrap();
    assert_same_rows(&ours.batches, &oracle(tpch(), sql), "ORDER BY ... LIMIT 7");
}

#[test]
fn a_window_is_hash_partitioned_on_its_partition_keys_and_survives_a_saved_plan() {
    let sql = "select o_custkey, o_orderkey, rank() over (partition by o_custkey order by o_totalprice desc) as r, \
               sum(o_totalprice) over (partition by o_custkey order by o_orderkey rows between 1 preceding and current row) as s \
               from orders where o_custkey < 500 order by o_custkey, o_orderkey";
    let session = Session::open(tpch()).unwrap().with_workers(4);
    let plan = session.compile(sql, "window.sql").unwrap().plan;
    let text = skadi::explain(&plan);
    let window = plan
        .vertices
        .iter()
        .find(|v| v.op.flatten().iter().any(|o| o.name() == "window"))
        .unwrap_or_else(|| panic!("no window vertex\n{text}"));
    assert!(window.parallelism > 1, "{text}");
    assert!(
        matches!(&window.inputs[0].partitioning, skadi_common::Partitioning::Hash { keys, .. } if keys == &["orders.o_custkey"]),
        "{text}"
    );
    let loaded = PhysicalPlan::from_json(&plan.to_json(), "window.plan.json").unwrap();
    assert_eq!(loaded, plan);
    let ours = Session::without_catalog()
        .with_workers(4)
        .run_plan(&loaded, None)
        .unwrap();
    assert_same_rows(&ours.batches, &oracle(tpch(), sql), "a window from a saved plan");
}
