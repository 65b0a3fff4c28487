"""The metric math and Metrics Insights golden cases (tests/golden/*.cases) through this venv's
client: boto3 over JSON 1.0 in the current venv, legacy botocore over Query in the legacy one.
The Rust SDK (CBOR) runs the same files in crates/e2e/tests/metric_math_golden.rs.

Each case is one GetMetricData call on a dedicated server holding its file's data (one server
per file); every case is its own test, named after its file and the case."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from conftest import EXPECTED_PROTOCOL, client_protocol, make_client, running_server

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
FILES = {"math": GOLDEN / "metric_math.cases", "insights": GOLDEN / "metrics_insights.cases"}
MINIMUM_CASES = {"math": 120, "insights": 40}


@dataclass
class Query:
    id: str
    stat: tuple | None = None  # (namespace, name, dims, stat, period)
    expression: str | None = None
    label: str | None = None
    period: int | None = None
    hidden: bool = False


@dataclass
class Expected:
    id: str
    label: str
    step: int
    values: list[str]


@dataclass
class Case:
    name: str
    queries: list[Query] = field(default_factory=list)
    results: list[Expected] = field(default_factory=list)
    none: bool = False
    error: str | None = None


def _metric(words: list[str]) -> tuple[str, str, list[tuple[str, str]]]:
    return words[0], words[1], [tuple(w.split("=", 1)) for w in words[2:]]  # type: ignore[misc]


def _stat(text: str) -> tuple:
    words = text.split()
    ns, name, dims = _metric(words[:-2])
    return ns, name, dims, words[-2], int(words[-1])


def parse_file(text: str):
    data, base, cases = [], [], []
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw.startswith("data "):
            head, values = raw[5:].split(":", 1)
            ns, name, dims = _metric(head.split())
            data.append((ns, name, dims, [None if v == "-" else float(v) for v in values.split()]))
        elif raw.startswith("base "):
            qid, spec = raw[5:].split(":=", 1)
            base.append(Query(id=qid.strip(), stat=_stat(spec), hidden=True))
        elif raw.startswith("=== "):
            cases.append(Case(name=raw[4:]))
        elif raw.startswith("  "):
            q = cases[-1].queries[-1]
            opt = raw[2:]
            if opt == "hidden":
                q.hidden = True
            elif opt.startswith("label: "):
                q.label = opt[len("label: "):]
            elif opt.startswith("period: "):
                q.period = int(opt[len("period: "):])
            else:
                raise ValueError(f"unknown option {opt!r}")
        elif raw == "-> none":
            cases[-1].none = True
        elif raw.startswith("-> "):
            qid, rest = raw[3:].split(" ", 1)
            assert rest.startswith('"'), raw
            label, rest = rest[1:].split('"', 1)
            head, values = rest.split(":", 1)
            step = int(head.strip()[1:]) if head.strip().startswith("@") else 60
            cases[-1].results.append(Expected(qid, label, step, values.split()))
        elif raw.startswith("!! "):
            cases[-1].error = raw[3:].strip()
        elif ":=" in raw:
            qid, spec = raw.split(":=", 1)
            cases[-1].queries.append(Query(id=qid.strip(), stat=_stat(spec)))
        elif ": " in raw:
            qid, expr = raw.split(": ", 1)
            cases[-1].queries.append(Query(id=qid.strip(), expression=expr))
        else:
            raise ValueError(f"cannot read {raw!r}")
    return data, base, cases


PARSED = {name: parse_file(path.read_text()) for name, path in FILES.items()}
ALL_CASES = [(name, case) for name, (_, _, cases) in PARSED.items() for case in cases]


def api_query(q: Query) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": q.id, "ReturnData": not q.hidden}
    if q.stat:
        ns, name, dims, stat, period = q.stat
        out["MetricStat"] = {
            "Metric": {"Namespace": ns, "MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in dims]},
            "Period": period,
            "Stat": stat,
        }
    else:
        out["Expression"] = q.expression
    if q.label is not None:
        out["Label"] = q.label
    if q.period is not None:
        out["Period"] = q.period
    return out


def value_matches(want: str, got: float, t: int) -> bool:
    d = dt.datetime.fromtimestamp(t, tz=dt.timezone.utc)
    placeholders = {
        "{HOUR}": d.hour,
        "{DAY}": d.isoweekday(),
        "{DATE}": d.day,
        "{MONTH}": d.month,
        "{YEAR}": d.year,
        "{EPOCH}": t,
    }
    if want in placeholders:
        return got == placeholders[want]
    if want.startswith("~"):
        decimals = len(want.split(".", 1)[1]) if "." in want else 0
        return abs(got - float(want[1:])) <= 0.5 * 10**-decimals + 1e-12
    w = float(want)
    return abs(got - w) <= 1e-12 * max(abs(w), 1.0)


@pytest.fixture(scope="module")
def golden(request, kind):
    """A server holding one file's data (the file named by the test's parameter)."""
    name = request.param
    data = PARSED[name][0]
    with running_server(f"watchtrail-py-{name}-") as server:
        client = make_client(server)
        assert client_protocol(client) == EXPECTED_PROTOCOL[kind]
        now = int(dt.datetime.now(dt.timezone.utc).timestamp())
        t0 = now - now % 3600 - 2 * 3600
        by_ns: dict[str, list] = {}
        for ns, metric, dims, values in data:
            for k, v in enumerate(values):
                if v is None:
                    continue
                by_ns.setdefault(ns, []).append(
                    {
                        "MetricName": metric,
                        "Dimensions": [{"Name": a, "Value": b} for a, b in dims],
                        "Timestamp": dt.datetime.fromtimestamp(t0 + 60 * k, tz=dt.timezone.utc),
                        "Value": v,
                    }
                )
        for ns, data in by_ns.items():
            client.put_metric_data(Namespace=ns, MetricData=data)
        yield name, client, t0


@pytest.mark.parametrize("name", sorted(FILES))
def test_enough_cases(name):
    assert len(PARSED[name][2]) >= MINIMUM_CASES[name]


def test_golden_case(golden, case: Case):
    name, client, t0 = golden
    base = PARSED[name][1]
    kwargs = {
        "MetricDataQueries": [api_query(q) for q in base + case.queries],
        "StartTime": dt.datetime.fromtimestamp(t0, tz=dt.timezone.utc),
        "EndTime": dt.datetime.fromtimestamp(t0 + 300, tz=dt.timezone.utc),
        "ScanBy": "TimestampAscending",
    }
    if case.error:
        with pytest.raises(botocore.exceptions.ClientError) as err:
            client.get_metric_data(**kwargs)
        assert err.value.response["Error"]["Code"] == case.error
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        return
    resp = client.get_metric_data(**kwargs)
    assert "NextToken" not in resp
    results = resp["MetricDataResults"]
    if case.none:
        assert results == []
        return
    assert len(results) == len(case.results), results
    for want, r in zip(case.results, results):
        assert (r["Id"], r["Label"]) == (want.id, want.label)
        points = [(int(t.timestamp()), float(v)) for t, v in zip(r.get("Timestamps", []), r.get("Values", []))]
        expected = [(t0 + want.step * k, v) for k, v in enumerate(want.values) if v != "-"]
        assert [t for t, _ in points] == [t for t, _ in expected], (points, want.values)
        for (t, g), (_, w) in zip(points, expected):
            assert value_matches(w, g, t), (t - t0, g, w)
            assert math.isfinite(g)


def pytest_generate_tests(metafunc):
    if metafunc.function.__name__ == "test_golden_case":
        metafunc.parametrize(
            ("golden", "case"), ALL_CASES, ids=[f"{f}: {c.name}" for f, c in ALL_CASES], indirect=["golden"], scope="module"
        )
