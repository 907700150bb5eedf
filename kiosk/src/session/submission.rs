//! What a filing produces: the immutable submission with its attachments,
//! and the receipt (masked personal data only).

use model::submission::{Applicant, AttachmentRef, Consent, FiledBy};
use model::{CaseNumber, Lang, Submission, SubmissionId};
use zeroize::Zeroizing;

use super::events::{ReceiptData, CONSENT_VERSION};
use super::state::Draft;
use super::Session;
use crate::materials::{self, Outcome};

impl Session {
    pub(super) fn build_submission(&self, d: &Draft) -> (Submission, Vec<(AttachmentRef, Zeroizing<Vec<u8>>)>) {
        let now = (self.clock)();
        // Catalog order, so the same filing always lists its files the same way.
        let captured = self.screen_materials(d).into_iter().filter_map(|m| match d.materials.get(&m.code) {
            Some(Outcome::Captured(c)) => Some((m.code.as_str(), c)),
            _ => None,
        });
        let files = materials::attachments(captured);
        // Licenses the library holds, in catalog order: fetched by the platform, not scanned.
        let e_licenses = self
            .screen_materials(d)
            .into_iter()
            .filter_map(|m| match d.materials.get(&m.code) {
                Some(Outcome::ELicense(r)) => Some(r.clone()),
                _ => None,
            })
            .collect();
        let sub = Submission {
            id: SubmissionId::new(),
            item_code: d.item.clone(),
            // A bundle is filed as one submission naming its parts; the hub opens a case per part.
            bundle_code: self.bundle_of(d.item.as_str()).map(|b| b.code.clone()),
            parts: self.bundle_of(d.item.as_str()).map(|b| b.items.clone()).unwrap_or_default(),
            catalog_version: Some(self.catalog.version),
            applicant: Applicant::from(&*d.identity),
            form: self.submission_form(d),
            attachments: files.iter().map(|(r, _)| r.clone()).collect(),
            e_licenses,
            consent: Consent { text_version: CONSENT_VERSION.to_owned(), given_at: d.consent_at },
            // The villager's own session; assisted filings are built in `assisted.rs`.
            filed_by: FiledBy::SelfServiceTerminal,
            village_code: self.terminal.village_code.clone(),
            created_at: now,
            terminal_id: self.terminal.terminal_id.clone(),
        };
        (sub, files)
    }

    /// The item's name; a bundle's with its parts, so the one receipt
    /// names every matter filed.
    fn receipt_item_name(&self, d: &Draft) -> String {
        let name = self.item_of(d).name.get(Lang::ZhCn).to_owned();
        match self.bundle_of(d.item.as_str()).and_then(|b| self.catalog.bundle_parts(b)) {
            Some(parts) => {
                let names: Vec<&str> = parts.iter().map(|p| p.name.get(Lang::ZhCn)).collect();
                format!("{name}（{}）", names.join("、"))
            }
            None => name,
        }
    }

    pub(super) fn receipt(&self, d: &Draft, id: SubmissionId, case_number: Option<CaseNumber>, status: &str) -> ReceiptData {
        ReceiptData {
            item_name: self.receipt_item_name(d),
            applicant_masked: d.identity.masked_name(),
            id_number_masked: d.identity.id_number.masked(),
            time: (self.clock)(),
            terminal_id: self.terminal.terminal_id.clone(),
            village_code: self.terminal.village_code.as_str().to_owned(),
            status_line: status.to_owned(),
            case_number,
            reference: id.to_string(),
        }
    }
}
