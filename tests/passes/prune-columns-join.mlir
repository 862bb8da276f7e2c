// Through a join: each side reads only its key, the filter's argument and what is read
// downstream; a left join keeps the padded side nullable; the match op's input narrows.
// PASSES: prune-columns
module {
  func.func private @cond(%arg0: f64, %arg1: f64) -> i1 {
    %r = arith.cmpf olt, %arg0, %arg1 : f64
    return %r : i1
  }
  %0 = "flow.source"() {table = "a", format = "parquet", files = ["a.parquet"], columns = ["ak", "ax", "anote"]} : () -> !flow.table<["a.ak:i64", "a.ax:f64", "a.anote:utf8"]>
  %1 = "flow.source"() {table = "b", format = "parquet", files = ["b.parquet"], columns = ["bk", "bx", "bname", "bunused"]} : () -> !flow.table<["b.bk:i64", "b.bx:f64", "b.bname:utf8", "b.bunused:i32"]>
  %2 = "flow.match"(%1) {column = "b.bname", kind = "like", patterns = ["x%"]} : (!flow.table<["b.bk:i64", "b.bx:f64", "b.bname:utf8", "b.bunused:i32"]>) -> !flow.table<["b.bk:i64", "b.bx:f64", "b.bname:utf8", "b.bunused:i32", "m:bool"]>
  %3 = "flow.join"(%0, %2) {kind = "left", left_keys = ["a.ak"], right_keys = ["b.bk"], filter = @cond, filter_args = ["a.ax", "b.bx"]} : (!flow.table<["a.ak:i64", "a.ax:f64", "a.anote:utf8"]>, !flow.table<["b.bk:i64", "b.bx:f64", "b.bname:utf8", "b.bunused:i32", "m:bool"]>) -> !flow.table<["a.ak:i64", "a.ax:f64", "a.anote:utf8", "b.bk:i64?", "b.bx:f64?", "b.bname:utf8?", "b.bunused:i32?", "m:bool?"]>
  %4 = "flow.project"(%3) {columns = ["a.ak", "m"]} : (!flow.table<["a.ak:i64", "a.ax:f64", "a.anote:utf8", "b.bk:i64?", "b.bx:f64?", "b.bname:utf8?", "b.bunused:i32?", "m:bool?"]>) -> !flow.table<["a.ak:i64", "m:bool?"]>
  "flow.sink"(%4) {names = ["k", "m"]} : (!flow.table<["a.ak:i64", "m:bool?"]>) -> ()
}

// CHECK: "flow.source"() {columns = ["ak", "ax"]
// CHECK-NEXT: "flow.source"() {columns = ["bk", "bx", "bname"]
// CHECK-NEXT: "flow.match"(%1)
// CHECK-SAME: -> !flow.table<["b.bk:i64", "b.bx:f64", "b.bname:utf8", "m:bool"]>
// CHECK-NEXT: "flow.join"(%0, %2)
// CHECK-SAME: -> !flow.table<["a.ak:i64", "a.ax:f64", "b.bk:i64?", "b.bx:f64?", "b.bname:utf8?", "m:bool?"]>
// CHECK-NOT: bunused
