//! What to order and how to answer it: the newOrder request (`--profile`, `--replaces`)
//! and the DNS hook (`--dns-hook`, `--challenge`, `--persist-issuer`).

use acme_proto::client::{NewOrder, PersistIssuers};
use acme_proto::{CertificateChain, Identifier};
use acme_proto_support::DnsHook;

use crate::{Args, ChallengeKind};

/// The largest certificate file read for `--replaces`: a chain of a few certificates.
const MAX_CERTIFICATE_FILE: usize = 256 * 1024;

impl Args {
    /// The newOrder request: the identifiers and the profile; with `--replaces`, the
    /// replaced certificate's ARI certID (RFC 9773 §5), and its names when no `--domain`
    /// or `--ip` was given. The certificate is read as the account files are (a file
    /// the user wrote, bounded).
    pub fn new_order(&self) -> Result<NewOrder, String> {
        let mut identifiers = self.identifiers.clone();
        let mut replaces = None;
        if let Some(path) = &self.replaces {
            let failed = |e: &dyn std::fmt::Display| format!("--replaces {}: {e}", path.display());
            let bytes = acme_proto_support::read_trusted_file(path, MAX_CERTIFICATE_FILE)
                .map_err(|e| failed(&e))?;
            let pem = std::str::from_utf8(&bytes).map_err(|e| failed(&e))?;
            let chain = CertificateChain::from_pem(pem).map_err(|e| failed(&e))?;
            let leaf = chain.end_entity();
            replaces = Some(chain.cert_id().map_err(|e| failed(&e))?);
            if identifiers.is_empty() {
                for name in leaf.dns_names() {
                    identifiers.push(Identifier::dns(name).map_err(|e| failed(&e))?);
                }
                identifiers.extend(leaf.ip_addresses().iter().copied().map(Identifier::Ip));
                if identifiers.is_empty() {
                    return Err(failed(&"the certificate names no DNS name or IP address"));
                }
            }
        }
        let mut order = NewOrder::new(identifiers);
        if let Some(profile) = &self.profile {
            order = order.with_profile(profile.clone());
        }
        if let Some(cert_id) = replaces {
            order = order.replacing(cert_id.as_str());
        }
        Ok(order)
    }

    /// The DNS hook for a DNS `--challenge`: `--dns-hook`, answering that type alone
    /// (dns-persist-01 with `--persist-issuer`'s names).
    pub fn dns_hook(&self) -> Result<DnsHook, String> {
        let program = self
            .dns_hook
            .clone()
            .ok_or_else(|| format!("--challenge {} needs --dns-hook", self.challenge.name()))?;
        let hook = DnsHook::new(program);
        Ok(match self.challenge {
            ChallengeKind::DnsPersist01 => {
                let issuers = PersistIssuers::only(&self.persist_issuers)
                    .map_err(|e| format!("--persist-issuer: {e}"))?;
                hook.prefer(&[]).dns_persist01(issuers)
            }
            ChallengeKind::DnsAccount01 => hook.prefer(&["dns-account-01"]),
            ChallengeKind::Dns01 => hook.prefer(&["dns-01"]),
            other => {
                return Err(format!(
                    "--challenge {} is not a DNS challenge",
                    other.name()
                ));
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::ffi::OsString;

    use crate::Command;

    use super::*;

    fn issue(line: &str) -> Args {
        match Args::parse(line.split(' ').map(OsString::from)) {
            Ok(Command::Issue(args)) => *args,
            other => unreachable!("{other:?}"),
        }
    }

    /// A leaf for `names` signed by a CA of its own (so that it has an authority key
    /// identifier, which the ARI certID needs), PEM.
    fn certificate(names: &[&str]) -> String {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let mut leaf = rcgen::CertificateParams::new(
            names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
        )
        .unwrap();
        leaf.use_authority_key_identifier_extension = true;
        let key = rcgen::KeyPair::generate().unwrap();
        leaf.signed_by(&key, &issuer).unwrap().pem() + &ca_cert.pem()
    }

    fn write_private(path: &std::path::Path, text: &str) {
        std::fs::write(path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }

    #[test]
    fn replaces_takes_the_certificates_names_and_cert_id() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chain.pem");
        let pem = certificate(&["a.example", "b.example", "192.0.2.7"]);
        write_private(&file, &pem);
        let cert_id = CertificateChain::from_pem(&pem).unwrap().cert_id().unwrap();
        let args = issue(&format!(
            "--directory https://x/ --replaces {}",
            file.display()
        ));
        let order = args.new_order().unwrap();
        assert_eq!(order.replaces.as_deref(), Some(cert_id.as_str()));
        let names: Vec<String> = order.identifiers.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["a.example", "b.example", "192.0.2.7"]);
        // Names given on the command line win: a renewal may change them.
        let args = issue(&format!(
            "--directory https://x/ --domain c.example --replaces {} --profile p",
            file.display()
        ));
        let order = args.new_order().unwrap();
        let names: Vec<String> = order.identifiers.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["c.example"]);
        assert_eq!(order.replaces.as_deref(), Some(cert_id.as_str()));
        assert_eq!(order.profile.as_deref(), Some("p"));
    }

    #[test]
    fn replaces_refuses_what_is_not_a_certificate_the_user_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let line = |file: &std::path::Path| {
            issue(&format!(
                "--directory https://x/ --replaces {}",
                file.display()
            ))
        };
        let missing = dir.path().join("missing.pem");
        let error = line(&missing).new_order().unwrap_err();
        assert!(error.starts_with("--replaces "), "{error}");
        let garbage = dir.path().join("garbage.pem");
        write_private(&garbage, "not a certificate");
        let error = line(&garbage).new_order().unwrap_err();
        assert!(error.starts_with("--replaces "), "{error}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let shared = dir.path().join("shared.pem");
            write_private(&shared, &certificate(&["a.example"]));
            std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o666)).unwrap();
            let error = line(&shared).new_order().unwrap_err();
            assert!(error.contains("writable"), "{error}");
        }
    }

    #[test]
    fn the_dns_hook_answers_the_type_asked_for() {
        // Only the type asked for: a server offering dns-01 too does not get it.
        for (flag, wanted) in [
            ("dns-01", "dns-01"),
            ("dns-account-01", "dns-account-01"),
            (
                "dns-persist-01 --persist-issuer ca.example",
                "dns-persist-01",
            ),
        ] {
            let args = issue(&format!(
                "--directory https://x/ --domain a.example --dns-hook /bin/h --challenge {flag}"
            ));
            let hook = args.dns_hook().unwrap();
            let shown = format!("{hook:?}");
            assert!(
                shown.contains(&format!("prefer: [\"{wanted}\"]")),
                "{shown}"
            );
        }
        let args = issue("--directory https://x/ --domain a.example");
        assert!(args.dns_hook().is_err(), "http-01 has no hook");
    }
}
