//! Every transition of an order, in this one file: what is sent next from each state
//! (`next_request`), what each result does (`on_result`, then `on_order` and `advance`
//! for an order object), the CSR given, and the end. See the module docs for the
//! diagram.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::OrderFlow;
use super::authorizations::{AuthorizationSlot, Slot};
use super::checks::failure_of;
use super::events::{Issued, OrderEvent};
use super::request::new_order_payload;
use super::state::{Downloaded, ISSUANCE, OrderMachine, Purpose, State, VALIDATION};
use crate::b64;
use crate::certificate::CertificateChain;
use crate::client::exchange::{Body, Endpoint, Exchanged, Spec};
use crate::client::run::{Effects, Machine, Next};
use crate::client::{Client, Polled, Wait, WaitReason};
use crate::error::Error;
use crate::fault::{Malformed, MalformedKind, Misuse};
use crate::headers::LinkRelation;
use crate::limits::ResponseKind;
use crate::problem::ProblemType;
use crate::resource::{Authorization, Challenge, Directory, Order};
use crate::status::{ChallengeStatus, OrderStatus};
use crate::time::UnixTime;
use crate::wire::Method;

impl OrderMachine {
    /// Decides the next request (or wait) from the state, when none is out.
    pub(super) fn next_request(
        &mut self,
        client: &Client,
        now: UnixTime,
    ) -> Result<Next<Purpose>, Error> {
        let (purpose, spec) = match &mut self.state {
            State::Done | State::AwaitCsr => return Ok(Next::Again),
            State::Create => {
                let request = self
                    .creating
                    .as_deref()
                    .ok_or(Error::Bug("no order to create"))?;
                if request.profile.is_some() && client.directory().is_none() {
                    let spec = Spec {
                        method: Method::Get,
                        endpoint: Endpoint::Url(client.directory_url().clone()),
                        kind: ResponseKind::Directory,
                        body: Body::Empty,
                        resend_on_transport_failure: true,
                    };
                    return Ok(Next::Send(Purpose::Directory, spec));
                }
                if let (Some(profile), Some(directory)) = (&request.profile, client.directory())
                    && !directory.meta.profiles.contains_key(profile)
                {
                    return Err(Misuse::Unsupported(
                        "the server's directory does not offer this profile",
                    )
                    .into());
                }
                let payload = new_order_payload(&self.identifiers, request)?;
                // Resending a newOrder after a transport failure could create a second order.
                (
                    Purpose::Create,
                    Spec::post(Endpoint::NewOrder, ResponseKind::Order, payload, false),
                )
            }
            State::Resume => {
                let url = self
                    .url
                    .clone()
                    .ok_or(Error::Bug("no order URL to resume"))?;
                (Purpose::Order, Spec::fetch(url, ResponseKind::Order))
            }
            State::FetchAuthorizations { next } => {
                let index = *next;
                match self.slots.get(index) {
                    Some(slot) => (
                        Purpose::Authorization(index),
                        Spec::fetch(slot.url.clone(), ResponseKind::Authorization),
                    ),
                    None => {
                        // Every authorization passed its check: now the caller may
                        // present challenges.
                        for event in core::mem::take(&mut self.offers_held) {
                            self.effects.emit(event);
                        }
                        self.advance(client, now, None)?;
                        return Ok(Next::Again);
                    }
                }
            }
            State::Respond => {
                let unanswered = self.slots.iter().find_map(|s| match &s.slot {
                    Slot::Chosen {
                        offer,
                        responded: false,
                    } => Some(offer.url.clone()),
                    _ => None,
                });
                let index = self.slots.iter().position(|s| {
                    matches!(
                        s.slot,
                        Slot::Chosen {
                            responded: false,
                            ..
                        }
                    )
                });
                if let (Some(url), Some(index)) = (unanswered, index) {
                    let spec = Spec::post(
                        Endpoint::Url(url),
                        ResponseKind::Challenge,
                        b"{}".to_vec(),
                        true,
                    );
                    return Ok(Next::Send(Purpose::Respond(index), spec));
                }
                if self
                    .slots
                    .iter()
                    .any(|s| matches!(s.slot, Slot::Offered(_)))
                {
                    return Ok(Next::Again);
                }
                // Every challenge is answered: wait (as long as a challenge's response
                // asked, if one did), then poll the order.
                self.waiting_for = None;
                let at = self.next_poll(client, now, None, VALIDATION)?;
                self.state = State::PollOrder { at };
                return Ok(Next::Again);
            }
            State::PollOrder { at } => {
                if now < *at {
                    return Ok(Next::Wait(Wait {
                        until: *at,
                        reason: WaitReason::Poll {
                            resource: Polled::Order,
                        },
                    }));
                }
                let url = self.url.clone().ok_or(Error::Bug("no order URL"))?;
                (Purpose::Order, Spec::fetch(url, ResponseKind::Order))
            }
            State::Finalize => {
                let Some(csr) = &self.csr else {
                    self.state = State::AwaitCsr;
                    return Ok(Next::Again);
                };
                let finalize = self
                    .order
                    .as_ref()
                    .map(|o| o.finalize.clone())
                    .ok_or(Error::Bug("no order to finalize"))?;
                self.finalize_attempts += 1;
                let payload = alloc::format!(r#"{{"csr":"{}"}}"#, b64::encode(csr)).into_bytes();
                // The CSR is not resent blindly after a transport failure: the order is
                // polled instead, and finalized again only if it is still `ready`.
                (
                    Purpose::Finalize,
                    Spec::post(Endpoint::Url(finalize), ResponseKind::Order, payload, false),
                )
            }
            State::Download => {
                let (purpose, url) = match self.downloaded.as_deref() {
                    None => {
                        let url = self
                            .order
                            .as_ref()
                            .and_then(|o| o.certificate.clone())
                            .ok_or(Malformed::new(
                                "order",
                                MalformedKind::Invalid("a valid order without a certificate URL"),
                            ))?;
                        (Purpose::Certificate, url)
                    }
                    Some(downloaded) => match downloaded.alternate_urls.get(downloaded.next) {
                        Some(url) => (Purpose::Alternate(downloaded.next), url.clone()),
                        None => {
                            self.finish_issued()?;
                            return Ok(Next::Again);
                        }
                    },
                };
                (purpose, Spec::fetch(url, ResponseKind::Certificate))
            }
            State::Diagnose { next } => {
                let index = *next;
                let pending = self
                    .slots
                    .iter()
                    .enumerate()
                    .skip(index)
                    .find(|(_, s)| !matches!(s.slot, Slot::Valid))
                    .map(|(i, s)| (i, s.url.clone()));
                match pending {
                    Some((i, url)) => (
                        Purpose::Diagnose(i),
                        Spec::fetch(url, ResponseKind::Authorization),
                    ),
                    None => {
                        let problem = self.order.as_ref().and_then(|o| o.error.clone());
                        return Err(match problem {
                            Some(problem) => problem.into(),
                            None => Malformed::new(
                                "order",
                                MalformedKind::Invalid("the order is invalid and says not why"),
                            )
                            .into(),
                        });
                    }
                }
            }
        };
        Ok(Next::Send(purpose, spec))
    }

    /// Takes the final response of the request out.
    pub(super) fn on_result(
        &mut self,
        client: &mut Client,
        purpose: Purpose,
        result: Result<Exchanged, Error>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let limits = client.limits().clone();
        match (purpose, result) {
            (Purpose::Directory, Ok(exchanged)) => {
                let directory: Directory =
                    exchanged
                        .response
                        .json(ResponseKind::Directory, &limits, now)?;
                client.directory = Some(directory);
                Ok(())
            }
            (Purpose::Create, Ok(exchanged)) => {
                let url = exchanged.response.location(&exchanged.url)?;
                client.check_url(&url)?;
                let order: Order = exchanged.response.json(ResponseKind::Order, &limits, now)?;
                self.creating = None;
                self.url = Some(url.clone());
                self.effects.emit(OrderEvent::Created { url });
                self.on_order(client, order, exchanged.response.retry_after(now), now)
            }
            (Purpose::Create, Err(Error::Problem(problem)))
                if problem.kind == ProblemType::AlreadyReplaced
                    && self.creating.as_ref().is_some_and(|r| r.replaces.is_some()) =>
            {
                let cert_id = self
                    .creating
                    .as_deref_mut()
                    .and_then(|r| r.replaces.take())
                    .unwrap_or_default();
                self.effects.emit(OrderEvent::ReplacesDropped {
                    cert_id,
                    problem: *problem,
                });
                self.state = State::Create;
                Ok(())
            }
            (Purpose::Order, Ok(exchanged)) => {
                let order: Order = exchanged.response.json(ResponseKind::Order, &limits, now)?;
                self.on_order(client, order, exchanged.response.retry_after(now), now)
            }
            (Purpose::Authorization(index), Ok(exchanged)) => {
                let authorization: Authorization =
                    exchanged
                        .response
                        .json(ResponseKind::Authorization, &limits, now)?;
                self.on_authorization(client, index, &exchanged.url, &authorization)?;
                self.state = State::FetchAuthorizations { next: index + 1 };
                Ok(())
            }
            (Purpose::Respond(index), Ok(exchanged)) => {
                let challenge: Challenge =
                    exchanged
                        .response
                        .json(ResponseKind::Challenge, &limits, now)?;
                if let Some(Slot::Chosen { responded, .. }) =
                    self.slots.get_mut(index).map(|s| &mut s.slot)
                {
                    *responded = true;
                }
                // RFC 8555 §8.2: the server says when to look again on the challenge.
                self.polling.hint(exchanged.response.retry_after(now));
                if challenge.status() == Some(ChallengeStatus::Invalid) {
                    if let Challenge::Known(known) = challenge
                        && let Some(problem) = known.error
                    {
                        return Err(problem.into());
                    }
                    self.state = State::Diagnose { next: 0 };
                    return Ok(());
                }
                self.state = State::Respond;
                Ok(())
            }
            (Purpose::Finalize, Ok(exchanged)) => {
                let order: Order = exchanged.response.json(ResponseKind::Order, &limits, now)?;
                self.on_order(client, order, exchanged.response.retry_after(now), now)
            }
            (Purpose::Finalize, Err(Error::Problem(problem)))
                if problem.kind == ProblemType::OrderNotReady =>
            {
                // Not ready after all: poll, and finalize again once it is.
                self.waiting_for = None;
                let at = self.next_poll(client, now, problem.retry_after, VALIDATION)?;
                self.state = State::PollOrder { at };
                Ok(())
            }
            (Purpose::Finalize, Err(Error::Transport { attempts })) => {
                // The server may or may not have the CSR: ask the order, not the CSR again.
                if self.finalize_attempts >= OrderFlow::MAX_FINALIZE_ATTEMPTS {
                    return Err(Error::Transport { attempts });
                }
                self.state = State::PollOrder { at: now };
                Ok(())
            }
            (Purpose::Certificate, Ok(exchanged)) => {
                let chain =
                    CertificateChain::from_pem(exchanged.response.pem_chain(&limits, now)?)?;
                let unrequested_names = self.check_certificate(&chain)?;
                let links = exchanged.response.links(&exchanged.url)?;
                let mut alternates = Vec::new();
                for url in crate::headers::links_with(&links, &LinkRelation::Alternate)
                    .take(OrderFlow::MAX_ALTERNATES)
                {
                    client.check_url(url)?;
                    alternates.push(url.clone());
                }
                self.downloaded = Some(Box::new(Downloaded {
                    url: exchanged.url,
                    chain,
                    unrequested_names,
                    alternate_urls: alternates,
                    next: 0,
                    alternates: Vec::new(),
                }));
                self.state = State::Download;
                Ok(())
            }
            (Purpose::Alternate(index), Ok(exchanged)) => {
                let chain =
                    CertificateChain::from_pem(exchanged.response.pem_chain(&limits, now)?)?;
                self.check_certificate(&chain)?;
                if let Some(downloaded) = self.downloaded.as_deref_mut() {
                    downloaded.alternates.push((exchanged.url, chain));
                    downloaded.next = index + 1;
                }
                Ok(())
            }
            (Purpose::Diagnose(index), Ok(exchanged)) => {
                let authorization: Authorization =
                    exchanged
                        .response
                        .json(ResponseKind::Authorization, &limits, now)?;
                if let Some(problem) = failure_of(&authorization) {
                    return Err(problem.into());
                }
                self.state = State::Diagnose { next: index + 1 };
                Ok(())
            }
            (_, Err(error)) => Err(error),
        }
    }

    /// Carries on from the order object just read.
    pub(super) fn on_order(
        &mut self,
        client: &Client,
        order: Order,
        retry_after: Option<UnixTime>,
        now: UnixTime,
    ) -> Result<(), Error> {
        for url in order
            .authorizations
            .iter()
            .chain(core::iter::once(&order.finalize))
            .chain(order.certificate.iter())
        {
            client.check_url(url)?;
        }
        self.check_order(&order)?;
        let first_sight = self.order.is_none();
        let authorizations = order.authorizations.clone();
        // Parsed lists grow by doubling: keep only what they hold.
        let mut order = Box::new(order);
        order.identifiers.shrink_to_fit();
        order.authorizations.shrink_to_fit();
        self.order = Some(order);
        if first_sight {
            self.slots = authorizations
                .into_iter()
                .map(|url| AuthorizationSlot {
                    url,
                    identifier: None,
                    slot: Slot::Unfetched,
                })
                .collect();
            let resuming = self.resumed;
            let pending = self
                .order
                .as_ref()
                .is_some_and(|o| o.status == OrderStatus::Pending);
            if pending || resuming {
                self.state = State::FetchAuthorizations { next: 0 };
                return Ok(());
            }
        }
        self.advance(client, now, retry_after)
    }

    /// Decides the next state from the order's status.
    pub(super) fn advance(
        &mut self,
        client: &Client,
        now: UnixTime,
        retry_after: Option<UnixTime>,
    ) -> Result<(), Error> {
        let status = self
            .order
            .as_ref()
            .map(|o| o.status)
            .ok_or(Error::Bug("no order"))?;
        // Challenges resumed from a snapshot whose authorization was not pending still
        // need cleaning up; they were rebuilt while fetching.
        self.resumed_provisioned.clear();
        match status {
            OrderStatus::Pending => {
                let open = self.slots.iter().any(|s| {
                    matches!(
                        s.slot,
                        Slot::Offered(_)
                            | Slot::Chosen {
                                responded: false,
                                ..
                            }
                    )
                });
                if open {
                    self.state = State::Respond;
                } else {
                    let at = self.next_poll(client, now, retry_after, VALIDATION)?;
                    self.state = State::PollOrder { at };
                }
            }
            OrderStatus::Ready => {
                self.cleanup_all();
                if self.finalize_attempts >= OrderFlow::MAX_FINALIZE_ATTEMPTS {
                    return Err(Malformed::new(
                        "order",
                        MalformedKind::Invalid("the order stays ready after finalization"),
                    )
                    .into());
                }
                if self.csr.is_some() {
                    self.state = State::Finalize;
                } else {
                    self.state = State::AwaitCsr;
                    let identifiers = self
                        .order
                        .as_ref()
                        .map(|o| o.identifiers.clone())
                        .unwrap_or_default();
                    self.effects.emit(OrderEvent::NeedCsr { identifiers });
                }
            }
            OrderStatus::Processing => {
                self.cleanup_all();
                let at = self.next_poll(client, now, retry_after, ISSUANCE)?;
                self.state = State::PollOrder { at };
            }
            OrderStatus::Valid => {
                self.cleanup_all();
                self.state = State::Download;
            }
            _ => {
                self.state = State::Diagnose { next: 0 };
            }
        }
        Ok(())
    }

    /// When to poll next while waiting `for_what` (see [`Polling`]): a new reason to
    /// wait starts a new schedule, with its own patience.
    pub(super) fn next_poll(
        &mut self,
        client: &Client,
        now: UnixTime,
        retry_after: Option<UnixTime>,
        for_what: &'static str,
    ) -> Result<UnixTime, Error> {
        if self.waiting_for != Some(for_what) {
            self.polling.restart();
            self.waiting_for = Some(for_what);
        }
        self.polling
            .next(client.policy(), now, retry_after, for_what)
    }

    pub(super) fn provide_csr(&mut self, der: Vec<u8>) -> Result<(), Misuse> {
        if der.is_empty() || der.len() > OrderFlow::MAX_CSR_LEN {
            return Err(Misuse::InvalidArgument(
                "the CSR is empty or larger than 64 KiB",
            ));
        }
        if matches!(self.state, State::Finalize | State::Download | State::Done) {
            return Err(Misuse::InvalidArgument(
                "the order has already been finalized",
            ));
        }
        let key = crate::certificate::csr_public_key(&der)?;
        if key.len() > OrderFlow::MAX_CSR_KEY_LEN {
            return Err(Misuse::InvalidArgument(
                "the CSR's public key is larger than OrderFlow::MAX_CSR_KEY_LEN",
            ));
        }
        self.csr_key = Some(key.into_boxed_slice());
        self.csr = Some(der.into_boxed_slice());
        if matches!(self.state, State::AwaitCsr) {
            self.state = State::Finalize;
        }
        Ok(())
    }

    pub(super) fn finish_issued(&mut self) -> Result<(), Error> {
        let downloaded = self
            .downloaded
            .take()
            .ok_or(Error::Bug("no certificate downloaded"))?;
        let Downloaded {
            url: certificate_url,
            chain,
            unrequested_names,
            alternates,
            ..
        } = *downloaded;
        let order_url = self.url.clone().ok_or(Error::Bug("no order URL"))?;
        self.effects.end(Ok(Issued {
            order_url,
            certificate_url,
            chain,
            alternates,
            unrequested_names,
        }));
        Ok(())
    }

    pub(super) fn cleanup_all(&mut self) {
        for offer in self.provisioned.drain(..) {
            self.effects.emit(OrderEvent::Cleanup(offer));
        }
    }
}

impl Machine for OrderMachine {
    type Event = OrderEvent;
    type Output = Issued;
    type Purpose = Purpose;

    fn operation(&self) -> &'static str {
        "order"
    }

    fn effects(&mut self) -> &mut Effects<OrderEvent, Issued> {
        &mut self.effects
    }

    fn next(&mut self, client: &Client, now: UnixTime) -> Result<Next<Purpose>, Error> {
        match self.next_request(client, now)? {
            Next::Again if self.idle() => Ok(Next::Caller),
            next => Ok(next),
        }
    }

    fn on_exchanged(
        &mut self,
        client: &mut Client,
        purpose: Purpose,
        result: Result<Exchanged, Error>,
        now: UnixTime,
    ) -> Result<(), Error> {
        self.on_result(client, purpose, result, now)
    }

    fn on_end(&mut self) {
        // Offers held back are never shown: nothing was presented for them.
        self.offers_held = Vec::new();
        self.cleanup_all();
        self.state = State::Done;
    }
}
