//! Account keys from the operating system's randomness.

use acme_proto::crypto::{AccountKey, SignatureAlgorithm};
use rand_core::UnwrapErr;

/// A new account key for `algorithm`, from the operating system's random source.
///
/// RS256 needs this crate's `rsa` feature. The random source is tried first, so a
/// system without one is an error here rather than a failure inside key generation.
///
/// ```
/// use acme_proto::crypto::SignatureAlgorithm;
///
/// let key = acme_proto_support::generate_account_key(SignatureAlgorithm::Es256)?;
/// assert_eq!(key.algorithm(), SignatureAlgorithm::Es256);
/// # Ok::<(), acme_proto::Error>(())
/// ```
pub fn generate_account_key(
    algorithm: SignatureAlgorithm,
) -> Result<AccountKey, acme_proto::Error> {
    let mut probe = [0_u8; 32];
    getrandom::fill(&mut probe).map_err(|_| {
        acme_proto::Error::from(acme_proto::Misuse::Unsupported(
            "the operating system gives no random numbers",
        ))
    })?;
    AccountKey::generate(algorithm, &mut UnwrapErr(getrandom::SysRng))
}
