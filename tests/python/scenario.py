"""The shared CloudWatch scenario: one deterministic data set, put and read back through a client.

Every venv (boto3 over awsJson1_0, legacy botocore over awsQuery) runs exactly this scenario
against its own fresh server and must produce byte-identical canonical results. All
timestamps are offsets in seconds from BASE, a minute-aligned instant some minutes before the
run, so the canonical result does not depend on when it ran.

Values are dyadic rationals (multiples of 1/8) small enough that every Sum is exact whatever
order a server adds them in; only Averages (Sum / SampleCount) round, and they round the same
way everywhere because IEEE division is correctly rounded.

This module also computes the expected answers independently, from the input data alone
(`Expected`), so the tests never derive expectations from what the server said.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable

NS = "Watchtrail/PyScenario"
FLEET_NS = "Watchtrail/PyFleet"
FLEET_SIZE = 520  # > 500: ListMetrics must page
FLEET_MEMORY = 30  # extra metrics with two dimensions
BASE_MINUTES_AGO = 30
PRECISION_VALUES = (123456789.12345679, 1.797693134862316e108, 0.1, -2.2250738585072014e-308, 1e-300)
STATS = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]

D_LATENCY = [{"Name": "Service", "Value": "api"}, {"Name": "Host", "Value": "h1"}]
D_REQUESTS = [{"Name": "Service", "Value": "api"}]
D_PAYLOAD = [{"Name": "Service", "Value": "api"}, {"Name": "Host", "Value": "h2"}]
D_HIRES = [{"Name": "Service", "Value": "api"}, {"Name": "Tier", "Value": "edge"}]


def base_time(now: dt.datetime | None = None) -> int:
    """A minute-aligned epoch second BASE_MINUTES_AGO minutes before now."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return (int(now.timestamp()) // 60) * 60 - BASE_MINUTES_AGO * 60


def ts(base: int, offset: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(base + offset, tz=dt.timezone.utc)


# --------------------------------------------------------------------------------------------
# The input data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Datum:
    """One MetricDatum as put, with its timestamp as an offset from BASE."""

    namespace: str
    name: str
    dims: tuple[tuple[str, str], ...]  # as sent (unsorted on purpose for some)
    offset: float
    unit: str | None
    resolution: int | None  # StorageResolution as sent (None: not sent)
    value: float | None = None
    stats: tuple[float, float, float, float] | None = None  # SampleCount, Sum, Minimum, Maximum
    values: tuple[float, ...] | None = None
    counts: tuple[float, ...] | None = None

    def to_api(self, base: int) -> dict[str, Any]:
        d: dict[str, Any] = {
            "MetricName": self.name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in self.dims],
            "Timestamp": ts(base, self.offset),
        }
        if self.unit is not None:
            d["Unit"] = self.unit
        if self.resolution is not None:
            d["StorageResolution"] = self.resolution
        if self.value is not None:
            d["Value"] = self.value
        if self.stats is not None:
            c, s, lo, hi = self.stats
            d["StatisticValues"] = {"SampleCount": c, "Sum": s, "Minimum": lo, "Maximum": hi}
        if self.values is not None:
            d["Values"] = list(self.values)
        if self.counts is not None:
            d["Counts"] = list(self.counts)
        return d

    # What the datum contributes to a period: (count, sum, min, max).
    def parts(self) -> tuple[float, float, float, float]:
        if self.value is not None:
            return (1.0, self.value, self.value, self.value)
        if self.stats is not None:
            return self.stats
        assert self.values is not None
        counts = self.counts or tuple(1.0 for _ in self.values)
        live = [(v, c) for v, c in zip(self.values, counts) if c > 0]
        return (sum(c for _, c in live), sum(v * c for v, c in live), min(v for v, _ in live), max(v for v, _ in live))

    def raw(self) -> list[tuple[float, float]] | None:
        """The datum's raw (value, count) pairs; None when it has none (an aggregated
        statistic set, reference §2.3)."""
        if self.value is not None:
            return [(self.value, 1.0)]
        if self.stats is not None:
            c, s, lo, hi = self.stats
            return [(lo, c)] if lo == hi and abs(s - lo * c) <= 1e-9 * abs(s) else None
        assert self.values is not None
        counts = self.counts or tuple(1.0 for _ in self.values)
        return [(v, c) for v, c in zip(self.values, counts) if c > 0]

    def stored_offset(self) -> int:
        """The timestamp after truncation to the storage resolution (1 s or 60 s)."""
        step = 1 if self.resolution == 1 else 60
        return int(math.floor(self.offset / step) * step)


def _dims(pairs: Iterable[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((p["Name"], p["Value"]) for p in pairs)


def scenario_data() -> list[Datum]:
    """The main data set (one PutMetricData call, under 1000 data)."""
    out: list[Datum] = []
    # Latency: two raw values per minute in Milliseconds, for 13 minutes; the first with
    # StorageResolution 60 sent explicitly, the second with no StorageResolution.
    for m in range(13):
        out.append(Datum(NS, "Latency", _dims(D_LATENCY), m * 60 + 5, "Milliseconds", 60, value=10 + m * 0.5))
        out.append(Datum(NS, "Latency", _dims(D_LATENCY), m * 60 + 40.25, "Milliseconds", None, value=20 + m * 0.25))
    # The same metric in a second unit (kept and aggregated separately), dimensions reversed.
    for m in (0, 4, 8):
        out.append(Datum(NS, "Latency", _dims(reversed(D_LATENCY)), m * 60 + 30, "Seconds", None, value=0.125 * (m + 1)))
    # Requests: one StatisticSet per minute.
    for m in range(13):
        c = float(m + 2)
        out.append(Datum(NS, "Requests", _dims(D_REQUESTS), m * 60 + 10, "Count", 60, stats=(c, 4.0 * c, 1.0, 7.0 + m)))
    # Payload: distributions (Values + Counts) every other minute, one Values without Counts.
    for m in range(0, 13, 2):
        out.append(
            Datum(NS, "Payload", _dims(D_PAYLOAD), m * 60 + 20, "Bytes", None, values=(100.0, 200.0, 300.0 + m), counts=(1.0, 2.0, 3.0))
        )
    out.append(Datum(NS, "Payload", _dims(D_PAYLOAD), 60 + 50, "Bytes", None, values=(50.0, 60.0)))
    # HiRes: StorageResolution 1, one value every 3 seconds (some at fractional seconds) for
    # the first two minutes, plus a second value in second 6.
    for k in range(40):
        off = 3 * k + (0.5 if k % 4 == 1 else 0)
        out.append(Datum(NS, "HiRes", _dims(D_HIRES), off, "Count", 1, value=k * 0.25))
    out.append(Datum(NS, "HiRes", _dims(D_HIRES), 6.5, "Count", 1, value=100.0))
    # Precision: doubles that only a correctly rounding decimal parser reads back exactly
    # (17 significant digits, extreme exponents), one per minute, no Unit (stored as "None").
    # They must come back as the very same doubles.
    for m, v in enumerate(PRECISION_VALUES):
        out.append(Datum(NS, "Precision", (), m * 60 + 30, None, None, value=v))
    return out


def fleet_data() -> list[Datum]:
    """> 500 metrics (ListMetrics paging); one call carrying them all is > 10 KiB (gzip)."""
    out = []
    for i in range(FLEET_SIZE):
        out.append(Datum(FLEET_NS, "CPUUtilization", (("InstanceId", f"i-{i:04d}"),), 5 * 60, "Percent", None, value=i * 0.125))
    for i in range(FLEET_MEMORY):
        asg = "asg-a" if i % 2 == 0 else "asg-b"
        out.append(
            Datum(FLEET_NS, "MemoryUtilization", (("InstanceId", f"i-{i:04d}"), ("AutoScalingGroup", asg)), 6 * 60, "Percent", None, value=50.0 + i)
        )
    return out


# --------------------------------------------------------------------------------------------
# Independent expectations
# --------------------------------------------------------------------------------------------


def metric_id(namespace: str, name: str, dims: Iterable[tuple[str, str]]) -> tuple:
    return (namespace, name, tuple(sorted(dims)))


def metric_json(namespace: str, name: str, dims: Iterable[tuple[str, str]]) -> dict[str, Any]:
    return {"Namespace": namespace, "MetricName": name, "Dimensions": [{"Name": n, "Value": v} for n, v in sorted(dims)]}


def sort_metrics(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(metrics, key=lambda m: (m["Namespace"], m["MetricName"], [(d["Name"], d["Value"]) for d in m["Dimensions"]]))


class Expected:
    """Answers computed from the input data only (CloudWatch semantics, reference §1–2)."""

    def __init__(self, data: list[Datum]):
        self.data = data

    def _select(self, namespace: str, name: str, dims, unit: str | None) -> list[Datum]:
        key = metric_id(namespace, name, _dims(dims))
        return [
            d
            for d in self.data
            if metric_id(d.namespace, d.name, d.dims) == key and (unit is None or (d.unit or "None") == unit)
        ]

    @staticmethod
    def rounded_start(start: float, period: int) -> int:
        """StartTime rounding for recent data: to the minute, or to the sub-minute period."""
        step = period if period < 60 else 60
        return int(math.floor(start / step) * step)

    @staticmethod
    def fold(parts: list[tuple[float, float, float, float]]) -> dict[str, float]:
        count = sum(p[0] for p in parts)
        total = sum(p[1] for p in parts)
        return {
            "SampleCount": count,
            "Sum": total,
            "Minimum": min(p[2] for p in parts),
            "Maximum": max(p[3] for p in parts),
            "Average": total / count,
        }

    def buckets(self, data: list[Datum], start: float, end: float, period: int) -> dict[int, dict[str, float]]:
        s = self.rounded_start(start, period)
        groups: dict[int, list] = {}
        for d in data:
            t = d.stored_offset()
            if s <= t < end:
                b = s + (t - s) // period * period
                groups.setdefault(b, []).append(d.parts())
        return {b: self.fold(p) for b, p in sorted(groups.items()) if sum(x[0] for x in p) > 0}

    def raw_buckets(self, data: list[Datum], start: float, end: float, period: int) -> dict[int, list[tuple[float, float]] | None]:
        """Each period's raw (value, count) pairs, None where some datum has none."""
        s = self.rounded_start(start, period)
        groups: dict[int, list | None] = {}
        for d in data:
            t = d.stored_offset()
            if s <= t < end:
                b = s + (t - s) // period * period
                raw = d.raw()
                have = groups.setdefault(b, [])
                groups[b] = None if raw is None or have is None else have + raw
        return dict(sorted(groups.items()))

    def extended_statistics(self, namespace, name, dims, start, end, period, names, unit=None) -> list[dict[str, Any]]:
        """GetMetricStatistics datapoints for ExtendedStatistics, canonical."""
        out = []
        units = sorted({(d.unit or "None") for d in self._select(namespace, name, dims, unit)})
        for u in units:
            for b, pairs in self.raw_buckets(self._select(namespace, name, dims, u), start, end, period).items():
                values = {n: v for n in names if (v := extended_statistic(n, pairs)) is not None}
                if values:
                    out.append({"Timestamp": b, "Unit": u, "ExtendedStatistics": values})
        return sorted(out, key=lambda p: (p["Timestamp"], p["Unit"]))

    def statistics(self, namespace, name, dims, start, end, period, stats, unit=None) -> list[dict[str, Any]]:
        """GetMetricStatistics datapoints, canonical (sorted by timestamp then unit)."""
        out = []
        units = sorted({(d.unit or "None") for d in self._select(namespace, name, dims, unit)})
        for u in units:
            for b, agg in self.buckets(self._select(namespace, name, dims, u), start, end, period).items():
                dp: dict[str, Any] = {"Timestamp": b, "Unit": u}
                for st in stats:
                    dp[st] = agg[st]
                out.append(dp)
        return sorted(out, key=lambda p: (p["Timestamp"], p["Unit"]))

    def series(self, namespace, name, dims, start, end, period, stat, unit=None) -> list[tuple[int, float]]:
        """One GetMetricData MetricStat series, ascending."""
        if stat not in STATS:
            raw = self.raw_buckets(self._select(namespace, name, dims, unit), start, end, period)
            return [(b, v) for b, pairs in raw.items() if (v := extended_statistic(stat, pairs)) is not None]
        return [(b, agg[stat]) for b, agg in self.buckets(self._select(namespace, name, dims, unit), start, end, period).items()]

    def metrics(self, namespace=None, name=None, dim_filters=()) -> list[dict[str, Any]]:
        """ListMetrics: every distinct metric matching the filters, sorted."""
        seen = {}
        for d in self.data:
            if namespace is not None and d.namespace != namespace:
                continue
            if name is not None and d.name != name:
                continue
            dims = dict(d.dims)
            if not all(f["Name"] in dims and ("Value" not in f or dims[f["Name"]] == f["Value"]) for f in dim_filters):
                continue
            seen[metric_id(d.namespace, d.name, d.dims)] = metric_json(d.namespace, d.name, d.dims)
        return sort_metrics(list(seen.values()))


def extended_statistic(name: str, pairs: list[tuple[float, float]] | None) -> float | None:
    """An extended statistic by the definitions in docs/deviations.md, from raw pairs, with
    exact rational arithmetic for ranks; None when unavailable or undefined."""
    if not pairs or any(v < 0 for v, _ in pairs):
        return None
    merged: dict[float, Fraction] = {}
    for v, c in pairs:
        merged[v] = merged.get(v, Fraction(0)) + Fraction(c)
    values = sorted(merged.items())
    total = sum(c for _, c in values)

    def percentile(p: Fraction) -> float:
        cum = Fraction(0)
        for v, c in values:
            cum += c
            if cum * 100 >= p * total:
                return v
        return values[-1][0]

    m = re.fullmatch(r"(p|tm|tc|ts|wm)(\d{1,2}(?:\.\d{1,10})?|100)", name)
    if m and m[1] == "p":
        return percentile(Fraction(m[2]))
    if m:
        kind, lo, hi, pct = m[1].upper(), None, Fraction(m[2]), True
    elif name == "IQM":
        kind, lo, hi, pct = "TM", Fraction(25), Fraction(75), True
    else:
        m = re.fullmatch(r"(TM|TC|TS|WM|PR)\(([^:]*):([^)]*)\)", name)
        assert m, name
        kind, pct = m[1], m[2].endswith("%") or m[3].endswith("%")
        lo = Fraction(m[2].rstrip("%")) if m[2] else None
        hi = Fraction(m[3].rstrip("%")) if m[3] else None
    kept = []
    before = Fraction(0)
    for v, c in values:
        after = before + c
        if pct:
            inside = (lo is None or after * 100 > lo * total) and (hi is None or before * 100 < hi * total)
        else:
            inside = (lo is None or v > float(lo)) and (hi is None or v <= float(hi))
        if inside:
            kept.append((v, c))
        before = after
    count = sum(c for _, c in kept)
    total_sum = math.fsum(v * float(c) for v, c in kept)
    if kind == "TM":
        return total_sum / float(count) if kept else None
    if kind == "TC":
        return float(count)
    if kind == "TS":
        return total_sum
    if kind == "PR":
        return float(count) * 100 / float(total)
    assert kind == "WM"
    if pct:
        if not kept:
            return None
        floor, ceiling = kept[0][0], kept[-1][0]
    else:
        floor = float(lo) if lo is not None else -math.inf
        ceiling = float(hi) if hi is not None else math.inf
    return math.fsum(min(max(v, floor), ceiling) * float(c) for v, c in values) / float(total)


# --------------------------------------------------------------------------------------------
# Canonical forms of responses
# --------------------------------------------------------------------------------------------


def offset_of(value: dt.datetime, base: int) -> int:
    seconds = value.timestamp() - base
    assert seconds == int(seconds), f"timestamp {value!r} is not on a whole second"
    return int(seconds)


def number(v: Any) -> float:
    assert isinstance(v, (int, float)) and not isinstance(v, bool), f"{v!r} is not a number"
    return float(v)


def canonical_datapoints(resp: dict[str, Any], base: int, stats: list[str]) -> list[dict[str, Any]]:
    out = []
    for p in resp.get("Datapoints", []):
        dp: dict[str, Any] = {"Timestamp": offset_of(p["Timestamp"], base), "Unit": p.get("Unit")}
        for st in STATS:
            if st in stats:
                dp[st] = number(p[st])
            else:
                assert st not in p, f"{st} returned though not requested: {p}"
        out.append(dp)
    return sorted(out, key=lambda p: (p["Timestamp"], p["Unit"]))


def canonical_extended_datapoints(resp: dict[str, Any], base: int) -> list[dict[str, Any]]:
    out = []
    for p in resp.get("Datapoints", []):
        for st in STATS:
            assert st not in p, f"{st} returned though only extended statistics were requested: {p}"
        ext = {k: number(v) for k, v in p.get("ExtendedStatistics", {}).items()}
        out.append({"Timestamp": offset_of(p["Timestamp"], base), "Unit": p.get("Unit"), "ExtendedStatistics": ext})
    return sorted(out, key=lambda p: (p["Timestamp"], p["Unit"]))


def canonical_metrics(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sort_metrics(
        [
            metric_json(m["Namespace"], m["MetricName"], [(d["Name"], d["Value"]) for d in m.get("Dimensions", [])])
            for m in metrics
        ]
    )


def canonical_result(r: dict[str, Any], base: int) -> dict[str, Any]:
    return {
        "Id": r["Id"],
        "Label": r.get("Label"),
        "StatusCode": r.get("StatusCode"),
        "Points": [[offset_of(t, base), number(v)] for t, v in zip(r.get("Timestamps", []), r.get("Values", []))],
    }
