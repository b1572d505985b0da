//! The order as a [`Machine`] of the one runner: its name, its next move (a wait for
//! the caller when it is idle), what a result does, when its requests may overlap
//! (fetching the authorizations, answering their challenges, fetching nonces beside the
//! `newOrder`), what it was doing when stuck, and what ending leaves.

use alloc::boxed::Box;

use super::events::{Issued, OrderEvent};
use super::request::Purpose;
use super::state::{Ended, Live, LiveState, OrderMachine, OrderState};
use crate::client::Client;
use crate::client::exchange::Exchanged;
use crate::client::run::{Effects, Machine, Next};
use crate::error::Error;
use crate::time::UnixTime;

impl Machine for OrderMachine {
    type Event = OrderEvent;
    type Output = Issued;
    type Purpose = Purpose;

    fn operation(&self) -> &'static str {
        "order"
    }

    fn effects(&mut self) -> &mut Effects<OrderEvent, Issued> {
        &mut self.effects
    }

    fn next(&mut self, client: &Client, now: UnixTime) -> Result<Next<Purpose>, Error> {
        match self.next_request(client, now)? {
            Next::Again if self.idle() => Ok(Next::Caller),
            next => Ok(next),
        }
    }

    fn on_exchanged(
        &mut self,
        client: &mut Client,
        purpose: Purpose,
        result: Result<Exchanged, Error>,
        now: UnixTime,
    ) -> Result<(), Error> {
        self.on_result(client, purpose, result, now)
    }

    fn overlaps(&self) -> bool {
        // Nonces beside the newOrder out; then the authorizations' fetches and their
        // challenges' answers: each request is for an authorization of its own, and the
        // table marks what is out.
        match &self.stage {
            OrderState::Creating(_) => self.nonces_beside.is_some(),
            _ => self.live().is_some_and(|live| {
                matches!(
                    live.phase,
                    LiveState::FetchAuthorizations | LiveState::Respond
                )
            }),
        }
    }

    fn stuck(&self) -> &'static str {
        match &self.stage {
            OrderState::Creating(_) => "an order made no progress before newOrder",
            OrderState::Resuming(_) => "an order made no progress resuming",
            OrderState::Done(_) => "an order made no progress once ended",
            OrderState::Live(live) => match live.phase {
                LiveState::FetchAuthorizations => {
                    "an order made no progress fetching its authorizations"
                }
                LiveState::Respond => "an order made no progress answering its challenges",
                LiveState::PollOrder { .. } => "an order made no progress polling",
                LiveState::AwaitCsr => "an order made no progress awaiting the CSR",
                LiveState::Finalize => "an order made no progress finalizing",
                LiveState::Download(_) => "an order made no progress downloading",
                LiveState::Diagnose { .. } => "an order made no progress diagnosing its failure",
            },
        }
    }

    fn on_end(&mut self) {
        let ended = match core::mem::replace(&mut self.stage, OrderState::Done(None)) {
            OrderState::Live(mut live) => {
                live.authorizations.discard_offers();
                live.clean_up(&mut self.effects);
                let Live { url, order, .. } = *live;
                Some(Box::new(Ended {
                    url,
                    order: Some(order),
                }))
            }
            OrderState::Resuming(resuming) => Some(Box::new(Ended {
                url: resuming.url,
                order: None,
            })),
            OrderState::Done(ended) => ended,
            OrderState::Creating(_) => None,
        };
        self.stage = OrderState::Done(ended);
    }
}
