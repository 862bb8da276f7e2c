//! Joins on equal keys, with an optional condition over the joined row.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Joins input 0 (left) and input 1 (right) on `left_keys[i] = right_keys[i]` (NULL equals
/// nothing). Inner and outer kinds output left ++ right columns (outer kinds pad the
/// unmatched side with NULLs); semi and anti output the left rows with / without a match.
/// No keys pairs every row. `filter(filter_args...)`, over the joined row, is a further
/// condition of a match: NULL where an arg is NULL, unless the body follows SQL's
/// three-valued logic itself (an OR or CASE over nullable columns): then it also takes,
/// after `filter_args`, one i1 per entry of `filter_validity` (positions in
/// `filter_args`), true where that arg is not NULL. A filter whose arithmetic can fail
/// returns a second i1, true on a pair where it did: the join fails with `filter_fault`
/// there. `null_aware` (anti joins from `NOT IN`): a NULL key on either side makes the
/// answer unknown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Join {
    pub join_kind: JoinKind,
    pub left_keys: Vec<String>,
    pub right_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter_args: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter_validity: Vec<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_fault: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub null_aware: bool,
}

impl fmt::Display for Join {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on: Vec<String> = self
            .left_keys
            .iter()
            .zip(&self.right_keys)
            .map(|(l, r)| format!("{l} = {r}"))
            .collect();
        write!(
            f,
            "{}{} on [{}]",
            self.join_kind.name(),
            if self.null_aware { " (null-aware)" } else { "" },
            on.join(", ")
        )?;
        if let Some(body) = &self.filter {
            write!(f, " filter @{body}({})", super::list(&self.filter_args))?;
            if !self.filter_validity.is_empty() {
                write!(f, " (three-valued)")?;
            }
            if let Some(what) = &self.filter_fault {
                write!(f, " (may fail: {what})")?;
            }
        }
        Ok(())
    }
}

/// How a join treats rows without a match; see [`Join`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    Semi,
    Anti,
}

impl JoinKind {
    pub const ALL: [JoinKind; 6] = [
        JoinKind::Inner,
        JoinKind::Left,
        JoinKind::Right,
        JoinKind::Full,
        JoinKind::Semi,
        JoinKind::Anti,
    ];

    pub fn name(self) -> &'static str {
        match self {
            JoinKind::Inner => "inner",
            JoinKind::Left => "left",
            JoinKind::Right => "right",
            JoinKind::Full => "full",
            JoinKind::Semi => "semi",
            JoinKind::Anti => "anti",
        }
    }

    pub fn parse(name: &str) -> Option<JoinKind> {
        JoinKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the output carries the right input's columns (semi and anti do not).
    pub fn outputs_right(self) -> bool {
        !matches!(self, JoinKind::Semi | JoinKind::Anti)
    }

    /// Whether unmatched rows of input `side` (0 left, 1 right) are kept, NULL-padded.
    pub fn preserves(self, side: usize) -> bool {
        matches!(
            (self, side),
            (JoinKind::Left, 0) | (JoinKind::Right, 1) | (JoinKind::Full, _)
        )
    }
}
