//! awsQuery responses: XML documents in the service's namespace.
//!
//! Lists render as `<member>` elements, maps as `<entry><key/><value/></entry>`, timestamps as
//! ISO 8601, booleans as `true`/`false`.

use crate::value::Value;
use quick_xml::escape::escape;

/// Renders a successful Query response for operation `op`. `result` is `None` for operations
/// without output.
pub fn success(op: &str, namespace: &str, result: Option<&Value>, request_id: &str) -> Vec<u8> {
    let mut out = String::with_capacity(512);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!("<{op}Response xmlns=\"{}\">", escape(namespace)));
    if let Some(v) = result {
        out.push_str(&format!("<{op}Result>"));
        write_members(v, &mut out);
        out.push_str(&format!("</{op}Result>"));
    }
    out.push_str(&format!(
        "<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{op}Response>",
        escape(request_id)
    ));
    out.into_bytes()
}

/// Renders a Query error response.
pub fn error(namespace: &str, fault: &str, code: &str, message: &str, request_id: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(namespace),
        escape(fault),
        escape(code),
        escape(message),
        escape(request_id)
    )
    .into_bytes()
}

fn write_members(v: &Value, out: &mut String) {
    match v {
        Value::Struct(members) => {
            for (k, v) in members {
                if matches!(v, Value::Null) {
                    continue;
                }
                out.push('<');
                out.push_str(k);
                out.push('>');
                write_value(v, out);
                out.push_str("</");
                out.push_str(k);
                out.push('>');
            }
        }
        other => write_value(other, out),
    }
}

fn write_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::String(s) => out.push_str(&escape(s.as_str())),
        Value::Blob(b) => {
            use base64::Engine;
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::Timestamp(t) => out.push_str(&t.to_iso8601()),
        Value::List(_) | Value::Floats(_) | Value::Timestamps(_) => {
            for item in v.list_items().unwrap_or_default().iter() {
                out.push_str("<member>");
                write_members(item, out);
                out.push_str("</member>");
            }
        }
        Value::Struct(_) => write_members(v, out),
        Value::Map(entries) => {
            for (k, v) in entries {
                out.push_str("<entry><key>");
                out.push_str(&escape(k.as_str()));
                out.push_str("</key><value>");
                write_members(v, out);
                out.push_str("</value></entry>");
            }
        }
    }
}

fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        // Debug formatting is shortest-round-trip and keeps a `.0` on whole numbers.
        format!("{f:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchtrail_core::Timestamp;

    #[test]
    fn renders_lists_maps_and_timestamps() {
        let v = Value::Struct(vec![
            ("Label".into(), Value::String("a<b".into())),
            (
                "Datapoints".into(),
                Value::List(vec![Value::Struct(vec![
                    ("Timestamp".into(), Value::Timestamp(Timestamp::from_secs(1_767_225_600))),
                    ("Sum".into(), Value::Float(3.0)),
                    ("ExtendedStatistics".into(), Value::Map(vec![("p99".into(), Value::Float(1.5))])),
                ])]),
            ),
        ]);
        let xml = String::from_utf8(success("GetMetricStatistics", "http://ns/", Some(&v), "rid")).unwrap();
        assert!(xml.contains("<GetMetricStatisticsResponse xmlns=\"http://ns/\"><GetMetricStatisticsResult><Label>a&lt;b</Label><Datapoints><member><Timestamp>2026-01-01T00:00:00Z</Timestamp><Sum>3.0</Sum><ExtendedStatistics><entry><key>p99</key><value>1.5</value></entry></ExtendedStatistics></member></Datapoints></GetMetricStatisticsResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetMetricStatisticsResponse>"), "{xml}");
    }

    #[test]
    fn no_result_element_without_output() {
        let xml = String::from_utf8(success("PutMetricData", "ns", None, "r")).unwrap();
        assert!(!xml.contains("PutMetricDataResult"));
        assert!(xml.contains("<RequestId>r</RequestId>"));
    }
}
