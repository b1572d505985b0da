//! The built-in responders' accept loop. What they serve (values presented by one or
//! more orders, kept until the last of them cleans up) and how many connections they
//! serve (`ResponderLimits`, counted by a `ConnectionLimiter`) are `acme-proto-support`'s.

use std::future::Future;
use std::time::Duration;

use acme_proto_support::ConnectionLimiter;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// How long an answer may take to be written once its request head (or handshake) is
/// in: past the head timeout, what is left is a few hundred bytes into a socket buffer.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// A responder's accept loop: every connection accepted at once (the listener's backlog
/// never fills behind a flood), then either closed at once, when `limiter` says it is
/// over a limit, or handed to `handle` in a task of its own, counted until that task
/// ends. Ends (with every connection) when its task is aborted, which the responders
/// do when dropped.
pub(crate) async fn serve_connections<F, Fut>(
    listener: TcpListener,
    limiter: ConnectionLimiter,
    handle: F,
) where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(%error, "{} responder: accept failed", limiter.what());
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Over a limit: closed here and now (dropped), without a task.
        let Some(admission) = limiter.admit(peer.ip()) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = handle(stream);
        connections.spawn(async move {
            let _admission = admission;
            connection.await;
        });
    }
}
