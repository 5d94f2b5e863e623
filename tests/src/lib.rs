//! kapi-tests: the harness end-to-end tests use to run real programs (etcd, kubectl, the apiserver)
//! on this machine, and the suites themselves (in `tests/`).
//!
//! Tools come from `.tools/` as provisioned by `cargo xtask test` (pinned etcd, kubectl, Python
//! validators); a test that needs one and can't find it fails, it never skips.

pub mod etcd;
pub mod kubectl;
pub mod server;
pub mod tools;
pub mod watch;

pub use etcd::{EtcdCluster, EtcdOptions};
pub use kubectl::kubectl;
pub use server::Server;
pub use tools::tool;
pub use watch::Watcher;

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};

/// The workspace root (the parent of `tests/`).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it). Another process may
/// take it before the caller binds it; servers started by the harness retry on that.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
}

/// A binary of this workspace built into the same target directory and profile as the running
/// test (`target/<profile>/<name>`). Cargo's `CARGO_BIN_EXE_<name>` only covers the test's own
/// package, so this finds it relative to the test executable (`target/<profile>/deps/<test>`).
/// Panics, saying how to build it, when it is missing.
pub fn cargo_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        panic!(
            "{name} not found at {}: build it first (`cargo build -p <its package>`, same profile \
             and target dir as the tests)",
            path.display()
        );
    }
    path
}

/// The last `max` lines of a (log) file, for failure messages.
pub fn tail(path: &Path, max: usize) -> String {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| format!("<{}: {e}>", path.display()));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(max)..].join("\n")
}
