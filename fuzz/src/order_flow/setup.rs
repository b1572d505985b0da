//! What the input decides before the order starts (the clock, the policy, the fake CA's
//! configuration, the order and its names), and the account the order runs under.

use std::time::Duration;

use acme_proto::client::{NewAccount, NewOrder, Operation, Step};
use acme_proto::{Client, Identifier, Policy, UnixTime};
use acme_proto_fake_ca::{Config, FakeCa};
use arbitrary::{Result, Unstructured};
use url::Url;

use super::checks::Checker;
use super::one_in;

/// [`NOW`](crate::NOW), plus up to a year.
pub(super) fn start_time(u: &mut Unstructured<'_>) -> Result<UnixTime> {
    Ok(crate::NOW.saturating_add(Duration::from_secs(u.int_in_range(0..=31_536_000)?)))
}

pub(super) fn policy(u: &mut Unstructured<'_>) -> Result<Policy> {
    let mut p = Policy::default();
    if u.arbitrary()? {
        let secs = |u: &mut Unstructured<'_>, choices: &[u64]| -> Result<Duration> {
            Ok(Duration::from_secs(*u.choose(choices)?))
        };
        p.max_bad_nonce_retries = u.int_in_range(0..=4)?;
        p.max_unavailable_retries = u.int_in_range(0..=3)?;
        p.max_transport_retries = u.int_in_range(0..=4)?;
        p.max_retry_after = secs(u, &[120, 1, 30, 3600])?;
        p.default_retry_after = secs(u, &[5, 1, 60])?;
        p.transport_backoff = secs(u, &[1, 2])?;
        p.max_transport_backoff = secs(u, &[30, 4])?;
        p.poll_initial = secs(u, &[1, 2, 5])?;
        p.poll_max = secs(u, &[15, 3, 60])?;
        p.operation_timeout = secs(u, &[600, 30, 3600])?;
    }
    Ok(p)
}

pub(super) fn ca_config(u: &mut Unstructured<'_>) -> Result<Config> {
    let base = u.choose(&["https://ca.test", "http://127.0.0.1:14000"])?;
    let mut config = Config::new(base);
    config.seed = u.int_in_range(0..=3)?;
    config.alternate_chains = u.int_in_range(0..=2)?;
    config.validation_polls = u.int_in_range(0..=2)?;
    config.issuance_polls = u.int_in_range(0..=2)?;
    config.poll_retry_after = *u.choose(&[Some(1), None, Some(0), Some(30), Some(100_000)])?;
    config.authz_reuse = !u.arbitrary::<bool>()?;
    if u.arbitrary()? {
        config.profiles = vec![
            ("classic".into(), "90 days".into()),
            ("short".into(), "6 days".into()),
        ];
    }
    Ok(config)
}

pub(super) const NAMES: [&str; 6] = [
    "a.example.org",
    "b.example.org",
    "*.c.example.org",
    "192.0.2.1",
    "2001:db8::1",
    "d.example.org",
];

pub(super) fn identifier(name: &str) -> Identifier {
    match name.parse() {
        Ok(ip) => Identifier::ip(ip),
        Err(_) => match Identifier::dns(name) {
            Ok(id) => id,
            Err(e) => panic!("a fixed name is refused: {e}"),
        },
    }
}

/// The order, and its names as `NAMES` spells them.
pub(super) fn new_order(u: &mut Unstructured<'_>) -> Result<(NewOrder, Vec<&'static str>)> {
    let count = u.int_in_range(1..=3usize)?;
    let mut names: Vec<&'static str> = Vec::new();
    for _ in 0..count {
        let name = u.choose(&NAMES)?;
        if !names.contains(name) {
            names.push(name);
        }
    }
    let mut order = NewOrder::new(names.iter().map(|n| identifier(n)));
    match u.int_in_range(0..=3u8)? {
        1 => order = order.with_profile("classic"),
        2 => order = order.with_profile("none-such"),
        _ => {}
    }
    if one_in(u, 8)? {
        order = order.replacing("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    }
    Ok((order, names))
}

/// Creates the account the order runs under, honestly (it is not what is fuzzed here).
pub(super) fn create_account(
    ca: &mut FakeCa,
    client: &mut Client,
    checker: &mut Checker,
    now: UnixTime,
) -> Option<Url> {
    let mut op = client.new_account(NewAccount::agreeing_to_terms(["mailto:fuzz@example.org"]));
    for _ in 0..16 {
        match op.poll(client, now) {
            Step::Send(request) => {
                checker.on_request(&request, now);
                let response = ca.handle(&request, now);
                checker.on_response(&response, now);
                op.handle_response(client, request.id, response, now).ok()?;
            }
            Step::Done => return op.take_outcome()?.ok().map(|info| info.url),
            _ => return None,
        }
    }
    None
}
