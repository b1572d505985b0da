//! What a request is, before it is one: where it goes ([`Endpoint`], resolved against
//! the directory), what it carries ([`Body`], [`Payload`]) and which key signs it
//! ([`KeyChoice`]). An [`Exchange`](super::exchange::Exchange) turns a [`Spec`] into
//! requests, resends included.

use alloc::string::String;
use alloc::vec::Vec;

use url::Url;

use crate::error::Error;
use crate::fault::Misuse;
use crate::limits::ResponseKind;
use crate::resource::Directory;
use crate::wire::Method;

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// A URL the server gave (an order, an authorization, …).
    Url(Url),
    /// The directory's `newAccount`.
    NewAccount,
    /// The directory's `newOrder`.
    NewOrder,
    /// The directory's `newAuthz` (pre-authorization).
    NewAuthz,
    /// The directory's `revokeCert`.
    RevokeCert,
    /// The directory's `keyChange`.
    KeyChange,
    /// The directory's `renewalInfo`, followed by `/` and this certID (RFC 9773 §4.1).
    RenewalInfo(crate::certificate::CertId),
}

/// Which key signs, and how it is named in the JWS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyChoice {
    /// The account key, named by the account URL (`kid`): almost every request.
    AccountKid,
    /// The account key, with its JWK: `newAccount`.
    AccountJwk,
    /// The operation's own key, with its JWK: revocation by certificate key, and a key
    /// rollover's lookup of the account by the new key.
    OtherJwk,
}

/// What a signed request carries.
#[derive(Debug)]
pub(crate) enum Payload {
    /// JSON bytes.
    Json(Vec<u8>),
    /// Nothing: POST-as-GET (RFC 8555 §6.3).
    PostAsGet,
    /// The nested JWS of a key change; the operation's own key is the new key.
    KeyChange,
    /// A `newAccount` payload, built at send time: its External Account Binding must
    /// name the `newAccount` URL, known only once the directory is.
    NewAccount(NewAccountPayload),
}

/// The members of a `newAccount` request (RFC 8555 §7.3).
#[derive(Debug, Default)]
pub(crate) struct NewAccountPayload {
    pub(crate) contact: Vec<String>,
    pub(crate) terms_of_service_agreed: bool,
    pub(crate) only_return_existing: bool,
    pub(crate) external_account_binding: Option<crate::crypto::ExternalAccountBinding>,
}

impl NewAccountPayload {
    pub(crate) fn to_json(
        &self,
        account_jwk: &crate::crypto::Jwk,
        url: &str,
    ) -> Result<Vec<u8>, Error> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Json<'a> {
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            contact: &'a [String],
            #[serde(skip_serializing_if = "core::ops::Not::not")]
            terms_of_service_agreed: bool,
            #[serde(skip_serializing_if = "core::ops::Not::not")]
            only_return_existing: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            external_account_binding: Option<crate::crypto::FlattenedJws>,
        }
        let external_account_binding = match &self.external_account_binding {
            Some(eab) => Some(eab.sign(account_jwk, url)?),
            None => None,
        };
        let json = Json {
            contact: &self.contact,
            terms_of_service_agreed: self.terms_of_service_agreed,
            only_return_existing: self.only_return_existing,
            external_account_binding,
        };
        serde_json::to_vec(&json).map_err(|_| {
            crate::fault::CryptoError::new("newAccount payload serialization failed").into()
        })
    }
}

/// The body of a request.
#[derive(Debug)]
pub(crate) enum Body {
    /// No body: GET and HEAD.
    Empty,
    /// A flattened JWS.
    Signed {
        /// What is signed.
        payload: Payload,
        /// Who signs.
        key: KeyChoice,
    },
}

/// Everything needed to send one request, again and again if the policy says so.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) method: Method,
    pub(crate) endpoint: Endpoint,
    pub(crate) kind: ResponseKind,
    pub(crate) body: Body,
    /// Whether sending it again after a transport failure is safe.
    pub(crate) resend_on_transport_failure: bool,
}

impl Spec {
    /// A POST-as-GET of a resource: safe to resend.
    pub(crate) fn fetch(url: Url, kind: ResponseKind) -> Self {
        Self {
            method: Method::Post,
            endpoint: Endpoint::Url(url),
            kind,
            body: Body::Signed {
                payload: Payload::PostAsGet,
                key: KeyChoice::AccountKid,
            },
            resend_on_transport_failure: true,
        }
    }

    /// A POST of `payload` signed with the account's `kid`.
    pub(crate) fn post(
        endpoint: Endpoint,
        kind: ResponseKind,
        payload: Vec<u8>,
        resend: bool,
    ) -> Self {
        Self {
            method: Method::Post,
            endpoint,
            kind,
            body: Body::Signed {
                payload: Payload::Json(payload),
                key: KeyChoice::AccountKid,
            },
            resend_on_transport_failure: resend,
        }
    }

    pub(crate) fn is_signed(&self) -> bool {
        matches!(self.body, Body::Signed { .. })
    }
}

/// The URL `endpoint` names, from the directory where it is one of its resources.
pub(crate) fn resolve(endpoint: &Endpoint, directory: Option<&Directory>) -> Result<Url, Error> {
    let missing = |what| Error::Misuse(Misuse::Unsupported(what));
    if let Endpoint::Url(url) = endpoint {
        return Ok(url.clone());
    }
    let directory = directory.ok_or(missing("the directory has not been fetched"))?;
    match endpoint {
        Endpoint::Url(url) => Ok(url.clone()),
        Endpoint::NewAccount => Ok(directory.new_account.clone()),
        Endpoint::NewOrder => Ok(directory.new_order.clone()),
        Endpoint::NewAuthz => directory
            .new_authz
            .clone()
            .ok_or(missing("the server does not offer newAuthz")),
        Endpoint::RevokeCert => directory
            .revoke_cert
            .clone()
            .ok_or(missing("the server does not offer revokeCert")),
        Endpoint::KeyChange => directory
            .key_change
            .clone()
            .ok_or(missing("the server does not offer keyChange")),
        Endpoint::RenewalInfo(cert_id) => {
            let base = directory
                .renewal_info
                .as_ref()
                .ok_or(missing("the server does not offer renewalInfo (ARI)"))?;
            Ok(crate::certificate::renewal_info_url(base, cert_id)?)
        }
    }
}
