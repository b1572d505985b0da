//! Accounts whose key is the caller's (any `Signer`), key rollovers that cannot lose
//! the new key, and (with the `rsa` feature) RS256 account keys signing on ring.

use std::sync::Arc;

use acme_proto::client::{AccountRef, NewAccount, RolloverState};
use acme_proto::crypto::Signer;
use acme_proto_fake_ca::{Fault, RequestKind};

use super::support::{CaServer, account, key, keys, transport};
use crate::driver::AcmeClient;

driver_tests!(
    a_signer_account_is_saved_by_reference_and_rolls_over_to_another_signer,
    a_key_change_whose_answer_is_lost_is_resolved_by_the_new_key,
    a_refused_key_change_gives_the_new_key_back,
);

pub async fn a_signer_account_is_saved_by_reference_and_rolls_over_to_another_signer() {
    let server = CaServer::start();
    // "An HSM": a signer the library does not hold a key for.
    let hsm: Arc<dyn Signer + Send + Sync> = Arc::new(key(keys::P256));
    let client = AcmeClient::with_signer(
        server.directory_url.clone(),
        Arc::clone(&hsm),
        transport(&server),
    )
    .unwrap();
    let created =
        aw!(client.create_account(NewAccount::agreeing_to_terms(["mailto:a@example.org"])))
            .unwrap();
    assert!(
        client.credentials().is_none(),
        "the key is not ours to save"
    );
    let saved = client
        .account_ref()
        .expect("the account is known")
        .to_json()
        .unwrap();
    assert!(!String::from_utf8_lossy(&saved).contains("PRIVATE"));

    // Another process: the reference and the same signer; no lookup needed.
    let account = AccountRef::from_json(&saved).unwrap();
    assert_eq!(account.account_url(), &created.url);
    let again = AcmeClient::from_account_ref(account, hsm, transport(&server)).unwrap();
    assert_eq!(aw!(again.fetch_account()).unwrap().url, created.url);

    // A rollover to another signer: the account goes on with it.
    let next: Arc<dyn Signer + Send + Sync> = Arc::new(key(keys::P384));
    aw!(again.change_signer(Arc::clone(&next))).unwrap();
    assert_eq!(
        server.ca.lock().unwrap().accounts()[0].thumbprint,
        next.public_jwk().thumbprint().as_str()
    );
    assert_eq!(aw!(again.fetch_account()).unwrap().url, created.url);
    assert!(again.credentials().is_none());
    assert_eq!(again.account_ref().unwrap().account_url(), &created.url);
    // Rolled over to a key the library holds: there are credentials to save again.
    aw!(again.change_key(key(keys::P521))).unwrap();
    let saved = again.credentials().expect("credentials for an AccountKey");
    assert_eq!(saved.account_url(), &created.url);
    assert_eq!(server.violations(), Vec::<String>::new());
}

pub async fn a_key_change_whose_answer_is_lost_is_resolved_by_the_new_key() {
    let server = CaServer::start();
    let client = account(&server, keys::P256).await;
    // The CA applies the change, then answers with a body past the client's limit: the
    // transport drops it (nothing the client can read).
    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::KeyChange, Fault::HugeBody(1 << 20), 1);
    let lookups = server.ca.lock().unwrap().count(RequestKind::NewAccount);
    aw!(client.change_key(key(keys::P384))).unwrap();
    assert_eq!(
        server.ca.lock().unwrap().count(RequestKind::NewAccount),
        lookups + 1,
        "one lookup by the new key"
    );
    let saved = client.credentials().unwrap();
    assert_eq!(saved.key().public_jwk(), key(keys::P384).public_jwk());
    aw!(client.fetch_account()).unwrap();
    assert_eq!(server.violations(), Vec::<String>::new());
}

pub async fn a_refused_key_change_gives_the_new_key_back() {
    let server = CaServer::start();
    let client = account(&server, keys::P256).await;
    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::KeyChange, Fault::ServerError, 1);
    let error = aw!(client.change_key(key(keys::P384))).unwrap_err();
    assert_eq!(error.state, RolloverState::NotApplied);
    assert!(error.error.problem().is_some(), "{error}");
    assert_eq!(error.new_key.public_jwk(), key(keys::P384).public_jwk());
    assert!(!format!("{error:?}").contains("PRIVATE"), "{error:?}");
    // The old key still works, and is still the one saved.
    let saved = client.credentials().unwrap();
    assert_eq!(saved.key().public_jwk(), key(keys::P256).public_jwk());
    aw!(client.fetch_account()).unwrap();

    // A signer's rollover gives the caller's handle back just the same.
    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::KeyChange, Fault::ServerError, 1);
    let next: Arc<dyn Signer + Send + Sync> = Arc::new(key(keys::ED25519));
    let error = aw!(client.change_signer(Arc::clone(&next))).unwrap_err();
    assert_eq!(error.state, RolloverState::NotApplied);
    assert!(Arc::ptr_eq(&error.new_key, &next));
    assert!(client.credentials().is_some(), "still the old, saved key");
}

/// RS256 account keys, which the drivers take with their `rsa` feature.
#[cfg(feature = "rsa")]
mod rsa {
    use super::super::support::{CaServer, account, key, keys, transport};
    use crate::driver::AcmeClient;

    driver_tests!(an_rsa_account_key_signs_on_ring,);

    /// A 2048-bit RSA key with the public exponent 3 (made for this test only): the
    /// core reads it, ring refuses it (an exponent under 65537).
    const RSA_E3: &str = "-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDQfTOq1dtO2S0b
7r/Yq04HxAvwkTVldIgXxKv08VL3OpgJ2FZrT8I5lPj+GqYnYM0X8iVfbTLmaA9U
XPC1RuFFHbnjWvjbaBMVJ+EhUdsVJwKDYcTVarC+K98JnbcWfd//XVMTf3WAVAuy
WUyh0129RNCIjAMA1lood74r7YaXdncX7if+KFif1CtDdNtHEWkqvkD5P2ygWopE
l8/mkhTEm4wL1de/6XpYVmDx4ZtJeghxZPZCr8eXmmbnV0G0DsduPUTwzvmTScZr
ExzJV3W0dpAfxr0aIARcZgUKfMKtOR08ufClKAiYP1i9rrMSg/lpODbJhf7tlywN
+8iui2XlAgEDAoIBAQCK/iJx4+eJ5h4SnyqQcjQFLV1LC3juTbAP2HKjS4yk0bqx
OuRHioF7uKX+vG7E6zNlTBjqSMyZmrTi6KB42euDaSaXkfs88Ay4xUDA4Ty4xKxX
loM48cspcpSxE89kU+qqPjdiVPkAOAfMO4hr4j5+LeBbCAIAjubFpSlynlm6TcYE
RhPM5oMVq1gHX3d9p94MvA+3OVeKWOSyG6a0n0551xQ+QUNfBDdyzMSgVjPOKl0+
3KHHUyiC/D5X7eKg6i0FVeuDIRuhv5C5+cO3ifOGRRrvIe2ILtahZEjwPmMYvXFh
QUUyJpKhmbxtM2bQIBQRKswqAGzNpiFQPAeg1mrzAoGBAOjvCJtsVXmaUkk7+XEg
ZPSKwIpAvDpO2ONfHHZMptw8Zfp0LJWYrAhTEwSpFpVTc6eah4jbfQhS2IGfkYgc
QBMZdJRfeNvAUksJRVo1ev8uFcRbLFe6YZTkMowjdzk0jU2NYHehLQtJ/JJHT/xG
kqTWt1SX9qauR75anCnjeYuXAoGBAOUifG7eeRplAN38bDbqMKeM458lrS8B/E/a
Ud+K/ELRcvM6R10Ytx7ZEDVYSbhAxtT4knq8NgKAR4fD4OWmb3DMx89MpHRgWCJK
1x0AjYk8+SNd54ETeC2GHQt+p/TTj6Wdd5E4wSFb3CvSkZyTwTZ4wK/yjrUK1ju7
BZNZ0DnjAoGBAJtKBbzy46Zm4YYn+6DAQ02x1bGAfXw0kJeUvaQzGegoQ/xNcw5l
yAWMt1hwubjiTRpnBQXnqLA3OwEVC7AS1WIQ+GLqUJKANtyw2ObOUf90DoLncuUm
67iYIbLCT3t4XjOzlaUWHgeGqGGE3/2EYcM5z426pG8e2n7nEsaXpl0PAoGBAJjB
qEnpphGYqz6oSCScIG+zQmoZHh9WqDU8NpUHUtc2TKIm2j4QehSQtXjlhnrV2eNQ
YacoJAGq2lqCle5u9PXd2oozGE2VkBbcj2irCQYopheT76tiUB5ZaLJUb/iNCm5o
+mDQgMDn6B03C7231iRQgHVMXyNcjtJ8rmI74CaXAoGAUh+s1+KIEc4ZGqoSF5bB
BanTp1MxqDDpxmHB+dVQsrM61OeWvnwggJcy0CfVKbX4sKHV1YQpmkeaRqiwcNg5
j7OebuT+BUlnEaYdoUcUv6aCktjmx/I7c0BTeEBwNsIwh3YMNPeBFJaPWxwEPjIh
0qAfrU2ebkplFJKplOk9ZYo=
-----END PRIVATE KEY-----";

    pub async fn an_rsa_account_key_signs_on_ring() {
        let server = CaServer::start();
        // An account made and used with RS256 (the CA verifies every signature), and
        // again from its saved credentials.
        let client = account(&server, keys::RSA2048).await;
        let url = aw!(client.fetch_account()).unwrap().url;
        let saved = client.credentials().unwrap();
        let again = AcmeClient::from_credentials(saved, transport(&server)).unwrap();
        assert_eq!(aw!(again.fetch_account()).unwrap().url, url);

        // Every RS256 signature is ring's, never the `rsa` crate's (RUSTSEC-2023-0071):
        // a key the core reads but ring refuses is refused by the driver, for a new
        // client and for a rollover alike.
        let weak = key(RSA_E3);
        let error = AcmeClient::new(server.directory_url.clone(), weak, transport(&server))
            .expect_err("refused");
        assert!(error.to_string().contains("ring refused"), "{error}");
        let error = aw!(client.change_key(key(RSA_E3))).unwrap_err();
        assert!(error.error.to_string().contains("ring refused"), "{error}");
        aw!(client.fetch_account()).unwrap();
        assert_eq!(server.violations(), Vec::<String>::new());
    }
}
