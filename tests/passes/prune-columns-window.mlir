// A window reads its partition and order keys and its calls' inputs, passes the rest of
// its input through and appends its calls: the source keeps g, o and v (read by the
// window) and k (read downstream) and drops note, nobody's; the window's type narrows
// with it and keeps both calls.
// PASSES: prune-columns
module {
  %0 = "flow.source"() {table = "t", format = "parquet", files = ["t.parquet"], columns = ["k", "g", "o", "v", "note"]} : () -> !flow.table<["k:i64", "g:i64", "o:date32", "v:f64?", "note:utf8"]>
  %1 = "flow.window"(%0) {partition_by = ["g"], order_by = ["o ASC NULLS LAST"], calls = ["rank()", "sum(v)"], frames = ["RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW", "ROWS BETWEEN 2 PRECEDING AND CURRENT ROW"]} : (!flow.table<["k:i64", "g:i64", "o:date32", "v:f64?", "note:utf8"]>) -> !flow.table<["k:i64", "g:i64", "o:date32", "v:f64?", "note:utf8", "r:i64", "s:f64?"]>
  %2 = "flow.project"(%1) {columns = ["k", "r"]} : (!flow.table<["k:i64", "g:i64", "o:date32", "v:f64?", "note:utf8", "r:i64", "s:f64?"]>) -> !flow.table<["k:i64", "r:i64"]>
  "flow.sink"(%2) {names = ["k", "r"]} : (!flow.table<["k:i64", "r:i64"]>) -> ()
}

// CHECK: "flow.source"() {columns = ["k", "g", "o", "v"]
// CHECK-NEXT: "flow.window"(%0) {calls = ["rank()", "sum(v)"], frames = ["RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW", "ROWS BETWEEN 2 PRECEDING AND CURRENT ROW"], order_by = ["o ASC NULLS LAST"], partition_by = ["g"]}
// CHECK-SAME: -> !flow.table<["k:i64", "g:i64", "o:date32", "v:f64?", "r:i64", "s:f64?"]>
// CHECK-NEXT: "flow.project"(%1) {columns = ["k", "r"]}
