//! The harness's own HTTP requests: loopback only, no proxy, bounded in time and size.

use std::time::Duration;

use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::HarnessError;

/// Bounds every request the harness makes.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Directory, roots and API answers are a few kilobytes.
const MAX_BODY: u64 = 1 << 20;

/// An agent trusting only `root_pem` (for Pebble), or plain HTTP (for challtestsrv).
pub(crate) fn agent(root_pem: Option<&str>) -> Result<Agent, HarnessError> {
    let mut tls = TlsConfig::builder();
    if let Some(pem) = root_pem {
        let root = Certificate::from_pem(pem.as_bytes())
            .map_err(|e| HarnessError::Certificate(e.to_string()))?;
        tls = tls.root_certs(RootCerts::new_with_certs(&[root]));
    }
    Ok(Agent::config_builder()
        .http_status_as_error(false)
        // A proxy from the environment must not see loopback test traffic.
        .proxy(None)
        .timeout_global(Some(REQUEST_TIMEOUT))
        .tls_config(tls.build())
        .build()
        .new_agent())
}

/// The body of a `200 OK` answer to a GET.
pub(crate) fn get_text(agent: &Agent, url: &str) -> Result<String, HarnessError> {
    let what = || format!("GET {url}");
    let mut response = agent
        .get(url)
        .call()
        .map_err(|e| HarnessError::request(what(), e))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_string()
        .map_err(|e| HarnessError::request(what(), e))?;
    if status != 200 {
        return Err(HarnessError::request(
            what(),
            format!("status {status}: {body}"),
        ));
    }
    Ok(body)
}

/// POSTs `body` as JSON and expects `200 OK`.
pub(crate) fn post_json(
    agent: &Agent,
    url: &str,
    body: &serde_json::Value,
) -> Result<(), HarnessError> {
    let what = || format!("POST {url} {body}");
    let mut response = agent
        .post(url)
        .header("content-type", "application/json")
        .send(body.to_string())
        .map_err(|e| HarnessError::request(what(), e))?;
    let status = response.status().as_u16();
    if status != 200 {
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .unwrap_or_default();
        return Err(HarnessError::request(
            what(),
            format!("status {status}: {text}"),
        ));
    }
    Ok(())
}
