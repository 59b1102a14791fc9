//! The OpenAPI description of the API, served at `/api/v1/openapi.json`. A test checks
//! its schemas against the wire types, so the two cannot drift apart.

use docliveness_engine::Route;
use serde_json::{Value, json};

/// The OpenAPI 3.0 document.
pub fn document() -> Value {
    // The image codes of the engine, then the request codes of the API.
    let error_codes: Vec<&str> = docliveness_engine::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(super::error::ApiError::CODES)
        .collect();
    let error_response = json!({"$ref": "#/components/schemas/LivenessResponse"});
    let warning_codes: Vec<&str> = docliveness_engine::WarningCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "docliveness",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Document liveness: a real identity document in front of a camera, or a photo of a screen, a printed copy or a digital image?"
        },
        "components": {
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}},
            "schemas": {
                "LivenessRequest": {
                    "type": "object",
                    "properties": {
                        "sessionId": {"type": "string", "description": "Client's session id, echoed; made up when absent."},
                        "frontSideImageBase": {"type": "string", "description": "Front side: Base64 JPEG/PNG, a data: URL, or an https URL (when enabled)."},
                        "backSideImageBase": {"type": "string", "description": "Back side, same forms."},
                        "documentImageBase": {"type": "string", "description": "Alias of frontSideImageBase."},
                        "frontSideQuad": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}}, "description": "The front document's outline, four [x, y] corners in upright photo pixels in order round the document: the detector is skipped and the photo judged on it. Convex; corners may lie outside the photo."},
                        "backSideQuad": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}}, "description": "The back document's outline, the same way; only with backSideImageBase."}
                    }
                },
                "SideResult": {
                    "type": "object",
                    "required": ["hasError", "documents"],
                    "properties": {
                        "hasError": {"type": "boolean"},
                        "error": {"type": "string", "enum": error_codes},
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                        "documents": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}, "minItems": 4, "maxItems": 4}},
                        "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/QualityWarning"}}
                    }
                },
                "QualityWarning": {
                    "type": "object",
                    "required": ["code", "measured", "limit"],
                    "properties": {
                        "code": {"type": "string", "enum": warning_codes},
                        "measured": {"type": "number", "description": "The measure that raised it: blur 0..1, glare share of the document 0..1, or mean luma 0..255."},
                        "limit": {"type": "number", "description": "The configured limit it crossed."},
                        "regions": {"type": "array", "description": "Affected areas, [x, y, width, height] in upright photo pixels, largest first (glare).", "items": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4}}
                    }
                },
                "LivenessResponse": {
                    "type": "object",
                    "required": ["sessionId", "hasError"],
                    "properties": {
                        "sessionId": {"type": "string"},
                        "score": {"type": "number", "minimum": 0, "maximum": 1, "description": "Higher = more likely live. Absent on error."},
                        "hasError": {"type": "boolean"},
                        "error": {"type": "string", "enum": error_codes},
                        "message": {"type": "string"},
                        "decision": {"type": "string", "enum": Route::ALL.map(Route::as_str)},
                        "reviewCaseId": {"type": "integer", "description": "Case opened in the review queue for a review-band score."},
                        "warnings": {"type": "array", "items": {"type": "string", "enum": warning_codes}, "description": "Image-quality warnings of either side; they never stop scoring."},
                        "modelVersion": {"type": "string"},
                        "front": {"$ref": "#/components/schemas/SideResult"},
                        "back": {"$ref": "#/components/schemas/SideResult"}
                    }
                }
            }
        },
        "paths": {
            "/api/v1/document/liveness": {
                "post": {
                    "summary": "Check one document's liveness from a photo of its front (and optionally back) side",
                    "security": [{"basic": []}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LivenessRequest"}}}},
                    "responses": {
                        "200": {"description": "A score, or an error code when no trustworthy score could be given", "content": {"application/json": {"schema": error_response}}},
                        "400": {"description": "Malformed JSON or no image", "content": {"application/json": {"schema": error_response}}},
                        "401": {"description": "Missing or wrong credentials", "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": error_response}}},
                        "408": {"description": "The body did not arrive in time (REQUEST_TIMEOUT); the connection closes", "headers": {"Connection": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": error_response}}},
                        "413": {"description": "Body too large", "content": {"application/json": {"schema": error_response}}},
                        "429": {"description": "Too many failed logins from this address", "content": {"application/json": {"schema": error_response}}},
                        "503": {"description": "Overloaded (queue or memory for bodies full), timed out, or no liveness model installed", "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": {"application/json": {"schema": error_response}}}
                    }
                }
            },
            "/healthz": {"get": {"summary": "Liveness of the server itself", "responses": {"200": {"description": "Running"}}}}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{LivenessRequest, LivenessResponse, SideResult};
    use std::collections::BTreeSet;

    fn keys(v: &Value) -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn schemas_match_the_wire_types() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        let side = SideResult {
            has_error: true,
            error: Some(docliveness_engine::ErrorCode::DocumentCropped),
            score: Some(0.5),
            documents: vec![],
            warnings: vec![docliveness_engine::QualityWarning {
                code: docliveness_engine::WarningCode::Glare,
                measured: 0.02,
                limit: 0.01,
                regions: vec![[1, 2, 3, 4]],
            }],
        };
        let full = LivenessResponse {
            session_id: "s".into(),
            score: Some(0.4),
            has_error: false,
            error: Some("X".into()),
            message: Some("m".into()),
            decision: Some(docliveness_engine::Route::Review),
            review_case_id: Some(1),
            warnings: vec![docliveness_engine::WarningCode::Glare],
            model_version: Some("v".into()),
            front: Some(side.clone()),
            back: Some(side.clone()),
        };
        assert_eq!(
            keys(&serde_json::to_value(&full).unwrap()),
            keys(&schemas["LivenessResponse"]["properties"])
        );
        assert_eq!(
            keys(&serde_json::to_value(&side).unwrap()),
            keys(&schemas["SideResult"]["properties"])
        );
        assert_eq!(
            keys(&serde_json::to_value(&side.warnings[0]).unwrap()),
            keys(&schemas["QualityWarning"]["properties"])
        );
        let request = LivenessRequest {
            session_id: Some("s".into()),
            front_side_image_base: Some("a".into()),
            back_side_image_base: Some("b".into()),
            document_image_base: Some("c".into()),
            front_side_quad: Some([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]),
            back_side_quad: Some([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]),
        };
        assert_eq!(
            keys(&serde_json::to_value(&request).unwrap()),
            keys(&schemas["LivenessRequest"]["properties"])
        );
        let enum_codes: BTreeSet<String> =
            schemas["LivenessResponse"]["properties"]["error"]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
        for code in docliveness_engine::ErrorCode::ALL {
            assert!(enum_codes.contains(code.as_str()), "{code}");
        }
    }
}
