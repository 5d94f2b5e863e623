//! Discovery documents (legacy `/api`, `/apis`, per group-version, and aggregated v2) built from the
//! registry table. (Being implemented: see the API machinery issue.)
