//! `meta.k8s.io/v1` Table output: column definitions and rows from a kind's printer columns.
//! (Being implemented: see the API machinery issue.)
