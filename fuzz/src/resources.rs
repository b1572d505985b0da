//! The JSON objects a server sends: each parsed from arbitrary bytes, written back, and
//! read again.
//!
//! The round trip checked for every resource: `from_json(x) = Ok(v)` implies
//! `from_json(v.to_json()) = Ok(v)` (what the crate writes, it reads back as the same
//! value), and `to_json` is then a fixed point (writing the re-read value gives the same
//! bytes). The input itself is not expected back byte for byte: whitespace, member
//! order, escapes, unknown members, timestamp offsets and upper-case names are all
//! normalized on the way in.

use acme_proto::resource::{
    Account, Authorization, Challenge, Directory, Order, OrderList, RenewalInfo, Resource,
};
use acme_proto::{Headers, Limits, Problem, Response, ResponseKind, UnixTime};

use crate::NOW;

/// `from_json`, then the round trip, then the same body through the response layer
/// (status, size cap, content type), which must agree with `from_json`.
fn resource<T: Resource + PartialEq + core::fmt::Debug>(data: &[u8], kind: ResponseKind) {
    let parsed = T::from_json(data);
    if let Ok(value) = &parsed {
        round_trip(value);
    }
    let response = Response::new(
        200,
        Headers::new().with("Content-Type", "application/json"),
        data.to_vec(),
    );
    let limits = Limits::default();
    let through_response = response.json::<T>(kind, &limits, NOW);
    if data.len() <= limits.max_body(kind) {
        assert_eq!(
            through_response.ok(),
            parsed.ok(),
            "the response layer and from_json disagree"
        );
    } else {
        assert!(through_response.is_err(), "a body over its cap was read");
    }
}

/// Written, read back, written again: the same value and the same bytes.
pub(crate) fn round_trip<T: Resource + PartialEq + core::fmt::Debug>(value: &T) {
    let written = value.to_json();
    let reread = match T::from_json(&written) {
        Ok(v) => v,
        Err(e) => panic!(
            "{} written as {} does not read back: {e}",
            T::NAME,
            String::from_utf8_lossy(&written)
        ),
    };
    assert_eq!(&reread, value, "{} changed in a round trip", T::NAME);
    assert_eq!(
        reread.to_json(),
        written,
        "{} is written differently after a round trip",
        T::NAME
    );
}

/// The directory (RFC 8555 §7.1.1).
pub fn directory(data: &[u8]) {
    resource::<Directory>(data, ResponseKind::Directory);
}

/// An account object (RFC 8555 §7.1.2), and the same bytes as an order list (§7.1.2.1).
pub fn account(data: &[u8]) {
    resource::<Account>(data, ResponseKind::Account);
    resource::<OrderList>(data, ResponseKind::OrderList);
}

/// An order object (RFC 8555 §7.1.3).
pub fn order(data: &[u8]) {
    resource::<Order>(data, ResponseKind::Order);
}

/// An authorization object (RFC 8555 §7.1.4), and what the client offers for it.
pub fn authorization(data: &[u8]) {
    resource::<Authorization>(data, ResponseKind::Authorization);
    if let Ok(authorization) = Authorization::from_json(data) {
        // Every known challenge is found again by its type.
        for known in authorization.known_challenges() {
            let found = authorization.challenge(known.kind.type_name());
            assert!(
                found.is_some(),
                "a known challenge is not found by its type"
            );
        }
    }
}

/// A challenge object (RFC 8555 §7.1.5), known or not.
pub fn challenge(data: &[u8]) {
    resource::<Challenge>(data, ResponseKind::Challenge);
    if let Ok(challenge) = Challenge::from_json(data) {
        match &challenge {
            Challenge::Known(known) => {
                assert_eq!(challenge.type_name(), known.kind.type_name());
                assert_eq!(challenge.status(), Some(known.status));
                // Tokens are base64url only: never a path separator, never a dot segment.
                if let Some(token) = known.kind.token() {
                    assert!(
                        token
                            .as_str()
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                        "a token outside the base64url alphabet: {token:?}"
                    );
                }
            }
            Challenge::Unknown(unknown) => {
                assert_eq!(challenge.type_name(), unknown.type_name);
            }
            _ => {}
        }
    }
}

/// A problem document (RFC 8555 §6.7, RFC 7807), alone and as the error of a response
/// with each error status.
pub fn problem(data: &[u8]) {
    let parsed = Problem::from_json(data);
    if let Ok(problem) = &parsed {
        round_trip(problem);
        // The type's URN reads back as the same type.
        assert_eq!(
            acme_proto::ProblemType::from_urn(&problem.kind.urn()),
            problem.kind
        );
        // The one-line summary is bounded whatever the server wrote.
        let shown = problem.to_string();
        assert!(
            shown.chars().count() <= 4096,
            "a problem's summary is {} characters",
            shown.chars().count()
        );
        assert!(
            !shown.contains(['\n', '\r']),
            "a problem's summary spans lines"
        );
    }
    for (status, content_type) in [
        (400, "application/problem+json"),
        (429, "application/json"),
        (503, "application/problem+json; charset=utf-8"),
    ] {
        let response = Response::new(
            status,
            Headers::new()
                .with("Content-Type", content_type)
                .with("Retry-After", "7"),
            data.to_vec(),
        );
        let limits = Limits::default();
        match response.problem(&limits, NOW) {
            Ok(read) => {
                let Ok(plain) = &parsed else {
                    panic!("the response layer read a problem from_json refuses")
                };
                assert_eq!(read.kind, plain.kind);
                assert_eq!(read.status, plain.status.or(Some(status)));
                assert_eq!(
                    read.retry_after,
                    Some(NOW.saturating_add(core::time::Duration::from_secs(7)))
                );
            }
            Err(_) => assert!(
                parsed.is_err() || data.len() > limits.max_body(ResponseKind::Problem),
                "the response layer refused a problem from_json reads"
            ),
        }
    }
}

/// An ARI renewalInfo object (RFC 9773 §4.2), and renewal times picked in its window.
pub fn renewal_info(data: &[u8]) {
    resource::<RenewalInfo>(data, ResponseKind::RenewalInfo);
    if let Ok(info) = RenewalInfo::from_json(data) {
        let window = info.suggested_window;
        assert!(
            window.start <= window.end,
            "a window that ends before it starts"
        );
        // A hash of the input stands in for the caller's random number.
        let random = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        for random in [0, random, u64::MAX] {
            let at = window.pick(random);
            assert!(window.contains(at), "picked {at:?} outside {window:?}");
        }
        for now in [
            UnixTime::EPOCH,
            NOW,
            window.start,
            window.end,
            UnixTime::MAX,
        ] {
            let at = acme_proto::certificate::renewal_time(&info, random, now);
            assert!(at >= now, "a renewal time before now");
            assert!(
                at == now || window.contains(at),
                "a renewal time {at:?} neither now nor in {window:?}"
            );
        }
    }
}
