//! `banyan dev --metrics-port`: after a committed transfer and a refused transaction, `GET /metrics`
//! reports them in the OpenMetrics text format; any other path is 404.

use crate::common;
use alloy_primitives::Address;
use banyan_testkit::{DevNode, free_port};
use serde_json::json;
use std::time::{Duration, Instant};

/// One HTTP/1.1 GET (the testkit's); returns the status code and the body, and checks the
/// metrics content type on success.
fn get(port: u16, path: &str) -> (u16, String) {
    let (status, head, body) = banyan_testkit::checks::http_get(port, path)
        .unwrap_or_else(|| panic!("no HTTP reply from port {port}"));
    if status == 200 {
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/openmetrics-text"),
            "{head}"
        );
    }
    (status, body)
}

/// The value of an unlabelled sample `name` in an OpenMetrics text body.
fn sample(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_report_committed_blocks_and_refusals() {
    let port = free_port().unwrap();
    let node = DevNode::start(common::bin(), &["--metrics-port", &port.to_string()]).unwrap();
    let rpc = node.rpc();

    let (status, body) = get(port, "/metrics");
    assert_eq!(status, 200, "{body}");
    assert_eq!(sample(&body, "banyan_block_height"), Some(0.0), "{body}");
    assert_eq!(
        sample(&body, "banyan_transactions_committed_total"),
        Some(0.0),
        "{body}"
    );

    common::transfer_and_wait(
        &rpc,
        &common::dev_key(0),
        0,
        Address::repeat_byte(0x42),
        1,
        Duration::from_secs(30),
    );
    assert!(
        rpc.try_call("eth_sendRawTransaction", json!(["0x1234"]))
            .unwrap()
            .is_err()
    );

    // The receipt is readable a moment before the metrics of its block are updated.
    let deadline = Instant::now() + Duration::from_secs(5);
    let body = loop {
        let (status, body) = get(port, "/metrics");
        assert_eq!(status, 200, "{body}");
        if sample(&body, "banyan_transactions_committed_total") >= Some(1.0)
            || Instant::now() > deadline
        {
            break body;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(sample(&body, "banyan_block_height") >= Some(1.0), "{body}");
    assert!(
        sample(&body, "banyan_blocks_committed_total") >= Some(1.0),
        "{body}"
    );
    assert!(
        sample(&body, "banyan_transactions_committed_total") >= Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "banyan_txpool_transactions"),
        Some(0.0),
        "{body}"
    );
    assert_eq!(
        sample(&body, "banyan_txpool_rejected_total"),
        Some(1.0),
        "{body}"
    );
    assert!(
        sample(&body, "banyan_block_commit_seconds_count") >= Some(1.0),
        "{body}"
    );
    assert!(body.trim_end().ends_with("# EOF"), "{body}");

    let (status, _) = get(port, "/nope");
    assert_eq!(status, 404);
}

#[test]
fn a_taken_metrics_port_refuses_the_start() {
    let taken = std::net::TcpListener::bind(("127.0.0.1", free_port().unwrap())).unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let err = match DevNode::start(common::bin(), &["--metrics-port", &port]) {
        Ok(_) => panic!("the node started on a taken metrics port"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{err}"
    );
}
