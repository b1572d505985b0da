//! What a challenge asks the caller to put in place, computed from the challenge, the
//! authorization and the account.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use url::Url;

use crate::crypto::{KeyAuthorization, Thumbprint, dns_account01_record_name, http01_path};
use crate::identifier::Identifier;
use crate::resource::{Authorization, Challenge, ChallengeKind, KnownChallenge};
use crate::status::ChallengeStatus;
use crate::token::ChallengeToken;

/// One way to prove control of an identifier, ready to be provisioned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChallengeOffer {
    /// The authorization it belongs to.
    pub authorization: Url,
    /// The identifier being authorized (for a wildcard, the name without `*.`).
    pub identifier: Identifier,
    /// Whether the authorization is for a wildcard name.
    pub wildcard: bool,
    /// The challenge URL: pass it to the operation once the solution is in place.
    pub url: Url,
    /// What to put in place.
    pub solution: Solution,
}

impl ChallengeOffer {
    /// The challenge type, as the server names it (`http-01`, `dns-01`, …).
    pub fn type_name(&self) -> &'static str {
        match self.solution {
            Solution::Http01 { .. } => "http-01",
            Solution::Dns01 { .. } => "dns-01",
            Solution::TlsAlpn01 { .. } => "tls-alpn-01",
            Solution::DnsAccount01 { .. } => "dns-account-01",
            Solution::DnsPersist01 { .. } => "dns-persist-01",
        }
    }
}

/// What to put in place for a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Solution {
    /// Serve `key_authorization` as the body of `GET http://{identifier}{path}`
    /// (RFC 8555 §8.3).
    Http01 {
        /// The token; safe in a path (base64url only).
        token: ChallengeToken,
        /// `/.well-known/acme-challenge/{token}`.
        path: String,
        /// The response body.
        key_authorization: KeyAuthorization,
    },
    /// A TXT record `name` with `value` (RFC 8555 §8.4).
    Dns01 {
        /// `_acme-challenge.{domain}`.
        name: String,
        /// base64url SHA-256 of the key authorization.
        value: String,
    },
    /// A TLS server on port 443 answering ALPN `acme-tls/1` for `server_name` with a
    /// certificate carrying the critical `acmeIdentifier` extension (RFC 8737).
    TlsAlpn01 {
        /// The SNI to answer: the domain, or for an IP address its reverse-DNS name (RFC 8738 §6).
        server_name: String,
        /// The `acmeIdentifier` extension's value: SHA-256 of the key authorization.
        digest: [u8; 32],
        /// The key authorization the digest is made from.
        key_authorization: KeyAuthorization,
    },
    /// A TXT record `name` with `value`, the name bound to the account
    /// (draft-ietf-acme-dns-account-label).
    DnsAccount01 {
        /// `_{label}._acme-challenge.{domain}`.
        name: String,
        /// base64url SHA-256 of the key authorization.
        value: String,
    },
    /// A persistent TXT record naming the CA and the account (draft-ietf-acme-dns-persist);
    /// if it is already in place, nothing needs to change.
    DnsPersist01 {
        /// `_validation-persist.{domain}`.
        name: String,
        /// `{issuer-domain-name}; accounturi={account URL}`, with `; policy=wildcard`
        /// for a wildcard authorization.
        value: String,
    },
}

/// The offers this client can answer for a pending authorization: the known challenge
/// types that are still pending and allowed for the identifier (a wildcard is proved by
/// DNS only; an IP address by http-01 and tls-alpn-01 only, RFC 8738 §7).
pub(crate) fn offers(
    authorization_url: &Url,
    authorization: &Authorization,
    thumbprint: &Thumbprint,
    account_url: &Url,
) -> Vec<ChallengeOffer> {
    authorization
        .challenges
        .iter()
        .filter_map(|challenge| match challenge {
            Challenge::Known(known) if known.status == ChallengeStatus::Pending => offer(
                authorization_url,
                authorization,
                known,
                thumbprint,
                account_url,
            ),
            _ => None,
        })
        .collect()
}

/// The offer for one challenge of an authorization, whatever its status (also used to
/// rebuild what to clean up).
pub(crate) fn offer(
    authorization_url: &Url,
    authorization: &Authorization,
    challenge: &KnownChallenge,
    thumbprint: &Thumbprint,
    account_url: &Url,
) -> Option<ChallengeOffer> {
    let identifier = &authorization.identifier;
    let wildcard = authorization.wildcard;
    let (domain, is_ip) = match identifier {
        Identifier::Dns(name) => (String::from(name.without_wildcard()), false),
        Identifier::Ip(ip) => (format!("{ip}"), true),
        _ => return None,
    };
    let solution = match &challenge.kind {
        ChallengeKind::Http01 { token } if !wildcard => Solution::Http01 {
            token: token.clone(),
            path: http01_path(token),
            key_authorization: KeyAuthorization::new(token, thumbprint),
        },
        ChallengeKind::TlsAlpn01 { token } if !wildcard => {
            let key_authorization = KeyAuthorization::new(token, thumbprint);
            let server_name = if is_ip {
                identifier.reverse_dns_name()?
            } else {
                domain
            };
            Solution::TlsAlpn01 {
                server_name,
                digest: key_authorization.tls_alpn_digest(),
                key_authorization,
            }
        }
        ChallengeKind::Dns01 { token } if !is_ip => Solution::Dns01 {
            name: format!("_acme-challenge.{domain}"),
            value: KeyAuthorization::new(token, thumbprint).dns_txt_value(),
        },
        ChallengeKind::DnsAccount01 { token } if !is_ip => Solution::DnsAccount01 {
            name: dns_account01_record_name(&domain, account_url.as_str()),
            value: KeyAuthorization::new(token, thumbprint).dns_txt_value(),
        },
        ChallengeKind::DnsPersist01 {
            issuer_domain_names,
            account_uri,
        } if !is_ip => {
            let issuer = issuer_domain_names.first()?;
            // The server may name the account URI the record must carry; ours otherwise.
            let account_url = account_uri.as_ref().unwrap_or(account_url);
            let policy = if wildcard { "; policy=wildcard" } else { "" };
            Solution::DnsPersist01 {
                name: format!("_validation-persist.{domain}"),
                value: format!(
                    "{}; accounturi={}{policy}",
                    issuer.as_str(),
                    account_url.as_str()
                ),
            }
        }
        _ => return None,
    };
    Some(ChallengeOffer {
        authorization: authorization_url.clone(),
        identifier: identifier.clone(),
        wildcard,
        url: challenge.url.clone(),
        solution,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Jwk;
    use crate::resource::Resource;
    use alloc::vec;

    const TOKEN: &str = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";

    fn authorization(identifier: &str, wildcard: bool) -> Authorization {
        let json = alloc::format!(
            r#"{{"identifier":{identifier},"status":"pending","wildcard":{wildcard},"challenges":[
            {{"type":"http-01","url":"https://ca.test/c/1","status":"pending","token":"{TOKEN}"}},
            {{"type":"dns-01","url":"https://ca.test/c/2","status":"pending","token":"{TOKEN}"}},
            {{"type":"tls-alpn-01","url":"https://ca.test/c/3","status":"pending","token":"{TOKEN}"}},
            {{"type":"dns-account-01","url":"https://ca.test/c/4","status":"pending","token":"{TOKEN}"}},
            {{"type":"dns-persist-01","url":"https://ca.test/c/5","status":"pending","issuer-domain-names":["ca.test"]}},
            {{"type":"brand-new-01","url":"https://ca.test/c/6","status":"pending"}},
            {{"type":"http-01","url":"https://ca.test/c/7","status":"valid","token":"{TOKEN}"}}]}}"#
        );
        Authorization::from_json(json.as_bytes()).unwrap()
    }

    fn thumbprint() -> Thumbprint {
        // RFC 7638 §3.1's example key.
        Jwk::from_json(br#"{"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}"#)
            .unwrap()
            .thumbprint()
    }

    fn offered(identifier: &str, wildcard: bool) -> Vec<ChallengeOffer> {
        let url = Url::parse("https://ca.test/authz/1").unwrap();
        let account = Url::parse("https://ca.test/acct/1").unwrap();
        offers(
            &url,
            &authorization(identifier, wildcard),
            &thumbprint(),
            &account,
        )
    }

    #[test]
    fn a_name_is_offered_every_known_pending_type() {
        let offers = offered(r#"{"type":"dns","value":"www.example.org"}"#, false);
        let types: Vec<_> = offers.iter().map(ChallengeOffer::type_name).collect();
        // Not the unknown type, not the challenge that is already valid.
        assert_eq!(
            types,
            [
                "http-01",
                "dns-01",
                "tls-alpn-01",
                "dns-account-01",
                "dns-persist-01"
            ]
        );
        let key_authorization =
            alloc::format!("{TOKEN}.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        for offer in &offers {
            match &offer.solution {
                Solution::Http01 {
                    path,
                    key_authorization: ka,
                    ..
                } => {
                    assert_eq!(path, &alloc::format!("/.well-known/acme-challenge/{TOKEN}"));
                    assert_eq!(ka.as_str(), key_authorization);
                }
                Solution::Dns01 { name, value } => {
                    assert_eq!(name, "_acme-challenge.www.example.org");
                    assert_eq!(
                        value,
                        &KeyAuthorization::new(&ChallengeToken::new(TOKEN).unwrap(), &thumbprint())
                            .dns_txt_value()
                    );
                }
                Solution::TlsAlpn01 {
                    server_name,
                    digest,
                    key_authorization: ka,
                } => {
                    assert_eq!(server_name, "www.example.org");
                    assert_eq!(digest, &ka.tls_alpn_digest());
                }
                Solution::DnsAccount01 { name, value } => {
                    assert_eq!(
                        name,
                        &dns_account01_record_name("www.example.org", "https://ca.test/acct/1")
                    );
                    assert!(name.ends_with("._acme-challenge.www.example.org"), "{name}");
                    assert_eq!(value.len(), 43);
                }
                Solution::DnsPersist01 { name, value } => {
                    assert_eq!(name, "_validation-persist.www.example.org");
                    assert_eq!(value, "ca.test; accounturi=https://ca.test/acct/1");
                }
            }
        }
    }

    #[test]
    fn a_wildcard_is_offered_dns_only() {
        let offers = offered(r#"{"type":"dns","value":"example.org"}"#, true);
        let types: Vec<_> = offers.iter().map(ChallengeOffer::type_name).collect();
        assert_eq!(types, ["dns-01", "dns-account-01", "dns-persist-01"]);
        assert!(offers.iter().all(|o| o.wildcard));
        let Solution::DnsPersist01 { value, .. } = &offers[2].solution else {
            panic!()
        };
        assert_eq!(
            value,
            "ca.test; accounturi=https://ca.test/acct/1; policy=wildcard"
        );
    }

    #[test]
    fn an_ip_address_is_offered_http_and_tls_only() {
        let offers = offered(r#"{"type":"ip","value":"2001:db8::1"}"#, false);
        let types: Vec<_> = offers.iter().map(ChallengeOffer::type_name).collect();
        assert_eq!(types, ["http-01", "tls-alpn-01"]);
        let Solution::TlsAlpn01 { server_name, .. } = &offers[1].solution else {
            panic!()
        };
        assert!(server_name.ends_with(".ip6.arpa"), "{server_name}");
        let _ = vec![0];
    }
}
