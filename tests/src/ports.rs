//! Free loopback ports, never handed out twice at once within this process.
//!
//! Binding port 0 and releasing it is racy: another process may take the port before
//! Pebble binds it. Two defences: ports handed out by this process are remembered until
//! their Pebble is dropped (so parallel tests in one binary never collide), and a start-up
//! that finds a port taken (`address already in use` in the server's log) is retried
//! with fresh ports. Ports the harness's caller will bind itself (http-01, tls-alpn-01)
//! are not released at all: the harness holds their listeners and hands them over.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::{Mutex, PoisonError};

use crate::HarnessError;

static LEASED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A port this process will not hand out again until the lease is dropped.
#[derive(Debug)]
pub(crate) struct PortLease(u16);

impl PortLease {
    pub(crate) fn port(&self) -> u16 {
        self.0
    }

    /// A port free for TCP, and also for UDP when `udp_too` (a DNS server binds both).
    pub(crate) fn take(udp_too: bool) -> Result<Self, HarnessError> {
        for _ in 0..64 {
            let listener = TcpListener::bind(loopback(0))
                .map_err(HarnessError::io("cannot bind a TCP port on 127.0.0.1"))?;
            let port = listener
                .local_addr()
                .map_err(HarnessError::io("cannot read a bound port"))?
                .port();
            if udp_too && UdpSocket::bind(loopback(port)).is_err() {
                continue;
            }
            if LEASED
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(port)
            {
                return Ok(Self(port));
            }
        }
        Err(HarnessError::Io {
            what: "no free loopback port in 64 tries".into(),
            source: std::io::ErrorKind::AddrInUse.into(),
        })
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        LEASED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.0);
    }
}

pub(crate) fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}
