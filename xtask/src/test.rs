//! `cargo xtask test`: provision test tools into .tools/ and run the suite.

use std::path::Path;

pub(crate) fn run(_root: &Path, _args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("test: not implemented yet")
}
