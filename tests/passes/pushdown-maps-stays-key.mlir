// A map whose body reads the join's key consumes that column in name only: the join
// still reads it, so below the join the map would free one column and add one. It stays.
// PASSES: pushdown-maps
module {
  func.func private @sum(%arg0: i64, %arg1: f64) -> f64 {
    %k = arith.sitofp %arg0 : i64 to f64
    %r = arith.addf %k, %arg1 : f64
    return %r : f64
  }
  %0 = "flow.source"() {table = "a", format = "parquet", files = ["a.parquet"], columns = ["ak", "ax"]} : () -> !flow.table<["a.ak:i64", "a.ax:f64"]>
  %1 = "flow.source"() {table = "b", format = "parquet", files = ["b.parquet"], columns = ["bk", "bx", "by"]} : () -> !flow.table<["b.bk:i64", "b.bx:f64", "b.by:f64"]>
  %2 = "flow.join"(%0, %1) {kind = "inner", left_keys = ["a.ak"], right_keys = ["b.bk"]} : (!flow.table<["a.ak:i64", "a.ax:f64"]>, !flow.table<["b.bk:i64", "b.bx:f64", "b.by:f64"]>) -> !flow.table<["a.ak:i64", "a.ax:f64", "b.bk:i64", "b.bx:f64", "b.by:f64"]>
  %3 = "flow.map"(%2) {args = ["b.bk", "b.bx"], body = @sum, exprs = ["a.ak", "$0"]} : (!flow.table<["a.ak:i64", "a.ax:f64", "b.bk:i64", "b.bx:f64", "b.by:f64"]>) -> !flow.table<["a.ak:i64", "s:f64"]>
  "flow.sink"(%3) {names = ["ak", "s"]} : (!flow.table<["a.ak:i64", "s:f64"]>) -> ()
}

// CHECK-COUNT-0: __pushed
// CHECK: %3 = "flow.map"(%2)
