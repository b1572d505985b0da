//! The invariants of a driven order, checked on every step the flow takes.

use std::collections::HashSet;

use acme_proto::client::{ChallengeOffer, Issued};
use acme_proto::{
    Identifier, Method, Policy, Request, RequestId, Response, UnixTime, Wait, WaitReason,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use url::Url;

/// Everything observed of one execution, and the bounds it must keep.
pub(super) struct Checker {
    policy: Policy,
    /// Every resend one request may get: badNonce, 429/503 and transport retries.
    retries: usize,
    /// The account URL, the `kid` of every request of an order (`None` while the
    /// account is being created: `jwk` then).
    account_url: Option<Url>,
    /// The current flow's deadline: its first poll plus the operation timeout.
    deadline: Option<UnixTime>,
    /// The latest time passed to the flow.
    max_now: UnixTime,
    /// Whether the clock never went back since the current flow's first poll.
    monotonic: bool,
    /// Nonces the client sent.
    sent_nonces: HashSet<String>,
    /// Every `Replay-Nonce` value handed to the client.
    delivered_nonces: HashSet<Vec<u8>>,
    ids: HashSet<RequestId>,
    /// Consecutive directory and newNonce requests.
    leg_run: usize,
    /// The last POST's URL, whether its answer was a success, and how many POSTs to it
    /// in a row were answered with anything else.
    post_run: Option<(Url, bool, usize)>,
    after_deadline: usize,
    /// When the last answer (response or transport failure) was handed back.
    last_answer_at: UnixTime,
    /// Whether that answer carried a readable `Retry-After`.
    last_retry_after: bool,
    /// Challenges the caller said are ready and that were not cleaned up since.
    provisioned: Vec<Url>,
    ever_provisioned: HashSet<Url>,
    /// False once the order was resumed from a snapshot: cleanups then also cover
    /// challenges provisioned before, which the snapshot carried.
    strict_cleanup: bool,
    /// The identifiers the order asked for (the contract: the server may not change
    /// them).
    requested: Vec<Identifier>,
    /// Identifiers the current flow presented in an `Authorize` event (wildcards with
    /// their `*.`).
    presented: Vec<Identifier>,
    /// The public key (DER `SubjectPublicKeyInfo`) of every CSR the harness makes.
    csr_key: Vec<u8>,
    /// Whether the flow took a CSR the harness did not make (arbitrary bytes): its key
    /// is then unknown, and the certificate's is not checked.
    foreign_csr: bool,
}

impl Checker {
    pub(super) fn new(policy: Policy, now: UnixTime) -> Self {
        let retries = [
            policy.max_bad_nonce_retries,
            policy.max_unavailable_retries,
            policy.max_transport_retries,
        ]
        .iter()
        .map(|&n| usize::try_from(n).unwrap_or(usize::MAX))
        .fold(0usize, usize::saturating_add);
        Self {
            policy,
            retries,
            account_url: None,
            deadline: None,
            max_now: now,
            monotonic: true,
            sent_nonces: HashSet::new(),
            delivered_nonces: HashSet::new(),
            ids: HashSet::new(),
            leg_run: 0,
            post_run: None,
            after_deadline: 0,
            last_answer_at: now,
            last_retry_after: false,
            provisioned: Vec::new(),
            ever_provisioned: HashSet::new(),
            strict_cleanup: true,
            requested: Vec::new(),
            presented: Vec::new(),
            csr_key: Vec::new(),
            foreign_csr: false,
        }
    }

    /// The order asks for `requested`, and the harness's CSRs carry `csr_key`.
    pub(super) fn set_order(&mut self, requested: Vec<Identifier>, csr_key: Vec<u8>) {
        self.requested = requested;
        self.csr_key = csr_key;
    }

    /// From now on, every request is the order's, signed with the account's `kid`.
    pub(super) fn set_account(&mut self, url: Url) {
        self.account_url = Some(url);
        self.leg_run = 0;
        self.post_run = None;
    }

    /// The most requests one exchange may make: its resends, each possibly after a
    /// directory and a newNonce request.
    fn exchange_bound(&self) -> usize {
        2 * (self.retries + 2) + 2
    }

    /// The flow is about to be polled at `now`.
    pub(super) fn on_poll(&mut self, now: UnixTime) {
        if self.deadline.is_none() {
            self.deadline = Some(now.saturating_add(self.policy.operation_timeout));
            self.monotonic = true;
        }
        if now < self.max_now {
            self.monotonic = false;
        }
        self.max_now = self.max_now.max(now);
    }

    /// A new flow (resumed from a snapshot) starts its own deadline.
    pub(super) fn on_resume(&mut self) {
        // Request ids and the nonce pool are the client's: a new process starts over
        // (a nonce the old one used may come back, and only the server can refuse it).
        self.ids.clear();
        self.sent_nonces.clear();
        self.delivered_nonces.clear();
        self.deadline = None;
        self.after_deadline = 0;
        self.strict_cleanup = false;
        // Its requests in a row are its own: a snapshot may be taken with a request out
        // (the directory just fetched, say), and a caller restarting at every step makes
        // each new process fetch the directory again, which is the caller's doing.
        self.leg_run = 0;
        self.post_run = None;
        // A resumed flow presents its pending authorizations again.
        self.presented.clear();
    }

    pub(super) fn on_request(&mut self, request: &Request, now: UnixTime) {
        assert!(
            self.ids.insert(request.id),
            "request id {:?} reused",
            request.id
        );
        check_url(&request.url);
        assert!(
            request.max_response_body > 0,
            "a request with no room for a response"
        );
        assert!(
            request
                .time_limit
                .is_some_and(|l| !l.is_zero() && l <= self.policy.request_timeout),
            "a request's time limit {:?} outside the request timeout {:?}",
            request.time_limit,
            self.policy.request_timeout
        );
        let bound = self.exchange_bound();
        match request.method {
            Method::Post => {
                self.leg_run = 0;
                self.check_jws(request);
                let run = match self.post_run.take() {
                    Some((url, false, n)) if url == request.url => n + 1,
                    _ => 1,
                };
                // One exchange sends at most 1 + `retries`; a newOrder refused with
                // alreadyReplaced is sent once more, as a new exchange.
                assert!(
                    run <= 2 * (self.retries + 1),
                    "{run} POSTs in a row to {} without a success (policy allows {} resends)",
                    request.url,
                    self.retries
                );
                self.post_run = Some((request.url.clone(), false, run));
            }
            _ => {
                assert!(request.body.is_empty(), "a {} with a body", request.method);
                self.leg_run += 1;
                assert!(
                    self.leg_run <= bound,
                    "{} directory/newNonce requests in a row (bound {bound})",
                    self.leg_run
                );
            }
        }
        if let Some(deadline) = self.deadline
            && self.monotonic
            && now >= deadline
        {
            self.after_deadline += 1;
            assert!(
                self.after_deadline <= bound,
                "{} requests after the operation's deadline",
                self.after_deadline
            );
        }
    }

    /// The flattened JWS of a POST: a fresh nonce the server gave, the request's URL,
    /// the account's `kid`.
    fn check_jws(&mut self, request: &Request) {
        assert_eq!(
            request.headers.get("content-type"),
            Some(&b"application/jose+json"[..]),
            "a POST without Content-Type: application/jose+json"
        );
        let jws: serde_json::Value = match serde_json::from_slice(&request.body) {
            Ok(v) => v,
            Err(e) => panic!("a POST body is not JSON: {e}"),
        };
        let protected = jws
            .get("protected")
            .and_then(serde_json::Value::as_str)
            .map(|p| URL_SAFE_NO_PAD.decode(p));
        let header: serde_json::Value = match protected {
            Some(Ok(bytes)) => match serde_json::from_slice(&bytes) {
                Ok(h) => h,
                Err(e) => panic!("a protected header is not JSON: {e}"),
            },
            other => panic!("a JWS without a base64url protected header: {other:?}"),
        };
        let text = |name: &str| header.get(name).and_then(serde_json::Value::as_str);
        assert_eq!(
            text("url"),
            Some(request.url.as_str()),
            "JWS url is not the request URL"
        );
        if let Some(account) = &self.account_url {
            assert_eq!(
                text("kid"),
                Some(account.as_str()),
                "JWS kid is not the account"
            );
            assert!(header.get("jwk").is_none(), "an order request with a jwk");
        }
        let Some(nonce) = text("nonce") else {
            panic!("a JWS without a nonce")
        };
        assert!(
            self.delivered_nonces.contains(nonce.as_bytes()),
            "nonce {nonce:?} was never handed out by the server"
        );
        assert!(
            self.sent_nonces.insert(nonce.to_owned()),
            "nonce {nonce:?} sent twice"
        );
        for member in ["payload", "signature"] {
            assert!(
                jws.get(member)
                    .and_then(serde_json::Value::as_str)
                    .is_some(),
                "a JWS without {member}"
            );
        }
    }

    /// A response is handed to the client at `now`.
    pub(super) fn on_response(&mut self, response: &Response, now: UnixTime) {
        for nonce in response.headers.get_all("replay-nonce") {
            self.delivered_nonces.insert(nonce.to_vec());
        }
        if let Some((_, success, _)) = &mut self.post_run {
            *success = response.is_success();
        }
        self.last_answer_at = now;
        self.last_retry_after = response.retry_after(now).is_some();
    }

    pub(super) fn on_transport_failure(&mut self, now: UnixTime) {
        self.last_answer_at = now;
        self.last_retry_after = false;
    }

    pub(super) fn on_wait(&self, wait: &Wait, now: UnixTime) {
        assert!(
            wait.until > now,
            "a wait that is not in the future: {wait:?} at {now:?}"
        );
        assert!(wait.until < UnixTime::MAX, "an endless wait: {wait:?}");
        if let Some(deadline) = self.deadline {
            assert!(
                wait.until <= deadline,
                "a wait past the operation's deadline {deadline:?}: {wait:?}"
            );
        }
        let p = &self.policy;
        match wait.reason {
            WaitReason::Unavailable { status } => {
                assert!(
                    matches!(status, 429 | 503),
                    "an unavailable wait after {status}"
                );
                let cap = self.last_answer_at.saturating_add(p.max_retry_after);
                assert!(wait.until <= cap, "{wait:?} longer than max_retry_after");
            }
            WaitReason::TransportBackoff { attempt } => {
                assert!(
                    (1..=p.max_transport_retries).contains(&attempt),
                    "transport resend {attempt} of at most {}",
                    p.max_transport_retries
                );
                let cap = self.last_answer_at.saturating_add(p.max_transport_backoff);
                assert!(
                    wait.until <= cap,
                    "{wait:?} longer than max_transport_backoff"
                );
            }
            WaitReason::Poll { .. } if !self.last_retry_after => {
                let cap = self.max_now.saturating_add(p.poll_max);
                assert!(wait.until <= cap, "{wait:?} longer than poll_max, unasked");
            }
            _ => {}
        }
    }

    pub(super) fn on_ready(&mut self, offer: &ChallengeOffer) {
        if !self.provisioned.contains(&offer.url) {
            self.provisioned.push(offer.url.clone());
        }
        self.ever_provisioned.insert(offer.url.clone());
    }

    pub(super) fn on_cleanup(&mut self, offer: &ChallengeOffer) {
        match self.provisioned.iter().position(|u| u == &offer.url) {
            Some(at) => {
                self.provisioned.swap_remove(at);
            }
            None => assert!(
                !self.strict_cleanup && self.ever_provisioned.contains(&offer.url),
                "cleanup of {} which is not provisioned",
                offer.url
            ),
        }
    }

    /// An `Authorize` event: for one of the requested identifiers (a wildcard as its
    /// base name and `wildcard`), and never twice for one in a flow. Whatever the server
    /// lied (identifiers swapped, foreign or duplicate authorizations), nothing else
    /// is ever presented.
    pub(super) fn on_authorize(&mut self, identifier: &Identifier, wildcard: bool) {
        assert!(
            !identifier.is_wildcard(),
            "an Authorize event names {identifier} with its *."
        );
        let full = match (identifier, wildcard) {
            (Identifier::Dns(name), true) => Identifier::dns(&format!("*.{}", name.as_str())).ok(),
            (other, false) => Some(other.clone()),
            (_, true) => None,
        };
        let shown = if wildcard {
            format!("*.{identifier}")
        } else {
            identifier.to_string()
        };
        let Some(full) = full.filter(|id| self.requested.contains(id)) else {
            panic!(
                "authorization presented for {shown}, not requested (the order asked for {:?})",
                self.requested
            );
        };
        assert!(
            !self.presented.contains(&full),
            "a second authorization presented for {shown}"
        );
        self.presented.push(full);
    }

    /// `NeedCsr`: the CSR asked for names exactly the requested identifiers.
    pub(super) fn on_need_csr(&self, identifiers: &[Identifier]) {
        let same = identifiers.iter().all(|id| self.requested.contains(id))
            && self.requested.iter().all(|id| identifiers.contains(id));
        assert!(
            same,
            "a CSR asked for {identifiers:?}, the order asked for {:?}",
            self.requested
        );
    }

    /// The flow took a CSR: one the harness made (`ours`, with `csr_key`) or not.
    pub(super) fn on_csr_taken(&mut self, ours: bool) {
        self.foreign_csr |= !ours;
    }

    /// An issued certificate: the end entity has the CSR's key and names every
    /// requested identifier; the names reported as unrequested are not requested ones.
    pub(super) fn on_issued(&self, issued: &Issued) {
        let end_entity = issued.chain.end_entity();
        if !self.foreign_csr {
            assert!(
                end_entity.public_key() == self.csr_key.as_slice(),
                "a certificate issued for another key than the CSR's"
            );
        }
        let named = |id: &Identifier| match id {
            Identifier::Dns(name) => end_entity
                .dns_names()
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name.as_str())),
            Identifier::Ip(ip) => end_entity.ip_addresses().contains(ip),
            _ => true,
        };
        for id in &self.requested {
            assert!(
                named(id),
                "a certificate issued without {id} (it names {:?} and {:?})",
                end_entity.dns_names(),
                end_entity.ip_addresses()
            );
        }
        for extra in &issued.unrequested_names {
            let requested = self.requested.iter().any(|id| match id {
                Identifier::Dns(name) => extra.eq_ignore_ascii_case(name.as_str()),
                Identifier::Ip(ip) => extra.parse() == Ok(*ip),
                _ => false,
            });
            assert!(!requested, "{extra} reported as unrequested, but requested");
        }
    }

    /// The flow is done: everything provisioned was cleaned up.
    pub(super) fn on_done(&self) {
        if self.strict_cleanup {
            assert!(
                self.provisioned.is_empty(),
                "done with challenges never cleaned up: {:?}",
                self.provisioned
            );
        }
    }
}

/// The client only ever talks https, or http to loopback (this client allows it).
pub(super) fn check_url(url: &Url) {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    assert!(
        url.scheme() == "https" || (url.scheme() == "http" && loopback),
        "a request to {url}"
    );
}

/// The nonce in a POST's protected header, if it has one.
pub(super) fn jws_nonce(request: &Request) -> Option<String> {
    let jws: serde_json::Value = serde_json::from_slice(&request.body).ok()?;
    let protected = jws.get("protected")?.as_str()?;
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(protected).ok()?).ok()?;
    Some(header.get("nonce")?.as_str()?.to_owned())
}
