//! The built-in responders' accept loop on `std::net`: a thread accepting connections,
//! each served on its own thread, at most [`MAX_CONNECTIONS`] at once (more wait in the
//! listener's backlog), every socket with read and write timeouts. What the responders serve (values presented by one or
//! more orders, kept until the last of them cleans up) is `acme-proto-support`'s.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// The most connections a responder serves at once; while that many are open, new ones
/// wait in the listener's backlog (they are not closed: a validation server making many
/// connections at once must not see its fetches fail), so that a flood cannot grow the
/// number of threads without bound.
pub(crate) const MAX_CONNECTIONS: usize = 64;

/// How long a connection may stay silent, or refuse to take what is written to it.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A running accept loop; stopped (and its thread joined) when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `listener`, handing each connection to `handle` on its own thread.
    pub(crate) fn start(
        listener: TcpListener,
        what: &'static str,
        handle: impl Fn(TcpStream) + Send + Sync + 'static,
    ) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(format!("{what} responder"))
            .spawn(move || accept(&listener, what, &stopped, Arc::new(handle)))?;
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
    what: &'static str,
    stop: &AtomicBool,
    handle: Arc<dyn Fn(TcpStream) + Send + Sync>,
) {
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        // Full: wait for a connection to end (each has its timeouts) before taking more.
        while active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let accepted = listener.accept();
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(%error, "{what} responder: accept failed");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let ready = stream.set_nodelay(true).and_then(|()| {
            stream.set_read_timeout(Some(IO_TIMEOUT))?;
            stream.set_write_timeout(Some(IO_TIMEOUT))
        });
        if ready.is_err() {
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let slot = Slot(Arc::clone(&active));
        let handle = Arc::clone(&handle);
        let spawned = std::thread::Builder::new()
            .name(format!("{what} connection"))
            .spawn(move || {
                let _slot = slot;
                handle(stream);
            });
        if let Err(error) = spawned {
            // The closure, and with it the slot, was dropped: the count is right again.
            tracing::warn!(%error, "{what} responder: no thread for a connection");
        }
    }
}

/// One connection counted in `active`, for as long as it lives.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
