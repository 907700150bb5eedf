//! The hub's API as OpenAPI 3.0, written by hand next to the routes it
//! describes (`tests/openapi.rs` checks every documented operation is routed
//! and every route documented; `scripts/schemathesis.sh` fuzzes it).

use serde_json::{json, Value};

/// Operations: (method, path). The router and this list must agree.
pub const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/v1/health"),
    ("get", "/v1/openapi.json"),
    ("get", "/v1/catalog"),
    ("get", "/v1/terminal/config"),
    ("post", "/v1/enroll"),
    ("put", "/v1/submissions/{id}"),
    ("get", "/v1/submissions/{id}/attachments/{sha256}"),
    ("put", "/v1/submissions/{id}/attachments/{sha256}"),
    ("post", "/v1/submissions/{id}/commit"),
    ("post", "/v1/case-status"),
    ("get", "/v1/cases/{case_number}"),
    ("get", "/v1/cases/{case_number}/result"),
    ("put", "/v1/evaluations/{id}"),
    ("post", "/v1/heartbeat"),
    ("get", "/v1/operators"),
    ("post", "/v1/e-license/lookup"),
    ("post", "/v1/progress"),
    ("post", "/v1/progress/result"),
    ("post", "/v1/diagnostics/{id}"),
    ("get", "/v1/diagnostics/{id}/bundle/{sha256}"),
    ("put", "/v1/diagnostics/{id}/bundle/{sha256}"),
    ("get", "/v1/updates/{version}/bundle"),
    ("post", "/fleet/rollouts/{version}/{action}"),
    ("post", "/fleet/terminals/{id}/audit-breaks"),
    ("get", "/fleet"),
    ("post", "/fleet/terminals/{id}/diagnostics"),
    ("get", "/fleet/diagnostics/{id}"),
];

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn error(description: &str) -> Value {
    ok(description, r("ErrorBody"))
}

/// Responses every signed operation may give besides its own.
fn signed(mut responses: Value) -> Value {
    let m = responses.as_object_mut().expect("responses are an object");
    m.insert("401".into(), error("Not authenticated: missing or bad signature headers, unknown terminal, clock skew, replayed nonce"));
    m.insert("403".into(), error("The terminal was revoked"));
    m.insert("413".into(), error("too_large: the body is over this endpoint's limit (sealed manifest 2 MiB, heartbeat 16 KiB, other JSON 64 KiB; attachments stream up to the size the envelope lists, at most 16 MiB)"));
    m.insert("503".into(), error("The hub is busy; retry after Retry-After seconds"));
    // An operation's own 429 (a quota) says more; every signed request may
    // also be over the terminal's request rate.
    m.entry("429").or_insert_with(|| error("quota_exceeded (with Retry-After): over this terminal's request rate (hub --terminal-rate); send again after the wait"));
    responses
}

fn path_param(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": schema })
}

fn uuid() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

fn sha256() -> Value {
    json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" })
}

fn datetime() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

fn u64() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}
/// A resumable upload (attachments, diagnostics bundles): the same ranges and
/// answers wherever bytes are sent in pieces.
fn ranged_put(summary: &str, mut parameters: Value, missing: &str, security: &Value) -> Value {
    if let Some(list) = parameters.as_array_mut() {
        list.push(json!({ "name": "Content-Range", "in": "header", "required": false, "schema": { "type": "string" } }));
    }
    json!({
        "summary": summary, "security": security,
        "parameters": parameters,
        "requestBody": { "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
        "responses": signed(json!({
            "200": ok("Already complete", r("UploadStatus")),
            "201": ok("Complete and checked", r("UploadStatus")),
            "202": ok("Partial: bytes kept, more to come", r("UploadStatus")),
            "400": error("The body broke off (what arrived is kept)"),
            "404": error(missing),
            "408": error("The body stalled (what arrived is kept)"),
            "416": error("START is past the bytes held"),
            "422": error("Malformed range, size, hash, or the bytes do not hash to their name")
        }))
    })
}


/// An optional field: serde takes `null` for it as well as leaving it out.
/// A referenced schema that may also be null (serde's Option takes null).
fn nullable_ref(name: &str) -> Value {
    json!({ "nullable": true, "allOf": [r(name)] })
}

fn nullable(mut v: Value) -> Value {
    v["nullable"] = Value::Bool(true);
    v
}

fn schemas() -> Value {
    json!({
        "ErrorBody": {
            "type": "object", "required": ["code", "message"],
            "properties": {
                "code": { "type": "string", "enum": [
                    "conflict", "invalid", "hash_mismatch", "missing_attachments", "not_found", "busy", "internal",
                    "range_mismatch", "unauthenticated", "unknown_terminal", "revoked", "clock_skew", "replayed", "not_available",
                    "enroll_code_used", "enroll_code_expired", "rate_limited", "different_body", "quota_exceeded", "too_large"
                ]},
                "message": { "type": "string" }
            }
        },
        "Health": {
            "type": "object", "required": ["service", "version"],
            "properties": { "service": { "type": "string", "enum": ["cunban-hub"] }, "version": { "type": "string" } }
        },
        "SealedPart": {
            "type": "object", "required": ["sha256", "size"], "additionalProperties": false,
            "properties": { "sha256": sha256(), "size": u64() }
        },
        "SealedEnvelope": {
            "type": "object", "additionalProperties": false,
            "required": ["v", "suite", "id", "item_code", "wrapped_key", "manifest", "attachments"],
            "properties": {
                "v": { "type": "integer" },
                "suite": { "type": "string" },
                "id": uuid(),
                "item_code": { "type": "string", "pattern": "^[A-Za-z0-9]{1,24}$" },
                "wrapped_key": { "type": "string", "format": "byte" },
                "manifest": { "type": "string", "format": "byte" },
                "attachments": { "type": "array", "maxItems": 64, "items": r("SealedPart") }
            }
        },
        "PutResponse": {
            "type": "object", "required": ["id", "outcome"],
            "properties": { "id": uuid(), "outcome": { "type": "string", "enum": ["stored", "replayed"] } }
        },
        "UploadStatus": {
            "type": "object", "required": ["sha256", "size", "received", "complete"],
            "properties": { "sha256": sha256(), "size": u64(), "received": u64(), "complete": { "type": "boolean" } }
        },
        "CommitResponse": {
            "type": "object", "required": ["id", "case_number"],
            "properties": { "id": uuid(), "case_number": { "type": "string" } }
        },
        "CaseStatus": { "type": "string", "enum": model::CaseStatus::ALL.map(model::CaseStatus::name) },
        "CaseView": {
            "type": "object", "required": ["case_number", "submission_id", "item_code", "status"],
            "properties": {
                "case_number": { "type": "string" }, "submission_id": uuid(), "item_code": { "type": "string" }, "status": r("CaseStatus"),
                "parts": { "type": "array", "items": r("CasePart") }
            }
        },
        "CasePart": {
            "type": "object", "required": ["item_code", "case_number", "status"],
            "properties": {
                "item_code": { "type": "string" }, "case_number": { "type": "string" }, "status": r("CaseStatus"),
                "reason": nullable(json!({ "type": "string" }))
            }
        },
        "CaseStatusQuery": {
            "type": "object", "required": ["submission_ids"], "additionalProperties": false,
            "properties": { "submission_ids": { "type": "array", "maxItems": 500, "items": uuid() } }
        },
        "CaseStatusEntry": {
            "type": "object", "required": ["submission_id", "case_number", "status", "updated_at", "result_available"],
            "properties": {
                "submission_id": uuid(), "case_number": { "type": "string" }, "status": r("CaseStatus"),
                "updated_at": datetime(), "reason": nullable(json!({ "type": "string" })), "result_available": { "type": "boolean" },
                "parts": { "type": "array", "items": r("CasePart") }
            }
        },
        "CaseStatusList": {
            "type": "object", "required": ["cases"],
            "properties": { "cases": { "type": "array", "items": r("CaseStatusEntry") } }
        },
        "SignedCatalog": {
            "type": "object", "required": ["version", "body", "signature", "key_fingerprint"],
            "properties": {
                "version": u64(), "body": { "type": "string", "format": "byte" },
                "signature": { "type": "string" }, "key_fingerprint": { "type": "string" }
            }
        },
        "SignedCatalogDelta": {
            "type": "object", "required": ["from_version", "to_version", "body", "signature", "key_fingerprint"],
            "properties": {
                "from_version": u64(), "to_version": u64(), "body": { "type": "string", "format": "byte" },
                "signature": { "type": "string" }, "key_fingerprint": { "type": "string" }
            }
        },
        "CatalogUpdate": {
            "type": "object", "required": ["kind"],
            "properties": {
                "kind": { "type": "string", "enum": ["deltas", "full"] },
                "deltas": { "type": "array", "items": r("SignedCatalogDelta") },
                "catalog": r("SignedCatalog")
            }
        },
        "OperatorAccount": {
            "type": "object", "required": ["staff_number", "name", "pin_hash", "villages", "revoked"],
            "properties": {
                "staff_number": { "type": "string" }, "name": { "type": "string" },
                "pin_hash": { "type": "string", "description": "Argon2id PHC string of the PIN" },
                "villages": { "type": "array", "items": { "type": "string", "pattern": "^[0-9]{12}$" } },
                "revoked": { "type": "boolean" },
                "valid_until": nullable(json!({ "type": "string", "format": "date-time" }))
            }
        },
        "OperatorList": {
            "type": "object", "required": ["generated_at", "operators"],
            "properties": {
                "generated_at": { "type": "string", "format": "date-time" },
                "operators": { "type": "array", "items": r("OperatorAccount") }
            }
        },
        "TerminalConfig": {
            "type": "object", "required": ["version", "sync_interval_secs", "heartbeat_interval_secs"],
            "properties": {
                "version": u64(), "sync_interval_secs": u64(), "heartbeat_interval_secs": u64(), "notice": nullable(json!({ "type": "string" })),
                "paths": {
                    "type": "object",
                    "description": "What exists behind this terminal, filled by the hub from what it has: a terminal shows a sentence about 短信 (sms), 电子证照 (e_license) or 邮寄 (mail) only when its path is true.",
                    "properties": { "sms": { "type": "boolean" }, "e_license": { "type": "boolean" }, "mail": { "type": "boolean" } }
                }
            }
        },
        "SignedDocument": {
            "type": "object", "required": ["kind", "terminal_id", "issued_at", "body", "signature", "key_fingerprint"],
            "additionalProperties": false,
            "description": "A document the hub signs for one terminal with its own key (pinned by the terminal at enrollment as hub_public_key). body is base64 JSON: an OperatorList for kind operators, a TerminalConfig for kind terminal_config.",
            "properties": {
                "kind": { "type": "string", "enum": ["operators", "terminal_config"] },
                "terminal_id": { "type": "string" },
                "issued_at": { "type": "integer", "description": "Unix seconds; terminals refuse a document older than the last one they applied" },
                "body": { "type": "string", "format": "byte" },
                "signature": { "type": "string", "description": "base64 Ed25519 over `cunban-document-v1\\nKIND\\nTERMINAL_ID\\nISSUED_AT\\nSHA256(body)`" },
                "key_fingerprint": { "type": "string" }
            }
        },
        "EnrollRequest": {
            "type": "object", "required": ["serial", "public_key", "code", "timestamp", "signature"],
            "additionalProperties": false,
            "properties": {
                "serial": { "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$" },
                "public_key": { "type": "string", "description": "ed25519:<base64>, the terminal's new device key" },
                "code": { "type": "string", "description": "The one-time code the terminal shows, normalized (8 of 0-9A-Z less I L O U)" },
                "timestamp": { "type": "integer" },
                "signature": { "type": "string", "description": "base64 Ed25519 over `cunban-enroll:v1\\nSERIAL\\nPUBLIC_KEY\\nSHA256(cunban-enroll-code:v1:CODE)\\nTIMESTAMP`" }
            }
        },
        "EnrollAnswer": {
            "type": "object", "required": ["status"],
            "properties": {
                "status": { "type": "string", "enum": ["pending", "enrolled"] },
                "expires_at": { "type": "integer" },
                "terminal_id": { "type": "string" },
                "village_code": { "type": "string" },
                "profile": { "type": "string", "enum": ["kiosk", "van"] },
                "config": r("TerminalConfig"),
                "platform_public_key": { "type": "string" },
                "catalog_public_key": { "type": "string" },
                "hub_public_key": { "type": "string", "description": "ed25519:<base64>: the hub's signing key for operator lists and configs" }
            }
        },
        "Evaluation": {
            "type": "object", "required": ["case_number", "rating"],
            "properties": {
                "case_number": { "type": "string" },
                "rating": { "type": "string", "enum": ["very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"] },
                "reasons": { "type": "array", "items": { "type": "string" } },
                "text": { "type": "string" }
            }
        },
        "EvaluationUpload": {
            "type": "object", "required": ["id", "evaluation", "rated_at"], "additionalProperties": false,
            "properties": { "id": uuid(), "evaluation": r("Evaluation"), "rated_at": datetime() }
        },
        "EvaluationAck": {
            "type": "object", "required": ["id", "outcome"],
            "properties": { "id": uuid(), "outcome": { "type": "string", "enum": ["stored", "replayed"] } }
        },
        "DeviceHealth": {
            "type": "object", "required": ["device", "state"],
            "properties": { "device": { "type": "string" }, "state": { "type": "string", "enum": ["ok", "degraded", "absent"] }, "detail": nullable(json!({ "type": "string" })) }
        },
        "QueueSnapshot": {
            "type": "object", "required": ["unsent", "quarantined", "acknowledged"],
            "properties": {
                "unsent": u64(), "quarantined": u64(), "acknowledged": u64(),
                "oldest_unsent_secs": nullable(u64()), "evaluations_unsent": u64()
            }
        },
        "Heartbeat": {
            "type": "object", "required": ["sent_at", "app_version", "queue"],
            "properties": {
                "sent_at": datetime(), "app_version": { "type": "string" },
                "catalog_version": nullable(u64()), "config_version": nullable(u64()),
                "queue": r("QueueSnapshot"), "free_disk_bytes": nullable(u64()),
                "devices": { "type": "array", "items": r("DeviceHealth") },
                "alerts": { "type": "array", "items": { "type": "string" } },
                "clock_offset_secs": { "type": "integer" },
                "audit": nullable_ref("AuditProof"),
                "update": nullable_ref("UpdateReport")
            }
        },
        "UpdateTarget": {
            "description": "The update this terminal's rollout stage offers it (issue 19)",
            "type": "object", "required": ["version", "sha256", "size"],
            "properties": { "version": { "type": "string" }, "sha256": { "type": "string" }, "size": u64() }
        },
        "UpdateReport": {
            "description": "The terminal's last install of an update from the hub",
            "type": "object", "required": ["version", "outcome"],
            "properties": { "version": { "type": "string" }, "outcome": { "type": "string", "enum": ["installed", "failed"] }, "detail": nullable(json!({ "type": "string" })) }
        },
        "DiagnosticsRequest": {
            "description": "Staff asked for a diagnostics bundle (issue 19): announce it, then upload it like an attachment",
            "type": "object", "required": ["id"], "properties": { "id": { "type": "string", "format": "uuid" } }
        },
        "DiagnosticsAnnounce": {
            "type": "object", "required": ["sha256", "size"], "additionalProperties": false,
            "properties": { "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" }, "size": { "type": "integer", "minimum": 1, "maximum": 1048576 } }
        },
        "AuditHead": {
            "type": "object", "required": ["seq", "hash"],
            "properties": { "seq": u64(), "hash": { "type": "string" } }
        },
        "AuditLink": {
            "type": "object", "required": ["seq", "at", "terminal", "action", "outcome", "prev_hash", "hash"],
            "properties": {
                "seq": u64(), "at": { "type": "string" }, "terminal": { "type": "string" }, "operator": nullable(json!({ "type": "string" })),
                "action": { "type": "string" }, "subject": nullable(json!({ "type": "string" })), "outcome": { "type": "string" },
                "prev_hash": { "type": "string" }, "hash": { "type": "string" }
            }
        },
        "AuditProof": {
            "description": "The terminal's audit chain head and the entries after the head the hub last acknowledged (issue 19)",
            "type": "object", "required": ["head"],
            "properties": { "head": r("AuditHead"), "since": { "type": "array", "items": r("AuditLink") } }
        },
        "HeartbeatAck": {
            "type": "object", "required": ["server_time", "config_version"],
            "properties": { "server_time": datetime(), "catalog_version": nullable(u64()), "config_version": u64(), "audit_anchor": nullable_ref("AuditHead"), "diagnostics": nullable_ref("DiagnosticsRequest"), "update": nullable_ref("UpdateTarget") }
        },
        "ELicenseQuery": {
            "type": "object", "required": ["material_code", "id_number"], "additionalProperties": false,
            "properties": { "material_code": { "type": "string" }, "id_number": { "type": "string", "pattern": "^[0-9]{17}[0-9Xx]$" } }
        },
        "ELicenseAnswer": {
            "type": "object", "required": ["available"],
            "properties": {
                "available": { "type": "boolean" },
                "document": {
                    "type": "object", "nullable": true, "required": ["name", "issuer", "license_id"],
                    "properties": {
                        "name": { "type": "string" }, "issuer": { "type": "string" }, "license_id": { "type": "string" },
                        "issued_on": nullable(json!({ "type": "string", "format": "date" }))
                    }
                }
            }
        },
        "ProgressQuery": {
            "type": "object", "required": ["receipt", "id_number"], "additionalProperties": false,
            "properties": {
                "receipt": { "type": "string", "description": "A case number (8..32 letters or digits) or a submission id (UUID)" },
                "id_number": { "type": "string", "pattern": "^[0-9]{17}[0-9Xx]$" }
            }
        },
        "ProgressStep": {
            "type": "object", "required": ["status", "at"],
            "properties": { "status": r("CaseStatus"), "at": datetime() }
        },
        "ProgressCase": {
            "type": "object",
            "required": ["case_number", "submission_id", "item_code", "status", "filed_at", "history", "result_available", "filed_here"],
            "properties": {
                "case_number": { "type": "string" }, "submission_id": uuid(), "item_code": { "type": "string" },
                "status": r("CaseStatus"), "filed_at": datetime(),
                "history": { "type": "array", "items": r("ProgressStep") },
                "reason": nullable(json!({ "type": "string" })), "result_available": { "type": "boolean" },
                "filed_here": { "type": "boolean" }, "followup_reply": nullable(json!({ "type": "string" })),
                "parts": { "type": "array", "items": r("CasePart") }
            }
        },
        "ProgressAnswer": {
            "type": "object", "required": ["cases"],
            "properties": { "cases": { "type": "array", "items": r("ProgressCase") } }
        }
    })
}

/// The OpenAPI document served at `/v1/openapi.json`.
pub fn document() -> Value {
    let id = path_param("id", uuid(), "Submission id (UUIDv7, made by the terminal)");
    let sha = path_param("sha256", sha256(), "SHA-256 of the sealed attachment bytes");
    let case = path_param("case_number", json!({ "type": "string" }), "办件编号");
    let security = json!([{ "deviceSignature": [] }]);
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Cunban hub",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The API Cunban village terminals sync with. Signed operations need the headers x-cunban-terminal, x-cunban-timestamp (unix seconds), x-cunban-nonce, x-cunban-content-sha256 and x-cunban-signature: an Ed25519 signature by the terminal's registered key over `cunban-request-v1\\nMETHOD\\nPATH?QUERY\\nCONTENT-RANGE\\nBODY-SHA256\\nTIMESTAMP\\nNONCE\\nTERMINAL` (see model::auth)."
        },
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "deviceSignature": { "type": "apiKey", "in": "header", "name": "x-cunban-signature" },
                "staffBasic": { "type": "http", "scheme": "basic", "description": "Staff name and token (hub staff add); the hub keeps only the token's hash" }
            }
        },
        "paths": {
            "/v1/health": { "get": {
                "summary": "Is this our hub (and not a captive portal)?",
                "responses": { "200": ok("The hub", r("Health")) }
            }},
            "/v1/openapi.json": { "get": {
                "summary": "This document",
                "responses": { "200": { "description": "OpenAPI 3.0", "content": { "application/json": { "schema": { "type": "object" } } } } }
            }},
            "/v1/catalog": { "get": {
                "summary": "The signed service catalog, if newer than `since`; with `deltas=1`, the signed deltas from `since` when there is a short unbroken chain, else the full catalog",
                "parameters": [
                    { "name": "since", "in": "query", "required": false, "schema": u64() },
                    { "name": "deltas", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "maximum": 255 } }
                ],
                "responses": {
                    "200": ok("The newest catalog (deltas absent or not 1), or a CatalogUpdate (deltas=1); all signed with the catalog key",
                              json!({ "oneOf": [r("SignedCatalog"), r("CatalogUpdate")] })),
                    "204": { "description": "Not newer than `since`" },
                    "404": error("This hub publishes no catalog"),
                    "422": error("`since` is not a version number")
                }
            }},
            "/v1/enroll": { "post": {
                "summary": "A new terminal presents its key and one-time code; polls until a technician binds it (rate limited, no device signature)",
                "requestBody": json_body(r("EnrollRequest")),
                "responses": {
                    "200": ok("Pending, or enrolled with the terminal's identity and config", r("EnrollAnswer")),
                    "401": error("The signature does not verify, or the timestamp is off"),
                    "403": error("The terminal bound to this key was revoked"),
                    "410": error("The code was used or expired, or another key presented it (that code can then never be bound)"),
                    "413": error("too_large: over 64 KiB (read only after the rate limit)"),
                    "422": error("Malformed request"),
                    "429": error("Too many requests from this address")
                }
            }},
            "/v1/terminal/config": { "get": {
                "summary": "This terminal's configuration", "security": security,
                "responses": signed(json!({ "200": ok("Config (a TerminalConfig, signed)", r("SignedDocument")) }))
            }},
            "/v1/submissions/{id}": { "put": {
                "summary": "Upload a sealed manifest (idempotent)", "security": security,
                "parameters": [id],
                "requestBody": json_body(r("SealedEnvelope")),
                "responses": signed(json!({
                    "200": ok("Identical replay", r("PutResponse")),
                    "201": ok("Stored", r("PutResponse")),
                    "409": error("different_body: this terminal already stored another body under this id. Ids are per terminal: another terminal's use of the same id is a separate submission, never a conflict"),
                    "422": error("Not a well-formed envelope, or it does not open with the platform key"),
                    "429": error("quota_exceeded (with Retry-After): this terminal holds too many uncommitted submissions or attachment bytes in flight; nothing was stored, send again later")
                }))
            }},
            "/v1/submissions/{id}/attachments/{sha256}": {
                "get": {
                    "summary": "How much of an attachment the hub holds", "security": security,
                    "parameters": [id, sha],
                    "responses": signed(json!({
                        "200": ok("Upload status", r("UploadStatus")),
                        "404": error("No such submission from this terminal"),
                        "422": error("Malformed id or hash, or the envelope does not list it")
                    }))
                },
                "put": ranged_put(
                    "Upload attachment bytes, whole or from an offset (Content-Range: bytes START-END/SIZE)",
                    json!([id, sha]),
                    "No such submission from this terminal",
                    &security,
                )
            },
            "/v1/submissions/{id}/commit": { "post": {
                "summary": "Open the case (idempotent)", "security": security,
                "parameters": [id],
                "responses": signed(json!({
                    "200": ok("The case number", r("CommitResponse")),
                    "404": error("No such submission from this terminal"),
                    "422": error("Attachments missing, or a malformed id")
                }))
            }},
            "/v1/case-status": { "post": {
                "summary": "Status of this terminal's cases", "security": security,
                "requestBody": json_body(r("CaseStatusQuery")),
                "responses": signed(json!({
                    "200": ok("Cases known for the ids asked", r("CaseStatusList")),
                    "422": error("Malformed query")
                }))
            }},
            "/v1/cases/{case_number}": { "get": {
                "summary": "One of this terminal's cases", "security": security,
                "parameters": [case],
                "responses": signed(json!({ "200": ok("The case", r("CaseView")), "404": error("No such case for this terminal") }))
            }},
            "/v1/cases/{case_number}/result": { "get": {
                "summary": "The result document of one of this terminal's cases", "security": security,
                "parameters": [case],
                "responses": signed(json!({
                    "200": { "description": "The document (e.g. application/pdf)", "content": { "*/*": { "schema": { "type": "string", "format": "binary" } } } },
                    "404": error("No result document")
                }))
            }},
            "/v1/evaluations/{id}": { "put": {
                "summary": "Upload one 好差评 (idempotent)", "security": security,
                "parameters": [path_param("id", uuid(), "Evaluation id")],
                "requestBody": json_body(r("EvaluationUpload")),
                "responses": signed(json!({
                    "200": ok("Identical replay", r("EvaluationAck")),
                    "201": ok("Stored", r("EvaluationAck")),
                    "409": error("Another body under this id, or the case was rated already (once per case)"),
                    "422": error("Malformed evaluation, or no case by that number was filed by this terminal")
                }))
            }},
            "/v1/heartbeat": { "post": {
                "summary": "How this terminal is doing", "security": security,
                "requestBody": json_body(r("Heartbeat")),
                "responses": signed(json!({ "200": ok("Acknowledged, with versions to pull", r("HeartbeatAck")), "422": error("Malformed heartbeat") }))
            }},
            "/v1/operators": { "get": {
                "summary": "Assistants who may log in on this terminal (revoked ones flagged); replaces the terminal's list",
                "security": security,
                "responses": signed(json!({ "200": ok("Accounts (an OperatorList, signed)", r("SignedDocument")) }))
            }},
            "/v1/e-license/lookup": { "post": {
                "summary": "Is a material in the e-license library for this person?", "security": security,
                "requestBody": json_body(r("ELicenseQuery")),
                "responses": signed(json!({
                    "200": ok("Answer", r("ELicenseAnswer")),
                    "422": error("Malformed query"),
                    "429": error("quota_exceeded (with Retry-After): this terminal looked up more distinct people today than a village kiosk serves; every lookup is audited with the ID number masked")
                }))
            }},
            "/v1/progress": { "post": {
                "summary": "Progress at any terminal: the cases a receipt names that were filed with the ID number on the card read here (issue 16)",
                "security": security,
                "requestBody": json_body(r("ProgressQuery")),
                "responses": signed(json!({
                    "200": ok("The matching cases, with history and any reply to a bad rating", r("ProgressAnswer")),
                    "404": error("not_found: no filing with this receipt and this ID number (the same answer whether the receipt exists or not); audited"),
                    "422": error("Malformed query"),
                    "429": error("quota_exceeded (with Retry-After): this terminal's lookups found nothing too often today")
                }))
            }},
            "/v1/progress/result": { "post": {
                "summary": "The result document of the case a receipt names, for the card read here, to print at this terminal",
                "security": security,
                "requestBody": json_body(r("ProgressQuery")),
                "responses": signed(json!({
                    "200": { "description": "The document (application/pdf)", "content": { "application/pdf": { "schema": { "type": "string", "format": "binary" } } } },
                    "404": error("not_found: no such filing for this card; not_available: no result document yet"),
                    "422": error("Malformed query"),
                    "429": error("quota_exceeded (with Retry-After), as for /v1/progress")
                }))
            }},
            "/v1/diagnostics/{id}": { "post": {
                "summary": "Announce the diagnostics bundle staff asked for (issue 19); it is then uploaded like an attachment",
                "security": security,
                "parameters": [path_param("id", uuid(), "The request id from the heartbeat's answer")],
                "requestBody": json_body(r("DiagnosticsAnnounce")),
                "responses": signed(json!({
                    "204": { "description": "Announced; upload it under /bundle/{sha256}" },
                    "404": error("No such request for this terminal, or its bundle is complete"),
                    "422": error("Malformed id, hash or size (1 byte to 1 MiB)")
                }))
            }},
            "/fleet/terminals/{id}/audit-breaks": { "post": {
                "summary": "Staff acknowledge a terminal's audit-chain breaks (fleet page; who, when, why kept; audited); 303 back to the page",
                "security": [{ "staffBasic": [] }],
                "parameters": [path_param("id", json!({ "type": "string" }), "Terminal id")],
                "requestBody": { "required": true, "content": { "application/x-www-form-urlencoded": { "schema": { "type": "object", "properties": { "reason": { "type": "string", "maxLength": 200 } }, "required": ["reason"] } } } },
                "responses": {
                    "303": { "description": "Acknowledged; back to the fleet page" },
                    "401": error("No or wrong staff credentials (WWW-Authenticate: Basic)"),
                    "403": error("Posted from another site (Origin is not this hub)"),
                    "404": error("No unacknowledged audit break for this terminal"),
                    "422": error("No reason given")
                }
            }},
            "/fleet/rollouts/{version}/{action}": { "post": {
                "summary": "Staff pause, resume or halt a rollout from the fleet page (issue 19); audited; 303 back to the page",
                "security": [{ "staffBasic": [] }],
                "parameters": [path_param("version", json!({ "type": "string" }), "Package version"),
                    path_param("action", json!({ "type": "string", "enum": ["pause", "resume", "halt"] }), "What to do")],
                "requestBody": { "required": false, "content": { "application/x-www-form-urlencoded": { "schema": { "type": "object", "properties": { "reason": { "type": "string", "maxLength": 200 } } } } } },
                "responses": {
                    "303": { "description": "Done; back to the fleet page" },
                    "401": error("No or wrong staff credentials (WWW-Authenticate: Basic)"),
                    "403": error("Posted from another site (Origin is not this hub)"),
                    "404": error("Unknown action"),
                    "409": error("No such rollout, or its state does not allow this (halted and done are final)"),
                    "422": error("A halt without a reason")
                }
            }},
            "/v1/updates/{version}/bundle": { "get": {
                "summary": "Up to 1 MiB of the update bundle this terminal's rollout stage offers it, from a byte offset (issue 19)", "security": security,
                "parameters": [path_param("version", json!({ "type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9.+~-]{0,63}$" }), "Package version"),
                    { "name": "offset", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "format": "int64" } }],
                "responses": signed(json!({
                    "206": { "description": "Bytes from the offset; Content-Range: bytes START-END/SIZE", "content": { "application/x-tar": { "schema": { "type": "string", "format": "binary" } } } },
                    "404": error("Not offered to this terminal now (no rollout stage of it open, halted, paused, or it failed it)"),
                    "416": error("The offset is past the bundle's end"),
                    "422": error("Malformed version or offset")
                }))
            }},
            "/v1/diagnostics/{id}/bundle/{sha256}": {
                "get": {
                    "summary": "How much of the announced bundle the hub holds", "security": security,
                    "parameters": [path_param("id", uuid(), "Request id"), sha],
                    "responses": signed(json!({
                        "200": ok("Upload status", r("UploadStatus")),
                        "404": error("No such request from this terminal"),
                        "422": error("Malformed id or hash, or not the announced bundle")
                    }))
                },
                "put": ranged_put(
                    "Upload bundle bytes, whole or from an offset (Content-Range), as attachments",
                    json!([path_param("id", uuid(), "Request id"), sha]),
                    "No such request from this terminal",
                    &security,
                )
            },
            "/fleet/terminals/{id}/diagnostics": { "post": {
                "summary": "Staff ask a terminal for a diagnostics bundle (the fleet page's button); audited. The terminal answers at its next heartbeat",
                "security": [{ "staffBasic": [] }],
                "parameters": [path_param("id", json!({ "type": "string" }), "Terminal id")],
                "responses": {
                    "303": { "description": "Asked; back to the fleet page" },
                    "401": error("No or wrong staff credentials (WWW-Authenticate: Basic)"),
                    "403": error("Posted from another site (Origin is not this hub)"),
                    "404": error("No such terminal")
                }
            }},
            "/fleet/diagnostics/{id}": { "get": {
                "summary": "Download a diagnostics bundle (JSON, personal data masked); audited",
                "security": [{ "staffBasic": [] }],
                "parameters": [path_param("id", uuid(), "Request id")],
                "responses": {
                    "200": { "description": "The bundle", "content": { "application/json": { "schema": { "type": "object" } } } },
                    "401": error("No or wrong staff credentials (WWW-Authenticate: Basic)"),
                    "404": error("No such request, or the terminal has not uploaded it yet"),
                    "422": error("Malformed id")
                }
            }},
            "/fleet": { "get": {
                "summary": "Fleet page for the operations centre: staff only (HTTP Basic with a name and token from `hub staff add`); reading it writes nothing. 200 terminals a page, audit-broken first, then stale, revoked last",
                "security": [{ "staffBasic": [] }],
                "parameters": [
                    { "name": "place", "in": "query", "required": false, "description": "County (6 digits), township (9) or village (12) division code, or any prefix of 2 to 12 digits", "schema": { "type": "string", "pattern": "^[0-9]{2,12}$" } },
                    { "name": "page", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1 } }
                ],
                "responses": {
                    "200": { "description": "HTML", "content": { "text/html": { "schema": { "type": "string" } } } },
                    "422": error("place is not 2 to 12 digits, or page not a number"),
                    "401": error("No or wrong staff credentials (WWW-Authenticate: Basic)")
                }
            }}
        }
    })
}
