//! The order snapshot decoder (`OrderSnapshot::from_json`): what a certificate manager
//! reads back after a restart, possibly from a damaged or hostile file.

use acme_proto::client::{OrderFlow, OrderSnapshot};

/// A snapshot read from arbitrary bytes.
///
/// The input is not expected back byte for byte (whitespace, member order, escapes and
/// URL spelling are normalized when read), so the properties are: the encoding of what
/// was read decodes to the same snapshot, and encoding is then a fixed point (the same
/// bytes again). A snapshot that decodes also resumes an order without panicking, and
/// the resumed order's first snapshot is the one it was resumed from.
pub fn order_snapshot(data: &[u8]) {
    let Ok(snapshot) = OrderSnapshot::from_json(data) else {
        return;
    };
    // Version 1 snapshots still read (and a resumed one gives version 1 back until
    // its order is fetched).
    assert!(
        matches!(snapshot.version, 1 | OrderSnapshot::VERSION),
        "a snapshot of version {} was read",
        snapshot.version
    );
    let encoded = snapshot.to_json();
    assert!(
        encoded.len() <= OrderSnapshot::MAX_LEN,
        "a snapshot that was read encodes over MAX_LEN"
    );
    let decoded = match OrderSnapshot::from_json(&encoded) {
        Ok(s) => s,
        Err(e) => panic!(
            "a snapshot's encoding does not decode: {e}: {}",
            String::from_utf8_lossy(&encoded)
        ),
    };
    assert_eq!(decoded, snapshot, "a snapshot changed in a round trip");
    assert_eq!(decoded.to_json(), encoded, "encoding is not a fixed point");
    let flow = OrderFlow::resume(snapshot.clone());
    assert_eq!(flow.url(), Some(&snapshot.url));
    assert_eq!(flow.snapshot().as_ref(), Some(&snapshot));
}
