//! Bounds on what SQL text costs to compile. Deep expressions (a CASE nested fifty times,
//! ten thousand terms added up) recurse in DataFusion's parser, planner and optimizer
//! and in the translation: SQL that nests deeper than a few dozen levels is planned on a
//! thread with a deep stack ([`planning`]), under a recursion limit far above
//! DataFusion's default of 50. And sqlparser (0.62, as
//! DataFusion 55 pins it), on a parse error inside parentheses it parsed speculatively —
//! after a reserved word that takes them (`CEIL(`, `CAST(`, `SUBSTRING(`, ...), after
//! `IN`, in a FROM clause (a derived table, else a join), or around a subquery — re-parses each level another way, doubling the work per
//! level: more than [`MAX_SPECIAL_NESTING`] of those nested are refused by name before
//! the parser sees them (valid SQL seldom nests them beyond a few). Its time on a parse
//! error after a dotted name doubles with each part too: names of more than
//! [`MAX_NAME_PARTS`] parts are refused alike.
//!
//! DataFusion's analyzer and optimizer take time quadratic in an expression's depth
//! (type coercion, `eliminate_duplicated_expr` and `optimize_projections` rebuild a
//! subtree's name at each level): 1,000 terms added up compile in about a second, 4,000
//! in twenty. Deeper expressions than [`MAX_EXPRESSION_DEPTH`] are refused by name, at
//! the operator that goes past it, before DataFusion sees them.

use crate::SqlError;
use datafusion::sql::sqlparser::{
    dialect::GenericDialect,
    keywords::Keyword,
    tokenizer::{Token, Tokenizer},
};

/// How deep SQL may nest (parentheses, CASE, subqueries, operators).
pub(crate) const RECURSION_LIMIT: usize = 2_000;

/// The stack SQL is parsed, planned and translated on.
const DEEP_STACK: usize = 1 << 30;

/// Operators an expression may nest (a chain `a + b + c` nests one per `+`).
pub(crate) const MAX_EXPRESSION_DEPTH: usize = 1_000;

/// Reserved-word calls that may nest around each other.
pub(crate) const MAX_SPECIAL_NESTING: usize = 16;

/// Parts of a dotted name (`catalog.schema.table.column` has four).
pub(crate) const MAX_NAME_PARTS: usize = 8;

/// Nesting the caller's stack holds (deeper SQL is planned on [`DEEP_STACK`]).
const SHALLOW: usize = 64;

/// Runs `work`, the parsing, planning and translation of `sql`, after
/// [`check_nesting`] (whose error it returns instead): on this thread when the SQL nests
/// shallowly, else on a thread with a deep stack.
pub(crate) fn planning<T: Send>(sql: &str, work: impl FnOnce() -> Result<T, SqlError> + Send) -> Result<T, SqlError> {
    match check_nesting(sql)? {
        depth if depth <= SHALLOW => work(),
        _ => on_deep_stack(work),
    }
}

/// Runs `work` on a thread with a deep stack (address space only: pages are touched as
/// the recursion reaches them).
pub(crate) fn on_deep_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("skadi-sql".into())
            .stack_size(DEEP_STACK)
            .spawn_scoped(scope, work)
            .expect("the operating system gives SQL planning a thread");
        handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Words sqlparser parses specially when a `(` follows, and re-parses another way (a
/// function call, an expression list) when that fails.
fn special(keyword: Keyword) -> bool {
    use Keyword::*;
    // sqlparser 0.62's `parse_expr_prefix_by_reserved_word`, and IN's list or subquery.
    matches!(
        keyword,
        ALL | ANY
            | ARRAY
            | BOX
            | CASE
            | CAST
            | CEIL
            | CIRCLE
            | CONVERT
            | CURRENT_CATALOG
            | CURRENT_DATE
            | CURRENT_TIME
            | CURRENT_TIMESTAMP
            | CURRENT_USER
            | EXISTS
            | EXTRACT
            | FALSE
            | FLOOR
            | IN
            | INTERVAL
            | LAMBDA
            | LINE
            | LOCALTIME
            | LOCALTIMESTAMP
            | LSEG
            | MAP
            | MATCH
            | NOT
            | NULL
            | OVERLAY
            | PATH
            | POINT
            | POLYGON
            | POSITION
            | PRIOR
            | SAFE_CAST
            | SELECT
            | SESSION_USER
            | SOME
            | STRUCT
            | SUBSTR
            | SUBSTRING
            | TRIM
            | TRUE
            | TRY_CAST
            | TRY_CONVERT
            | USER
            | WITH
    )
}

/// Refuses SQL that nests more than [`MAX_SPECIAL_NESTING`] reserved-word calls, or an
/// expression deeper than [`MAX_EXPRESSION_DEPTH`] operators (see the module's doc);
/// returns about how deep the SQL nests (unknown, past any bound, when it does not
/// tokenize). Linear in the text; a text the tokenizer rejects is left to the parser,
/// which says why.
pub(crate) fn check_nesting(sql: &str) -> Result<usize, SqlError> {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location() else {
        return Ok(usize::MAX);
    };
    // Per open parenthesis: whether a special word opened it, and the operators seen in
    // it so far (an upper bound on the nesting they make).
    let mut open: Vec<(bool, usize)> = Vec::new();
    // Per level (the text's, then each open parenthesis'): whether it is in a FROM
    // clause, where sqlparser parses a parenthesis as a derived table, then as a join.
    let mut in_from: Vec<bool> = vec![false];
    let (mut depth, mut operators, mut outer, mut deepest) = (0, 0, 0, 0);
    let mut previous: Option<Keyword> = None;
    // The dotted name being read: where it starts and its parts so far.
    let mut name: Option<((usize, usize), usize)> = None;
    let tokens: Vec<_> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    for (i, t) in tokens.iter().enumerate() {
        let at = Some((t.span.start.line as usize, t.span.start.column as usize));
        deepest = deepest.max(outer + operators);
        if operator(&t.token) {
            operators += 1;
            if outer + operators > MAX_EXPRESSION_DEPTH {
                return Err(SqlError {
                    message: format!(
                        "not supported yet: expressions nested more than {MAX_EXPRESSION_DEPTH} operations deep (DataFusion's planner takes time quadratic in the depth)"
                    ),
                    position: at,
                });
            }
        }
        name = match (&t.token, name) {
            (Token::Word(_), Some((start, parts))) if matches!(tokens[i - 1].token, Token::Period) => {
                if parts + 1 > MAX_NAME_PARTS {
                    return Err(SqlError {
                        message: format!(
                            "not supported yet: names of more than {MAX_NAME_PARTS} dotted parts (sqlparser's time doubles with each part)"
                        ),
                        position: Some(start),
                    });
                }
                Some((start, parts + 1))
            }
            (Token::Word(_), _) => at.map(|start| (start, 1)),
            (Token::Period, name) => name,
            _ => None,
        };
        match &t.token {
            Token::LParen => {
                // A subquery's parenthesis (FROM-first ones too) is parsed speculatively too.
                let subquery = tokens.get(i + 1).is_some_and(|next| {
                    matches!(&next.token, Token::Word(w) if matches!(w.keyword, Keyword::SELECT | Keyword::WITH | Keyword::VALUES | Keyword::FROM))
                });
                let table = *in_from.last().expect("the text's level");
                let is_special = previous.is_some_and(special) || subquery || table;
                in_from.push(table);
                depth += usize::from(is_special);
                if depth > MAX_SPECIAL_NESTING {
                    return Err(SqlError {
                        message: format!(
                            "not supported yet: subqueries, IN lists, parentheses in FROM and calls of reserved words such as CAST, CEIL or SUBSTRING nested more than {MAX_SPECIAL_NESTING} deep"
                        ),
                        position: at,
                    });
                }
                open.push((is_special, operators));
                outer += operators + 1;
                operators = 0;
            }
            Token::RParen => {
                if let Some((was_special, before)) = open.pop() {
                    in_from.pop();
                    depth -= usize::from(was_special);
                    outer -= before + 1;
                    operators = before;
                }
            }
            // A new item of a list or clause starts its own nesting.
            Token::Comma => operators = 0,
            Token::Word(w) => {
                use Keyword::*;
                let level = in_from.last_mut().expect("the text's level");
                match w.keyword {
                    FROM | JOIN => *level = true,
                    WHERE | GROUP | HAVING | ORDER | LIMIT | ON | USING | SELECT | UNION | EXCEPT | INTERSECT
                    | QUALIFY | WINDOW => *level = false,
                    _ => {}
                }
            }
            _ => {}
        }
        previous = match &t.token {
            Token::Word(w) => Some(w.keyword),
            _ => None,
        };
    }
    Ok(deepest)
}

/// Whether a token is a binary or unary operator that nests an expression one deeper.
fn operator(token: &Token) -> bool {
    match token {
        Token::Plus
        | Token::Minus
        | Token::Mul
        | Token::Div
        | Token::Mod
        | Token::StringConcat
        | Token::Eq
        | Token::Neq
        | Token::Lt
        | Token::Gt
        | Token::LtEq
        | Token::GtEq => true,
        Token::Word(w) => matches!(w.keyword, Keyword::AND | Keyword::OR | Keyword::NOT | Keyword::WHEN),
        _ => false,
    }
}
