//! The one runner behind every operation: what is the same in all of them lives here,
//! once; what differs is a [`Machine`].
//!
//! A turn of [`Runner::poll`], in this order:
//!
//! 1. if the machine's outcome was set since the last turn, the machine queues what
//!    ending must undo ([`Machine::on_end`]: the challenges to clean up), once;
//! 2. a queued event is returned before anything else;
//! 3. with the outcome set and no request out, `Done` (and only from then on is the
//!    outcome given: a caller who takes it on `Done` has seen every cleanup);
//! 4. the exchanges out, if any, are polled in the order they began: the first request
//!    to send is returned, and the first result goes to [`Machine::on_exchanged`] (then
//!    another turn); a wait that ends past the operation's deadline times the operation
//!    out at once, rather than after a useless wait;
//! 5. with exchanges out and none to send, the machine may add one beside a request
//!    in flight (not beside one only waiting to be resent), if it says its
//!    requests of the moment are independent ([`Machine::overlaps`]: an order's
//!    authorizations fetched together) and fewer than the policy's
//!    [`max_requests_in_flight`](super::Policy::max_requests_in_flight) are out;
//!    otherwise the earliest wait of an exchange is returned, or `InFlight` (the caller
//!    hands back a response, then polls again);
//! 6. past the deadline with no request out, the operation times out;
//! 7. otherwise the machine says what is next ([`Machine::next`]): a request, a wait
//!    (past the deadline: a timeout), nothing until the caller answers an event
//!    (`AwaitingCaller`), or a move of its own (another turn).
//!
//! A caller that sends each request and hands back its result before polling again
//! never has two out: the requests of an order go one at a time, as they always could.
//! A caller that polls again after each `Send` gets the ones that may go together, then
//! `InFlight` (or a `Wait`, during which it still hands back what comes).
//!
//! A machine error at any point ends the operation with that error. Turns are bounded
//! ([`MAX_TURNS`]): a machine whose transitions made no progress ends with
//! [`Error::Bug`] naming what it was doing ([`Machine::stuck`]), instead of spinning.
//! That is never the server's doing: every server answer is a step a machine takes.
//!
//! A long wait the server asked for ([`Next::ServerWait`]: a `Retry-After` on a poll,
//! longer than [`Policy::max_retry_after`](super::Policy)) that ends past the deadline
//! ends the operation at once with [`Error::RetryAfter`], naming the time the server
//! gave, even when the wait itself was capped to fit.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;

use super::exchange::{Delivery, Exchange, ExchangeStep, Exchanged, Spec, deliver};
use super::operation::Operation;
use super::{Client, Polled, Step, Wait, WaitReason};
use crate::crypto::Signer;
use crate::error::Error;
use crate::fault::Misuse;
use crate::time::UnixTime;
use crate::wire::{RequestId, Response, TransportFailure};

/// `impl Operation` for a public type that is a tuple struct over a [`Runner`]: every
/// method is the runner's.
macro_rules! operation_by_runner {
    ($name:ident $(<$t:ident>)?, $event:ty, $output:ty) => {
        impl$(<$t>)? $crate::client::Operation for $name$(<$t>)? {
            type Event = $event;
            type Output = $output;

            fn poll(
                &mut self,
                client: &mut $crate::client::Client,
                now: $crate::time::UnixTime,
            ) -> $crate::client::Step<$event> {
                self.0.poll(client, now)
            }

            fn handle_response(
                &mut self,
                client: &mut $crate::client::Client,
                id: $crate::wire::RequestId,
                response: $crate::wire::Response,
                now: $crate::time::UnixTime,
            ) -> Result<(), $crate::fault::Misuse> {
                self.0.handle_response(client, id, response, now)
            }

            fn handle_transport_failure(
                &mut self,
                client: &mut $crate::client::Client,
                id: $crate::wire::RequestId,
                failure: $crate::wire::TransportFailure,
                now: $crate::time::UnixTime,
            ) -> Result<(), $crate::fault::Misuse> {
                self.0.handle_transport_failure(client, id, failure, now)
            }

            fn take_outcome(&mut self) -> Option<Result<$output, $crate::error::Error>> {
                self.0.take_outcome()
            }
        }
    };
}
pub(crate) use operation_by_runner;

/// Turns of `poll` without returning: far more than any real sequence of transitions
/// between two outputs.
pub(crate) const MAX_TURNS: usize = 64;

/// What a machine wants after a turn of its own.
#[derive(Debug)]
pub(crate) enum Next<P> {
    /// Send the request `Spec` describes; its result comes back with `P`.
    Send(P, Spec),
    /// Nothing to send before this.
    Wait(Wait),
    /// Nothing to send before `wait`, which the server asked for: to be polled no
    /// sooner than `asked` (the wait may be capped sooner, by
    /// [`Policy::max_retry_after`](super::Policy)).
    ServerWait { wait: Wait, asked: UnixTime },
    /// Nothing to send until the caller answers an event.
    Caller,
    /// Nothing to send until a request out lands (only while one is: see
    /// [`Machine::overlaps`]).
    Busy,
    /// The machine moved (or queued events): take another turn.
    Again,
}

impl<P> Next<P> {
    /// A wait until `until` before polling `resource` again; `asked`, the time the
    /// server named in a `Retry-After`, if it did.
    pub(crate) fn poll_at(until: UnixTime, resource: Polled, asked: Option<UnixTime>) -> Self {
        let wait = Wait {
            until,
            reason: WaitReason::Poll { resource },
        };
        match asked {
            Some(asked) => Self::ServerWait { wait, asked },
            None => Self::Wait(wait),
        }
    }
}

/// The events an operation has queued for the caller, and its outcome once set.
pub(crate) struct Effects<E, O> {
    events: VecDeque<E>,
    outcome: Option<Box<Result<O, Error>>>,
    /// Whether the outcome was set (it stays so once taken).
    over: bool,
}

impl<E, O> Default for Effects<E, O> {
    fn default() -> Self {
        Self {
            events: VecDeque::new(),
            outcome: None,
            over: false,
        }
    }
}

impl<E: fmt::Debug, O> fmt::Debug for Effects<E, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Effects")
            .field("events", &self.events)
            .field("over", &self.over)
            .finish()
    }
}

impl<E, O> Effects<E, O> {
    /// Queues `event` for the caller.
    pub(crate) fn emit(&mut self, event: E) {
        self.events.push_back(event);
    }

    /// The events not yet taken.
    pub(crate) fn queued(&self) -> impl Iterator<Item = &E> {
        self.events.iter()
    }

    /// Ends the operation with `outcome`; an operation ends once, so a later call is
    /// ignored.
    pub(crate) fn end(&mut self, outcome: Result<O, Error>) {
        if !self.over {
            self.over = true;
            self.outcome = Some(Box::new(outcome));
        }
    }

    /// Whether the outcome is set (or was, and has been taken).
    pub(crate) fn is_over(&self) -> bool {
        self.over
    }

    /// The next event, freeing the queue's buffer once it is empty: an order parked
    /// while the caller provisions should not keep room for the events it gave.
    fn pop(&mut self) -> Option<E> {
        let event = self.events.pop_front();
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        event
    }
}

/// The deadline of an operation, fixed at its first poll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Deadline(Option<UnixTime>);

impl Deadline {
    /// Starts the clock at the first call; the deadline afterwards.
    pub(crate) fn start(&mut self, client: &Client, now: UnixTime) -> UnixTime {
        *self
            .0
            .get_or_insert_with(|| now.saturating_add(client.policy().operation_timeout))
    }

    /// The deadline, or "never" before the first poll.
    pub(crate) fn get(self) -> UnixTime {
        self.0.unwrap_or(UnixTime::MAX)
    }
}

/// What differs between operations: the next request or wait, what a result does,
/// what ending queues. The [`Runner`] does the rest.
pub(crate) trait Machine {
    /// What the operation tells the caller.
    type Event;
    /// What it produces.
    type Output;
    /// What a request is for, handed back with its result.
    type Purpose: Copy;
    /// The operation's name in [`Error::Timeout`].
    fn operation(&self) -> &'static str;

    /// The queued events and the outcome.
    fn effects(&mut self) -> &mut Effects<Self::Event, Self::Output>;

    /// What is next, when no request is out and the outcome is not set.
    fn next(&mut self, client: &Client, now: UnixTime) -> Result<Next<Self::Purpose>, Error>;

    /// What the request for `purpose` came to (after its resends).
    fn on_exchanged(
        &mut self,
        client: &mut Client,
        purpose: Self::Purpose,
        result: Result<Exchanged, Error>,
        now: UnixTime,
    ) -> Result<(), Error>;

    /// Called once, when the outcome has been set: queue what ending must undo.
    fn on_end(&mut self) {}

    /// Whether [`next`](Self::next) may be asked for another request while some are
    /// out: the machine then marks what is out itself, and answers
    /// [`Next::Busy`] when all it needs now is out. Off by default: one request at a
    /// time.
    fn overlaps(&self) -> bool {
        false
    }

    /// What the machine was doing, for the [`Error::Bug`] that ends it when its
    /// transitions make no progress.
    fn stuck(&self) -> &'static str {
        "an operation made no progress"
    }

    /// The key the requests are signed with when it is not the account's.
    fn signer(&self) -> Option<&dyn Signer> {
        None
    }
}

/// Implements [`Operation`] once for every [`Machine`].
pub(crate) struct Runner<M: Machine> {
    machine: M,
    /// The exchanges out, in the order they began.
    exchanges: Vec<(M::Purpose, Exchange)>,
    deadline: Deadline,
    /// Whether [`Machine::on_end`] was called.
    ended: bool,
    /// Whether `poll` returned `Done`: the outcome is given only then.
    done_returned: bool,
}

impl<M: Machine + fmt::Debug> fmt::Debug for Runner<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("machine", &self.machine)
            .field(
                "in_flight",
                &self.exchanges.iter().map(|e| &e.1).collect::<Vec<_>>(),
            )
            .field("done_returned", &self.done_returned)
            .finish_non_exhaustive()
    }
}

impl<M: Machine> Runner<M> {
    pub(crate) fn new(machine: M) -> Self {
        Self {
            machine,
            exchanges: Vec::new(),
            deadline: Deadline::default(),
            ended: false,
            done_returned: false,
        }
    }

    pub(crate) fn machine(&self) -> &M {
        &self.machine
    }

    pub(crate) fn machine_mut(&mut self) -> &mut M {
        &mut self.machine
    }

    /// Ends the operation with `error` and queues its cleanups.
    pub(crate) fn fail(&mut self, error: Error) {
        self.machine.effects().end(Err(error));
        self.settle();
    }

    /// Calls [`Machine::on_end`] once the outcome is set.
    fn settle(&mut self) {
        if !self.ended && self.machine.effects().is_over() {
            self.ended = true;
            self.machine.on_end();
        }
    }

    fn timeout(&mut self) {
        // What is out is still waited for (its answer is the caller's to hand back);
        // nothing more is sent.
        self.exchanges.retain(|(_, e)| e.in_flight().is_some());
        let operation = self.machine.operation();
        self.fail(Error::Timeout { operation });
    }

    fn deliver(
        &mut self,
        client: &mut Client,
        id: RequestId,
        delivery: Delivery,
        now: UnixTime,
    ) -> Result<(), Misuse> {
        let deadline = self.deadline.get();
        let exchange = self
            .exchanges
            .iter_mut()
            .map(|(_, e)| e)
            .find(|e| e.in_flight() == Some(id));
        deliver(exchange, client, id, delivery, now, deadline)
    }
}

impl<M: Machine> Runner<M> {
    /// Step 4 and 5 of a turn, with exchanges out: the step to return, or `None` for
    /// another turn (a result was taken, a request added, or the operation timed out).
    fn poll_exchanges(
        &mut self,
        client: &mut Client,
        now: UnixTime,
        deadline: UnixTime,
    ) -> Option<Step<M::Event>> {
        let mut earliest: Option<Wait> = None;
        let mut index = 0;
        while let Some((purpose, exchange)) = self.exchanges.get_mut(index) {
            let purpose = *purpose;
            // No new request once the deadline has passed (a resend included).
            if now >= deadline && exchange.in_flight().is_none() {
                self.timeout();
                return None;
            }
            match exchange.poll(client, self.machine.signer(), now) {
                ExchangeStep::Send(request) => return Some(Step::Send(request)),
                ExchangeStep::Pending => {}
                ExchangeStep::Wait(wait) if wait.until > deadline => {
                    self.timeout();
                    return None;
                }
                ExchangeStep::Wait(wait) => {
                    if earliest.as_ref().is_none_or(|w| wait.until < w.until) {
                        earliest = Some(wait);
                    }
                }
                ExchangeStep::Done(result) => {
                    self.exchanges.remove(index);
                    if let Err(error) = self.machine.on_exchanged(client, purpose, result, now) {
                        self.fail(error);
                    }
                    return None;
                }
            }
            index += 1;
        }
        // More only beside a request actually out: a caller that answers each request
        // before polling again (its exchanges are at most waiting to be resent) keeps
        // one at a time, as it always had.
        let sent = self.exchanges.iter().any(|(_, e)| e.in_flight().is_some());
        let room = self.exchanges.len() < client.policy().max_requests_in_flight.max(1);
        if sent && room && self.machine.overlaps() {
            match self.machine.next(client, now) {
                Ok(Next::Send(purpose, spec)) => {
                    self.exchanges.push((purpose, Exchange::new(spec)));
                    return None;
                }
                // The machine moved (or queued events): another turn.
                Ok(Next::Again) => return None,
                // Nothing more until what is out lands (or the caller answers).
                Ok(Next::Busy | Next::Caller | Next::Wait(_) | Next::ServerWait { .. }) => {}
                Err(error) => {
                    self.fail(error);
                    return None;
                }
            }
        }
        Some(match earliest {
            Some(wait) => Step::Wait(wait),
            None => Step::InFlight,
        })
    }
}

impl<M: Machine> Operation for Runner<M> {
    type Event = M::Event;
    type Output = M::Output;

    fn poll(&mut self, client: &mut Client, now: UnixTime) -> Step<M::Event> {
        if self.done_returned {
            return Step::Done;
        }
        for _ in 0..MAX_TURNS {
            self.settle();
            if let Some(event) = self.machine.effects().pop() {
                return Step::Event(event);
            }
            if self.machine.effects().is_over() && self.exchanges.is_empty() {
                self.done_returned = true;
                return Step::Done;
            }
            // Over (abandoned by the caller, or failed with others out): nothing more
            // is sent, only what is out is waited for.
            if self.machine.effects().is_over() {
                self.exchanges.retain(|(_, e)| e.in_flight().is_some());
                if self.exchanges.is_empty() {
                    continue;
                }
                return Step::InFlight;
            }
            let deadline = self.deadline.start(client, now);
            if !self.exchanges.is_empty() {
                match self.poll_exchanges(client, now, deadline) {
                    Some(step) => return step,
                    None => continue,
                }
            }
            if now >= deadline {
                self.timeout();
                continue;
            }
            match self.machine.next(client, now) {
                Ok(Next::Send(purpose, spec)) => {
                    self.exchanges.push((purpose, Exchange::new(spec)));
                }
                Ok(Next::Busy) => self.fail(Error::Bug("busy with no request out")),
                Ok(Next::Wait(wait)) if wait.until > deadline => self.timeout(),
                Ok(Next::Wait(wait)) => return Step::Wait(wait),
                // A long wait the server asked for, past the deadline: waiting cannot
                // help. A short one that ends past it is the operation running out of
                // time (a `Timeout`, below).
                Ok(Next::ServerWait { asked, .. })
                    if asked > deadline
                        && asked.saturating_duration_since(now)
                            > client.policy().max_retry_after =>
                {
                    let operation = self.machine.operation();
                    self.fail(Error::RetryAfter {
                        operation,
                        until: asked,
                    });
                }
                Ok(Next::ServerWait { wait, .. }) if wait.until > deadline => self.timeout(),
                Ok(Next::ServerWait { wait, .. }) => return Step::Wait(wait),
                Ok(Next::Caller) => {
                    // Events queued by this turn go first.
                    self.settle();
                    if self.machine.effects().events.is_empty() && !self.machine.effects().is_over()
                    {
                        return Step::AwaitingCaller;
                    }
                }
                Ok(Next::Again) => {}
                Err(error) => self.fail(error),
            }
        }
        self.exchanges.clear();
        let stuck = self.machine.stuck();
        self.fail(Error::Bug(stuck));
        // Cleanups queued by the failure come first.
        match self.machine.effects().pop() {
            Some(event) => Step::Event(event),
            None => {
                self.done_returned = true;
                Step::Done
            }
        }
    }

    fn handle_response(
        &mut self,
        client: &mut Client,
        id: RequestId,
        response: Response,
        now: UnixTime,
    ) -> Result<(), Misuse> {
        self.deliver(client, id, Delivery::Response(response), now)
    }

    fn handle_transport_failure(
        &mut self,
        client: &mut Client,
        id: RequestId,
        failure: TransportFailure,
        now: UnixTime,
    ) -> Result<(), Misuse> {
        self.deliver(client, id, Delivery::TransportFailure(failure), now)
    }

    fn take_outcome(&mut self) -> Option<Result<M::Output, Error>> {
        // Not before `Done`: cleanup events may still be queued, and a caller taking the
        // outcome on seeing it would find none when `Done` comes (found by fuzzing).
        if !self.done_returned {
            return None;
        }
        self.machine
            .effects()
            .outcome
            .take()
            .map(|outcome| *outcome)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::client::{Polled, WaitReason};
    use crate::crypto::AccountKey;
    use alloc::vec;
    use alloc::vec::Vec;
    use url::Url;

    fn client() -> Client {
        // An Ed25519 PKCS#8 v1 key: a fixed prefix and a 32-byte seed.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&[7; 32]);
        let key = AccountKey::from_pkcs8_der(&der).unwrap();
        Client::new(Url::parse("https://ca.test/dir").unwrap(), key).unwrap()
    }

    /// A machine that does what it is told: `Again` forever, or a wait, or ends at once
    /// with a cleanup event to give.
    #[derive(Debug)]
    struct Scripted {
        next: fn(UnixTime) -> Next<()>,
        effects: Effects<&'static str, u32>,
        ended: u32,
    }

    impl Machine for Scripted {
        type Event = &'static str;
        type Output = u32;
        type Purpose = ();

        fn operation(&self) -> &'static str {
            "scripted"
        }

        fn effects(&mut self) -> &mut Effects<&'static str, u32> {
            &mut self.effects
        }

        fn next(&mut self, _: &Client, now: UnixTime) -> Result<Next<()>, Error> {
            Ok((self.next)(now))
        }

        fn on_exchanged(
            &mut self,
            _: &mut Client,
            (): (),
            _: Result<Exchanged, Error>,
            _: UnixTime,
        ) -> Result<(), Error> {
            Ok(())
        }

        fn on_end(&mut self) {
            self.ended += 1;
            self.effects.emit("cleanup");
        }
    }

    fn runner(next: fn(UnixTime) -> Next<()>) -> Runner<Scripted> {
        Runner::new(Scripted {
            next,
            effects: Effects::default(),
            ended: 0,
        })
    }

    /// Polls until `Done`, giving back every event; panics on anything else.
    fn events_to_done(run: &mut Runner<Scripted>, now: UnixTime) -> Vec<&'static str> {
        let mut client = client();
        let mut events = Vec::new();
        for _ in 0..10 {
            match run.poll(&mut client, now) {
                Step::Event(event) => {
                    assert!(run.take_outcome().is_none(), "an outcome before Done");
                    events.push(event);
                }
                Step::Done => return events,
                other => panic!("{other:?}"),
            }
        }
        panic!("no Done");
    }

    #[test]
    fn a_machine_that_makes_no_progress_ends_as_a_bug_after_its_cleanups() {
        let mut run = runner(|_| Next::Again);
        let events = events_to_done(&mut run, UnixTime::from_secs(1_000));
        assert_eq!(events, ["cleanup"]);
        assert_eq!(run.machine().ended, 1);
        let outcome = run.take_outcome().unwrap();
        assert!(
            matches!(&outcome, Err(Error::Bug("an operation made no progress"))),
            "{outcome:?}"
        );
        let mut client = client();
        assert!(matches!(
            run.poll(&mut client, UnixTime::from_secs(1_001)),
            Step::Done
        ));
        assert!(run.take_outcome().is_none(), "the outcome is given once");
    }

    #[test]
    fn a_wait_past_the_deadline_is_a_timeout_at_once() {
        let mut run = runner(|now| {
            Next::Wait(Wait {
                until: now.saturating_add(core::time::Duration::from_secs(1_000_000)),
                reason: WaitReason::Poll {
                    resource: Polled::Order,
                },
            })
        });
        let events = events_to_done(&mut run, UnixTime::from_secs(1_000));
        assert_eq!(events, ["cleanup"]);
        assert!(matches!(
            run.take_outcome(),
            Some(Err(Error::Timeout {
                operation: "scripted"
            }))
        ));
    }

    #[test]
    fn a_server_wait_past_the_deadline_ends_at_once_naming_the_servers_time() {
        fn asked(now: UnixTime) -> UnixTime {
            now.saturating_add(core::time::Duration::from_secs(99_999_999))
        }
        let mut run = runner(|now| {
            // Capped to fit the deadline, as the policy caps a long Retry-After.
            let until = now.saturating_add(core::time::Duration::from_secs(120));
            Next::poll_at(until, Polled::Order, Some(asked(now)))
        });
        let now = UnixTime::from_secs(1_000);
        assert_eq!(events_to_done(&mut run, now), ["cleanup"]);
        let outcome = run.take_outcome();
        assert!(
            matches!(
                outcome,
                Some(Err(Error::RetryAfter { operation: "scripted", until })) if until == asked(now)
            ),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_server_wait_that_fits_the_deadline_is_waited() {
        let mut run = runner(|now| {
            let until = now.saturating_add(core::time::Duration::from_secs(120));
            Next::poll_at(until, Polled::Order, Some(until))
        });
        let mut client = client();
        let now = UnixTime::from_secs(1_000);
        let step = run.poll(&mut client, now);
        assert!(
            matches!(step, Step::Wait(Wait { until, .. }) if until == UnixTime::from_secs(1_120)),
            "{step:?}"
        );
    }

    #[test]
    fn waiting_for_the_caller_is_pending_and_an_outcome_set_meanwhile_ends_it() {
        let mut run = runner(|_| Next::Caller);
        let mut client = client();
        let now = UnixTime::from_secs(1_000);
        assert!(matches!(run.poll(&mut client, now), Step::AwaitingCaller));
        assert!(matches!(run.poll(&mut client, now), Step::AwaitingCaller));
        // A caller's answer that ends the operation (as a refused CSR would).
        run.machine_mut().effects.end(Ok(7));
        assert!(run.take_outcome().is_none(), "an outcome before Done");
        assert_eq!(events_to_done(&mut run, now), ["cleanup"]);
        assert_eq!(run.machine().ended, 1);
        assert_eq!(run.take_outcome().unwrap().unwrap(), 7);
    }
}
