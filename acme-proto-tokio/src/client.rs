//! [`AcmeClient`]: one ACME account over the network, issuing certificates.

use std::sync::Mutex;

use acme_proto::client::{
    AccountCredentials, AccountInfo, ChallengeOffer, Issued, NewAccount, NewOrder, Operation,
    OrderEvent, OrderFlow,
};
use acme_proto::crypto::AccountKey;
use acme_proto::{Client, Identifier, Misuse, NoEvent};
use url::Url;
use zeroize::Zeroizing;

use crate::drive::{EventHandler, drive, lock};
use crate::error::DriverError;
use crate::signer::RingSigner;
use crate::solver::Solver;
use crate::transport::Transport;

/// A certificate [`AcmeClient::issue`] obtained, with the private key it generated.
#[derive(Debug)]
#[non_exhaustive]
pub struct Certificate {
    /// The chain(s) the server issued.
    pub issued: Issued,
    /// The certificate's private key (P-256, PKCS#8 PEM), zeroized on drop.
    pub private_key_pem: Zeroizing<String>,
}

/// One ACME account at one CA, over the network: the core's [`Client`] (directory,
/// key, nonce pool, policy) behind a mutex, and a [`Transport`].
///
/// Share it (for example in an `Arc`) to run many orders at once: they share the nonce
/// pool and the connection pool, and each runs in its own future or task.
#[derive(Debug)]
pub struct AcmeClient {
    core: Mutex<Client>,
    transport: Transport,
    key: Option<AccountKey>,
}

impl AcmeClient {
    /// A client for the CA at `directory_url` with the account key `key` (signing with
    /// ring where it can, see [`RingSigner`]). Call [`create_account`](Self::create_account)
    /// or [`find_account`](Self::find_account) before ordering.
    pub fn new(
        directory_url: Url,
        key: AccountKey,
        transport: Transport,
    ) -> Result<Self, DriverError> {
        let signer = RingSigner::new(copy_key(&key)?)?;
        let core = Client::new(directory_url, signer)?;
        Ok(Self {
            core: Mutex::new(core),
            transport,
            key: Some(key),
        })
    }

    /// A client for an existing account, from credentials saved with
    /// [`credentials`](Self::credentials).
    pub fn from_credentials(
        credentials: AccountCredentials,
        transport: Transport,
    ) -> Result<Self, DriverError> {
        let client = Self::new(
            credentials.directory_url().clone(),
            copy_key(credentials.key())?,
            transport,
        )?;
        let account_url = credentials.account_url().clone();
        let core = client
            .core
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .with_account(account_url);
        Ok(Self {
            core: Mutex::new(core),
            transport: client.transport,
            key: client.key,
        })
    }

    /// A client around a core [`Client`] set up by the caller (another [`Policy`](acme_proto::Policy),
    /// [`Limits`](acme_proto::Limits), an HSM signer, or
    /// [`Client::insecure_loopback`] for tests). [`credentials`](Self::credentials) is
    /// then `None`: the key is the caller's.
    pub fn from_client(client: Client, transport: Transport) -> Self {
        Self {
            core: Mutex::new(client),
            transport,
            key: None,
        }
    }

    /// The account's credentials to save, once the account URL is known and the key
    /// was given to [`new`](Self::new) or [`from_credentials`](Self::from_credentials).
    pub fn credentials(&self) -> Option<AccountCredentials> {
        let core = lock(&self.core);
        let key = copy_key(self.key.as_ref()?).ok()?;
        Some(AccountCredentials::new(
            core.directory_url().clone(),
            core.account_url()?.clone(),
            key,
        ))
    }

    /// The core client, to drive other operations with [`drive`](crate::drive()). Lock
    /// it only between awaits.
    pub fn core(&self) -> &Mutex<Client> {
        &self.core
    }

    /// The transport.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Creates the account (or finds it, if the key already has one).
    pub async fn create_account(&self, request: NewAccount) -> Result<AccountInfo, DriverError> {
        let op = lock(&self.core).new_account(request);
        self.run(op).await
    }

    /// Finds the account of this key (`onlyReturnExisting`).
    pub async fn find_account(&self) -> Result<AccountInfo, DriverError> {
        let op = lock(&self.core).find_account();
        self.run(op).await
    }

    /// Drives an operation that asks nothing of the caller (account changes, revocation,
    /// renewal information) to its end.
    pub async fn run<O: Operation<Event = NoEvent>>(
        &self,
        mut op: O,
    ) -> Result<O::Output, DriverError> {
        let no_events = |_: &mut O, never: NoEvent| -> Result<(), DriverError> { match never {} };
        drive(&mut op, &self.core, &self.transport, no_events).await
    }

    /// Issues a certificate for `identifiers`, proving control with `solver`: a new
    /// P-256 key, a CSR naming exactly the identifiers (as SANs, with an empty subject),
    /// a new order.
    pub async fn issue<S: Solver>(
        &self,
        identifiers: impl IntoIterator<Item = Identifier>,
        solver: &S,
    ) -> Result<Certificate, DriverError> {
        let identifiers: Vec<Identifier> = identifiers.into_iter().collect();
        let (csr, private_key_pem) = csr_for(&identifiers)?;
        let mut flow = OrderFlow::new(NewOrder::new(identifiers))?;
        let issued = self.order(&mut flow, csr, solver).await?;
        Ok(Certificate {
            issued,
            private_key_pem,
        })
    }

    /// Issues a certificate for `request` (with its profile, validity or `replaces`)
    /// with the caller's CSR (DER).
    pub async fn issue_with_csr<S: Solver>(
        &self,
        request: NewOrder,
        csr_der: Vec<u8>,
        solver: &S,
    ) -> Result<Issued, DriverError> {
        let mut flow = OrderFlow::new(request)?;
        self.order(&mut flow, csr_der, solver).await
    }

    /// Drives an order to its end: new, or resumed with [`OrderFlow::resume`]. On
    /// `Created`, `flow.snapshot()` can be saved to resume after a restart.
    ///
    /// Every challenge presented is cleaned up, however the order ends.
    pub async fn order<S: Solver>(
        &self,
        flow: &mut OrderFlow,
        csr_der: Vec<u8>,
        solver: &S,
    ) -> Result<Issued, DriverError> {
        flow.provide_csr(csr_der)?;
        let mut presented: Vec<ChallengeOffer> = Vec::new();
        let events = OrderEvents {
            solver,
            presented: &mut presented,
        };
        let result = drive(flow, &self.core, &self.transport, events).await;
        // The core cleans up what it knows of; this covers an order that ended in the
        // driver (a solver error, no challenge chosen) before the core could.
        for offer in presented {
            cleanup(solver, &offer).await;
        }
        result
    }
}

/// An order's events: the solver presents and cleans up, the flow is told when a
/// challenge is ready. Keeps what was presented, for cleanup if the drive ends early.
struct OrderEvents<'a, S> {
    solver: &'a S,
    presented: &'a mut Vec<ChallengeOffer>,
}

impl<S: Solver> EventHandler<OrderFlow> for OrderEvents<'_, S> {
    async fn on_event(
        &mut self,
        flow: &mut OrderFlow,
        event: OrderEvent,
    ) -> Result<(), DriverError> {
        match event {
            OrderEvent::Authorize {
                identifier, offers, ..
            } => {
                let Some(offer) = self.solver.choose(&offers).cloned() else {
                    return Err(DriverError::NoChallengeChosen {
                        identifier,
                        offered: offers.iter().map(ChallengeOffer::type_name).collect(),
                    });
                };
                // Listed first, so that a half-done present is cleaned up too.
                self.presented.push(offer.clone());
                tracing::debug!(url = %offer.url, kind = offer.type_name(), "presenting");
                self.solver
                    .present(&offer)
                    .await
                    .map_err(|source| DriverError::Solver { identifier, source })?;
                flow.challenge_ready(&offer.url)?;
            }
            OrderEvent::Cleanup(offer) => {
                self.presented.retain(|p| p.url != offer.url);
                cleanup(self.solver, &offer).await;
            }
            OrderEvent::Created { url } => tracing::info!(%url, "order created"),
            // The CSR was given up front; nothing else needs an answer.
            _ => {}
        }
        Ok(())
    }
}

async fn cleanup<S: Solver>(solver: &S, offer: &ChallengeOffer) {
    if let Err(error) = solver.cleanup(offer).await {
        tracing::warn!(url = %offer.url, %error, "challenge cleanup failed");
    }
}

/// `AccountKey` is not `Clone` (its secret is zeroized on drop): copy through PKCS#8.
fn copy_key(key: &AccountKey) -> Result<AccountKey, acme_proto::Error> {
    AccountKey::from_pkcs8_der(&key.to_pkcs8_der()?)
}

/// A new P-256 key and a CSR (DER) for it naming `identifiers` as SANs, empty subject.
fn csr_for(identifiers: &[Identifier]) -> Result<(Vec<u8>, Zeroizing<String>), DriverError> {
    let names = identifiers
        .iter()
        .map(|identifier| match (identifier.dns_name(), identifier) {
            (Some(name), _) => Ok(name.as_str().to_owned()),
            (None, Identifier::Ip(ip)) => Ok(ip.to_string()),
            _ => Err(Misuse::InvalidArgument(
                "only dns and ip identifiers can be put in a CSR",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(names)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params.serialize_request(&key)?;
    Ok((csr.der().to_vec(), Zeroizing::new(key.serialize_pem())))
}
