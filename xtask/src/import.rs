//! `cargo xtask import`: built-in kinds from the reference OpenAPI into schemas/.

use std::path::Path;

pub(crate) fn run(_root: &Path, _args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("import: not implemented yet")
}
