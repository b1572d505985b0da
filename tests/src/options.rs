//! What a test asks of its Pebble.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which Pebble a test runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PebbleVersion {
    /// Pebble [`PEBBLE_VERSION`](crate::PEBBLE_VERSION) (2.10.3), built from the Go module
    /// proxy by `cargo xtask setup` into the workspace's `.tools/` directory
    /// ([`pebble_bin_dir`](crate::pebble_bin_dir)): the main test server, with ARI,
    /// profiles, Retry-After and a required User-Agent.
    #[default]
    V2_10,
    /// Debian's `pebble` package, 2.4.0 (2023), found on `PATH`: an older server, as
    /// many in the wild are (no ARI, no profiles).
    Debian2_4,
}

/// The key algorithm of Pebble's issuing hierarchy (`keyAlgorithm` in its config, 2.9 and
/// later): what signs the issued certificates and their intermediates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IssuerKeyAlgorithm {
    /// RSA 2048 (Pebble's default).
    #[default]
    Rsa,
    /// ECDSA P-256.
    Ecdsa,
}

impl IssuerKeyAlgorithm {
    /// The name in Pebble's config.
    pub fn config_name(self) -> &'static str {
        match self {
            Self::Rsa => "rsa",
            Self::Ecdsa => "ecdsa",
        }
    }
}

/// How to start Pebble: a builder, `PebbleOptions::default()` for a plain, fast server.
///
/// Defaults: Pebble 2.10.3 from the workspace's `.tools/` ([`PebbleVersion::V2_10`]),
/// its config listing the profiles `default` (90 days) and `shortlived` (6 days), no
/// Retry-After; not strict, no nonce rejected (Pebble's own default is 5 %), authorization
/// reuse at Pebble's default of 50 %, Pebble's default chain length, no alternate roots,
/// no EAB, an RSA issuing hierarchy, challenges really validated, and `PEBBLE_VA_NOSLEEP` on (Pebble otherwise
/// sleeps up to 15 s before each validation).
#[derive(Debug, Clone)]
pub struct PebbleOptions {
    pub(crate) strict: bool,
    pub(crate) nonce_reject_percent: u8,
    pub(crate) authz_reuse_percent: u8,
    pub(crate) alternate_roots: u8,
    pub(crate) chain_length: Option<u8>,
    pub(crate) eab_keys: BTreeMap<String, String>,
    pub(crate) always_valid: bool,
    pub(crate) no_sleep: bool,
    pub(crate) va_sleep_time: Option<u32>,
    pub(crate) programs_dir: Option<PathBuf>,
    pub(crate) version: PebbleVersion,
    pub(crate) issuer_key: IssuerKeyAlgorithm,
}

impl Default for PebbleOptions {
    fn default() -> Self {
        Self {
            strict: false,
            nonce_reject_percent: 0,
            authz_reuse_percent: 50,
            alternate_roots: 0,
            chain_length: None,
            eab_keys: BTreeMap::new(),
            always_valid: false,
            no_sleep: true,
            va_sleep_time: None,
            programs_dir: None,
            version: PebbleVersion::default(),
            issuer_key: IssuerKeyAlgorithm::default(),
        }
    }
}

impl PebbleOptions {
    /// Pebble's `-strict`: upcoming breaking changes of the API enforced.
    #[must_use]
    pub fn strict(mut self, on: bool) -> Self {
        self.strict = on;
        self
    }

    /// `PEBBLE_WFE_NONCEREJECT`: the share of valid nonces refused as `badNonce`
    /// (capped at 100).
    #[must_use]
    pub fn nonce_reject_percent(mut self, percent: u8) -> Self {
        self.nonce_reject_percent = percent.min(100);
        self
    }

    /// `PEBBLE_AUTHZREUSE`: the share of new orders given an existing valid
    /// authorization (capped at 100).
    #[must_use]
    pub fn authz_reuse_percent(mut self, percent: u8) -> Self {
        self.authz_reuse_percent = percent.min(100);
        self
    }

    /// `PEBBLE_ALTERNATE_ROOTS`: how many extra hierarchies issue alternate chains.
    #[must_use]
    pub fn alternate_roots(mut self, count: u8) -> Self {
        self.alternate_roots = count;
        self
    }

    /// `PEBBLE_CHAIN_LENGTH`: how many intermediates Pebble puts between its root
    /// and the leaf (seen here: 3 gives root → 3 intermediates; unset gives 1).
    #[must_use]
    pub fn chain_length(mut self, length: u8) -> Self {
        self.chain_length = Some(length);
        self
    }

    /// An External Account Binding key: `kid` and its HMAC key in base64url. Any key
    /// makes EAB required (`externalAccountBindingRequired` in Pebble's config).
    #[must_use]
    pub fn eab_key(
        mut self,
        kid: impl Into<String>,
        hmac_key_base64url: impl Into<String>,
    ) -> Self {
        self.eab_keys.insert(kid.into(), hmac_key_base64url.into());
        self
    }

    /// `PEBBLE_VA_ALWAYS_VALID`: every challenge passes without being checked.
    #[must_use]
    pub fn always_valid(mut self, on: bool) -> Self {
        self.always_valid = on;
        self
    }

    /// `PEBBLE_VA_NOSLEEP`: validate at once instead of after a random sleep (default on).
    #[must_use]
    pub fn no_sleep(mut self, on: bool) -> Self {
        self.no_sleep = on;
        self
    }

    /// `PEBBLE_VA_SLEEPTIME`: the longest random sleep, in seconds, before each
    /// validation (Pebble's default 15 s). Only felt with [`no_sleep`](Self::no_sleep) off.
    #[must_use]
    pub fn va_sleep_time(mut self, seconds: u32) -> Self {
        self.va_sleep_time = Some(seconds);
        self
    }

    /// Which Pebble to run: where its programs are looked for, and how they are started
    /// (flags and config differ between 2.4.0 and 2.10).
    #[must_use]
    pub fn version(mut self, version: PebbleVersion) -> Self {
        self.version = version;
        self
    }

    /// The key algorithm of the issuing hierarchy (Pebble 2.10 only; 2.4.0 is always RSA).
    #[must_use]
    pub fn issuer_key(mut self, algorithm: IssuerKeyAlgorithm) -> Self {
        self.issuer_key = algorithm;
        self
    }

    /// Debian's Pebble 2.4.0 from `PATH` instead of 2.10.3: `version(PebbleVersion::Debian2_4)`.
    #[must_use]
    pub fn debian_2_4(self) -> Self {
        self.version(PebbleVersion::Debian2_4)
    }

    /// Look for `pebble` and `pebble-challtestsrv` in this directory instead of where
    /// the [`version`](Self::version) is installed (they are started as that version).
    #[must_use]
    pub fn programs_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.programs_dir = Some(dir.into());
        self
    }
}
