//! serde `Serializer` that builds a [`Value`] from a typed output.
//!
//! `None` members are dropped from structures, so output types need no
//! `skip_serializing_if` annotations.

use super::{Value, TIMESTAMP_NAME};
use serde::ser::{self, Serialize};
use watchtrail_core::Timestamp;

/// A typed value could not be turned into a [`Value`].
#[derive(Debug, thiserror::Error)]
#[error("cannot encode output: {0}")]
pub struct EncodeError(String);

impl ser::Error for EncodeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

/// Serializes `v` into a [`Value`].
pub fn to_value<T: Serialize + ?Sized>(v: &T) -> Result<Value, EncodeError> {
    v.serialize(ValueSerializer)
}

struct ValueSerializer;

type R = Result<Value, EncodeError>;

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = EncodeError;
    type SerializeSeq = SeqSer;
    type SerializeTuple = SeqSer;
    type SerializeTupleStruct = SeqSer;
    type SerializeTupleVariant = SeqSer;
    type SerializeMap = MapSer;
    type SerializeStruct = StructSer;
    type SerializeStructVariant = StructSer;

    fn serialize_bool(self, v: bool) -> R {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> R {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> R {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> R {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> R {
        Ok(Value::Int(v))
    }
    fn serialize_u8(self, v: u8) -> R {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> R {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> R {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> R {
        i64::try_from(v).map(Value::Int).map_err(|_| EncodeError("integer out of range".into()))
    }
    fn serialize_f32(self, v: f32) -> R {
        Ok(Value::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> R {
        Ok(Value::Float(v))
    }
    fn serialize_char(self, v: char) -> R {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> R {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        Ok(Value::Blob(v.to_vec()))
    }
    fn serialize_none(self) -> R {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R {
        Ok(Value::String(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, v: &T) -> R {
        let inner = v.serialize(ValueSerializer)?;
        if name == TIMESTAMP_NAME {
            if let Value::Int(ms) = inner {
                return Ok(Value::Timestamp(Timestamp(ms)));
            }
        }
        Ok(inner)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> R {
        Ok(Value::Struct(vec![(variant.to_string(), v.serialize(ValueSerializer)?)]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer, EncodeError> {
        Ok(SeqSer::with_capacity(len.unwrap_or(0)))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqSer, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<SeqSer, EncodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSer, EncodeError> {
        Ok(MapSer { entries: Vec::with_capacity(len.unwrap_or(0)), key: None })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<StructSer, EncodeError> {
        Ok(StructSer(Vec::with_capacity(len)))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<StructSer, EncodeError> {
        Ok(StructSer(Vec::with_capacity(len)))
    }
}

/// Collects list items.
/// A list being written: a list whose items are all floats (or all timestamps) is kept
/// unboxed ([`Value::Floats`], [`Value::Timestamps`]) until an item of another kind comes.
/// Nothing is allocated before the first item shows which kind of vector to size.
pub(crate) enum SeqSer {
    Empty(usize),
    Values(Vec<Value>),
    Floats(Vec<f64>),
    Timestamps(Vec<Timestamp>),
}

impl SeqSer {
    fn with_capacity(n: usize) -> Self {
        SeqSer::Empty(n)
    }

    #[inline]
    fn push(&mut self, v: Value) {
        match self {
            SeqSer::Floats(items) => {
                if let Value::Float(f) = v {
                    return items.push(f);
                }
            }
            SeqSer::Timestamps(items) => {
                if let Value::Timestamp(t) = v {
                    return items.push(t);
                }
            }
            SeqSer::Values(items) => return items.push(v),
            SeqSer::Empty(n) => {
                let n = (*n).max(1);
                *self = match v {
                    Value::Float(f) => {
                        let mut items = Vec::with_capacity(n);
                        items.push(f);
                        SeqSer::Floats(items)
                    }
                    Value::Timestamp(t) => {
                        let mut items = Vec::with_capacity(n);
                        items.push(t);
                        SeqSer::Timestamps(items)
                    }
                    v => {
                        let mut items = Vec::with_capacity(n);
                        items.push(v);
                        SeqSer::Values(items)
                    }
                };
                return;
            }
        }
        // An item of another kind: box what came before.
        let mut items = std::mem::replace(self, SeqSer::Empty(0)).into_values();
        items.push(v);
        *self = SeqSer::Values(items);
    }

    fn into_values(self) -> Vec<Value> {
        match self {
            SeqSer::Empty(_) => Vec::new(),
            SeqSer::Values(items) => items,
            SeqSer::Floats(items) => items.into_iter().map(Value::Float).collect(),
            SeqSer::Timestamps(items) => items.into_iter().map(Value::Timestamp).collect(),
        }
    }
}

impl ser::SerializeSeq for SeqSer {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        let v = v.serialize(ValueSerializer)?;
        self.push(v);
        Ok(())
    }
    fn end(self) -> R {
        Ok(match self {
            SeqSer::Empty(_) => Value::List(Vec::new()),
            SeqSer::Values(items) => Value::List(items),
            SeqSer::Floats(items) => Value::Floats(items),
            SeqSer::Timestamps(items) => Value::Timestamps(items),
        })
    }
}

impl ser::SerializeTuple for SeqSer {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> R {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqSer {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> R {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleVariant for SeqSer {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> R {
        ser::SerializeSeq::end(self)
    }
}

/// Collects map entries; keys must serialize to strings.
pub(crate) struct MapSer {
    entries: Vec<(String, Value)>,
    key: Option<String>,
}

impl ser::SerializeMap for MapSer {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), EncodeError> {
        match k.serialize(ValueSerializer)? {
            Value::String(s) => {
                self.key = Some(s);
                Ok(())
            }
            _ => Err(EncodeError("map keys must be strings".into())),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), EncodeError> {
        let key = self.key.take().ok_or_else(|| EncodeError("map value without key".into()))?;
        self.entries.push((key, v.serialize(ValueSerializer)?));
        Ok(())
    }
    fn end(self) -> R {
        Ok(Value::Map(self.entries))
    }
}

/// Collects structure members, dropping nulls.
pub(crate) struct StructSer(Vec<(String, Value)>);

impl ser::SerializeStruct for StructSer {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), EncodeError> {
        let v = v.serialize(ValueSerializer)?;
        if v != Value::Null {
            self.0.push((key.to_string(), v));
        }
        Ok(())
    }
    fn end(self) -> R {
        Ok(Value::Struct(self.0))
    }
}

impl ser::SerializeStructVariant for StructSer {
    type Ok = Value;
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), EncodeError> {
        ser::SerializeStruct::serialize_field(self, key, v)
    }
    fn end(self) -> R {
        ser::SerializeStruct::end(self)
    }
}
