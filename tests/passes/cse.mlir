// The same source and filter written twice collapse to one copy; the second copy's reader
// reads the first (bodies equal up to their names count as equal).
// PASSES: cse
module {
  func.func private @p1(%arg0: f64) -> i1 {
    %c = arith.constant 0.0 : f64
    %r = arith.cmpf ogt, %arg0, %c : f64
    return %r : i1
  }
  func.func private @p2(%arg0: f64) -> i1 {
    %c = arith.constant 0.0 : f64
    %r = arith.cmpf ogt, %arg0, %c : f64
    return %r : i1
  }
  %0 = "flow.source"() {table = "t", format = "csv", files = ["t.csv"], columns = ["x"]} : () -> !flow.table<["x:f64"]>
  %1 = "flow.filter"(%0) {body = @p1, args = ["x"]} : (!flow.table<["x:f64"]>) -> !flow.table<["x:f64"]>
  %2 = "flow.source"() {table = "t", format = "csv", files = ["t.csv"], columns = ["x"]} : () -> !flow.table<["x:f64"]>
  %3 = "flow.filter"(%2) {body = @p2, args = ["x"]} : (!flow.table<["x:f64"]>) -> !flow.table<["x:f64"]>
  %4 = "flow.limit"(%3) {skip = 0 : i64, fetch = 10 : i64} : (!flow.table<["x:f64"]>) -> !flow.table<["x:f64"]>
  "flow.sink"(%4) {names = ["x"]} : (!flow.table<["x:f64"]>) -> ()
}

// CHECK-COUNT-1: "flow.source"
// CHECK-COUNT-1: "flow.filter"
// CHECK-COUNT-0: @p2
// CHECK: %1 = "flow.filter"(%0)
// CHECK-NEXT: "flow.limit"(%1)
