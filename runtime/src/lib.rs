//! kapi-runtime: everything generated code links to.
