//! Golden tests for FlowGraph passes: each `tests/passes/*.mlir` file is an input module
//! whose comments say which passes to run (`// PASSES: a,b`) and what the output must hold,
//! FileCheck-style: `// CHECK: text` (found after the previous match), `// CHECK-NEXT:`
//! (on the next line), `// CHECK-SAME: text` (on the line last matched), `// CHECK-NOT: text` (absent between the surrounding matches),
//! `// CHECK-COUNT-N: text` (exactly N lines in the whole output). The output is printed
//! without locations.

use skadi::FlowGraph;
use skadi_compiler::passes::PassManager;
use std::path::Path;

enum Check {
    Find(String),
    Next(String),
    Same(String),
    Not(String),
    Count(usize, String),
}

fn directives(text: &str) -> (Vec<String>, Vec<Check>) {
    let mut passes = Vec::new();
    let mut checks = Vec::new();
    for line in text.lines() {
        let Some(comment) = line.trim().strip_prefix("//") else {
            continue;
        };
        let comment = comment.trim();
        let Some((directive, rest)) = comment.split_once(':') else {
            continue;
        };
        let rest = rest.trim().to_string();
        match directive {
            "PASSES" => passes = rest.split(',').map(|p| p.trim().to_string()).collect(),
            "CHECK" => checks.push(Check::Find(rest)),
            "CHECK-NEXT" => checks.push(Check::Next(rest)),
            "CHECK-SAME" => checks.push(Check::Same(rest)),
            "CHECK-NOT" => checks.push(Check::Not(rest)),
            d if d.starts_with("CHECK-COUNT-") => {
                let n = d["CHECK-COUNT-".len()..].parse().expect("CHECK-COUNT-N takes a number");
                checks.push(Check::Count(n, rest));
            }
            _ => {}
        }
    }
    (passes, checks)
}

/// Checks `output` against `checks`; returns the first failure.
fn file_check(output: &str, checks: &[Check]) -> Result<(), String> {
    let lines: Vec<&str> = output.lines().collect();
    let mut at = 0; // the next line to search from
    let mut nots: Vec<&str> = Vec::new(); // CHECK-NOTs waiting for the next match
    let not_between = |nots: &[&str], from: usize, to: usize| -> Result<(), String> {
        for n in nots {
            if let Some(l) = lines[from..to].iter().find(|l| l.contains(n)) {
                return Err(format!("CHECK-NOT: {n} matched: {l}"));
            }
        }
        Ok(())
    };
    for check in checks {
        match check {
            Check::Find(p) => {
                let found = (at..lines.len())
                    .find(|&i| lines[i].contains(p.as_str()))
                    .ok_or_else(|| format!("CHECK: {p} not found after line {at}"))?;
                not_between(&nots, at, found)?;
                nots.clear();
                at = found + 1;
            }
            Check::Next(p) => {
                if !lines.get(at).is_some_and(|l| l.contains(p.as_str())) {
                    return Err(format!(
                        "CHECK-NEXT: {p} is not on line {}: {:?}",
                        at + 1,
                        lines.get(at)
                    ));
                }
                at += 1;
            }
            Check::Same(p) => {
                if at == 0 || !lines[at - 1].contains(p.as_str()) {
                    return Err(format!("CHECK-SAME: {p} is not on the matched line {at}"));
                }
            }
            Check::Not(p) => nots.push(p),
            Check::Count(n, p) => {
                let count = lines.iter().filter(|l| l.contains(p.as_str())).count();
                if count != *n {
                    return Err(format!("CHECK-COUNT-{n}: {p} found {count} times"));
                }
            }
        }
    }
    not_between(&nots, at.min(lines.len()), lines.len())
}

#[test]
fn every_pass_matches_its_golden_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passes");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mlir"))
        .collect();
    files.sort();
    let mut covered = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let (passes, checks) = directives(&text);
        assert!(
            !passes.is_empty() && !checks.is_empty(),
            "{}: needs PASSES and CHECK lines",
            path.display()
        );
        covered.extend(passes.iter().cloned());
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut graph = FlowGraph::parse(&text, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
        PassManager::new(&passes)
            .unwrap()
            .run(&mut graph, |_, _| {})
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let output = graph.print();
        if let Err(e) = file_check(&output, &checks) {
            failures.push(format!("{name}: {e}\n--- output ---\n{output}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for pass in skadi_compiler::passes::all_passes() {
        assert!(covered.contains(pass.name()), "pass {} has no golden test", pass.name());
    }
}

#[test]
fn the_checker_catches_what_it_should() {
    let out = "a\nb\nc\n";
    assert!(file_check(out, &[Check::Find("a".into()), Check::Next("b".into())]).is_ok());
    assert!(file_check(out, &[Check::Find("a".into()), Check::Next("c".into())]).is_err());
    assert!(file_check(out, &[Check::Find("c".into()), Check::Find("a".into())]).is_err());
    assert!(
        file_check(
            out,
            &[Check::Find("a".into()), Check::Not("b".into()), Check::Find("c".into())]
        )
        .is_err()
    );
    assert!(file_check(out, &[Check::Not("z".into())]).is_ok());
    assert!(file_check(out, &[Check::Find("b".into()), Check::Same("b".into())]).is_ok());
    assert!(file_check(out, &[Check::Find("b".into()), Check::Same("c".into())]).is_err());
    assert!(file_check(out, &[Check::Count(1, "b".into())]).is_ok());
}
