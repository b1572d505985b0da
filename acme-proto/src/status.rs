//! The statuses of ACME objects (RFC 8555 §7.1.6), lower case on the wire.
//!
//! An unknown status string is an error when reading: the state machines decide on
//! these values, and guessing at a status a server invented would be worse than
//! stopping.

use core::fmt;

use serde::{Deserialize, Serialize};

macro_rules! status_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
        final: [$($final:ident),*]
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The status as on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $wire, )+
                }
            }

            /// Whether no further change of this status is to be expected (RFC 8555 §7.1.6).
            pub const fn is_final(self) -> bool {
                matches!(self, $( Self::$final )|*)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status_enum! {
    /// The status of an account object (RFC 8555 §7.1.6, account state diagram).
    AccountStatus {
        /// The account can be used.
        Valid = "valid",
        /// The client deactivated the account (RFC 8555 §7.3.6).
        Deactivated = "deactivated",
        /// The server revoked the account.
        Revoked = "revoked",
    }
    final: [Deactivated, Revoked]
}

status_enum! {
    /// The status of an order object (RFC 8555 §7.1.6, order state diagram).
    OrderStatus {
        /// Authorizations are still to be completed.
        Pending = "pending",
        /// Every authorization is valid: the order can be finalized.
        Ready = "ready",
        /// The certificate is being issued after finalization.
        Processing = "processing",
        /// The certificate has been issued.
        Valid = "valid",
        /// The order failed, or an authorization of it did; see its `error`.
        Invalid = "invalid",
    }
    final: [Valid, Invalid]
}

status_enum! {
    /// The status of an authorization object (RFC 8555 §7.1.6, authorization state diagram).
    AuthorizationStatus {
        /// No challenge has been validated yet.
        Pending = "pending",
        /// A challenge was validated.
        Valid = "valid",
        /// Validation failed, or the authorization was refused.
        Invalid = "invalid",
        /// The client deactivated it (RFC 8555 §7.5.2).
        Deactivated = "deactivated",
        /// It expired before being used.
        Expired = "expired",
        /// The server revoked it.
        Revoked = "revoked",
    }
    final: [Valid, Invalid, Deactivated, Expired, Revoked]
}

status_enum! {
    /// The status of a challenge object (RFC 8555 §7.1.6, challenge state diagram).
    ChallengeStatus {
        /// Waiting for the client to respond (RFC 8555 §7.5.1).
        Pending = "pending",
        /// The server is validating.
        Processing = "processing",
        /// Validation succeeded.
        Valid = "valid",
        /// Validation failed; see the challenge's `error`.
        Invalid = "invalid",
    }
    final: [Valid, Invalid]
}

impl AccountStatus {
    /// Whether the account can still make requests.
    pub const fn is_usable(self) -> bool {
        matches!(self, Self::Valid)
    }
}

impl OrderStatus {
    /// Whether the order has failed for good.
    pub const fn is_failed(self) -> bool {
        matches!(self, Self::Invalid)
    }
}

impl AuthorizationStatus {
    /// Whether the authorization can no longer become valid.
    pub const fn is_failed(self) -> bool {
        self.is_final() && !matches!(self, Self::Valid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn wire_names() {
        for s in [
            OrderStatus::Pending,
            OrderStatus::Ready,
            OrderStatus::Processing,
            OrderStatus::Valid,
            OrderStatus::Invalid,
        ] {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, alloc::format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<OrderStatus>(&json).unwrap(), s);
        }
        assert_eq!(AuthorizationStatus::Expired.to_string(), "expired");
        assert_eq!(
            serde_json::from_str::<AccountStatus>("\"deactivated\"").unwrap(),
            AccountStatus::Deactivated
        );
    }

    #[test]
    fn unknown_and_miscased_statuses_are_errors() {
        assert!(serde_json::from_str::<OrderStatus>("\"Valid\"").is_err());
        assert!(serde_json::from_str::<OrderStatus>("\"done\"").is_err());
        assert!(serde_json::from_str::<ChallengeStatus>("\"ready\"").is_err());
        assert!(serde_json::from_str::<ChallengeStatus>("null").is_err());
        assert!(serde_json::from_str::<AccountStatus>("1").is_err());
    }

    #[test]
    fn finality() {
        assert!(!OrderStatus::Processing.is_final());
        assert!(OrderStatus::Invalid.is_final() && OrderStatus::Invalid.is_failed());
        assert!(AuthorizationStatus::Expired.is_failed());
        assert!(!AuthorizationStatus::Valid.is_failed());
        assert!(!ChallengeStatus::Pending.is_final());
        assert!(AccountStatus::Valid.is_usable() && !AccountStatus::Revoked.is_usable());
    }
}
