//! Lazy extraction for JSON patterns: one pass of serde_json over the message that validates it
//! and keeps only the values the pattern's selectors name (borrowed when unescaped); every
//! other value is skipped without allocating. Skipping goes through `deserialize_any` (not
//! serde_json's iterative `ignore_value`) so that its 128-level recursion limit holds everywhere.
//!
//! Behaves like parsing a `serde_json::Value` and looking the selectors up in it: the root must
//! be an object, trailing text is refused, nesting is bounded by serde_json's recursion limit,
//! and a duplicated key keeps its last value.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::json::{Selector, Step};

/// A node of the selector tree: where a selector ends (`slot`) and where selectors go on.
#[derive(Clone, Debug, Default)]
struct Node {
    slot: Option<usize>,
    keys: Vec<(String, usize)>,
    indexes: Vec<(usize, usize)>,
}

/// The selectors of a pattern, merged into a tree; each distinct selector has a slot.
#[derive(Clone, Debug)]
pub(crate) struct PathTree {
    nodes: Vec<Node>,
    slots: usize,
}

impl Default for PathTree {
    fn default() -> Self {
        Self {
            nodes: vec![Node::default()],
            slots: 0,
        }
    }
}

impl PathTree {
    /// The slot of `selector`, adding it to the tree if new.
    pub(crate) fn slot(&mut self, selector: &Selector) -> usize {
        let mut at = 0;
        for step in &selector.steps {
            let found = match step {
                Step::Key(k) => self.nodes[at]
                    .keys
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, c)| *c),
                Step::Index(i) => self.nodes[at]
                    .indexes
                    .iter()
                    .find(|(n, _)| n == i)
                    .map(|(_, c)| *c),
            };
            at = match found {
                Some(c) => c,
                None => {
                    let c = self.nodes.len();
                    self.nodes.push(Node::default());
                    match step {
                        Step::Key(k) => self.nodes[at].keys.push((k.clone(), c)),
                        Step::Index(i) => self.nodes[at].indexes.push((*i, c)),
                    }
                    c
                }
            };
        }
        if let Some(s) = self.nodes[at].slot {
            return s;
        }
        let s = self.slots;
        self.slots += 1;
        self.nodes[at].slot = Some(s);
        s
    }

    /// Extracts the slots' values from `message`, or `None` if it is not one JSON object.
    pub(crate) fn extract<'m>(&self, message: &'m str) -> Option<Vec<Found<'m>>> {
        if message.trim_start().as_bytes().first() != Some(&b'{') {
            return None;
        }
        let mut found = vec![Found::Missing; self.slots];
        let mut de = serde_json::Deserializer::from_str(message);
        de::Deserializer::deserialize_map(
            &mut de,
            NodeSeed {
                tree: self,
                node: 0,
                found: &mut found,
            },
        )
        .ok()?;
        de.end().ok()?;
        Some(found)
    }

    /// Resets the slots at and under `node` (a duplicated key replaces everything under it).
    fn clear(&self, node: usize, found: &mut [Found<'_>]) {
        let n = &self.nodes[node];
        if let Some(s) = n.slot {
            found[s] = Found::Missing;
        }
        for c in n
            .keys
            .iter()
            .map(|(_, c)| *c)
            .chain(n.indexes.iter().map(|(_, c)| *c))
        {
            self.clear(c, found);
        }
    }
}

/// What a selector names in a message.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Found<'m> {
    Missing,
    Str(Cow<'m, str>),
    Number(serde_json::Number),
    Bool(bool),
    Null,
    /// An object or an array (fails every test but `NOT EXISTS`).
    Composite,
}

/// Visits the value at `node`.
struct NodeSeed<'t, 'f, 'm> {
    tree: &'t PathTree,
    node: usize,
    found: &'f mut [Found<'m>],
}

impl NodeSeed<'_, '_, '_> {
    fn set<'m>(slot: Option<usize>, found: &mut [Found<'m>], value: Found<'m>) {
        if let Some(s) = slot {
            found[s] = value;
        }
    }
}

impl<'de, 't, 'f> DeserializeSeed<'de> for NodeSeed<'t, 'f, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 't, 'f> Visitor<'de> for NodeSeed<'t, 'f, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        Self::set(self.tree.nodes[self.node].slot, self.found, Found::Bool(v));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        Self::set(
            self.tree.nodes[self.node].slot,
            self.found,
            Found::Number(v.into()),
        );
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        Self::set(
            self.tree.nodes[self.node].slot,
            self.found,
            Found::Number(v.into()),
        );
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        let n = serde_json::Number::from_f64(v).map_or(Found::Null, Found::Number);
        Self::set(self.tree.nodes[self.node].slot, self.found, n);
        Ok(())
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        Self::set(
            self.tree.nodes[self.node].slot,
            self.found,
            Found::Str(Cow::Borrowed(v)),
        );
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Self::set(
            self.tree.nodes[self.node].slot,
            self.found,
            Found::Str(Cow::Owned(v.to_owned())),
        );
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Self::set(self.tree.nodes[self.node].slot, self.found, Found::Null);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let node = &self.tree.nodes[self.node];
        Self::set(node.slot, self.found, Found::Composite);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match node.keys.iter().find(|(k, _)| *k == *key) {
                Some(&(_, child)) => {
                    self.tree.clear(child, self.found);
                    map.next_value_seed(NodeSeed {
                        tree: self.tree,
                        node: child,
                        found: &mut *self.found,
                    })?;
                }
                None => {
                    map.next_value_seed(Skip)?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let node = &self.tree.nodes[self.node];
        Self::set(node.slot, self.found, Found::Composite);
        let mut i = 0usize;
        loop {
            let more = match node.indexes.iter().find(|(n, _)| *n == i) {
                Some(&(_, child)) => seq
                    .next_element_seed(NodeSeed {
                        tree: self.tree,
                        node: child,
                        found: &mut *self.found,
                    })?
                    .is_some(),
                None => seq.next_element_seed(Skip)?.is_some(),
            };
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }
}

/// An object key, borrowed from the message when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// Skips one value, nesting checked by serde_json's recursion limit.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
}
