//! Where things are in a spec file: byte offsets to line and column, for errors and
//! source locations.

use crate::JobError;
use skadi_flowgraph::SourceLoc;
use skadi_sql::step::Snippet;
use std::ops::Range;
use toml::Spanned;

/// Byte offsets of a spec file → line and column, for errors and locations. Other
/// TOML-based frontends (pipelines) use it too.
#[derive(Clone, Copy)]
pub struct Positions<'a> {
    pub text: &'a str,
    pub source_name: &'a str,
}

impl Positions<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[start..].chars().count() + 1)
    }

    pub fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> JobError {
        let (line, column) = self.line_col(span.map_or(0, |s| s.start));
        JobError {
            source_name: self.source_name.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    pub fn loc(&self, span: Range<usize>) -> SourceLoc {
        let (line, column) = self.line_col(span.start);
        SourceLoc {
            file: self.source_name.to_string(),
            line: line as u32,
            column: column as u32,
        }
    }

    /// Where the characters of a TOML string value start (past its opening quotes and,
    /// for multi-line strings, a line break right after them).
    pub fn snippet<'s>(&self, value: &'s Spanned<String>) -> Snippet<'s> {
        let raw = &self.text[value.span()];
        let mut start = value.span().start;
        if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
            start += 3;
            if self.text[start..].starts_with("\r\n") {
                start += 2;
            } else if self.text[start..].starts_with('\n') {
                start += 1;
            }
        } else if raw.starts_with('"') || raw.starts_with('\'') {
            start += 1;
        }
        let (line, column) = self.line_col(start);
        Snippet {
            text: value.get_ref(),
            line: line as u32,
            column: column as u32,
        }
    }
}
