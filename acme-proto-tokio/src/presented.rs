//! What the built-in responders serve: values presented by one or more orders, kept
//! until the last of them cleans up.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// The most connections a responder serves at once; more are closed on arrival, so
/// that a flood cannot grow the task set without bound.
const MAX_CONNECTIONS: usize = 256;

/// A responder's accept loop: each connection handed to `handle` in its own task, at
/// most [`MAX_CONNECTIONS`] at once. Ends (with every connection) when its task is
/// aborted, which the responders do when dropped.
pub(crate) async fn serve_connections<F, Fut>(listener: TcpListener, what: &'static str, handle: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(%error, "{what} responder: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if connections.len() >= MAX_CONNECTIONS {
            tracing::warn!("{what} responder: too many connections, closing a new one");
            continue;
        }
        let _ = stream.set_nodelay(true);
        connections.spawn(handle(stream));
    }
}

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

    /// The value served under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        self.lock().get(key).map(|(value, _)| value.clone())
    }

    /// How many keys are served.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}
