// Literal rows narrow like a source: only `k` is read downstream, so each row keeps only
// its first cell.
// PASSES: prune-columns
module {
  %0 = "flow.values"() {rows = ["[\221\22,\22a\22]", "[null,\22b\22]"]} : () -> !flow.table<["k:i64?", "s:utf8"]>
  %1 = "flow.aggregate"(%0) {keys = ["k"], aggregates = ["count(*)"]} : (!flow.table<["k:i64?", "s:utf8"]>) -> !flow.table<["k:i64?", "n:i64"]>
  "flow.sink"(%1) {names = ["k", "n"]} : (!flow.table<["k:i64?", "n:i64"]>) -> ()
}

// CHECK: "flow.values"() {rows = ["[\221\22]", "[null]"]}
// CHECK-SAME: -> !flow.table<["k:i64?"]>
// CHECK-NEXT: "flow.aggregate"(%0)
