//! Reading facts out of bodies, for passes: which parameter-against-constant comparisons a
//! predicate's result is the conjunction of (what predicate pushdown can prune by).

use crate::{FlowGraph, FlowGraphError};
use melior::ir::{
    RegionLike, Value, ValueLike,
    attribute::{FloatAttribute, IntegerAttribute},
    block::{BlockArgument, BlockLike},
    operation::{OperationLike, OperationResult},
};

/// A comparison `param <op> constant` that holds for every row a predicate keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// The body parameter compared.
    pub param: usize,
    /// `<`, `<=`, `>`, `>=` or `=`.
    pub op: &'static str,
    pub value: f64,
}

/// `arith.cmpi` predicates (signed only: unsigned compares are on booleans) and
/// `arith.cmpf` ordered predicates, as the comparison they assert.
fn comparison(op_name: &str, predicate: i64) -> Option<&'static str> {
    match (op_name, predicate) {
        ("arith.cmpi", 0) | ("arith.cmpf", 1) => Some("="),
        ("arith.cmpi", 2) | ("arith.cmpf", 4) => Some("<"),
        ("arith.cmpi", 3) | ("arith.cmpf", 5) => Some("<="),
        ("arith.cmpi", 4) | ("arith.cmpf", 2) => Some(">"),
        ("arith.cmpi", 5) | ("arith.cmpf", 3) => Some(">="),
        _ => None,
    }
}

fn flip(op: &'static str) -> &'static str {
    match op {
        "<" => ">",
        "<=" => ">=",
        ">" => "<",
        ">=" => "<=",
        other => other,
    }
}

enum Operand {
    Param(usize),
    Constant(f64),
    Other,
}

fn operand(value: Value) -> Operand {
    if let Ok(arg) = BlockArgument::try_from(value) {
        return Operand::Param(arg.argument_number());
    }
    let Ok(result) = OperationResult::try_from(value) else {
        return Operand::Other;
    };
    let op = result.owner();
    if op.name().as_string_ref().as_str() != Ok("arith.constant") {
        return Operand::Other;
    }
    let Ok(attr) = op.attribute("value") else {
        return Operand::Other;
    };
    if let Ok(i) = IntegerAttribute::try_from(attr) {
        Operand::Constant(i.value() as f64)
    } else if let Ok(f) = FloatAttribute::try_from(attr) {
        Operand::Constant(f.value())
    } else {
        Operand::Other
    }
}

/// Collects the bounds `value` (an i1) is a conjunction of; other conjuncts are skipped,
/// which only weakens what the bounds say.
fn conjuncts(value: Value, out: &mut Vec<Bound>) {
    let Ok(result) = OperationResult::try_from(value) else {
        return;
    };
    let op = result.owner();
    let name = op.name().as_string_ref().as_str().unwrap_or("").to_string();
    if name == "arith.andi" {
        for v in op.operands() {
            conjuncts(v, out);
        }
        return;
    }
    if name != "arith.cmpi" && name != "arith.cmpf" {
        return;
    }
    let Some(predicate) = op
        .attribute("predicate")
        .ok()
        .and_then(|a| IntegerAttribute::try_from(a).ok())
    else {
        return;
    };
    let Some(cmp) = comparison(&name, predicate.value()) else {
        return;
    };
    let (Ok(lhs), Ok(rhs)) = (op.operand(0), op.operand(1)) else {
        return;
    };
    match (operand(lhs), operand(rhs)) {
        (Operand::Param(param), Operand::Constant(value)) => out.push(Bound { param, op: cmp, value }),
        (Operand::Constant(value), Operand::Param(param)) => out.push(Bound {
            param,
            op: flip(cmp),
            value,
        }),
        _ => {}
    }
}

impl FlowGraph {
    /// The bounds that hold for every row where result `result` of body `body` is true.
    pub fn predicate_bounds(&self, body: &str, result: usize) -> Result<Vec<Bound>, FlowGraphError> {
        let missing = || FlowGraphError::Mlir(format!("<pass>: error: no body @{body}"));
        let mut next = self.module().body().first_operation();
        while let Some(op) = next {
            next = op.next_in_block();
            let named = op
                .attribute("sym_name")
                .ok()
                .and_then(crate::syntax::attribute_text)
                .is_some_and(|s| s == body);
            if op.name().as_string_ref().as_str() != Ok("func.func") || !named {
                continue;
            }
            let region = op.region(0).map_err(|_| missing())?;
            let block = region.first_block().ok_or_else(missing)?;
            let ret = block.terminator().ok_or_else(missing)?;
            let mut out = Vec::new();
            if let Ok(v) = ret.operand(result)
                && v.r#type().to_string() == "i1"
            {
                conjuncts(v, &mut out);
            }
            return Ok(out);
        }
        Err(missing())
    }
}
