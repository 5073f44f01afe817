//! Tests of the `speed` benchmark's report (crates/fkd-cli/benches/speed/report.rs):
//! medians, the training-pass estimate, the Markdown tables, and the JSON line that
//! `scripts/bench_pytorch.py` prints. The benchmark itself has no test harness.

#[path = "../benches/speed/report.rs"]
mod report;

use report::{EpochTiming, Measurement, Setup, format_report, median};

fn setup() -> Setup {
    Setup {
        network: "tiny".to_owned(),
        batch: 64,
        large_batch: 256,
        threads: 2,
        rounds: 2,
        warmup: 1,
        steps: 3,
        single_repeats: 5,
        large_repeats: 3,
        load_before: "0.10 0.20 0.30".to_owned(),
        load_after: "0.40 0.50 0.60".to_owned(),
        cpu: "Test CPU".to_owned(),
        glibc_tunables: None,
        elapsed_seconds: 42.4,
    }
}

fn measurement(backend: &str, step_ms: f64, epoch: Option<EpochTiming>) -> Measurement {
    Measurement {
        backend: backend.to_owned(),
        version: None,
        device: "cpu".to_owned(),
        threads: Some(2),
        train_step_ms: vec![step_ms + 50.0, step_ms, step_ms - 10.0],
        train_forward_ms: vec![step_ms / 4.0],
        infer_single_ms: vec![4.0],
        infer_large_ms: vec![512.0],
        epoch,
        startup_resident_kib: Some(10 * 1024),
        peak_resident_kib: Some(300 * 1024),
    }
}

fn epoch() -> EpochTiming {
    EpochTiming {
        faces_total: 1000,
        faces_timed: 100,
        batches_timed: 2,
        batches_total: 16,
        data_ms: 10.0,
        step_ms: 80.0,
        feedback_ms: 10.0,
    }
}

#[test]
fn median_odd_count() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
}

#[test]
fn median_even_count() {
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
}

#[test]
fn median_empty() {
    assert_eq!(median(&[]), None);
}

#[test]
fn epoch_estimate_scales_by_faces() {
    assert_eq!(epoch().estimated_seconds(), 1.0);
}

#[test]
fn report_speed_table() {
    let measurements = [
        measurement("burn-tch", 200.0, None),
        measurement("pytorch", 160.0, None),
    ];

    let report = format_report(&setup(), &measurements);
    let lines: Vec<&str> = report.lines().collect();

    assert_eq!(lines[0], "network: tiny");
    assert_eq!(
        lines[1],
        "batch 64, 2 threads; medians over 2 round(s) of 3 training steps, 5 forward passes \
         on 1 face and 3 on 256 faces, each after 1 warm-up run(s)"
    );
    assert_eq!(
        lines[2],
        "CPU: Test CPU; load average 0.10 0.20 0.30 at the start, 0.40 0.50 0.60 at the end; \
         42 s in all"
    );
    assert_eq!(lines[4], "| | burn-tch (cpu) | pytorch (cpu) |");
    assert_eq!(lines[6], "| training step (ms) | 200.0 | 160.0 |");
    assert_eq!(lines[7], "| forward + loss of a step (ms) | 50.0 | 40.0 |");
    assert_eq!(
        lines[8],
        "| backward + update of a step (ms) | 150.0 | 120.0 |"
    );
    assert_eq!(lines[9], "| training images/s | 320.0 | 400.0 |");
    assert_eq!(
        lines[10],
        "| inference, batch 1 (images/s) | 250.0 | 250.0 |"
    );
    assert_eq!(
        lines[11],
        "| inference, batch 256 (images/s) | 500.0 | 500.0 |"
    );
    assert_eq!(lines[12], "| inference, batch 256 (ms) | 512.0 | 512.0 |");
    assert_eq!(lines[13], "| resident memory at start-up (MiB) | 10 | 10 |");
    assert_eq!(lines[14], "| peak resident memory (MiB) | 300 | 300 |");
}

#[test]
fn report_names_glibc_tunables() {
    let setup = Setup {
        glibc_tunables: Some("glibc.malloc.mmap_max=0".to_owned()),
        ..setup()
    };

    let report = format_report(&setup, &[measurement("burn-tch", 200.0, None)]);
    let lines: Vec<&str> = report.lines().collect();

    assert_eq!(lines[3], "GLIBC_TUNABLES=glibc.malloc.mmap_max=0");
    assert_eq!(lines[4], "");
}

#[test]
fn report_ratio_rows() {
    let measurements = [
        measurement("burn-flex", 400.0, None),
        measurement("burn-tch", 200.0, None),
        measurement("pytorch", 160.0, None),
    ];

    let report = format_report(&setup(), &measurements);

    assert!(report.contains("| burn-tch / pytorch | 1.25 | 1.25 | 1.00 | 1.00 |"));
    assert!(report.contains("| burn-flex / burn-tch | 2.00 | 2.00 | 1.00 | 1.00 |"));
}

#[test]
fn report_no_ratio_without_pair() {
    let measurements = [
        measurement("burn-flex", 400.0, None),
        measurement("pytorch", 160.0, None),
    ];

    let report = format_report(&setup(), &measurements);

    assert!(!report.contains("time ratio"));
}

#[test]
fn report_epoch_shares() {
    let measurements = [measurement("burn-flex", 400.0, Some(epoch()))];

    let report = format_report(&setup(), &measurements);

    assert!(report.contains(
        "| burn-flex (cpu) | 1000 | 2 of 16 | 1.0 (estimated) | 10.00% | 80.00% | 10.00% |"
    ));
}

#[test]
fn merge_appends_rounds() {
    let mut first = measurement("burn-flex", 400.0, Some(epoch()));
    let mut second = measurement("burn-flex", 100.0, None);
    second.peak_resident_kib = Some(500 * 1024);
    second.startup_resident_kib = Some(20 * 1024);

    first.merge(second);

    assert_eq!(
        first.train_step_ms,
        vec![450.0, 400.0, 390.0, 150.0, 100.0, 90.0]
    );
    assert_eq!(first.train_forward_ms, vec![100.0, 25.0]);
    assert_eq!(first.infer_single_ms, vec![4.0, 4.0]);
    assert_eq!(first.peak_resident_kib, Some(500 * 1024));
    assert_eq!(first.startup_resident_kib, Some(10 * 1024));
    assert_eq!(first.epoch.unwrap().faces_total, 1000);
}

#[test]
fn python_result_line_parses() {
    let line = r#"{"backend": "pytorch", "version": "2.9.0+cu128", "device": "cpu", "threads": 2, "train_step_ms": [2.5, 1.5], "infer_single_ms": [1.0], "infer_large_ms": [8.0], "startup_resident_kib": 4096, "peak_resident_kib": 8192}"#;

    let measurement: Measurement = serde_json::from_str(line).unwrap();

    assert_eq!(measurement.backend, "pytorch");
    assert_eq!(measurement.version.as_deref(), Some("2.9.0+cu128"));
    assert_eq!(measurement.train_step_ms, vec![2.5, 1.5]);
    assert_eq!(measurement.peak_resident_kib, Some(8192));
    assert!(measurement.epoch.is_none());
}
