//! Account operations (RFC 8555 §7.3): create, find, fetch, update contacts, key
//! rollover, deactivate, and the list of the account's orders.
//!
//! Each is an [`Operation`] driven like any other. Creating or finding an account sets
//! the client's account URL (the `kid` of every later request); a key rollover installs
//! the new key in the client only once the server has accepted it.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use url::Url;

use super::exchange::{Body, Endpoint, Exchanged, KeyChoice, NewAccountPayload, Payload, Spec};
use super::rollover::KeyRollover;
use super::run::{Effects, Machine, Next, Runner, operation_by_runner};
use super::single_request::SingleRequest;
use super::{Client, NoEvent};
use crate::crypto::{ExternalAccountBinding, Signer};
use crate::error::Error;
use crate::fault::{Malformed, MalformedKind, Misuse};
use crate::headers::LinkRelation;
use crate::limits::ResponseKind;
use crate::resource::{Account, OrderList};
use crate::time::UnixTime;
use crate::wire::Method;

/// What to ask for when creating an account.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct NewAccount {
    /// Contact URLs, such as `mailto:admin@example.org`.
    pub contacts: Vec<String>,
    /// Whether the user agreed to the server's terms of service (`meta.termsOfService`).
    pub terms_of_service_agreed: bool,
    /// The External Account Binding, when the CA requires one (`meta.externalAccountRequired`).
    pub external_account_binding: Option<ExternalAccountBinding>,
}

impl NewAccount {
    /// An account with these contacts, terms agreed.
    pub fn agreeing_to_terms(contacts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            contacts: contacts.into_iter().map(Into::into).collect(),
            terms_of_service_agreed: true,
            external_account_binding: None,
        }
    }

    /// The same request with an External Account Binding.
    #[must_use]
    pub fn with_external_account_binding(mut self, eab: ExternalAccountBinding) -> Self {
        self.external_account_binding = Some(eab);
        self
    }
}

/// An account as the server describes it, with its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountInfo {
    /// The account URL: the `kid` of signed requests; save it with the key.
    pub url: Url,
    /// The account object.
    pub account: Account,
    /// Whether this request created the account (201), rather than finding it (200).
    pub created: bool,
}

impl Client {
    /// Fetches the directory (operations fetch it themselves when they need it; this is
    /// for callers who want to read `meta` first, such as the terms of service).
    pub fn fetch_directory(&self) -> SingleRequest<()> {
        let spec = Spec {
            method: Method::Get,
            endpoint: Endpoint::Url(self.directory_url().clone()),
            kind: ResponseKind::Directory,
            body: Body::Empty,
            resend_on_transport_failure: true,
        };
        SingleRequest::new("directory fetch", spec, |client, exchanged, now| {
            let limits = client.limits().clone();
            let directory = exchanged
                .response
                .json(ResponseKind::Directory, &limits, now)?;
            client.directory = Some(directory);
            Ok(())
        })
    }

    /// Creates an account for the client's key (RFC 8555 §7.3), or returns the existing
    /// one for that key (`created` tells which). Sets the client's account URL.
    pub fn new_account(&self, request: NewAccount) -> SingleRequest<AccountInfo> {
        let payload = NewAccountPayload {
            contact: request.contacts,
            terms_of_service_agreed: request.terms_of_service_agreed,
            only_return_existing: false,
            external_account_binding: request.external_account_binding,
        };
        new_account_op("account creation", payload)
    }

    /// Finds the existing account of the client's key without creating one
    /// (`onlyReturnExisting`, RFC 8555 §7.3.1); the server answers
    /// `accountDoesNotExist` when there is none. Sets the client's account URL.
    pub fn find_account(&self) -> SingleRequest<AccountInfo> {
        let payload = NewAccountPayload {
            only_return_existing: true,
            ..Default::default()
        };
        new_account_op("account lookup", payload)
    }

    /// Fetches the account object (POST-as-GET to the account URL, RFC 8555 §7.3.3).
    pub fn fetch_account(&self) -> Result<SingleRequest<AccountInfo>, Misuse> {
        let url = self.require_account()?;
        Ok(SingleRequest::new(
            "account fetch",
            Spec::fetch(url, ResponseKind::Account),
            existing_account,
        ))
    }

    /// Replaces the account's contacts (RFC 8555 §7.3.2); an empty list removes them.
    pub fn update_contacts(
        &self,
        contacts: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<SingleRequest<AccountInfo>, Misuse> {
        #[derive(serde::Serialize)]
        struct Update {
            contact: Vec<String>,
        }
        let url = self.require_account()?;
        let payload = json(&Update {
            contact: contacts.into_iter().map(Into::into).collect(),
        })?;
        let spec = Spec::post(Endpoint::Url(url), ResponseKind::Account, payload, true);
        Ok(SingleRequest::new("contact update", spec, existing_account))
    }

    /// Deactivates the account (RFC 8555 §7.3.6). The server refuses every later
    /// request signed for it with `unauthorized`; this cannot be undone.
    pub fn deactivate_account(&self) -> Result<SingleRequest<AccountInfo>, Misuse> {
        let url = self.require_account()?;
        let payload = br#"{"status":"deactivated"}"#.to_vec();
        let spec = Spec::post(Endpoint::Url(url), ResponseKind::Account, payload, true);
        Ok(SingleRequest::new(
            "account deactivation",
            spec,
            existing_account,
        ))
    }

    /// Rolls the account over to `new_key` (RFC 8555 §7.3.5). The client signs with the
    /// new key only once the server has accepted it. If the key change gets no
    /// readable answer (the connection broke after it was sent, say), the rollover
    /// looks the account up by the new key to learn whether the server applied it.
    ///
    /// The rollover never drops the new key: one that did not end up installed can be
    /// taken back ([`KeyRollover::take_new_key`]), whatever the reason, including the
    /// caller's mistakes (no account yet, or the same key again), which end the
    /// operation at its first poll with [`Error::Misuse`].
    pub fn change_key(&self, new_key: Box<dyn Signer + Send + Sync>) -> KeyRollover {
        let refused = match self.require_account() {
            Err(misuse) => Some(misuse),
            Ok(_) if new_key.public_jwk() == self.key().public_jwk() => Some(Misuse::InvalidKey(
                "the new account key is the same as the old one",
            )),
            Ok(_) => None,
        };
        KeyRollover::new(new_key, refused)
    }

    /// Lists the URLs of the account's orders, following `Link: rel="next"` pages
    /// (RFC 8555 §7.1.2.1), at most `max_pages` of them.
    pub fn list_orders(&self, max_pages: u32) -> Result<OrderListing, Misuse> {
        self.require_account()?;
        Ok(OrderListing(Runner::new(ListOrders {
            next: None,
            pages: 0,
            max_pages,
            orders: Vec::new(),
            effects: Effects::default(),
        })))
    }

    pub(crate) fn require_account(&self) -> Result<Url, Misuse> {
        self.account_url().cloned().ok_or(Misuse::InvalidArgument(
            "no account yet: create or find the account first",
        ))
    }
}

fn json(value: &impl serde::Serialize) -> Result<Vec<u8>, Misuse> {
    serde_json::to_vec(value)
        .map_err(|_| Misuse::InvalidArgument("the payload cannot be serialized"))
}

fn new_account_op(name: &'static str, payload: NewAccountPayload) -> SingleRequest<AccountInfo> {
    let spec = Spec {
        method: Method::Post,
        endpoint: Endpoint::NewAccount,
        kind: ResponseKind::Account,
        body: Body::Signed {
            payload: Payload::NewAccount(payload),
            key: KeyChoice::AccountJwk,
        },
        // newAccount is idempotent: the server returns the existing account for the key.
        resend_on_transport_failure: true,
    };
    SingleRequest::new(name, spec, |client, exchanged, now| {
        let url = exchanged.response.location(&exchanged.url)?;
        client.check_url(&url)?;
        let info = read_account(client, &exchanged, url, now)?;
        client.account_url = Some(info.url.clone());
        Ok(info)
    })
}

fn existing_account(
    client: &mut Client,
    exchanged: Exchanged,
    now: UnixTime,
) -> Result<AccountInfo, Error> {
    let url = client
        .account_url()
        .cloned()
        .unwrap_or_else(|| exchanged.url.clone());
    read_account(client, &exchanged, url, now)
}

fn read_account(
    client: &Client,
    exchanged: &Exchanged,
    url: Url,
    now: UnixTime,
) -> Result<AccountInfo, Error> {
    let account =
        exchanged
            .response
            .json::<Account>(ResponseKind::Account, client.limits(), now)?;
    Ok(AccountInfo {
        url,
        account,
        created: exchanged.response.status == 201,
    })
}

/// The account's orders, page by page; see [`Client::list_orders`].
#[derive(Debug)]
pub struct OrderListing(Runner<ListOrders>);

/// The machine of an [`OrderListing`]: the account object for its `orders` URL, then
/// each page.
#[derive(Debug)]
pub(crate) struct ListOrders {
    /// The next page to fetch; `None` before the account was.
    next: Option<Url>,
    pages: u32,
    max_pages: u32,
    orders: Vec<Url>,
    effects: Effects<NoEvent, Vec<Url>>,
}

/// What a request of an order listing fetches.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fetched {
    Account,
    Page,
}

impl Machine for ListOrders {
    type Event = NoEvent;
    type Output = Vec<Url>;
    type Purpose = Fetched;

    fn operation(&self) -> &'static str {
        "order listing"
    }

    fn effects(&mut self) -> &mut Effects<NoEvent, Vec<Url>> {
        &mut self.effects
    }

    fn next(&mut self, client: &Client, _: UnixTime) -> Result<Next<Fetched>, Error> {
        Ok(match self.next.take() {
            Some(page) => Next::Send(Fetched::Page, Spec::fetch(page, ResponseKind::OrderList)),
            None => {
                let account = client.require_account()?;
                Next::Send(
                    Fetched::Account,
                    Spec::fetch(account, ResponseKind::Account),
                )
            }
        })
    }

    fn on_exchanged(
        &mut self,
        client: &mut Client,
        fetched: Fetched,
        result: Result<Exchanged, Error>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let exchanged = result?;
        let next = match fetched {
            Fetched::Account => {
                let account: Account =
                    exchanged
                        .response
                        .json(ResponseKind::Account, client.limits(), now)?;
                account.orders.ok_or(Malformed::new(
                    "account",
                    MalformedKind::Invalid("the account has no orders URL"),
                ))?
            }
            Fetched::Page => {
                let (list, next) = read_order_page(client, exchanged, now)?;
                self.orders.extend(list.orders);
                match next {
                    Some(next) => next,
                    None => {
                        self.effects.end(Ok(core::mem::take(&mut self.orders)));
                        return Ok(());
                    }
                }
            }
        };
        if self.pages >= self.max_pages {
            self.effects.end(Ok(core::mem::take(&mut self.orders)));
        } else {
            self.pages += 1;
            self.next = Some(next);
        }
        Ok(())
    }
}

operation_by_runner!(OrderListing, NoEvent, Vec<Url>);

fn read_order_page(
    client: &mut Client,
    exchanged: Exchanged,
    now: UnixTime,
) -> Result<(OrderList, Option<Url>), Error> {
    let list: OrderList = exchanged
        .response
        .json(ResponseKind::OrderList, client.limits(), now)?;
    let links = exchanged.response.links(&exchanged.url)?;
    let next = crate::headers::links_with(&links, &LinkRelation::Next)
        .next()
        .cloned();
    if let Some(next) = &next {
        client.check_url(next)?;
    }
    Ok((list, next))
}
