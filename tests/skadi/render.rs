//! Other forms of the physical plan: the MLIR module verifies, DOT renders with Graphviz,
//! and the `skadi viz` page draws every vertex in headless Chromium. Graphviz and Chromium
//! come from `scripts/setup.sh --test` (`make test` runs it and sets
//! SKADI_REQUIRE_TOOLS=1, so a missing tool fails there instead of skipping).

use crate::common::{query, skadi, stderr, tpch};
use skadi::Session;
use std::{path::Path, process::Command};

/// Whether `tool` is installed; without it a test skips, unless tools are required.
fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("SKADI_REQUIRE_TOOLS").is_none(),
            "{tool} is missing; run scripts/setup.sh --test"
        );
        eprintln!("skipping: {tool} is not installed (scripts/setup.sh --test installs it)");
    }
    found
}

fn plan_of(q: &str) -> skadi::PhysicalPlan {
    let session = Session::open(tpch()).unwrap().with_workers(2);
    session.compile(&query(q), &format!("{q}.sql")).unwrap().plan
}

fn q1_plan() -> skadi::PhysicalPlan {
    plan_of("q1")
}

#[test]
fn physical_plan_as_mlir_verifies_with_a_vertex_per_vertex() {
    let plan = q1_plan();
    let mlir = skadi::to_mlir(&plan).unwrap();
    assert_eq!(mlir.matches("\"flow.vertex\"").count(), plan.vertices.len(), "{mlir}");
    assert!(mlir.contains("\"flow.output\""), "{mlir}");
    assert!(
        mlir.contains("edges = [\"hash(lineitem.l_returnflag, lineitem.l_linestatus)\"]"),
        "{mlir}"
    );
    assert!(mlir.contains("func.func private @fused_0"), "{mlir}");
}

/// A vertex's inputs have different tables (a join's two sides): IRDL binds one type to
/// each operand group, so the vertex splits its inputs into `first` and `rest`.
#[test]
fn physical_plans_with_joins_verify_as_mlir() {
    for q in ["q5", "q13", "q21"] {
        let plan = plan_of(q);
        let mlir = skadi::to_mlir(&plan).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert!(mlir.contains("operandSegmentSizes = array<i32: 1, 1>"), "{q}: {mlir}");
    }
}

#[test]
fn dot_renders_with_graphviz() {
    if !have("dot") {
        return;
    }
    // Q5: six tables, five joins.
    let plan = plan_of("q5");
    let dot = skadi::to_dot(&plan);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q5.dot");
    std::fs::write(&path, &dot).unwrap();
    let out = Command::new("dot")
        .args(["-Tsvg", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(svg.contains("<svg"), "{svg}");
    assert!(svg.contains("hash_join"), "{svg}");
    for v in &plan.vertices {
        assert!(svg.contains(&format!("#{} ", v.id)), "vertex {} not drawn", v.id);
    }
    assert!(
        svg.contains("broadcast") && svg.contains("hash(nation.n_name)"),
        "the exchanges are not labelled"
    );
}

fn chromium(args: &[&str], page: &Path, profile: &Path) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1600,900",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

#[test]
fn viz_page_draws_every_vertex_in_headless_chromium() {
    if !have("chromium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // TPC-H Q5: six tables, five joins, broadcast and hash edges.
    let page = dir.path().join("q5.html");
    let q5 = format!("{}/queries/tpch/q5.sql", env!("CARGO_MANIFEST_DIR"));
    let c = tpch().to_str().unwrap().to_string();
    let out = skadi(&["viz", "-c", &c, "-w", "2", &q5, "-o", page.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let vertices = plan_of("q5").vertices.len();
    // The DOM after the page's script ran: one drawn box per vertex.
    let out = chromium(&["--dump-dom"], &page, &dir.path().join("profile1"));
    let dom = String::from_utf8_lossy(&out.stdout);
    assert_eq!(dom.matches("class=\"vertex\"").count(), vertices, "{dom}");
    assert!(dom.contains("<rect"), "{dom}");
    // And a screenshot of it.
    let shot = dir.path().join("q5.png");
    let out = chromium(
        &[&format!("--screenshot={}", shot.display())],
        &page,
        &dir.path().join("profile2"),
    );
    let png =
        std::fs::read(&shot).unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{} bytes", png.len());
}
