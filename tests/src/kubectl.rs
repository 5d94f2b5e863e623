//! Running the provisioned (pinned) kubectl.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `kubectl --kubeconfig <kubeconfig> <args>` with the provisioned kubectl and returns its
/// output (check `status` yourself). kubectl's discovery cache goes to `kubectl-cache/` beside the
/// kubeconfig, so servers that reuse a port in one run never see each other's cached discovery.
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    let cache = kubeconfig
        .parent()
        .unwrap_or(Path::new("."))
        .join("kubectl-cache");
    let mut cmd = Command::new(crate::tool("kubectl"));
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(&cache)
        .args(args);
    cmd.output()
        .unwrap_or_else(|e| panic!("running kubectl {args:?}: {e}"))
}
