//! The string ops' text: what bodies cannot compute (they take numbers) is appended as a
//! column by these ops, which the bodies then read.

use super::{FlowGraphBuilder, SourceLoc, TableValue};
use crate::syntax::{quote, string_array};
use skadi_common::{Column, ColumnType, MatchKind, Schema};
use std::fmt::Write;

impl FlowGraphBuilder {
    /// Appends boolean column `name`: whether string column `column` equals / is LIKE one
    /// of `patterns`.
    pub fn string_match(
        &mut self,
        input: TableValue,
        column: &str,
        kind: MatchKind,
        patterns: &[String],
        name: &str,
        loc: &SourceLoc,
    ) -> TableValue {
        let mut schema = self.schemas[input.0].clone();
        let nullable = schema.iter().find(|c| c.name == column).is_none_or(|c| c.nullable);
        schema.push(skadi_common::Column::new(
            name,
            skadi_common::ColumnType::Bool,
            nullable,
        ));
        let attrs = format!(
            "column = {}, kind = {}, patterns = {}",
            quote(column),
            quote(kind.name()),
            string_array(patterns)
        );
        self.unary_op("match", input, &attrs, schema, loc)
    }

    /// Appends column `out` = `function(column, args...)` (see `flow.string`).
    pub fn string_function(
        &mut self,
        input: TableValue,
        function: &str,
        column: &str,
        args: &[String],
        out: skadi_common::Column,
        loc: &SourceLoc,
    ) -> TableValue {
        let mut schema = self.schemas[input.0].clone();
        schema.push(out);
        let attrs = format!(
            "function = {}, column = {}, args = {}",
            quote(function),
            quote(column),
            string_array(args)
        );
        self.unary_op("string", input, &attrs, schema, loc)
    }

    /// Appends string column `out`: per row, choice `index` of `choices` (see `flow.pick`).
    pub fn pick(
        &mut self,
        input: TableValue,
        index: Option<&str>,
        choices: &[skadi_common::Choice],
        out: skadi_common::Column,
        loc: &SourceLoc,
    ) -> TableValue {
        let mut schema: Schema = self.schemas[input.0].clone();
        schema.push(out);
        let texts: Vec<String> = choices.iter().map(skadi_common::Choice::text).collect();
        let mut attrs = format!("choices = {}", string_array(&texts));
        if let Some(i) = index {
            let _ = write!(attrs, ", index = {}", quote(i));
        }
        self.unary_op("pick", input, &attrs, schema, loc)
    }

    /// `input` with the concatenation of `parts` appended as `out` (see `flow.concat`).
    pub fn concat(
        &mut self,
        input: TableValue,
        concat: &skadi_common::Concat,
        out: Column,
        loc: &SourceLoc,
    ) -> TableValue {
        let mut schema: Schema = self.schemas[input.0].clone();
        schema.push(out);
        let texts: Vec<String> = concat.parts.iter().map(skadi_common::Choice::text).collect();
        let nulls = if concat.skip_nulls { "skip" } else { "propagate" };
        let mut attrs = format!("parts = {}, nulls = {}", string_array(&texts), quote(nulls));
        if let Some(s) = &concat.separator {
            attrs.push_str(&format!(", separator = {}", quote(s)));
        }
        self.unary_op("concat", input, &attrs, schema, loc)
    }

    /// `input` with bool column `out` appended: string columns `left` `op` `right` (see
    /// `flow.compare`).
    pub fn compare(
        &mut self,
        input: TableValue,
        compare: &skadi_common::Compare,
        out: &str,
        loc: &SourceLoc,
    ) -> TableValue {
        let mut schema: Schema = self.schemas[input.0].clone();
        let nullable = schema
            .iter()
            .filter(|c| c.name == compare.left || c.name == compare.right)
            .any(|c| c.nullable);
        schema.push(Column::new(out, ColumnType::Bool, nullable));
        let attrs = format!(
            "left = {}, op = {}, right = {}",
            quote(&compare.left),
            quote(compare.op.name()),
            quote(&compare.right)
        );
        self.unary_op("compare", input, &attrs, schema, loc)
    }

    /// One row per piece of string column `column` (see `flow.flat_map`), the piece
    /// appended as column `out` after the input's other columns.
    pub fn flat_map(
        &mut self,
        input: TableValue,
        function: &str,
        column: &str,
        pattern: &str,
        out: &str,
        loc: &SourceLoc,
    ) -> TableValue {
        let mut schema: Schema = self.schemas[input.0]
            .iter()
            .filter(|c| c.name != column)
            .cloned()
            .collect();
        schema.push(skadi_common::Column::new(out, skadi_common::ColumnType::Utf8, false));
        let attrs = format!(
            "function = {}, column = {}, pattern = {}",
            quote(function),
            quote(column),
            quote(pattern)
        );
        self.unary_op("flat_map", input, &attrs, schema, loc)
    }
}
