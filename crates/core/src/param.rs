//! Where a value sits in a request, in AWS's Query spelling (`MetricData.member.2.Value`).
//!
//! Decoders and validators build these chains on the stack as they descend and render them
//! only when an error message needs the name, so a valid request allocates nothing for them.

use std::fmt;

/// A parameter's location: a stack-allocated chain of members and list positions.
#[derive(Clone, Copy, Debug)]
pub enum ParamPath<'a> {
    /// The request itself.
    Root,
    /// A named member of the parent.
    Member(&'a ParamPath<'a>, &'a str),
    /// Item `index` (0-based) of the parent list; rendered 1-based as `member.N`.
    Index(&'a ParamPath<'a>, usize),
}

static ROOT: ParamPath<'static> = ParamPath::Root;

impl ParamPath<'_> {
    /// The full name; empty for the request itself.
    pub fn render(&self) -> String {
        match self {
            ParamPath::Root => String::new(),
            ParamPath::Member(parent, name) => join(parent.render(), name),
            ParamPath::Index(parent, i) => join(parent.render(), &format!("member.{}", i + 1)),
        }
    }
}

fn join(parent: String, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

impl<'a> From<&'a str> for ParamPath<'a> {
    /// A top-level parameter.
    fn from(name: &'a str) -> Self {
        ParamPath::Member(&ROOT, name)
    }
}

impl fmt::Display for ParamPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_query_style_paths() {
        let data = ParamPath::from("MetricData");
        let item = ParamPath::Index(&data, 1);
        let dims = ParamPath::Member(&item, "Dimensions");
        assert_eq!(ParamPath::Member(&ParamPath::Index(&dims, 0), "Name").render(), "MetricData.member.2.Dimensions.member.1.Name");
        assert_eq!(ParamPath::Root.render(), "");
        assert_eq!(ParamPath::Index(&ParamPath::Root, 0).render(), "member.1");
    }
}
