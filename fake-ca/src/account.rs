//! Accounts: newAccount (with EAB and ToS), fetch, update, deactivate, keyChange, and
//! the paged orders list.

use acme_proto::Jwk;
use serde_json::{Value, json};

use crate::FakeCa;
use crate::inspect::AccountView;
use crate::jws::Verified;
use crate::model::Account;
use crate::reply::{Problem, Reply};

impl FakeCa {
    pub(crate) fn account_by_key(&self, jwk: &Jwk) -> Option<usize> {
        self.accounts.iter().position(|a| &a.jwk == jwk)
    }

    fn account_json(&self, id: usize) -> Value {
        let a = &self.accounts[id];
        let key: Value = serde_json::from_str(&a.jwk.to_canonical_json()).unwrap_or(Value::Null);
        json!({
            "status": if a.deactivated { "deactivated" } else { "valid" },
            "contact": a.contact,
            "termsOfServiceAgreed": a.terms_agreed,
            "orders": self.url(&format!("/acme/acct/{}/orders", id + 1)),
            "key": key,
        })
    }

    fn account_reply(&self, status: u16, id: usize) -> Reply {
        Reply::json(status, &self.account_json(id)).header("Location", self.account_url(id))
    }

    pub(crate) fn new_account(&mut self, url: &str, v: &Verified) -> Result<Reply, Problem> {
        let jwk = v.jwk.clone().ok_or_else(|| Problem::malformed("no jwk"))?;
        let payload = v.object()?;
        if let Some(id) = self.account_by_key(&jwk) {
            if self.accounts[id].deactivated {
                return Err(Problem::unauthorized(
                    "the account for this key is deactivated",
                ));
            }
            return Ok(self.account_reply(200, id));
        }
        if payload.get("onlyReturnExisting") == Some(&Value::Bool(true)) {
            return Err(Problem::new(
                400,
                "accountDoesNotExist",
                "no account has this key",
            ));
        }
        let agreed = payload.get("termsOfServiceAgreed") == Some(&Value::Bool(true));
        if let Some(tos) = &self.config.terms_of_service
            && self.config.require_terms_agreement
            && !agreed
        {
            return Err(Problem::new(
                403,
                "userActionRequired",
                "the terms of service must be agreed to",
            )
            .header("Link", format!("<{tos}>;rel=\"terms-of-service\"")));
        }
        let contact = contacts(payload.get("contact"))?;
        if self.config.eab.is_some() {
            let eab = payload.get("externalAccountBinding").ok_or_else(|| {
                Problem::new(
                    403,
                    "externalAccountRequired",
                    "an external account binding is required",
                )
            })?;
            self.verify_eab(eab, &jwk, url)?;
        }
        self.accounts.push(Account {
            jwk,
            contact,
            terms_agreed: agreed,
            deactivated: false,
            orders: Vec::new(),
        });
        Ok(self.account_reply(201, self.accounts.len() - 1))
    }

    /// Checks that the signer is the account `id` names.
    pub(crate) fn owner(&self, v: &Verified, id: usize) -> Result<(), Problem> {
        if v.account == Some(id) {
            Ok(())
        } else {
            Err(Problem::unauthorized(
                "the resource belongs to another account",
            ))
        }
    }

    pub(crate) fn account(&mut self, id: usize, v: &Verified) -> Result<Reply, Problem> {
        if id >= self.accounts.len() {
            return Err(Problem::not_found());
        }
        self.owner(v, id)?;
        if v.payload.is_empty() {
            return Ok(self.account_reply(200, id));
        }
        let payload = v.object()?;
        match payload.get("status").map(|s| s.as_str()) {
            None => {}
            Some(Some("deactivated")) => self.accounts[id].deactivated = true,
            Some(_) => {
                return Err(Problem::malformed(
                    "an account's status can only become deactivated",
                ));
            }
        }
        if payload.contains_key("contact") {
            self.accounts[id].contact = contacts(payload.get("contact"))?;
        }
        Ok(self.account_reply(200, id))
    }

    pub(crate) fn key_change(&mut self, url: &str, v: &Verified) -> Result<Reply, Problem> {
        let id = v.account.ok_or_else(|| Problem::malformed("no account"))?;
        let (new_key, inner) = self.verify_key_change_inner(&v.payload, url)?;
        if inner.get("account").and_then(Value::as_str) != Some(self.account_url(id).as_str()) {
            return Err(
                Problem::malformed("keyChange: account is not the signer's account URL")
                    .violation(),
            );
        }
        let old_key = inner
            .get("oldKey")
            .and_then(|k| serde_json::to_vec(k).ok())
            .and_then(|k| Jwk::from_json(&k).ok());
        if old_key.as_ref() != Some(&self.accounts[id].jwk) {
            return Err(
                Problem::malformed("keyChange: oldKey is not the account's current key")
                    .violation(),
            );
        }
        if let Some(other) = self.account_by_key(&new_key) {
            return Err(Problem::new(
                409,
                "malformed",
                "the new key is already in use by an account",
            )
            .header("Location", self.account_url(other)));
        }
        self.accounts[id].jwk = new_key;
        Ok(self.account_reply(200, id))
    }

    pub(crate) fn account_orders(
        &mut self,
        id: usize,
        page: usize,
        v: &Verified,
    ) -> Result<Reply, Problem> {
        if id >= self.accounts.len() {
            return Err(Problem::not_found());
        }
        self.owner(v, id)?;
        v.require_empty()?;
        let size = self.config.orders_page_size.max(1);
        let all = &self.accounts[id].orders;
        let start = page.saturating_mul(size).min(all.len());
        let end = start.saturating_add(size).min(all.len());
        let urls: Vec<String> = all[start..end].iter().map(|o| self.order_url(*o)).collect();
        let mut reply = Reply::json(200, &json!({ "orders": urls }));
        if end < all.len() {
            let next = self.url(&format!("/acme/acct/{}/orders?cursor={}", id + 1, page + 1));
            reply = reply.header("Link", format!("<{next}>;rel=\"next\""));
        }
        Ok(reply)
    }

    /// Every account, in creation order.
    pub fn accounts(&self) -> Vec<AccountView> {
        (0..self.accounts.len())
            .map(|id| {
                let a = &self.accounts[id];
                AccountView {
                    url: self.account_url(id),
                    status: if a.deactivated {
                        "deactivated"
                    } else {
                        "valid"
                    },
                    contact: a.contact.clone(),
                    terms_agreed: a.terms_agreed,
                    thumbprint: a.jwk.thumbprint().to_string(),
                    orders: a.orders.iter().map(|o| self.order_url(*o)).collect(),
                }
            })
            .collect()
    }
}

/// `mailto:` contacts only, each with one address (RFC 8555 §7.3).
fn contacts(value: Option<&Value>) -> Result<Vec<String>, Problem> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let list = value
        .as_array()
        .ok_or_else(|| Problem::malformed("contact is not an array").violation())?;
    list.iter()
        .map(|c| {
            let c = c
                .as_str()
                .ok_or_else(|| Problem::malformed("a contact is not a string").violation())?;
            let address = c.strip_prefix("mailto:").ok_or_else(|| {
                Problem::new(
                    400,
                    "unsupportedContact",
                    format!("only mailto: contacts: {c:?}"),
                )
            })?;
            let valid = address.split('@').count() == 2
                && !address.starts_with('@')
                && !address.ends_with('@')
                && !address.contains([',', '?', ' ']);
            if valid {
                Ok(c.to_owned())
            } else {
                Err(Problem::new(
                    400,
                    "invalidContact",
                    format!("not an email address: {c:?}"),
                ))
            }
        })
        .collect()
}
