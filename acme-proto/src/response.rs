//! Reading a [`Response`]: status, then size cap, then content type, then JSON.
//!
//! Every parser of a server's body goes through here, so the order of checks is the
//! same everywhere: an error status yields the server's [`Problem`] (with the
//! `Retry-After` that came with it); a body over its cap is refused before a byte of it
//! is parsed; a wrong content type is refused before parsing; then the JSON is read into
//! its typed [`Resource`].

use alloc::string::String;
use alloc::vec::Vec;

use url::Url;

use crate::error::Error;

use crate::fault::{Malformed, MalformedKind, truncate_on_char_boundary};
use crate::headers::{self, ContentType, Link, Nonce};
use crate::limits::{Limits, ResponseKind};
use crate::problem::Problem;
use crate::resource::Resource;
use crate::time::UnixTime;
use crate::wire::Response;

impl Response {
    /// The body, if it is within the cap for `kind`.
    pub fn body_within(&self, kind: ResponseKind, limits: &Limits) -> Result<&[u8], Malformed> {
        let limit = limits.max_body(kind);
        if self.body.len() > limit {
            return Err(Malformed::new(
                kind.name(),
                MalformedKind::TooLarge {
                    limit,
                    actual: self.body.len(),
                },
            ));
        }
        Ok(&self.body)
    }

    /// The `Content-Type` of the response, parsed; `None` when absent.
    pub fn content_type(&self) -> Result<Option<ContentType>, Malformed> {
        self.headers
            .get("content-type")
            .map(headers::parse_content_type)
            .transpose()
    }

    /// Checks that the content type is one of `accepted` (the first is the one expected).
    pub fn expect_content_type(
        &self,
        context: &'static str,
        accepted: &[ContentType],
    ) -> Result<(), Malformed> {
        let expected = accepted
            .first()
            .and_then(ContentType::static_name)
            .unwrap_or_default();
        let mismatch = |found: Option<String>| {
            Malformed::new(context, MalformedKind::ContentType { expected, found })
        };
        match self.content_type() {
            Ok(Some(found)) if accepted.contains(&found) => Ok(()),
            Ok(Some(found)) => {
                let mut text = String::from(found.as_str());
                truncate_on_char_boundary(&mut text, 64);
                Err(mismatch(Some(text)))
            }
            Ok(None) => Err(mismatch(None)),
            Err(_) => {
                let raw = self.headers.get("content-type").unwrap_or_default();
                let mut text = String::from_utf8_lossy(raw).into_owned();
                truncate_on_char_boundary(&mut text, 64);
                Err(mismatch(Some(text)))
            }
        }
    }

    /// The server's problem document for an error response (status 400 and above).
    ///
    /// The problem's `status` is taken from the HTTP status when the document lacks one,
    /// and `retry_after` from the `Retry-After` header (relative to `now`). A body that is
    /// not a problem document gives [`MalformedKind::UnexpectedStatus`], so the status is
    /// never lost.
    pub fn problem(&self, limits: &Limits, now: UnixTime) -> Result<Problem, Malformed> {
        let unexpected = || {
            Malformed::new(
                ResponseKind::Problem.name(),
                MalformedKind::UnexpectedStatus(self.status),
            )
        };
        let body = self.body_within(ResponseKind::Problem, limits)?;
        // RFC 8555 §6.7 says application/problem+json; some servers send application/json.
        self.expect_content_type(
            ResponseKind::Problem.name(),
            &[ContentType::ProblemJson, ContentType::Json],
        )
        .map_err(|_| unexpected())?;
        let mut problem = Problem::from_json(body)?;
        if problem.status.is_none() {
            problem.status = Some(self.status);
        }
        problem.retry_after = self.retry_after(now);
        Ok(problem)
    }

    /// The error this response stands for when it is not a success: the problem document,
    /// or a malformed-response error naming the status.
    pub fn error(&self, limits: &Limits, now: UnixTime) -> Error {
        match self.problem(limits, now) {
            Ok(problem) => Error::from(problem),
            Err(malformed) => Error::Malformed(malformed),
        }
    }

    /// Reads a JSON resource from a success response: the checks of this module in order.
    ///
    /// ```
    /// use acme_proto::resource::Directory;
    /// use acme_proto::{Headers, Limits, Response, ResponseKind, UnixTime};
    ///
    /// let body = br#"{"newNonce":"https://ca.example/nonce","newAccount":"https://ca.example/acct",
    ///     "newOrder":"https://ca.example/order"}"#;
    /// let response = Response::new(200, Headers::new().with("Content-Type", "application/json"), body.to_vec());
    /// let directory: Directory = response.json(ResponseKind::Directory, &Limits::default(), UnixTime::EPOCH)?;
    /// assert_eq!(directory.new_nonce.as_str(), "https://ca.example/nonce");
    /// # Ok::<(), acme_proto::Error>(())
    /// ```
    pub fn json<T: Resource>(
        &self,
        kind: ResponseKind,
        limits: &Limits,
        now: UnixTime,
    ) -> Result<T, Error> {
        if !self.is_success() {
            return Err(self.error(limits, now));
        }
        let body = self.body_within(kind, limits)?;
        self.expect_content_type(T::NAME, &[ContentType::Json])?;
        Ok(T::from_json(body)?)
    }

    /// Reads a certificate download (RFC 8555 §7.4.2): a success response of type
    /// `application/pem-certificate-chain`, within the certificate cap, in ASCII.
    ///
    /// Returns the PEM text; splitting it into certificates is the chain reader's job.
    pub fn pem_chain(&self, limits: &Limits, now: UnixTime) -> Result<&str, Error> {
        const CONTEXT: &str = "certificate chain";
        if !self.is_success() {
            return Err(self.error(limits, now));
        }
        let body = self.body_within(ResponseKind::Certificate, limits)?;
        self.expect_content_type(CONTEXT, &[ContentType::PemCertificateChain])?;
        if !body.is_ascii() {
            return Err(
                Malformed::new(CONTEXT, MalformedKind::Invalid("not ASCII PEM text")).into(),
            );
        }
        core::str::from_utf8(body).map_err(|_| {
            Malformed::new(CONTEXT, MalformedKind::Invalid("not ASCII PEM text")).into()
        })
    }

    /// The `Replay-Nonce`, if present and valid. An invalid one is ignored, as RFC 8555
    /// §6.5.1 asks of clients.
    pub fn replay_nonce(&self) -> Option<Nonce> {
        self.headers
            .get("replay-nonce")
            .and_then(|v| headers::parse_replay_nonce(v).ok())
    }

    /// The time the server asks to wait until, from `Retry-After`; `None` when absent or
    /// invalid (an unreadable `Retry-After` must not turn a usable answer into an error).
    pub fn retry_after(&self, now: UnixTime) -> Option<UnixTime> {
        self.headers
            .get("retry-after")
            .and_then(|v| headers::parse_retry_after(v, now).ok())
    }

    /// The `Location`, resolved against `request_url`; an error when missing or invalid.
    pub fn location(&self, request_url: &Url) -> Result<Url, Malformed> {
        let value = self.headers.get("location").ok_or(Malformed::new(
            "Location",
            MalformedKind::MissingHeader("Location"),
        ))?;
        headers::parse_location(value, request_url)
    }

    /// Every link of every `Link` field, resolved against `request_url`.
    pub fn links(&self, request_url: &Url) -> Result<Vec<Link>, Malformed> {
        headers::parse_links(self.headers.get_all("link"), request_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::ProblemType;
    use crate::resource::Order;
    use crate::wire::Headers;

    fn response(status: u16, content_type: &str, body: &[u8]) -> Response {
        Response::new(
            status,
            Headers::new().with("Content-Type", content_type),
            body.to_vec(),
        )
    }

    const ORDER: &[u8] =
        br#"{"status":"pending","identifiers":[{"type":"dns","value":"a.example"}],
        "authorizations":["https://ca.example/authz/1"],"finalize":"https://ca.example/fin/1"}"#;

    #[test]
    fn reads_a_resource() {
        let order: Order = response(200, "application/json; charset=utf-8", ORDER)
            .json(ResponseKind::Order, &Limits::default(), UnixTime::EPOCH)
            .unwrap();
        assert_eq!(order.authorizations.len(), 1);
    }

    #[test]
    fn size_is_checked_before_parsing() {
        let limits = Limits::default().with(ResponseKind::Order, 10);
        // Not JSON at all: the size error must come first.
        let err = response(200, "application/json", &[b'x'; 11])
            .json::<Order>(ResponseKind::Order, &limits, UnixTime::EPOCH)
            .unwrap_err();
        match err {
            Error::Malformed(m) => {
                assert_eq!(
                    m.kind,
                    MalformedKind::TooLarge {
                        limit: 10,
                        actual: 11
                    }
                );
                assert_eq!(m.context, "order");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn content_type_is_checked_before_parsing() {
        for (ct, found) in [
            ("text/html", Some("text/html")),
            ("\u{1}bad", Some("\u{1}bad")),
        ] {
            let err = response(200, ct, ORDER)
                .json::<Order>(ResponseKind::Order, &Limits::default(), UnixTime::EPOCH)
                .unwrap_err();
            let Error::Malformed(m) = err else { panic!() };
            assert_eq!(
                m.kind,
                MalformedKind::ContentType {
                    expected: "application/json",
                    found: found.map(String::from)
                }
            );
        }
        let none = Response::new(200, Headers::new(), ORDER.to_vec());
        let Error::Malformed(m) = none
            .json::<Order>(ResponseKind::Order, &Limits::default(), UnixTime::EPOCH)
            .unwrap_err()
        else {
            panic!()
        };
        assert_eq!(
            m.kind,
            MalformedKind::ContentType {
                expected: "application/json",
                found: None
            }
        );
    }

    #[test]
    fn error_status_gives_the_problem_with_retry_after() {
        let mut r = response(
            429,
            "application/problem+json",
            br#"{"type":"urn:ietf:params:acme:error:rateLimited","detail":"slow down"}"#,
        );
        r.headers.append("Retry-After", "30");
        let err = r
            .json::<Order>(
                ResponseKind::Order,
                &Limits::default(),
                UnixTime::from_secs(100),
            )
            .unwrap_err();
        let Error::Problem(p) = err else {
            panic!("{err:?}")
        };
        assert_eq!(p.kind, ProblemType::RateLimited);
        assert_eq!(p.status, Some(429));
        assert_eq!(p.retry_after, Some(UnixTime::from_secs(130)));
        assert_eq!(p.detail.as_deref(), Some("slow down"));
    }

    #[test]
    fn error_status_without_a_problem_keeps_the_status() {
        for r in [
            response(502, "text/html", b"<html>bad gateway</html>"),
            response(500, "application/problem+json", b"{not json"),
            Response::new(503, Headers::new(), Vec::new()),
        ] {
            let err = r.error(&Limits::default(), UnixTime::EPOCH);
            match err {
                Error::Malformed(m) if m.kind == MalformedKind::UnexpectedStatus(r.status) => {}
                Error::Malformed(m) if matches!(m.kind, MalformedKind::Json { .. }) => {
                    assert_eq!(r.status, 500);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn pem_chain_checks_type_size_and_text() {
        let limits = Limits::default();
        let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let ok = response(200, "application/pem-certificate-chain", pem.as_bytes());
        assert_eq!(ok.pem_chain(&limits, UnixTime::EPOCH).unwrap(), pem);
        let wrong = response(200, "application/json", pem.as_bytes());
        assert!(matches!(
            wrong.pem_chain(&limits, UnixTime::EPOCH),
            Err(Error::Malformed(Malformed {
                kind: MalformedKind::ContentType { .. },
                ..
            }))
        ));
        let binary = response(200, "application/pem-certificate-chain", b"\x30\x82\xff");
        assert!(matches!(
            binary.pem_chain(&limits, UnixTime::EPOCH),
            Err(Error::Malformed(Malformed {
                kind: MalformedKind::Invalid(_),
                ..
            }))
        ));
        let small = Limits::default().with(ResponseKind::Certificate, 4);
        assert!(matches!(
            ok.pem_chain(&small, UnixTime::EPOCH),
            Err(Error::Malformed(Malformed {
                kind: MalformedKind::TooLarge { .. },
                ..
            }))
        ));
        let refused = response(
            403,
            "application/problem+json",
            br#"{"type":"urn:ietf:params:acme:error:unauthorized"}"#,
        );
        assert!(matches!(
            refused.pem_chain(&limits, UnixTime::EPOCH),
            Err(Error::Problem(_))
        ));
    }

    #[test]
    fn oversized_problem_is_refused() {
        let limits = Limits::default().with(ResponseKind::Problem, 8);
        let r = response(
            400,
            "application/problem+json",
            br#"{"type":"about:blank"}"#,
        );
        let Err(m) = r.problem(&limits, UnixTime::EPOCH) else {
            panic!()
        };
        assert!(matches!(m.kind, MalformedKind::TooLarge { limit: 8, .. }));
    }

    #[test]
    fn headers_through_the_response() {
        let url = Url::parse("https://ca.example/acme/new-order").unwrap();
        let r = Response::new(
            201,
            Headers::new()
                .with("Replay-Nonce", "bad nonce!")
                .with("Location", "/acme/order/5")
                .with("Link", "<https://ca.example/dir>;rel=\"index\"")
                .with("Retry-After", "soon"),
            Vec::new(),
        );
        assert_eq!(r.replay_nonce(), None);
        assert_eq!(r.retry_after(UnixTime::EPOCH), None);
        assert_eq!(
            r.location(&url).unwrap().as_str(),
            "https://ca.example/acme/order/5"
        );
        assert_eq!(r.links(&url).unwrap().len(), 1);
        let bare = Response::new(201, Headers::new(), Vec::new());
        assert_eq!(
            bare.location(&url).unwrap_err().kind,
            MalformedKind::MissingHeader("Location")
        );
    }
}
