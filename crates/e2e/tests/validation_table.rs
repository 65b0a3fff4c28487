//! Acceptance table: every PutMetricData / GetMetricStatistics validation rule gives the exact
//! error code over each of CloudWatch's three protocols.
//!
//! Each row is one request described once (protocol-neutral parameters, see `raw`) and sent as
//! awsJson1_0, rpcv2Cbor and awsQuery to an in-process server over plain HTTP, signed with SigV4.
//! For an error row every protocol must answer:
//!
//! - HTTP 400 and an `x-amzn-RequestId`;
//! - awsQuery: `<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>…`, the same request
//!   id in `<RequestId>`;
//! - awsJson1_0 and rpcv2Cbor: `__type` = `com.amazonaws.cloudwatch#{Shape}` in the protocol's
//!   body format, and the header `x-amzn-query-error: {code};Sender` (awsQueryCompatible);
//! - an activity-journal record for the request id carrying the code.
//!
//! Valid rows sit on the boundaries (exactly 30 dimensions, 1000 datums, 150 values, 255-character
//! names, timestamps just inside the window, 1440 datapoints …) and must succeed everywhere.
//!
//! Run with `--nocapture` to see the table: one line per row, one column per protocol, and a
//! summary line per protocol.

mod common;
mod raw;

use raw::{double, inf, nan, neg_inf, ts, ts_f, Client, Proto, Response, SHAPE_NAMESPACE};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

const NS: &str = "WT/Validation";
const PUT: &str = "PutMetricData";
const GMS: &str = "GetMetricStatistics";

const IPV: &str = "InvalidParameterValue";
const MISSING: &str = "MissingParameter";
const IPC: &str = "InvalidParameterCombination";

/// The modeled shape of each query code (the `__type` of JSON and CBOR errors).
fn shape_of(code: &str) -> &'static str {
    match code {
        "InvalidParameterValue" => "InvalidParameterValueException",
        "MissingParameter" => "MissingRequiredParameterException",
        "InvalidParameterCombination" => "InvalidParameterCombinationException",
        other => panic!("no shape known for {other}"),
    }
}

/// 2^360, the largest magnitude CloudWatch accepts.
fn max_magnitude() -> f64 {
    2f64.powi(360)
}

/// The smallest double above 2^360.
fn just_over_max() -> f64 {
    f64::from_bits(max_magnitude().to_bits() + 1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Ok,
    Err(&'static str),
}

struct Row {
    name: String,
    op: &'static str,
    params: Value,
    expect: Expect,
}

#[derive(Default)]
struct Table {
    rows: Vec<Row>,
}

impl Table {
    fn ok(&mut self, name: impl Into<String>, op: &'static str, params: Value) {
        self.rows.push(Row { name: name.into(), op, params, expect: Expect::Ok });
    }
    fn err(&mut self, name: impl Into<String>, op: &'static str, params: Value, code: &'static str) {
        self.rows.push(Row { name: name.into(), op, params, expect: Expect::Err(code) });
    }
}

// ----------------------------------------------------------------------------------------------
// Parameter builders
// ----------------------------------------------------------------------------------------------

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("object literal"),
    }
}

fn apply(mut m: Map<String, Value>, set: &[(&str, Value)], unset: &[&str]) -> Map<String, Value> {
    for k in unset {
        m.remove(*k);
    }
    for (k, v) in set {
        m.insert((*k).to_string(), v.clone());
    }
    m
}

/// The minimal valid datum.
fn datum() -> Value {
    json!({"MetricName": "Requests", "Value": 1.0})
}

/// A datum named `name` with value 1.
fn named(name: &str) -> Value {
    json!({"MetricName": name, "Value": 1.0})
}

/// PutMetricData with one datum: the minimal datum with `set` applied and `unset` removed.
fn put1(set: &[(&str, Value)], unset: &[&str]) -> Value {
    let d = apply(obj(datum()), set, unset);
    json!({"Namespace": NS, "MetricData": [d]})
}

/// A valid one-datum PutMetricData with top-level members changed.
fn put_req(set: &[(&str, Value)], unset: &[&str]) -> Value {
    Value::Object(apply(obj(json!({"Namespace": NS, "MetricData": [datum()]})), set, unset))
}

/// A statistic set with `set` applied and `unset` removed.
fn stats(set: &[(&str, Value)], unset: &[&str]) -> Value {
    Value::Object(apply(obj(json!({"SampleCount": 4.0, "Sum": 10.0, "Minimum": 1.0, "Maximum": 4.0})), set, unset))
}

fn dim(name: &str, value: &str) -> Value {
    json!({"Name": name, "Value": value})
}

/// `n` distinct dimensions.
fn dims(n: usize) -> Value {
    Value::Array((1..=n).map(|i| dim(&format!("d{i}"), &format!("v{i}"))).collect())
}

/// `n` doubles 1.0, 2.0, …
fn doubles(n: usize) -> Value {
    Value::Array((1..=n).map(|i| double(i as f64)).collect())
}

fn strs(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.to_string())).collect())
}

/// `n` datums with distinct names.
fn datums(n: usize, prefix: &str) -> Value {
    Value::Array((0..n).map(|i| named(&format!("{prefix}{i}"))).collect())
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64
}

// ----------------------------------------------------------------------------------------------
// The rows
// ----------------------------------------------------------------------------------------------

fn put_metric_data_rows(t: &mut Table) {
    let now = now_secs();
    let long = |n: usize| "a".repeat(n);
    let two_weeks = 14 * 86_400;
    let two_hours = 2 * 3_600;

    // Namespace (validate::namespace).
    t.err("Namespace empty", PUT, put_req(&[("Namespace", json!(""))], &[]), IPV);
    t.err("Namespace 256 characters", PUT, put_req(&[("Namespace", json!(long(256)))], &[]), IPV);
    t.err("Namespace starting with ':'", PUT, put_req(&[("Namespace", json!(":App/Web"))], &[]), IPV);
    t.err("Namespace non-ASCII", PUT, put_req(&[("Namespace", json!("Café/Web"))], &[]), IPV);
    t.err("Namespace with control character (BEL)", PUT, put_req(&[("Namespace", json!("App\u{7}Web"))], &[]), IPV);
    t.err("Namespace with control character (newline)", PUT, put_req(&[("Namespace", json!("App\nWeb"))], &[]), IPV);
    t.err("Namespace whitespace only", PUT, put_req(&[("Namespace", json!("   "))], &[]), IPV);
    t.err("Namespace absent", PUT, put_req(&[], &["Namespace"]), MISSING);
    t.err("Namespace given as a list", PUT, put_req(&[("Namespace", strs(&["a"]))], &[]), IPV);

    // MetricData / EntityMetricData counts (validate::put_metric_data).
    t.err("MetricData and EntityMetricData absent", PUT, put_req(&[], &["MetricData"]), MISSING);
    t.err("MetricData with 1001 datums", PUT, put_req(&[("MetricData", datums(1001, "m"))], &[]), IPV);
    let entity = |n: usize, prefix: &str| json!({"MetricData": datums(n, prefix)});
    t.err(
        "EntityMetricData with 3 entries",
        PUT,
        put_req(&[("EntityMetricData", json!([entity(1, "a"), entity(1, "b"), entity(1, "c")]))], &["MetricData"]),
        IPV,
    );
    t.err(
        "MetricData + EntityMetricData = 1001 metrics",
        PUT,
        put_req(&[("MetricData", datums(1, "p")), ("EntityMetricData", json!([entity(500, "a"), entity(500, "b")]))], &[]),
        IPV,
    );
    t.err(
        "bad datum inside EntityMetricData (Value NaN)",
        PUT,
        put_req(&[("EntityMetricData", json!([{"MetricData": [{"MetricName": "m", "Value": nan()}]}]))], &["MetricData"]),
        IPV,
    );

    // MetricName (validate::metric_name).
    t.err("MetricName absent", PUT, put1(&[], &["MetricName"]), MISSING);
    t.err("MetricName empty", PUT, put1(&[("MetricName", json!(""))], &[]), IPV);
    t.err("MetricName 256 characters", PUT, put1(&[("MetricName", json!(long(256)))], &[]), IPV);
    t.err("MetricName 256 non-ASCII characters", PUT, put1(&[("MetricName", json!("é".repeat(256)))], &[]), IPV);
    t.err("MetricName with control character", PUT, put1(&[("MetricName", json!("Req\u{1}uests"))], &[]), IPV);

    // Dimensions (validate::dimensions).
    t.err("31 dimensions", PUT, put1(&[("Dimensions", dims(31))], &[]), IPV);
    t.err("dimension Name empty", PUT, put1(&[("Dimensions", json!([dim("", "v")]))], &[]), IPV);
    t.err("dimension Name 256 characters", PUT, put1(&[("Dimensions", json!([dim(&long(256), "v")]))], &[]), IPV);
    t.err("dimension Name starting with ':'", PUT, put1(&[("Dimensions", json!([dim(":host", "v")]))], &[]), IPV);
    t.err("dimension Name non-ASCII", PUT, put1(&[("Dimensions", json!([dim("Hôte", "v")]))], &[]), IPV);
    t.err("dimension Name with control character", PUT, put1(&[("Dimensions", json!([dim("ho\u{7f}st", "v")]))], &[]), IPV);
    t.err("dimension Name whitespace only", PUT, put1(&[("Dimensions", json!([dim("  ", "v")]))], &[]), IPV);
    t.err("dimension Value empty", PUT, put1(&[("Dimensions", json!([dim("host", "")]))], &[]), IPV);
    t.err("dimension Value 1025 characters", PUT, put1(&[("Dimensions", json!([dim("host", &long(1025))]))], &[]), IPV);
    t.err("dimension Value non-ASCII", PUT, put1(&[("Dimensions", json!([dim("host", "hôte")]))], &[]), IPV);
    t.err("dimension Value with control character (tab)", PUT, put1(&[("Dimensions", json!([dim("host", "a\tb")]))], &[]), IPV);
    t.err("dimension without Name", PUT, put1(&[("Dimensions", json!([{"Value": "v"}]))], &[]), MISSING);
    t.err("dimension without Value", PUT, put1(&[("Dimensions", json!([{"Name": "host"}]))], &[]), MISSING);
    t.err("duplicate dimension names", PUT, put1(&[("Dimensions", json!([dim("host", "a"), dim("host", "b")]))], &[]), IPV);
    t.err("31st dimension is a duplicate of the 1st", PUT, put1(&[("Dimensions", {
        let mut d = dims(30);
        d.as_array_mut().expect("list").push(dim("d1", "x"));
        d
    })], &[]), IPV);

    // Timestamp window (validate::datum).
    t.err("Timestamp 2 weeks + 10 min in the past", PUT, put1(&[("Timestamp", ts(now - two_weeks - 600))], &[]), IPV);
    t.err("Timestamp 2 hours + 10 min in the future", PUT, put1(&[("Timestamp", ts(now + two_hours + 600))], &[]), IPV);
    t.err("Timestamp 1970-01-01", PUT, put1(&[("Timestamp", ts(0))], &[]), IPV);
    t.err("Timestamp unparseable text", PUT, put1(&[("Timestamp", json!("yesterday"))], &[]), IPV);

    // Value range (validate::finite_in_range).
    t.err("Value just above 2^360", PUT, put1(&[("Value", double(just_over_max()))], &[]), IPV);
    t.err("Value just below -2^360", PUT, put1(&[("Value", double(-just_over_max()))], &[]), IPV);
    t.err("Value 1e300", PUT, put1(&[("Value", double(1e300))], &[]), IPV);
    t.err("Value NaN", PUT, put1(&[("Value", nan())], &[]), IPV);
    t.err("Value Infinity", PUT, put1(&[("Value", inf())], &[]), IPV);
    t.err("Value -Infinity", PUT, put1(&[("Value", neg_inf())], &[]), IPV);
    t.err("Value given as non-numeric text", PUT, put1(&[("Value", json!("abc"))], &[]), IPV);

    // Which of Value / StatisticValues / Values (validate::datum).
    t.err("Value + StatisticValues", PUT, put1(&[("StatisticValues", stats(&[], &[]))], &[]), IPC);
    t.err("Value + Values", PUT, put1(&[("Values", doubles(2))], &[]), IPC);
    t.err("StatisticValues + Values", PUT, put1(&[("StatisticValues", stats(&[], &[])), ("Values", doubles(2))], &["Value"]), IPC);
    t.err("none of Value / StatisticValues / Values", PUT, put1(&[], &["Value"]), IPC);
    t.err("Counts without Values (with Value)", PUT, put1(&[("Counts", doubles(1))], &[]), IPC);
    t.err("Counts alone", PUT, put1(&[("Counts", doubles(1))], &["Value"]), IPC);

    // Values / Counts.
    t.err("Values empty", PUT, put1(&[("Values", json!([]))], &["Value"]), IPV);
    t.err("151 Values", PUT, put1(&[("Values", doubles(151))], &["Value"]), IPV);
    t.err("Values containing NaN", PUT, put1(&[("Values", json!([1.0, nan()]))], &["Value"]), IPV);
    t.err("Values containing a value above 2^360", PUT, put1(&[("Values", json!([1.0, double(just_over_max())]))], &["Value"]), IPV);
    t.err("Counts shorter than Values", PUT, put1(&[("Values", doubles(3)), ("Counts", doubles(2))], &["Value"]), IPV);
    t.err("Counts longer than Values", PUT, put1(&[("Values", doubles(2)), ("Counts", doubles(3))], &["Value"]), IPV);
    t.err("Counts with a negative count", PUT, put1(&[("Values", doubles(2)), ("Counts", json!([1.0, -1.0]))], &["Value"]), IPV);
    t.err("Counts with NaN", PUT, put1(&[("Values", doubles(2)), ("Counts", json!([1.0, nan()]))], &["Value"]), IPV);
    t.err(
        "Counts with a count above 2^360",
        PUT,
        put1(&[("Values", doubles(2)), ("Counts", json!([1.0, double(just_over_max())]))], &["Value"]),
        IPV,
    );
    t.err("Counts with Infinity", PUT, put1(&[("Values", doubles(2)), ("Counts", json!([inf(), 1.0]))], &["Value"]), IPV);

    // StatisticValues.
    for member in ["SampleCount", "Sum", "Minimum", "Maximum"] {
        t.err(format!("StatisticValues without {member}"), PUT, put1(&[("StatisticValues", stats(&[], &[member]))], &["Value"]), MISSING);
    }
    t.err("StatisticValues SampleCount 0", PUT, put1(&[("StatisticValues", stats(&[("SampleCount", double(0.0))], &[]))], &["Value"]), IPV);
    t.err("StatisticValues SampleCount -1", PUT, put1(&[("StatisticValues", stats(&[("SampleCount", double(-1.0))], &[]))], &["Value"]), IPV);
    t.err(
        "StatisticValues Minimum > Maximum",
        PUT,
        put1(&[("StatisticValues", stats(&[("Minimum", double(5.0)), ("Maximum", double(4.0))], &[]))], &["Value"]),
        IPV,
    );
    t.err("StatisticValues SampleCount NaN", PUT, put1(&[("StatisticValues", stats(&[("SampleCount", nan())], &[]))], &["Value"]), IPV);
    t.err("StatisticValues Sum NaN", PUT, put1(&[("StatisticValues", stats(&[("Sum", nan())], &[]))], &["Value"]), IPV);
    t.err("StatisticValues Maximum Infinity", PUT, put1(&[("StatisticValues", stats(&[("Maximum", inf())], &[]))], &["Value"]), IPV);
    t.err(
        "StatisticValues Minimum below -2^360",
        PUT,
        put1(&[("StatisticValues", stats(&[("Minimum", double(-just_over_max()))], &[]))], &["Value"]),
        IPV,
    );

    // StorageResolution and Unit.
    t.err("StorageResolution 7", PUT, put1(&[("StorageResolution", json!(7))], &[]), IPV);
    t.err("StorageResolution 0", PUT, put1(&[("StorageResolution", json!(0))], &[]), IPV);
    t.err("StorageResolution 1.5", PUT, put1(&[("StorageResolution", double(1.5))], &[]), IPV);
    t.err("Unit not in StandardUnit", PUT, put1(&[("Unit", json!("Furlongs"))], &[]), IPV);
    t.err("Unit in the wrong case", PUT, put1(&[("Unit", json!("seconds"))], &[]), IPV);
}

fn put_metric_data_valid_rows(t: &mut Table) {
    let now = now_secs();
    let long = |n: usize| "a".repeat(n);
    let two_weeks = 14 * 86_400;
    let two_hours = 2 * 3_600;
    let entity = |n: usize, prefix: &str| json!({"MetricData": datums(n, prefix)});

    t.ok("minimal datum", PUT, put_req(&[], &[]));
    t.ok("exactly 30 dimensions", PUT, put1(&[("Dimensions", dims(30))], &[]));
    t.ok("exactly 1000 datums", PUT, put_req(&[("MetricData", datums(1000, "m"))], &[]));
    t.ok(
        "1000 metrics: 500 MetricData + 2 x 250 EntityMetricData",
        PUT,
        put_req(&[("MetricData", datums(500, "p")), ("EntityMetricData", json!([entity(250, "a"), entity(250, "b")]))], &[]),
    );
    t.ok("EntityMetricData only (2 entries)", PUT, put_req(&[("EntityMetricData", json!([entity(1, "a"), entity(1, "b")]))], &["MetricData"]));
    t.ok("exactly 150 Values with 150 Counts", PUT, put1(&[("Values", doubles(150)), ("Counts", doubles(150))], &["Value"]));
    t.ok("exactly 150 Values without Counts", PUT, put1(&[("Values", doubles(150))], &["Value"]));
    t.ok("Counts of 0 are accepted", PUT, put1(&[("Values", doubles(2)), ("Counts", json!([0.0, 1.0]))], &["Value"]));
    t.ok("Namespace of 255 characters", PUT, put_req(&[("Namespace", json!(long(255)))], &[]));
    t.ok("Namespace with every allowed punctuation", PUT, put_req(&[("Namespace", json!("App.Web-1_x/y#z:w"))], &[]));
    t.ok("Namespace AWS/EC2 (accepted, docs/deviations.md)", PUT, put_req(&[("Namespace", json!("AWS/EC2"))], &[]));
    t.ok("MetricName of 255 characters", PUT, put1(&[("MetricName", json!(long(255)))], &[]));
    t.ok("MetricName of 255 non-ASCII characters", PUT, put1(&[("MetricName", json!("é".repeat(255)))], &[]));
    t.ok("dimension Name 255 and Value 1024 characters", PUT, put1(&[("Dimensions", json!([dim(&long(255), &long(1024))]))], &[]));
    t.ok("dimension Value with spaces and punctuation", PUT, put1(&[("Dimensions", json!([dim("path", "/a b?c=d&e")]))], &[]));
    t.ok("Value exactly 2^360", PUT, put1(&[("Value", double(max_magnitude()))], &[]));
    t.ok("Value exactly -2^360", PUT, put1(&[("Value", double(-max_magnitude()))], &[]));
    t.ok("Value 0 and negative Values", PUT, put1(&[("Values", json!([0.0, -1.5, 1e-300]))], &["Value"]));
    t.ok("Timestamp 2 weeks - 10 min in the past", PUT, put1(&[("Timestamp", ts(now - two_weeks + 600))], &[]));
    t.ok("Timestamp 2 hours - 10 min in the future", PUT, put1(&[("Timestamp", ts(now + two_hours - 600))], &[]));
    t.ok("Timestamp with fractional seconds", PUT, put1(&[("Timestamp", ts_f(now as f64 - 30.25))], &[]));
    t.ok("StatisticValues with SampleCount 1 and Minimum = Maximum", PUT, put1(&[("StatisticValues", stats(&[("SampleCount", double(1.0)), ("Sum", double(2.0)), ("Minimum", double(2.0)), ("Maximum", double(2.0))], &[]))], &["Value"]));
    t.ok("StatisticValues with fractional SampleCount", PUT, put1(&[("StatisticValues", stats(&[("SampleCount", double(0.5))], &[]))], &["Value"]));
    t.ok("StorageResolution 1", PUT, put1(&[("StorageResolution", json!(1))], &[]));
    t.ok("StorageResolution 60", PUT, put1(&[("StorageResolution", json!(60))], &[]));
    t.ok("Unit Count/Second", PUT, put1(&[("Unit", json!("Count/Second"))], &[]));
    t.ok("Unit None", PUT, put1(&[("Unit", json!("None"))], &[]));
}

/// A valid GetMetricStatistics over the last hour, with `set` applied and `unset` removed.
fn gms(end: i64, set: &[(&str, Value)], unset: &[&str]) -> Value {
    let base = json!({
        "Namespace": NS,
        "MetricName": "Requests",
        "StartTime": ts(end - 3600),
        "EndTime": ts(end),
        "Period": 60,
        "Statistics": ["Average"],
    });
    Value::Object(apply(obj(base), set, unset))
}

fn get_metric_statistics_rows(t: &mut Table) {
    let now = now_secs();
    let end = now - now % 60;
    let long = |n: usize| "a".repeat(n);

    // Namespace, MetricName, Dimensions.
    t.err("Namespace absent", GMS, gms(end, &[], &["Namespace"]), MISSING);
    t.err("Namespace empty", GMS, gms(end, &[("Namespace", json!(""))], &[]), IPV);
    t.err("Namespace starting with ':'", GMS, gms(end, &[("Namespace", json!(":x"))], &[]), IPV);
    t.err("Namespace non-ASCII", GMS, gms(end, &[("Namespace", json!("Café"))], &[]), IPV);
    t.err("Namespace 256 characters", GMS, gms(end, &[("Namespace", json!(long(256)))], &[]), IPV);
    t.err("MetricName absent", GMS, gms(end, &[], &["MetricName"]), MISSING);
    t.err("MetricName empty", GMS, gms(end, &[("MetricName", json!(""))], &[]), IPV);
    t.err("MetricName 256 characters", GMS, gms(end, &[("MetricName", json!(long(256)))], &[]), IPV);
    t.err("31 dimensions", GMS, gms(end, &[("Dimensions", dims(31))], &[]), IPV);
    t.err("dimension Name starting with ':'", GMS, gms(end, &[("Dimensions", json!([dim(":h", "v")]))], &[]), IPV);
    t.err("dimension Value empty", GMS, gms(end, &[("Dimensions", json!([dim("h", "")]))], &[]), IPV);
    t.err("dimension without Value", GMS, gms(end, &[("Dimensions", json!([{"Name": "h"}]))], &[]), MISSING);
    t.err("duplicate dimension names", GMS, gms(end, &[("Dimensions", json!([dim("h", "a"), dim("h", "b")]))], &[]), IPV);

    // Times and period.
    t.err("StartTime absent", GMS, gms(end, &[], &["StartTime"]), MISSING);
    t.err("EndTime absent", GMS, gms(end, &[], &["EndTime"]), MISSING);
    t.err("Period absent", GMS, gms(end, &[], &["Period"]), MISSING);
    t.err("StartTime unparseable text", GMS, gms(end, &[("StartTime", json!("an hour ago"))], &[]), IPV);
    for p in [0, -60, 2, 45, 61, 90] {
        t.err(format!("Period {p}"), GMS, gms(end, &[("Period", json!(p))], &[]), IPV);
    }
    t.err("Period 60.5", GMS, gms(end, &[("Period", double(60.5))], &[]), IPV);
    t.err("StartTime = EndTime", GMS, gms(end, &[("StartTime", ts(end))], &[]), IPV);
    t.err("StartTime > EndTime", GMS, gms(end, &[("StartTime", ts(end + 60))], &[]), IPV);
    t.err("1441 datapoints (Period 60, 1441 minutes)", GMS, gms(end, &[("StartTime", ts(end - 1441 * 60))], &[]), IPC);
    t.err(
        "1441 datapoints (Period 1, 1441 seconds)",
        GMS,
        gms(end, &[("StartTime", ts(end - 1441)), ("Period", json!(1))], &[]),
        IPC,
    );
    t.err(
        "1441 datapoints (Period 300, ~5 days)",
        GMS,
        gms(end, &[("StartTime", ts(end - 1441 * 300)), ("Period", json!(300))], &[]),
        IPC,
    );

    // Statistics / ExtendedStatistics.
    t.err("Statistics and ExtendedStatistics both", GMS, gms(end, &[("ExtendedStatistics", strs(&["p99"]))], &[]), IPC);
    t.err("neither Statistics nor ExtendedStatistics", GMS, gms(end, &[], &["Statistics"]), MISSING);
    t.err("Statistics empty", GMS, gms(end, &[("Statistics", json!([]))], &[]), IPV);
    t.err(
        "6 Statistics",
        GMS,
        gms(end, &[("Statistics", strs(&["SampleCount", "Average", "Sum", "Minimum", "Maximum", "Sum"]))], &[]),
        IPV,
    );
    t.err("unknown statistic Median", GMS, gms(end, &[("Statistics", strs(&["Median"]))], &[]), IPV);
    t.err("statistic in the wrong case (average)", GMS, gms(end, &[("Statistics", strs(&["average"]))], &[]), IPV);
    t.err("ExtendedStatistics empty", GMS, gms(end, &[("ExtendedStatistics", json!([]))], &["Statistics"]), IPV);
    t.err(
        "11 ExtendedStatistics",
        GMS,
        gms(end, &[("ExtendedStatistics", strs(&["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11"]))], &["Statistics"]),
        IPV,
    );
    for bad in ["p101", "P99", "p99.12345678901", "TM(90%:10%)", "TM(:)", "PR(10%:90%)", "TM(10%:90)", "o99", "p99_E", "Average"] {
        t.err(
            format!("ExtendedStatistics {bad}"),
            GMS,
            gms(end, &[("ExtendedStatistics", strs(&["p50", bad]))], &["Statistics"]),
            IPV,
        );
    }
    t.err("Unit not in StandardUnit", GMS, gms(end, &[("Unit", json!("Furlongs"))], &[]), IPV);
}

fn get_metric_statistics_valid_rows(t: &mut Table) {
    let now = now_secs();
    let end = now - now % 60;
    t.ok("minimal request", GMS, gms(end, &[], &[]));
    t.ok("exactly 30 dimensions", GMS, gms(end, &[("Dimensions", dims(30))], &[]));
    t.ok("exactly 5 Statistics", GMS, gms(end, &[("Statistics", strs(&["SampleCount", "Average", "Sum", "Minimum", "Maximum"]))], &[]));
    t.ok("exactly 1440 datapoints (Period 60)", GMS, gms(end, &[("StartTime", ts(end - 1440 * 60))], &[]));
    t.ok("exactly 1440 datapoints (Period 1)", GMS, gms(end, &[("StartTime", ts(end - 1440)), ("Period", json!(1))], &[]));
    for p in [1, 5, 10, 20, 30, 120, 3600, 86_400] {
        // 60 periods back, well under the datapoint limit.
        t.ok(format!("Period {p} (60 periods)"), GMS, gms(end, &[("Period", json!(p)), ("StartTime", ts(end - 60 * p))], &[]));
    }
    t.ok("Unit filter Milliseconds", GMS, gms(end, &[("Unit", json!("Milliseconds"))], &[]));
    t.ok(
        "exactly 10 ExtendedStatistics, every form",
        GMS,
        gms(
            end,
            &[(
                "ExtendedStatistics",
                strs(&["p99.9", "p0", "p100", "tm90", "IQM", "TM(10%:90%)", "TC(0.005:0.030)", "TS(:99%)", "WM(150:)", "PR(:300)"]),
            )],
            &["Statistics"],
        ),
    );
    t.ok("fractional StartTime", GMS, gms(end, &[("StartTime", ts_f(end as f64 - 3599.5))], &[]));
}

// ----------------------------------------------------------------------------------------------
// Running the table
// ----------------------------------------------------------------------------------------------

fn journal_protocol(proto: Proto) -> &'static str {
    match proto {
        Proto::Json => "awsJson1_0",
        Proto::Cbor => "rpcv2Cbor",
        Proto::Query => "awsQuery",
    }
}

/// Checks one response against its row; `Err` says what differed and what came back.
fn check(ts: &common::TestServer, proto: Proto, row: &Row, resp: Result<Response, String>) -> Result<(), String> {
    let resp = resp?;
    let rid = resp.request_id().ok_or_else(|| format!("no x-amzn-RequestId; status {}", resp.status))?.to_string();
    let mut problems: Vec<String> = Vec::new();
    match row.expect {
        Expect::Ok => {
            if resp.status != 200 {
                return Err(format!("expected success, got {}", resp.error()));
            }
            match proto {
                Proto::Query => {
                    let body = String::from_utf8_lossy(&resp.body);
                    if !body.contains(&format!("<{}Response", row.op)) || !body.contains(&rid) {
                        problems.push(format!("XML body is not a {}Response carrying the request id: {}", row.op, resp.body_text()));
                    }
                }
                Proto::Cbor => {
                    if resp.header("smithy-protocol") != Some("rpc-v2-cbor") {
                        problems.push("no smithy-protocol: rpc-v2-cbor header".into());
                    }
                }
                Proto::Json => {
                    if !resp.header("content-type").unwrap_or("").starts_with("application/x-amz-json-1.0") {
                        problems.push(format!("content-type {:?}", resp.header("content-type")));
                    }
                }
            }
        }
        Expect::Err(code) => {
            let e = resp.error();
            if e.status != 400 {
                problems.push(format!("status {} (want 400)", e.status));
            }
            if e.format != Some(proto.error_format()) {
                problems.push(format!("error format {:?} (want {:?})", e.format, proto.error_format()));
            }
            match proto {
                Proto::Query => {
                    if e.code.as_deref() != Some(code) {
                        problems.push(format!("<Code> {:?} (want {code})", e.code));
                    }
                    if e.fault.as_deref() != Some("Sender") {
                        problems.push(format!("<Type> {:?} (want Sender)", e.fault));
                    }
                    if e.body_request_id.as_deref() != Some(rid.as_str()) {
                        problems.push(format!("<RequestId> {:?} differs from the header {rid}", e.body_request_id));
                    }
                }
                Proto::Json | Proto::Cbor => {
                    let want_type = format!("{SHAPE_NAMESPACE}#{}", shape_of(code));
                    if e.code.as_deref() != Some(want_type.as_str()) {
                        problems.push(format!("__type {:?} (want {want_type})", e.code));
                    }
                    let want_header = format!("{code};Sender");
                    if e.query_error.as_deref() != Some(want_header.as_str()) {
                        problems.push(format!("x-amzn-query-error {:?} (want {want_header})", e.query_error));
                    }
                }
            }
            if e.message.as_deref().is_none_or(str::is_empty) {
                problems.push("no message".into());
            }
            match ts.server.journal().find(&rid) {
                None => problems.push(format!("no activity record for request {rid}")),
                Some(r) => {
                    if r.error_code.as_deref() != Some(code) || r.http_status != e.status {
                        problems.push(format!("activity record has code {:?} status {}", r.error_code, r.http_status));
                    }
                    if r.protocol.as_deref() != Some(journal_protocol(proto)) || r.operation.as_deref() != Some(row.op) {
                        problems.push(format!("activity record has protocol {:?} operation {:?}", r.protocol, r.operation));
                    }
                }
            }
            if !problems.is_empty() {
                return Err(format!("{}; got {e}", problems.join(", ")));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join(", "))
    }
}

/// Runs every row over every protocol against a fresh server, prints the table and a summary
/// line per protocol, and fails listing every row that did not behave.
async fn run(title: &str, table: Table) {
    let ts = common::start().await;
    let client = Client::new(&ts.server.endpoint(), common::AKID, common::SECRET);
    let mut tally: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut out = String::new();
    out.push_str(&format!("\n== {title}: {} rows x {} protocols\n", table.rows.len(), Proto::ALL.len()));
    out.push_str(&format!("{:<84} {:<28} {:<6}{:<6}{:<6}\n", "row", "expected", "json", "cbor", "query"));
    for row in &table.rows {
        let mut marks = String::new();
        for proto in Proto::ALL {
            let resp = client.send(raw::request(proto, row.op, &row.params)).await;
            let verdict = check(&ts, proto, row, resp);
            let entry = tally.entry(proto.name()).or_default();
            entry.1 += 1;
            match verdict {
                Ok(()) => {
                    entry.0 += 1;
                    marks.push_str(&format!("{:<6}", "ok"));
                }
                Err(why) => {
                    marks.push_str(&format!("{:<6}", "FAIL"));
                    failures.push(format!("[{title} / {proto}] {} ({}): {why}", row.name, row.op));
                }
            }
        }
        let expected = match row.expect {
            Expect::Ok => "200".to_string(),
            Expect::Err(code) => code.to_string(),
        };
        out.push_str(&format!("{:<84} {:<28} {marks}\n", format!("{} / {}", row.op, row.name), expected));
    }
    for proto in Proto::ALL {
        let (pass, total) = tally.get(proto.name()).copied().unwrap_or_default();
        out.push_str(&format!("{title} over {proto}: {pass}/{total} rows as expected\n"));
    }
    println!("{out}");
    client.healthy().await.expect("server healthy after the table");
    assert!(failures.is_empty(), "{} of the table's checks failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn raw_renderers_encode_as_the_sdks_do() {
    raw::self_check();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_metric_data_rules_over_every_protocol() {
    let mut t = Table::default();
    put_metric_data_rows(&mut t);
    run("PutMetricData errors", t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_metric_data_boundaries_succeed_over_every_protocol() {
    let mut t = Table::default();
    put_metric_data_valid_rows(&mut t);
    run("PutMetricData valid boundaries", t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_metric_statistics_rules_over_every_protocol() {
    let mut t = Table::default();
    get_metric_statistics_rows(&mut t);
    run("GetMetricStatistics errors", t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_metric_statistics_boundaries_succeed_over_every_protocol() {
    let mut t = Table::default();
    get_metric_statistics_valid_rows(&mut t);
    run("GetMetricStatistics valid boundaries", t).await;
}

/// The rows are the acceptance evidence: make sure no rule of validate.rs / service.rs lost its
/// row (the count only grows when rules are added).
#[test]
fn the_table_covers_every_rule() {
    let mut t = Table::default();
    put_metric_data_rows(&mut t);
    get_metric_statistics_rows(&mut t);
    let errors = t.rows.len();
    put_metric_data_valid_rows(&mut t);
    get_metric_statistics_valid_rows(&mut t);
    let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &t.rows {
        if let Expect::Err(c) = r.expect {
            *codes.entry(c).or_default() += 1;
        }
    }
    for code in [IPV, MISSING, IPC] {
        assert!(codes.get(code).copied().unwrap_or(0) > 0, "no row expects {code}");
    }
    assert!(errors >= 100, "only {errors} error rows");
    let names: std::collections::HashSet<_> = t.rows.iter().map(|r| (r.op, r.name.as_str())).collect();
    assert_eq!(names.len(), t.rows.len(), "row names must be unique per operation");
}
