//! Column types as Skadi spells them in FlowGraph table types and physical plans
//! (`i64`, `f64`, `decimal(15,2)`, `date32`, `utf8`, ...), and their Arrow equivalents.

use arrow_schema::{DataType, Field};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A column's logical type. Bodies see numeric columns as MLIR scalars
/// ([`ColumnType::body_scalar`]); strings are handled by handcrafted operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ColumnType {
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    /// Fixed-point decimal with precision and scale, stored as Arrow Decimal128.
    Decimal(u8, i8),
    /// Days since the Unix epoch.
    Date32,
    Utf8,
    Utf8View,
    LargeUtf8,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TypeError {
    #[error("not supported yet: column type {0}")]
    UnsupportedArrow(String),
    #[error("unknown column type '{0}'")]
    UnknownName(String),
}

impl ColumnType {
    pub fn from_arrow(dt: &DataType) -> Result<Self, TypeError> {
        Ok(match dt {
            DataType::Boolean => ColumnType::Bool,
            DataType::Int8 => ColumnType::Int8,
            DataType::Int16 => ColumnType::Int16,
            DataType::Int32 => ColumnType::Int32,
            DataType::Int64 => ColumnType::Int64,
            DataType::Float32 => ColumnType::Float32,
            DataType::Float64 => ColumnType::Float64,
            DataType::Decimal128(p, s) => ColumnType::Decimal(*p, *s),
            DataType::Date32 => ColumnType::Date32,
            DataType::Utf8 => ColumnType::Utf8,
            DataType::Utf8View => ColumnType::Utf8View,
            DataType::LargeUtf8 => ColumnType::LargeUtf8,
            other => return Err(TypeError::UnsupportedArrow(other.to_string())),
        })
    }

    pub fn to_arrow(self) -> DataType {
        match self {
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Int8 => DataType::Int8,
            ColumnType::Int16 => DataType::Int16,
            ColumnType::Int32 => DataType::Int32,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float32 => DataType::Float32,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Decimal(p, s) => DataType::Decimal128(p, s),
            ColumnType::Date32 => DataType::Date32,
            ColumnType::Utf8 => DataType::Utf8,
            ColumnType::Utf8View => DataType::Utf8View,
            ColumnType::LargeUtf8 => DataType::LargeUtf8,
        }
    }

    /// The MLIR scalar type a body receives for a value of this column, or `None` when the
    /// column cannot enter a compiled body (strings). A decimal is its scaled integer
    /// (`1.25` of scale 2 is 125): an i64 where its precision fits one (≤ 18 digits),
    /// else an i128, so bodies compute decimals exactly.
    pub fn body_scalar(self) -> Option<&'static str> {
        match self {
            ColumnType::Bool => Some("i1"),
            ColumnType::Int8 => Some("i8"),
            ColumnType::Int16 => Some("i16"),
            ColumnType::Int32 | ColumnType::Date32 => Some("i32"),
            ColumnType::Int64 => Some("i64"),
            ColumnType::Float32 => Some("f32"),
            ColumnType::Float64 => Some("f64"),
            ColumnType::Decimal(p, _) if p <= 18 => Some("i64"),
            ColumnType::Decimal(..) => Some("i128"),
            ColumnType::Utf8 | ColumnType::Utf8View | ColumnType::LargeUtf8 => None,
        }
    }

    /// The column type that holds a body's MLIR scalar result.
    pub fn from_body_scalar(mlir: &str) -> Option<Self> {
        Some(match mlir {
            "i1" => ColumnType::Bool,
            "i8" => ColumnType::Int8,
            "i16" => ColumnType::Int16,
            "i32" => ColumnType::Int32,
            "i64" => ColumnType::Int64,
            "f32" => ColumnType::Float32,
            "f64" => ColumnType::Float64,
            _ => return None,
        })
    }

    pub fn is_string(self) -> bool {
        matches!(self, ColumnType::Utf8 | ColumnType::Utf8View | ColumnType::LargeUtf8)
    }

    pub fn is_numeric(self) -> bool {
        !self.is_string() && self != ColumnType::Bool
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Bool => f.write_str("bool"),
            ColumnType::Int8 => f.write_str("i8"),
            ColumnType::Int16 => f.write_str("i16"),
            ColumnType::Int32 => f.write_str("i32"),
            ColumnType::Int64 => f.write_str("i64"),
            ColumnType::Float32 => f.write_str("f32"),
            ColumnType::Float64 => f.write_str("f64"),
            ColumnType::Decimal(p, s) => write!(f, "decimal({p},{s})"),
            ColumnType::Date32 => f.write_str("date32"),
            ColumnType::Utf8 => f.write_str("utf8"),
            ColumnType::Utf8View => f.write_str("utf8view"),
            ColumnType::LargeUtf8 => f.write_str("largeutf8"),
        }
    }
}

impl FromStr for ColumnType {
    type Err = TypeError;
    fn from_str(s: &str) -> Result<Self, TypeError> {
        Ok(match s {
            "bool" => ColumnType::Bool,
            "i8" => ColumnType::Int8,
            "i16" => ColumnType::Int16,
            "i32" => ColumnType::Int32,
            "i64" => ColumnType::Int64,
            "f32" => ColumnType::Float32,
            "f64" => ColumnType::Float64,
            "date32" => ColumnType::Date32,
            "utf8" => ColumnType::Utf8,
            "utf8view" => ColumnType::Utf8View,
            "largeutf8" => ColumnType::LargeUtf8,
            _ => {
                let bad = || TypeError::UnknownName(s.to_string());
                let inner = s
                    .strip_prefix("decimal(")
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(bad)?;
                let (p, sc) = inner.split_once(',').ok_or_else(bad)?;
                ColumnType::Decimal(
                    p.trim().parse().map_err(|_| bad())?,
                    sc.trim().parse().map_err(|_| bad())?,
                )
            }
        })
    }
}

/// One named, typed column of a table edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type", with = "type_name")]
    pub ty: ColumnType,
    #[serde(default)]
    pub nullable: bool,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: ColumnType, nullable: bool) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable,
        }
    }

    pub fn to_arrow(&self) -> Field {
        Field::new(&self.name, self.ty.to_arrow(), self.nullable)
    }

    /// The spelling inside a FlowGraph table type: `name:type`, with a trailing `?` on the
    /// type when the column may hold NULLs. Names may contain ':'; types never do, so the
    /// last ':' separates them.
    pub fn to_type_entry(&self) -> String {
        format!("{}:{}{}", self.name, self.ty, if self.nullable { "?" } else { "" })
    }

    pub fn parse_type_entry(entry: &str) -> Result<Self, TypeError> {
        let (name, ty) = entry
            .rsplit_once(':')
            .ok_or_else(|| TypeError::UnknownName(entry.to_string()))?;
        let (ty, nullable) = match ty.strip_suffix('?') {
            Some(t) => (t, true),
            None => (ty, false),
        };
        Ok(Column::new(name, ty.parse()?, nullable))
    }
}

/// An ordered list of columns: the type of a table edge.
pub type Schema = Vec<Column>;

/// The Arrow schema of a Skadi schema.
pub fn to_arrow_schema(schema: &[Column]) -> arrow_schema::Schema {
    arrow_schema::Schema::new(schema.iter().map(Column::to_arrow).collect::<Vec<_>>())
}

mod type_name {
    use super::ColumnType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &ColumnType, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(t)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ColumnType, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip() {
        for t in [
            ColumnType::Bool,
            ColumnType::Int32,
            ColumnType::Decimal(15, 2),
            ColumnType::Date32,
            ColumnType::Utf8View,
        ] {
            assert_eq!(t.to_string().parse::<ColumnType>().unwrap(), t);
            assert_eq!(ColumnType::from_arrow(&t.to_arrow()).unwrap(), t);
        }
        assert!("decimal(15".parse::<ColumnType>().is_err());
    }

    #[test]
    fn type_entries_split_on_last_colon() {
        let c = Column::parse_type_entry("a:b:decimal(15,2)?").unwrap();
        assert_eq!(c, Column::new("a:b", ColumnType::Decimal(15, 2), true));
        assert_eq!(c.to_type_entry(), "a:b:decimal(15,2)?");
    }
}
