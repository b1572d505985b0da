//! The directory, and nonces: issued from a counter, each accepted once.

use std::collections::BTreeSet;

use acme_proto::Method;
use serde_json::{Map, Value, json};

use crate::FakeCa;
use crate::jws::b64e;
use crate::reply::Reply;

/// Nonces handed out and not yet used, and those already used.
#[derive(Debug, Clone, Default)]
pub(crate) struct Nonces {
    seed: u64,
    counter: u64,
    outstanding: BTreeSet<String>,
    spent: BTreeSet<String>,
}

impl Nonces {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            seed,
            ..Self::default()
        }
    }

    /// A nonce never handed out before: 22 base64url characters derived from a counter.
    pub(crate) fn fresh(&mut self) -> String {
        self.counter += 1;
        let mut nonce = b64e(crate::derive(self.seed, "nonce", self.counter));
        nonce.truncate(22);
        self.outstanding.insert(nonce.clone());
        nonce
    }

    /// Accepts `nonce` once, if this CA issued it.
    pub(crate) fn redeem(&mut self, nonce: &str) -> Result<(), String> {
        if self.outstanding.remove(nonce) {
            self.spent.insert(nonce.to_owned());
            Ok(())
        } else if self.spent.contains(nonce) {
            Err(format!("nonce {nonce:?} was already used"))
        } else {
            Err(format!("nonce {nonce:?} was not issued by this CA"))
        }
    }
}

impl FakeCa {
    pub(crate) fn directory(&self) -> Reply {
        let c = &self.config;
        let mut dir = json!({
            "newNonce": self.url("/acme/new-nonce"),
            "newAccount": self.url("/acme/new-account"),
            "newOrder": self.url("/acme/new-order"),
            "revokeCert": self.url("/acme/revoke-cert"),
            "keyChange": self.url("/acme/key-change"),
        });
        let mut meta = Map::new();
        if let Some(tos) = &c.terms_of_service {
            meta.insert("termsOfService".into(), json!(tos));
        }
        if let Some(website) = &c.website {
            meta.insert("website".into(), json!(website));
        }
        if !c.caa_identities.is_empty() {
            meta.insert("caaIdentities".into(), json!(c.caa_identities));
        }
        if c.eab.is_some() {
            meta.insert("externalAccountRequired".into(), json!(true));
        }
        if !c.profiles.is_empty() {
            let profiles: Map<String, Value> = c
                .profiles
                .iter()
                .map(|(name, description)| (name.clone(), json!(description)))
                .collect();
            meta.insert("profiles".into(), Value::Object(profiles));
        }
        if let Some(map) = dir.as_object_mut() {
            if c.new_authz {
                map.insert("newAuthz".into(), json!(self.url("/acme/new-authz")));
            }
            if c.ari.is_some() {
                map.insert("renewalInfo".into(), json!(self.url("/acme/renewal-info")));
            }
            if !meta.is_empty() {
                map.insert("meta".into(), Value::Object(meta));
            }
        }
        Reply::json(200, &dir)
    }

    /// HEAD newNonce answers 200, GET 204 (RFC 8555 §7.2); the nonce is added to every
    /// response anyway.
    pub(crate) fn new_nonce(&self, method: Method) -> Reply {
        let status = if method == Method::Head { 200 } else { 204 };
        Reply::empty(status).header("Cache-Control", "no-store")
    }
}
