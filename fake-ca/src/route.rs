//! Which resource a URL names.

use crate::FakeCa;
use crate::script::RequestKind;

/// A request's resource: its kind, the object number in the URL (from 1) and what
/// follows it (an alternate chain's index, a page cursor, an ARI certID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) kind: RequestKind,
    /// Index of the object (number in the URL minus one).
    pub(crate) index: usize,
    pub(crate) sub: usize,
    pub(crate) text: String,
}

impl Route {
    fn new(kind: RequestKind) -> Self {
        Self {
            kind,
            index: 0,
            sub: 0,
            text: String::new(),
        }
    }
}

fn number(text: &str) -> Option<usize> {
    if text.starts_with('0') {
        return None;
    }
    text.parse::<usize>().ok()?.checked_sub(1)
}

impl FakeCa {
    pub(crate) fn route(&self, url: &str) -> Route {
        let unknown = Route::new(RequestKind::Unknown);
        let Some(rest) = url.strip_prefix(self.config.base_url.as_str()) else {
            return unknown;
        };
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let segments: Vec<&str> = path.split('/').collect();
        let with = |kind, n: &str| {
            number(n).map(|index| Route {
                index,
                ..Route::new(kind)
            })
        };
        use RequestKind as K;
        let route = match (segments.as_slice(), query) {
            (["", "directory"], None) => Some(Route::new(K::Directory)),
            (["", "acme", "new-nonce"], None) => Some(Route::new(K::NewNonce)),
            (["", "acme", "new-account"], None) => Some(Route::new(K::NewAccount)),
            (["", "acme", "new-order"], None) => Some(Route::new(K::NewOrder)),
            (["", "acme", "new-authz"], None) if self.config.new_authz => {
                Some(Route::new(K::NewAuthz))
            }
            (["", "acme", "revoke-cert"], None) => Some(Route::new(K::Revoke)),
            (["", "acme", "key-change"], None) => Some(Route::new(K::KeyChange)),
            (["", "acme", "renewal-info", id], None) if self.config.ari.is_some() => Some(Route {
                text: (*id).to_owned(),
                ..Route::new(K::RenewalInfo)
            }),
            (["", "acme", "acct", n], None) => with(K::Account, n),
            (["", "acme", "acct", n, "orders"], query) => {
                let page = match query.map(|q| q.strip_prefix("cursor=")) {
                    None => Some(0),
                    Some(Some(cursor)) => cursor.parse().ok(),
                    Some(None) => None,
                };
                page.and_then(|page| with(K::AccountOrders, n).map(|r| Route { sub: page, ..r }))
            }
            (["", "acme", "order", n], None) => with(K::Order, n),
            (["", "acme", "order", n, "finalize"], None) => with(K::Finalize, n),
            (["", "acme", "authz", n], None) => with(K::Authorization, n),
            (["", "acme", "chall", n], None) => with(K::Challenge, n),
            (["", "acme", "cert", n], None) => with(K::Certificate, n),
            (["", "acme", "cert", n, alt], None) => alt
                .parse::<usize>()
                .ok()
                .filter(|alt| *alt > 0)
                .and_then(|alt| with(K::Certificate, n).map(|r| Route { sub: alt, ..r })),
            _ => None,
        };
        route.unwrap_or(unknown)
    }

    /// `{base}{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url)
    }

    pub(crate) fn account_url(&self, index: usize) -> String {
        self.url(&format!("/acme/acct/{}", index + 1))
    }

    pub(crate) fn order_url(&self, index: usize) -> String {
        self.url(&format!("/acme/order/{}", index + 1))
    }

    pub(crate) fn authz_url(&self, index: usize) -> String {
        self.url(&format!("/acme/authz/{}", index + 1))
    }

    pub(crate) fn challenge_url(&self, index: usize) -> String {
        self.url(&format!("/acme/chall/{}", index + 1))
    }

    /// The certificate URL: the primary chain at 0, alternate `k` at `k`.
    pub(crate) fn cert_url(&self, index: usize, chain: usize) -> String {
        match chain {
            0 => self.url(&format!("/acme/cert/{}", index + 1)),
            k => self.url(&format!("/acme/cert/{}/{k}", index + 1)),
        }
    }

    pub(crate) fn account_by_url(&self, url: &str) -> Option<usize> {
        let route = self.route(url);
        (route.kind == RequestKind::Account && route.index < self.accounts.len())
            .then_some(route.index)
    }
}
