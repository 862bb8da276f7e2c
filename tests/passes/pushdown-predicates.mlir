// The filter over the source is a conjunction of comparisons of columns with constants;
// the source gets them as bounds on its file columns (a constant on the left is flipped,
// a conjunct that is not such a comparison is left out).
// PASSES: pushdown-predicates
module {
  func.func private @pred(%arg0: i64, %arg1: f64, %arg2: i32) -> i1 {
    %c5 = arith.constant 5 : i64
    %half = arith.constant 0.5 : f64
    %day = arith.constant 9000 : i32
    %a = arith.cmpi sge, %arg0, %c5 : i64
    %b = arith.cmpf olt, %half, %arg1 : f64
    %c = arith.cmpi slt, %arg2, %day : i32
    %sum = arith.addf %arg1, %arg1 : f64
    %d = arith.cmpf one, %sum, %half : f64
    %ab = arith.andi %a, %b : i1
    %abc = arith.andi %ab, %c : i1
    %all = arith.andi %abc, %d : i1
    return %all : i1
  }
  %0 = "flow.source"() {table = "t", format = "parquet", files = ["t.parquet"], columns = ["k", "x", "d"]} : () -> !flow.table<["t.k:i64", "t.x:f64", "t.d:date32"]>
  %1 = "flow.filter"(%0) {body = @pred, args = ["t.k", "t.x", "t.d"]} : (!flow.table<["t.k:i64", "t.x:f64", "t.d:date32"]>) -> !flow.table<["t.k:i64", "t.x:f64", "t.d:date32"]>
  "flow.sink"(%1) {names = ["k", "x", "d"]} : (!flow.table<["t.k:i64", "t.x:f64", "t.d:date32"]>) -> ()
}

// CHECK: "flow.source"() {columns = ["k", "x", "d"], files = ["t.parquet"], format = "parquet", prune = ["k >= 5", "x > 0.5", "d < 9000"], table = "t"}
// CHECK-NEXT: "flow.filter"(%0) {args = ["t.k", "t.x", "t.d"], body = @pred}
