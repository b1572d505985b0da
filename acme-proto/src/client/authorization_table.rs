//! The authorization table an order and a pre-authorization share: where each
//! authorization stands, the check that it is for a requested identifier, the offers the
//! caller was given, the caller's choice (`challenge_ready`), and the challenges to clean
//! up.

use alloc::boxed::Box;
use alloc::string::ToString;
use alloc::vec::Vec;

use url::Url;

use super::Client;
use super::offer::{self, ChallengeOffer, CompactOffer};
use crate::crypto::Thumbprint;
use crate::error::Error;
use crate::fault::{Malformed, MalformedKind, Misuse};
use crate::identifier::Identifier;
use crate::problem::Problem;
use crate::resource::{Authorization, Challenge};
use crate::status::{AuthorizationStatus, ChallengeStatus};

/// Where an authorization stands.
#[derive(Debug, Clone)]
enum Slot {
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
struct Offered {
    /// Whether the authorization is for a wildcard name.
    wildcard: bool,
    /// The authorization's identifier as the server sent it (without `*.`), only when it
    /// is not the requested identifier the authorization is for (without `*.`): never
    /// for a server that passed the checks, but made sure of, not assumed.
    identifier: Option<Box<Identifier>>,
    offers: Box<[CompactOffer]>,
}

impl Offered {
    fn find(&self, challenge_url: &Url) -> Option<&CompactOffer> {
        self.offers.iter().find(|o| o.is_at(challenge_url))
    }
}

#[derive(Debug, Clone)]
struct Entry {
    url: Url,
    /// Which of the requested identifiers (its index) this authorization is for, once
    /// fetched and checked.
    identifier: Option<u32>,
    slot: Slot,
    /// Whether a request for it is out (its fetch, or its challenge's answer), among
    /// others sent together: an order's authorizations are fetched together, and their
    /// chosen challenges answered together.
    in_flight: bool,
}

/// The authorizations of one order (or the one of a pre-authorization), checked against
/// the requested identifiers the caller passes in.
#[derive(Debug, Default)]
pub(crate) struct AuthorizationTable {
    entries: Vec<Entry>,
    /// Every challenge the caller provisioned and has not been told to clean up.
    provisioned: Vec<ChallengeOffer>,
    /// Challenge URLs provisioned in an earlier process (from a snapshot), until their
    /// authorization is fetched and the offer rebuilt.
    resumed: Vec<Url>,
    /// The account key's thumbprint the compact offers were made with.
    thumbprint: Option<Thumbprint>,
    /// `Authorize` events held until [`AuthorizationTable::release_offers`], so that no
    /// challenge is presented for an order refused on a later authorization.
    held: Vec<Authorize>,
}

/// What the caller is asked to prove for one authorization: the content of an
/// `AuthorizationEvent::Authorize` (an `OrderEvent::Authorize` in an order).
#[derive(Debug, Clone)]
pub(crate) struct Authorize {
    pub(crate) authorization: Url,
    pub(crate) identifier: Identifier,
    pub(crate) wildcard: bool,
    pub(crate) offers: Vec<ChallengeOffer>,
}

/// The identifier an authorization for `requested` names: the same, or for a wildcard
/// the name without `*.` (RFC 8555 §7.1.4).
fn authorization_identifier(requested: &Identifier, wildcard: bool) -> Option<Identifier> {
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

/// Why an authorization failed: the error of its invalid challenge, naming the identifier.
pub(crate) fn failure_of(authorization: &Authorization) -> Option<Problem> {
    if authorization.status == AuthorizationStatus::Valid {
        return None;
    }
    authorization
        .challenges
        .iter()
        .filter_map(Challenge::known)
        .find_map(|c| {
            let mut problem = c.error.clone()?;
            if problem.identifier.is_none() {
                problem.identifier = Some(authorization.identifier.clone());
            }
            Some(problem)
        })
}

/// [`failure_of`], or a `Malformed` when the server says not why.
pub(crate) fn failure(authorization: &Authorization, what: &'static str) -> Error {
    match failure_of(authorization) {
        Some(problem) => problem.into(),
        None => Malformed::new("authorization", MalformedKind::Invalid(what)).into(),
    }
}

impl AuthorizationTable {
    /// A table of the authorizations at `urls`, none fetched yet; `resumed` lists the
    /// challenges provisioned before a resume.
    pub(crate) fn new(urls: Vec<Url>, resumed: Vec<Url>) -> Self {
        Self {
            entries: urls
                .into_iter()
                .map(|url| Entry {
                    url,
                    identifier: None,
                    slot: Slot::Unfetched,
                    in_flight: false,
                })
                .collect(),
            resumed,
            ..Self::default()
        }
    }

    /// The first authorization not fetched and not being fetched, now marked as being
    /// fetched, with its index.
    pub(crate) fn next_unfetched(&mut self) -> Option<(usize, Url)> {
        let (index, entry) = self
            .entries
            .iter_mut()
            .enumerate()
            .find(|(_, e)| matches!(e.slot, Slot::Unfetched) && !e.in_flight)?;
        entry.in_flight = true;
        Some((index, entry.url.clone()))
    }

    /// Whether a request for one of the authorizations is out.
    pub(crate) fn any_in_flight(&self) -> bool {
        self.entries.iter().any(|e| e.in_flight)
    }

    /// The request out for the authorization at `index` ended (whatever it came to).
    pub(crate) fn landed(&mut self, index: usize) {
        if let Some(entry) = self.entries.get_mut(index) {
            entry.in_flight = false;
        }
    }

    /// The first authorization from `index` on that is not valid: the ones to ask why an
    /// order failed.
    pub(crate) fn first_not_valid(&self, index: usize) -> Option<(usize, &Url)> {
        self.entries
            .iter()
            .enumerate()
            .skip(index)
            .find(|(_, e)| !matches!(e.slot, Slot::Valid))
            .map(|(i, e)| (i, &e.url))
    }

    /// The first chosen challenge the server has not been told of, and is not being
    /// told of, with its authorization's index.
    pub(crate) fn unanswered(&self) -> Option<(usize, &Url)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.in_flight)
            .find_map(|(i, e)| match &e.slot {
                Slot::Chosen {
                    offer,
                    responded: false,
                } => Some((i, &offer.url)),
                _ => None,
            })
    }

    /// [`unanswered`](Self::unanswered), now marked as being answered.
    pub(crate) fn answer_next(&mut self) -> Option<(usize, Url)> {
        let (index, url) = self.unanswered().map(|(i, url)| (i, url.clone()))?;
        if let Some(entry) = self.entries.get_mut(index) {
            entry.in_flight = true;
        }
        Some((index, url))
    }

    /// Notes that the server was told of the challenge chosen at `index`.
    pub(crate) fn responded(&mut self, index: usize) {
        if let Some(Slot::Chosen { responded, .. }) =
            self.entries.get_mut(index).map(|e| &mut e.slot)
        {
            *responded = true;
        }
    }

    /// Whether an authorization waits for the caller to choose a challenge.
    pub(crate) fn offered(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e.slot, Slot::Offered(_)))
    }

    /// Whether the caller must act before anything can be sent: a challenge is offered
    /// and none chosen waits to be answered.
    pub(crate) fn waits_for_caller(&self) -> bool {
        self.offered() && self.unanswered().is_none()
    }

    /// The challenges provisioned and not yet given back to clean up.
    pub(crate) fn provisioned_urls(&self) -> impl Iterator<Item = &Url> {
        self.provisioned.iter().map(|o| &o.url)
    }

    /// The challenges provisioned before a resume whose offers are not rebuilt yet.
    pub(crate) fn resumed_urls(&self) -> &[Url] {
        &self.resumed
    }

    /// Forgets the challenges resumed from a snapshot that no fetched authorization
    /// lists: nothing can rebuild their offers.
    pub(crate) fn forget_resumed(&mut self) {
        self.resumed.clear();
    }

    /// The `Authorize` events held, to be emitted now that every authorization passed
    /// its check.
    pub(crate) fn release_offers(&mut self) -> Vec<Authorize> {
        core::mem::take(&mut self.held)
    }

    /// Drops the offers held back: the order ended before they were shown, so nothing
    /// was presented for them.
    pub(crate) fn discard_offers(&mut self) {
        self.held = Vec::new();
    }

    /// Every provisioned challenge, to clean up now.
    pub(crate) fn cleanups(&mut self) -> impl Iterator<Item = ChallengeOffer> + '_ {
        self.provisioned.drain(..)
    }

    /// Records what the authorization at `index` (fetched from `url`) asks for, after
    /// checking it against the `requested` identifiers.
    pub(crate) fn record(
        &mut self,
        client: &Client,
        index: usize,
        url: &Url,
        authorization: &Authorization,
        requested: &[Identifier],
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
        self.check(index, authorization, requested)?;
        let thumbprint = client.thumbprint();
        // Challenges provisioned in an earlier process: rebuild them, to clean them up.
        for challenge in authorization.challenges.iter().filter_map(Challenge::known) {
            if let Some(at) = self.resumed.iter().position(|u| u == &challenge.url) {
                self.resumed.swap_remove(at);
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
                    } else if let Some(entry) = self.entries.get_mut(index) {
                        self.provisioned.push(offer.clone());
                        if authorization.status == AuthorizationStatus::Pending {
                            entry.slot = Slot::Chosen {
                                offer: Box::new(offer),
                                responded: true,
                            };
                            return Ok(());
                        }
                    }
                }
            }
        }
        let Some(entry) = self.entries.get_mut(index) else {
            return Ok(());
        };
        entry.slot = match authorization.status {
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
                let derived = entry
                    .identifier
                    .and_then(|at| requested.get(usize::try_from(at).ok()?))
                    .and_then(|r| authorization_identifier(r, authorization.wildcard));
                let offered = Offered {
                    identifier: (derived.as_ref() != Some(&authorization.identifier))
                        .then(|| Box::new(authorization.identifier.clone())),
                    wildcard: authorization.wildcard,
                    offers: made
                        .iter()
                        .map(|(o, challenge)| CompactOffer::new(o, &challenge.kind, compact))
                        .collect(),
                };
                self.held.push(Authorize {
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

    /// Checks that an authorization is for one of the `requested` identifiers, and for
    /// one no other authorization of the table covers: the caller is never asked to
    /// present a challenge for a name it did not ask for.
    pub(crate) fn check(
        &mut self,
        index: usize,
        authorization: &Authorization,
        requested: &[Identifier],
    ) -> Result<(), Error> {
        let identifier = match (&authorization.identifier, authorization.wildcard) {
            (Identifier::Dns(name), true) if !name.is_wildcard() => {
                crate::identifier::DnsName::new(&alloc::format!("*.{}", name.as_str()))
                    .ok()
                    .map(Identifier::Dns)
            }
            (Identifier::Dns(name), _) if name.is_wildcard() => None,
            (_, true) => None,
            (other, false) => Some(other.clone()),
        };
        // Equal identifiers have the same first index.
        let claimed = |at: u32| {
            self.entries
                .iter()
                .enumerate()
                .any(|(i, e)| i != index && e.identifier == Some(at))
        };
        let found = identifier
            .and_then(|id| requested.iter().position(|r| *r == id))
            .and_then(|at| u32::try_from(at).ok());
        match found {
            Some(at) if !claimed(at) => {
                if let Some(entry) = self.entries.get_mut(index) {
                    entry.identifier = Some(at);
                }
                Ok(())
            }
            _ => {
                let shown = if authorization.wildcard {
                    alloc::format!("*.{}", authorization.identifier)
                } else {
                    authorization.identifier.to_string()
                };
                Err(Malformed::new(
                    "authorization",
                    MalformedKind::mismatch("identifier", shown),
                )
                .into())
            }
        }
    }

    /// The caller's choice: the offered challenge at `challenge_url` is in place.
    pub(crate) fn choose(
        &mut self,
        challenge_url: &Url,
        requested: &[Identifier],
    ) -> Result<(), Misuse> {
        const NOT_OFFERED: Misuse =
            Misuse::InvalidArgument("no pending challenge offered has that URL");
        let thumbprint = self.thumbprint.as_ref();
        let entry = self
            .entries
            .iter_mut()
            .find(|e| matches!(&e.slot, Slot::Offered(offered) if offered.find(challenge_url).is_some()))
            .ok_or(NOT_OFFERED)?;
        let Slot::Offered(offered) = &entry.slot else {
            return Err(NOT_OFFERED);
        };
        let identifier = match &offered.identifier {
            Some(identifier) => Some(Identifier::clone(identifier)),
            None => entry
                .identifier
                .and_then(|at| requested.get(usize::try_from(at).ok()?))
                .and_then(|r| authorization_identifier(r, offered.wildcard)),
        };
        let offer = offered
            .find(challenge_url)
            .zip(identifier)
            .and_then(|(o, identifier)| {
                o.to_offer(&entry.url, &identifier, offered.wildcard, thumbprint)
            })
            .ok_or(NOT_OFFERED)?;
        // Already listed when it was provisioned before a resume.
        if !self.provisioned.iter().any(|p| p.url == offer.url) {
            self.provisioned.push(offer.clone());
        }
        entry.slot = Slot::Chosen {
            offer: Box::new(offer),
            responded: false,
        };
        Ok(())
    }
}
