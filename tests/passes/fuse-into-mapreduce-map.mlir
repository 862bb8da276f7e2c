// Across the border into MapReduce: a SQL step of a pipeline (filter x2 > 0, then
// f = x1 * 2) feeds a MapReduce step's map steps (compute g = f * 3, filter g > 1) and its
// reduce. Which frontend wrote which op does not matter: fuse makes the whole row-wise
// chain, both filters included, one flow.pipeline whose body is one function, and the
// reduce's aggregate reads it directly.
// (skadi compile -O0 --emit flowgraph of that pipeline, locations dropped.)
// PASSES: fuse
module {
  func.func private @filter_1(%arg0: f64) -> i1 {
    %cst = arith.constant 0.000000e+00 : f64
    %11 = arith.cmpf ogt, %arg0, %cst : f64
    return %11 : i1
  }
  func.func private @map_2(%arg0: f64) -> f64 {
    %cst = arith.constant 2.000000e+00 : f64
    %11 = arith.mulf %arg0, %cst : f64
    return %11 : f64
  }
  func.func private @map_3(%arg0: f64) -> f64 {
    %cst = arith.constant 3.000000e+00 : f64
    %11 = arith.mulf %arg0, %cst : f64
    return %11 : f64
  }
  func.func private @filter_4(%arg0: f64) -> i1 {
    %cst = arith.constant 1.000000e+00 : f64
    %11 = arith.cmpf ogt, %arg0, %cst : f64
    return %11 : i1
  }
  %0 = "flow.source"() {columns = ["x1", "x2", "label"], files = ["logistic.parquet"], format = "parquet", table = "logistic"} : () -> !flow.table<["logistic.x1:f64", "logistic.x2:f64", "logistic.label:i64"]>
  %1 = "flow.filter"(%0) {args = ["logistic.x2"], body = @filter_1} : (!flow.table<["logistic.x1:f64", "logistic.x2:f64", "logistic.label:i64"]>) -> !flow.table<["logistic.x1:f64", "logistic.x2:f64", "logistic.label:i64"]>
  %2 = "flow.map"(%1) {args = ["logistic.x1"], body = @map_2, exprs = ["$0", "logistic.label"]} : (!flow.table<["logistic.x1:f64", "logistic.x2:f64", "logistic.label:i64"]>) -> !flow.table<["f:f64", "logistic.label:i64"]>
  %3 = "flow.project"(%2) {columns = ["f", "logistic.label"]} : (!flow.table<["f:f64", "logistic.label:i64"]>) -> !flow.table<["f:f64", "label:i64"]>
  %4 = "flow.project"(%3) {columns = ["f", "label"]} : (!flow.table<["f:f64", "label:i64"]>) -> !flow.table<["input.f:f64", "input.label:i64"]>
  %5 = "flow.map"(%4) {args = ["input.f"], body = @map_3, exprs = ["input.f", "input.label", "$0"]} : (!flow.table<["input.f:f64", "input.label:i64"]>) -> !flow.table<["input.f:f64", "input.label:i64", "g:f64"]>
  %6 = "flow.project"(%5) {columns = ["input.f", "input.label", "g"]} : (!flow.table<["input.f:f64", "input.label:i64", "g:f64"]>) -> !flow.table<["f:f64", "label:i64", "g:f64"]>
  %7 = "flow.project"(%6) {columns = ["f", "label", "g"]} : (!flow.table<["f:f64", "label:i64", "g:f64"]>) -> !flow.table<["input.f:f64", "input.label:i64", "input.g:f64"]>
  %8 = "flow.filter"(%7) {args = ["input.g"], body = @filter_4} : (!flow.table<["input.f:f64", "input.label:i64", "input.g:f64"]>) -> !flow.table<["input.f:f64", "input.label:i64", "input.g:f64"]>
  %9 = "flow.project"(%8) {columns = ["input.f", "input.label", "input.g"]} : (!flow.table<["input.f:f64", "input.label:i64", "input.g:f64"]>) -> !flow.table<["f:f64", "label:i64", "g:f64"]>
  %10 = "flow.aggregate"(%9) {aggregates = ["count(*)", "sum(g)"], keys = ["label"]} : (!flow.table<["f:f64", "label:i64", "g:f64"]>) -> !flow.table<["label:i64", "n:i64", "s:f64?"]>
  "flow.sink"(%10) {names = ["label", "n", "s"]} : (!flow.table<["label:i64", "n:i64", "s:f64?"]>) -> ()
}

// CHECK: func.func private @fused_0(%arg0: f64, %arg1: f64) -> (f64, f64, i1)
// CHECK: arith.cmpf ogt, %arg0
// CHECK: arith.mulf %arg1
// CHECK: arith.andi
// CHECK-NOT: flow.map
// CHECK-NOT: flow.filter
// CHECK-NOT: flow.project
// CHECK: "flow.pipeline"(%0) {args = ["logistic.x2", "logistic.x1"], body = @fused_0, exprs = ["$0", "logistic.label", "$1"]
// CHECK-NEXT: "flow.aggregate"(%1) {aggregates = ["count(*)", "sum(g)"], keys = ["label"]}
// CHECK-COUNT-1: flow.pipeline
