//! The SQL dialect Skadi parses: sqlparser's generic dialect (DataFusion's default), but
//! with `CASE` and `NOT` reserved and `INTERVAL` parsed once. sqlparser 0.62 parses a
//! reserved word that starts an expression speculatively and, when that fails, parses it
//! again as a column name; a CASE nested in a CASE (or NOT before NOT) with a syntax error
//! inside is then parsed twice per level (20 levels took three seconds, 30 would take
//! hours). With those words reserved the first error is the answer, at once. INTERVAL is
//! tried as a typed literal first and then as the keyword, so a chain `interval +
//! interval + ...` doubled the same way: this dialect parses it as the keyword only.
//! (The reserved words that take parentheses are bounded by `limits::check_nesting`
//! instead; CASE nests without them, and valid SQL nests it deeply: decision trees
//! written as SQL.)

use datafusion::sql::sqlparser::{
    ast::Expr,
    dialect::{Dialect, GenericDialect},
    keywords::{Keyword, RESERVED_FOR_IDENTIFIER},
    parser::{Parser, ParserError},
};
use std::any::TypeId;

/// [`GenericDialect`] with `CASE` and `NOT` reserved and `INTERVAL` parsed once (see the
/// module's doc).
#[derive(Debug, Default)]
pub(crate) struct SkadiDialect(GenericDialect);

/// Delegates each `fn name(&self) -> bool` to the generic dialect.
macro_rules! generic {
    ($($name:ident),* $(,)?) => {
        $(fn $name(&self) -> bool {
            self.0.$name()
        })*
    };
}

impl Dialect for SkadiDialect {
    /// The parser's `dialect_of!(... is GenericDialect)` tests hold for this one too.
    fn dialect(&self) -> TypeId {
        TypeId::of::<GenericDialect>()
    }

    fn is_reserved_for_identifier(&self, keyword: Keyword) -> bool {
        matches!(keyword, Keyword::CASE | Keyword::NOT) || RESERVED_FOR_IDENTIFIER.contains(&keyword)
    }

    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        if parser.peek_keyword(Keyword::INTERVAL) {
            parser.next_token();
            return Some(parser.parse_interval());
        }
        None
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.0.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        self.0.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        self.0.is_identifier_part(ch)
    }

    // Every flag the generic dialect sets (sqlparser 0.62's `dialect/generic.rs`).
    generic!(
        supports_unicode_string_literal,
        supports_partition_by_after_order_by,
        supports_array_join_syntax,
        supports_group_by_expr,
        supports_group_by_with_modifier,
        supports_left_associative_joins_without_parens,
        supports_connect_by,
        supports_match_recognize,
        supports_pipe_operator,
        supports_start_transaction_modifier,
        supports_window_function_null_treatment_arg,
        supports_dictionary_syntax,
        supports_window_clause_named_window_reference,
        supports_parenthesized_set_variables,
        supports_select_wildcard_except,
        support_map_literal_syntax,
        allow_extract_custom,
        allow_extract_single_quotes,
        supports_extract_comma_syntax,
        supports_create_view_comment_syntax,
        supports_parens_around_table_factor,
        supports_values_as_table_factor,
        supports_create_index_with_clause,
        supports_explain_with_utility_options,
        supports_limit_comma,
        supports_update_order_by,
        supports_from_first_select,
        supports_projection_trailing_commas,
        supports_asc_desc_in_column_definition,
        supports_try_convert,
        supports_bitwise_shift_operators,
        supports_comment_on,
        supports_load_extension,
        supports_named_fn_args_with_assignment_operator,
        supports_struct_literal,
        supports_empty_projections,
        supports_nested_comments,
        supports_multiline_comment_hints,
        supports_user_host_grantee,
        supports_string_escape_constant,
        supports_array_typedef_with_brackets,
        supports_match_against,
        supports_set_names,
        supports_comma_separated_set_assignments,
        supports_filter_during_aggregation,
        supports_select_wildcard_exclude,
        supports_data_type_signed_suffix,
        supports_interval_options,
        supports_quote_delimited_string,
        supports_select_wildcard_replace,
        supports_select_wildcard_ilike,
        supports_select_wildcard_rename,
        supports_optimize_table,
        supports_install,
        supports_detach,
        supports_prewhere,
        supports_with_fill,
        supports_limit_by,
        supports_interpolate,
        supports_settings,
        supports_select_format,
        supports_comment_optimizer_hint,
        supports_constraint_keyword_without_name,
        supports_key_column_option,
        supports_comma_separated_trim,
        supports_cte_without_as,
        supports_select_item_multi_column_alias,
        supports_xml_expressions,
    );
}
