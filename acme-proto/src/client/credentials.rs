//! Account credentials at rest: the directory URL, the account URL and the key; or,
//! for a key the library does not hold, the two URLs alone.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};
use url::Url;
use zeroize::Zeroizing;

use super::Client;
use crate::crypto::{AccountKey, Signer};
use crate::error::Error;
use crate::fault::Misuse;

/// What identifies an ACME account: save it after creating the account, load it to use
/// the account again.
///
/// Serializes (with serde) to `{"directory", "account", "key"}`, the key as a PKCS#8 PEM
/// so other tools can read it. The serialized form holds the private key: store it as
/// you would the key itself.
///
/// ```
/// use acme_proto::client::AccountCredentials;
/// use acme_proto::crypto::AccountKey;
/// # use acme_proto::SignatureAlgorithm;
/// # let key = AccountKey::from_pem("-----BEGIN PRIVATE KEY-----
/// # MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHrBebywWhyux7r1O
/// # TGSlYsqL5gyeGdKMi8ltukuTfeWhRANCAARQkAo04mR7yZT16q876t5dXt4f8CNV
/// # HiEQDI0ldCHPIbFxwWSirtAGLILwJESGhMLjIYYGJOKnbDhq03AXqzmN
/// # -----END PRIVATE KEY-----")?;
/// let credentials = AccountCredentials::new(
///     "https://ca.example/directory".parse()?,
///     "https://ca.example/acct/1".parse()?,
///     key,
/// );
/// let saved = credentials.to_json()?;
/// let loaded = AccountCredentials::from_json(&saved)?;
/// assert_eq!(loaded.account_url(), credentials.account_url());
/// let client = loaded.into_client()?;
/// assert_eq!(client.account_url().map(|u| u.as_str()), Some("https://ca.example/acct/1"));
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
pub struct AccountCredentials {
    directory_url: Url,
    account_url: Url,
    key: AccountKey,
}

impl fmt::Debug for AccountCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountCredentials")
            .field("directory_url", &self.directory_url.as_str())
            .field("account_url", &self.account_url.as_str())
            .field("key", &self.key)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    directory: Url,
    account: Url,
    key: Zeroizing<String>,
}

impl AccountCredentials {
    /// The largest serialized credentials accepted (a 8192-bit RSA key fits).
    pub const MAX_LEN: usize = 16 * 1024;

    /// Credentials from their parts.
    pub fn new(directory_url: Url, account_url: Url, key: AccountKey) -> Self {
        Self {
            directory_url,
            account_url,
            key,
        }
    }

    /// The directory URL.
    pub fn directory_url(&self) -> &Url {
        &self.directory_url
    }

    /// The account URL.
    pub fn account_url(&self) -> &Url {
        &self.account_url
    }

    /// The account key.
    pub fn key(&self) -> &AccountKey {
        &self.key
    }

    /// Where the account is, without its key.
    pub fn account_ref(&self) -> AccountRef {
        AccountRef::new(self.directory_url.clone(), self.account_url.clone())
    }

    /// A client for this account.
    pub fn into_client(self) -> Result<Client, Misuse> {
        Ok(Client::new(self.directory_url, self.key)?.with_account(self.account_url))
    }

    /// The credentials as JSON, in a buffer zeroized on drop.
    pub fn to_json(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let stored = Stored {
            directory: self.directory_url.clone(),
            account: self.account_url.clone(),
            key: self.key.to_pkcs8_pem()?,
        };
        serde_json::to_vec_pretty(&stored)
            .map(Zeroizing::new)
            .map_err(|_| Misuse::InvalidArgument("the credentials cannot be serialized").into())
    }

    /// Reads credentials written by [`AccountCredentials::to_json`]. The key may also be
    /// any PEM [`AccountKey::from_pem`] reads (SEC1, PKCS#1), for credentials put
    /// together by hand from another client's files.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        const CONTEXT: &str = "account credentials";
        let stored: Stored = crate::resource::bounded_json(CONTEXT, bytes, Self::MAX_LEN)?;
        let key = AccountKey::from_pem(stored.key.as_bytes())?;
        Ok(Self {
            directory_url: stored.directory,
            account_url: stored.account,
            key,
        })
    }
}

/// Where an ACME account is, without its key: the directory URL and the account URL.
///
/// For accounts whose key the library does not hold (an HSM, a cloud KMS, any
/// [`Signer`] of the caller's): save it once the account exists
/// ([`Client::account_ref`]), and later give it with the same signer to
/// [`AccountRef::into_client`]. It holds no secret. Serializes (with serde) to
/// `{"directory", "account"}`.
///
/// ```
/// use acme_proto::client::AccountRef;
/// # use acme_proto::crypto::AccountKey;
/// # let signer = AccountKey::from_pem("-----BEGIN PRIVATE KEY-----
/// # MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHrBebywWhyux7r1O
/// # TGSlYsqL5gyeGdKMi8ltukuTfeWhRANCAARQkAo04mR7yZT16q876t5dXt4f8CNV
/// # HiEQDI0ldCHPIbFxwWSirtAGLILwJESGhMLjIYYGJOKnbDhq03AXqzmN
/// # -----END PRIVATE KEY-----")?;
/// let account = AccountRef::new(
///     "https://ca.example/directory".parse()?,
///     "https://ca.example/acct/1".parse()?,
/// );
/// let saved = account.to_json()?;
/// let loaded = AccountRef::from_json(&saved)?;
/// assert_eq!(loaded, account);
/// // `signer` is any `Signer`: here a key in memory, in production an HSM's.
/// let client = loaded.into_client(signer)?;
/// assert_eq!(client.account_ref(), Some(account));
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRef {
    #[serde(rename = "directory")]
    directory_url: Url,
    #[serde(rename = "account")]
    account_url: Url,
}

impl AccountRef {
    /// The largest serialized reference accepted.
    pub const MAX_LEN: usize = 8 * 1024;

    /// A reference from its parts.
    pub fn new(directory_url: Url, account_url: Url) -> Self {
        Self {
            directory_url,
            account_url,
        }
    }

    /// The directory URL.
    pub fn directory_url(&self) -> &Url {
        &self.directory_url
    }

    /// The account URL.
    pub fn account_url(&self) -> &Url {
        &self.account_url
    }

    /// A client for this account, signing with `signer` (the account's key, wherever
    /// it is kept).
    pub fn into_client(
        self,
        signer: impl Signer + Send + Sync + 'static,
    ) -> Result<Client, Misuse> {
        Ok(Client::new(self.directory_url, signer)?.with_account(self.account_url))
    }

    /// The reference as JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        serde_json::to_vec_pretty(self).map_err(|_| {
            Misuse::InvalidArgument("the account reference cannot be serialized").into()
        })
    }

    /// Reads a reference written by [`AccountRef::to_json`] (at most
    /// [`MAX_LEN`](Self::MAX_LEN) bytes).
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        Ok(crate::resource::bounded_json(
            "account reference",
            bytes,
            Self::MAX_LEN,
        )?)
    }
}

impl Client {
    /// Where the account is (directory and account URLs), once it was created or found:
    /// what to save beside a key the library does not hold.
    pub fn account_ref(&self) -> Option<AccountRef> {
        let account_url = self.account_url()?.clone();
        Some(AccountRef::new(self.directory_url().clone(), account_url))
    }
}
