//! Filter patterns: parse once, match many messages.
