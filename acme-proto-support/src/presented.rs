//! What the built-in responders serve: values presented by one or more orders, kept
//! until the last of them cleans up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use acme_proto::client::{ChallengeOffer, Solution};

use crate::error::SolverError;

/// The first offer whose solution `is` accepts: the usual `choose` of a solver that
/// answers one challenge type.
pub fn first_offer(
    offers: &[ChallengeOffer],
    is: impl Fn(&Solution) -> bool,
) -> Option<&ChallengeOffer> {
    offers.iter().find(|offer| is(&offer.solution))
}

/// Key → (value, how many orders presented it). Two concurrent orders may be offered
/// the same challenge (a reused authorization): it stays served until both cleaned
/// up. Shared between threads; every method takes `&self`.
#[derive(Debug)]
pub struct Presented<V> {
    map: Mutex<HashMap<String, (V, usize)>>,
}

impl<V> Default for Presented<V> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> Presented<V> {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (V, usize)>> {
        // The map is consistent between two statements: poisoning carries no meaning.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves `value` under `key`, or counts one more order for the value already there.
    pub fn add(&self, key: String, value: V) {
        let mut map = self.lock();
        let entry = map.entry(key).or_insert((value, 0));
        entry.1 = entry.1.saturating_add(1);
    }

    /// The value under `key`, made by `make` and added when there is none; either way
    /// one more order counts for it.
    pub fn add_with<E>(&self, key: String, make: impl FnOnce() -> Result<V, E>) -> Result<(), E> {
        let mut map = self.lock();
        if let Some(entry) = map.get_mut(&key) {
            entry.1 = entry.1.saturating_add(1);
        } else {
            map.insert(key, (make()?, 1));
        }
        Ok(())
    }

    /// One order less for `key`; the value goes when none is left.
    pub fn remove(&self, key: &str) {
        let mut map = self.lock();
        if let Some(entry) = map.get_mut(key) {
            entry.1 = entry.1.saturating_sub(1);
            if entry.1 == 0 {
                map.remove(key);
            }
        }
    }

    /// The value served under `key`.
    pub fn get(&self, key: &str) -> Option<V> {
        self.lock().get(key).map(|(value, _)| value.clone())
    }

    /// How many keys are served.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is served.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What an http-01 responder serves: token → key authorization, for every order that
/// shares the responder. Cloning shares the map.
#[derive(Debug, Clone, Default)]
pub struct Http01Tokens(Arc<Presented<String>>);

/// The path prefix of http-01 (RFC 8555 §8.3).
const PREFIX: &str = "/.well-known/acme-challenge/";

impl Http01Tokens {
    /// Picks the http-01 offer.
    pub fn choose(offers: &[ChallengeOffer]) -> Option<&ChallengeOffer> {
        first_offer(offers, |s| matches!(s, Solution::Http01 { .. }))
    }

    /// Serves `offer`'s key authorization under its token.
    pub fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        let Solution::Http01 {
            token,
            key_authorization,
            ..
        } = &offer.solution
        else {
            return Err(format!("not an http-01 challenge: {}", offer.type_name()).into());
        };
        self.0.add(
            token.as_str().to_owned(),
            key_authorization.as_str().to_owned(),
        );
        Ok(())
    }

    /// Stops serving `offer` (once every order that presented it cleaned up).
    pub fn cleanup(&self, offer: &ChallengeOffer) {
        if let Solution::Http01 { token, .. } = &offer.solution {
            self.0.remove(token.as_str());
        }
    }

    /// The answer to `GET path` (or `HEAD`): the key authorization, when `path` is a
    /// presented token's. Any other method or path gets `None` (a 404).
    pub fn answer(&self, method: &str, path: &str) -> Option<String> {
        let found = if method == "GET" || method == "HEAD" {
            path.strip_prefix(PREFIX)
                .and_then(|token| self.0.get(token))
        } else {
            None
        };
        tracing::debug!(method, path, found = found.is_some(), "http-01 request");
        found
    }

    /// How many tokens are served.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no token is served.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
