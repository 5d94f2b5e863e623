//! apiserver binary.
fn main() {}
