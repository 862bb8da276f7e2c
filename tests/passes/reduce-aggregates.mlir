// An aggregate joined on its group key with a filtered table is computed only for the
// keys that table has: its input first semi-joins the table's keys (projected and renamed
// apart from the aggregate input's names), and the aggregate and the map and project
// after it are rebuilt over that. The join itself is unchanged.
// PASSES: reduce-aggregates
module {
  func.func private @positive(%arg0: f64) -> i1 {
    %c = arith.constant 0.0 : f64
    %r = arith.cmpf ogt, %arg0, %c : f64
    return %r : i1
  }
  func.func private @fifth(%arg0: f64) -> f64 {
    %c = arith.constant 0.2 : f64
    %r = arith.mulf %arg0, %c : f64
    return %r : f64
  }
  %0 = "flow.source"() {table = "p", format = "parquet", files = ["p.parquet"], columns = ["pk", "px"]} : () -> !flow.table<["p.pk:i64", "p.px:f64"]>
  %1 = "flow.filter"(%0) {body = @positive, args = ["p.px"]} : (!flow.table<["p.pk:i64", "p.px:f64"]>) -> !flow.table<["p.pk:i64", "p.px:f64"]>
  %2 = "flow.source"() {table = "l", format = "parquet", files = ["l.parquet"], columns = ["lk", "lq"]} : () -> !flow.table<["l.lk:i64", "l.lq:f64"]>
  %3 = "flow.aggregate"(%2) {aggregates = ["avg(l.lq)"], keys = ["l.lk"]} : (!flow.table<["l.lk:i64", "l.lq:f64"]>) -> !flow.table<["l.lk:i64", "avg(l.lq):f64?"]>
  %4 = "flow.map"(%3) {args = ["avg(l.lq)"], body = @fifth, exprs = ["$0", "l.lk"]} : (!flow.table<["l.lk:i64", "avg(l.lq):f64?"]>) -> !flow.table<["a:f64?", "l.lk:i64"]>
  %5 = "flow.project"(%4) {columns = ["a", "l.lk"]} : (!flow.table<["a:f64?", "l.lk:i64"]>) -> !flow.table<["sq.a:f64?", "sq.lk:i64"]>
  %6 = "flow.join"(%1, %5) {kind = "inner", left_keys = ["p.pk"], right_keys = ["sq.lk"]} : (!flow.table<["p.pk:i64", "p.px:f64"]>, !flow.table<["sq.a:f64?", "sq.lk:i64"]>) -> !flow.table<["p.pk:i64", "p.px:f64", "sq.a:f64?", "sq.lk:i64"]>
  "flow.sink"(%6) {names = ["pk", "px", "a", "lk"]} : (!flow.table<["p.pk:i64", "p.px:f64", "sq.a:f64?", "sq.lk:i64"]>) -> ()
}

// CHECK: %1 = "flow.filter"(%0)
// CHECK: %3 = "flow.project"(%1) {columns = ["p.pk"]} : (!flow.table<["p.pk:i64", "p.px:f64"]>) -> !flow.table<["__reduce6.k0:i64"]>
// CHECK-NEXT: %4 = "flow.join"(%2, %3) {kind = "semi", left_keys = ["l.lk"], right_keys = ["__reduce6.k0"]}
// CHECK-NEXT: %5 = "flow.aggregate"(%4)
// CHECK-NEXT: %6 = "flow.map"(%5)
// CHECK-NEXT: %7 = "flow.project"(%6)
// CHECK-NEXT: %8 = "flow.join"(%1, %7) {kind = "inner"
// CHECK-COUNT-1: "flow.aggregate"
