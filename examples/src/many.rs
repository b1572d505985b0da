//! The command line of the programs that run one order per domain (`event-loop`,
//! `smol-blocking`), read with lexopt.

use std::path::PathBuf;

use acme_proto::Identifier;
use url::Url;

/// The flags both take, described in each program's `--help`.
#[derive(Debug)]
#[non_exhaustive]
pub struct ManyArgs {
    /// `--directory`: the ACME directory.
    pub directory: Url,
    /// `--ca-cert`: an extra root to trust for the ACME server.
    pub ca_cert: Option<PathBuf>,
    /// `--http-port`: where the http-01 responder listens on 127.0.0.1 (80 by default).
    pub http_port: u16,
    /// `--out-dir`: where `<domain>.pem` and `<domain>.key.pem` go.
    pub out_dir: PathBuf,
    /// `--domain`, repeated: one order each.
    pub domains: Vec<Identifier>,
    /// `--log`: print each request, or each certificate, as it goes.
    pub log: bool,
}

impl ManyArgs {
    /// Reads the process's arguments; `None` for `--help`.
    pub fn from_env() -> Result<Option<Self>, String> {
        Self::parse(lexopt::Parser::from_env())
    }

    fn parse(mut parser: lexopt::Parser) -> Result<Option<Self>, String> {
        use lexopt::Arg;
        let (mut directory, mut ca_cert, mut http_port) = (None, None, 80);
        let (mut out_dir, mut domains, mut log) = (None, Vec::new(), false);
        let text = |parser: &mut lexopt::Parser| -> Result<String, String> {
            let value = parser.value().map_err(|e| e.to_string())?;
            value
                .into_string()
                .map_err(|_| "an argument is not UTF-8".to_string())
        };
        while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
            match arg {
                Arg::Long("directory") => {
                    let url = text(&mut parser)?;
                    directory = Some(Url::parse(&url).map_err(|e| format!("--directory: {e}"))?);
                }
                Arg::Long("ca-cert") => ca_cert = Some(PathBuf::from(text(&mut parser)?)),
                Arg::Long("http-port") => {
                    http_port = text(&mut parser)?
                        .parse()
                        .map_err(|e| format!("--http-port: {e}"))?;
                }
                Arg::Long("out-dir") => out_dir = Some(PathBuf::from(text(&mut parser)?)),
                Arg::Long("domain") => {
                    let name = text(&mut parser)?;
                    let domain =
                        Identifier::dns(&name).map_err(|e| format!("--domain {name}: {e}"))?;
                    domains.push(domain);
                }
                Arg::Long("log") => log = true,
                Arg::Short('h') | Arg::Long("help") => return Ok(None),
                other => return Err(other.unexpected().to_string()),
            }
        }
        if domains.is_empty() {
            return Err("at least one --domain is needed".into());
        }
        Ok(Some(Self {
            directory: directory.ok_or("--directory is required")?,
            ca_cert,
            http_port,
            out_dir: out_dir.ok_or("--out-dir is required")?,
            domains,
            log,
        }))
    }
}
