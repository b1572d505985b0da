//! `DnsHook`'s choice among real offers (the core's, from the fake CA): dns-persist-01
//! only when opted in, with this client's account and an allowed issuer domain name;
//! the command: the record after `--` and in the environment, secrets left out.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashMap;
use std::ffi::OsStr;

use acme_proto::Identifier;
use acme_proto::client::{
    ChallengeOffer, NewOrder, Operation as _, OrderEvent, OrderFlow, PersistIssuers,
};
use acme_proto_fake_ca::{Config, FakeCa, Fault, RequestKind};
use acme_proto_support::DnsHook;
use common::{T0, client_with_account, next_event};
use url::Url;

/// The offers for `name` from a fake CA at `https://ca.test` offering dns-persist-01
/// as `ca.test`, and the account URL; `fault` changes what the CA says first.
fn offers(name: &str, fault: Option<Fault>) -> (Vec<ChallengeOffer>, Url) {
    let mut config = Config::new("https://ca.test");
    config.dns_persist_issuers = vec!["ca.test".into()];
    let mut ca = FakeCa::new(config);
    if let Some(fault) = fault {
        ca.script(RequestKind::Any, fault, 100);
    }
    let mut client = client_with_account(&mut ca);
    let mut flow = OrderFlow::new(NewOrder::new([Identifier::dns(name).unwrap()])).unwrap();
    let mut now = T0;
    loop {
        match next_event(&mut flow, &mut client, &mut ca, &mut now) {
            Some(OrderEvent::Authorize { offers, .. }) => {
                return (offers, client.account_url().unwrap().clone());
            }
            Some(_) => {}
            None => panic!("{:?}", flow.take_outcome()),
        }
    }
}

/// The offers of these types only.
fn only(offers: &[ChallengeOffer], types: &[&str]) -> Vec<ChallengeOffer> {
    offers
        .iter()
        .filter(|o| types.contains(&o.type_name()))
        .cloned()
        .collect()
}

/// The command's arguments, as text.
fn args(hook: &DnsHook, step: &str, offer: &ChallengeOffer) -> Vec<String> {
    let (command, _) = hook.command(step, offer).unwrap();
    command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn dns_persist_is_never_chosen_by_default() {
    let (offers, _) = offers("www.example.org", None);
    let persist = only(&offers, &["dns-persist-01"]);
    assert_eq!(persist.len(), 1);
    let hook = DnsHook::new("hook");
    assert!(hook.choose(&persist).is_none());
    // Not even when named in the preferences: opting in is its own step.
    let hook = DnsHook::new("hook").prefer(&["dns-persist-01"]);
    assert!(hook.choose(&persist).is_none());
    // And the command refuses to publish it.
    let error = hook.command("present", &persist[0]).err().unwrap();
    assert!(error.to_string().contains("not opted in"), "{error}");
    // The other DNS types are chosen as before.
    let chosen = DnsHook::new("hook").choose(&offers).unwrap();
    assert_eq!(chosen.type_name(), "dns-01");
}

#[test]
fn an_opted_in_hook_publishes_this_clients_account_and_the_directorys_host() {
    let (offers, account) = offers("www.example.org", None);
    let persist = only(&offers, &["dns-persist-01"]);
    let hook = DnsHook::new("hook")
        .args(["--zone", "z"])
        .dns_persist01(PersistIssuers::default());
    // dns-01 still comes first; dns-persist-01 after it.
    assert_eq!(hook.choose(&offers).unwrap().type_name(), "dns-01");
    let chosen = hook.choose(&persist).unwrap();
    assert_eq!(
        args(&hook, "present", chosen),
        [
            "--zone",
            "z",
            "present",
            "--",
            "_validation-persist.www.example.org",
            &format!("ca.test; accounturi={}", account.as_str()),
        ]
    );
}

#[test]
fn an_issuer_the_caller_did_not_allow_is_not_chosen() {
    let fault = Fault::DnsPersistMembers {
        issuer_domain_names: Some(vec!["evil.example".into()]),
        accounturi: None,
    };
    let (offers, account) = offers("www.example.org", Some(fault));
    let persist = only(&offers, &["dns-persist-01"]);
    assert_eq!(persist.len(), 1);
    let hook = DnsHook::new("hook").dns_persist01(PersistIssuers::default());
    assert!(hook.choose(&persist).is_none());
    assert!(hook.command("present", &persist[0]).is_err());
    let hook = DnsHook::new("hook").dns_persist01(PersistIssuers::only(["ca.test"]).unwrap());
    assert!(hook.choose(&persist).is_none());
    // Named by the caller, it is.
    let hook = DnsHook::new("hook").dns_persist01(PersistIssuers::only(["evil.example"]).unwrap());
    let chosen = hook.choose(&persist).unwrap();
    assert_eq!(
        args(&hook, "cleanup", chosen)[3],
        format!("evil.example; accounturi={}", account.as_str())
    );
}

#[test]
fn the_record_comes_after_dashes_and_in_the_environment_without_secrets() {
    let (offers, _) = offers("www.example.org", None);
    let dns01 = only(&offers, &["dns-01"]);
    let hook = DnsHook::new("hook").args(["--zone", "z"]);
    for step in ["present", "cleanup"] {
        let (command, name) = hook.command(step, &dns01[0]).unwrap();
        assert_eq!(name, "_acme-challenge.www.example.org");
        let argv = args(&hook, step, &dns01[0]);
        // A value starting with `-` cannot be read as an option: `--` comes first.
        assert_eq!(argv[..5], ["--zone", "z", step, "--", name.as_str()]);
        assert_eq!(argv.len(), 6);
        let value = argv[5].as_str();
        assert_eq!(value.len(), 43);
        let envs: HashMap<&OsStr, Option<&OsStr>> = command.get_envs().collect();
        let var = |name: &str| envs.get(OsStr::new(name)).copied();
        assert_eq!(var("ACME_RECORD_NAME"), Some(Some(OsStr::new(&name))));
        assert_eq!(var("ACME_RECORD_VALUE"), Some(Some(OsStr::new(value))));
        assert_eq!(var("ACME_CHALLENGE_TYPE"), Some(Some(OsStr::new("dns-01"))));
        assert_eq!(
            var("ACME_IDENTIFIER"),
            Some(Some(OsStr::new("www.example.org")))
        );
        // Removed (`None`), whatever this process has: the examples' EAB MAC key.
        assert_eq!(var("ACME_EAB_HMAC_KEY"), Some(None));
        for secret in DnsHook::ENV_REMOVED {
            assert_eq!(var(secret), Some(None), "{secret}");
        }
    }
}
