//! The http-01 responder on the same loop: the CA's validation connections accepted,
//! each request head read and answered from the challenges in place.

use std::io::{ErrorKind, Read as _, Write as _};
use std::time::{Duration, Instant};

use acme_proto_examples::http01_challenge::{self, Tokens};
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};

use super::EventLoop;
use super::connection::Connection;

impl EventLoop<'_> {
    /// Accepts every waiting validation connection.
    pub(super) fn accept(&mut self, listener: &TcpListener) {
        while let Ok((mut tcp, _)) = listener.accept() {
            let token = Token(self.next_token);
            self.next_token += 1;
            if self
                .poll
                .registry()
                .register(&mut tcp, token, Interest::READABLE | Interest::WRITABLE)
                .is_ok()
            {
                self.connections.insert(
                    token,
                    Connection::Validation {
                        tcp,
                        request: Vec::new(),
                        response: Vec::new(),
                        written: 0,
                        deadline: Instant::now() + Duration::from_secs(10),
                    },
                );
            }
        }
    }
}

/// Reads the CA's validation request and writes the answer; says when the connection
/// is finished with.
pub(super) fn serve_validation(
    tcp: &mut TcpStream,
    request: &mut Vec<u8>,
    response: &mut Vec<u8>,
    written: &mut usize,
    tokens: &Tokens,
) -> bool {
    let mut buffer = [0; 1024];
    while response.is_empty() {
        match tcp.read(&mut buffer) {
            Ok(0) => return true,
            Ok(n) => {
                request.extend_from_slice(buffer.get(..n).unwrap_or_default());
                if let Some(answer) = http01_challenge::answer(request, tokens) {
                    *response = answer;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
    while *written < response.len() {
        match tcp.write(response.get(*written..).unwrap_or_default()) {
            Ok(n) => *written += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
    true
}
