//! The built-in responders' accept loop. What they serve (values presented by one or
//! more orders, kept until the last of them cleans up) is `acme-proto-support`'s.

use std::future::Future;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// The most connections a responder serves at once; while that many are open, new ones
/// wait in the listener's backlog (they are not closed: a validation server making many
/// connections at once must not see its fetches fail), so that a flood cannot grow the
/// task set without bound.
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
        if connections.len() >= MAX_CONNECTIONS {
            // Every connection has a deadline of its own, so one ends in bounded time.
            let _ = connections.join_next().await;
            continue;
        }
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(%error, "{what} responder: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(handle(stream));
    }
}
