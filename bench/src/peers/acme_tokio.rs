//! acme-proto's tokio driver: `AcmeClient::issue` with the built-in http-01 responder.

use std::sync::Arc;

use acme_proto::client::NewAccount;
use acme_proto::crypto::SignatureAlgorithm;
use acme_proto::{Client, Identifier};
use acme_proto_tokio::{
    AcmeClient, Http01Responder, RingSigner, Roots, Transport, generate_account_key,
};
use url::Url;

use crate::child::{CONTACT, Progress, Spec, Timed, in_tasks};
use crate::measure::Counts;

struct Context {
    client: AcmeClient,
    responder: Http01Responder,
    spec: Spec,
}

pub fn run(spec: &Spec, progress: &Arc<Progress>) -> String {
    super::runtime().block_on(async {
        let counts = Arc::new(Counts::default());
        let observed = counts.clone();
        let transport = Transport::builder()
            .roots(Roots::None)
            .add_root_pem(&spec.root_pem)
            .observe(move |request, response| {
                observed.record(request.url.path(), response.status, &response.body);
            })
            .build()
            .expect("the tokio transport");
        let client = client(spec, transport);
        client
            .create_account(NewAccount::agreeing_to_terms([CONTACT]))
            .await
            .expect("an account on Pebble");
        let listener =
            std::net::TcpListener::bind(("127.0.0.1", spec.http01_port)).expect("the http-01 port");
        let responder = Http01Responder::from_listener_with(listener, super::responder_limits())
            .expect("the http-01 responder");
        let context = Arc::new(Context {
            client,
            responder,
            spec: spec.clone(),
        });
        progress.ready();
        let timed = Timed::start(&counts);
        let results = in_tasks(context, spec, progress, issue).await;
        timed.finish(&counts, results)
    })
}

fn client(spec: &Spec, transport: Transport) -> AcmeClient {
    let url = Url::parse(&spec.directory).expect("Pebble's directory URL");
    let key = generate_account_key(SignatureAlgorithm::Es256).expect("an account key");
    match super::acme_proto_policy(spec.polling) {
        None => AcmeClient::new(url, key, transport).expect("a client"),
        Some(policy) => {
            // What `AcmeClient::new` builds (the key signing with ring), with the policy.
            let signer = RingSigner::new(key).expect("a ring signer");
            let core = Client::with_boxed_key(url, Box::new(signer))
                .expect("an https directory")
                .with_policy(policy);
            AcmeClient::from_client(core, transport)
        }
    }
}

async fn issue(context: Arc<Context>, order: usize) -> Result<(), String> {
    let names = context.spec.names_of(order);
    let identifiers = names
        .iter()
        .map(|name| Identifier::dns(name).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    context
        .client
        .issue(identifiers, &context.responder)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
