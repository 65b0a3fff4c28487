//! CloudWatch metrics through the official Rust SDK (rpcv2Cbor) against an in-process server.

mod common;

use aws_sdk_cloudwatch::types::{
    Dimension, DimensionFilter, Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy, StandardUnit, Statistic,
    StatisticSet, StatusCode,
};
use common::*;

fn dim(n: &str, v: &str) -> Dimension {
    Dimension::builder().name(n).value(v).build()
}

#[tokio::test]
async fn put_then_get_statistics_every_datum_form() {
    let ts = start().await;
    let cw = cloudwatch(&ts);
    let (_, now) = minute_now();
    let t0 = now - 600;
    cw.put_metric_data()
        .namespace("App/Web")
        .metric_data(MetricDatum::builder().metric_name("Latency").dimensions(dim("Host", "a")).timestamp(at(t0)).value(10.0).unit(StandardUnit::Milliseconds).build())
        .metric_data(MetricDatum::builder().metric_name("Latency").dimensions(dim("Host", "a")).timestamp(at(t0 + 30)).value(30.0).unit(StandardUnit::Milliseconds).build())
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dim("Host", "a"))
                .timestamp(at(t0 + 60))
                .statistic_values(StatisticSet::builder().sample_count(4.0).sum(100.0).minimum(5.0).maximum(50.0).build())
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dim("Host", "a"))
                .timestamp(at(t0 + 120))
                .values(1.0)
                .values(2.0)
                .counts(3.0)
                .counts(1.0)
                .unit(StandardUnit::Milliseconds)
                .build(),
        )
        .send()
        .await
        .expect("put");

    let out = cw
        .get_metric_statistics()
        .namespace("App/Web")
        .metric_name("Latency")
        .dimensions(dim("Host", "a"))
        .start_time(at(t0))
        .end_time(at(t0 + 180))
        .period(60)
        .statistics(Statistic::SampleCount)
        .statistics(Statistic::Sum)
        .statistics(Statistic::Average)
        .statistics(Statistic::Minimum)
        .statistics(Statistic::Maximum)
        .send()
        .await
        .expect("get");
    assert_eq!(out.label(), Some("Latency"));
    let mut dps = out.datapoints().to_vec();
    dps.sort_by_key(|d| d.timestamp().map(|t| t.secs()));
    assert_eq!(dps.len(), 3);
    let first = &dps[0];
    assert_eq!(first.timestamp().map(|t| t.secs()), Some(t0));
    assert_eq!((first.sample_count(), first.sum(), first.average(), first.minimum(), first.maximum()), (Some(2.0), Some(40.0), Some(20.0), Some(10.0), Some(30.0)));
    assert_eq!(first.unit(), Some(&StandardUnit::Milliseconds));
    assert_eq!((dps[1].sample_count(), dps[1].sum(), dps[1].minimum(), dps[1].maximum()), (Some(4.0), Some(100.0), Some(5.0), Some(50.0)));
    assert_eq!((dps[2].sample_count(), dps[2].sum(), dps[2].average()), (Some(4.0), Some(5.0), Some(1.25)));

    // Dimensions are part of the identity: another host has no data.
    let none = cw
        .get_metric_statistics()
        .namespace("App/Web")
        .metric_name("Latency")
        .dimensions(dim("Host", "b"))
        .start_time(at(t0))
        .end_time(at(t0 + 180))
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .expect("get");
    assert!(none.datapoints().is_empty());
}

#[tokio::test]
async fn extended_statistics_are_exact_and_follow_the_availability_rules() {
    let ts = start().await;
    let cw = cloudwatch(&ts);
    let (_, now) = minute_now();
    let t0 = now - 600;
    let datum = |offset: i64| {
        MetricDatum::builder()
            .metric_name("Lat")
            .timestamp(at(t0 + offset))
            .unit(StandardUnit::Milliseconds)
    };
    let mut req = cw.put_metric_data().namespace("Ext");
    // Period 1: the values 1..100 one by one. Period 2: a distribution.
    for v in (1..=100).rev() {
        req = req.metric_data(datum(0).value(v as f64).build());
    }
    req = req.metric_data(
        datum(60)
            .values(1.0)
            .values(10.0)
            .values(100.0)
            .counts(50.0)
            .counts(45.0)
            .counts(5.0)
            .build(),
    );
    // Period 3: an aggregated statistic set; period 4: a negative value. Neither has
    // extended statistics (reference §2.3).
    req = req.metric_data(datum(120).value(3.0).build());
    req = req.metric_data(
        datum(120)
            .statistic_values(
                StatisticSet::builder()
                    .sample_count(2.0)
                    .sum(3.0)
                    .minimum(1.0)
                    .maximum(2.0)
                    .build(),
            )
            .build(),
    );
    req = req
        .metric_data(datum(180).value(5.0).build())
        .metric_data(datum(180).value(-1.0).build());
    req.send().await.expect("put");

    let names = ["p50", "p99", "tm90", "IQM", "TC(10:20)", "PR(:25)", "wm90"];
    let mut get = cw
        .get_metric_statistics()
        .namespace("Ext")
        .metric_name("Lat")
        .start_time(at(t0))
        .end_time(at(t0 + 240))
        .period(60);
    for n in names {
        get = get.extended_statistics(n);
    }
    let out = get.send().await.expect("get");
    let mut dps = out.datapoints().to_vec();
    dps.sort_by_key(|d| d.timestamp().map(|t| t.secs()));
    assert_eq!(
        dps.len(),
        2,
        "periods 3 and 4 have no extended statistics: {dps:?}"
    );
    let stats = |i: usize| {
        let m = dps[i].extended_statistics().expect("ExtendedStatistics");
        names.iter().map(|n| m.get(*n).copied()).collect::<Vec<_>>()
    };
    assert_eq!(dps[0].timestamp().map(|t| t.secs()), Some(t0));
    assert_eq!(dps[0].unit(), Some(&StandardUnit::Milliseconds));
    assert_eq!(
        dps[0].sample_count(),
        None,
        "only the extended statistics asked for"
    );
    assert_eq!(
        stats(0),
        [50.0, 99.0, 45.5, 50.5, 10.0, 25.0, 49.95]
            .map(Some)
            .to_vec()
    );
    let low_mean = (50.0 + 450.0) / 95.0;
    assert_eq!(
        stats(1),
        [
            1.0,
            100.0,
            low_mean,
            low_mean,
            0.0,
            95.0,
            (50.0 + 450.0 + 50.0) / 100.0
        ]
        .map(Some)
        .to_vec()
    );

    // The same statistics as GetMetricData Stats; periods without them have no point.
    let metric = Metric::builder()
        .namespace("Ext")
        .metric_name("Lat")
        .build();
    let q = |id: &str, stat: &str| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(metric.clone())
                    .period(60)
                    .stat(stat)
                    .build(),
            )
            .build()
    };
    let out = cw
        .get_metric_data()
        .metric_data_queries(q("p99", "p99"))
        .metric_data_queries(q("iqm", "TM(25%:75%)"))
        .metric_data_queries(q("avg", "Average"))
        .start_time(at(t0))
        .end_time(at(t0 + 240))
        .scan_by(ScanBy::TimestampAscending)
        .send()
        .await
        .expect("get_metric_data");
    let by_id = |id: &str| {
        out.metric_data_results()
            .iter()
            .find(|r| r.id() == Some(id))
            .unwrap()
    };
    assert_eq!(by_id("p99").values(), [99.0, 100.0]);
    assert_eq!(by_id("iqm").values(), [50.5, low_mean]);
    assert_eq!(
        by_id("avg").values().len(),
        4,
        "basic statistics are available everywhere"
    );

    let bad = cw
        .get_metric_data()
        .metric_data_queries(q("m", "p101"))
        .start_time(at(t0))
        .end_time(at(t0 + 60))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        bad.into_service_error().meta().code(),
        Some("InvalidParameterValue")
    );
}

#[tokio::test]
async fn units_are_kept_apart_and_filter_reads() {
    let ts = start().await;
    let cw = cloudwatch(&ts);
    let (_, now) = minute_now();
    let t0 = now - 300;
    for (v, u) in [(1.0, StandardUnit::Count), (100.0, StandardUnit::Bytes)] {
        cw.put_metric_data()
            .namespace("U")
            .metric_data(MetricDatum::builder().metric_name("m").timestamp(at(t0)).value(v).unit(u).build())
            .send()
            .await
            .expect("put");
    }
    let all = cw.get_metric_statistics().namespace("U").metric_name("m").start_time(at(t0)).end_time(at(t0 + 60)).period(60).statistics(Statistic::Sum).send().await.unwrap();
    let mut sums: Vec<(String, f64)> = all.datapoints().iter().map(|d| (d.unit().unwrap().as_str().to_string(), d.sum().unwrap())).collect();
    sums.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(sums, vec![("Bytes".to_string(), 100.0), ("Count".to_string(), 1.0)]);
    let bytes = cw.get_metric_statistics().namespace("U").metric_name("m").start_time(at(t0)).end_time(at(t0 + 60)).period(60).statistics(Statistic::Sum).unit(StandardUnit::Bytes).send().await.unwrap();
    assert_eq!(bytes.datapoints().len(), 1);
    assert_eq!(bytes.datapoints()[0].sum(), Some(100.0));
    let secs = cw.get_metric_statistics().namespace("U").metric_name("m").start_time(at(t0)).end_time(at(t0 + 60)).period(60).statistics(Statistic::Sum).unit(StandardUnit::Seconds).send().await.unwrap();
    assert!(secs.datapoints().is_empty(), "a unit that matches nothing returns nothing");
}

#[tokio::test]
async fn list_metrics_filters_and_pages() {
    let ts = start().await;
    let cw = cloudwatch(&ts);
    // 600 metrics in one (gzip-compressed, > 10 KiB) request, then 3 in another namespace.
    let mut req = cw.put_metric_data().namespace("Fleet");
    for i in 0..600 {
        req = req.metric_data(MetricDatum::builder().metric_name("CPU").dimensions(dim("Host", &format!("host-{i:04}"))).value(i as f64).build());
    }
    req.send().await.expect("bulk put");
    for name in ["A", "B", "C"] {
        cw.put_metric_data().namespace("Other").metric_data(MetricDatum::builder().metric_name(name).dimensions(dim("Env", "prod")).value(1.0).build()).send().await.unwrap();
    }
    let page1 = cw.list_metrics().namespace("Fleet").send().await.unwrap();
    assert_eq!(page1.metrics().len(), 500);
    let token = page1.next_token().expect("second page").to_string();
    let page2 = cw.list_metrics().namespace("Fleet").next_token(token).send().await.unwrap();
    assert_eq!(page2.metrics().len(), 100);
    assert!(page2.next_token().is_none());
    let mut hosts: Vec<String> = page1.metrics().iter().chain(page2.metrics()).map(|m| m.dimensions()[0].value().unwrap().to_string()).collect();
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), 600, "every metric exactly once across pages");

    let one = cw.list_metrics().dimensions(DimensionFilter::builder().name("Host").value("host-0042").build()).send().await.unwrap();
    assert_eq!(one.metrics().len(), 1);
    assert_eq!(one.metrics()[0].namespace(), Some("Fleet"));
    let by_name = cw.list_metrics().metric_name("B").send().await.unwrap();
    assert_eq!(by_name.metrics().len(), 1);
    let by_dim_name = cw.list_metrics().dimensions(DimensionFilter::builder().name("Env").build()).send().await.unwrap();
    assert_eq!(by_dim_name.metrics().len(), 3);
    let recent = cw.list_metrics().namespace("Other").recently_active(aws_sdk_cloudwatch::types::RecentlyActive::Pt3H).send().await.unwrap();
    assert_eq!(recent.metrics().len(), 3);
    let bad = cw.list_metrics().next_token("not-a-token").send().await.unwrap_err();
    assert_eq!(bad.into_service_error().meta().code(), Some("InvalidParameterValue"));
}

#[tokio::test]
async fn get_metric_data_scan_order_paging_and_status() {
    let ts = start().await;
    let cw = cloudwatch(&ts);
    let (_, now) = minute_now();
    let t0 = now - 3600;
    let mut req = cw.put_metric_data().namespace("GMD");
    for i in 0..30 {
        req = req.metric_data(MetricDatum::builder().metric_name("Req").timestamp(at(t0 + i * 60)).value(i as f64).unit(StandardUnit::Count).build());
    }
    req.send().await.unwrap();
    let metric = Metric::builder().namespace("GMD").metric_name("Req").build();
    let q = |id: &str, stat: &str| {
        MetricDataQuery::builder().id(id).metric_stat(MetricStat::builder().metric(metric.clone()).period(60).stat(stat).build()).build()
    };
    let out = cw.get_metric_data().metric_data_queries(q("sum", "Sum")).start_time(at(t0)).end_time(at(t0 + 1800)).send().await.unwrap();
    let r = &out.metric_data_results()[0];
    assert_eq!(r.id(), Some("sum"));
    assert_eq!(r.label(), Some("Req"));
    assert_eq!(r.status_code(), Some(&StatusCode::Complete));
    assert_eq!(r.values().len(), 30);
    assert_eq!(r.values()[0], 29.0, "default ScanBy is TimestampDescending");
    assert_eq!(r.timestamps()[0].secs(), t0 + 29 * 60);

    // Paging across two queries with MaxDatapoints = 25.
    let mut token: Option<String> = None;
    let mut got: Vec<(String, f64)> = Vec::new();
    let mut pages = 0;
    loop {
        let out = cw
            .get_metric_data()
            .metric_data_queries(q("a", "Sum"))
            .metric_data_queries(q("b", "SampleCount"))
            .start_time(at(t0))
            .end_time(at(t0 + 1800))
            .scan_by(ScanBy::TimestampAscending)
            .max_datapoints(25)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        for r in out.metric_data_results() {
            let has_more = out.next_token().is_some() && r.status_code() == Some(&StatusCode::PartialData);
            let _ = has_more;
            for v in r.values() {
                got.push((r.id().unwrap().to_string(), *v));
            }
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(got.len(), 60);
    assert_eq!(got.iter().filter(|(id, _)| id == "a").map(|(_, v)| *v).collect::<Vec<_>>(), (0..30).map(|i| i as f64).collect::<Vec<_>>());
    assert!(got.iter().filter(|(id, _)| id == "b").all(|(_, v)| *v == 1.0));

    let bad = cw.get_metric_data().metric_data_queries(q("a", "Sum")).start_time(at(t0)).end_time(at(t0 + 60)).next_token("bogus").send().await.unwrap_err();
    assert_eq!(bad.into_service_error().meta().code(), Some("InvalidNextToken"));
}

#[tokio::test]
async fn get_metric_data_pages_come_from_one_snapshot_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_, now) = minute_now();
    let t0 = now - 3600;
    let metric = Metric::builder().namespace("Snap").metric_name("Req").build();
    let query = MetricDataQuery::builder().id("a").metric_stat(MetricStat::builder().metric(metric).period(60).stat("Sum").build()).build();
    let page = |cw: aws_sdk_cloudwatch::Client, token: Option<String>| {
        let query = query.clone();
        async move {
            let out = cw
                .get_metric_data()
                .metric_data_queries(query)
                .start_time(at(t0))
                .end_time(at(t0 + 3600))
                .scan_by(ScanBy::TimestampAscending)
                .max_datapoints(25)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            let values: Vec<f64> = out.metric_data_results().iter().flat_map(|r| r.values().to_vec()).collect();
            (values, out.next_token().map(str::to_string))
        }
    };
    let server = watchtrail::Server::start(config(dir.path())).await.unwrap();
    let cw = cloudwatch_with(&server.endpoint(), AKID, SECRET);
    let put = |cw: aws_sdk_cloudwatch::Client, minutes: std::ops::Range<i64>| async move {
        let mut req = cw.put_metric_data().namespace("Snap");
        for i in minutes {
            req = req.metric_data(MetricDatum::builder().metric_name("Req").timestamp(at(t0 + i * 60)).value(i as f64).build());
        }
        req.send().await.unwrap();
    };
    put(cw.clone(), 0..30).await;

    // Data that arrives between two pages is not in the second: both pages are cut from the
    // result the first call computed.
    let (first, token) = page(cw.clone(), None).await;
    assert_eq!(first, (0..25).map(f64::from).collect::<Vec<_>>());
    put(cw.clone(), 40..45).await;
    let (second, end) = page(cw.clone(), token.clone()).await;
    assert_eq!(second, (25..30).map(f64::from).collect::<Vec<_>>());
    assert!(end.is_none());
    // A fresh call sees the new data.
    let (fresh, token2) = page(cw.clone(), None).await;
    assert_eq!(fresh.len(), 25);
    let (rest, _) = page(cw.clone(), token2).await;
    assert_eq!(rest, vec![25.0, 26.0, 27.0, 28.0, 29.0, 40.0, 41.0, 42.0, 43.0, 44.0]);

    // After a restart the kept result is gone; the token still works, and the call computes
    // its page again from what is stored.
    server.shutdown().await.unwrap();
    let server = watchtrail::Server::start(config(dir.path())).await.unwrap();
    let cw = cloudwatch_with(&server.endpoint(), AKID, SECRET);
    let (again, _) = page(cw.clone(), token).await;
    assert_eq!(again, vec![25.0, 26.0, 27.0, 28.0, 29.0, 40.0, 41.0, 42.0, 43.0, 44.0]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn modeled_errors_reach_the_sdk() {
    let ts = start().await;
    let cw = cloudwatch(&ts);
    let err = cw
        .put_metric_data()
        .namespace("E")
        .metric_data(MetricDatum::builder().metric_name("m").value(1.0).storage_resolution(7).build())
        .send()
        .await
        .unwrap_err();
    let se = err.into_service_error();
    assert!(se.is_invalid_parameter_value_exception(), "{se:?}");
    assert_eq!(se.meta().code(), Some("InvalidParameterValue"));

    let (_, now) = minute_now();
    let err = cw
        .get_metric_statistics()
        .namespace("E")
        .metric_name("m")
        .start_time(at(now - 86_400 * 2))
        .end_time(at(now))
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .unwrap_err();
    let se = err.into_service_error();
    assert!(se.is_invalid_parameter_combination_exception(), "{se:?}");
    assert!(se.meta().message().unwrap_or("").contains("2,880"), "{:?}", se.meta().message());
}

/// The minute from `t0` of `namespace`/`name` holds one datapoint whose Sum is `sum`.
async fn assert_one_minute_sum(cw: &aws_sdk_cloudwatch::Client, namespace: &str, name: &str, t0: i64, sum: f64) {
    let out = cw.get_metric_statistics().namespace(namespace).metric_name(name).start_time(at(t0)).end_time(at(t0 + 60)).period(60).statistics(Statistic::Sum).send().await.unwrap();
    assert_eq!(out.datapoints().len(), 1, "{name}");
    assert_eq!(out.datapoints()[0].sum(), Some(sum));
}

#[tokio::test]
async fn data_survives_restart_from_wal_and_from_segments() {
    let dir = tempfile::tempdir().unwrap();
    let (_, now) = minute_now();
    let t0 = now - 600;
    {
        let server = watchtrail::Server::start(config(dir.path())).await.unwrap();
        let cw = cloudwatch_with(&server.endpoint(), AKID, SECRET);
        cw.put_metric_data().namespace("P").metric_data(MetricDatum::builder().metric_name("flushed").timestamp(at(t0)).value(5.0).build()).send().await.unwrap();
        server.metrics().store().flush().await.unwrap();
        cw.put_metric_data().namespace("P").metric_data(MetricDatum::builder().metric_name("walonly").timestamp(at(t0)).value(7.0).build()).send().await.unwrap();
        // No flush: the second datum lives only in the WAL.
        server.stop_without_flush().await;
    }
    let server = watchtrail::Server::start(config(dir.path())).await.unwrap();
    let cw = cloudwatch_with(&server.endpoint(), AKID, SECRET);
    for (name, v) in [("flushed", 5.0), ("walonly", 7.0)] {
        assert_one_minute_sum(&cw, "P", name, t0, v).await;
    }
    let listed = cw.list_metrics().namespace("P").send().await.unwrap();
    assert_eq!(listed.metrics().len(), 2);
}

#[tokio::test]
async fn a_clean_stop_empties_the_commit_log_and_writes_after_it_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (_, now) = minute_now();
    let t0 = now - 600;
    let put = |cw: aws_sdk_cloudwatch::Client, name: &'static str, v: f64| async move {
        cw.put_metric_data().namespace("Stop").metric_data(MetricDatum::builder().metric_name(name).timestamp(at(t0)).value(v).build()).send().await.unwrap();
    };
    let server = watchtrail::Server::start(config(dir.path())).await.unwrap();
    put(cloudwatch_with(&server.endpoint(), AKID, SECRET), "before", 1.0).await;
    server.shutdown().await.unwrap();
    let wal_dir = dir.path().join("wal");
    let left: Vec<(String, u64)> = std::fs::read_dir(&wal_dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != "LOCK")
        .map(|e| (e.file_name().into_string().unwrap(), e.metadata().unwrap().len()))
        .collect();
    assert_eq!(left.len(), 1, "one log file, no spares: {left:?}");
    assert!(left[0].0.ends_with(".wal") && left[0].1 < 64, "an empty log file: {left:?}");

    // Records written after the clean stop continue the LSN sequence: a crash right after
    // them replays them (a restarted sequence would be taken for records already in segments).
    let server = watchtrail::Server::start(config(dir.path())).await.unwrap();
    put(cloudwatch_with(&server.endpoint(), AKID, SECRET), "after", 2.0).await;
    server.stop_without_flush().await;
    let server = watchtrail::Server::start(config(dir.path())).await.unwrap();
    let cw = cloudwatch_with(&server.endpoint(), AKID, SECRET);
    for (name, v) in [("before", 1.0), ("after", 2.0)] {
        assert_one_minute_sum(&cw, "Stop", name, t0, v).await;
    }
    server.shutdown().await.unwrap();
}
