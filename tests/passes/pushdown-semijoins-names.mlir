// A semi join whose right input holds a name its left input's project dropped (`l.pk`:
// both sides read table l, as TPC-H Q17 does through Substrait, which has no subquery
// aliases) may not stop just below the project, but goes on below the inner join, to the
// side without that name.
// PASSES: pushdown-semijoins
module {
  %0 = "flow.source"() {table = "l", format = "parquet", files = ["l.parquet"], columns = ["pk", "q"]} : () -> !flow.table<["l.pk:i64", "l.q:f64"]>
  %1 = "flow.source"() {table = "p", format = "parquet", files = ["p.parquet"], columns = ["pk"]} : () -> !flow.table<["p.pk:i64"]>
  %2 = "flow.join"(%0, %1) {kind = "inner", left_keys = ["l.pk"], right_keys = ["p.pk"]} : (!flow.table<["l.pk:i64", "l.q:f64"]>, !flow.table<["p.pk:i64"]>) -> !flow.table<["l.pk:i64", "l.q:f64", "p.pk:i64"]>
  %3 = "flow.project"(%2) {columns = ["l.q", "p.pk"]} : (!flow.table<["l.pk:i64", "l.q:f64", "p.pk:i64"]>) -> !flow.table<["l.q:f64", "p.pk:i64"]>
  %4 = "flow.source"() {table = "l", format = "parquet", files = ["l.parquet"], columns = ["pk"]} : () -> !flow.table<["l.pk:i64"]>
  %5 = "flow.join"(%3, %4) {kind = "semi", left_keys = ["p.pk"], right_keys = ["l.pk"]} : (!flow.table<["l.q:f64", "p.pk:i64"]>, !flow.table<["l.pk:i64"]>) -> !flow.table<["l.q:f64", "p.pk:i64"]>
  "flow.sink"(%5) {names = ["q", "pk"]} : (!flow.table<["l.q:f64", "p.pk:i64"]>) -> ()
}

// CHECK: %3 = "flow.join"(%1, %2) {kind = "semi", left_keys = ["p.pk"], right_keys = ["l.pk"]}
// CHECK: %4 = "flow.join"(%0, %3) {kind = "inner"
// CHECK: %5 = "flow.project"(%4)
