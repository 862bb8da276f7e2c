// A concatenation reads its column parts and a comparison its two columns; each appends
// its column. The source keeps a, b and n (read by them) and k (read downstream) and
// drops note; the unread comparison's own column stays (string steps keep theirs).
// PASSES: prune-columns
module {
  %0 = "flow.source"() {table = "t", format = "parquet", files = ["t.parquet"], columns = ["k", "a", "b", "n", "note"]} : () -> !flow.table<["k:i64", "a:utf8", "b:utf8?", "n:i32", "note:utf8"]>
  %1 = "flow.concat"(%0) {parts = ["column:a", "literal: / ", "column:n"], nulls = "propagate"} : (!flow.table<["k:i64", "a:utf8", "b:utf8?", "n:i32", "note:utf8"]>) -> !flow.table<["k:i64", "a:utf8", "b:utf8?", "n:i32", "note:utf8", "c:utf8"]>
  %2 = "flow.compare"(%1) {left = "a", op = "lt", right = "b"} : (!flow.table<["k:i64", "a:utf8", "b:utf8?", "n:i32", "note:utf8", "c:utf8"]>) -> !flow.table<["k:i64", "a:utf8", "b:utf8?", "n:i32", "note:utf8", "c:utf8", "lt:bool?"]>
  %3 = "flow.project"(%2) {columns = ["k", "c"]} : (!flow.table<["k:i64", "a:utf8", "b:utf8?", "n:i32", "note:utf8", "c:utf8", "lt:bool?"]>) -> !flow.table<["k:i64", "c:utf8"]>
  "flow.sink"(%3) {names = ["k", "c"]} : (!flow.table<["k:i64", "c:utf8"]>) -> ()
}

// CHECK: "flow.source"() {columns = ["k", "a", "b", "n"]
// CHECK-NEXT: "flow.concat"(%0) {nulls = "propagate", parts = ["column:a", "literal: / ", "column:n"]}
// CHECK-SAME: -> !flow.table<["k:i64", "a:utf8", "b:utf8?", "n:i32", "c:utf8"]>
// CHECK-NEXT: "flow.compare"(%1) {left = "a", op = "lt", right = "b"}
// CHECK-SAME: -> !flow.table<["k:i64", "a:utf8", "b:utf8?", "n:i32", "c:utf8", "lt:bool?"]>
