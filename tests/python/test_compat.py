"""Compatibility details that are not part of the shared scenario."""

from __future__ import annotations

import datetime as dt

import pytest

NS = "Watchtrail/PyCompat"

# Doubles a client may send; each must be stored and returned exactly (PutMetricData accepts
# any finite value within +-2^360).
EXACT_VALUES = [
    0.1,
    1 / 3,
    123456789.12345679,
    1.797693134862316e108,
    2.0**360,
    -(2.0**360),
    5e-324,
    -2.2250738585072014e-308,
    1e-300,
    9007199254740992.0,
    0.30000000000000004,
    4.35,
]


def _minute(minutes_ago: int) -> dt.datetime:
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    return now - dt.timedelta(minutes=minutes_ago)


def test_list_metrics_without_any_parameter(cw):
    """`aws cloudwatch list-metrics` with no options: every operation input member is optional."""
    cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": "Bare", "Value": 1.0, "Timestamp": _minute(2)}])
    resp = cw.list_metrics()
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert {"Namespace": NS, "MetricName": "Bare", "Dimensions": []} in resp["Metrics"]
    listed = [m for page in cw.get_paginator("list_metrics").paginate() for m in page["Metrics"]]
    assert {"Namespace": NS, "MetricName": "Bare", "Dimensions": []} in listed


@pytest.mark.parametrize("index", range(len(EXACT_VALUES)), ids=[repr(v) for v in EXACT_VALUES])
def test_value_round_trips_exactly(cw, index):
    value = EXACT_VALUES[index]
    name = f"Exact{index:02d}"
    at = _minute(3)
    cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": name, "Value": value, "Timestamp": at}])
    stats = cw.get_metric_statistics(
        Namespace=NS, MetricName=name, StartTime=at, EndTime=at + dt.timedelta(minutes=1), Period=60, Statistics=["Sum", "Maximum"]
    )
    [point] = stats["Datapoints"]
    assert (point["Sum"], point["Maximum"]) == (value, value), f"put {value!r}, GetMetricStatistics returned {point['Sum']!r}"
    data = cw.get_metric_data(
        MetricDataQueries=[{"Id": "v", "MetricStat": {"Metric": {"Namespace": NS, "MetricName": name}, "Period": 60, "Stat": "Minimum"}}],
        StartTime=at,
        EndTime=at + dt.timedelta(minutes=1),
    )
    assert data["MetricDataResults"][0]["Values"] == [value]
