// A semi join stays above an inner join whose other side is filtered: that join may drop
// more rows than the semi join would (TPC-H Q21's suppliers of one nation), so it runs first.
// PASSES: pushdown-semijoins
module {
  func.func private @positive(%arg0: f64) -> i1 {
    %c = arith.constant 0.0 : f64
    %r = arith.cmpf ogt, %arg0, %c : f64
    return %r : i1
  }
  %0 = "flow.source"() {table = "l", format = "parquet", files = ["l.parquet"], columns = ["lk", "lsk"]} : () -> !flow.table<["l.lk:i64", "l.lsk:i64"]>
  %1 = "flow.source"() {table = "s", format = "parquet", files = ["s.parquet"], columns = ["sk", "sx"]} : () -> !flow.table<["s.sk:i64", "s.sx:f64"]>
  %2 = "flow.filter"(%1) {body = @positive, args = ["s.sx"]} : (!flow.table<["s.sk:i64", "s.sx:f64"]>) -> !flow.table<["s.sk:i64", "s.sx:f64"]>
  %3 = "flow.join"(%0, %2) {kind = "inner", left_keys = ["l.lsk"], right_keys = ["s.sk"]} : (!flow.table<["l.lk:i64", "l.lsk:i64"]>, !flow.table<["s.sk:i64", "s.sx:f64"]>) -> !flow.table<["l.lk:i64", "l.lsk:i64", "s.sk:i64", "s.sx:f64"]>
  %4 = "flow.source"() {table = "r", format = "parquet", files = ["r.parquet"], columns = ["rk"]} : () -> !flow.table<["r.rk:i64"]>
  %5 = "flow.join"(%3, %4) {kind = "semi", left_keys = ["l.lk"], right_keys = ["r.rk"]} : (!flow.table<["l.lk:i64", "l.lsk:i64", "s.sk:i64", "s.sx:f64"]>, !flow.table<["r.rk:i64"]>) -> !flow.table<["l.lk:i64", "l.lsk:i64", "s.sk:i64", "s.sx:f64"]>
  "flow.sink"(%5) {names = ["lk", "lsk", "sk", "sx"]} : (!flow.table<["l.lk:i64", "l.lsk:i64", "s.sk:i64", "s.sx:f64"]>) -> ()
}

// CHECK: %3 = "flow.join"(%0, %2) {kind = "inner"
// CHECK: %5 = "flow.join"(%3, %4) {kind = "semi"
