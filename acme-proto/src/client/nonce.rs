//! The nonce pool shared by every operation of one [`Client`](super::Client).
//!
//! Nonces are harvested from every response (errors included, RFC 8555 §6.5), used newest
//! first (older ones are likelier to have expired on the server), and each at most once:
//! a nonce is removed when taken, and a nonce the server hands out again after we used
//! it is refused, so a misbehaving server cannot make us replay one.

use alloc::collections::VecDeque;

use crate::headers::Nonce;

/// Nonces waiting to be used, newest last.
#[derive(Debug, Default)]
pub(crate) struct NoncePool {
    fresh: VecDeque<Nonce>,
    /// Fingerprints of the most recently used nonces, oldest first.
    used: VecDeque<u64>,
}

impl NoncePool {
    /// Nonces kept at most; the oldest are dropped first. As many as requests a busy
    /// client has in flight, so that concurrent orders refill the pool they draw from
    /// (a few tens of kilobytes at most).
    const CAPACITY: usize = 256;
    /// Used nonces remembered, to refuse one the server repeats.
    const USED_MEMORY: usize = 1024;

    /// Adds a nonce received from the server, unless it was already used or is pooled.
    pub(crate) fn push(&mut self, nonce: Nonce) {
        let fp = fingerprint(&nonce);
        if self.used.contains(&fp) || self.fresh.contains(&nonce) {
            return;
        }
        if self.fresh.len() == Self::CAPACITY {
            self.fresh.pop_front();
        }
        self.fresh.push_back(nonce);
    }

    /// Takes the newest nonce, which is then never handed out again.
    pub(crate) fn take(&mut self) -> Option<Nonce> {
        let nonce = self.fresh.pop_back()?;
        if self.used.len() == Self::USED_MEMORY {
            self.used.pop_front();
        }
        self.used.push_back(fingerprint(&nonce));
        Some(nonce)
    }

    /// How many nonces are waiting.
    pub(crate) fn len(&self) -> usize {
        self.fresh.len()
    }
}

/// FNV-1a: a collision only makes us drop a good nonce, never reuse one.
fn fingerprint(nonce: &Nonce) -> u64 {
    nonce.as_str().bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn n(s: &str) -> Nonce {
        Nonce::new(s).unwrap()
    }

    #[test]
    fn newest_first_and_each_once() {
        let mut pool = NoncePool::default();
        pool.push(n("aaaa"));
        pool.push(n("bbbb"));
        assert_eq!(pool.take(), Some(n("bbbb")));
        // The server repeating a used nonce does not put it back.
        pool.push(n("bbbb"));
        assert_eq!(pool.take(), Some(n("aaaa")));
        assert_eq!(pool.take(), None);
        // Nor does a duplicate of a pooled one count twice.
        pool.push(n("cccc"));
        pool.push(n("cccc"));
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn bounded() {
        let mut pool = NoncePool::default();
        for i in 0..1000 {
            pool.push(n(&format!("nonce{i:05}")));
        }
        assert_eq!(pool.len(), NoncePool::CAPACITY);
        assert_eq!(pool.take(), Some(n("nonce00999")));
        for _ in 0..5000 {
            let Some(_) = pool.take() else { break };
        }
        assert!(pool.used.len() <= NoncePool::USED_MEMORY);
    }
}
