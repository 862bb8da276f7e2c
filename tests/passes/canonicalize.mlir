// Constant arithmetic in a body folds away; a body no vertex names is dropped.
// PASSES: canonicalize
module {
  func.func private @scale(%arg0: f64) -> f64 {
    %a = arith.constant 1.5 : f64
    %b = arith.constant 2.0 : f64
    %c = arith.addf %a, %b : f64
    %d = arith.mulf %arg0, %c : f64
    %e = arith.mulf %arg0, %c : f64
    %f = arith.addf %d, %e : f64
    return %f : f64
  }
  func.func private @unused(%arg0: f64) -> f64 {
    return %arg0 : f64
  }
  %0 = "flow.source"() {table = "t", format = "csv", files = ["t.csv"], columns = ["x"]} : () -> !flow.table<["x:f64"]>
  %1 = "flow.map"(%0) {body = @scale, args = ["x"], exprs = ["$0"]} : (!flow.table<["x:f64"]>) -> !flow.table<["x:f64"]>
  "flow.sink"(%1) {names = ["x"]} : (!flow.table<["x:f64"]>) -> ()
}

// CHECK: func.func private @scale(%arg0: f64) -> f64
// CHECK-NEXT: arith.constant 3.500000e+00 : f64
// CHECK-COUNT-1: arith.mulf
// CHECK-NOT: @unused
// CHECK: "flow.map"
