//! ACME Renewal Information (RFC 9773): when the CA suggests renewing a certificate.

use super::Client;
use super::exchange::{Body, Endpoint, Spec};
use super::single_request::SingleRequest;
use crate::certificate::CertId;
use crate::limits::ResponseKind;
use crate::resource::RenewalInfo;
use crate::time::UnixTime;
use crate::wire::Method;

/// The server's renewal suggestion for one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenewalSuggestion {
    /// The suggested window and the explanation URL.
    pub info: RenewalInfo,
    /// When to ask again (`Retry-After`, RFC 9773 §4.3), if the server said.
    pub retry_after: Option<UnixTime>,
}

impl RenewalSuggestion {
    /// When to renew: a time drawn uniformly inside the suggested window from `random`
    /// (the caller's random value: the core draws no randomness), or `now` when the
    /// window has already begun at or before `now`'s draw (RFC 9773 §4.2).
    pub fn renewal_time(&self, random: u64, now: UnixTime) -> UnixTime {
        crate::certificate::renewal_time(&self.info, random, now)
    }
}

impl Client {
    /// Asks the server when to renew the certificate with this ARI certID (RFC 9773
    /// §4.1): an unauthenticated GET of `renewalInfo/{certID}`.
    pub fn renewal_info(&self, cert_id: &CertId) -> SingleRequest<RenewalSuggestion> {
        let spec = Spec {
            method: Method::Get,
            endpoint: Endpoint::RenewalInfo(cert_id.clone()),
            kind: ResponseKind::RenewalInfo,
            body: Body::Empty,
            resend_on_transport_failure: true,
        };
        SingleRequest::new("renewal information", spec, |client, exchanged, now| {
            let info = exchanged
                .response
                .json(ResponseKind::RenewalInfo, client.limits(), now)?;
            Ok(RenewalSuggestion {
                info,
                retry_after: exchanged.response.retry_after(now),
            })
        })
    }
}
