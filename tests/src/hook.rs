//! A DNS hook for the drivers' `DnsHook`, as an operator would write one: a script
//! that puts TXT records in challtestsrv through its management API.

use std::path::PathBuf;

use crate::error::HarnessError;

const SCRIPT: &str = r#"import json, sys, urllib.request
# python3 challtestsrv-hook.py MANAGEMENT_URL present|cleanup -- RECORD_NAME VALUE
url, step, dashes, name, value = sys.argv[1:6]
if dashes != "--":
    sys.exit("expected -- before the record name and value")
path, body = ("set-txt", {"host": name + ".", "value": value}) if step == "present" else ("clear-txt", {"host": name + "."})
request = urllib.request.Request(url + "/" + path, data=json.dumps(body).encode(), method="POST")
with urllib.request.urlopen(request, timeout=10) as response:
    if response.status != 200:
        sys.exit("challtestsrv answered %d" % response.status)
"#;

/// A DNS hook: the program (`python3`) and the arguments to put before
/// `present|cleanup -- NAME VALUE`, putting records in this challtestsrv. The script lives
/// in `dir` (the caller's temporary directory).
pub fn challtestsrv_hook(
    dir: &std::path::Path,
    management_url: &str,
) -> Result<(&'static str, Vec<String>), HarnessError> {
    let script: PathBuf = dir.join("challtestsrv-hook.py");
    std::fs::write(&script, SCRIPT).map_err(|source| HarnessError::Io {
        what: "writing the DNS hook script".into(),
        source,
    })?;
    Ok((
        "python3",
        vec![
            script.to_string_lossy().into_owned(),
            management_url.to_owned(),
        ],
    ))
}
