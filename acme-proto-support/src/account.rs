//! What a driver's `AcmeClient` holds besides its transport: the core [`Client`]
//! behind a mutex, and the account key kept to save the credentials. The operations
//! that need more than one call on the core (a key rollover, a revocation by the
//! certificate's key, renewal information) are put together here too.

use std::sync::{Mutex, MutexGuard, PoisonError};

use acme_proto::client::{
    AccountCredentials, AccountRef, KeyRollover, RenewalSuggestion, RevocationReason,
    RolloverState, SingleRequest,
};
use acme_proto::crypto::{AccountKey, Signer};
use acme_proto::{CertificateChain, Client, Error, Misuse};
use url::Url;

use crate::drive::lock;
use crate::error::{DriverError, KeyChangeError};
use crate::issue::copy_key;
use crate::signer::RingSigner;

/// One ACME account at one CA, without the network: the core [`Client`] (directory,
/// key, nonce pool, policy) behind a mutex locked for one call at a time, and the
/// account key when the driver was given it.
#[derive(Debug)]
pub struct Account {
    core: Mutex<Client>,
    /// The account key, kept to save the credentials; `None` when the caller's.
    key: Mutex<Option<AccountKey>>,
}

impl Account {
    /// An account at the CA at `directory_url` with the key `key`, signing with ring
    /// where it can (see [`RingSigner`]).
    pub fn new(directory_url: Url, key: AccountKey) -> Result<Self, Error> {
        let signer = RingSigner::new(copy_key(&key)?)?;
        let core = Client::new(directory_url, signer)?;
        Ok(Self {
            core: Mutex::new(core),
            key: Mutex::new(Some(key)),
        })
    }

    /// An existing account, from saved credentials.
    pub fn from_credentials(credentials: &AccountCredentials) -> Result<Self, Error> {
        let account = Self::new(
            credentials.directory_url().clone(),
            copy_key(credentials.key())?,
        )?;
        let core = account
            .core
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .with_account(credentials.account_url().clone());
        Ok(Self {
            core: Mutex::new(core),
            key: account.key,
        })
    }

    /// An account at the CA at `directory_url` whose key is the caller's `signer` (an
    /// HSM's, a KMS's): [`credentials`](Self::credentials) is `None`, and
    /// [`account_ref`](Self::account_ref) is what to save.
    pub fn with_signer(
        directory_url: Url,
        signer: impl Signer + Send + Sync + 'static,
    ) -> Result<Self, Error> {
        Ok(Self::from_client(Client::new(directory_url, signer)?))
    }

    /// An existing account (saved with [`account_ref`](Self::account_ref)) whose key is
    /// the caller's `signer`.
    pub fn from_account_ref(
        account: AccountRef,
        signer: impl Signer + Send + Sync + 'static,
    ) -> Result<Self, Error> {
        Ok(Self::from_client(account.into_client(signer)?))
    }

    /// An account around a core [`Client`] set up by the caller; its key is the
    /// caller's, so [`credentials`](Self::credentials) is `None`.
    pub fn from_client(client: Client) -> Self {
        Self {
            core: Mutex::new(client),
            key: Mutex::new(None),
        }
    }

    /// The core client.
    pub fn core(&self) -> &Mutex<Client> {
        &self.core
    }

    /// The core client, locked (see [`lock`]).
    pub fn lock(&self) -> MutexGuard<'_, Client> {
        lock(&self.core)
    }

    /// The credentials to save, once the account URL is known and the key is ours.
    pub fn credentials(&self) -> Option<AccountCredentials> {
        let core = self.lock();
        let key = copy_key(lock(&self.key).as_ref()?).ok()?;
        Some(AccountCredentials::new(
            core.directory_url().clone(),
            core.account_url()?.clone(),
            key,
        ))
    }

    /// Where the account is (directory and account URLs), once it was created or
    /// found: what to save beside a key the library does not hold.
    pub fn account_ref(&self) -> Option<AccountRef> {
        self.lock().account_ref()
    }

    /// The rollover to `new_key` (signing with ring where it can); once the server
    /// accepted it, call [`key_changed`](Self::key_changed).
    pub fn change_key(&self, new_key: &AccountKey) -> Result<KeyRollover, Error> {
        let signer = Box::new(RingSigner::new(copy_key(new_key)?)?);
        Ok(self.lock().change_key(signer))
    }

    /// The rollover to the caller's `new_signer`; once the server accepted it, call
    /// [`key_changed`](Self::key_changed) with `None`.
    pub fn change_signer(&self, new_signer: Box<dyn Signer + Send + Sync>) -> KeyRollover {
        self.lock().change_key(new_signer)
    }

    /// Keeps `new_key` for the credentials, after a rollover the server accepted
    /// (`None`: the new key is the caller's, and there are no credentials to save).
    pub fn key_changed(&self, new_key: Option<AccountKey>) {
        *lock(&self.key) = new_key;
    }

    /// What a driver returns once the rollover `op` to `new_key` ended with `result`:
    /// on success the key is kept for the credentials (`kept`: the [`AccountKey`] to
    /// save, `None` for a caller's signer); otherwise the error with `new_key` given
    /// back (boxed: it holds a key and an error).
    pub fn rolled_over<K>(
        &self,
        op: &KeyRollover,
        result: Result<(), DriverError>,
        new_key: K,
        kept: impl FnOnce(K) -> Option<AccountKey>,
    ) -> Result<(), Box<KeyChangeError<K>>> {
        match result {
            Ok(()) => {
                self.key_changed(kept(new_key));
                Ok(())
            }
            Err(error) => {
                // Ended by the driver before the rollover's own end: nothing known.
                let state = match op.state() {
                    RolloverState::Running => RolloverState::Unknown,
                    state => state,
                };
                Err(Box::new(KeyChangeError::new(error, state, new_key)))
            }
        }
    }

    /// The revocation of `certificate` (its end-entity certificate) by the account key.
    pub fn revoke(
        &self,
        certificate: &CertificateChain,
        reason: Option<RevocationReason>,
    ) -> Result<SingleRequest<()>, Misuse> {
        self.lock().revoke(certificate.end_entity().der(), reason)
    }

    /// The revocation of `certificate` signed by its own private key (PKCS#8 PEM).
    pub fn revoke_with_certificate_key(
        &self,
        certificate: &CertificateChain,
        private_key_pem: &str,
        reason: Option<RevocationReason>,
    ) -> Result<SingleRequest<()>, Error> {
        let key = Box::new(AccountKey::from_pem(private_key_pem)?);
        Ok(self
            .lock()
            .revoke_with_certificate_key(certificate.end_entity().der(), reason, key))
    }

    /// The request for the CA's renewal suggestion (ARI) for `certificate`.
    pub fn renewal_info(
        &self,
        certificate: &CertificateChain,
    ) -> Result<SingleRequest<RenewalSuggestion>, Error> {
        let cert_id = certificate.cert_id()?;
        Ok(self.lock().renewal_info(&cert_id))
    }
}
