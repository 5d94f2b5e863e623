//! Server-side apply: managedFields (fieldsV1) bookkeeping, merge of an applied configuration, and
//! conflict detection. (Being implemented: see the API machinery issue.)
