"""Error codes, HTTP statuses and modeled exceptions as each client sees them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import botocore.exceptions
import pytest

from conftest import make_client

NS = "Watchtrail/PyErrors"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _put(cw, **datum) -> Callable[[], Any]:
    d = {"MetricName": "m", **datum}
    return lambda: cw.put_metric_data(Namespace=NS, MetricData=[d])


def _stats_range(cw, start: dt.datetime, end: dt.datetime, period: int) -> Callable[[], Any]:
    return lambda: cw.get_metric_statistics(
        Namespace=NS, MetricName="m", StartTime=start, EndTime=end, Period=period, Statistics=["Sum"]
    )


# name -> (call builder, Code, modeled exception name, substring of the message)
CASES: dict[str, tuple[Callable, str, str, str]] = {
    "storage_resolution_7": (
        lambda cw: _put(cw, Value=1.0, StorageResolution=7),
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "StorageResolution",
    ),
    "more_than_1440_datapoints": (
        lambda cw: _stats_range(cw, _now() - dt.timedelta(days=2), _now(), 60),
        "InvalidParameterCombination",
        "InvalidParameterCombinationException",
        "1,440",
    ),
    "value_and_statistic_values": (
        lambda cw: _put(cw, Value=1.0, StatisticValues={"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}),
        "InvalidParameterCombination",
        "InvalidParameterCombinationException",
        "StatisticValues",
    ),
    "nan_value": (lambda cw: _put(cw, Value=float("nan")), "InvalidParameterValue", "InvalidParameterValueException", "Value"),
    "infinite_value": (lambda cw: _put(cw, Value=float("-inf")), "InvalidParameterValue", "InvalidParameterValueException", "Value"),
    "value_beyond_2_pow_360": (lambda cw: _put(cw, Value=2.0**361), "InvalidParameterValue", "InvalidParameterValueException", "Value"),
    "31_dimensions": (
        lambda cw: _put(cw, Value=1.0, Dimensions=[{"Name": f"d{i:02d}", "Value": "v"} for i in range(31)]),
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "Dimensions",
    ),
    "timestamp_three_weeks_old": (
        lambda cw: _put(cw, Value=1.0, Timestamp=_now() - dt.timedelta(weeks=3)),
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "Timestamp",
    ),
    "timestamp_three_hours_ahead": (
        lambda cw: _put(cw, Value=1.0, Timestamp=_now() + dt.timedelta(hours=3)),
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "Timestamp",
    ),
    "counts_without_values": (
        lambda cw: _put(cw, Value=1.0, Counts=[1.0]),
        "InvalidParameterCombination",
        "InvalidParameterCombinationException",
        "Counts",
    ),
    "more_than_1000_data": (
        lambda cw: lambda: cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": f"m{i}", "Value": 1.0} for i in range(1001)]),
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "MetricData",
    ),
    "period_45": (
        lambda cw: _stats_range(cw, _now() - dt.timedelta(hours=1), _now(), 45),
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "Period",
    ),
    "get_metric_data_foreign_next_token": (
        lambda cw: lambda: cw.get_metric_data(
            MetricDataQueries=[{"Id": "a", "MetricStat": {"Metric": {"Namespace": NS, "MetricName": "m"}, "Period": 60, "Stat": "Sum"}}],
            StartTime=_now() - dt.timedelta(hours=1),
            EndTime=_now(),
            NextToken="not-a-token-this-server-issued",
        ),
        "InvalidNextToken",
        "InvalidNextToken",
        "NextToken",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_validation_error(cw, case):
    build, code, exception_name, fragment = CASES[case]
    modeled = getattr(cw.exceptions, exception_name)
    with pytest.raises(modeled) as e:
        build(cw)()
    err = e.value.response["Error"]
    meta = e.value.response["ResponseMetadata"]
    assert err["Code"] == code
    assert err.get("Type") == "Sender"
    assert fragment in err["Message"], err["Message"]
    assert meta["HTTPStatusCode"] == 400
    assert meta["RequestId"]


def test_modeled_exception_class_for_invalid_parameter_value(cw, kind):
    """botocore maps the query error code onto the modeled exception in both protocols."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": "m", "Value": 1.0, "StorageResolution": 7}])
    assert type(e.value) is cw.exceptions.InvalidParameterValueException
    assert type(e.value).__name__ == "InvalidParameterValueException"
    if kind == "current":
        # awsQueryCompatible: the JSON error carries the query code in x-amzn-query-error.
        headers = e.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert headers.get("x-amzn-query-error") == "InvalidParameterValue;Sender"


def test_rejected_put_stores_nothing(cw):
    ns = NS + "/Atomic"
    with pytest.raises(cw.exceptions.InvalidParameterValueException):
        cw.put_metric_data(
            Namespace=ns,
            MetricData=[{"MetricName": "good", "Value": 1.0}, {"MetricName": "bad", "Value": 1.0, "StorageResolution": 7}],
        )
    assert cw.list_metrics(Namespace=ns)["Metrics"] == []


@pytest.mark.parametrize(
    "credentials, code",
    [
        ({"secret_access_key": "not-the-right-secret"}, "SignatureDoesNotMatch"),
        ({"access_key_id": "AKIAUNKNOWNKEY000000"}, "InvalidClientTokenId"),
    ],
    ids=["wrong_secret_key", "unknown_access_key"],
)
def test_authentication_error(server, credentials, code):
    client = make_client(server, **credentials)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.list_metrics(Namespace=NS)
    err = e.value.response["Error"]
    meta = e.value.response["ResponseMetadata"]
    assert err["Code"] == code
    assert meta["HTTPStatusCode"] == 403
    assert err["Message"]
    assert meta["RequestId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.put_metric_data(Namespace=NS, MetricData=[{"MetricName": "m", "Value": 1.0}])
    assert e.value.response["Error"]["Code"] == code
