//! ARI (RFC 9773): renewalInfo, and the `replaces` field of newOrder.

use std::time::Duration;

use acme_proto::UnixTime;
use serde_json::{Value, json};

use crate::FakeCa;
use crate::model::Ident;
use crate::reply::{Problem, Reply};

impl FakeCa {
    pub(crate) fn cert_by_id(&self, cert_id: &str) -> Option<usize> {
        self.certs.iter().position(|c| c.public.cert_id == cert_id)
    }

    /// Checks an order's `replaces`: a certificate of this account, not yet replaced,
    /// sharing an identifier with the new order.
    pub(crate) fn check_replaces(
        &self,
        value: &Value,
        account: usize,
        identifiers: &[Ident],
    ) -> Result<String, Problem> {
        let cert_id = value
            .as_str()
            .ok_or_else(|| Problem::malformed("replaces is not a string").violation())?;
        let cert = self.cert_by_id(cert_id).ok_or_else(|| {
            Problem::malformed(format!("replaces names no certificate: {cert_id:?}"))
        })?;
        let issued = &self.certs[cert];
        if issued.account != account {
            return Err(Problem::unauthorized(
                "the replaced certificate belongs to another account",
            ));
        }
        if let Some(by) = &issued.public.replaced_by {
            return Err(Problem::new(
                409,
                "alreadyReplaced",
                format!("already replaced by {by}"),
            ));
        }
        let order = self.route(&issued.public.order).index;
        if !self.orders[order]
            .identifiers
            .iter()
            .any(|i| identifiers.contains(i))
        {
            return Err(Problem::malformed(
                "the order shares no identifier with the replaced certificate",
            ));
        }
        Ok(cert_id.to_owned())
    }

    pub(crate) fn renewal_info(&self, cert_id: &str, now: UnixTime) -> Result<Reply, Problem> {
        let ari = self.config.ari.as_ref().ok_or_else(Problem::not_found)?;
        let cert = self
            .cert_by_id(cert_id)
            .ok_or_else(|| Problem::new(404, "malformed", "no certificate has this certID"))?;
        let c = &self.certs[cert].public;
        let (start, end) = if c.revocation.is_some() {
            (
                now.saturating_sub(Duration::from_secs(7200)),
                now.saturating_sub(Duration::from_secs(3600)),
            )
        } else if let Some(window) = ari.window {
            window
        } else {
            let life = c.not_after.saturating_duration_since(c.not_before);
            (
                c.not_before.saturating_add(life * 2 / 3),
                c.not_before.saturating_add(life * 5 / 6),
            )
        };
        let mut doc =
            json!({"suggestedWindow": {"start": start.to_string(), "end": end.to_string()}});
        if let (Some(url), Some(map)) = (&ari.explanation_url, doc.as_object_mut()) {
            map.insert("explanationURL".into(), json!(url));
        }
        let reply = Reply::json(200, &doc);
        Ok(match ari.retry_after {
            0 => reply,
            secs => reply.header("Retry-After", secs.to_string()),
        })
    }
}
