//! What a challenge asks the caller to put in place, computed from the challenge, the
//! authorization and the account.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use url::{Host, Url};

use crate::crypto::{KeyAuthorization, Thumbprint, dns_account01_record_name, http01_path};
use crate::fault::{Malformed, MalformedKind, Misuse};
use crate::identifier::{DnsName, Identifier};
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
            Solution::DnsPersist01(_) => "dns-persist-01",
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
    /// if it is already in place, nothing needs to change. Its value depends on which
    /// issuer domain names the caller allows: see [`DnsPersistRecord::value`].
    DnsPersist01(DnsPersistRecord),
}

/// Which issuer domain names a dns-persist-01 record may name.
///
/// A dns-persist-01 record is long-lived: whoever it names (a CA's issuer domain name,
/// an account URI) may validate the domain for as long as the record stays. So the
/// issuer comes from the caller, never from the server alone: the server lists the
/// names it answers to, and the record names the first of the caller's names that
/// the server lists. The default is the directory URL's host (none when the host is
/// an IP address); a CA whose issuer domain name is another name (Let's Encrypt's
/// directory is at `acme-v02.api.letsencrypt.org`) needs [`PersistIssuers::only`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PersistIssuers {
    /// The directory URL's host, when it is a domain name.
    #[default]
    DirectoryHost,
    /// These names, most preferred first.
    Only(Vec<DnsName>),
}

impl PersistIssuers {
    /// Exactly these issuer domain names, most preferred first. Each must be a valid DNS
    /// name (lower-cased; no wildcard, no IP address, no trailing dot), and there must
    /// be at least one.
    pub fn only<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Result<Self, Misuse> {
        let mut valid = Vec::new();
        for name in names {
            let name = name.as_ref();
            let invalid = |reason| Misuse::InvalidIdentifier {
                value: name.chars().take(256).collect(),
                reason,
            };
            let dns = DnsName::new(name).map_err(invalid)?;
            if dns.is_wildcard() {
                return Err(invalid("an issuer domain name cannot be a wildcard"));
            }
            valid.push(dns);
        }
        if valid.is_empty() {
            return Err(Misuse::InvalidArgument(
                "at least one issuer domain name is needed",
            ));
        }
        Ok(Self::Only(valid))
    }
}

/// A dns-persist-01 record (draft-ietf-acme-dns-persist), made of this client's own
/// values: the account URI is always this client's account URL (a challenge naming
/// another is refused as [`Malformed`]), and the issuer domain name is one the caller
/// allows ([`PersistIssuers`]) among those the server lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsPersistRecord {
    name: String,
    issuer_domain_names: Vec<DnsName>,
    account_uri: Url,
    wildcard: bool,
    directory_host: Option<DnsName>,
}

impl DnsPersistRecord {
    /// The record name: `_validation-persist.{domain}`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The issuer domain names the server lists (validated DNS names, one to ten), in
    /// its order. Not all of them may be allowed: see [`issuer`](Self::issuer).
    pub fn issuer_domain_names(&self) -> &[DnsName] {
        &self.issuer_domain_names
    }

    /// The account URI the record names: this client's account URL.
    pub fn account_uri(&self) -> &Url {
        &self.account_uri
    }

    /// Whether the record carries `policy=wildcard` (a wildcard authorization).
    pub fn wildcard(&self) -> bool {
        self.wildcard
    }

    /// The issuer domain name the record names under `allowed`: the first allowed name
    /// the server lists; `None` when the server lists none of them.
    pub fn issuer(&self, allowed: &PersistIssuers) -> Option<&DnsName> {
        let listed = |name: &DnsName| self.issuer_domain_names.iter().find(|n| *n == name);
        match allowed {
            PersistIssuers::DirectoryHost => self.directory_host.as_ref().and_then(listed),
            PersistIssuers::Only(names) => names.iter().find_map(listed),
        }
    }

    /// The record's text under `allowed`: `{issuer}; accounturi={account URL}`, with
    /// `; policy=wildcard` for a wildcard authorization; `None` when the server lists
    /// no allowed issuer domain name (then the challenge cannot be answered).
    pub fn value(&self, allowed: &PersistIssuers) -> Option<String> {
        let issuer = self.issuer(allowed)?;
        let policy = if self.wildcard {
            "; policy=wildcard"
        } else {
            ""
        };
        Some(format!(
            "{}; accounturi={}{policy}",
            issuer.as_str(),
            self.account_uri.as_str()
        ))
    }
}

/// The directory URL's host, when it is a domain name: the default issuer domain name.
fn directory_host(directory: &Url) -> Option<DnsName> {
    match directory.host() {
        Some(Host::Domain(domain)) => DnsName::new(domain).ok().filter(|d| !d.is_wildcard()),
        _ => None,
    }
}

/// The offers this client can answer for a pending authorization: the known challenge
/// types that are still pending and allowed for the identifier (a wildcard is proved by
/// DNS only; an IP address by http-01 and tls-alpn-01 only, RFC 8738 §7). A
/// dns-persist-01 challenge naming another account than `account_url` is refused. Each
/// offer comes with the challenge it was made of.
pub(crate) fn offers_of<'a>(
    authorization_url: &Url,
    authorization: &'a Authorization,
    thumbprint: &Thumbprint,
    account_url: &Url,
    directory_url: &Url,
) -> Result<Vec<(ChallengeOffer, &'a KnownChallenge)>, Malformed> {
    let mut offers = Vec::new();
    for challenge in &authorization.challenges {
        if let Challenge::Known(known) = challenge
            && known.status == ChallengeStatus::Pending
            && let Some(offer) = offer(
                authorization_url,
                authorization,
                known,
                thumbprint,
                account_url,
                directory_url,
            )?
        {
            offers.push((offer, known));
        }
    }
    Ok(offers)
}

/// The offer for one challenge of an authorization, whatever its status (also used to
/// rebuild what to clean up). A dns-persist-01 challenge whose `accounturi` is not
/// `account_url` is refused: the record would authorize another account.
pub(crate) fn offer(
    authorization_url: &Url,
    authorization: &Authorization,
    challenge: &KnownChallenge,
    thumbprint: &Thumbprint,
    account_url: &Url,
    directory_url: &Url,
) -> Result<Option<ChallengeOffer>, Malformed> {
    let identifier = &authorization.identifier;
    let wildcard = authorization.wildcard;
    let (domain, is_ip) = match identifier {
        Identifier::Dns(name) => (String::from(name.without_wildcard()), false),
        Identifier::Ip(ip) => (format!("{ip}"), true),
        _ => return Ok(None),
    };
    let solution = match &challenge.kind {
        ChallengeKind::Http01 { token } => {
            token_solution(TokenKind::Http01, token, identifier, wildcard, thumbprint)
        }
        ChallengeKind::Dns01 { token } => {
            token_solution(TokenKind::Dns01, token, identifier, wildcard, thumbprint)
        }
        ChallengeKind::TlsAlpn01 { token } => token_solution(
            TokenKind::TlsAlpn01,
            token,
            identifier,
            wildcard,
            thumbprint,
        ),
        ChallengeKind::DnsAccount01 { token } if !is_ip => Some(Solution::DnsAccount01 {
            name: dns_account01_record_name(&domain, account_url.as_str()),
            value: KeyAuthorization::new(token, thumbprint).dns_txt_value(),
        }),
        ChallengeKind::DnsPersist01 {
            issuer_domain_names,
            account_uri,
        } if !is_ip => {
            // The record always names this client's account: a server naming another
            // one asks for a record that would let that account validate the domain.
            if account_uri.as_ref().is_some_and(|uri| uri != account_url) {
                return Err(Malformed::new(
                    "dns-persist-01 challenge accounturi",
                    MalformedKind::Invalid("not this client's account URL"),
                ));
            }
            // The record's parameters are `;`-separated: an account URL (the server
            // chose it) with a `;`, a space or a control character could add one, such
            // as `policy=wildcard`. Such a URL cannot be named, so there is no record.
            if !account_url
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b';')
            {
                return Ok(None);
            }
            Some(Solution::DnsPersist01(DnsPersistRecord {
                name: format!("_validation-persist.{domain}"),
                issuer_domain_names: issuer_domain_names.clone(),
                account_uri: account_url.clone(),
                wildcard,
                directory_host: directory_host(directory_url),
            }))
        }
        _ => None,
    };
    Ok(solution.map(|solution| ChallengeOffer {
        authorization: authorization_url.clone(),
        identifier: identifier.clone(),
        wildcard,
        url: challenge.url.clone(),
        solution,
    }))
}

/// The challenge types whose solution is made of their token, the identifier and the
/// account key's thumbprint alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Http01,
    Dns01,
    TlsAlpn01,
}

/// The solution of a challenge of a [`TokenKind`] for `identifier` (of an authorization,
/// so without `*.`), or `None` when the identifier does not allow that type: the one
/// place these solutions are made, both when a challenge is first offered and when a
/// [`CompactOffer`] is made whole again.
fn token_solution(
    kind: TokenKind,
    token: &ChallengeToken,
    identifier: &Identifier,
    wildcard: bool,
    thumbprint: &Thumbprint,
) -> Option<Solution> {
    let (domain, is_ip) = match identifier {
        Identifier::Dns(name) => (name.without_wildcard(), false),
        Identifier::Ip(_) => ("", true),
        _ => return None,
    };
    Some(match kind {
        TokenKind::Http01 if !wildcard => Solution::Http01 {
            token: token.clone(),
            path: http01_path(token),
            key_authorization: KeyAuthorization::new(token, thumbprint),
        },
        TokenKind::TlsAlpn01 if !wildcard => {
            let key_authorization = KeyAuthorization::new(token, thumbprint);
            let server_name = if is_ip {
                identifier.reverse_dns_name()?
            } else {
                String::from(domain)
            };
            Solution::TlsAlpn01 {
                server_name,
                digest: key_authorization.tls_alpn_digest(),
                key_authorization,
            }
        }
        TokenKind::Dns01 if !is_ip => Solution::Dns01 {
            name: format!("_acme-challenge.{domain}"),
            value: KeyAuthorization::new(token, thumbprint).dns_txt_value(),
        },
        _ => return None,
    })
}

/// An offer kept while the caller chooses, in fewer bytes than a [`ChallengeOffer`]:
/// for the [`TokenKind`]s, the challenge URL (as text) and token only, the rest being remade from
/// the authorization (its URL and identifier, kept once for all its offers) and the
/// thumbprint the offer was made with; any other offer whole.
#[derive(Debug, Clone)]
pub(crate) enum CompactOffer {
    /// An offer of a [`TokenKind`].
    Token {
        /// The challenge URL, as text: it parses back to the same URL (checked when kept).
        url: Box<str>,
        /// The type.
        kind: TokenKind,
        /// The challenge token.
        token: ChallengeToken,
    },
    /// Any other offer, or one made with another thumbprint than the order keeps.
    Whole(Box<ChallengeOffer>),
}

impl CompactOffer {
    /// `offer`, made of a challenge of `kind`, kept compactly when `compact` (the
    /// thumbprint it was made with is the one the order keeps) and its type allows.
    pub(crate) fn new(offer: &ChallengeOffer, kind: &ChallengeKind, compact: bool) -> Self {
        let token = match kind {
            ChallengeKind::Http01 { token } => Some((TokenKind::Http01, token)),
            ChallengeKind::Dns01 { token } => Some((TokenKind::Dns01, token)),
            ChallengeKind::TlsAlpn01 { token } => Some((TokenKind::TlsAlpn01, token)),
            _ => None,
        };
        match token {
            Some((kind, token))
                if compact && Url::parse(offer.url.as_str()).is_ok_and(|u| u == offer.url) =>
            {
                Self::Token {
                    url: Box::from(offer.url.as_str()),
                    kind,
                    token: token.clone(),
                }
            }
            _ => Self::Whole(Box::new(offer.clone())),
        }
    }

    /// Whether this is the offer of the challenge at `url`.
    pub(crate) fn is_at(&self, url: &Url) -> bool {
        match self {
            // URLs are equal when their texts are.
            Self::Token { url: text, .. } => **text == *url.as_str(),
            Self::Whole(offer) => offer.url == *url,
        }
    }

    /// The offer made whole again, equal to the one it was made from: `authorization_url`
    /// and `identifier` are the authorization's (its identifier as the server sent it,
    /// without `*.`), `thumbprint` the one the order keeps.
    pub(crate) fn to_offer(
        &self,
        authorization_url: &Url,
        identifier: &Identifier,
        wildcard: bool,
        thumbprint: Option<&Thumbprint>,
    ) -> Option<ChallengeOffer> {
        match self {
            Self::Whole(offer) => Some(ChallengeOffer::clone(offer)),
            Self::Token { url, kind, token } => Some(ChallengeOffer {
                authorization: authorization_url.clone(),
                identifier: identifier.clone(),
                wildcard,
                url: Url::parse(url).ok()?,
                solution: token_solution(*kind, token, identifier, wildcard, thumbprint?)?,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Jwk;
    use crate::resource::Resource;
    use alloc::vec;

    /// [`offers_of`]'s offers alone.
    fn offers(
        authorization_url: &Url,
        authorization: &Authorization,
        thumbprint: &Thumbprint,
        account_url: &Url,
        directory_url: &Url,
    ) -> Result<Vec<ChallengeOffer>, Malformed> {
        Ok(offers_of(
            authorization_url,
            authorization,
            thumbprint,
            account_url,
            directory_url,
        )?
        .into_iter()
        .map(|(offer, _)| offer)
        .collect())
    }

    const TOKEN: &str = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";

    fn authorization(identifier: &str, wildcard: bool) -> Authorization {
        with_persist(identifier, wildcard, r#""issuer-domain-names":["ca.test"]"#)
    }

    /// The authorization with these members in its dns-persist-01 challenge.
    fn with_persist(identifier: &str, wildcard: bool, persist: &str) -> Authorization {
        let json = alloc::format!(
            r#"{{"identifier":{identifier},"status":"pending","wildcard":{wildcard},"challenges":[
            {{"type":"http-01","url":"https://ca.test/c/1","status":"pending","token":"{TOKEN}"}},
            {{"type":"dns-01","url":"https://ca.test/c/2","status":"pending","token":"{TOKEN}"}},
            {{"type":"tls-alpn-01","url":"https://ca.test/c/3","status":"pending","token":"{TOKEN}"}},
            {{"type":"dns-account-01","url":"https://ca.test/c/4","status":"pending","token":"{TOKEN}"}},
            {{"type":"dns-persist-01","url":"https://ca.test/c/5","status":"pending",{persist}}},
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
        offered_by(&authorization(identifier, wildcard), "https://ca.test/dir").unwrap()
    }

    fn offered_by(
        authorization: &Authorization,
        directory: &str,
    ) -> Result<Vec<ChallengeOffer>, Malformed> {
        offered_to(authorization, directory, "https://ca.test/acct/1")
    }

    fn offered_to(
        authorization: &Authorization,
        directory: &str,
        account: &str,
    ) -> Result<Vec<ChallengeOffer>, Malformed> {
        let url = Url::parse("https://ca.test/authz/1").unwrap();
        let account = Url::parse(account).unwrap();
        offers(
            &url,
            authorization,
            &thumbprint(),
            &account,
            &Url::parse(directory).unwrap(),
        )
    }

    /// The dns-persist-01 record offered for www.example.org with these members.
    fn persist_record(persist: &str, directory: &str) -> Result<DnsPersistRecord, Malformed> {
        let authorization = with_persist(
            r#"{"type":"dns","value":"www.example.org"}"#,
            false,
            persist,
        );
        let offers = offered_by(&authorization, directory)?;
        Ok(offers
            .into_iter()
            .find_map(|o| match o.solution {
                Solution::DnsPersist01(record) => Some(record),
                _ => None,
            })
            .unwrap())
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
                Solution::DnsPersist01(record) => {
                    assert_eq!(record.name(), "_validation-persist.www.example.org");
                    assert_eq!(
                        record.value(&PersistIssuers::default()).unwrap(),
                        "ca.test; accounturi=https://ca.test/acct/1"
                    );
                }
            }
        }
    }

    /// An offer kept compactly is made whole again equal to the one given, for every
    /// type and kind of identifier; those not made of a token stay whole.
    #[test]
    fn a_compact_offer_is_made_whole_again_equal() {
        let url = Url::parse("https://ca.test/authz/1").unwrap();
        let account = Url::parse("https://ca.test/acct/1").unwrap();
        let directory = Url::parse("https://ca.test/dir").unwrap();
        let thumbprint = thumbprint();
        for (identifier, wildcard) in [
            (r#"{"type":"dns","value":"www.example.org"}"#, false),
            (r#"{"type":"dns","value":"example.org"}"#, true),
            (r#"{"type":"ip","value":"192.0.2.1"}"#, false),
            (r#"{"type":"ip","value":"2001:db8::1"}"#, false),
        ] {
            let authorization = authorization(identifier, wildcard);
            let made = offers_of(&url, &authorization, &thumbprint, &account, &directory).unwrap();
            assert!(!made.is_empty());
            for (offer, challenge) in &made {
                let compact = CompactOffer::new(offer, &challenge.kind, true);
                let token = matches!(
                    offer.solution,
                    Solution::Http01 { .. } | Solution::Dns01 { .. } | Solution::TlsAlpn01 { .. }
                );
                assert_eq!(
                    matches!(compact, CompactOffer::Token { .. }),
                    token,
                    "{offer:?}"
                );
                assert!(compact.is_at(&offer.url));
                let whole =
                    compact.to_offer(&url, &authorization.identifier, wildcard, Some(&thumbprint));
                assert_eq!(whole.as_ref(), Some(offer));
                let kept_whole = CompactOffer::new(offer, &challenge.kind, false);
                assert!(matches!(kept_whole, CompactOffer::Whole(_)));
                assert_eq!(
                    kept_whole.to_offer(&url, &authorization.identifier, wildcard, None),
                    Some(offer.clone())
                );
            }
        }
    }

    #[test]
    fn a_wildcard_is_offered_dns_only() {
        let offers = offered(r#"{"type":"dns","value":"example.org"}"#, true);
        let types: Vec<_> = offers.iter().map(ChallengeOffer::type_name).collect();
        assert_eq!(types, ["dns-01", "dns-account-01", "dns-persist-01"]);
        assert!(offers.iter().all(|o| o.wildcard));
        let Solution::DnsPersist01(record) = &offers[2].solution else {
            panic!()
        };
        assert!(record.wildcard());
        assert_eq!(
            record.value(&PersistIssuers::DirectoryHost).unwrap(),
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

    #[test]
    fn dns_persist_names_this_clients_account_only() {
        // The server's accounturi, when it is ours, changes nothing.
        let record = persist_record(
            r#""issuer-domain-names":["ca.test"],"accounturi":"https://ca.test/acct/1""#,
            "https://ca.test/dir",
        )
        .unwrap();
        assert_eq!(record.account_uri().as_str(), "https://ca.test/acct/1");
        // Another account's is refused, naming the member.
        for other in [
            "https://ca.test/acct/2",
            "https://evil.example/acct/1",
            "https://ca.test/acct/1/",
        ] {
            let error = persist_record(
                &alloc::format!(r#""issuer-domain-names":["ca.test"],"accounturi":"{other}""#),
                "https://ca.test/dir",
            )
            .unwrap_err();
            assert_eq!(
                error.context, "dns-persist-01 challenge accounturi",
                "{other}"
            );
        }
    }

    #[test]
    fn an_account_url_that_would_add_a_parameter_is_never_named() {
        let authorization = authorization(r#"{"type":"dns","value":"www.example.org"}"#, false);
        for account in [
            "https://ca.test/acct/1;policy=wildcard",
            "https://ca.test/acct/1?a=1;%20policy=wildcard",
        ] {
            let offers = offered_to(&authorization, "https://ca.test/dir", account).unwrap();
            let types: Vec<_> = offers.iter().map(ChallengeOffer::type_name).collect();
            assert_eq!(
                types,
                ["http-01", "dns-01", "tls-alpn-01", "dns-account-01"],
                "{account}"
            );
        }
        // Everything else a URL may hold is kept.
        let account = "https://ca.test/acct/1?x=%3B&y=[a]~!$'()*+,=:@";
        let offers = offered_to(&authorization, "https://ca.test/dir", account).unwrap();
        let record = offers
            .iter()
            .find_map(|o| match &o.solution {
                Solution::DnsPersist01(record) => Some(record),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            record.account_uri().as_str(),
            Url::parse(account).unwrap().as_str()
        );
    }

    #[test]
    fn dns_persist_issuer_is_one_the_caller_allows() {
        let names = r#""issuer-domain-names":["evil.example","ca.test","other.example"]"#;
        let record = persist_record(names, "https://CA.test:8443/dir").unwrap();
        assert_eq!(record.issuer_domain_names().len(), 3);
        // By default, the directory's host, wherever the server lists it.
        let default = PersistIssuers::default();
        assert_eq!(record.issuer(&default).unwrap().as_str(), "ca.test");
        assert!(record.value(&default).unwrap().starts_with("ca.test; "));
        // An explicit list: the first of the caller's names the server lists.
        let only = PersistIssuers::only(["absent.example", "other.example", "ca.test"]).unwrap();
        assert_eq!(record.issuer(&only).unwrap().as_str(), "other.example");
        let none = PersistIssuers::only(["absent.example"]).unwrap();
        assert_eq!(record.value(&none), None);
        // A server listing only names the caller does not allow: nothing to publish.
        let record = persist_record(
            r#""issuer-domain-names":["evil.example"]"#,
            "https://ca.test/dir",
        )
        .unwrap();
        assert_eq!(record.value(&default), None);
        // A directory on an IP address has no default issuer domain name.
        let record = persist_record(names, "https://192.0.2.1/dir").unwrap();
        assert_eq!(record.issuer(&default), None);
        let record = persist_record(names, "https://[2001:db8::1]/dir").unwrap();
        assert_eq!(record.issuer(&default), None);
    }

    #[test]
    fn dns_persist_issuers_must_be_dns_names() {
        for bad in [
            "",
            "ca..test",
            "*.ca.test",
            "192.0.2.1",
            "ca.test.",
            "ca test",
            "ca\ntest",
        ] {
            assert!(PersistIssuers::only([bad]).is_err(), "{bad:?}");
        }
        assert!(PersistIssuers::only(Vec::<&str>::new()).is_err());
        assert_eq!(
            PersistIssuers::only(["CA.Test"]).unwrap(),
            PersistIssuers::Only(vec![DnsName::new("ca.test").unwrap()])
        );
    }
}
