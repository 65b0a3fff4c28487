"""AWS CLI v1 (current venv only): `aws logs` against the server, including the CLI's own
pagination of filter-log-events."""

from __future__ import annotations

import json
import time


def test_cli_logs_put_and_filter(aws):
    group = f"/cli/app-{int(time.time() * 1000)}"
    aws("logs", "create-log-group", "--log-group-name", group)
    aws("logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "s1")
    now = int(time.time() * 1000) - 60_000
    events = [{"timestamp": now + i, "message": f"level=INFO request={i} status={'500' if i % 5 == 0 else '200'}"} for i in range(30)]
    out = json.loads(aws("logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "s1", "--log-events", json.dumps(events)).stdout)
    assert "nextSequenceToken" in out
    # The CLI pages through every event itself (page size 7).
    out = json.loads(aws("logs", "filter-log-events", "--log-group-name", group, "--page-size", "7").stdout)
    assert [e["message"] for e in out["events"]] == [e["message"] for e in events]
    out = json.loads(aws("logs", "describe-log-groups", "--log-group-name-prefix", group).stdout)
    assert [g["logGroupName"] for g in out["logGroups"]] == [group]
    proc = aws("logs", "describe-log-streams", "--log-group-name", group + "-missing", check=False)
    assert proc.returncode != 0
    assert "ResourceNotFoundException" in proc.stderr


def test_cli_logs_insights_query(aws):
    group = f"/cli/insights-{int(time.time() * 1000)}"
    aws("logs", "create-log-group", "--log-group-name", group)
    aws("logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "s")
    now = int(time.time())
    events = [{"timestamp": (now - 120 + i) * 1000, "message": json.dumps({"status": 500 if i % 4 == 0 else 200, "i": i})} for i in range(40)]
    aws("logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "s", "--log-events", json.dumps(events))
    out = json.loads(aws(
        "logs", "start-query",
        "--log-group-name", group,
        "--start-time", str(now - 300),
        "--end-time", str(now),
        "--query-string", "filter status = 500 | stats count(*) as errors, max(i) as last",
    ).stdout)  # fmt: skip
    query_id = out["queryId"]
    deadline = time.monotonic() + 30
    while True:
        res = json.loads(aws("logs", "get-query-results", "--query-id", query_id).stdout)
        if res["status"] == "Complete":
            break
        assert res["status"] in ("Scheduled", "Running"), res
        assert time.monotonic() < deadline, "query did not complete"
        time.sleep(0.05)
    assert res["results"] == [[{"field": "errors", "value": "10"}, {"field": "last", "value": "36"}]]
    assert res["statistics"]["recordsScanned"] == 40.0
    assert res["statistics"]["recordsMatched"] == 10.0
