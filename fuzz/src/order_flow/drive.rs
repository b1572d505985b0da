//! The driven order: the loop over the flow's steps, each request through the hostile
//! server, restarts from a snapshot, and the checks of a finished flow.

use std::time::Duration;

use acme_proto::client::{Operation as _, OrderFlow, OrderSnapshot, Step};
use acme_proto::{Client, Request, UnixTime};
use arbitrary::{Result, Unstructured};

use super::keys::RingEd25519;
use super::server::{self, Reply};
use super::{World, checks, one_in};

/// Polls of one execution at most: keeps every input's run short.
const MAX_STEPS: usize = 400;

impl World {
    pub(super) fn drive(&mut self, u: &mut Unstructured<'_>) -> Result<Option<bool>> {
        for _ in 0..MAX_STEPS {
            self.caller_acts(u)?;
            self.checker.on_poll(self.now);
            match self.flow.poll(&mut self.client, self.now) {
                Step::Send(request) => {
                    assert!(!self.abandoned, "a request after abandon: {request:?}");
                    self.send(u, request)?
                }
                Step::Event(event) => {
                    trace!("event {event:?}");
                    self.on_event(u, event)?
                }
                Step::Wait(wait) => {
                    self.checker.on_wait(&wait, self.now);
                    self.now = match u.int_in_range(0..=5u8)? {
                        // Wake up a little early: the same wait must come back.
                        4 => wait
                            .until
                            .saturating_sub(Duration::from_millis(1))
                            .max(self.now),
                        5 => wait
                            .until
                            .saturating_add(Duration::from_secs(u.int_in_range(1..=7200)?)),
                        _ => wait.until,
                    };
                }
                Step::InFlight => panic!("every request was answered, yet one is in flight"),
                Step::AwaitingCaller => assert!(
                    self.answer_something(u)?,
                    "the flow waits on the caller, who has nothing to answer"
                ),
                Step::Done => return Ok(Some(self.done())),
                other => panic!("a step this target does not know: {other:?}"),
            }
        }
        Ok(None)
    }

    /// The process restarts: a new client with the same key and account, and the order
    /// resumed from its snapshot.
    pub(super) fn restart(&mut self) {
        let Some(snapshot) = self.flow.snapshot() else {
            return;
        };
        check_snapshot(&snapshot);
        trace!(
            "restart from {}",
            String::from_utf8_lossy(&snapshot.to_json())
        );
        let client = Client::insecure_loopback(
            self.client.directory_url().clone(),
            Box::new(RingEd25519::new()),
        );
        self.client = match client {
            Ok(c) => c
                .with_policy(self.policy.clone())
                .with_account(self.account_url.clone()),
            Err(e) => panic!("the client refuses the directory it used: {e}"),
        };
        self.flow = OrderFlow::resume(snapshot);
        self.abandoned = false;
        self.outstanding.clear();
        self.need_csr = None;
        self.checker.on_resume();
    }

    fn send(&mut self, u: &mut Unstructured<'_>, request: Request) -> Result<()> {
        trace!("{} {} at {:?}", request.method, request.url, self.now);
        self.checker.on_request(&request, self.now);
        self.last_id = Some(request.id);
        self.memory
            .saw_request(&request, checks::jws_nonce(&request));
        if one_in(u, 16)? {
            // Time passes on the wire.
            self.now = self
                .now
                .saturating_add(Duration::from_secs(u.int_in_range(1..=120)?));
        }
        match server::reply(u, &mut self.ca, &mut self.memory, &request, self.now)? {
            Reply::Respond(response) => {
                self.checker.on_response(&response, self.now);
                let taken =
                    self.flow
                        .handle_response(&mut self.client, request.id, response, self.now);
                assert!(
                    taken.is_ok(),
                    "the response to a request out was refused: {taken:?}"
                );
            }
            Reply::Lost(failure) => {
                self.checker.on_transport_failure(self.now);
                let taken = self.flow.handle_transport_failure(
                    &mut self.client,
                    request.id,
                    failure,
                    self.now,
                );
                assert!(taken.is_ok(), "a transport failure was refused: {taken:?}");
            }
        }
        Ok(())
    }

    /// The checks of a finished flow; whether it issued a certificate.
    fn done(&mut self) -> bool {
        let outcome = self.flow.take_outcome();
        trace!("done at {:?}: {outcome:?}", self.now);
        self.checker.on_done();
        assert!(outcome.is_some(), "Done without an outcome");
        // Whatever the server and the caller did, the machine never finds itself in a
        // state it cannot be in.
        assert!(
            !matches!(outcome, Some(Err(acme_proto::Error::Bug(_)))),
            "the order flow met a bug: {outcome:?}"
        );
        if let Some(Ok(issued)) = &outcome {
            assert_eq!(Some(&issued.order_url), self.flow.url());
            checks::check_url(&issued.certificate_url);
            assert!(!issued.chain.is_empty());
            self.checker.on_issued(issued);
        }
        for later in [
            self.now,
            self.now.saturating_add(Duration::from_secs(86_400)),
            UnixTime::EPOCH,
        ] {
            assert!(
                matches!(self.flow.poll(&mut self.client, later), Step::Done),
                "a poll after Done is not Done"
            );
        }
        assert!(
            self.flow.take_outcome().is_none(),
            "the outcome was taken twice"
        );
        assert!(
            self.flow.snapshot().is_none(),
            "a snapshot of a finished order"
        );
        assert!(
            self.flow.provide_csr(vec![0x30]).is_err(),
            "a CSR taken after Done"
        );
        if let Some(id) = self.last_id {
            let response = acme_proto::Response::new(200, Default::default(), Vec::new());
            assert!(
                self.flow
                    .handle_response(&mut self.client, id, response, self.now)
                    .is_err(),
                "a response taken after Done"
            );
        }
        assert!(
            matches!(self.flow.poll(&mut self.client, self.now), Step::Done),
            "Done did not stay Done"
        );
        matches!(outcome, Some(Ok(_)))
    }
}

/// A snapshot the flow gives reads back as itself.
pub(super) fn check_snapshot(snapshot: &OrderSnapshot) {
    assert_eq!(snapshot.version, OrderSnapshot::VERSION);
    let json = snapshot.to_json();
    match OrderSnapshot::from_json(&json) {
        Ok(read) => assert_eq!(&read, snapshot, "a snapshot changed in a round trip"),
        Err(e) => panic!(
            "a snapshot the flow made does not read back ({} bytes): {e}",
            json.len()
        ),
    }
}
