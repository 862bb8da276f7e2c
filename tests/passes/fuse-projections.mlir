// A chain whose computed columns are all dropped again (and that filters nothing) only
// picks and renames columns: it fuses into one project, with no body left.
// PASSES: fuse
module {
  func.func private @neg(%arg0: f64) -> f64 {
    %r = arith.negf %arg0 : f64
    return %r : f64
  }
  %0 = "flow.source"() {table = "t", format = "csv", files = ["t.csv"], columns = ["x", "y"]} : () -> !flow.table<["x:f64", "y:f64"]>
  %1 = "flow.map"(%0) {body = @neg, args = ["x"], exprs = ["$0", "y"]} : (!flow.table<["x:f64", "y:f64"]>) -> !flow.table<["nx:f64", "y:f64"]>
  %2 = "flow.project"(%1) {columns = ["y"]} : (!flow.table<["nx:f64", "y:f64"]>) -> !flow.table<["z:f64"]>
  %3 = "flow.project"(%2) {columns = ["z"]} : (!flow.table<["z:f64"]>) -> !flow.table<["w:f64"]>
  "flow.sink"(%3) {names = ["w"]} : (!flow.table<["w:f64"]>) -> ()
}

// CHECK-COUNT-0: func.func
// CHECK: %1 = "flow.project"(%0) {columns = ["y"]}
// CHECK-SAME: -> !flow.table<["w:f64"]>
// CHECK-NEXT: "flow.sink"(%1)
