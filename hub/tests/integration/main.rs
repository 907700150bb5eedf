//! The hub's integration tests, one binary: the API as terminals use it,
//! authentication, uploads, the back office, the fleet page, the binary's
//! command line, the OpenAPI description, vans.

// Fixtures are shared; not every module uses every one.
#[allow(dead_code)]
mod common;

mod api;
mod catalog_import;
mod catalog_xlsx;
mod deploy_files;
mod e_license;
mod auth;
mod backlog;
mod backoffice;
mod bundles;
mod binary;
mod fleet_page;
mod fleet_paging;
mod heartbeat_round;
mod nginx;
mod openapi;
mod postgres;
mod progress;
mod rate_limits;
mod registry;
mod rollout;
mod ratings;
mod result_mail;
mod s3;
mod rating_forward;
mod sms;
mod terminal_api;
mod uploads;
mod van;
