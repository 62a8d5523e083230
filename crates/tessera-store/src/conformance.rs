//! The conformance suite every backend runs (written next).
