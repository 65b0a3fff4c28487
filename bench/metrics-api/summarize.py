"""Summarise the per-run JSON files of bench/metrics-api/run.sh: medians, table, results file."""

import argparse
import glob
import json
import os
import statistics
import sys
from datetime import datetime, timezone


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, nd=1):
    return "-" if x is None else f"{x:,.{nd}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--report-concurrency", type=int, required=True)
    ap.add_argument("--meta", nargs="*", default=[])
    a = ap.parse_args()

    runs = []
    for p in sorted(glob.glob(os.path.join(a.runs_dir, "*.json"))):
        with open(p) as f:
            r = json.load(f)
        r["file"] = os.path.basename(p)
        runs.append(r)

    def pick(mode, peer, conc=None, prefix=None):
        return [
            r for r in runs
            if r["mode"] == mode and r["peer"] == peer
            and (conc is None or r["concurrency"] == conc)
            and (prefix is None or r["file"].startswith(prefix))
        ]

    peers = ["watchtrail", "moto"]
    put_concs = sorted({r["concurrency"] for r in runs if r["mode"] == "put"})
    summary = {"put": {}, "get_stats": {}}
    for peer in peers:
        for c in put_concs:
            rs = pick("put", peer, c)
            summary["put"].setdefault(peer, {})[str(c)] = {
                "calls_per_sec_median": med([r["calls_per_sec"] for r in rs]),
                "calls_per_sec_runs": [r["calls_per_sec"] for r in rs],
                "p50_ms_median": med([r["latency_ms"]["p50"] for r in rs]),
                "p99_ms_median": med([r["latency_ms"]["p99"] for r in rs]),
                "p50_ms_runs": [r["latency_ms"]["p50"] for r in rs],
                "p99_ms_runs": [r["latency_ms"]["p99"] for r in rs],
                "server_cpu_util_median": med([r.get("server_cpu_util") for r in rs]),
                "server_cpu_us_per_call_median": med([r.get("server_cpu_us_per_ok_call") for r in rs]),
                "client_cpu_secs_runs": [r.get("client_cpu_secs") for r in rs],
                "connections_opened_runs": [r.get("connections_opened") for r in rs],
                "errors_runs": [r["errors"] for r in rs],
                "other_cpu_cores_runs": [r.get("other_cpu_cores") for r in rs],
                "noisy_runs": [bool(r.get("noisy")) for r in rs],
            }
        gs = pick("get-stats", peer, prefix="get-" + peer)
        gs = [r for r in gs if not r["file"].startswith("get-warmup")]
        summary["get_stats"][peer] = {
            "concurrency": gs[0]["concurrency"] if gs else None,
            "requests_per_run": [r["calls"] for r in gs],
            "p50_ms_median": med([r["latency_ms"]["p50"] for r in gs]),
            "p90_ms_median": med([r["latency_ms"]["p90"] for r in gs]),
            "p99_ms_median": med([r["latency_ms"]["p99"] for r in gs]),
            "p50_ms_runs": [r["latency_ms"]["p50"] for r in gs],
            "p90_ms_runs": [r["latency_ms"]["p90"] for r in gs],
            "p99_ms_runs": [r["latency_ms"]["p99"] for r in gs],
            "calls_per_sec_runs": [r["calls_per_sec"] for r in gs],
            "responses_by_datapoints_and_samples": [r.get("responses_by_datapoints_and_samples") for r in gs],
            "errors_runs": [r["errors"] for r in gs],
            "other_cpu_cores_runs": [r.get("other_cpu_cores") for r in gs],
            "noisy_runs": [bool(r.get("noisy")) for r in gs],
        }

    rc = str(a.report_concurrency)
    wt = summary["put"].get("watchtrail", {}).get(rc, {}).get("calls_per_sec_median")
    mo = summary["put"].get("moto", {}).get(rc, {}).get("calls_per_sec_median")
    ratio = (wt / mo) if wt and mo else None
    gw, gm = summary["get_stats"]["watchtrail"], summary["get_stats"]["moto"]
    def samples(g):
        # keys look like "11 datapoints/160 samples"; the sample totals must agree between peers
        # even where the bucketing (and so the datapoint count) differs.
        return sorted({k.split("/")[1] for d in g["responses_by_datapoints_and_samples"] for k in (d or {})})

    same_data = bool(samples(gw)) and samples(gw) == samples(gm)
    flagged = [r["file"] for r in runs if r.get("flagged")]
    noisy = [r["file"] for r in runs if r.get("noisy")]

    meta = dict(m.split("=", 1) for m in a.meta)
    result = {
        "benchmark": "bench/metrics-api",
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "meta": meta,
        "report_concurrency": a.report_concurrency,
        "put_ratio_watchtrail_over_moto": None if ratio is None else round(ratio, 2),
        "target_ratio": 50,
        "target_met": None if ratio is None else ratio >= 50,
        "get_p50_ratio_moto_over_watchtrail": (
            round(gm["p50_ms_median"] / gw["p50_ms_median"], 1)
            if gm["p50_ms_median"] and gw["p50_ms_median"] else None
        ),
        "get_same_sample_totals_on_both_peers": same_data,
        "flagged_runs_with_errors": flagged,
        "noisy_runs_other_cpu_over_0_25_cores": noisy,
        "summary": summary,
        "runs": runs,
    }
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)

    w = sys.stdout.write
    w(f"\nbench/metrics-api  {result['date_utc']}  moto {meta.get('moto_version')}  protocol {meta.get('protocol')}  "
      f"{meta.get('nproc')} cores  git {meta.get('git_rev')} (+{meta.get('git_dirty_files')} dirty files)\n")
    w(f"PutMetricData: {meta.get('datums')} datums/call, {meta.get('duration_secs')} s/run, median of {meta.get('runs')} runs; "
      f"GetMetricStatistics: {meta.get('get_requests')} requests/run at concurrency {gw['concurrency']}, median of {meta.get('runs')} runs\n\n")
    hdr = f"{'peer':<11} {'conc':>4} {'put calls/s':>12} {'runs':<28} {'put p50/p99 ms':>16} {'srv CPU':>8} {'get p50 ms':>10} {'get p99 ms':>10}\n"
    w(hdr)
    w("-" * (len(hdr) - 1) + "\n")
    for c in put_concs:
        for peer in peers:
            s = summary["put"][peer][str(c)]
            g = summary["get_stats"][peer]
            runs_s = "/".join(f"{x:.0f}{'*' if n else ''}" for x, n in zip(s["calls_per_sec_runs"], s["noisy_runs"]))
            w(f"{peer:<11} {c:>4} {fmt(s['calls_per_sec_median']):>12} {runs_s:<28} "
              f"{fmt(s['p50_ms_median'])+'/'+fmt(s['p99_ms_median']):>16} "
              f"{fmt(s['server_cpu_util_median'], 2):>8} "
              f"{fmt(g['p50_ms_median'], 2):>10} {fmt(g['p99_ms_median'], 2):>10}\n")
    w("\n")
    for peer in peers:
        g = summary["get_stats"][peer]
        w(f"get-stats {peer}: p50 runs {g['p50_ms_runs']}  p90 runs {g['p90_ms_runs']}  p99 runs {g['p99_ms_runs']}  other-CPU cores {g['other_cpu_cores_runs']}  "
          f"responses {g['responses_by_datapoints_and_samples'][0] if g['responses_by_datapoints_and_samples'] else '-'}\n")
    w(f"\nPutMetricData ratio Watchtrail/moto at concurrency {rc}: "
      f"{'-' if ratio is None else f'{ratio:.1f}x'} (target >= 50x: {'met' if result['target_met'] else 'NOT met'})\n")
    for c in put_concs:
        if str(c) == rc:
            continue
        w2 = summary["put"]["watchtrail"][str(c)]["calls_per_sec_median"]
        m2 = summary["put"]["moto"][str(c)]["calls_per_sec_median"]
        if w2 and m2:
            w(f"PutMetricData ratio at concurrency {c}: {w2 / m2:.1f}x\n")
    if result["get_p50_ratio_moto_over_watchtrail"]:
        w(f"GetMetricStatistics p50: moto / Watchtrail = {result['get_p50_ratio_moto_over_watchtrail']}x\n")
    w(f"GetMetricStatistics saw the same data on both peers (per-series SampleCount totals equal): {same_data}\n")
    if noisy:
        w(f"Noisy runs (other processes used > 0.25 core; marked * above): {', '.join(noisy)}\n")
    if flagged:
        w(f"RUNS WITH ERRORS (flagged): {', '.join(flagged)}\n")
    else:
        w("No errors in any run.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
