//! Body codecs, one per wire format. Decoders turn bytes into a [`Value`](crate::Value) and
//! never panic on arbitrary input; encoders render a `Value`.

pub mod cbor;
pub mod json;
pub mod json_typed;
pub mod query;
pub mod xml;

/// A body that could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct MalformedBody(pub String);
