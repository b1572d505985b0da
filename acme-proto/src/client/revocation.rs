//! Revocation (RFC 8555 §7.6), signed by the account key or by the certificate's own key.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::Client;
use super::exchange::{Body, Endpoint, KeyChoice, Payload, Spec};
use super::single_request::SingleRequest;
use crate::b64;
use crate::crypto::Signer;
use crate::fault::Misuse;
use crate::limits::ResponseKind;
use crate::wire::Method;

/// Why a certificate is revoked: the CRL reason codes of RFC 5280 §5.3.1 that ACME allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationReason {
    /// `unspecified` (0).
    Unspecified,
    /// `keyCompromise` (1): the private key is known to others.
    KeyCompromise,
    /// `cACompromise` (2).
    CaCompromise,
    /// `affiliationChanged` (3).
    AffiliationChanged,
    /// `superseded` (4): replaced by another certificate.
    Superseded,
    /// `cessationOfOperation` (5): no longer needed.
    CessationOfOperation,
    /// `certificateHold` (6).
    CertificateHold,
    /// `removeFromCRL` (8).
    RemoveFromCrl,
    /// `privilegeWithdrawn` (9).
    PrivilegeWithdrawn,
    /// `aACompromise` (10).
    AaCompromise,
}

impl RevocationReason {
    /// The reason code as sent (RFC 5280 §5.3.1; 7 is unused).
    pub const fn code(self) -> u8 {
        match self {
            Self::Unspecified => 0,
            Self::KeyCompromise => 1,
            Self::CaCompromise => 2,
            Self::AffiliationChanged => 3,
            Self::Superseded => 4,
            Self::CessationOfOperation => 5,
            Self::CertificateHold => 6,
            Self::RemoveFromCrl => 8,
            Self::PrivilegeWithdrawn => 9,
            Self::AaCompromise => 10,
        }
    }
}

impl Client {
    /// Revokes a certificate (DER) of this account, signed by the account key.
    pub fn revoke(
        &self,
        certificate_der: &[u8],
        reason: Option<RevocationReason>,
    ) -> Result<SingleRequest<()>, Misuse> {
        if self.account_url().is_none() {
            return Err(Misuse::InvalidArgument(
                "no account yet: create or find the account first",
            ));
        }
        Ok(revocation(certificate_der, reason, KeyChoice::AccountKid))
    }

    /// Revokes a certificate (DER) with a request signed by the certificate's own private
    /// key, with no account involved (RFC 8555 §7.6): for a certificate whose account
    /// key is lost, or one issued to another account.
    pub fn revoke_with_certificate_key(
        &self,
        certificate_der: &[u8],
        reason: Option<RevocationReason>,
        certificate_key: Box<dyn Signer + Send + Sync>,
    ) -> SingleRequest<()> {
        revocation(certificate_der, reason, KeyChoice::OtherJwk).with_other_key(certificate_key)
    }
}

fn revocation(
    certificate_der: &[u8],
    reason: Option<RevocationReason>,
    key: KeyChoice,
) -> SingleRequest<()> {
    let mut payload: Vec<u8> =
        alloc::format!(r#"{{"certificate":"{}""#, b64::encode(certificate_der)).into_bytes();
    if let Some(reason) = reason {
        payload.extend_from_slice(alloc::format!(r#","reason":{}"#, reason.code()).as_bytes());
    }
    payload.push(b'}');
    let spec = Spec {
        method: Method::Post,
        endpoint: Endpoint::RevokeCert,
        kind: ResponseKind::Empty,
        body: Body::Signed {
            payload: Payload::Json(payload),
            key,
        },
        // A resend after the server revoked would answer alreadyRevoked, hiding success.
        resend_on_transport_failure: false,
    };
    SingleRequest::new("revocation", spec, |_, _, _| Ok(()))
}
