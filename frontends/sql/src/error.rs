use datafusion::error::DataFusionError;

/// A SQL error with the line and column it points at, when there is one.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("{message}")]
pub struct SqlError {
    pub message: String,
    /// 1-based (line, column) in the SQL text.
    pub position: Option<(usize, usize)>,
}

impl SqlError {
    pub fn unsupported(construct: impl std::fmt::Display) -> Self {
        SqlError {
            message: format!("not supported yet: {construct}"),
            position: None,
        }
    }

    pub fn at(mut self, position: Option<(usize, usize)>) -> Self {
        if self.position.is_none() {
            self.position = position;
        }
        self
    }
}

impl From<DataFusionError> for SqlError {
    fn from(e: DataFusionError) -> Self {
        if let Some(d) = e.diagnostic() {
            let position = d
                .span
                .filter(|s| s.start.line > 0)
                .map(|s| (s.start.line as usize, s.start.column as usize));
            return SqlError {
                message: d.message.clone(),
                position,
            };
        }
        let mut message = e.strip_backtrace();
        // DataFusion's optimizer checks regex literals: say so plainly.
        if message.contains("Invalid regex") {
            let detail = message.lines().last().unwrap_or_default().trim();
            return SqlError {
                message: format!(
                    "bad regular expression: {}",
                    detail.strip_prefix("error: ").unwrap_or(detail)
                ),
                position: None,
            };
        }
        for prefix in [
            "SQL error: ",
            "Error during planning: ",
            "Schema error: ",
            "This feature is not implemented: ",
        ] {
            if let Some(rest) = message.strip_prefix(prefix) {
                message = rest.to_string();
            }
        }
        // sqlparser spells positions "... at Line: 3, Column: 7".
        let position = message.find("Line: ").and_then(|i| {
            let rest = &message[i + 6..];
            let (line, rest) = rest.split_once(", Column: ")?;
            let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
            Some((line.trim().parse().ok()?, col.parse().ok()?))
        });
        if let Some(rest) = message.strip_prefix("ParserError(\"") {
            message = rest.trim_end_matches("\")").to_string();
        }
        if let Some(i) = message.find(" at Line: ") {
            message.truncate(i);
        }
        SqlError { message, position }
    }
}
