//! The benchmarks' PostgreSQL (`sync-bench throughput --backend postgres`)
//! is `testkit`'s: durable by default (a bench compares against fsynced
//! uploads), in a temporary directory, stopped on drop. Kept at this path
//! for the binaries that name it.

pub use testkit::pg::PgServer;
