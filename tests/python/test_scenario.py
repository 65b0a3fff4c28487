"""The shared scenario: same data, same reads, identical numbers in every venv.

A dedicated server (fresh data directory) receives the data set of `scenario.py` through
PutMetricData, then GetMetricStatistics, ListMetrics and GetMetricData read it back. Each
section is checked against values computed independently from the input data, and the
canonical result is written to ``$WATCHTRAIL_PY_RESULTS/<venv>.json``; run.sh compares the
files of the two venvs byte for byte.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import EXPECTED_PROTOCOL, client_protocol, make_client, running_server
from scenario import (
    D_HIRES,
    D_LATENCY,
    D_PAYLOAD,
    D_REQUESTS,
    FLEET_MEMORY,
    FLEET_NS,
    FLEET_SIZE,
    NS,
    PRECISION_VALUES,
    STATS,
    Expected,
    base_time,
    canonical_datapoints,
    canonical_extended_datapoints,
    canonical_metrics,
    canonical_result,
    fleet_data,
    scenario_data,
    ts,
)

END = 15 * 60  # every read ends 15 minutes after BASE (BASE is 30 minutes ago)

# name -> (MetricName, Dimensions, start offset, end offset, Period, Statistics, Unit)
GMS_CASES: dict[str, tuple] = {
    "latency_all_units_p60": ("Latency", D_LATENCY, 0, END, 60, STATS, None),
    "latency_ms_p300": ("Latency", D_LATENCY, 0, END, 300, STATS, "Milliseconds"),
    "latency_seconds_p600": ("Latency", D_LATENCY, 0, END, 600, ["Sum", "SampleCount"], "Seconds"),
    "latency_unit_without_data": ("Latency", D_LATENCY, 0, END, 60, STATS, "Bytes"),
    "latency_dims_reversed_p900": ("Latency", list(reversed(D_LATENCY)), 0, END, 900, ["Average", "Maximum"], "Milliseconds"),
    "latency_partial_dims": ("Latency", [{"Name": "Service", "Value": "api"}], 0, END, 60, STATS, None),
    "requests_p120_unaligned_start": ("Requests", D_REQUESTS, 17, 13 * 60, 120, STATS, None),
    "requests_window": ("Requests", D_REQUESTS, 3 * 60, 7 * 60, 60, ["Sum"], "Count"),
    "payload_p60": ("Payload", D_PAYLOAD, 0, END, 60, STATS, None),
    "payload_p3600": ("Payload", D_PAYLOAD, 0, END, 3600, STATS, "Bytes"),
    "hires_p1": ("HiRes", D_HIRES, 0, 20, 1, STATS, None),
    "hires_p10_unaligned_start": ("HiRes", D_HIRES, 3, 120, 10, ["Sum", "SampleCount", "Maximum"], None),
    "hires_p30": ("HiRes", D_HIRES, 0, END, 30, ["Average"], None),
    "hires_p60": ("HiRes", D_HIRES, 0, END, 60, STATS, "Count"),
    "precision_p60": ("Precision", [], 0, END, 60, STATS, None),
    "fleet_cpu_i0517": ("CPUUtilization", [{"Name": "InstanceId", "Value": "i-0517"}], 0, END, 300, STATS, None),
}

EMPTY_GMS_CASES = {"latency_unit_without_data", "latency_partial_dims"}

# name -> (MetricName, Dimensions, start offset, end offset, Period, ExtendedStatistics, Unit)
GMS_EXT_CASES: dict[str, tuple] = {
    "latency_ms_ext_p300": (
        "Latency",
        D_LATENCY,
        0,
        END,
        300,
        ["p50", "p90", "p100", "tm90", "IQM", "TC(12:20.5)", "TS(25%:75%)", "wm90", "WM(11:21)", "PR(:20)"],
        "Milliseconds",
    ),
    "latency_all_units_ext_p60": ("Latency", D_LATENCY, 0, END, 60, ["p0", "p99.9", "TM(10%:90%)"], None),
    "payload_ext_p120": ("Payload", D_PAYLOAD, 0, END, 120, ["p50", "p99", "TM(150:300)", "tc50", "PR(100:200)"], None),
    "requests_ext_statistic_sets": ("Requests", D_REQUESTS, 0, END, 60, ["p50"], None),
    "hires_ext_p10": ("HiRes", D_HIRES, 0, 120, 10, ["p50", "IQM", "ts99"], None),
    "precision_ext_negative_value": ("Precision", [], 0, END, 60, ["p50", "TC(:1)"], None),
}

# name -> ListMetrics parameters
LM_CASES: dict[str, dict[str, Any]] = {
    "namespace": {"Namespace": NS},
    "namespace_and_name": {"Namespace": NS, "MetricName": "Latency"},
    "dimension_name_only": {"Namespace": NS, "Dimensions": [{"Name": "Host"}]},
    "dimension_value_any_namespace": {"Dimensions": [{"Name": "Host", "Value": "h2"}]},
    "fleet_two_dimension_filters": {"Dimensions": [{"Name": "InstanceId", "Value": "i-0003"}, {"Name": "AutoScalingGroup"}]},
    "fleet_asg_a": {"Namespace": FLEET_NS, "Dimensions": [{"Name": "AutoScalingGroup", "Value": "asg-a"}]},
    "fleet_paged": {"Namespace": FLEET_NS},
    "fleet_paged_recently_active": {"Namespace": FLEET_NS, "RecentlyActive": "PT3H"},
    "cpu_paged_any_namespace": {"MetricName": "CPUUtilization"},
}


def _stat(qid, name, dims, stat, period, unit=None, label=None, return_data=None, namespace=NS):
    q: dict[str, Any] = {
        "Id": qid,
        "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims}, "Period": period, "Stat": stat},
    }
    if unit:
        q["MetricStat"]["Unit"] = unit
    if label is not None:
        q["Label"] = label
    if return_data is not None:
        q["ReturnData"] = return_data
    return q


GMD_QUERIES = [
    _stat("lat_avg", "Latency", D_LATENCY, "Average", 60, unit="Milliseconds"),
    _stat("lat_max", "Latency", D_LATENCY, "Maximum", 300, unit="Milliseconds", label="Latency max"),
    _stat("req_sum", "Requests", D_REQUESTS, "Sum", 60),
    _stat("pay_cnt", "Payload", D_PAYLOAD, "SampleCount", 120),
    _stat("hi_sum", "HiRes", D_HIRES, "Sum", 10),
    _stat("hidden", "Requests", D_REQUESTS, "Minimum", 60, return_data=False),
    _stat("absent", "NoSuchMetric", D_REQUESTS, "Average", 60),
    _stat("lat_p90", "Latency", D_LATENCY, "p90", 60, unit="Milliseconds"),
    _stat("pay_iqm", "Payload", D_PAYLOAD, "IQM", 120),
    _stat("req_p50", "Requests", D_REQUESTS, "p50", 60),
]
GMD_PAGE = 7
GMD_PAGED_QUERIES = [GMD_QUERIES[0], GMD_QUERIES[2]]


# --------------------------------------------------------------------------------------------
# Running the scenario
# --------------------------------------------------------------------------------------------


def list_all(client, params: dict[str, Any]) -> dict[str, Any]:
    pages, tokens, metrics = [], [], []
    token = None
    for _ in range(20):
        kwargs = dict(params)
        if token:
            kwargs["NextToken"] = token
        resp = client.list_metrics(**kwargs)
        pages.append(len(resp.get("Metrics", [])))
        metrics.extend(resp.get("Metrics", []))
        token = resp.get("NextToken")
        tokens.append(bool(token))
        if not token:
            break
    else:
        raise AssertionError(f"ListMetrics {params} never stopped paging")
    return {"PageSizes": pages, "HasNextToken": tokens, "Metrics": canonical_metrics(metrics), "Returned": len(metrics)}


def get_data(client, base: int, queries, scan_by: str | None, max_datapoints: int | None = None) -> dict[str, Any]:
    pages = []
    token = None
    for _ in range(50):
        kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": ts(base, 0), "EndTime": ts(base, END)}
        if scan_by:
            kwargs["ScanBy"] = scan_by
        if max_datapoints:
            kwargs["MaxDatapoints"] = max_datapoints
        if token:
            kwargs["NextToken"] = token
        resp = client.get_metric_data(**kwargs)
        results = sorted((canonical_result(r, base) for r in resp["MetricDataResults"]), key=lambda r: r["Id"])
        token = resp.get("NextToken")
        pages.append({"Results": results, "HasNextToken": bool(token)})
        if not token:
            break
    else:
        raise AssertionError("GetMetricData never stopped paging")
    return {"Pages": pages}


def run_scenario(client, base: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Returns the canonical result (identical in every venv) and wire facts (not compared)."""
    out: dict[str, Any] = {}
    data_resp = client.put_metric_data(Namespace=NS, MetricData=[d.to_api(base) for d in scenario_data()])
    fleet = fleet_data()
    fleet_resp = client.put_metric_data(Namespace=FLEET_NS, MetricData=[d.to_api(base) for d in fleet])
    sent = client.recorder.last("PutMetricData")
    out["put"] = {
        "scenario_status": data_resp["ResponseMetadata"]["HTTPStatusCode"],
        "fleet_status": fleet_resp["ResponseMetadata"]["HTTPStatusCode"],
        "fleet_data": len(fleet),
        "fleet_request_gzip": sent.headers.get("content-encoding"),
    }
    wire = {"fleet_request_bytes_uncompressed": len(sent.decoded_body), "fleet_request_bytes_sent": len(sent.body)}

    gms = {}
    for name, (metric, dims, start, end, period, stats, unit) in GMS_CASES.items():
        kwargs: dict[str, Any] = {
            "Namespace": FLEET_NS if metric == "CPUUtilization" else NS,
            "MetricName": metric,
            "Dimensions": dims,
            "StartTime": ts(base, start),
            "EndTime": ts(base, end),
            "Period": period,
            "Statistics": stats,
        }
        if unit:
            kwargs["Unit"] = unit
        resp = client.get_metric_statistics(**kwargs)
        gms[name] = {"Label": resp.get("Label"), "Datapoints": canonical_datapoints(resp, base, stats)}
    out["get_metric_statistics"] = gms

    ext = {}
    for name, (metric, dims, start, end, period, names, unit) in GMS_EXT_CASES.items():
        kwargs = {
            "Namespace": NS,
            "MetricName": metric,
            "Dimensions": dims,
            "StartTime": ts(base, start),
            "EndTime": ts(base, end),
            "Period": period,
            "ExtendedStatistics": names,
        }
        if unit:
            kwargs["Unit"] = unit
        resp = client.get_metric_statistics(**kwargs)
        ext[name] = {"Label": resp.get("Label"), "Datapoints": canonical_extended_datapoints(resp, base)}
    out["get_metric_statistics_extended"] = ext

    lm = {name: list_all(client, params) for name, params in LM_CASES.items()}
    paginated = []
    for page in client.get_paginator("list_metrics").paginate(Namespace=FLEET_NS):
        paginated.extend(page.get("Metrics", []))
    lm["fleet_paginator"] = {"Returned": len(paginated), "Metrics": canonical_metrics(paginated)}
    out["list_metrics"] = lm

    out["get_metric_data"] = {
        "ascending": get_data(client, base, GMD_QUERIES, "TimestampAscending"),
        "descending": get_data(client, base, GMD_QUERIES, "TimestampDescending"),
        "default_order": get_data(client, base, GMD_QUERIES, None),
        "paged_ascending": get_data(client, base, GMD_PAGED_QUERIES, "TimestampAscending", GMD_PAGE),
        "paged_descending": get_data(client, base, GMD_PAGED_QUERIES, "TimestampDescending", GMD_PAGE),
    }
    return out, wire


@pytest.fixture(scope="module")
def scenario(kind):
    with running_server("watchtrail-py-scenario-") as server:
        client = make_client(server)
        assert client_protocol(client) == EXPECTED_PROTOCOL[kind]
        base = base_time()
        result, wire = run_scenario(client, base)
        yield {"base": base, "result": result, "wire": wire, "client": client}


@pytest.fixture(scope="module")
def expected():
    return Expected(scenario_data() + fleet_data())


# --------------------------------------------------------------------------------------------
# Checks against independent expectations
# --------------------------------------------------------------------------------------------


def test_put_metric_data_accepted_and_large_request_gzipped(scenario):
    put = scenario["result"]["put"]
    assert put["scenario_status"] == 200
    assert put["fleet_status"] == 200
    # botocore compresses PutMetricData bodies of 10,240 bytes or more; the server took it.
    wire = scenario["wire"]
    assert wire["fleet_request_bytes_uncompressed"] > 10 * 1024
    assert put["fleet_request_gzip"] == "gzip"
    assert wire["fleet_request_bytes_sent"] < wire["fleet_request_bytes_uncompressed"]


@pytest.mark.parametrize("case", sorted(GMS_CASES))
def test_get_metric_statistics(scenario, expected, case):
    metric, dims, start, end, period, stats, unit = GMS_CASES[case]
    ns = FLEET_NS if metric == "CPUUtilization" else NS
    got = scenario["result"]["get_metric_statistics"][case]
    assert got["Label"] == metric
    want = expected.statistics(ns, metric, dims, start, end, period, stats, unit)
    assert want or case in EMPTY_GMS_CASES, "the expectation itself should not be empty"
    assert got["Datapoints"] == want


@pytest.mark.parametrize("case", sorted(GMS_EXT_CASES))
def test_get_metric_statistics_extended(scenario, expected, case):
    metric, dims, start, end, period, names, unit = GMS_EXT_CASES[case]
    got = scenario["result"]["get_metric_statistics_extended"][case]
    assert got["Label"] == metric
    want = expected.extended_statistics(NS, metric, dims, start, end, period, names, unit)
    assert want or case == "requests_ext_statistic_sets", "the expectation itself should not be empty"
    assert got["Datapoints"] == want


def test_get_metric_statistics_extended_hand_checked(scenario):
    """Numbers worked out by hand from the data and the definitions in docs/deviations.md."""
    ext = scenario["result"]["get_metric_statistics_extended"]
    # Latency (ms), minutes 0-4: 10, 10.5, 11, 11.5, 12 and 20, 20.25, 20.5, 20.75, 21.
    first = ext["latency_ms_ext_p300"]["Datapoints"][0]["ExtendedStatistics"]
    assert first["p50"] == 12.0 and first["p90"] == 20.75 and first["p100"] == 21.0
    assert first["tm90"] == (10 + 10.5 + 11 + 11.5 + 12 + 20 + 20.25 + 20.5 + 20.75) / 9
    assert first["TC(12:20.5)"] == 3.0, "12 is excluded, 20.5 included"
    assert first["PR(:20)"] == 60.0
    assert first["WM(11:21)"] == (11 + 11 + 11 + 11.5 + 12 + 20 + 20.25 + 20.5 + 20.75 + 21) / 10
    # Requests are aggregated statistic sets: no percentiles, no datapoints.
    assert ext["requests_ext_statistic_sets"]["Datapoints"] == []
    # Precision holds one negative value (minute 3): that minute alone has no datapoint.
    assert [p["Timestamp"] for p in ext["precision_ext_negative_value"]["Datapoints"]] == [0, 60, 120, 240]


def test_get_metric_statistics_hand_checked(scenario):
    """A few numbers worked out by hand, independent of the Expected model."""
    gms = scenario["result"]["get_metric_statistics"]
    # Minute 0 of Latency in Milliseconds: values 10 and 20.
    ms = [p for p in gms["latency_all_units_p60"]["Datapoints"] if p["Unit"] == "Milliseconds"]
    assert len(ms) == 13
    assert ms[0] == {"Timestamp": 0, "Unit": "Milliseconds", "SampleCount": 2.0, "Average": 15.0, "Sum": 30.0, "Minimum": 10.0, "Maximum": 20.0}
    # Minute 12: 16 and 23.
    assert ms[12]["Timestamp"] == 720 and ms[12]["Sum"] == 39.0 and ms[12]["Minimum"] == 16.0
    # Seconds unit, minutes 0, 4, 8: 0.125, 0.625, 1.125.
    secs = [p for p in gms["latency_all_units_p60"]["Datapoints"] if p["Unit"] == "Seconds"]
    assert [(p["Timestamp"], p["Sum"]) for p in secs] == [(0, 0.125), (240, 0.625), (480, 1.125)]
    # Period 600 from BASE: all three Seconds values fall in the first period.
    assert gms["latency_seconds_p600"]["Datapoints"] == [{"Timestamp": 0, "Unit": "Seconds", "Sum": 1.875, "SampleCount": 3.0}]
    assert gms["latency_unit_without_data"]["Datapoints"] == []
    assert gms["latency_partial_dims"]["Datapoints"] == []
    # Requests minute 3..6 Sums: 4*(m+2) -> 20, 24, 28, 32 (EndTime exclusive).
    assert [(p["Timestamp"], p["Sum"]) for p in gms["requests_window"]["Datapoints"]] == [(180, 20.0), (240, 24.0), (300, 28.0), (360, 32.0)]
    # Period 1 s, seconds 0..19: values every 3 s, plus 100 in second 6 (the 3.5 s value lands in second 3).
    hires = {p["Timestamp"]: p for p in gms["hires_p1"]["Datapoints"]}
    assert sorted(hires) == [0, 3, 6, 9, 12, 15, 18]
    assert hires[6]["SampleCount"] == 2.0 and hires[6]["Sum"] == 100.5 and hires[6]["Maximum"] == 100.0
    assert hires[3]["Sum"] == 0.25
    # Fleet instance 517 carries 517 / 8 at minute 5, in a single 300-second period starting at BASE.
    assert gms["fleet_cpu_i0517"]["Datapoints"] == [
        {"Timestamp": 300, "Unit": "Percent", "SampleCount": 1.0, "Average": 64.625, "Sum": 64.625, "Minimum": 64.625, "Maximum": 64.625}
    ]
    # Every double comes back bit for bit, whatever protocol carried it.
    precision = gms["precision_p60"]["Datapoints"]
    assert [(p["Timestamp"], p["Unit"]) for p in precision] == [(m * 60, "None") for m in range(len(PRECISION_VALUES))]
    for p, v in zip(precision, PRECISION_VALUES):
        assert (p["Sum"], p["Minimum"], p["Maximum"], p["Average"]) == (v, v, v, v), f"put {v!r}, read back {p['Sum']!r}"


@pytest.mark.parametrize("case", sorted(LM_CASES))
def test_list_metrics(scenario, expected, case):
    params = LM_CASES[case]
    got = scenario["result"]["list_metrics"][case]
    want = expected.metrics(params.get("Namespace"), params.get("MetricName"), params.get("Dimensions", []))
    assert got["Metrics"] == want
    assert got["Returned"] == len(want), "a metric was returned twice (across pages or units)"
    full, rest = divmod(len(want), 500)
    sizes = [500] * full + ([rest] if rest or not full else [])
    assert got["PageSizes"] == sizes
    assert got["HasNextToken"] == [True] * (len(sizes) - 1) + [False]


def test_list_metrics_hand_checked(scenario):
    lm = scenario["result"]["list_metrics"]
    assert [m["MetricName"] for m in lm["namespace"]["Metrics"]] == ["HiRes", "Latency", "Payload", "Precision", "Requests"]
    # Latency was put with its dimensions in both orders and in two units: still one metric.
    assert lm["namespace_and_name"]["Metrics"] == [
        {"Namespace": NS, "MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "h1"}, {"Name": "Service", "Value": "api"}]}
    ]
    assert [m["MetricName"] for m in lm["dimension_name_only"]["Metrics"]] == ["Latency", "Payload"]
    assert [m["MetricName"] for m in lm["dimension_value_any_namespace"]["Metrics"]] == ["Payload"]
    assert lm["fleet_two_dimension_filters"]["Metrics"] == [
        {
            "Namespace": FLEET_NS,
            "MetricName": "MemoryUtilization",
            "Dimensions": [{"Name": "AutoScalingGroup", "Value": "asg-b"}, {"Name": "InstanceId", "Value": "i-0003"}],
        }
    ]
    assert lm["fleet_asg_a"]["Returned"] == FLEET_MEMORY // 2
    assert lm["fleet_paged"]["PageSizes"] == [500, FLEET_SIZE + FLEET_MEMORY - 500]
    assert lm["fleet_paged_recently_active"]["Metrics"] == lm["fleet_paged"]["Metrics"]
    assert lm["cpu_paged_any_namespace"]["PageSizes"] == [500, FLEET_SIZE - 500]
    assert lm["fleet_paginator"]["Returned"] == FLEET_SIZE + FLEET_MEMORY
    assert lm["fleet_paginator"]["Metrics"] == lm["fleet_paged"]["Metrics"]


def _expected_series(expected: Expected, q: dict[str, Any]) -> list[list]:
    ms = q["MetricStat"]
    m = ms["Metric"]
    return [
        [t, v]
        for t, v in expected.series(m["Namespace"], m["MetricName"], m["Dimensions"], 0, END, ms["Period"], ms["Stat"], ms.get("Unit"))
    ]


def _expected_results(expected: Expected, queries, descending: bool) -> list[dict[str, Any]]:
    out = []
    for q in queries:
        if q.get("ReturnData") is False:
            continue
        points = _expected_series(expected, q)
        if descending:
            points.reverse()
        out.append({"Id": q["Id"], "Label": q.get("Label", q["MetricStat"]["Metric"]["MetricName"]), "StatusCode": "Complete", "Points": points})
    return sorted(out, key=lambda r: r["Id"])


@pytest.mark.parametrize("order", ["ascending", "descending", "default_order"])
def test_get_metric_data(scenario, expected, order):
    got = scenario["result"]["get_metric_data"][order]
    assert len(got["Pages"]) == 1 and got["Pages"][0]["HasNextToken"] is False
    want = _expected_results(expected, GMD_QUERIES, descending=(order != "ascending"))
    assert got["Pages"][0]["Results"] == want


def test_get_metric_data_hand_checked(scenario):
    gmd = scenario["result"]["get_metric_data"]
    results = {r["Id"]: r for r in gmd["ascending"]["Pages"][0]["Results"]}
    assert "hidden" not in results, "ReturnData=false must not be returned"
    assert results["absent"]["Points"] == [] and results["absent"]["StatusCode"] == "Complete"
    assert results["lat_max"]["Label"] == "Latency max"
    # Maximum per 5 minutes of the second Latency value 20 + m/4: minutes 4, 9, 12.
    assert results["lat_max"]["Points"] == [[0, 21.0], [300, 22.25], [600, 23.0]]
    # Payload SampleCount per 2 minutes: minute 0 has 6; minutes 0-1 also has [50, 60].
    assert results["pay_cnt"]["Points"][0] == [0, 8.0]
    assert results["pay_cnt"]["Points"][1] == [120, 6.0]
    # Descending is the exact reverse of ascending.
    desc = {r["Id"]: r for r in gmd["descending"]["Pages"][0]["Results"]}
    for qid, r in results.items():
        assert desc[qid]["Points"] == list(reversed(r["Points"]))
    assert gmd["default_order"] == gmd["descending"]


@pytest.mark.parametrize("order", ["paged_ascending", "paged_descending"])
def test_get_metric_data_paging(scenario, expected, order):
    pages = scenario["result"]["get_metric_data"][order]["Pages"]
    descending = order == "paged_descending"
    want = {r["Id"]: r for r in _expected_results(expected, GMD_PAGED_QUERIES, descending)}
    total = sum(len(r["Points"]) for r in want.values())
    assert total == 26
    assert len(pages) == -(-total // GMD_PAGE), "MaxDatapoints must bound every page"
    merged: dict[str, list] = {qid: [] for qid in want}
    last_status: dict[str, str] = {}
    for i, page in enumerate(pages):
        assert page["HasNextToken"] == (i < len(pages) - 1)
        assert sum(len(r["Points"]) for r in page["Results"]) <= GMD_PAGE
        for r in page["Results"]:
            merged[r["Id"]].extend(r["Points"])
            last_status[r["Id"]] = r["StatusCode"]
            assert r["StatusCode"] in ("Complete", "PartialData")
            assert r["Label"] == want[r["Id"]]["Label"]
    for qid, r in want.items():
        assert merged[qid] == r["Points"], qid
        assert last_status[qid] == "Complete"
    # Every page but the last ends with a series that continues on the next page.
    for page in pages[:-1]:
        assert any(r["StatusCode"] == "PartialData" for r in page["Results"])


def test_canonical_result_written(scenario, kind, tmp_path):
    """Writes the canonical result; run.sh requires the files of both venvs to be identical."""
    text = json.dumps(scenario["result"], sort_keys=True, indent=1) + "\n"
    assert json.loads(text) == scenario["result"]
    assert scenario["result"]["get_metric_statistics"] and scenario["result"]["list_metrics"] and scenario["result"]["get_metric_data"]
    out_dir = Path(os.environ.get("WATCHTRAIL_PY_RESULTS") or tmp_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{kind}.json").write_text(text)
