// A semi join stays above the project when just below it its left input would hold a
// name of its right input's (`l.pk`, which the project drops: both sides read table l,
// as TPC-H Q17 does through Substrait, which has no subquery aliases) and it cannot go
// on below the inner join: its filter reads both sides of that join.
// PASSES: pushdown-semijoins
module {
  func.func private @less(%arg0: f64, %arg1: f64) -> i1 {
    %r = arith.cmpf olt, %arg0, %arg1 : f64
    return %r : i1
  }
  %0 = "flow.source"() {table = "l", format = "parquet", files = ["l.parquet"], columns = ["pk", "q"]} : () -> !flow.table<["l.pk:i64", "l.q:f64"]>
  %1 = "flow.source"() {table = "p", format = "parquet", files = ["p.parquet"], columns = ["pk"]} : () -> !flow.table<["p.pk:i64"]>
  %2 = "flow.join"(%0, %1) {kind = "inner", left_keys = ["l.pk"], right_keys = ["p.pk"]} : (!flow.table<["l.pk:i64", "l.q:f64"]>, !flow.table<["p.pk:i64"]>) -> !flow.table<["l.pk:i64", "l.q:f64", "p.pk:i64"]>
  %3 = "flow.project"(%2) {columns = ["l.q", "p.pk"]} : (!flow.table<["l.pk:i64", "l.q:f64", "p.pk:i64"]>) -> !flow.table<["l.q:f64", "p.pk:i64"]>
  %4 = "flow.source"() {table = "l", format = "parquet", files = ["l.parquet"], columns = ["pk", "t"]} : () -> !flow.table<["l.pk:i64", "l.t:f64"]>
  %5 = "flow.join"(%3, %4) {kind = "semi", left_keys = ["p.pk"], right_keys = ["l.pk"], filter = @less, filter_args = ["l.q", "l.t"]} : (!flow.table<["l.q:f64", "p.pk:i64"]>, !flow.table<["l.pk:i64", "l.t:f64"]>) -> !flow.table<["l.q:f64", "p.pk:i64"]>
  "flow.sink"(%5) {names = ["q", "pk"]} : (!flow.table<["l.q:f64", "p.pk:i64"]>) -> ()
}

// CHECK: %3 = "flow.project"(%2)
// CHECK: %5 = "flow.join"(%3, %4) {filter = @less
