//! serde `Deserializer` that reads a typed input from a [`Value`].
//!
//! It is lenient the way AWS services are: Query-protocol scalars arrive as text and are
//! coerced to the number or boolean the input type asks for; an empty Query value stands for an
//! empty list. Errors carry the member path in Query spelling (`MetricData.member.1.Value`) so
//! that messages can name the offending parameter as AWS does.

use super::{Value, TIMESTAMP_NAME};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use watchtrail_core::{ParamPath as Path, Timestamp};

/// Why an input could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// A required member is absent.
    Missing,
    /// A member has the wrong type or an unreadable value.
    Invalid,
}

/// An input that does not fit the operation's shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    /// Missing or invalid.
    pub kind: DecodeErrorKind,
    /// Member path, Query style (`MetricData.member.1.Value`); empty for the top level.
    pub path: String,
    /// Description.
    pub message: String,
    anchored: bool,
}

impl DecodeError {
    fn invalid(path: &Path<'_>, message: String) -> Self {
        DecodeError { kind: DecodeErrorKind::Invalid, path: path.render(), message, anchored: true }
    }

    fn anchor(mut self, path: &Path<'_>) -> Self {
        if !self.anchored {
            self.anchored = true;
            let here = path.render();
            self.path = match (here.is_empty(), self.path.is_empty()) {
                (_, true) => here,
                (true, false) => self.path,
                (false, false) => format!("{here}.{}", self.path),
            };
            if self.kind == DecodeErrorKind::Missing {
                self.message = format!("The parameter {} is required.", self.path);
            }
        }
        self
    }
}

impl de::Error for DecodeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        DecodeError { kind: DecodeErrorKind::Invalid, path: String::new(), message: msg.to_string(), anchored: false }
    }
    fn missing_field(field: &'static str) -> Self {
        DecodeError {
            kind: DecodeErrorKind::Missing,
            path: field.to_string(),
            message: format!("The parameter {field} is required."),
            anchored: false,
        }
    }
}

/// Reads a typed value from `v`.
pub fn from_value<T: DeserializeOwned>(v: &Value) -> Result<T, DecodeError> {
    T::deserialize(ValueDe { value: v, path: Path::Root })
}

struct ValueDe<'a, 'p> {
    value: &'a Value,
    path: Path<'p>,
}

impl<'a, 'p> ValueDe<'a, 'p> {
    fn describe(&self) -> String {
        let shown = match self.value {
            Value::String(s) if s.len() > 64 => format!("'{}...'", &s[..s.char_indices().nth(60).map(|(i, _)| i).unwrap_or(s.len())]),
            Value::String(s) => format!("'{s}'"),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Timestamp(t) => t.to_iso8601(),
            Value::Null => "null".into(),
            Value::Blob(_) => "a blob".into(),
            Value::List(_) | Value::Floats(_) | Value::Timestamps(_) => "a list".into(),
            Value::Struct(_) | Value::Map(_) => "a structure".into(),
        };
        let p = self.path.render();
        if p.is_empty() {
            format!("The request value {shown} is invalid.")
        } else {
            format!("The value {shown} for parameter {p} is invalid.")
        }
    }

    fn invalid(&self) -> DecodeError {
        DecodeError::invalid(&self.path, self.describe())
    }

    fn int(&self) -> Result<i64, DecodeError> {
        match self.value {
            Value::Int(i) => Ok(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Ok(*f as i64),
            Value::String(s) => s.trim().parse::<i64>().map_err(|_| self.invalid()),
            _ => Err(self.invalid()),
        }
    }

    fn float(&self) -> Result<f64, DecodeError> {
        match self.value {
            Value::Float(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            Value::String(s) => parse_float(s).ok_or_else(|| self.invalid()),
            _ => Err(self.invalid()),
        }
    }

    fn timestamp(&self) -> Result<Timestamp, DecodeError> {
        match self.value {
            Value::Timestamp(t) => Ok(*t),
            Value::Int(i) => Timestamp::from_secs_checked(*i).ok_or_else(|| self.invalid()),
            Value::Float(f) => Timestamp::from_secs_f64(*f).ok_or_else(|| self.invalid()),
            Value::String(s) => Timestamp::parse(s).ok_or_else(|| self.invalid()),
            _ => Err(self.invalid()),
        }
    }
}

/// Parses a float as AWS clients write them, including `NaN` and `Infinity` spellings (which
/// validation later rejects where the model forbids them).
fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "NaN" | "nan" => Some(f64::NAN),
        "Infinity" | "inf" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        _ => t.parse::<f64>().ok(),
    }
}

macro_rules! int_method {
    ($name:ident, $visit:ident, $ty:ty) => {
        fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            let i = self.int()?;
            let v = <$ty>::try_from(i).map_err(|_| self.invalid())?;
            visitor.$visit(v).map_err(|e: DecodeError| e.anchor(&self.path))
        }
    };
}

impl<'de, 'a, 'p> de::Deserializer<'de> for ValueDe<'a, 'p> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let path = self.path;
        let r = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::String(s) => visitor.visit_str(s),
            Value::Blob(b) => visitor.visit_bytes(b),
            Value::Timestamp(t) => visitor.visit_i64(t.millis()),
            Value::List(_) | Value::Floats(_) | Value::Timestamps(_) => return self.deserialize_seq(visitor),
            Value::Struct(_) | Value::Map(_) => return self.deserialize_map(visitor),
        };
        r.map_err(|e: DecodeError| e.anchor(&path))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let b = match self.value {
            Value::Bool(b) => *b,
            Value::String(s) if s.eq_ignore_ascii_case("true") => true,
            Value::String(s) if s.eq_ignore_ascii_case("false") => false,
            _ => return Err(self.invalid()),
        };
        visitor.visit_bool(b).map_err(|e: DecodeError| e.anchor(&self.path))
    }

    int_method!(deserialize_i8, visit_i8, i8);
    int_method!(deserialize_i16, visit_i16, i16);
    int_method!(deserialize_i32, visit_i32, i32);
    int_method!(deserialize_i64, visit_i64, i64);
    int_method!(deserialize_u8, visit_u8, u8);
    int_method!(deserialize_u16, visit_u16, u16);
    int_method!(deserialize_u32, visit_u32, u32);
    int_method!(deserialize_u64, visit_u64, u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let f = self.float()?;
        visitor.visit_f32(f as f32).map_err(|e: DecodeError| e.anchor(&self.path))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let f = self.float()?;
        visitor.visit_f64(f).map_err(|e: DecodeError| e.anchor(&self.path))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let r = match self.value {
            Value::String(s) => visitor.visit_str(s),
            Value::Int(i) => visitor.visit_string(i.to_string()),
            Value::Float(f) => visitor.visit_string(f.to_string()),
            Value::Bool(b) => visitor.visit_string(b.to_string()),
            _ => return Err(self.invalid()),
        };
        r.map_err(|e: DecodeError| e.anchor(&self.path))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let r = match self.value {
            Value::Blob(b) => visitor.visit_bytes(b),
            Value::String(s) => {
                use base64::Engine;
                match base64::engine::general_purpose::STANDARD.decode(s.trim()) {
                    Ok(b) => visitor.visit_byte_buf(b),
                    Err(_) => return Err(self.invalid()),
                }
            }
            _ => return Err(self.invalid()),
        };
        r.map_err(|e: DecodeError| e.anchor(&self.path))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, DecodeError> {
        if name == TIMESTAMP_NAME {
            let t = self.timestamp()?;
            return visitor
                .visit_newtype_struct(t.millis().into_deserializer())
                .map_err(|e: DecodeError| e.anchor(&self.path));
        }
        let path = self.path;
        visitor.visit_newtype_struct(self).map_err(|e: DecodeError| e.anchor(&path))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        static EMPTY: [Value; 0] = [];
        let boxed;
        let items: &[Value] = match self.value {
            Value::List(l) => l,
            Value::Floats(_) | Value::Timestamps(_) => {
                boxed = self.value.list_items().unwrap_or_default().into_owned();
                &boxed
            }
            // Query: `Dimensions=` (an empty value) is an empty list.
            Value::String(s) if s.is_empty() => &EMPTY,
            _ => return Err(self.invalid()),
        };
        let path = self.path;
        visitor
            .visit_seq(SeqAccess { items: items.iter().enumerate(), parent: &path })
            .map_err(|e: DecodeError| e.anchor(&path))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        static EMPTY: [(String, Value); 0] = [];
        let members: &[(String, Value)] = match self.value {
            Value::Struct(m) | Value::Map(m) => m,
            Value::String(s) if s.is_empty() => &EMPTY,
            _ => return Err(self.invalid()),
        };
        let path = self.path;
        visitor
            .visit_map(MapAccess { members: members.iter(), pending: None, parent: &path })
            .map_err(|e: DecodeError| e.anchor(&path))
    }

    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::String(s) => visitor
                .visit_enum(s.as_str().into_deserializer())
                .map_err(|e: DecodeError| DecodeError::invalid(&self.path, e.message).anchor(&self.path))
                .map_err(|_| self.invalid()),
            _ => Err(self.invalid()),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }
}

struct SeqAccess<'a, 'p, I: Iterator<Item = (usize, &'a Value)>> {
    items: I,
    parent: &'p Path<'p>,
}

impl<'de, 'a, 'p, I: Iterator<Item = (usize, &'a Value)>> de::SeqAccess<'de> for SeqAccess<'a, 'p, I> {
    type Error = DecodeError;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DecodeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, v)) => {
                let path = Path::Index(self.parent, i);
                seed.deserialize(ValueDe { value: v, path }).map(Some).map_err(|e: DecodeError| e.anchor(&path))
            }
        }
    }
}

struct MapAccess<'a, 'p, I: Iterator<Item = &'a (String, Value)>> {
    members: I,
    pending: Option<&'a (String, Value)>,
    parent: &'p Path<'p>,
}

impl<'de, 'a, 'p, I: Iterator<Item = &'a (String, Value)>> de::MapAccess<'de> for MapAccess<'a, 'p, I> {
    type Error = DecodeError;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DecodeError> {
        // A member sent as null is treated as absent, so a required one reports as missing.
        match self.members.by_ref().find(|(_, v)| !matches!(v, Value::Null)) {
            None => Ok(None),
            Some(entry) => {
                self.pending = Some(entry);
                seed.deserialize(entry.0.as_str().into_deserializer()).map(Some)
            }
        }
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DecodeError> {
        let (k, v) = self.pending.take().ok_or_else(|| de::Error::custom("value without key"))?;
        let path = Path::Member(self.parent, k.as_str());
        seed.deserialize(ValueDe { value: v, path }).map_err(|e: DecodeError| e.anchor(&path))
    }
}
