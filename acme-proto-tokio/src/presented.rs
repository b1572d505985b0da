//! What the built-in responders serve: values presented by one or more orders, kept
//! until the last of them cleans up.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Key → (value, how many orders presented it). Two concurrent orders may be offered
/// the same challenge (a reused authorization): it stays served until both cleaned up.
#[derive(Debug)]
pub(crate) struct Presented<V> {
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
    pub(crate) fn add(&self, key: String, value: V) {
        let mut map = self.lock();
        let entry = map.entry(key).or_insert((value, 0));
        entry.1 = entry.1.saturating_add(1);
    }

    /// One order less for `key`; the value goes when none is left.
    pub(crate) fn remove(&self, key: &str) {
        let mut map = self.lock();
        if let Some(entry) = map.get_mut(key) {
            entry.1 = entry.1.saturating_sub(1);
            if entry.1 == 0 {
                map.remove(key);
            }
        }
    }

    /// Whether something is served under `key`.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.lock().contains_key(key)
    }

    /// The value served under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        self.lock().get(key).map(|(value, _)| value.clone())
    }

    /// How many keys are served.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}
