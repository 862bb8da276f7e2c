// A map over a left join stays above it: a row the join pads with NULLs would get the
// body's value of the padding, not the value computed from the row it never had.
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
  %2 = "flow.join"(%0, %1) {kind = "left", left_keys = ["a.ak"], right_keys = ["b.bk"]} : (!flow.table<["a.ak:i64", "a.ax:f64"]>, !flow.table<["b.bk:i64", "b.bx:f64", "b.by:f64"]>) -> !flow.table<["a.ak:i64", "a.ax:f64", "b.bk:i64?", "b.bx:f64?", "b.by:f64?"]>
  %3 = "flow.map"(%2) {args = ["b.bx", "b.by"], body = @sum, exprs = ["a.ak", "$0"]} : (!flow.table<["a.ak:i64", "a.ax:f64", "b.bk:i64?", "b.bx:f64?", "b.by:f64?"]>) -> !flow.table<["a.ak:i64", "t:f64?"]>
  "flow.sink"(%3) {names = ["ak", "t"]} : (!flow.table<["a.ak:i64", "t:f64?"]>) -> ()
}

// CHECK-COUNT-0: __pushed
// CHECK: %3 = "flow.map"(%2)
