//! The http-01 answer (RFC 8555 §8.3): `GET /.well-known/acme-challenge/{token}` gets
//! the key authorization of a challenge the program has put in place, anything else a
//! 404. The request head is parsed with httparse; what serves the bytes is each
//! program's own (a smol task, or the event loop).

use std::collections::HashMap;

use acme_proto::Identifier;
use acme_proto::client::{ChallengeOffer, Solution};
use url::Url;

/// The challenges in place: token → key authorization.
pub type Tokens = HashMap<String, String>;

/// Puts the http-01 offer of an `Authorize` event in place (its token and key
/// authorization in `tokens`), and gives the challenge URL to say ready.
pub fn present(
    identifier: &Identifier,
    offers: &[ChallengeOffer],
    tokens: &mut Tokens,
) -> Result<Url, String> {
    offers
        .iter()
        .find_map(|offer| match &offer.solution {
            Solution::Http01 {
                token,
                key_authorization,
                ..
            } => {
                tokens.insert(
                    token.as_str().to_owned(),
                    key_authorization.as_str().to_owned(),
                );
                Some(offer.url.clone())
            }
            _ => None,
        })
        .ok_or_else(|| format!("no http-01 challenge offered for {identifier}"))
}

/// Removes what [`present`] put in place for `offer` (a `Cleanup` event).
pub fn clean_up(offer: &ChallengeOffer, tokens: &mut Tokens) {
    if let Solution::Http01 { token, .. } = &offer.solution {
        tokens.remove(token.as_str());
    }
}

/// The largest request head read.
pub const MAX_REQUEST: usize = 8 * 1024;

/// The response to the request whose first bytes are `request`, once its head is
/// complete (`None`: read more). A head over [`MAX_REQUEST`] bytes or not HTTP gets a
/// 400.
pub fn answer(request: &[u8], tokens: &Tokens) -> Option<Vec<u8>> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    let found = match parsed.parse(request) {
        Ok(httparse::Status::Partial) if request.len() < MAX_REQUEST => return None,
        Ok(httparse::Status::Complete(_)) => parsed
            .path
            .and_then(|path| path.strip_prefix("/.well-known/acme-challenge/"))
            .filter(|_| parsed.method == Some("GET"))
            .and_then(|token| tokens.get(token)),
        _ => return Some(response("400 Bad Request", "")),
    };
    Some(match found {
        Some(key_authorization) => response("200 OK", key_authorization),
        None => response("404 Not Found", ""),
    })
}

fn response(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
