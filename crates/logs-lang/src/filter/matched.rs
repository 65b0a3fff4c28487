//! What a match gives access to: values for metric filters and TestMetricFilter's
//! `extractedValues`.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::Value;

use super::delimited::NamedFields;
use super::json;
use crate::number::parse_number;

/// A value taken from a matched message.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'m> {
    /// A JSON number.
    Number(f64),
    /// A JSON string, or a field of a space-delimited message (always text, as written).
    Text(Cow<'m, str>),
    /// A JSON boolean.
    Bool(bool),
    /// JSON `null`.
    Null,
}

impl FieldValue<'_> {
    /// The value as a number: a JSON number, or text that is entirely a number in the filter
    /// pattern grammar (`404`, `-1.5`, `1e3`). Booleans and null have none.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            FieldValue::Number(n) => Some(*n),
            FieldValue::Text(t) => parse_number(t),
            FieldValue::Bool(_) | FieldValue::Null => None,
        }
    }
}

/// A successful match of one message.
#[derive(Debug)]
pub struct Match<'m> {
    message: &'m str,
    /// The message parsed as a JSON object, on the first `$.` selector asked for.
    json: OnceCell<Option<Value>>,
    /// Space-delimited patterns: every message field with the pattern name it maps to.
    fields: Option<NamedFields<'m>>,
}

impl<'m> Match<'m> {
    /// A match with no extracted data.
    pub(crate) fn plain(message: &'m str) -> Self {
        Self {
            message,
            json: OnceCell::new(),
            fields: None,
        }
    }

    /// A match of a space-delimited pattern.
    pub(crate) fn with_fields(message: &'m str, fields: NamedFields<'m>) -> Self {
        Self {
            message,
            json: OnceCell::new(),
            fields: Some(fields),
        }
    }

    /// A metric filter's value or dimension selector: `$.a.b[0]` (a JSON selector into the
    /// message, whether or not the pattern named it) or `$name` (a named field of a
    /// space-delimited pattern; `$3` is the third field when no field is named `3`).
    /// None when absent, when the selector names a JSON object or array, or when the
    /// selector is malformed.
    pub fn value(&self, selector: &str) -> Option<FieldValue<'m>> {
        if selector.starts_with("$.") {
            let sel = json::parse_selector(selector)?;
            let root = self
                .json
                .get_or_init(|| json::parse_message(self.message))
                .as_ref()?;
            return match sel.lookup(root)? {
                Value::Number(n) => n.as_f64().map(FieldValue::Number),
                Value::String(s) => Some(FieldValue::Text(Cow::Owned(s.clone()))),
                Value::Bool(b) => Some(FieldValue::Bool(*b)),
                Value::Null => Some(FieldValue::Null),
                Value::Array(_) | Value::Object(_) => None,
            };
        }
        let name = selector.strip_prefix('$')?;
        let fields = self.fields.as_ref()?;
        if name.is_empty() {
            return None;
        }
        if let Some((_, text)) = fields.iter().find(|(n, _)| n.as_deref() == Some(name)) {
            return Some(FieldValue::Text(Cow::Borrowed(text)));
        }
        let position = name.parse::<usize>().ok()?;
        let (_, text) = fields.get(position.checked_sub(1)?)?;
        Some(FieldValue::Text(Cow::Borrowed(text)))
    }

    /// What TestMetricFilter reports as `extractedValues` for this match: for a
    /// space-delimited pattern, every field of the message keyed `$name` when the pattern
    /// names it and `$<position>` (1-based) otherwise, in message order, values as written
    /// without enclosing `[]`/`""`. Empty for every other kind of pattern (AWS: "If you are not
    /// using a space-delimited filter, this will be empty").
    pub fn extracted_values(&self) -> Vec<(String, String)> {
        let Some(fields) = &self.fields else {
            return Vec::new();
        };
        fields
            .iter()
            .enumerate()
            .map(|(i, (name, text))| {
                let key = match name {
                    Some(n) => format!("${n}"),
                    None => format!("${}", i + 1),
                };
                (key, (*text).to_string())
            })
            .collect()
    }

    /// The matched message.
    pub fn message(&self) -> &'m str {
        self.message
    }
}
