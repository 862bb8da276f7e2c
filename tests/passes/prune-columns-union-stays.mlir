// A union ties its inputs' columns to its own by position, and every input has its table
// type: pruning stops at it. The aggregate reads only `k`, yet both sources keep `v`
// (the union's readers still lose it: the aggregate's result has no `v`).
// PASSES: prune-columns
module {
  %0 = "flow.source"() {table = "a", format = "parquet", files = ["a.parquet"], columns = ["k", "v"]} : () -> !flow.table<["k:i64", "v:f64"]>
  %1 = "flow.source"() {table = "b", format = "parquet", files = ["b.parquet"], columns = ["k", "v"]} : () -> !flow.table<["k:i64", "v:f64"]>
  %2 = "flow.union"(%0, %1) : (!flow.table<["k:i64", "v:f64"]>, !flow.table<["k:i64", "v:f64"]>) -> !flow.table<["k:i64", "v:f64"]>
  %3 = "flow.aggregate"(%2) {keys = ["k"], aggregates = ["count(*)"]} : (!flow.table<["k:i64", "v:f64"]>) -> !flow.table<["k:i64", "n:i64"]>
  "flow.sink"(%3) {names = ["k", "n"]} : (!flow.table<["k:i64", "n:i64"]>) -> ()
}

// CHECK: "flow.source"() {columns = ["k", "v"]
// CHECK-NEXT: "flow.source"() {columns = ["k", "v"]
// CHECK-NEXT: "flow.union"(%0, %1)
// CHECK-SAME: -> !flow.table<["k:i64", "v:f64"]>
// CHECK-NEXT: "flow.aggregate"(%2)
