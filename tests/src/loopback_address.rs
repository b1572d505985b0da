//! A loopback address of the harness's own, 127.0.0.N, for a CA that validates on fixed
//! ports (acme2certifier: http-01 on 80, tls-alpn-01 on 443, DNS on 53).
//!
//! The claim is the two TCP listeners on N:80 and N:443, held for the address's whole
//! life: another process (or another test of this one) that binds them first makes the
//! harness try another N. Port 53 (UDP and TCP) is only checked free: the DNS server
//! binds it right after. Addresses claimed by this process are also remembered, so
//! parallel tests never try the same N at once.

use std::collections::BTreeSet;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::{Mutex, PoisonError};

use crate::HarnessError;

/// The N of every 127.0.0.N this process holds.
static CLAIMED: Mutex<BTreeSet<u8>> = Mutex::new(BTreeSet::new());

/// How many addresses are tried before giving up.
const TRIES: u32 = 64;

/// 127.0.0.N with its ports 80 and 443 bound by the harness (listeners to hand over),
/// and its port 53 free for a DNS server when claimed.
#[derive(Debug)]
pub(crate) struct LoopbackAddress {
    n: u8,
    pub(crate) http: Option<TcpListener>,
    pub(crate) tls: Option<TcpListener>,
}

impl LoopbackAddress {
    /// Claims a random 127.0.0.N, N in 2..=254, whose TCP 80 and 443 bind and whose
    /// UDP and TCP 53 are free.
    pub(crate) fn claim() -> Result<Self, HarnessError> {
        let random = RandomState::new();
        for attempt in 0..TRIES {
            let n = 2 + u8::try_from(random.hash_one(attempt) % 253).unwrap_or(0);
            if !CLAIMED
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(n)
            {
                continue;
            }
            // From here the number is ours: dropping `claim` gives it back.
            let mut claim = Self {
                n,
                http: None,
                tls: None,
            };
            let ip = claim.ip();
            let (Ok(http), Ok(tls)) = (
                TcpListener::bind(SocketAddr::from((ip, 80))),
                TcpListener::bind(SocketAddr::from((ip, 443))),
            ) else {
                continue;
            };
            let dns = SocketAddr::from((ip, 53));
            // Checked, then released at once for the DNS server.
            if UdpSocket::bind(dns).is_err() || TcpListener::bind(dns).is_err() {
                continue;
            }
            claim.http = Some(http);
            claim.tls = Some(tls);
            return Ok(claim);
        }
        Err(HarnessError::Io {
            what: format!(
                "no 127.0.0.N in {TRIES} tries had TCP 80 and 443 and UDP and TCP 53 free \
                 (binding ports below 1024 needs root or CAP_NET_BIND_SERVICE)"
            ),
            source: std::io::ErrorKind::AddrInUse.into(),
        })
    }

    /// 127.0.0.N.
    pub(crate) fn ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(127, 0, 0, self.n)
    }
}

impl Drop for LoopbackAddress {
    fn drop(&mut self) {
        CLAIMED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.n);
    }
}
