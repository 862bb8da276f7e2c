// Only x (the filter's) and y (the map's) are read downstream: the source stops reading k
// and note, the filter's type narrows with it, and the map drops the unread pass-through.
// PASSES: prune-columns
module {
  func.func private @pred(%arg0: f64) -> i1 {
    %c = arith.constant 0.0 : f64
    %r = arith.cmpf ogt, %arg0, %c : f64
    return %r : i1
  }
  func.func private @neg(%arg0: f64) -> f64 {
    %r = arith.negf %arg0 : f64
    return %r : f64
  }
  %0 = "flow.source"() {table = "t", format = "parquet", files = ["t.parquet"], columns = ["k", "x", "y", "note"]} : () -> !flow.table<["k:i64", "x:f64", "y:f64", "note:utf8"]>
  %1 = "flow.filter"(%0) {body = @pred, args = ["x"]} : (!flow.table<["k:i64", "x:f64", "y:f64", "note:utf8"]>) -> !flow.table<["k:i64", "x:f64", "y:f64", "note:utf8"]>
  %2 = "flow.map"(%1) {body = @neg, args = ["y"], exprs = ["$0", "k"]} : (!flow.table<["k:i64", "x:f64", "y:f64", "note:utf8"]>) -> !flow.table<["ny:f64", "k:i64"]>
  %3 = "flow.project"(%2) {columns = ["ny"]} : (!flow.table<["ny:f64", "k:i64"]>) -> !flow.table<["ny:f64"]>
  "flow.sink"(%3) {names = ["ny"]} : (!flow.table<["ny:f64"]>) -> ()
}

// CHECK: "flow.source"() {columns = ["x", "y"]
// CHECK-SAME: -> !flow.table<["x:f64", "y:f64"]>
// CHECK-NEXT: "flow.filter"(%0) {args = ["x"], body = @pred} : (!flow.table<["x:f64", "y:f64"]>) -> !flow.table<["x:f64", "y:f64"]>
// CHECK-NEXT: "flow.map"(%1) {args = ["y"], body = @neg, exprs = ["$0"]}
// CHECK-SAME: -> !flow.table<["ny:f64"]>
