// A schema folder with three mistakes: every one is reported, with file:line:column.
kapi_macros::include_schemas!("${KAPI_WORKSPACE_DIR}/codegen/tests/fixtures/errors");

fn main() {}
