//! kapi-tests: harness to start the real binary and talk to it.
