//! Errors at the edge: rendered once, with the file, line and column and a caret under
//! the spot when the error has a source position.

use codespan_reporting::{
    diagnostic::{Diagnostic, Label},
    files::SimpleFile,
    term::{
        self,
        termcolor::{ColorChoice, StandardStream},
    },
};
use skadi::Error;
use std::io::IsTerminal;

/// Prints an error once, with a caret under the spot when it has a source position.
pub(crate) fn report(e: &Error) {
    let located = match e {
        Error::Sql {
            source_name,
            text,
            position: Some((line, col)),
            error,
        } => Some((source_name, text, *line, *col, &error.message)),
        Error::Job { text, error } => Some((&error.source_name, text, error.line, error.column, &error.message)),
        _ => None,
    };
    if let Some((source_name, text, line, col, message)) = located
        && let Some(offset) = byte_offset(text, line, col)
    {
        let file = SimpleFile::new(source_name.as_str(), text.as_str());
        let end = text[offset..]
            .find(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .map_or(text.len(), |n| offset + n.max(1));
        let diagnostic = Diagnostic::error()
            .with_message(format!("{source_name}:{line}:{col}: {message}"))
            .with_labels(vec![Label::primary((), offset..end)]);
        let choice = if std::io::stderr().is_terminal() {
            ColorChoice::Auto
        } else {
            ColorChoice::Never
        };
        let stream = StandardStream::stderr(choice);
        if term::emit(&mut stream.lock(), &term::Config::default(), &file, &diagnostic).is_ok() {
            return;
        }
    }
    eprintln!("error: {e}");
}

/// The byte offset of 1-based (line, column-in-characters).
fn byte_offset(text: &str, line: usize, col: usize) -> Option<usize> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let line_text = text.get(start..)?.lines().next().unwrap_or("");
    let within = line_text
        .char_indices()
        .nth(col.checked_sub(1)?)
        .map_or(line_text.len(), |(i, _)| i);
    Some(start + within)
}
