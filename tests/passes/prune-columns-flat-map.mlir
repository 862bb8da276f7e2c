// A flat_map reads its split column and replaces it with the pieces: only `file` and the
// pieces are read downstream, so the source stops reading path and line_number, and the
// line never reaches the flat_map's result.
// PASSES: prune-columns
module {
  %0 = "flow.source"() {table = "t", format = "text", files = ["a.txt"], columns = ["path", "file", "line", "line_number"]} : () -> !flow.table<["path:utf8", "file:utf8", "line:utf8", "line_number:i64"]>
  %1 = "flow.flat_map"(%0) {function = "tokens", column = "line", pattern = "\\w+"} : (!flow.table<["path:utf8", "file:utf8", "line:utf8", "line_number:i64"]>) -> !flow.table<["path:utf8", "file:utf8", "line_number:i64", "word:utf8"]>
  %2 = "flow.aggregate"(%1) {keys = ["word", "file"], aggregates = ["count(*)"]} : (!flow.table<["path:utf8", "file:utf8", "line_number:i64", "word:utf8"]>) -> !flow.table<["word:utf8", "file:utf8", "n:i64"]>
  "flow.sink"(%2) {names = ["word", "file", "n"]} : (!flow.table<["word:utf8", "file:utf8", "n:i64"]>) -> ()
}

// CHECK: "flow.source"() {columns = ["file", "line"]
// CHECK-SAME: -> !flow.table<["file:utf8", "line:utf8"]>
// CHECK-NEXT: "flow.flat_map"(%0)
// CHECK-SAME: (!flow.table<["file:utf8", "line:utf8"]>) -> !flow.table<["file:utf8", "word:utf8"]>
// CHECK-NEXT: "flow.aggregate"(%1)
