// A vertex nothing reads goes, and so does the source that only it read.
// PASSES: dce
module {
  func.func private @neg(%arg0: f64) -> f64 {
    %r = arith.negf %arg0 : f64
    return %r : f64
  }
  %0 = "flow.source"() {table = "t", format = "csv", files = ["t.csv"], columns = ["x"]} : () -> !flow.table<["x:f64"]>
  %1 = "flow.source"() {table = "u", format = "csv", files = ["u.csv"], columns = ["x"]} : () -> !flow.table<["x:f64"]>
  %2 = "flow.map"(%1) {body = @neg, args = ["x"], exprs = ["$0"]} : (!flow.table<["x:f64"]>) -> !flow.table<["x:f64"]>
  "flow.sink"(%0) {names = ["x"]} : (!flow.table<["x:f64"]>) -> ()
}

// CHECK-COUNT-1: "flow.source"
// CHECK-COUNT-0: "flow.map"
// CHECK-COUNT-0: @neg
// CHECK: "flow.sink"(%0)
