//! The caller's side: what it does between polls (clock jumps, snapshots, restarts,
//! stray answers, abandoning) and how it answers the flow's events, rightly or not.

use std::time::Duration;

use acme_proto::Identifier;
use acme_proto::client::{Operation as _, OrderEvent};
use arbitrary::{Result, Unstructured};
use url::Url;

use super::drive::check_snapshot;
use super::keys::csr;
use super::setup::{NAMES, identifier};
use super::{Outstanding, World, checks, one_in};

impl World {
    /// What the caller may do between polls, besides answering events.
    pub(super) fn caller_acts(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        match u.int_in_range(0..=15u8)? {
            1 => {
                self.now = self
                    .now
                    .saturating_add(Duration::from_secs(u.int_in_range(0..=30)?))
            }
            2 => {
                // The wall clock steps back (NTP, a VM resumed).
                self.now = self
                    .now
                    .saturating_sub(Duration::from_secs(u.int_in_range(1..=3600)?));
            }
            3 => {
                if let Some(snapshot) = self.flow.snapshot() {
                    check_snapshot(&snapshot);
                }
            }
            4 => self.restart(),
            5 => {
                // A response for a request that is not out is refused, and harmless.
                if let Some(id) = self.last_id {
                    let response = acme_proto::Response::new(200, Default::default(), Vec::new());
                    let refused =
                        self.flow
                            .handle_response(&mut self.client, id, response, self.now);
                    assert!(
                        refused.is_err(),
                        "a response to a request not out was taken"
                    );
                    let refused = self.flow.handle_transport_failure(
                        &mut self.client,
                        id,
                        acme_proto::TransportFailure::Reset,
                        self.now,
                    );
                    assert!(refused.is_err(), "a failure of a request not out was taken");
                }
            }
            6 => {
                let names: Vec<Identifier> = NAMES.iter().map(|n| identifier(n)).collect();
                if self
                    .flow
                    .provide_csr(csr(names.get(..1).unwrap_or_default()))
                    .is_ok()
                {
                    self.checker.on_csr_taken(true);
                }
            }
            7 => {
                let _ = self.answer_something(u)?;
            }
            8 => assert!(self.flow.take_outcome().is_none(), "an outcome before Done"),
            // The caller ends the order early, rarely: every challenge said ready must
            // still come back to clean up (the checker's), and nothing more be sent.
            15 if one_in(u, 8)? => {
                trace!("abandon");
                self.flow.abandon();
                self.abandoned = true;
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn on_event(&mut self, u: &mut Unstructured<'_>, event: OrderEvent) -> Result<()> {
        match event {
            OrderEvent::Created { url } => {
                checks::check_url(&url);
                if let Some(snapshot) = self.flow.snapshot() {
                    assert_eq!(snapshot.url, url, "the snapshot names another order");
                    check_snapshot(&snapshot);
                }
            }
            OrderEvent::Authorize {
                offers,
                identifier,
                wildcard,
                ..
            } => {
                self.checker.on_authorize(&identifier, wildcard);
                assert!(!offers.is_empty(), "an authorization offered with no offer");
                self.outstanding.push(Outstanding { offers });
                if u.int_in_range(0..=3u8)? == 0 {
                    self.answer_something(u)?;
                }
            }
            OrderEvent::Cleanup(offer) => self.checker.on_cleanup(&offer),
            OrderEvent::NeedCsr { identifiers } => {
                self.checker.on_need_csr(&identifiers);
                self.need_csr = Some(identifiers);
                if u.int_in_range(0..=3u8)? == 0 {
                    self.answer_something(u)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Answers one outstanding event, as the input chooses; `false` when none is left.
    pub(super) fn answer_something(&mut self, u: &mut Unstructured<'_>) -> Result<bool> {
        if let Some(identifiers) = self.need_csr.take() {
            let (csr, ours) = match u.int_in_range(0..=5u8)? {
                1 => (u.arbitrary::<Vec<u8>>()?, false),
                2 => (Vec::new(), false),
                3 => (vec![0x30; 70_000], false),
                _ => (csr(&identifiers), true),
            };
            let valid = !csr.is_empty() && csr.len() <= 64 * 1024;
            let taken = self.flow.provide_csr(csr);
            if taken.is_ok() {
                self.checker.on_csr_taken(ours);
            }
            if taken.is_err() || !valid {
                assert!(
                    taken.is_err() || valid,
                    "an empty or oversized CSR was taken"
                );
                // The CSR is still wanted.
                self.need_csr = Some(identifiers);
                if !valid {
                    return Ok(true);
                }
            }
            return Ok(true);
        }
        if self.outstanding.is_empty() {
            return Ok(false);
        }
        let at = u.choose_index(self.outstanding.len())?;
        let entry = self.outstanding.remove(at);
        let choice = u.choose_index(entry.offers.len())?;
        if one_in(u, 16)? {
            let bogus = match Url::parse("https://ca.test/acme/chall/none-such") {
                Ok(url) => url,
                Err(e) => panic!("{e}"),
            };
            assert!(
                self.flow.challenge_ready(&bogus).is_err(),
                "an unknown challenge was taken"
            );
        }
        if let Some(offer) = entry.offers.get(choice)
            && self.flow.challenge_ready(&offer.url).is_ok()
        {
            trace!("ready {}", offer.url);
            self.checker.on_ready(offer);
        }
        Ok(true)
    }
}
