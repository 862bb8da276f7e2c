// Fusion keeps NULLs exact: each result of the fused body is NULL only where an argument
// of the body it came from is (strict), and the kept-rows predicate is strict in the
// filter's argument alone.
// PASSES: fuse
module {
  func.func private @sum(%arg0: f64, %arg1: f64) -> f64 {
    %r = arith.addf %arg0, %arg1 : f64
    return %r : f64
  }
  func.func private @positive(%arg0: i64) -> i1 {
    %c = arith.constant 0 : i64
    %r = arith.cmpi sgt, %arg0, %c : i64
    return %r : i1
  }
  func.func private @square(%arg0: f64) -> f64 {
    %r = arith.mulf %arg0, %arg0 : f64
    return %r : f64
  }
  %0 = "flow.source"() {table = "t", format = "csv", files = ["t.csv"], columns = ["a", "b", "c"]} : () -> !flow.table<["a:f64?", "b:f64", "c:i64?"]>
  %1 = "flow.map"(%0) {body = @sum, args = ["a", "b"], exprs = ["$0", "b", "c"]} : (!flow.table<["a:f64?", "b:f64", "c:i64?"]>) -> !flow.table<["ab:f64?", "b:f64", "c:i64?"]>
  %2 = "flow.filter"(%1) {body = @positive, args = ["c"]} : (!flow.table<["ab:f64?", "b:f64", "c:i64?"]>) -> !flow.table<["ab:f64?", "b:f64", "c:i64?"]>
  %3 = "flow.map"(%2) {body = @square, args = ["b"], exprs = ["ab", "$0"]} : (!flow.table<["ab:f64?", "b:f64", "c:i64?"]>) -> !flow.table<["ab:f64?", "bb:f64"]>
  "flow.sink"(%3) {names = ["ab", "bb"]} : (!flow.table<["ab:f64?", "bb:f64"]>) -> ()
}

// CHECK: func.func private @fused_0(%arg0: f64, %arg1: f64, %arg2: i64) -> (f64, f64, i1)
// CHECK: arith.addf %arg0, %arg1
// CHECK: arith.cmpi sgt, %arg2
// CHECK: arith.mulf %arg1, %arg1
// CHECK: "flow.pipeline"(%0) {args = ["a", "b", "c"], body = @fused_0, exprs = ["$0", "$1"], keep = 2 : i64, strict = [[0, 1], [1], [2]]}
// CHECK-NEXT: "flow.sink"(%1)
