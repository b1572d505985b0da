// The acme2certifier the tests run, pinned here once: the harness (`acme2certifier.rs`)
// looks for it where `cargo xtask setup` installs it, and xtask includes this file
// (`include!`) to install exactly this version. No inner attributes or `use`: it is
// included as is.

/// The version of acme2certifier (PyPI) the tests run, installed by `cargo xtask setup`
/// into a project-local Python venv with every dependency pinned
/// (`tests/acme2certifier/requirements.txt`).
pub const ACME2CERTIFIER_VERSION: &str = "0.46.3";

/// Where `cargo xtask setup` puts that acme2certifier's venv, below the workspace's
/// root: `.tools/acme2certifier-0.46.3/venv` (its Python is `bin/python3` in it).
pub fn acme2certifier_venv_dir(workspace_root: &std::path::Path) -> std::path::PathBuf {
    workspace_root
        .join(".tools")
        .join(format!("acme2certifier-{ACME2CERTIFIER_VERSION}"))
        .join("venv")
}

/// The pinned requirements (acme2certifier and each dependency at an exact version),
/// below the workspace's root.
pub fn acme2certifier_requirements(workspace_root: &std::path::Path) -> std::path::PathBuf {
    workspace_root
        .join("tests")
        .join("acme2certifier")
        .join("requirements.txt")
}
