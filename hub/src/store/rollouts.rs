//! Update bundles and their staged rollouts.

use time::OffsetDateTime;

use super::error::StoreError;

/// Update bundles and staged rollouts.
pub trait RolloutStore: Send + Sync {
    /// Publishes an update bundle (already verified by the caller) under its version.
    fn publish_update(&self, version: &str, sha256: &str, size: u64, by: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Keeps the bytes of a verified bundle (they must hash to `sha256`)
    /// for terminals to download; called before `publish_update`.
    fn keep_update_bundle(&self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError>;

    /// Up to `max` bytes of `version`'s bundle from `offset`, and the
    /// bundle's size; None unless `version` is what `terminal` is offered now
    /// (a halted rollout stops its downloads too).
    fn update_bundle_range(&self, terminal: &str, version: &str, offset: u64, max: u64) -> Result<Option<(Vec<u8>, u64)>, StoreError>;

    /// Starts the staged rollout of a published version (audited).
    fn start_rollout(&self, rollout: &crate::rollout::Rollout, by: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Pause (`paused`), resume (`running`) or halt (`halted`) a rollout by hand (audited).
    fn set_rollout_state(&self, version: &str, state: crate::rollout::RolloutState, by: &str, at: OffsetDateTime) -> Result<crate::rollout::Rollout, StoreError>;

    /// Every rollout, newest first.
    fn rollouts(&self) -> Result<Vec<crate::rollout::Rollout>, StoreError>;

    /// The update `terminal` is offered now: the newest running rollout
    /// whose open stages include it, unless it failed that version.
    fn update_target(&self, terminal: &str) -> Result<Option<model::update::UpdateTarget>, StoreError>;

    /// Keeps a terminal's install report and moves its rollout on (next
    /// stage, done, or halted past the failure threshold; audited).
    fn record_update_report(&self, terminal: &str, report: &model::update::UpdateReport, at: OffsetDateTime) -> Result<crate::rollout::Change, StoreError>;

    /// Moves running rollouts on as time passes (a terminal offline for
    /// [`crate::rollout::OFFLINE_AFTER`] stops holding its stage; audited).
    /// Called by the hub's hourly housekeeping.
    fn advance_rollouts(&self, now: OffsetDateTime) -> Result<Vec<(String, crate::rollout::Change)>, StoreError>;
}
