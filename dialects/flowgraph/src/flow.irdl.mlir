// The FlowGraph dialect, written in IRDL and loaded into every Skadi MLIR context.
//
// IRDL checks operand and result counts, that edges are !flow.table values, and attribute
// kinds. A constraint variable used twice must match the same thing twice: filter, sort,
// limit and exchange therefore keep their input's table type exactly. What IRDL cannot
// express (a column missing from the input, a body's signature) is checked by Skadi's
// verification walk (src/verify.rs).
irdl.dialect @flow {
  // A table edge. Its one parameter is the schema: ["name:type", ...], '?' marking
  // nullable columns, e.g. !flow.table<["l_discount:decimal(15,2)", "l_comment:utf8?"]>.
  irdl.type @table {
    %schema = irdl.base "#builtin.array"
    irdl.parameters(schema: %schema)
  }

  // Reads a table from files (format: "parquet", "csv", or "text": a table of lines with
  // columns path, file, line and line_number). Result column i is the file
  // column named columns[i]. An optional `prune` attribute (set by predicate pushdown)
  // lists bounds every row that matters satisfies, ["l_shipdate < 9131", ...]: readers
  // may skip data whose statistics rule them out.
  irdl.operation @source {
    %table = irdl.base "#builtin.string"
    %format = irdl.base "#builtin.string"
    %files = irdl.base "#builtin.array"
    %columns = irdl.base "#builtin.array"
    %out = irdl.base @flow::@table
    irdl.attributes { "table" = %table, "format" = %format, "files" = %files, "columns" = %columns }
    irdl.results(output: %out)
  }

  // Literal rows (VALUES; a FROM-less SELECT's one row without columns; a relation
  // proved empty): `rows` holds a row a string, a JSON array of the cells' texts (values
  // of the columns' types) and nulls: ["[\221\22, null]"].
  irdl.operation @values {
    %rows = irdl.base "#builtin.array"
    %out = irdl.base @flow::@table
    irdl.attributes { "rows" = %rows }
    irdl.results(output: %out)
  }

  // Keeps rows where `body(args...)` (a func.func returning i1) is true.
  irdl.operation @filter {
    %t = irdl.base @flow::@table
    %body = irdl.base "#builtin.symbol_ref"
    %args = irdl.base "#builtin.array"
    irdl.attributes { "body" = %body, "args" = %args }
    irdl.operands(input: %t)
    irdl.results(output: %t)
  }

  // Selects, reorders and renames input columns (output column i is input column
  // columns[i], named as in the result type).
  irdl.operation @project {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %columns = irdl.base "#builtin.array"
    irdl.attributes { "columns" = %columns }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // Row-wise computation: output column i is exprs[i], either "$N" (result N of
  // `body(args...)`) or the name of an input column passed through.
  irdl.operation @map {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %body = irdl.base "#builtin.symbol_ref"
    %args = irdl.base "#builtin.array"
    %exprs = irdl.base "#builtin.array"
    irdl.attributes { "body" = %body, "args" = %args, "exprs" = %exprs }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // A fused row-wise vertex (made by the `fuse` pass from chains of filter, map and
  // project): `body(args...)` is computed once per row; if `keep` >= 0, result `keep` is
  // the row's predicate (rows where it is false or NULL are dropped); output column i is
  // exprs[i], "$N" or an input column. strict[N] lists the args whose NULL makes result N
  // NULL (a fused body mixes results that read different columns). Optional, for SQL's
  // three-valued logic: `validity` (arg indices) passes, after the args, one i1 per listed
  // arg, true where it is not NULL; `result_validity` ([[r, v], ...]) makes result r NULL
  // where result v is false. Optional `fault` (an integer) and `fault_what` (a string): the
  // op fails, saying `fault_what`, on a row where that i1 result is true (a division by
  // zero, an integer or decimal overflow); with the unit `fault_kept`, that result is
  // true only on rows the op keeps (a fused chain's faults after its filters).
  irdl.operation @pipeline {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %body = irdl.base "#builtin.symbol_ref"
    %args = irdl.base "#builtin.array"
    %exprs = irdl.base "#builtin.array"
    %keep = irdl.base "#builtin.integer"
    %strict = irdl.base "#builtin.array"
    irdl.attributes { "body" = %body, "args" = %args, "exprs" = %exprs, "keep" = %keep, "strict" = %strict }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // Groups by `keys` and computes `aggregates`: ["sum(x)", "count(*)", "avg(y)",
  // "collect(z)", ...]. An optional unit attribute `no_combiner` asks lowering not to
  // combine rows before the shuffle (it never does for collect and collect_set).
  irdl.operation @aggregate {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %keys = irdl.base "#builtin.array"
    %aggregates = irdl.base "#builtin.array"
    irdl.attributes { "keys" = %keys, "aggregates" = %aggregates }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // Joins two tables on left_keys[i] = right_keys[i] (NULL equals nothing; no keys pairs
  // every row). kind: "inner", "left", "right", "full" (outer joins keep unmatched rows of
  // their side, NULL-padded; the result is left ++ right columns), "semi", "anti" (the left
  // rows with / without a match; the result is the left's columns). Optional: `filter`, a
  // body over `filter_args` (columns of left ++ right) that a matching pair must also
  // satisfy (`filter_validity`, indices of filter_args: the body also takes those args'
  // validity as i1s after them, and computes SQL's NULLs itself; `filter_fault`, a
  // string: the body's arithmetic can fail, its second i1 result says on which pair, and
  // the op fails there saying this); `null_aware` (anti only, from NOT IN): a NULL key
  // on either side is unknown.
  irdl.operation @join {
    %l = irdl.base @flow::@table
    %r = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %kind = irdl.base "#builtin.string"
    %left_keys = irdl.base "#builtin.array"
    %right_keys = irdl.base "#builtin.array"
    irdl.attributes { "kind" = %kind, "left_keys" = %left_keys, "right_keys" = %right_keys }
    irdl.operands(left: %l, right: %r)
    irdl.results(output: %out)
  }

  // Appends a boolean column (the result's last): whether string column `column` equals
  // (kind "eq"), is LIKE (kind "like"; "ilike" ignores case) or contains a match of the regular expression
  // (kind "regex") any of `patterns`; NULL where the column is.
  // Bodies cannot take strings; they read this column instead.
  irdl.operation @match {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %column = irdl.base "#builtin.string"
    %kind = irdl.base "#builtin.string"
    %patterns = irdl.base "#builtin.array"
    irdl.attributes { "column" = %column, "kind" = %kind, "patterns" = %patterns }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // Appends a column (the result's last) computed from string column `column` by a
  // handcrafted string function: "substr" (args: start, and length, 1-based as SQL),
  // "upper", "lower", "trim", "ltrim", "rtrim" (spaces), "length" (characters),
  // "regexp_extract" (args: a regular expression and a capture group number; NULL where it
  // does not match), "to_number" (the text as the result's number type; NULL where it is
  // not a number). NULL where the column is.
  irdl.operation @string {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %function = irdl.base "#builtin.string"
    %column = irdl.base "#builtin.string"
    %args = irdl.base "#builtin.array"
    irdl.attributes { "function" = %function, "column" = %column, "args" = %args }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // Appends a string column (the result's last): per row, choice number `index` (an
  // integer column; optional: choice 0 when absent) of `choices`, each "literal:TEXT" or
  // "column:NAME" (a string column); NULL where the index is NULL or no choice's number,
  // or the chosen column is NULL. String-valued CASE, COALESCE and literals run this way.
  irdl.operation @pick {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %choices = irdl.base "#builtin.array"
    irdl.attributes { "choices" = %choices }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // Appends the concatenation of `parts` ("literal:TEXT" or "column:NAME"; a column that
  // is not a string is written as text, as Arrow casts it): NULL where a part is NULL (SQL's ||), or, with `nulls` = "skip" (SQL's
  // concat()), NULL parts read as empty text ("propagate" otherwise).
  irdl.operation @concat {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %parts = irdl.base "#builtin.array"
    %nulls = irdl.base "#builtin.string"
    irdl.attributes { "parts" = %parts, "nulls" = %nulls }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // Appends a bool column: string columns `left` `op` `right` (op: "eq", "ne", "lt",
  // "le", "gt", "ge"; bytewise order), NULL where either is. String comparisons between
  // two string values (columns, or functions of them) run this way.
  irdl.operation @compare {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %left = irdl.base "#builtin.string"
    %op = irdl.base "#builtin.string"
    %right = irdl.base "#builtin.string"
    irdl.attributes { "left" = %left, "op" = %op, "right" = %right }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // One row per piece of string column `column`: function "split" cuts it at each match
  // of the regular expression `pattern` (empty pieces dropped), "tokens" takes each match.
  // The result is the input's other columns, repeated, then the piece (its last column).
  irdl.operation @flat_map {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %function = irdl.base "#builtin.string"
    %column = irdl.base "#builtin.string"
    %pattern = irdl.base "#builtin.string"
    irdl.attributes { "function" = %function, "column" = %column, "pattern" = %pattern }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // Trains a model on all rows of its input (skadi_common::ml): `model` is
  // "linear_regression", "logistic_regression" or "kmeans", `method` how it is fitted,
  // `options` its hyperparameters (["learning_rate=0.1", "max_iterations=100", ...]) and
  // `init` the starting state ([] for the default). Each pass calls `body(args...,
  // state...)` on every row whose `strict` columns are all non-NULL and sums the body's
  // f64 results (result 0 is the row's weight); the model's update rule turns the sums
  // into the next state. The result is one row: the state, then iterations, loss, rows.
  irdl.operation @iterate {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %model = irdl.base "#builtin.string"
    %method = irdl.base "#builtin.string"
    %body = irdl.base "#builtin.symbol_ref"
    %args = irdl.base "#builtin.array"
    %strict = irdl.base "#builtin.array"
    %options = irdl.base "#builtin.array"
    %init = irdl.base "#builtin.array"
    irdl.attributes { "model" = %model, "method" = %method, "body" = %body, "args" = %args, "strict" = %strict, "options" = %options, "init" = %init }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // Orders rows by `keys`: ["col ASC NULLS LAST", ...].
  irdl.operation @sort {
    %t = irdl.base @flow::@table
    %keys = irdl.base "#builtin.array"
    irdl.attributes { "keys" = %keys }
    irdl.operands(input: %t)
    irdl.results(output: %t)
  }

  // Window functions: appends one column per call in `calls` (["rank()", "sum(x)",
  // "ntile[4]()", "lag[1](x)", "lead[2, 0](x)": offset, default; "lag[1](x) IGNORE NULLS"
  // counts only rows where x is not NULL, as do lead and the value functions]), each over the rows of
  // its partition (`partition_by` columns, NULL equal to NULL) in `order_by` order (keys
  // as for sort), reading the frame `frames[i]` ("ROWS BETWEEN 2 PRECEDING AND CURRENT
  // ROW", "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"). The result is the input's
  // columns, then one per call; rows come partition by partition, each in order.
  irdl.operation @window {
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %partition_by = irdl.base "#builtin.array"
    %order_by = irdl.base "#builtin.array"
    %calls = irdl.base "#builtin.array"
    %frames = irdl.base "#builtin.array"
    irdl.attributes { "partition_by" = %partition_by, "order_by" = %order_by, "calls" = %calls, "frames" = %frames }
    irdl.operands(input: %in)
    irdl.results(output: %out)
  }

  // The rows of every input, one after another (UNION ALL): every input has the result's
  // table type (a frontend renames its inputs' columns to the union's first).
  irdl.operation @union {
    %t = irdl.base @flow::@table
    irdl.operands(inputs: variadic %t)
    irdl.results(output: %t)
  }

  // The first `fetch` rows in `keys` order (ORDER BY ... LIMIT): keys as for sort.
  irdl.operation @top_k {
    %t = irdl.base @flow::@table
    %keys = irdl.base "#builtin.array"
    %fetch = irdl.base "#builtin.integer"
    irdl.attributes { "keys" = %keys, "fetch" = %fetch }
    irdl.operands(input: %t)
    irdl.results(output: %t)
  }

  // Skips `skip` rows, then keeps at most `fetch` (-1: all).
  irdl.operation @limit {
    %t = irdl.base @flow::@table
    %skip = irdl.base "#builtin.integer"
    %fetch = irdl.base "#builtin.integer"
    irdl.attributes { "skip" = %skip, "fetch" = %fetch }
    irdl.operands(input: %t)
    irdl.results(output: %t)
  }

  // Repartitions rows between shards: partitioning is "hash" (on keys), "gather" or
  // "broadcast". Inserted by lowering; a frontend may place one to force a layout.
  irdl.operation @exchange {
    %t = irdl.base @flow::@table
    %partitioning = irdl.base "#builtin.string"
    %keys = irdl.base "#builtin.array"
    irdl.attributes { "partitioning" = %partitioning, "keys" = %keys }
    irdl.operands(input: %t)
    irdl.results(output: %t)
  }

  // The graph's result, its columns presented under `names`.
  irdl.operation @sink {
    %t = irdl.base @flow::@table
    %names = irdl.base "#builtin.array"
    irdl.attributes { "names" = %names }
    irdl.operands(input: %t)
  }

  // The physical plan as MLIR (`skadi compile --emit physical`): one vertex of the
  // sharded graph, reading its input vertices' tables. `edges[i]` is the partitioning of
  // input i ("forward", "hash(k1, k2)", "gather", "broadcast"); `operator` is the
  // vertex's operator as in the JSON plan; `bodies` names the functions it calls. IRDL
  // binds one type per operand group, so the inputs are two groups (operandSegmentSizes):
  // the first, whose table may differ (a join's probe side), and the rest, of one table
  // type (a join's build side; a union's inputs).
  irdl.operation @vertex {
    %first = irdl.base @flow::@table
    %in = irdl.base @flow::@table
    %out = irdl.base @flow::@table
    %id = irdl.base "#builtin.integer"
    %op = irdl.base "#builtin.string"
    %backend = irdl.base "#builtin.string"
    %parallelism = irdl.base "#builtin.integer"
    %stage = irdl.base "#builtin.integer"
    %edges = irdl.base "#builtin.array"
    %bodies = irdl.base "#builtin.array"
    %operator = irdl.base "#builtin.string"
    %reason = irdl.base "#builtin.string"
    irdl.attributes { "id" = %id, "op" = %op, "backend" = %backend, "parallelism" = %parallelism, "stage" = %stage, "edges" = %edges, "bodies" = %bodies, "operator" = %operator, "reason" = %reason }
    irdl.operands(first: optional %first, rest: variadic %in)
    irdl.results(output: %out)
  }

  // The physical plan's result.
  irdl.operation @output {
    %t = irdl.base @flow::@table
    irdl.operands(input: %t)
  }
}
