//! `kioskctl export` as a technician runs it in the van (issue 7).

use crate::common::kioskctl;

fn filing(scan: &[u8]) -> (model::Submission, Vec<(model::submission::AttachmentRef, Vec<u8>)>) {
    let r = model::submission::AttachmentRef::for_bytes("hukou", "image/png", scan);
    let mut sub = model::fixtures::sample_submission(vec![r.clone()]);
    sub.terminal_id = "GS-VAN-01".into();
    (sub, vec![(r, scan.to_vec())])
}

#[test]
fn exports_the_unsent_queue_signed_and_sealed_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let data_dir = data.to_str().unwrap();
    let to = dir.path().join("stick.cunban-export");
    let to_s = to.to_str().unwrap();

    let (code, _, err) = kioskctl(&["export", "--data-dir", data_dir, "--to", to_s]);
    assert_eq!(code, 2);
    assert!(err.contains("no outbox"), "{err}");

    let key = offline_cache::generate_platform_key();
    let mut cfg = offline_cache::OutboxConfig::new(key.public_key(), "GS-VAN-01");
    cfg.disk_reserve_bytes = 0;
    let outbox = offline_cache::Outbox::open(&data.join("outbox.db"), cfg).unwrap();
    let (code, _, err) = kioskctl(&["export", "--data-dir", data_dir, "--to", to_s]);
    assert_eq!(code, 2, "no device key yet: {err}");
    assert!(err.contains("device.key"), "{err}");
    assert!(!to.exists());

    let (device, _) = offline_cache::DeviceIdentity::load_or_create(&data.join("device.key"), "GS-VAN-01").unwrap();
    for n in 0..3u8 {
        let (sub, atts) = filing(&[n; 64]);
        outbox.enqueue(&sub, &atts).unwrap();
    }
    let (code, out, err) = kioskctl(&["export", "--data-dir", data_dir, "--to", to_s]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 record(s) with 3 attachment(s) from terminal GS-VAN-01"), "{out}");

    let bytes = std::fs::read(&to).unwrap();
    assert!(!bytes.windows("张三".len()).any(|w| w == "张三".as_bytes()), "sealed as stored");
    let file = model::export::ExportFile::from_bytes(&bytes).unwrap();
    assert_eq!(file.terminal_id, "GS-VAN-01");
    assert_eq!(file.verify(&device.public_key()).unwrap().len(), 3);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&to).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The export is in the audit chain; the records stay queued until the hub says so.
    assert!(outbox.audit_tail(5).unwrap().iter().any(|e| e.action == "queue exported" && e.outcome.starts_with("3 record(s)")));
    assert_eq!(outbox.counts().unwrap().queued, 3);

    let (code, _, err) = kioskctl(&["export", "--data-dir", data_dir, "--to", to_s]);
    assert_eq!(code, 2, "an existing file is never overwritten: {err}");
    assert_eq!(std::fs::read(&to).unwrap(), bytes);
}
