"""Which protocol the client put on the wire, and what every response carries.

The current venv (botocore >= 1.42.7) must speak awsJson1_0 to CloudWatch and the legacy venv
(botocore < 1.42.7) awsQuery; the requests are captured with a botocore `before-send` hook.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import botocore
import pytest

from conftest import EXPECTED_PROTOCOL, JSON_SINCE, botocore_version, client_protocol

NS = "Watchtrail/PyProtocol"
TARGET_PREFIX = "GraniteServiceVersion20100801."


def _now_minute() -> dt.datetime:
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(second=0, microsecond=0)


def test_venv_holds_the_client_generation_it_claims(kind):
    v = botocore_version()
    if kind == "current":
        assert v >= JSON_SINCE, f"current venv has botocore {botocore.__version__}"
    else:
        assert v < JSON_SINCE, f"legacy venv has botocore {botocore.__version__}"


def test_resolved_protocol(cw, kind):
    assert client_protocol(cw) == EXPECTED_PROTOCOL[kind]
    protocols = cw.meta.service_model.metadata.get("protocols", [cw.meta.service_model.metadata["protocol"]])
    if kind == "current":
        assert "json" in protocols and "query" in protocols
    else:
        assert protocols == ["query"]


def test_request_and_response_wire_format(cw, kind):
    minute = _now_minute() - dt.timedelta(minutes=3)
    cw.put_metric_data(
        Namespace=NS,
        MetricData=[{"MetricName": "Wire", "Value": 2.5, "Timestamp": minute, "Dimensions": [{"Name": "K", "Value": "v"}]}],
    )
    put = cw.recorder.last("PutMetricData")
    resp = cw.list_metrics(Namespace=NS)
    sent = cw.recorder.last("ListMetrics")
    response_type = resp["ResponseMetadata"]["HTTPHeaders"].get("content-type", "")
    for r in (put, sent):
        auth = r.headers["authorization"]
        assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIAPYTESTKEY0000001/")
        assert "/us-east-1/monitoring/aws4_request" in auth
    if kind == "current":
        assert sent.headers["content-type"] == "application/x-amz-json-1.0"
        assert sent.headers["x-amz-target"] == TARGET_PREFIX + "ListMetrics"
        assert sent.headers.get("x-amzn-query-mode") == "true"
        assert json.loads(sent.decoded_body) == {"Namespace": NS}
        assert response_type.startswith("application/x-amz-json-1.0")
        # Timestamps travel as epoch seconds (JSON numbers).
        body = json.loads(put.decoded_body)
        assert body["MetricData"][0]["Timestamp"] == minute.timestamp()
        assert put.headers["x-amz-target"] == TARGET_PREFIX + "PutMetricData"
    else:
        assert sent.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert "x-amz-target" not in sent.headers
        assert "x-amzn-query-mode" not in sent.headers
        form = urllib.parse.parse_qs(sent.decoded_body.decode())
        assert form == {"Action": ["ListMetrics"], "Version": ["2010-08-01"], "Namespace": [NS]}
        assert response_type.startswith("text/xml")
        # Timestamps travel as ISO 8601 strings.
        form = urllib.parse.parse_qs(put.decoded_body.decode())
        assert form["Action"] == ["PutMetricData"]
        assert form["MetricData.member.1.Timestamp"] == [minute.strftime("%Y-%m-%dT%H:%M:%SZ")]
        assert form["MetricData.member.1.Dimensions.member.1.Name"] == ["K"]
    assert [m["MetricName"] for m in resp["Metrics"]] == ["Wire"]


def _request_id_checks(meta):
    rid = meta.get("RequestId")
    assert rid, f"no RequestId in {meta}"
    header = meta["HTTPHeaders"].get("x-amzn-requestid")
    assert header == rid, "x-amzn-RequestId header and parsed RequestId differ"
    return rid


def test_request_id_on_every_operation(cw):
    now = _now_minute()
    start, end = now - dt.timedelta(minutes=10), now
    responses = [
        cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": "Rid", "Value": 1.0, "Timestamp": now - dt.timedelta(minutes=2)}]),
        cw.list_metrics(Namespace=NS, MetricName="Rid"),
        cw.get_metric_statistics(Namespace=NS, MetricName="Rid", StartTime=start, EndTime=end, Period=60, Statistics=["Sum"]),
        cw.get_metric_data(
            MetricDataQueries=[{"Id": "r", "MetricStat": {"Metric": {"Namespace": NS, "MetricName": "Rid"}, "Period": 60, "Stat": "Sum"}}],
            StartTime=start,
            EndTime=end,
        ),
    ]
    ids = [_request_id_checks(r["ResponseMetadata"]) for r in responses]
    assert len(set(ids)) == len(ids), "request ids must be unique"
    for r in responses:
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert responses[2]["Datapoints"][0]["Sum"] == 1.0
    assert responses[3]["MetricDataResults"][0]["Values"] == [1.0]


def test_request_id_on_errors(cw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": "Rid", "Value": 1.0, "StorageResolution": 7}])
    _request_id_checks(e.value.response["ResponseMetadata"])
