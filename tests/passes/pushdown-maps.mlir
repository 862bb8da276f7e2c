// A map over (orders ⋈ lines), through a project, whose body reads two of the lines'
// columns and yields one value computes beside the lines instead: the join and the
// project carry the value under a fresh name, and a project in the map's place names it
// as the map did. The consumed columns still reach the join until prune-columns runs.
// PASSES: pushdown-maps
module {
  func.func private @net(%arg0: f64, %arg1: f64) -> f64 {
    %one = arith.constant 1.0 : f64
    %d = arith.subf %one, %arg1 : f64
    %r = arith.mulf %arg0, %d : f64
    return %r : f64
  }
  %0 = "flow.source"() {table = "o", format = "parquet", files = ["o.parquet"], columns = ["ok", "od"]} : () -> !flow.table<["o.ok:i64", "o.od:date32"]>
  %1 = "flow.source"() {table = "l", format = "parquet", files = ["l.parquet"], columns = ["lk", "lp", "ld"]} : () -> !flow.table<["l.lk:i64", "l.lp:f64", "l.ld:f64"]>
  %2 = "flow.join"(%0, %1) {kind = "inner", left_keys = ["o.ok"], right_keys = ["l.lk"]} : (!flow.table<["o.ok:i64", "o.od:date32"]>, !flow.table<["l.lk:i64", "l.lp:f64", "l.ld:f64"]>) -> !flow.table<["o.ok:i64", "o.od:date32", "l.lk:i64", "l.lp:f64", "l.ld:f64"]>
  %3 = "flow.project"(%2) {columns = ["o.od", "l.lk", "l.lp", "l.ld"]} : (!flow.table<["o.ok:i64", "o.od:date32", "l.lk:i64", "l.lp:f64", "l.ld:f64"]>) -> !flow.table<["o.od:date32", "l.lk:i64", "price:f64", "l.ld:f64"]>
  %4 = "flow.map"(%3) {args = ["price", "l.ld"], body = @net, exprs = ["l.lk", "o.od", "$0"]} : (!flow.table<["o.od:date32", "l.lk:i64", "price:f64", "l.ld:f64"]>) -> !flow.table<["l.lk:i64", "o.od:date32", "revenue:f64"]>
  "flow.sink"(%4) {names = ["lk", "od", "revenue"]} : (!flow.table<["l.lk:i64", "o.od:date32", "revenue:f64"]>) -> ()
}

// CHECK-COUNT-1: "flow.map"
// CHECK: %2 = "flow.map"(%1) {args = ["l.lp", "l.ld"], body = @net, exprs = ["l.lk", "l.lp", "l.ld", "$0"]}
// CHECK-SAME: -> !flow.table<["l.lk:i64", "l.lp:f64", "l.ld:f64", "__pushed0.r0:f64"]>
// CHECK-NEXT: %3 = "flow.join"(%0, %2)
// CHECK-SAME: -> !flow.table<["o.ok:i64", "o.od:date32", "l.lk:i64", "l.lp:f64", "l.ld:f64", "__pushed0.r0:f64"]>
// CHECK-NEXT: %4 = "flow.project"(%3) {columns = ["o.od", "l.lk", "l.lp", "l.ld", "__pushed0.r0"]}
// CHECK-NEXT: %5 = "flow.project"(%4) {columns = ["l.lk", "o.od", "__pushed0.r0"]}
// CHECK-SAME: -> !flow.table<["l.lk:i64", "o.od:date32", "revenue:f64"]>
