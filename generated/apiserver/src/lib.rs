//! The generated kapi apiserver library: typed kinds from /schemas.
