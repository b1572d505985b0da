//! acme-proto's blocking driver: `AcmeClient::issue` with the built-in http-01
//! responder, a thread per order in flight.

use std::sync::Arc;

use acme_proto::client::NewAccount;
use acme_proto::crypto::SignatureAlgorithm;
use acme_proto::{Client, Identifier};
use acme_proto_blocking::{
    AcmeClient, Http01Responder, RingSigner, Roots, Transport, generate_account_key,
};
use url::Url;

use crate::child::{CONTACT, Progress, Spec, Timed, in_threads};
use crate::measure::Counts;

pub fn run(spec: &Spec, progress: &Progress) -> String {
    let counts = Arc::new(Counts::default());
    let observed = counts.clone();
    let transport = Transport::builder()
        .roots(Roots::None)
        .add_root_pem(&spec.root_pem)
        .observe(move |request, response| {
            observed.record(request.url.path(), response.status, &response.body);
        })
        .build()
        .expect("the blocking transport");
    let client = client(spec, transport);
    client
        .create_account(NewAccount::agreeing_to_terms([CONTACT]))
        .expect("an account on Pebble");
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", spec.http01_port)).expect("the http-01 port");
    let responder = Http01Responder::from_listener_with(listener, super::responder_limits())
        .expect("the http-01 responder");
    progress.ready();
    let timed = Timed::start(&counts);
    let results = in_threads(
        &(client, responder),
        spec,
        progress,
        |(client, responder), order| {
            let identifiers = spec
                .names_of(order)
                .iter()
                .map(|name| Identifier::dns(name).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            client
                .issue(identifiers, responder)
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
    );
    timed.finish(&counts, results)
}

fn client(spec: &Spec, transport: Transport) -> AcmeClient {
    let url = Url::parse(&spec.directory).expect("Pebble's directory URL");
    let key = generate_account_key(SignatureAlgorithm::Es256).expect("an account key");
    match super::acme_proto_policy(spec.polling) {
        None => AcmeClient::new(url, key, transport).expect("a client"),
        Some(policy) => {
            let signer = RingSigner::new(key).expect("a ring signer");
            let core = Client::with_boxed_key(url, Box::new(signer))
                .expect("an https directory")
                .with_policy(policy);
            AcmeClient::from_client(core, transport)
        }
    }
}
