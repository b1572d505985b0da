//! Orders, authorizations and challenges: creation (with reuse and pre-authorization),
//! POST-as-GET, challenge responses with scripted outcomes, polling, deactivation.

use std::net::IpAddr;

use acme_proto::UnixTime;
use serde_json::{Value, json};

use crate::FakeCa;
use crate::inspect::OrderView;
use crate::jws::{Verified, b64e};
use crate::model::{Authz, AuthzStatus, Challenge, ChallengeStatus, Ident, Order, OrderState};
use crate::reply::{Problem, Reply};
use crate::script::{Fault, RequestKind};

/// One identifier of a request, checked and normalized (RFC 8555 §7.1.4, RFC 8738).
fn identifier(value: &Value, wildcard_allowed: bool) -> Result<Ident, Problem> {
    let kind = value.get("type").and_then(Value::as_str);
    let text = value
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| Problem::malformed("an identifier has no value").violation())?;
    match kind {
        Some("dns") => {
            let name = text.to_ascii_lowercase();
            let base = name.strip_prefix("*.").unwrap_or(&name);
            if base.len() != name.len() && !wildcard_allowed {
                return Err(Problem::new(400, "rejectedIdentifier", "no wildcard here"));
            }
            let labels_ok = base.len() <= 253
                && base.split('.').count() >= 2
                && base.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            if !labels_ok {
                return Err(Problem::new(
                    400,
                    "rejectedIdentifier",
                    format!("not a DNS name: {text:?}"),
                ));
            }
            Ok(Ident {
                kind: "dns",
                value: name,
            })
        }
        Some("ip") => {
            let ip: IpAddr = text
                .parse()
                .map_err(|_| Problem::malformed(format!("not an IP address: {text:?}")))?;
            Ok(Ident {
                kind: "ip",
                value: ip.to_string(),
            })
        }
        Some(other) => Err(Problem::new(
            400,
            "unsupportedIdentifier",
            format!("identifier type {other:?} is not supported"),
        )),
        None => Err(Problem::malformed("an identifier has no type").violation()),
    }
}

fn challenge_types(ident: &Ident, wildcard: bool) -> &'static [&'static str] {
    match (ident.kind, wildcard) {
        ("ip", _) => &["http-01", "tls-alpn-01"],
        (_, true) => &["dns-01"],
        _ => &["http-01", "dns-01", "tls-alpn-01"],
    }
}

impl FakeCa {
    fn create_authz(
        &mut self,
        account: usize,
        ident: &Ident,
        now: UnixTime,
        pre_authorized: bool,
    ) -> usize {
        let wildcard = ident.is_wildcard();
        let base = ident.base();
        let index = self.authzs.len();
        let mut challenges = Vec::new();
        let persist = (base.kind == "dns" && !self.config.dns_persist_issuers.is_empty())
            .then_some(&"dns-persist-01");
        for kind in challenge_types(&base, wildcard).iter().chain(persist) {
            let n = self.challenges.len();
            challenges.push(n);
            self.challenges.push(Challenge {
                authz: index,
                kind,
                token: b64e(crate::derive(self.config.seed, "token", n as u64)),
                status: ChallengeStatus::Pending,
                validated: None,
                error: None,
            });
        }
        self.authzs.push(Authz {
            account,
            identifier: base,
            wildcard,
            status: AuthzStatus::Pending,
            expires: now.saturating_add(self.config.authz_lifetime),
            challenges,
            pre_authorized,
            validation: None,
        });
        index
    }

    /// An authorization the order may reuse: valid (when reuse is on, or it was
    /// pre-authorized), or a pending pre-authorization.
    fn reusable_authz(&self, account: usize, ident: &Ident, now: UnixTime) -> Option<usize> {
        let (base, wildcard) = (ident.base(), ident.is_wildcard());
        self.authzs.iter().position(|a| {
            a.account == account
                && a.identifier == base
                && a.wildcard == wildcard
                && a.expires > now
                && match a.status {
                    AuthzStatus::Valid => self.config.authz_reuse || a.pre_authorized,
                    AuthzStatus::Pending => a.pre_authorized,
                    _ => false,
                }
        })
    }

    pub(crate) fn new_order(&mut self, v: &Verified, now: UnixTime) -> Result<Reply, Problem> {
        let account = v.account.ok_or_else(|| Problem::malformed("no account"))?;
        let payload = v.object()?;
        let list = payload
            .get("identifiers")
            .and_then(Value::as_array)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| {
                Problem::malformed("identifiers must be a non-empty array").violation()
            })?;
        let mut identifiers = Vec::new();
        for value in list {
            let ident = identifier(value, true)?;
            if identifiers.contains(&ident) {
                return Err(Problem::malformed(format!(
                    "duplicate identifier {:?}",
                    ident.value
                )));
            }
            identifiers.push(ident);
        }
        let time = |name: &str| -> Result<Option<UnixTime>, Problem> {
            match payload.get(name) {
                None => Ok(None),
                Some(t) => t
                    .as_str()
                    .and_then(|t| UnixTime::parse_rfc3339(t).ok())
                    .map(Some)
                    .ok_or_else(|| {
                        Problem::malformed(format!("{name} is not an RFC 3339 time")).violation()
                    }),
            }
        };
        let (not_before, not_after) = (time("notBefore")?, time("notAfter")?);
        if let (Some(nb), Some(na)) = (not_before, not_after)
            && nb >= na
        {
            return Err(Problem::malformed("notBefore is not before notAfter"));
        }
        let profile = match payload.get("profile") {
            None => None,
            Some(p) => {
                let name = p.as_str().unwrap_or_default();
                if !self.config.profiles.iter().any(|(n, _)| n == name) {
                    return Err(Problem::new(
                        400,
                        "invalidProfile",
                        format!("unknown profile {p}"),
                    ));
                }
                Some(name.to_owned())
            }
        };
        let replaces = match (payload.get("replaces"), self.config.ari.is_some()) {
            (Some(r), true) => Some(self.check_replaces(r, account, &identifiers)?),
            _ => None,
        };
        if let Some(Fault::OrderIdentifiers(list)) = self.outcome(RequestKind::NewOrder, |f| {
            matches!(f, Fault::OrderIdentifiers(_))
        }) {
            identifiers = list
                .iter()
                .map(|(kind, value)| identifier(&json!({"type": kind, "value": value}), true))
                .collect::<Result<_, _>>()?;
        }
        let mut authz_idents = identifiers.clone();
        if let Some(Fault::AuthorizationFor(name)) = self.outcome(RequestKind::NewOrder, |f| {
            matches!(f, Fault::AuthorizationFor(_))
        }) && let Some(first) = authz_idents.first_mut()
        {
            *first = Ident {
                kind: "dns",
                value: name.to_ascii_lowercase(),
            };
        }
        let mut authzs: Vec<usize> = authz_idents
            .iter()
            .map(|ident| {
                self.reusable_authz(account, ident, now)
                    .unwrap_or_else(|| self.create_authz(account, ident, now, false))
            })
            .collect();
        if let Some(Fault::ForeignAuthorizations(n)) = self.outcome(RequestKind::NewOrder, |f| {
            matches!(f, Fault::ForeignAuthorizations(_))
        }) {
            for k in 0..n {
                let foreign = Ident {
                    kind: "dns",
                    value: format!("foreign-{k}.example"),
                };
                authzs.push(self.create_authz(account, &foreign, now, false));
            }
        }
        let index = self.orders.len();
        if let Some(cert) = &replaces {
            let cert = self.cert_by_id(cert).expect("checked by check_replaces");
            self.certs[cert].public.replaced_by = Some(self.order_url(index));
        }
        self.orders.push(Order {
            account,
            identifiers,
            authzs,
            expires: now.saturating_add(self.config.order_lifetime),
            not_before,
            not_after,
            profile,
            replaces,
            state: OrderState::Open,
            certificate: None,
        });
        self.accounts[account].orders.push(index);
        Ok(self
            .order_reply(201, index)
            .header("Location", self.order_url(index)))
    }

    pub(crate) fn new_authz(&mut self, v: &Verified, now: UnixTime) -> Result<Reply, Problem> {
        let account = v.account.ok_or_else(|| Problem::malformed("no account"))?;
        let payload = v.object()?;
        let value = payload
            .get("identifier")
            .ok_or_else(|| Problem::malformed("newAuthz needs an identifier").violation())?;
        let mut ident = identifier(value, false)?;
        if let Some(Fault::AuthorizationFor(name)) = self.outcome(RequestKind::NewAuthz, |f| {
            matches!(f, Fault::AuthorizationFor(_))
        }) {
            ident = Ident {
                kind: "dns",
                value: name.to_ascii_lowercase(),
            };
        }
        let index = self.create_authz(account, &ident, now, true);
        Ok(Reply::json(201, &self.authz_json(index)).header("Location", self.authz_url(index)))
    }

    pub(crate) fn order_status(&self, order: usize) -> &'static str {
        let o = &self.orders[order];
        match o.state {
            OrderState::Processing { .. } => "processing",
            OrderState::Valid => "valid",
            OrderState::Open => {
                let statuses: Vec<AuthzStatus> =
                    o.authzs.iter().map(|a| self.authzs[*a].status).collect();
                if statuses
                    .iter()
                    .any(|s| matches!(s, AuthzStatus::Invalid | AuthzStatus::Deactivated))
                {
                    "invalid"
                } else if statuses.iter().all(|s| *s == AuthzStatus::Valid) {
                    "ready"
                } else {
                    "pending"
                }
            }
        }
    }

    fn order_json(&self, order: usize) -> Value {
        let o = &self.orders[order];
        let mut doc = json!({
            "status": self.order_status(order),
            "expires": o.expires.to_string(),
            "identifiers": o.identifiers.iter().map(Ident::json).collect::<Vec<_>>(),
            "authorizations": o.authzs.iter().map(|a| self.authz_url(*a)).collect::<Vec<_>>(),
            "finalize": self.url(&format!("/acme/order/{}/finalize", order + 1)),
        });
        let map = doc.as_object_mut().expect("a JSON object");
        if let Some(t) = o.not_before {
            map.insert("notBefore".into(), json!(t.to_string()));
        }
        if let Some(t) = o.not_after {
            map.insert("notAfter".into(), json!(t.to_string()));
        }
        if let Some(p) = &o.profile {
            map.insert("profile".into(), json!(p));
        }
        if let Some(r) = &o.replaces {
            map.insert("replaces".into(), json!(r));
        }
        if let (OrderState::Valid, Some(cert)) = (o.state, o.certificate) {
            map.insert("certificate".into(), json!(self.cert_url(cert, 0)));
        }
        if self.order_status(order) == "invalid" {
            let error = o.authzs.iter().find_map(|a| {
                let a = &self.authzs[*a];
                a.challenges
                    .iter()
                    .find_map(|c| self.challenges[*c].error.clone())
            });
            map.insert(
                "error".into(),
                error.unwrap_or_else(|| {
                    Problem::unauthorized("an authorization is not valid").document()
                }),
            );
        }
        doc
    }

    pub(crate) fn order_reply(&self, status: u16, order: usize) -> Reply {
        let reply = Reply::json(status, &self.order_json(order));
        match (self.order_status(order), self.config.poll_retry_after) {
            ("processing", Some(secs)) => reply.header("Retry-After", secs.to_string()),
            _ => reply,
        }
    }

    pub(crate) fn order(
        &mut self,
        order: usize,
        v: &Verified,
        now: UnixTime,
    ) -> Result<Reply, Problem> {
        let o = self.orders.get(order).ok_or_else(Problem::not_found)?;
        self.owner(v, o.account)?;
        v.require_empty()?;
        for a in o.authzs.clone() {
            self.poll_authz(a, now);
        }
        let o = &mut self.orders[order];
        if let OrderState::Processing { polls_left } = o.state {
            o.state = match polls_left {
                0 => OrderState::Valid,
                n => OrderState::Processing { polls_left: n - 1 },
            };
        }
        Ok(self.order_reply(200, order))
    }

    fn authz_json(&self, authz: usize) -> Value {
        let a = &self.authzs[authz];
        let mut doc = json!({
            "status": a.status.name(),
            "expires": a.expires.to_string(),
            "identifier": a.identifier.json(),
            "challenges": a.challenges.iter().map(|c| self.challenge_json(*c)).collect::<Vec<_>>(),
        });
        if a.wildcard {
            doc.as_object_mut()
                .expect("a JSON object")
                .insert("wildcard".into(), json!(true));
        }
        doc
    }

    fn authz_reply(&self, authz: usize) -> Reply {
        let reply = Reply::json(200, &self.authz_json(authz));
        match (&self.authzs[authz].validation, self.config.poll_retry_after) {
            (Some(_), Some(secs)) => reply.header("Retry-After", secs.to_string()),
            _ => reply,
        }
    }

    pub(crate) fn authorization(
        &mut self,
        authz: usize,
        v: &Verified,
        now: UnixTime,
    ) -> Result<Reply, Problem> {
        let a = self.authzs.get(authz).ok_or_else(Problem::not_found)?;
        self.owner(v, a.account)?;
        if v.payload.is_empty() {
            self.poll_authz(authz, now);
            return Ok(self.authz_reply(authz));
        }
        let payload = v.object()?;
        if payload.get("status").and_then(Value::as_str) != Some("deactivated") {
            return Err(Problem::malformed(
                "an authorization update must be {\"status\":\"deactivated\"}",
            ));
        }
        let a = &mut self.authzs[authz];
        if !matches!(a.status, AuthzStatus::Pending | AuthzStatus::Valid) {
            return Err(Problem::malformed(format!(
                "a {} authorization cannot be deactivated",
                a.status.name()
            )));
        }
        a.status = AuthzStatus::Deactivated;
        a.validation = None;
        Ok(self.authz_reply(authz))
    }

    /// Every order, in creation order.
    pub fn orders(&self) -> Vec<OrderView> {
        (0..self.orders.len())
            .map(|i| {
                let o = &self.orders[i];
                OrderView {
                    url: self.order_url(i),
                    account: self.account_url(o.account),
                    status: self.order_status(i),
                    identifiers: o
                        .identifiers
                        .iter()
                        .map(|d| (d.kind.to_owned(), d.value.clone()))
                        .collect(),
                    authorizations: o.authzs.iter().map(|a| self.authz_url(*a)).collect(),
                    certificate: match (o.state, o.certificate) {
                        (OrderState::Valid, Some(c)) => Some(self.cert_url(c, 0)),
                        _ => None,
                    },
                    profile: o.profile.clone(),
                    replaces: o.replaces.clone(),
                }
            })
            .collect()
    }
}
