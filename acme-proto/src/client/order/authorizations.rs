//! The order's authorization table: where each authorization stands, the offers the
//! caller was given, and the caller's choice (`challenge_ready`).

use alloc::boxed::Box;

use url::Url;

use super::checks::failure_of;
use super::events::OrderEvent;
use super::state::{OrderMachine, State};
use crate::client::Client;
use crate::client::offer::{self, ChallengeOffer, CompactOffer};
use crate::error::Error;
use crate::fault::Misuse;
use crate::identifier::Identifier;
use crate::resource::{Authorization, Challenge};
use crate::status::{AuthorizationStatus, ChallengeStatus};

/// Where an authorization of the order stands.
#[derive(Debug, Clone)]
pub(super) enum Slot {
    /// Not fetched yet.
    Unfetched,
    /// Valid: nothing to do (for instance reused from an earlier order).
    Valid,
    /// Offered to the caller, waiting for `challenge_ready`.
    Offered(Offered),
    /// The caller provisioned this challenge; `responded` once the server was told.
    Chosen {
        offer: Box<ChallengeOffer>,
        responded: bool,
    },
    /// Not valid and not pending (invalid, deactivated, expired, revoked).
    Failed,
}

/// The offers of a pending authorization, as the caller was given them, kept compactly
/// until one is chosen.
#[derive(Debug, Clone)]
pub(super) struct Offered {
    /// Whether the authorization is for a wildcard name.
    pub(super) wildcard: bool,
    /// The authorization's identifier as the server sent it (without `*.`), only when it
    /// is not the requested identifier the authorization is for (without `*.`): never
    /// for a server that passed the checks, but made sure of, not assumed.
    pub(super) identifier: Option<Box<Identifier>>,
    pub(super) offers: Box<[CompactOffer]>,
}

impl Offered {
    pub(super) fn find(&self, challenge_url: &Url) -> Option<&CompactOffer> {
        self.offers.iter().find(|o| o.is_at(challenge_url))
    }
}

/// The identifier an authorization for `requested` names: the same, or for a wildcard
/// the name without `*.` (RFC 8555 §7.1.4).
pub(super) fn authorization_identifier(
    requested: &Identifier,
    wildcard: bool,
) -> Option<Identifier> {
    match requested {
        Identifier::Dns(name) if wildcard => {
            crate::identifier::DnsName::new(name.without_wildcard())
                .ok()
                .map(Identifier::Dns)
        }
        _ if wildcard => None,
        other => Some(other.clone()),
    }
}

#[derive(Debug, Clone)]
pub(super) struct AuthorizationSlot {
    pub(super) url: Url,
    /// Which of the requested identifiers (its index) this authorization is for, once
    /// fetched and checked.
    pub(super) identifier: Option<u32>,
    pub(super) slot: Slot,
}

impl OrderMachine {
    /// Records what a fetched authorization asks for.
    pub(super) fn on_authorization(
        &mut self,
        client: &Client,
        index: usize,
        url: &Url,
        authorization: &Authorization,
    ) -> Result<(), Error> {
        let account_url = client
            .account_url()
            .cloned()
            .ok_or(Misuse::InvalidArgument(
                "no account yet: create or find the account first",
            ))?;
        // Every challenge URL may end up requested, provisioned or in a snapshot.
        for challenge in authorization.challenges.iter().filter_map(Challenge::known) {
            client.check_url(&challenge.url)?;
        }
        self.check_authorization(index, authorization)?;
        let thumbprint = client.thumbprint();
        // Challenges provisioned in an earlier process: rebuild them, to clean them up.
        for challenge in authorization.challenges.iter().filter_map(Challenge::known) {
            if let Some(at) = self
                .resumed_provisioned
                .iter()
                .position(|u| u == &challenge.url)
            {
                self.resumed_provisioned.swap_remove(at);
                if let Some(offer) = offer::offer(
                    url,
                    authorization,
                    challenge,
                    thumbprint,
                    &account_url,
                    client.directory_url(),
                )? {
                    if challenge.status == ChallengeStatus::Pending {
                        // Offered again below; the caller says ready once more.
                        self.provisioned.push(offer);
                    } else if let Some(slot) = self.slots.get_mut(index) {
                        self.provisioned.push(offer.clone());
                        if authorization.status == AuthorizationStatus::Pending {
                            slot.slot = Slot::Chosen {
                                offer: Box::new(offer),
                                responded: true,
                            };
                            return Ok(());
                        }
                    }
                }
            }
        }
        let Some(slot) = self.slots.get_mut(index) else {
            return Ok(());
        };
        slot.slot = match authorization.status {
            AuthorizationStatus::Valid => Slot::Valid,
            AuthorizationStatus::Pending => {
                let made = offer::offers_of(
                    url,
                    authorization,
                    thumbprint,
                    &account_url,
                    client.directory_url(),
                )?;
                if made.is_empty() {
                    return Err(Misuse::Unsupported(
                        "the server offers no challenge this client can answer for an identifier",
                    )
                    .into());
                }
                // The offers are kept compactly only if they can be made again with the
                // thumbprint kept (the first one seen: a key rollover while the order
                // runs keeps later offers whole).
                let compact =
                    self.thumbprint.get_or_insert_with(|| thumbprint.clone()) == thumbprint;
                let derived = slot
                    .identifier
                    .and_then(|at| self.identifiers.get(usize::try_from(at).ok()?))
                    .and_then(|requested| {
                        authorization_identifier(requested, authorization.wildcard)
                    });
                let offered = Offered {
                    identifier: (derived.as_ref() != Some(&authorization.identifier))
                        .then(|| Box::new(authorization.identifier.clone())),
                    wildcard: authorization.wildcard,
                    offers: made
                        .iter()
                        .map(|(o, challenge)| CompactOffer::new(o, &challenge.kind, compact))
                        .collect(),
                };
                self.offers_held.push(OrderEvent::Authorize {
                    authorization: url.clone(),
                    identifier: authorization.identifier.clone(),
                    wildcard: authorization.wildcard,
                    offers: made.into_iter().map(|(o, _)| o).collect(),
                });
                Slot::Offered(offered)
            }
            _ => {
                if let Some(problem) = failure_of(authorization) {
                    return Err(problem.into());
                }
                Slot::Failed
            }
        };
        Ok(())
    }

    pub(super) fn challenge_ready(&mut self, challenge_url: &Url) -> Result<(), Misuse> {
        if matches!(self.state, State::Done) {
            return Err(Misuse::InvalidArgument(
                "the order has ended: do not provision its challenges",
            ));
        }
        const NOT_OFFERED: Misuse =
            Misuse::InvalidArgument("no pending challenge of this order has that URL");
        let thumbprint = self.thumbprint.as_ref();
        let slot = self
            .slots
            .iter_mut()
            .find(|s| matches!(&s.slot, Slot::Offered(offered) if offered.find(challenge_url).is_some()))
            .ok_or(NOT_OFFERED)?;
        let Slot::Offered(offered) = &slot.slot else {
            return Err(NOT_OFFERED);
        };
        let identifier = match &offered.identifier {
            Some(identifier) => Some(Identifier::clone(identifier)),
            None => slot
                .identifier
                .and_then(|at| self.identifiers.get(usize::try_from(at).ok()?))
                .and_then(|requested| authorization_identifier(requested, offered.wildcard)),
        };
        let offer = offered
            .find(challenge_url)
            .zip(identifier)
            .and_then(|(o, identifier)| {
                o.to_offer(&slot.url, &identifier, offered.wildcard, thumbprint)
            })
            .ok_or(NOT_OFFERED)?;
        // Already listed when it was provisioned before a resume.
        if !self.provisioned.iter().any(|p| p.url == offer.url) {
            self.provisioned.push(offer.clone());
        }
        slot.slot = Slot::Chosen {
            offer: Box::new(offer),
            responded: false,
        };
        Ok(())
    }
}
