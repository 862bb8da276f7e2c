// A map whose argument is also passed on consumes no column while it adds one: below
// the join it would widen it, so it stays.
// PASSES: pushdown-maps
module {
  func.func private @sum(%arg0: f64, %arg1: f64) -> f64 {
    %r = arith.addf %arg0, %arg1 : f64
    return %r : f64
  }
  func.func private @half(%arg0: f64) -> f64 {
    %c = arith.constant 0.5 : f64
    %r = arith.mulf %arg0, %c : f64
    return %r : f64
  }
  %0 = "flow.source"() {table = "a", format = "parquet", files = ["a.parquet"], columns = ["ak", "ax"]} : () -> !flow.table<["a.ak:i64", "a.ax:f64"]>
  %1 = "flow.source"() {table = "b", format = "parquet", files = ["b.parquet"], columns = ["bk", "bx", "by"]} : () -> !flow.table<["b.bk:i64", "b.bx:f64", "b.by:f64"]>
  %2 = "flow.join"(%0, %1) {kind = "inner", left_keys = ["a.ak"], right_keys = ["b.bk"]} : (!flow.table<["a.ak:i64", "a.ax:f64"]>, !flow.table<["b.bk:i64", "b.bx:f64", "b.by:f64"]>) -> !flow.table<["a.ak:i64", "a.ax:f64", "b.bk:i64", "b.bx:f64", "b.by:f64"]>
  %3 = "flow.map"(%2) {args = ["b.bx"], body = @half, exprs = ["b.bx", "$0"]} : (!flow.table<["a.ak:i64", "a.ax:f64", "b.bk:i64", "b.bx:f64", "b.by:f64"]>) -> !flow.table<["b.bx:f64", "h:f64"]>
  "flow.sink"(%3) {names = ["bx", "h"]} : (!flow.table<["b.bx:f64", "h:f64"]>) -> ()
}

// CHECK-COUNT-0: __pushed
// CHECK: %3 = "flow.map"(%2)
