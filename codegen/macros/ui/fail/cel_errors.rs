// x-kubernetes-validations rules kube-apiserver would refuse fail the build: a syntax error, an
// undefined field and a rule that is not a bool, each at its place in the schema file.
kapi_macros::include_schemas!("${KAPI_WORKSPACE_DIR}/codegen/tests/fixtures/cel_errors");

fn main() {}
