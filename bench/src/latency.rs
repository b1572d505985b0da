//! A network with latency, in user space (the kernel here has no netem qdisc): a TCP
//! proxy that delays every chunk by half the round trip in each direction, and the
//! TCP handshake by a whole one. Pebble builds its URLs from the request's Host, so a
//! client pointed at the proxy sees only the proxy; Pebble's validation connections
//! to the responders cross a proxy of their own.
//!
//! Each direction of a connection is two tasks: one reads what arrives and stamps it
//! with the time it may leave (now + half the round trip), the other writes each chunk
//! once its time has come, in order. Bandwidth is not limited: only latency is added.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// A delaying proxy to one upstream address, on its own thread; stopped when dropped.
pub struct Proxy {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// A proxy on `listener` to `upstream`, adding `rtt` to every round trip (and one
    /// more to each connection's start, as a TCP handshake would).
    pub fn start(listener: StdListener, upstream: SocketAddr, rtt: Duration) -> Self {
        let addr = listener.local_addr().expect("the proxy's address");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("latency proxy :{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the proxy's runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("the proxy's listener");
                    tokio::select! {
                        () = serve(listener, upstream, rtt) => {}
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_background();
            })
            .expect("the proxy's thread");
        Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(listener: TcpListener, upstream: SocketAddr, rtt: Duration) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            // The handshake: the client could send nothing before a round trip.
            let open = Instant::now() + rtt;
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            let half = rtt / 2;
            tokio::join!(
                pump(client_read, server_write, half, Some(open)),
                pump(server_read, client_write, half, None),
            );
        });
    }
}

/// Copies `from` to `to`, each chunk leaving `delay` after it arrived (and not before
/// `open` plus `delay`, when given), in order; closes `to`'s write side at the end.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
    open: Option<Instant>,
) {
    let (chunks, mut due) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0_u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut at = Instant::now() + delay;
                    if let Some(open) = open {
                        at = at.max(open + delay);
                    }
                    if chunks.send((at, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
        // Dropping `chunks` ends the writer once it has sent what is queued.
    };
    let writer = async move {
        while let Some((at, chunk)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};

    /// Bytes cross both ways, in order, and a close goes through.
    #[test]
    fn carries_both_ways() {
        let echo = StdListener::bind("127.0.0.1:0").unwrap();
        let upstream = echo.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = echo.accept().unwrap();
            let mut got = Vec::new();
            stream.read_to_end(&mut got).unwrap();
            stream.write_all(&got).unwrap();
        });
        let proxy = Proxy::start(
            StdListener::bind("127.0.0.1:0").unwrap(),
            upstream,
            Duration::from_millis(10),
        );
        let mut client = std::net::TcpStream::connect(proxy.addr()).unwrap();
        let sent: Vec<u8> = (0..200_000_u32).map(|i| (i % 251) as u8).collect();
        client.write_all(&sent).unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = Vec::new();
        client.read_to_end(&mut back).unwrap();
        assert_eq!(back, sent);
        server.join().unwrap();
    }
}
