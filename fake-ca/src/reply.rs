//! Responses before the CA adds what every response carries, and problem documents.

use serde_json::{Map, Value, json};

use crate::script::Fault;

/// The URN prefix of ACME error types (RFC 8555 §6.7).
pub(crate) const ERROR_URN: &str = "urn:ietf:params:acme:error:";

/// A response in the making: headers as text, body as bytes.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// The problem type, when the body is a problem document.
    pub(crate) problem: Option<String>,
}

impl Reply {
    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            problem: None,
        }
    }

    pub(crate) fn json(status: u16, value: &Value) -> Self {
        Self::empty(status)
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(value).unwrap_or_default())
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub(crate) fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// Applies one damage fault to the body or headers.
    pub(crate) fn damage(&mut self, fault: &Fault) {
        match fault {
            Fault::TruncatedBody => {
                let half = self.body.len() / 2;
                self.body.truncate(half);
            }
            Fault::WrongContentType => {
                self.headers
                    .retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
                self.headers
                    .push(("Content-Type".to_owned(), "text/html".to_owned()));
            }
            Fault::HugeBody(len) => {
                let mut body = b"{}".to_vec();
                if *len >= 2 {
                    body = b"{".to_vec();
                    body.resize(len - 1, b' ');
                    body.push(b'}');
                } else {
                    body.truncate(*len);
                }
                self.body = body;
            }
            Fault::NonUtf8Body => {
                self.body = b"{\"status\":\"\xff\xfe\xfd\",\"detail\":\"\xc3\x28\"}".to_vec();
            }
            Fault::NoLocation => {
                self.headers
                    .retain(|(n, _)| !n.eq_ignore_ascii_case("location"));
            }
            Fault::DnsPersistMembers {
                issuer_domain_names,
                accounturi,
            } => {
                let Ok(mut doc) = serde_json::from_slice::<Value>(&self.body) else {
                    return;
                };
                let mut changed = false;
                let mut replace = |challenge: &mut Value| {
                    let Some(map) = challenge.as_object_mut() else {
                        return;
                    };
                    if map.get("type").and_then(Value::as_str) != Some("dns-persist-01") {
                        return;
                    }
                    changed = true;
                    if let Some(names) = issuer_domain_names {
                        map.insert("issuer-domain-names".into(), json!(names));
                    }
                    if let Some(uri) = accounturi {
                        map.insert("accounturi".into(), json!(uri));
                    }
                };
                match doc.get_mut("challenges") {
                    Some(Value::Array(challenges)) => challenges.iter_mut().for_each(replace),
                    _ => replace(&mut doc),
                }
                if changed {
                    self.body = serde_json::to_vec(&doc).unwrap_or_default();
                }
            }
            _ => {}
        }
    }
}

/// A refusal: a problem document and whether the client broke a rule to earn it.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub(crate) status: u16,
    pub(crate) kind: &'static str,
    pub(crate) detail: String,
    /// The client broke the protocol: recorded in the CA's violations.
    pub(crate) violation: bool,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) extra: Map<String, Value>,
}

impl Problem {
    pub(crate) fn new(status: u16, kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            detail: detail.into(),
            violation: false,
            headers: Vec::new(),
            extra: Map::new(),
        }
    }

    pub(crate) fn malformed(detail: impl Into<String>) -> Self {
        Self::new(400, "malformed", detail)
    }

    pub(crate) fn not_found() -> Self {
        Self::new(404, "malformed", "no such resource")
    }

    pub(crate) fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(403, "unauthorized", detail)
    }

    /// Marks the refusal as the client's protocol violation.
    pub(crate) fn violation(mut self) -> Self {
        self.violation = true;
        self
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub(crate) fn with(mut self, member: &str, value: Value) -> Self {
        self.extra.insert(member.to_owned(), value);
        self
    }

    pub(crate) fn document(&self) -> Value {
        let mut doc = json!({
            "type": format!("{ERROR_URN}{}", self.kind),
            "detail": self.detail,
            "status": self.status,
        });
        if let Some(map) = doc.as_object_mut() {
            map.extend(self.extra.clone());
        }
        doc
    }

    pub(crate) fn into_reply(self) -> Reply {
        let mut reply = Reply::empty(self.status)
            .header("Content-Type", "application/problem+json")
            .body(serde_json::to_vec(&self.document()).unwrap_or_default());
        reply.problem = Some(format!("{ERROR_URN}{}", self.kind));
        reply.headers.extend(self.headers);
        reply
    }
}
