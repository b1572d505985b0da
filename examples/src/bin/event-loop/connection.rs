//! The sockets the loop serves (HTTPS requests and the CA's validation connections):
//! their bytes moved when ready, and each ended at its deadline.

use std::time::Instant;

use acme_proto::{RequestId, TransportFailure, UnixTime};
use acme_proto_examples::http1_exchange::Exchange;
use mio::Token;
use mio::net::TcpStream;
use rustls::ClientConnection;

use super::EventLoop;
use super::http01_responder::serve_validation;
use super::https::pump_tls;

/// A socket the loop serves.
pub(super) enum Connection {
    /// One HTTPS request of the operation `op`, and its response.
    Request {
        op: usize,
        id: RequestId,
        tcp: TcpStream,
        tls: Box<ClientConnection>,
        exchange: Box<Exchange>,
        /// The request's `time_limit`, as an instant.
        deadline: Instant,
        /// Whether the connection was seen to be established.
        connected: bool,
    },
    /// A validation request from the CA to the http-01 responder.
    Validation {
        tcp: TcpStream,
        request: Vec<u8>,
        response: Vec<u8>,
        written: usize,
        deadline: Instant,
    },
}

impl Connection {
    /// When the loop gives up on the connection.
    pub(super) fn deadline(&self) -> Instant {
        match self {
            Self::Request { deadline, .. } | Self::Validation { deadline, .. } => *deadline,
        }
    }
}

impl EventLoop<'_> {
    /// Moves the bytes of a ready socket; a finished response goes back to its operation.
    pub(super) fn on_ready(&mut self, token: Token) -> Result<(), String> {
        let Some(connection) = self.connections.get_mut(&token) else {
            return Ok(());
        };
        match connection {
            Connection::Request {
                tcp,
                tls,
                exchange,
                connected,
                ..
            } => {
                let Some(result) = pump_tls(tcp, tls, exchange, connected) else {
                    return Ok(());
                };
                let Some(Connection::Request {
                    op, id, mut tcp, ..
                }) = self.connections.remove(&token)
                else {
                    return Ok(());
                };
                let _ = self.poll.registry().deregister(&mut tcp);
                self.slots[op].op.hand_back(&mut self.client, id, result)?;
                // The operation may have more to do now.
                self.slots[op].wake = Some(UnixTime::EPOCH);
            }
            Connection::Validation {
                tcp,
                request,
                response,
                written,
                ..
            } => {
                if serve_validation(tcp, request, response, written, &self.tokens)
                    && let Some(Connection::Validation { mut tcp, .. }) =
                        self.connections.remove(&token)
                {
                    let _ = self.poll.registry().deregister(&mut tcp);
                }
            }
        }
        Ok(())
    }

    /// Ends the requests past their time limit (a timeout the core may retry) and the
    /// validation connections past theirs.
    pub(super) fn expire(&mut self) -> Result<(), String> {
        let now = Instant::now();
        let expired: Vec<Token> = self
            .connections
            .iter()
            .filter(|(_, c)| c.deadline() <= now)
            .map(|(token, _)| *token)
            .collect();
        for token in expired {
            match self.connections.remove(&token) {
                Some(Connection::Request {
                    op, id, mut tcp, ..
                }) => {
                    let _ = self.poll.registry().deregister(&mut tcp);
                    self.slots[op].op.hand_back(
                        &mut self.client,
                        id,
                        Err(TransportFailure::TimedOut),
                    )?;
                    self.slots[op].wake = Some(UnixTime::EPOCH);
                }
                Some(Connection::Validation { mut tcp, .. }) => {
                    let _ = self.poll.registry().deregister(&mut tcp);
                }
                None => {}
            }
        }
        Ok(())
    }
}
