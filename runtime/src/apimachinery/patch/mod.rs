//! Patches: JSON Patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch driven by the
//! schema tree. (Being implemented: see the API machinery issue.)
