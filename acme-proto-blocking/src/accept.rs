//! The built-in responders' accept loop on `std::net`: a thread accepting every
//! connection at once (the listener's backlog never fills behind a flood), each then
//! closed at once when over a limit, or served on a thread of its own, every socket with
//! read and write timeouts. What the responders serve (values presented by one or more
//! orders, kept until the last of them cleans up) and how many connections they serve
//! (`ResponderLimits`, counted by a `ConnectionLimiter`) are `acme-proto-support`'s.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use acme_proto_support::ConnectionLimiter;

/// How long writing an answer may block (a peer that does not read it), once its
/// request head (or handshake message) is in.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// A running accept loop; stopped (and its thread joined) when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `listener`, handing each connection `limiter` admits to `handle` on its
    /// own thread.
    pub(crate) fn start(
        listener: TcpListener,
        limiter: ConnectionLimiter,
        handle: impl Fn(TcpStream) + Send + Sync + 'static,
    ) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let what = limiter.what();
        let thread = std::thread::Builder::new()
            .name(format!("{what} responder"))
            .spawn(move || accept(&listener, &stopped, &limiter, Arc::new(handle)))?;
        Ok(Self {
            local_addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address listened on.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // `accept` blocks: a connection of our own wakes it to see the flag. Should that
        // fail, the thread is left to end at its next connection rather than block here.
        let mut wake = self.local_addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        if TcpStream::connect_timeout(&wake, Duration::from_secs(1)).is_ok()
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
    }
}

fn accept(
    listener: &TcpListener,
    stop: &AtomicBool,
    limiter: &ConnectionLimiter,
    handle: Arc<dyn Fn(TcpStream) + Send + Sync>,
) {
    let what = limiter.what();
    let head_timeout = limiter.limits().head_timeout;
    // Connection threads are named by the responder and its port (`http-01 :8080`), so
    // that each responder's can be told apart (in a debugger, or /proc/PID/task).
    let port = listener.local_addr().map_or(0, |address| address.port());
    let thread_name = format!("{what} :{port}");
    loop {
        let accepted = listener.accept();
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(%error, "{what} responder: accept failed");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        // Over a limit: closed here and now (dropped), without a thread.
        let Some(admission) = limiter.admit(peer.ip()) else {
            continue;
        };
        // The handlers shorten the read timeout as their deadline nears; a zero
        // timeout would mean none, so a zero head timeout reads 1 ms.
        let ready = stream.set_nodelay(true).and_then(|()| {
            stream.set_read_timeout(Some(head_timeout.max(Duration::from_millis(1))))?;
            stream.set_write_timeout(Some(ANSWER_TIMEOUT))
        });
        if ready.is_err() {
            continue;
        }
        let handle = Arc::clone(&handle);
        let spawned = std::thread::Builder::new()
            .name(thread_name.clone())
            .spawn(move || {
                let _admission = admission;
                handle(stream);
            });
        if let Err(error) = spawned {
            // The closure, and with it the admission, was dropped: the count is right.
            tracing::warn!(%error, "{what} responder: no thread for a connection");
        }
    }
}
