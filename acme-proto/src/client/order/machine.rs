//! Every transition of an order, in this one file. Read it in this order:
//!
//! 1. [`OrderMachine::next_request`]: what is sent next from each stage and phase (or
//!    waited for; the `newOrder` request itself is built in `request.rs`);
//! 2. [`OrderMachine::on_result`]: what each result does. An order object is first
//!    checked (`read_order`, in `checks.rs`), then goes to [`OrderMachine::begin`] (the
//!    first one read: `Creating` or `Resuming` becomes `Live`) or to [`Live::advance`]
//!    (every later one), which choose the next phase from the order's status;
//! 3. the caller's answers ([`OrderMachine::provide_csr`],
//!    [`OrderMachine::challenge_ready`], which the authorization table checks) and the
//!    end ([`Machine::on_end`]: cleanups, and what `Done` keeps).
//!
//! See the module docs for the diagram.

use alloc::boxed::Box;
use alloc::vec::Vec;

use url::Url;

use super::OrderFlow;
use super::checks::read_order;
use super::events::{Issued, OrderEvent};
use super::request::{Purpose, create_request, nonce_request, nonces_to_fetch_beside};
use super::snapshot::{bound_of, check_resumed};
use super::state::{Downloaded, ISSUANCE, Live, LiveState, OrderMachine, OrderState, VALIDATION};
use crate::b64;
use crate::certificate::CertificateChain;
use crate::client::authorization_table::{AuthorizationTable, failure_of};
use crate::client::exchange::{Endpoint, Exchanged, Spec};
use crate::client::polling::Polling;
use crate::client::pre_authorization::AuthorizationEvent;
use crate::client::run::{Effects, Next};
use crate::client::{Client, Polled};
use crate::error::Error;
use crate::fault::{Malformed, MalformedKind, Misuse};
use crate::headers::LinkRelation;
use crate::limits::ResponseKind;
use crate::problem::ProblemType;
use crate::resource::{Authorization, Challenge, Directory, Order};
use crate::status::{ChallengeStatus, OrderStatus};
use crate::time::UnixTime;

impl OrderMachine {
    /// Decides the next request (or wait) from the state, when none is out.
    pub(super) fn next_request(
        &mut self,
        client: &Client,
        now: UnixTime,
    ) -> Result<Next<Purpose>, Error> {
        let Self {
            identifiers,
            stage,
            csr,
            bound,
            nonces_beside,
            nonces_out,
            effects,
            ..
        } = self;
        let live = match stage {
            OrderState::Done(_) => return Ok(Next::Again),
            // The newOrder is out: nonces for the authorizations' fetches, beside it.
            OrderState::Creating(_) if nonces_beside.is_some() => {
                return Ok(match (nonces_beside, nonce_request(client)) {
                    (Some(left), Some(spec)) if *left > 0 => {
                        *left -= 1;
                        *nonces_out += 1;
                        Next::Send(Purpose::Nonce, spec)
                    }
                    _ => Next::Busy,
                });
            }
            OrderState::Creating(request) => {
                let (purpose, spec) = create_request(client, identifiers, request)?;
                *bound = Some(bound_of(client)?);
                if matches!(purpose, Purpose::Create) {
                    *nonces_beside = Some(nonces_to_fetch_beside(client, identifiers));
                }
                return Ok(Next::Send(purpose, spec));
            }
            OrderState::Resuming(resuming) => {
                // Before anything is sent: a snapshot for another CA or account, or
                // pointing off the directory's origin, is not followed.
                *bound = Some(check_resumed(client, bound.as_ref(), resuming)?);
                let spec = Spec::fetch(resuming.url.clone(), ResponseKind::Order);
                return Ok(Next::Send(Purpose::Order, spec));
            }
            OrderState::Live(live) => live,
        };
        let (purpose, spec) = match &mut live.phase {
            LiveState::AwaitCsr => return Ok(Next::Again),
            // The nonces fetched for them are on their way: wait for them.
            LiveState::FetchAuthorizations if *nonces_out > 0 => return Ok(Next::Busy),
            LiveState::FetchAuthorizations => match live.authorizations.next_unfetched() {
                Some((index, url)) => (
                    Purpose::Authorization(index),
                    Spec::fetch(url, ResponseKind::Authorization),
                ),
                // The others are fetched as these land.
                None if live.authorizations.any_in_flight() => return Ok(Next::Busy),
                None => {
                    // Every authorization passed its check: now the caller may present
                    // challenges.
                    for held in live.authorizations.release_offers() {
                        effects.emit(AuthorizationEvent::from(held).into());
                    }
                    live.advance(client, now, None, csr.is_some(), effects)?;
                    return Ok(Next::Again);
                }
            },
            LiveState::Respond => {
                if let Some((index, url)) = live.authorizations.answer_next() {
                    let spec = Spec::post(
                        Endpoint::Url(url),
                        ResponseKind::Challenge,
                        b"{}".to_vec(),
                        true,
                    );
                    return Ok(Next::Send(Purpose::Respond(index), spec));
                }
                if live.authorizations.any_in_flight() {
                    return Ok(Next::Busy);
                }
                if live.authorizations.offered() {
                    return Ok(Next::Again);
                }
                // Every challenge is answered: wait (as long as a challenge's response
                // asked, if one did), then poll the order.
                live.polling.restart();
                live.poll_order(client, now, None, VALIDATION)?;
                return Ok(Next::Again);
            }
            LiveState::PollOrder { at } => {
                if now < *at {
                    return Ok(Next::poll_at(*at, Polled::Order, live.polling.asked()));
                }
                (
                    Purpose::Order,
                    Spec::fetch(live.url.clone(), ResponseKind::Order),
                )
            }
            LiveState::Finalize => {
                let Some(csr) = csr else {
                    live.phase = LiveState::AwaitCsr;
                    return Ok(Next::Again);
                };
                live.finalize_attempts += 1;
                let payload = alloc::format!(r#"{{"csr":"{}"}}"#, b64::encode(csr)).into_bytes();
                // The CSR is not resent blindly after a transport failure: the order is
                // polled instead, and finalized again only if it is still `ready`.
                let endpoint = Endpoint::Url(live.order.finalize.clone());
                (
                    Purpose::Finalize,
                    Spec::post(endpoint, ResponseKind::Order, payload, false),
                )
            }
            LiveState::Download(None) => {
                let url = live.order.certificate.clone().ok_or(Malformed::new(
                    "order",
                    MalformedKind::Invalid("a valid order without a certificate URL"),
                ))?;
                (
                    Purpose::Certificate,
                    Spec::fetch(url, ResponseKind::Certificate),
                )
            }
            LiveState::Download(Some(downloaded)) => {
                if let Some(url) = downloaded.alternate_urls.get(downloaded.next) {
                    (
                        Purpose::Alternate(downloaded.next),
                        Spec::fetch(url.clone(), ResponseKind::Certificate),
                    )
                } else {
                    // Every chain is in: the order is issued.
                    let LiveState::Download(Some(downloaded)) =
                        core::mem::replace(&mut live.phase, LiveState::Download(None))
                    else {
                        return Err(Error::Bug("no certificate downloaded"));
                    };
                    effects.end(Ok(downloaded.issued(live.url.clone())));
                    return Ok(Next::Again);
                }
            }
            LiveState::Diagnose { next } => match live.authorizations.first_not_valid(*next) {
                Some((index, url)) => (
                    Purpose::Diagnose(index),
                    Spec::fetch(url.clone(), ResponseKind::Authorization),
                ),
                None => {
                    return Err(match live.order.error.clone() {
                        Some(problem) => problem.into(),
                        None => Malformed::new(
                            "order",
                            MalformedKind::Invalid("the order is invalid and says not why"),
                        )
                        .into(),
                    });
                }
            },
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
        let valid_until = now.saturating_add(client.policy().min_certificate_validity);
        if matches!(purpose, Purpose::Create) {
            // Answered (or failed): no more nonces beside it.
            self.nonces_beside = None;
        }
        match (purpose, result) {
            // Its nonce is in the pool already; a failed one costs nothing.
            (Purpose::Nonce, _) => {
                self.nonces_out = self.nonces_out.saturating_sub(1);
                Ok(())
            }
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
                let order = exchanged.response.json(ResponseKind::Order, &limits, now)?;
                let order = read_order(client, &mut self.identifiers, order)?;
                self.effects.emit(OrderEvent::Created { url: url.clone() });
                let retry_after = exchanged.response.retry_after(now);
                self.begin(client, url, order, None, retry_after, now)
            }
            (Purpose::Create, Err(Error::Problem(problem)))
                if problem.kind == ProblemType::AlreadyReplaced =>
            {
                let OrderState::Creating(request) = &mut self.stage else {
                    return Err(Error::Bug("a new order answered after its creation"));
                };
                // Sent again without `replaces`; refused without it: the server's word.
                let Some(cert_id) = request.replaces.take() else {
                    return Err(Error::Problem(problem));
                };
                self.effects.emit(OrderEvent::ReplacesDropped {
                    cert_id,
                    problem: *problem,
                });
                Ok(())
            }
            (Purpose::Order | Purpose::Finalize, Ok(exchanged)) => {
                let order = exchanged.response.json(ResponseKind::Order, &limits, now)?;
                let order = read_order(client, &mut self.identifiers, order)?;
                let retry_after = exchanged.response.retry_after(now);
                let Self {
                    stage,
                    csr,
                    effects,
                    ..
                } = self;
                match stage {
                    OrderState::Resuming(resuming) => {
                        let url = resuming.url.clone();
                        let provisioned = core::mem::take(&mut resuming.provisioned);
                        self.begin(client, url, order, Some(provisioned), retry_after, now)
                    }
                    OrderState::Live(live) => {
                        live.order = order;
                        live.advance(client, now, retry_after, csr.is_some(), effects)
                    }
                    OrderState::Creating(_) | OrderState::Done(_) => {
                        Err(Error::Bug("an order read before its creation"))
                    }
                }
            }
            (Purpose::Authorization(index), Ok(exchanged)) => {
                let authorization: Authorization =
                    exchanged
                        .response
                        .json(ResponseKind::Authorization, &limits, now)?;
                let live = live_mut(&mut self.stage)?;
                live.authorizations.landed(index);
                live.authorizations.record(
                    client,
                    index,
                    &exchanged.url,
                    &authorization,
                    &self.identifiers,
                )
            }
            (Purpose::Respond(index), Ok(exchanged)) => {
                let challenge: Challenge =
                    exchanged
                        .response
                        .json(ResponseKind::Challenge, &limits, now)?;
                let live = live_mut(&mut self.stage)?;
                live.authorizations.landed(index);
                live.authorizations.responded(index);
                // RFC 8555 §8.2: the server says when to look again on the challenge.
                live.polling.hint(exchanged.response.retry_after(now));
                if challenge.status() == Some(ChallengeStatus::Invalid) {
                    if let Challenge::Known(known) = challenge
                        && let Some(problem) = known.error
                    {
                        return Err(problem.into());
                    }
                    live.phase = LiveState::Diagnose { next: 0 };
                }
                // Otherwise the phase stays: `Respond`, unless an answer that landed
                // before this one moved it.
                Ok(())
            }
            (Purpose::Finalize, Err(Error::Problem(problem)))
                if problem.kind == ProblemType::OrderNotReady =>
            {
                // Not ready after all: poll, and finalize again once it is.
                let live = live_mut(&mut self.stage)?;
                live.polling.restart();
                live.poll_order(client, now, problem.retry_after, VALIDATION)
            }
            (Purpose::Finalize, Err(Error::Transport { attempts })) => {
                // The server may or may not have the CSR: ask the order, not the CSR again.
                let live = live_mut(&mut self.stage)?;
                if live.finalize_attempts >= OrderFlow::MAX_FINALIZE_ATTEMPTS {
                    return Err(Error::Transport { attempts });
                }
                live.phase = LiveState::PollOrder { at: now };
                Ok(())
            }
            (Purpose::Certificate, Ok(exchanged)) => {
                let chain =
                    CertificateChain::from_pem(exchanged.response.pem_chain(&limits, now)?)?;
                let unrequested_names = self.check_certificate(&chain, valid_until)?;
                let live = live_mut(&mut self.stage)?;
                let links = exchanged.response.links(&exchanged.url)?;
                let mut alternate_urls = Vec::new();
                for url in crate::headers::links_with(&links, &LinkRelation::Alternate)
                    .take(OrderFlow::MAX_ALTERNATES)
                {
                    client.check_url(url)?;
                    alternate_urls.push(url.clone());
                }
                live.phase = LiveState::Download(Some(Box::new(Downloaded {
                    url: exchanged.url,
                    chain,
                    unrequested_names,
                    alternate_urls,
                    next: 0,
                    alternates: Vec::new(),
                })));
                Ok(())
            }
            (Purpose::Alternate(index), Ok(exchanged)) => {
                let chain =
                    CertificateChain::from_pem(exchanged.response.pem_chain(&limits, now)?)?;
                self.check_certificate(&chain, valid_until)?;
                let live = live_mut(&mut self.stage)?;
                let LiveState::Download(Some(downloaded)) = &mut live.phase else {
                    return Err(Error::Bug("an alternate chain without its certificate"));
                };
                downloaded.alternates.push((exchanged.url, chain));
                downloaded.next = index + 1;
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
                live_mut(&mut self.stage)?.phase = LiveState::Diagnose { next: index + 1 };
                Ok(())
            }
            (_, Err(error)) => Err(error),
        }
    }

    /// The first order read: the order is live. Its authorizations are fetched first when
    /// it is pending, or when it was resumed (`resumed`: the challenges provisioned
    /// before, to rebuild and clean up); otherwise it goes on from its status.
    pub(super) fn begin(
        &mut self,
        client: &Client,
        url: Url,
        order: Order,
        resumed: Option<Vec<Url>>,
        retry_after: Option<UnixTime>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let fetch_first = resumed.is_some() || order.status == OrderStatus::Pending;
        let authorizations =
            AuthorizationTable::new(order.authorizations.clone(), resumed.unwrap_or_default());
        let mut live = Box::new(Live {
            url,
            order,
            authorizations,
            phase: LiveState::FetchAuthorizations,
            polling: Polling::default(),
            finalize_attempts: 0,
        });
        if !fetch_first {
            live.advance(
                client,
                now,
                retry_after,
                self.csr.is_some(),
                &mut self.effects,
            )?;
        }
        self.stage = OrderState::Live(live);
        Ok(())
    }

    /// The caller's CSR; it may come before the order is ready.
    pub(super) fn provide_csr(&mut self, der: Vec<u8>) -> Result<(), Misuse> {
        if der.is_empty() || der.len() > OrderFlow::MAX_CSR_LEN {
            return Err(Misuse::InvalidArgument(
                "the CSR is empty or larger than 64 KiB",
            ));
        }
        let finalized = match &self.stage {
            OrderState::Done(_) => true,
            // Once sent, the CSR stays the one the certificate is checked against.
            OrderState::Live(live) => {
                live.finalize_attempts > 0
                    || matches!(live.phase, LiveState::Finalize | LiveState::Download(_))
            }
            OrderState::Creating(_) | OrderState::Resuming(_) => false,
        };
        if finalized {
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
        if let OrderState::Live(live) = &mut self.stage
            && matches!(live.phase, LiveState::AwaitCsr)
        {
            live.phase = LiveState::Finalize;
        }
        Ok(())
    }

    /// The caller's choice of challenge for one of the order's authorizations.
    pub(super) fn challenge_ready(&mut self, challenge_url: &Url) -> Result<(), Misuse> {
        match &mut self.stage {
            OrderState::Live(live) => live.authorizations.choose(challenge_url, &self.identifiers),
            OrderState::Done(_) => Err(Misuse::InvalidArgument(
                "the order has ended: do not provision its challenges",
            )),
            OrderState::Creating(_) | OrderState::Resuming(_) => Err(Misuse::InvalidArgument(
                "no challenge of this order has been offered yet",
            )),
        }
    }
}

/// The live order a result is for: only a live order sends what this is the answer to.
fn live_mut(stage: &mut OrderState) -> Result<&mut Live, Error> {
    match stage {
        OrderState::Live(live) => Ok(live),
        _ => Err(Error::Bug("an order's answer before the order was read")),
    }
}

impl Live {
    /// Decides the next phase from the order's status.
    pub(super) fn advance(
        &mut self,
        client: &Client,
        now: UnixTime,
        retry_after: Option<UnixTime>,
        has_csr: bool,
        effects: &mut Effects<OrderEvent, Issued>,
    ) -> Result<(), Error> {
        // Challenges resumed from a snapshot whose authorization was not pending still
        // need cleaning up; they were rebuilt while fetching.
        self.authorizations.forget_resumed();
        match self.order.status {
            OrderStatus::Pending => {
                if self.authorizations.offered() || self.authorizations.unanswered().is_some() {
                    self.phase = LiveState::Respond;
                } else {
                    self.poll_order(client, now, retry_after, VALIDATION)?;
                }
            }
            OrderStatus::Ready => {
                self.clean_up(effects);
                if self.finalize_attempts >= OrderFlow::MAX_FINALIZE_ATTEMPTS {
                    return Err(Malformed::new(
                        "order",
                        MalformedKind::Invalid("the order stays ready after finalization"),
                    )
                    .into());
                }
                if has_csr {
                    self.phase = LiveState::Finalize;
                } else {
                    self.phase = LiveState::AwaitCsr;
                    let identifiers = self.order.identifiers.clone();
                    effects.emit(OrderEvent::NeedCsr { identifiers });
                }
            }
            OrderStatus::Processing => {
                self.clean_up(effects);
                self.poll_order(client, now, retry_after, ISSUANCE)?;
            }
            OrderStatus::Valid => {
                self.clean_up(effects);
                self.phase = LiveState::Download(None);
            }
            _ => self.phase = LiveState::Diagnose { next: 0 },
        }
        Ok(())
    }

    /// Polls the order next, when the schedule of the wait `for_what` says (a wait for
    /// another reason than the last starts a new schedule, with its own patience).
    fn poll_order(
        &mut self,
        client: &Client,
        now: UnixTime,
        retry_after: Option<UnixTime>,
        for_what: &'static str,
    ) -> Result<(), Error> {
        let at = self
            .polling
            .next(client.policy(), now, retry_after, for_what)?;
        self.phase = LiveState::PollOrder { at };
        Ok(())
    }

    /// Every provisioned challenge is no longer needed: the caller is told to remove it.
    pub(super) fn clean_up(&mut self, effects: &mut Effects<OrderEvent, Issued>) {
        for offer in self.authorizations.cleanups() {
            effects.emit(OrderEvent::Cleanup(offer));
        }
    }
}
