"""AWS CLI v1 smoke test (current venv only): the `aws` command against the server.

Runs the venv's own `aws` entry point with --endpoint-url and credentials from the
environment, and no config or credential files.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

NS = "Watchtrail/PyCli"
DIMS = [{"Name": "Service", "Value": "cli"}, {"Name": "Stage", "Value": "test"}]


@pytest.fixture(scope="module")
def window():
    minute = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0) - dt.timedelta(minutes=5)
    return minute, minute - dt.timedelta(minutes=5), minute + dt.timedelta(minutes=5)


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _cli_time(v) -> dt.datetime:
    """A timestamp as the CLI prints it. CLI v1's default cli_timestamp_format (`none`) shows
    it as received: epoch seconds over awsJson1_0, ISO 8601 text over awsQuery."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return dt.datetime.fromtimestamp(v, dt.timezone.utc)
    return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def put(aws, window):
    at, _, _ = window
    for value, offset in ((3, 10), (5, 40)):
        proc = aws(
            "cloudwatch", "put-metric-data",
            "--namespace", NS,
            "--metric-name", "Hits",
            "--dimensions", "Service=cli,Stage=test",
            "--unit", "Count",
            "--value", str(value),
            "--timestamp", _iso(at + dt.timedelta(seconds=offset)),
        )  # fmt: skip
        assert proc.stdout.strip() == ""
    return at


def test_cli_speaks_json_1_0(aws):
    proc = aws("cloudwatch", "list-metrics", "--namespace", NS + "/Debug", "--debug")
    assert json.loads(proc.stdout) == {"Metrics": []}
    assert "application/x-amz-json-1.0" in proc.stderr
    assert "GraniteServiceVersion20100801.ListMetrics" in proc.stderr


def test_cli_list_metrics(aws, put):
    out = json.loads(aws("cloudwatch", "list-metrics", "--namespace", NS).stdout)
    assert out["Metrics"] == [{"Namespace": NS, "MetricName": "Hits", "Dimensions": DIMS}]
    out = json.loads(aws("cloudwatch", "list-metrics", "--dimensions", "Name=Stage,Value=test").stdout)
    assert [m["MetricName"] for m in out["Metrics"]] == ["Hits"]


def test_cli_get_metric_statistics(aws, put, window):
    _, start, end = window
    out = json.loads(
        aws(
            "cloudwatch", "get-metric-statistics",
            "--namespace", NS,
            "--metric-name", "Hits",
            "--dimensions", "Name=Service,Value=cli", "Name=Stage,Value=test",
            "--start-time", _iso(start),
            "--end-time", _iso(end),
            "--period", "60",
            "--statistics", "Sum", "Maximum", "SampleCount", "Average", "Minimum",
        ).stdout  # fmt: skip
    )
    assert out["Label"] == "Hits"
    [point] = out["Datapoints"]
    assert _cli_time(point["Timestamp"]) == put
    assert {k: point[k] for k in ("SampleCount", "Sum", "Average", "Minimum", "Maximum", "Unit")} == {
        "SampleCount": 2.0, "Sum": 8.0, "Average": 4.0, "Minimum": 3.0, "Maximum": 5.0, "Unit": "Count",
    }  # fmt: skip


def test_cli_get_metric_data_from_file(aws, put, window):
    _, start, end = window
    queries = [
        {"Id": "hits", "MetricStat": {"Metric": {"Namespace": NS, "MetricName": "Hits", "Dimensions": DIMS}, "Period": 60, "Stat": "Sum"}, "Label": "hits sum"},
        {"Id": "peak", "MetricStat": {"Metric": {"Namespace": NS, "MetricName": "Hits", "Dimensions": DIMS}, "Period": 300, "Stat": "Maximum"}},
    ]
    qfile = aws.home / "queries.json"
    qfile.write_text(json.dumps(queries))
    out = json.loads(
        aws(
            "cloudwatch", "get-metric-data",
            "--metric-data-queries", f"file://{qfile}",
            "--start-time", _iso(start),
            "--end-time", _iso(end),
            "--scan-by", "TimestampAscending",
        ).stdout  # fmt: skip
    )
    results = {r["Id"]: r for r in out["MetricDataResults"]}
    assert results["hits"]["Label"] == "hits sum"
    assert results["hits"]["Values"] == [8.0]
    assert [_cli_time(t) for t in results["hits"]["Timestamps"]] == [put]
    assert results["hits"]["StatusCode"] == "Complete"
    assert results["peak"]["Values"] == [5.0]


def test_cli_error_exit_code_and_message(aws):
    proc = aws(
        "cloudwatch", "put-metric-data",
        "--namespace", NS,
        "--metric-name", "Hits",
        "--value", "1",
        "--storage-resolution", "7",
        check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    assert proc.returncode in (254, 255), "the AWS CLI exits 255 (v1) or 254 (v2) on a service error"
    assert "InvalidParameterValue" in proc.stderr
    assert "PutMetricData" in proc.stderr
    assert "StorageResolution" in proc.stderr


def test_cli_wrong_secret_is_rejected(aws):
    proc = aws("cloudwatch", "list-metrics", "--namespace", NS, check=False, AWS_SECRET_ACCESS_KEY="not-the-right-secret")
    assert proc.returncode in (254, 255)
    assert "SignatureDoesNotMatch" in proc.stderr
