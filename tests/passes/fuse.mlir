// A filter, a map and a project, each read only by the next, fuse into one pipeline whose
// body is one function; the aggregate after them stays a vertex of its own.
// PASSES: fuse
module {
  func.func private @pred(%arg0: i64) -> i1 {
    %c = arith.constant 10 : i64
    %r = arith.cmpi sgt, %arg0, %c : i64
    return %r : i1
  }
  func.func private @double(%arg0: f64) -> f64 {
    %c = arith.constant 2.0 : f64
    %r = arith.mulf %arg0, %c : f64
    return %r : f64
  }
  %0 = "flow.source"() {table = "t", format = "parquet", files = ["t.parquet"], columns = ["x", "y", "s"]} : () -> !flow.table<["x:i64", "y:f64", "s:utf8"]>
  %1 = "flow.filter"(%0) {body = @pred, args = ["x"]} : (!flow.table<["x:i64", "y:f64", "s:utf8"]>) -> !flow.table<["x:i64", "y:f64", "s:utf8"]>
  %2 = "flow.map"(%1) {body = @double, args = ["y"], exprs = ["$0", "s"]} : (!flow.table<["x:i64", "y:f64", "s:utf8"]>) -> !flow.table<["z:f64", "s:utf8"]>
  %3 = "flow.project"(%2) {columns = ["s", "z"]} : (!flow.table<["z:f64", "s:utf8"]>) -> !flow.table<["label:utf8", "z:f64"]>
  %4 = "flow.aggregate"(%3) {keys = ["label"], aggregates = ["sum(z)"]} : (!flow.table<["label:utf8", "z:f64"]>) -> !flow.table<["label:utf8", "sum(z):f64?"]>
  "flow.sink"(%4) {names = ["label", "total"]} : (!flow.table<["label:utf8", "sum(z):f64?"]>) -> ()
}

// CHECK: func.func private @fused_0(%arg0: i64, %arg1: f64) -> (f64, i1)
// CHECK-NOT: call
// CHECK: arith.cmpi sgt, %arg0
// CHECK: arith.mulf %arg1
// CHECK: return
// CHECK-NOT: func.func
// CHECK: "flow.source"
// CHECK-NEXT: "flow.pipeline"(%0) {args = ["x", "y"], body = @fused_0, exprs = ["s", "$0"], keep = 1 : i64, strict = [[1], [0]]}
// CHECK-SAME: -> !flow.table<["label:utf8", "z:f64"]>
// CHECK-NEXT: "flow.aggregate"(%1)
// CHECK-COUNT-0: "flow.filter"
// CHECK-COUNT-0: "flow.map"
// CHECK-COUNT-0: "flow.project"
