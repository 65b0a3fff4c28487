//! The protocol-neutral value tree.
//!
//! Every protocol decoder produces a [`Value`]; typed operation inputs are read from it with
//! serde ([`from_value`]), and typed outputs are written into it ([`to_value`]) before a protocol
//! encoder renders them. Timestamps, maps and structures stay distinct so that each protocol can
//! render them its own way (epoch seconds in JSON, CBOR tag 1, ISO 8601 in XML; `<entry>` for
//! maps in XML).

mod de;
mod ser;

pub use de::{from_value, DecodeError, DecodeErrorKind};
pub use ser::{to_value, EncodeError};

/// An operation's output on its way to a protocol encoder: any `Serialize` output goes through
/// [`to_value`]; an output that builds its own [`Value`] (a large answer moving its vectors
/// into the tree rather than serializing them item by item) is returned as that `Value`.
pub trait IntoValue {
    /// The protocol-neutral tree of this output.
    fn into_value(self) -> Result<Value, EncodeError>;
}

impl<T: serde::Serialize> IntoValue for T {
    fn into_value(self) -> Result<Value, EncodeError> {
        to_value(&self)
    }
}

impl IntoValue for Value {
    fn into_value(self) -> Result<Value, EncodeError> {
        Ok(self)
    }
}

use watchtrail_core::Timestamp;

/// The serde newtype name that marks a [`Timestamp`]; `watchtrail_core::Timestamp` derives
/// serde as a newtype struct of this name.
pub(crate) const TIMESTAMP_NAME: &str = "Timestamp";

/// A decoded request or an encoded response, independent of protocol.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Absent / null.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// Text. Query-protocol scalars all arrive as text and are coerced on read.
    String(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// A point in time.
    Timestamp(Timestamp),
    /// A list.
    List(Vec<Value>),
    /// A list of floating point numbers, kept unboxed: a large answer's numbers (GetMetricData
    /// values) cost 8 bytes each instead of a `Value` each. Written exactly as the `List` of
    /// `Float`s it stands for.
    Floats(Vec<f64>),
    /// A list of points in time, kept unboxed (GetMetricData timestamps); written exactly as
    /// the `List` of `Timestamp`s it stands for.
    Timestamps(Vec<Timestamp>),
    /// A structure: named members in declaration order.
    Struct(Vec<(String, Value)>),
    /// A map with string keys (rendered as `<entry><key/><value/></entry>` in XML).
    Map(Vec<(String, Value)>),
}

impl Value {
    /// An empty structure.
    pub fn empty_struct() -> Value {
        Value::Struct(Vec::new())
    }

    /// The member `name` of a structure or map.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(m) | Value::Map(m) => m.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Text content, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Number of items, when this is a list.
    pub fn list_len(&self) -> Option<usize> {
        match self {
            Value::List(l) => Some(l.len()),
            Value::Floats(l) => Some(l.len()),
            Value::Timestamps(l) => Some(l.len()),
            _ => None,
        }
    }

    /// The items of a list of any kind (unboxed lists boxed on the way), or `None` when this
    /// is not a list.
    pub fn list_items(&self) -> Option<std::borrow::Cow<'_, [Value]>> {
        use std::borrow::Cow;
        match self {
            Value::List(l) => Some(Cow::Borrowed(l)),
            Value::Floats(l) => Some(Cow::Owned(l.iter().map(|f| Value::Float(*f)).collect())),
            Value::Timestamps(l) => Some(Cow::Owned(l.iter().map(|t| Value::Timestamp(*t)).collect())),
            _ => None,
        }
    }

    /// Renders as JSON for logs and the activity journal: timestamps as ISO 8601 strings, blobs
    /// as their length.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map(J::Number).unwrap_or_else(|| J::String(f.to_string())),
            Value::String(s) => J::String(s.clone()),
            Value::Blob(b) => J::String(format!("<{} bytes>", b.len())),
            Value::Timestamp(t) => J::String(t.to_iso8601()),
            Value::List(_) | Value::Floats(_) | Value::Timestamps(_) => {
                J::Array(self.list_items().unwrap_or_default().iter().map(Value::to_json).collect())
            }
            Value::Struct(m) | Value::Map(m) => {
                J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests;
