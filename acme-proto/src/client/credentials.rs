//! Account credentials at rest: the directory URL, the account URL and the key.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};
use url::Url;
use zeroize::Zeroizing;

use super::Client;
use crate::crypto::AccountKey;
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
