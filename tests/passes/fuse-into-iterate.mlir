// A SQL step (a filter, then a computed feature f = x1 * 2) feeds a gradient step:
// fuse first makes the chain one pipeline, then merges that pipeline into the
// flow.iterate, whose new body computes f, calls the step and zeroes the sums of rows
// the filter drops. The iterate then reads the source directly.
// PASSES: fuse
module {
  func.func private @filter_1(%arg0: f64) -> i1 {
    %cst = arith.constant 0.000000e+00 : f64
    %5 = arith.cmpf ogt, %arg0, %cst : f64
    return %5 : i1
  }
  func.func private @map_2(%arg0: f64) -> f64 {
    %cst = arith.constant 2.000000e+00 : f64
    %5 = arith.mulf %arg0, %cst : f64
    return %5 : f64
  }
  func.func private @step_3(%arg0: f64, %arg1: f64, %arg2: f64, %arg3: f64) -> (f64, f64, f64, f64) {
    %cst = arith.constant 1.000000e+00 : f64
    %5 = arith.mulf %arg3, %arg0 : f64
    %6 = arith.addf %arg2, %5 : f64
    %7 = arith.subf %6, %arg1 : f64
    %8 = arith.mulf %7, %7 : f64
    %9 = arith.mulf %7, %arg0 : f64
    return %cst, %7, %9, %8 : f64, f64, f64, f64
  }
  %0 = "flow.source"() {columns = ["x1", "x2", "y"], files = ["linear.parquet"], format = "parquet", table = "linear"} : () -> !flow.table<["linear.x1:f64", "linear.x2:f64", "linear.y:f64"]>
  %1 = "flow.filter"(%0) {args = ["linear.x2"], body = @filter_1} : (!flow.table<["linear.x1:f64", "linear.x2:f64", "linear.y:f64"]>) -> !flow.table<["linear.x1:f64", "linear.x2:f64", "linear.y:f64"]>
  %2 = "flow.map"(%1) {args = ["linear.x1"], body = @map_2, exprs = ["$0", "linear.y"]} : (!flow.table<["linear.x1:f64", "linear.x2:f64", "linear.y:f64"]>) -> !flow.table<["f:f64", "linear.y:f64"]>
  %3 = "flow.project"(%2) {columns = ["f", "linear.y"]} : (!flow.table<["f:f64", "linear.y:f64"]>) -> !flow.table<["f:f64", "y:f64"]>
  %4 = "flow.iterate"(%3) {args = ["f", "y"], body = @step_3, init = [], method = "gradient_descent", model = "linear_regression", options = ["features=1", "max_iterations=1000", "tolerance=1e-6", "learning_rate=0.1"], strict = ["f", "y"]} : (!flow.table<["f:f64", "y:f64"]>) -> !flow.table<["model.intercept:f64", "model.f:f64", "model.iterations:i64", "model.loss:f64", "model.rows:i64"]>
  "flow.sink"(%4) {names = ["model.intercept", "model.f", "model.iterations", "model.loss", "model.rows"]} : (!flow.table<["model.intercept:f64", "model.f:f64", "model.iterations:i64", "model.loss:f64", "model.rows:i64"]>) -> ()
}

// CHECK: func.func private @fused_1(%arg0: f64, %arg1: f64, %arg2: f64, %arg3: f64, %arg4: f64) -> (f64, f64, f64, f64)
// CHECK: arith.cmpf ogt, %arg0
// CHECK: arith.mulf %arg1
// CHECK: arith.select
// CHECK-NOT: flow.filter
// CHECK-NOT: flow.map
// CHECK-NOT: flow.pipeline
// CHECK: "flow.iterate"(%0) {args = ["linear.x2", "linear.x1", "linear.y"], body = @fused_1
// CHECK-SAME: options = ["features=1",
// CHECK-SAME: strict = ["linear.x2", "linear.x1", "linear.y"]
// CHECK-NEXT: "flow.sink"(%1)
