//! Names, ARNs and enumerated values of CloudWatch Logs, checked exactly as the API model
//! constrains them (reference `logs.md` §5–7).

use crate::error::{LogsError, Result};

/// The allowed `retentionInDays` values.
pub const RETENTION_DAYS: [i32; 22] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// The log group classes of the model; `STANDARD` is the default.
pub const LOG_GROUP_CLASSES: [&str; 4] = ["STANDARD", "INFREQUENT_ACCESS", "DELIVERY", "ESSENTIALS"];

const GROUP_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]+";

fn group_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#')
}

/// Checks a log group name (1–512 characters from `[.\-_/#A-Za-z0-9]`) as parameter `param`.
pub fn check_group_name(param: &str, name: &str) -> Result<()> {
    let len = name.chars().count();
    if len < 1 {
        return Err(LogsError::constraint(param, name, "Member must have length greater than or equal to 1"));
    }
    if len > 512 {
        return Err(LogsError::constraint(param, name, "Member must have length less than or equal to 512"));
    }
    if !name.chars().all(group_char) {
        return Err(LogsError::constraint(param, name, &format!("Member must satisfy regular expression pattern: {GROUP_PATTERN}")));
    }
    Ok(())
}

/// Checks a name for a new log group: the model's rules, and the `aws/` prefix AWS keeps
/// for its own groups.
pub fn check_new_group_name(name: &str) -> Result<()> {
    check_group_name("logGroupName", name)?;
    if name.starts_with("aws/") {
        return Err(LogsError::InvalidParameter("Log group names cannot start with 'aws/'.".into()));
    }
    Ok(())
}

/// Checks a log stream name (1–512 characters, neither `:` nor `*`) as parameter `param`.
pub fn check_stream_name(param: &str, name: &str) -> Result<()> {
    let len = name.chars().count();
    if len < 1 {
        return Err(LogsError::constraint(param, name, "Member must have length greater than or equal to 1"));
    }
    if len > 512 {
        return Err(LogsError::constraint(param, name, "Member must have length less than or equal to 512"));
    }
    if name.contains([':', '*']) {
        return Err(LogsError::constraint(param, name, "Member must satisfy regular expression pattern: [^:*]*"));
    }
    Ok(())
}

/// Checks `retentionInDays` against the allowed values.
pub fn check_retention(days: i32) -> Result<()> {
    if RETENTION_DAYS.contains(&days) {
        return Ok(());
    }
    let allowed = RETENTION_DAYS.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
    Err(LogsError::constraint("retentionInDays", days, &format!("Member must satisfy enum value set: [{allowed}]")))
}

/// Checks a log group class.
pub fn check_class(class: &str) -> Result<()> {
    if LOG_GROUP_CLASSES.contains(&class) {
        return Ok(());
    }
    Err(LogsError::constraint("logGroupClass", class, &format!("Member must satisfy enum value set: [{}]", LOG_GROUP_CLASSES.join(", "))))
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>` (`logGroupArn`, no trailing `:*`).
pub fn group_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{name}")
}

/// `arn:aws:logs:<region>:<account>:log-group:<group>:log-stream:<stream>`.
pub fn stream_arn(region: &str, account: &str, group: &str, stream: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}")
}

/// The log group a `logGroupIdentifier` names: a name, or an ARN (with or without the
/// trailing `:*`) of this account and region.
pub fn group_from_identifier(param: &str, id: &str, region: &str, account: &str) -> Result<String> {
    let Some(rest) = id.strip_prefix("arn:") else {
        check_group_name(param, id)?;
        return Ok(id.to_string());
    };
    let parts: Vec<&str> = rest.splitn(6, ':').collect();
    let bad = || LogsError::InvalidParameter(format!("Invalid log group identifier: {id}"));
    if parts.len() != 6 || parts[1] != "logs" || !parts[4].starts_with("log-group") {
        return Err(bad());
    }
    if parts[2] != region || parts[3] != account {
        return Err(LogsError::no_group());
    }
    let name = parts[5].strip_prefix("log-group:").or_else(|| parts[4].strip_prefix("log-group:")).unwrap_or(parts[5]);
    let name = name.strip_suffix(":*").unwrap_or(name);
    check_group_name(param, name)?;
    Ok(name.to_string())
}

/// Resolves the log group of a request that takes `logGroupName` or `logGroupIdentifier`
/// (exactly one of them).
pub fn one_group(name: Option<&str>, identifier: Option<&str>, region: &str, account: &str) -> Result<String> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(LogsError::InvalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.".into())),
        (Some(n), None) => {
            check_group_name("logGroupName", n)?;
            Ok(n.to_string())
        }
        (None, Some(id)) => group_from_identifier("logGroupIdentifier", id, region, account),
        (None, None) => Err(LogsError::InvalidParameter("Should provide either a LogGroup name or a LogGroup ARN.".into())),
    }
}

/// Checks tags: 1–50 entries, keys 1–128 and values 0–256 characters of letters,
/// separators, digits and `_ . : / = + - @`; keys may not start with `aws:`.
pub fn check_tags<'a>(tags: impl IntoIterator<Item = (&'a String, &'a String)>, param: &str) -> Result<usize> {
    let ok = |c: char| c.is_alphanumeric() || c.is_whitespace() || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@');
    let mut n = 0;
    for (k, v) in tags {
        n += 1;
        let klen = k.chars().count();
        if klen == 0 || klen > 128 || !k.chars().all(ok) {
            return Err(LogsError::constraint(&format!("{param}.key"), k, r"Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$"));
        }
        if k.starts_with("aws:") {
            return Err(LogsError::InvalidParameter("Tag keys cannot start with 'aws:'.".into()));
        }
        if v.chars().count() > 256 || !v.chars().all(ok) {
            return Err(LogsError::constraint(&format!("{param}.value"), v, r"Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"));
        }
    }
    if n > 50 {
        return Err(LogsError::constraint(param, "map", "Member must have length less than or equal to 50"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_model() {
        assert!(check_group_name("logGroupName", "/aws/lambda/my-fn_1.#").is_ok());
        assert!(check_group_name("logGroupName", "").is_err());
        assert!(check_group_name("logGroupName", &"a".repeat(512)).is_ok());
        assert!(check_group_name("logGroupName", &"a".repeat(513)).is_err());
        assert!(check_group_name("logGroupName", "a b").is_err());
        assert!(check_new_group_name("aws/x").is_err());
        assert!(check_stream_name("logStreamName", "2024/01/01/[$LATEST]abc").is_ok());
        assert!(check_stream_name("logStreamName", "a:b").is_err());
        assert!(check_stream_name("logStreamName", "a*").is_err());
        assert!(check_retention(14).is_ok() && check_retention(2).is_err());
    }

    #[test]
    fn identifiers_accept_names_and_arns() {
        assert_eq!(group_from_identifier("p", "g1", "us-east-1", "123456789012").unwrap(), "g1");
        assert_eq!(group_from_identifier("p", "arn:aws:logs:us-east-1:123456789012:log-group:/a/b", "us-east-1", "123456789012").unwrap(), "/a/b");
        assert_eq!(group_from_identifier("p", "arn:aws:logs:us-east-1:123456789012:log-group:/a/b:*", "us-east-1", "123456789012").unwrap(), "/a/b");
        assert!(matches!(group_from_identifier("p", "arn:aws:logs:eu-west-1:123456789012:log-group:g", "us-east-1", "123456789012"), Err(LogsError::ResourceNotFound(_))));
        assert!(one_group(None, None, "r", "a").is_err());
        assert!(one_group(Some("a"), Some("a"), "r", "a").is_err());
    }
}
