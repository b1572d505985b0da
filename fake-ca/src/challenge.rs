//! Challenges: the response `{}` with its scripted outcome, validation counted in polls,
//! and the key authorization the CA expects.

use acme_proto::UnixTime;
use serde_json::{Map, Value, json};

use crate::FakeCa;
use crate::jws::Verified;
use crate::model::{AuthzStatus, ChallengeStatus, Validation};
use crate::reply::{ERROR_URN, Problem, Reply};
use crate::script::{Fault, RequestKind};

impl FakeCa {
    /// One poll of an authorization under validation: counts down, then settles it.
    pub(crate) fn poll_authz(&mut self, authz: usize, now: UnixTime) {
        let Some(validation) = &mut self.authzs[authz].validation else {
            return;
        };
        if validation.polls_left > 0 {
            validation.polls_left -= 1;
            return;
        }
        let validation = self.authzs[authz].validation.take().expect("checked above");
        self.settle(authz, validation, now);
    }

    fn settle(&mut self, authz: usize, validation: Validation, now: UnixTime) {
        let challenge = &mut self.challenges[validation.challenge];
        match validation.error {
            None => {
                challenge.status = ChallengeStatus::Valid;
                challenge.validated = Some(now);
                self.authzs[authz].status = AuthzStatus::Valid;
            }
            Some(error) => {
                challenge.status = ChallengeStatus::Invalid;
                challenge.error = Some(error);
                self.authzs[authz].status = AuthzStatus::Invalid;
            }
        }
    }

    pub(crate) fn challenge_json(&self, challenge: usize) -> Value {
        let c = &self.challenges[challenge];
        let mut doc = json!({
            "type": c.kind,
            "url": self.challenge_url(challenge),
            "status": c.status.name(),
        });
        let map = doc.as_object_mut().expect("a JSON object");
        if c.kind == "dns-persist-01" {
            // No token: the record names the CA and the account.
            map.insert(
                "issuer-domain-names".into(),
                json!(self.config.dns_persist_issuers),
            );
        } else {
            map.insert("token".into(), json!(c.token));
        }
        if let Some(t) = c.validated {
            map.insert("validated".into(), json!(t.to_string()));
        }
        if let Some(e) = &c.error {
            map.insert("error".into(), e.clone());
        }
        doc
    }

    pub(crate) fn challenge(
        &mut self,
        challenge: usize,
        v: &Verified,
        now: UnixTime,
    ) -> Result<Reply, Problem> {
        let c = self
            .challenges
            .get(challenge)
            .ok_or_else(Problem::not_found)?;
        let authz = c.authz;
        self.owner(v, self.authzs[authz].account)?;
        if v.payload.is_empty() {
            self.poll_authz(authz, now);
        } else {
            let payload = v.object()?;
            if !payload.is_empty() {
                self.violations_push(format!(
                    "POST {}: a challenge response payload must be {{}}",
                    self.challenge_url(challenge)
                ));
            }
            let a = &self.authzs[authz];
            if a.status == AuthzStatus::Pending
                && a.validation.is_none()
                && self.challenges[challenge].status == ChallengeStatus::Pending
            {
                self.start_validation(authz, challenge, now);
            }
        }
        let reply = Reply::json(200, &self.challenge_json(challenge))
            .header("Link", format!("<{}>;rel=\"up\"", self.authz_url(authz)));
        Ok(
            match (
                &self.authzs[authz].validation,
                self.config.challenge_retry_after,
            ) {
                (Some(_), Some(secs)) => reply.header("Retry-After", secs.to_string()),
                _ => reply,
            },
        )
    }

    fn start_validation(&mut self, authz: usize, challenge: usize, now: UnixTime) {
        let ident = self.authzs[authz].identifier.clone();
        let mut validation = Validation {
            challenge,
            polls_left: self.config.validation_polls,
            error: None,
        };
        let kind = RequestKind::Challenge;
        if let Some(fault) = self.outcome(kind, |f| {
            matches!(
                f,
                Fault::InvalidChallenge { .. } | Fault::InvalidChallengeWith(_)
            )
        }) {
            validation.error = Some(match fault {
                Fault::InvalidChallengeWith(doc) => doc,
                Fault::InvalidChallenge {
                    problem_type,
                    detail,
                } => {
                    let mut sub = Map::new();
                    sub.insert("type".into(), json!(format!("{ERROR_URN}{problem_type}")));
                    sub.insert("detail".into(), json!(detail));
                    sub.insert("identifier".into(), ident.json());
                    json!({
                        "type": format!("{ERROR_URN}{problem_type}"),
                        "detail": detail,
                        "status": 403,
                        "subproblems": [Value::Object(sub)],
                    })
                }
                _ => unreachable!("only challenge failures are accepted above"),
            });
        }
        if let Some(Fault::AuthorizationPendingPolls(n)) =
            self.outcome(kind, |f| matches!(f, Fault::AuthorizationPendingPolls(_)))
        {
            validation.polls_left = n;
        }
        if validation.polls_left == 0 {
            self.settle(authz, validation, now);
        } else {
            self.challenges[challenge].status = ChallengeStatus::Processing;
            self.authzs[authz].validation = Some(validation);
        }
    }

    /// The key authorization the CA expects for the challenge with `token`
    /// (`token.thumbprint`, RFC 8555 §8.1), from the current key of the account the
    /// challenge belongs to.
    pub fn key_authorization(&self, token: &str) -> Option<String> {
        let c = self.challenges.iter().find(|c| c.token == token)?;
        let account = &self.accounts[self.authzs[c.authz].account];
        Some(format!("{token}.{}", account.jwk.thumbprint()))
    }
}
