// A filter over a window's result is not a filter over its input: which rows a window
// sees changes its ranks. Fusion leaves the window alone, and the filter after it reads
// the rank (no row-group bounds reach the source through it).
// PASSES: pushdown-predicates,fuse
module {
  func.func private @top(%arg0: i64) -> i1 {
    %c = arith.constant 3 : i64
    %r = arith.cmpi sle, %arg0, %c : i64
    return %r : i1
  }
  %0 = "flow.source"() {table = "t", format = "parquet", files = ["t.parquet"], columns = ["k", "g"]} : () -> !flow.table<["k:i64", "g:i64"]>
  %1 = "flow.window"(%0) {partition_by = ["g"], order_by = ["k DESC NULLS FIRST"], calls = ["row_number()"], frames = ["ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"]} : (!flow.table<["k:i64", "g:i64"]>) -> !flow.table<["k:i64", "g:i64", "rn:i64"]>
  %2 = "flow.filter"(%1) {body = @top, args = ["rn"]} : (!flow.table<["k:i64", "g:i64", "rn:i64"]>) -> !flow.table<["k:i64", "g:i64", "rn:i64"]>
  "flow.sink"(%2) {names = ["k", "g", "rn"]} : (!flow.table<["k:i64", "g:i64", "rn:i64"]>) -> ()
}

// CHECK: "flow.source"() {columns = ["k", "g"]
// CHECK-NOT: prune
// CHECK-NEXT: "flow.window"(%0)
// CHECK: (!flow.table<["k:i64", "g:i64", "rn:i64"]>)
// CHECK-COUNT-1: "flow.window"
