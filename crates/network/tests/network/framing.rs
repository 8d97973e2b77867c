//! Frames over an admitted connection: the size limit and what happens at it.

use crate::common::*;
use banyan_network::{NetError, TransportConfig};

#[tokio::test]
async fn an_oversized_frame_closes_the_connection_with_a_clear_error() {
    let ca = chain_ca();
    let small = TransportConfig {
        max_frame_len: 1024,
        ..transport()
    };
    let mut listener = listener_with(tls(&ca, &node(&ca, "node1", "0xaaaa")), small).await;
    let (dialed, accepted) = dial(
        &mut listener,
        &tls(&ca, &node(&ca, "node2", "0xbbbb")),
        None,
    )
    .await;
    let (mut sender, mut receiver) = (dialed.expect("dial"), accepted.expect("accept"));
    assert_eq!(receiver.max_frame_len(), 1024);

    sender.send(vec![1u8; 1024]).await.expect("at the limit");
    sender
        .send(vec![2u8; 2048])
        .await
        .expect("the sender's own limit is 16 MiB");
    assert_eq!(
        receiver
            .recv()
            .await
            .expect("at the limit")
            .expect("frame")
            .len(),
        1024
    );

    let error = receiver.recv().await.expect_err("over the limit");
    assert!(
        matches!(
            error,
            NetError::FrameTooLarge {
                len: 2048,
                max_len: 1024,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().ends_with(
            "sent a frame of 2048 bytes, over the limit of 1024 bytes; connection closed"
        ),
        "{error}"
    );
    assert!(matches!(
        receiver.recv().await,
        Err(NetError::Closed { .. })
    ));
    assert!(matches!(
        receiver.send(b"late").await,
        Err(NetError::Closed { .. })
    ));
    assert!(
        sender
            .recv()
            .await
            .expect("closed cleanly by the receiver")
            .is_none()
    );
}

#[tokio::test]
async fn a_frame_over_our_own_limit_is_not_sent_and_the_connection_survives() {
    let ca = chain_ca();
    let mut listener = listener(tls(&ca, &node(&ca, "node1", "0xaaaa"))).await;
    let small = TransportConfig {
        max_frame_len: 1024,
        ..transport()
    };
    let addr = listener.local_addr();
    let dialer = tls(&ca, &node(&ca, "node2", "0xbbbb"));
    let (dialed, accepted) = tokio::join!(
        banyan_network::connect_with(addr, &dialer, &small, None),
        listener.accept()
    );
    let (mut sender, mut receiver) = (dialed.expect("dial"), accepted.expect("accept"));

    let error = sender
        .send(vec![0u8; 1025])
        .await
        .expect_err("over our limit");
    assert!(
        matches!(
            error,
            NetError::OutgoingFrameTooLarge {
                len: 1025,
                max_len: 1024,
                ..
            }
        ),
        "{error}"
    );
    sender.send(b"still fine").await.expect("usable");
    assert_eq!(
        receiver.recv().await.expect("recv").as_deref(),
        Some(&b"still fine"[..])
    );
}

#[tokio::test]
async fn recv_is_cancel_safe() {
    let ca = chain_ca();
    let mut listener = listener(tls(&ca, &node(&ca, "node1", "0xaaaa"))).await;
    let (dialed, accepted) = dial(
        &mut listener,
        &tls(&ca, &node(&ca, "node2", "0xbbbb")),
        None,
    )
    .await;
    let (mut sender, mut receiver) = (dialed.expect("dial"), accepted.expect("accept"));

    // Time out a recv while nothing has arrived, then receive normally: no frame is lost.
    let nothing = tokio::time::timeout(std::time::Duration::from_millis(50), receiver.recv()).await;
    assert!(nothing.is_err());
    sender.send(vec![9u8; 300_000]).await.expect("send");
    sender.send(b"next").await.expect("send");
    assert_eq!(
        receiver.recv().await.expect("recv").expect("frame").len(),
        300_000
    );
    assert_eq!(
        receiver.recv().await.expect("recv").as_deref(),
        Some(&b"next"[..])
    );
}
