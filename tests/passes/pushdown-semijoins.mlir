// A semi join on the orders' key, above (orders ⋈ customers) renamed by a project and then
// joined to lines, moves down to the orders: through the inner join with lines (its key
// comes from the left), the project (o.key is read as o.ok), and the join with customers.
// An anti join whose filter reads the lines' columns stays above the join with lines.
// PASSES: pushdown-semijoins
module {
  func.func private @cond(%arg0: f64, %arg1: f64) -> i1 {
    %r = arith.cmpf olt, %arg0, %arg1 : f64
    return %r : i1
  }
  %0 = "flow.source"() {table = "c", format = "parquet", files = ["c.parquet"], columns = ["ck"]} : () -> !flow.table<["c.ck:i64"]>
  %1 = "flow.source"() {table = "o", format = "parquet", files = ["o.parquet"], columns = ["ok", "ock"]} : () -> !flow.table<["o.ok:i64", "o.ock:i64"]>
  %2 = "flow.join"(%0, %1) {kind = "inner", left_keys = ["c.ck"], right_keys = ["o.ock"]} : (!flow.table<["c.ck:i64"]>, !flow.table<["o.ok:i64", "o.ock:i64"]>) -> !flow.table<["c.ck:i64", "o.ok:i64", "o.ock:i64"]>
  %3 = "flow.project"(%2) {columns = ["c.ck", "o.ok"]} : (!flow.table<["c.ck:i64", "o.ok:i64", "o.ock:i64"]>) -> !flow.table<["c.ck:i64", "o.key:i64"]>
  %4 = "flow.source"() {table = "l", format = "parquet", files = ["l.parquet"], columns = ["lk", "lx"]} : () -> !flow.table<["l.lk:i64", "l.lx:f64"]>
  %5 = "flow.join"(%3, %4) {kind = "inner", left_keys = ["o.key"], right_keys = ["l.lk"]} : (!flow.table<["c.ck:i64", "o.key:i64"]>, !flow.table<["l.lk:i64", "l.lx:f64"]>) -> !flow.table<["c.ck:i64", "o.key:i64", "l.lk:i64", "l.lx:f64"]>
  %6 = "flow.source"() {table = "s", format = "parquet", files = ["s.parquet"], columns = ["sk", "sx"]} : () -> !flow.table<["s.sk:i64", "s.sx:f64"]>
  %7 = "flow.join"(%5, %6) {kind = "semi", left_keys = ["o.key"], right_keys = ["s.sk"]} : (!flow.table<["c.ck:i64", "o.key:i64", "l.lk:i64", "l.lx:f64"]>, !flow.table<["s.sk:i64", "s.sx:f64"]>) -> !flow.table<["c.ck:i64", "o.key:i64", "l.lk:i64", "l.lx:f64"]>
  %8 = "flow.join"(%7, %6) {kind = "anti", left_keys = ["c.ck"], right_keys = ["s.sk"], filter = @cond, filter_args = ["l.lx", "s.sx"]} : (!flow.table<["c.ck:i64", "o.key:i64", "l.lk:i64", "l.lx:f64"]>, !flow.table<["s.sk:i64", "s.sx:f64"]>) -> !flow.table<["c.ck:i64", "o.key:i64", "l.lk:i64", "l.lx:f64"]>
  "flow.sink"(%8) {names = ["ck", "key", "lk", "lx"]} : (!flow.table<["c.ck:i64", "o.key:i64", "l.lk:i64", "l.lx:f64"]>) -> ()
}

// CHECK-COUNT-1: kind = "semi"
// CHECK: %4 = "flow.join"(%1, %3) {kind = "semi", left_keys = ["o.ok"], right_keys = ["s.sk"]}
// CHECK-SAME: -> !flow.table<["o.ok:i64", "o.ock:i64"]>
// CHECK-NEXT: %5 = "flow.join"(%0, %4) {kind = "inner"
// CHECK-NEXT: %6 = "flow.project"(%5)
// CHECK-NEXT: %7 = "flow.join"(%6, %2) {kind = "inner"
// CHECK-NEXT: %8 = "flow.join"(%7, %3) {filter = @cond, filter_args = ["l.lx", "s.sx"], kind = "anti"
