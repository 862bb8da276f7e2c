//! The cost model behind backend choice. A device profile describes a backend: the
//! operators it runs, its throughput, memory and the bandwidth of moving data to it (see
//! docs/DEVICE_PROFILES.md; defaults are built in, a file can replace them). Lowering
//! estimates each vertex's rows and bytes from statistics and gives the vertex to the
//! cheapest backend that is registered, runs its operator and holds its data.

use serde::{Deserialize, Serialize};
use skadi_common::{Column, ColumnType, Operator};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeviceProfile {
    /// The backend's name, as vertices and `Backend::name` spell it.
    pub backend: String,
    pub description: String,
    /// Operator names it runs (`scan`, `pipeline`, `partial_aggregate`, ...; a fused vertex
    /// needs all of its steps).
    pub operators: Vec<String>,
    /// Rows per second through a row-wise body.
    pub rows_per_second: f64,
    /// Bytes per second it reads and writes in its own memory.
    pub bytes_per_second: f64,
    /// Memory a vertex's data must fit in.
    pub memory_bytes: u64,
    /// Host ↔ device bandwidth; `null` when it works in host memory.
    pub transfer_bytes_per_second: Option<f64>,
    /// Fixed cost of starting work on it.
    pub launch_overhead_seconds: f64,
}

/// The built-in profiles: the host CPU, a CUDA GPU and an OpenCL FPGA.
pub fn builtin_profiles() -> Vec<DeviceProfile> {
    [
        include_str!("../profiles/cpu.json"),
        include_str!("../profiles/gpu.json"),
        include_str!("../profiles/fpga.json"),
    ]
    .iter()
    .map(|text| DeviceProfile::from_json(text, "built-in profile").expect("built-in profiles parse"))
    .collect()
}

impl DeviceProfile {
    /// Reads a profile; `path` names it in errors (with line and column).
    pub fn from_json(text: &str, path: &str) -> Result<DeviceProfile, String> {
        serde_json::from_str(text).map_err(|e| format!("{path}:{}:{}: {e}", e.line(), e.column()))
    }

    pub fn supports(&self, op: &Operator) -> bool {
        op.flatten()
            .iter()
            .all(|o| self.operators.iter().any(|n| n == o.name()))
    }

    /// Estimated seconds to run a vertex over `rows` rows of `bytes` bytes.
    pub fn cost(&self, rows: f64, bytes: f64) -> f64 {
        let transfer = self.transfer_bytes_per_second.map_or(0.0, |bw| 2.0 * bytes / bw);
        self.launch_overhead_seconds + rows / self.rows_per_second + bytes / self.bytes_per_second + transfer
    }
}

/// Bytes per row of a schema, by column type (strings guessed at 16).
pub(crate) fn row_bytes(schema: &[Column]) -> f64 {
    schema
        .iter()
        .map(|c| match c.ty {
            ColumnType::Bool | ColumnType::Int8 => 1.0,
            ColumnType::Int16 => 2.0,
            ColumnType::Int32 | ColumnType::Float32 | ColumnType::Date32 => 4.0,
            ColumnType::Decimal(..) => 16.0,
            ColumnType::Utf8 | ColumnType::Utf8View => 16.0,
            _ => 8.0,
        })
        .sum::<f64>()
        .max(1.0)
}

/// The backend for a vertex, and why.
pub(crate) fn choose(
    profiles: &[DeviceProfile],
    registered: &[String],
    op: &Operator,
    rows: f64,
    bytes: f64,
) -> (String, String) {
    let mut best: Option<(&DeviceProfile, f64)> = None;
    let mut passed: Vec<String> = Vec::new();
    for p in profiles {
        let why_not = if !registered.contains(&p.backend) {
            Some("no backend registered")
        } else if !p.supports(op) {
            Some("operator not supported")
        } else if bytes > p.memory_bytes as f64 {
            Some("data exceeds its memory")
        } else {
            None
        };
        if let Some(w) = why_not {
            passed.push(format!("{}: {w}", p.backend));
            continue;
        }
        let c = p.cost(rows, bytes);
        if best.is_none_or(|(_, b)| c < b) {
            best = Some((p, c));
        }
    }
    let rows_text = if rows >= 1e6 {
        format!("{:.1}M", rows / 1e6)
    } else {
        format!("{rows:.0}")
    };
    match best {
        Some((p, c)) => (
            p.backend.clone(),
            format!(
                "{} for ~{rows_text} rows, est. {:.2} ms{}",
                p.backend,
                c * 1e3,
                if passed.is_empty() {
                    String::new()
                } else {
                    format!(" (passed over {})", passed.join("; "))
                }
            ),
        ),
        // Nothing fits: the CPU runs everything, with this said.
        None => ("cpu".into(), format!("cpu by default ({})", passed.join("; "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use skadi_common::{Aggregate, AggregateMode, Pipeline, ProjectExpr, Sort};

    fn pipeline() -> Operator {
        Operator::Pipeline(Pipeline {
            body: "b".into(),
            args: vec![],
            exprs: vec![ProjectExpr::Body(0)],
            keep: None,
            strict: vec![vec![]],
            validity: vec![],
            result_validity: vec![],
            fault: None,
        })
    }

    #[test]
    fn the_cheapest_registered_backend_that_runs_the_operator_wins() {
        let profiles = builtin_profiles();
        let all: Vec<String> = ["cpu", "gpu", "fpga"].map(String::from).to_vec();
        // Large row-wise work goes to the GPU when one is registered ...
        let (b, why) = choose(&profiles, &all, &pipeline(), 1e9, 1.6e10);
        assert_eq!(b, "gpu", "{why}");
        // ... tiny work stays on the CPU (launch and transfer dominate) ...
        let (b, _) = choose(&profiles, &all, &pipeline(), 10.0, 160.0);
        assert_eq!(b, "cpu");
        // ... an operator only the CPU runs stays there, and so does everything when the
        // CPU is the only backend registered.
        let sort = Operator::Sort(Sort { keys: vec![] });
        assert_eq!(choose(&profiles, &all, &sort, 1e9, 1.6e10).0, "cpu");
        let (b, why) = choose(&profiles, &["cpu".to_string()], &pipeline(), 1e9, 1.6e10);
        assert_eq!(b, "cpu");
        assert!(why.contains("gpu: no backend registered"), "{why}");
        // A fused vertex needs every step supported.
        let agg = Operator::Aggregate {
            mode: AggregateMode::Final,
            aggregate: Aggregate {
                keys: vec![],
                aggregates: vec![],
            },
        };
        let fused = Operator::Fused {
            steps: vec![
                skadi_common::Step {
                    op: pipeline(),
                    schema: vec![],
                    location: None,
                },
                skadi_common::Step {
                    op: agg,
                    schema: vec![],
                    location: None,
                },
            ],
        };
        assert_eq!(choose(&profiles, &all, &fused, 1e9, 1.6e10).0, "cpu");
    }

    #[test]
    fn malformed_profiles_say_where() {
        let err = DeviceProfile::from_json("{\"backend\": \"x\",\n \"speed\": 1}", "p.json").unwrap_err();
        assert!(err.starts_with("p.json:2:"), "{err}");
    }
}
