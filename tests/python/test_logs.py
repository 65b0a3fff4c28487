"""CloudWatch Logs with boto3 (awsJson 1.1): groups, streams, PutLogEvents, GetLogEvents and
FilterLogEvents through botocore's paginator, and the service's modeled errors."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config


@pytest.fixture(scope="module")
def logs(server):
    return boto3.session.Session().client(
        "logs",
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60),
    )


def now_ms() -> int:
    return int(time.time() * 1000)


def nginx_line(i: int) -> str:
    status = 500 if i % 17 == 0 else 200
    return f'10.0.{i % 7}.{i % 250} - - [01/Jan/2026:00:00:{i % 60:02d} +0000] "GET /api/items/{i} HTTP/1.1" {status} {100 + i} "-" "curl/8.0"'


@pytest.fixture(scope="module")
def group(logs):
    name = f"/py/web-{now_ms()}"
    logs.create_log_group(logGroupName=name, tags={"team": "sre"})
    base = now_ms() - 120_000
    for s, offset in (("web-1", 0), ("web-2", 3), ("batch", 5)):
        logs.create_log_stream(logGroupName=name, logStreamName=s)
        events = [{"timestamp": base + i * 10 + offset, "message": nginx_line(i)} for i in range(40)]
        out = logs.put_log_events(logGroupName=name, logStreamName=s, logEvents=events)
        assert "rejectedLogEventsInfo" not in out
    return name, base


def test_groups_and_streams_are_described(logs, group):
    name, base = group
    out = logs.describe_log_groups(logGroupNamePrefix=name)
    assert [g["logGroupName"] for g in out["logGroups"]] == [name]
    g = out["logGroups"][0]
    assert g["arn"].endswith(f":log-group:{name}:*") and g["logGroupArn"].endswith(f":log-group:{name}")
    assert g["storedBytes"] == sum(len(nginx_line(i)) for i in range(40)) * 3
    streams = logs.describe_log_streams(logGroupName=name, orderBy="LastEventTime", descending=True)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["batch", "web-2", "web-1"]
    assert streams[0]["lastEventTimestamp"] == base + 39 * 10 + 5
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"team": "sre"}


def test_filter_log_events_paginator_walks_every_event_in_time_order(logs, group):
    name, _ = group
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=name, PaginationConfig={"PageSize": 25})
    events = [e for page in pages for e in page["events"]]
    assert len(events) == 120
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    assert len({e["eventId"] for e in events}) == 120
    assert {e["logStreamName"] for e in events} == {"web-1", "web-2", "batch"}
    # A stream-name prefix and a time range (both ends inclusive).
    _, base = group
    page = logs.filter_log_events(logGroupName=name, logStreamNamePrefix="web", startTime=base, endTime=base + 93)
    assert [(e["logStreamName"], e["timestamp"] - base) for e in page["events"]] == [
        (s, i * 10 + off) for i in range(10) for s, off in (("web-1", 0), ("web-2", 3)) if i * 10 + off <= 93
    ]


def test_get_log_events_reads_forward_with_tokens(logs, group):
    name, _ = group
    seen, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {"startFromHead": True}
        out = logs.get_log_events(logGroupName=name, logStreamName="web-1", limit=15, **kwargs)
        if not out["events"]:
            assert out["nextForwardToken"] == token
            break
        seen += [e["message"] for e in out["events"]]
        token = out["nextForwardToken"]
    assert seen == [nginx_line(i) for i in range(40)]


def test_rejected_events_are_reported_and_the_rest_stored(logs, group):
    name, _ = group
    logs.create_log_stream(logGroupName=name, logStreamName="mixed")
    now = now_ms()
    events = [
        {"timestamp": now - 15 * 86_400_000, "message": "too old"},
        {"timestamp": now - 1000, "message": "kept"},
        {"timestamp": now + 3 * 3_600_000, "message": "too new"},
    ]
    out = logs.put_log_events(logGroupName=name, logStreamName="mixed", logEvents=events, sequenceToken="ignored")
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0, "tooNewLogEventStartIndex": 2}
    got = logs.get_log_events(logGroupName=name, logStreamName="mixed", startFromHead=True)["events"]
    assert [e["message"] for e in got] == ["kept"]


def test_modeled_errors(logs, group):
    name, _ = group
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_log_events(logGroupName=name, logStreamName="nope", logEvents=[{"timestamp": now_ms(), "message": "m"}])
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=name)
    with pytest.raises(logs.exceptions.InvalidParameterException) as e:
        logs.put_log_events(
            logGroupName=name,
            logStreamName="web-1",
            logEvents=[{"timestamp": now_ms(), "message": "b"}, {"timestamp": now_ms() - 5000, "message": "a"}],
        )
    assert "chronological order" in str(e.value)
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_retention_policy(logGroupName=name, retentionInDays=2)


def test_live_tail_with_host_prefix_injection_disabled(server, logs, group):
    """boto3 sends StartLiveTail to a `stream-` host unless told not to (see the README)."""
    name, _ = group
    tail = boto3.session.Session().client(
        "logs",
        endpoint_url=server.endpoint,
        region_name=server.region,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        config=Config(inject_host_prefix=False, retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=30),
    )
    arn = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["logGroupArn"]
    resp = tail.start_live_tail(logGroupIdentifiers=[arn], logStreamNames=["web-1"])
    stream = iter(resp["responseStream"])
    start = next(stream)
    assert start["sessionStart"]["logGroupIdentifiers"] == [arn]
    logs.put_log_events(logGroupName=name, logStreamName="web-2", logEvents=[{"timestamp": now_ms(), "message": "not tailed"}])
    logs.put_log_events(logGroupName=name, logStreamName="web-1", logEvents=[{"timestamp": now_ms(), "message": "tailed"}])
    seen = []
    for event in stream:
        results = event["sessionUpdate"]["sessionResults"]
        seen += [r["message"] for r in results]
        if seen:
            break
    resp["responseStream"].close()
    assert seen == ["tailed"]
