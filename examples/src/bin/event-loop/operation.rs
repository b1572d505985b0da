//! The operations the loop drives (the account, then one order per domain) and what
//! each said last, in the loop's own terms.

use acme_proto::client::{AccountInfo, Operation, OrderEvent, OrderFlow, SingleRequest, Step};
use acme_proto::{Client, Request, RequestId, Response, TransportFailure, UnixTime};

/// The wall clock, as the core takes it.
pub(super) fn now() -> UnixTime {
    UnixTime::from(std::time::SystemTime::now())
}

/// An operation the loop drives: first the account, then one order per domain.
pub(super) enum Op {
    Account(Box<SingleRequest<AccountInfo>>),
    Order(Box<Order>),
}

pub(super) struct Order {
    pub(super) domain: String,
    pub(super) flow: OrderFlow,
    pub(super) key_pem: Option<String>,
}

/// What an operation said last, in this program's terms (a value of one turn).
#[allow(clippy::large_enum_variant)]
pub(super) enum Next {
    Send(Request),
    Event(OrderEvent),
    /// Poll again at this time (or when one of its responses comes in).
    WakeAt(UnixTime),
    /// A request is out: poll again when its response comes in.
    Idle,
    Done,
}

impl Op {
    pub(super) fn poll(&mut self, client: &mut Client, now: UnixTime) -> Result<Next, String> {
        // The account's operation has no events (`NoEvent` has no value).
        let step = match self {
            Self::Account(op) => match op.poll(client, now) {
                Step::Event(never) => match never {},
                Step::Send(request) => Step::Send(request),
                Step::Wait(wait) => Step::Wait(wait),
                Step::InFlight => Step::InFlight,
                Step::Done => Step::Done,
                _ => return Err("the account operation gave a step this loop does not know".into()),
            },
            Self::Order(order) => order.flow.poll(client, now),
        };
        Ok(match step {
            Step::Send(request) => Next::Send(request),
            Step::Event(event) => Next::Event(event),
            Step::Wait(wait) => Next::WakeAt(wait.until),
            Step::InFlight => Next::Idle,
            Step::Done => Next::Done,
            // Every event is answered at once, so no operation waits on the caller.
            Step::AwaitingCaller => return Err("an event was left unanswered".into()),
            _ => return Err("a step this loop does not know".into()),
        })
    }

    pub(super) fn hand_back(
        &mut self,
        client: &mut Client,
        id: RequestId,
        result: Result<Response, TransportFailure>,
    ) -> Result<(), String> {
        let now = now();
        let handed = match (self, result) {
            (Self::Account(op), Ok(response)) => op.handle_response(client, id, response, now),
            (Self::Account(op), Err(failure)) => {
                op.handle_transport_failure(client, id, failure, now)
            }
            (Self::Order(order), Ok(response)) => {
                order.flow.handle_response(client, id, response, now)
            }
            (Self::Order(order), Err(failure)) => order
                .flow
                .handle_transport_failure(client, id, failure, now),
        };
        handed.map_err(|e| e.to_string())
    }

    pub(super) fn name(&self) -> &str {
        match self {
            Self::Account(_) => "account",
            Self::Order(order) => &order.domain,
        }
    }
}
