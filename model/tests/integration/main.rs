//! model's integration tests: one binary (see the workspace README).

mod catalog_drafts;
