//! What this server says it does, generated from the search table ([`crate::search::RESOURCES`])
//! so that the statement and the search code cannot disagree: the CapabilityStatement and the
//! SMART configuration (discovery of the token endpoint), and the answer to what is not served.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::{FhirBase, FhirError, fhir};
use crate::resources;
use crate::search::{COMMON, RESOURCES, Resource};
use samverka_app::AppState;

/// The operations Samverka defines, by resource type.
fn operations(ty: &str) -> Option<Value> {
    (ty == "Communication").then(|| {
        json!([{
            "name": "acknowledge",
            "definition": "urn:samverka:OperationDefinition:acknowledge",
            "documentation": "POST Communication/<id>/$acknowledge: the client's unit acknowledges (kvitterar) the message.",
        }])
    })
}

fn resource(r: &Resource) -> Value {
    let mut out = json!({
        "type": r.ty,
        "interaction": r.interactions.iter().map(|c| json!({ "code": c })).collect::<Vec<_>>(),
    });
    if !r.params.is_empty() {
        out["searchParam"] = r
            .params
            .iter()
            .chain(COMMON)
            .map(|p| {
                let mut doc = p.doc.to_string();
                if p.required {
                    doc.push_str(" Required.");
                }
                if !p.modifiers.is_empty() {
                    doc.push_str(&format!(
                        " Modifiers: {}.",
                        p.modifiers.iter().map(|m| format!(":{m}")).collect::<Vec<_>>().join(", ")
                    ));
                }
                json!({ "name": p.name, "type": p.kind.code(), "documentation": doc })
            })
            .collect();
    }
    if let Some(p) = r.profile {
        out["supportedProfile"] = json!([p]);
    }
    if let Some(d) = r.doc {
        out["documentation"] = json!(d);
    }
    if let Some(ops) = operations(r.ty) {
        out["operation"] = ops;
    }
    out
}

/// `GET /fhir/metadata`: the CapabilityStatement (no token needed).
pub async fn metadata(State(st): State<AppState>, base: FhirBase) -> Response {
    let body = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": resources::instant(&st.clock.now()),
        "publisher": "Samverka",
        "kind": "instance",
        "software": { "name": "Samverka", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": "Samverka – samverkan vid utskrivning (LUS)", "url": base.0 },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [{
            "mode": "server",
            "documentation": "Search follows https://hl7.org/fhir/R4/search.html: an unsupported parameter or modifier is refused (400) unless Prefer: handling=lenient, a repeated parameter is AND and a comma OR, dates search the range their precision covers (a date alone is a day in Swedish time), _count above 200 is taken as 200.",
            "security": {
                "service": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR" }] }],
                "description": "OAuth 2.0 client credentials at the token endpoint; scopes system/<Resource>.read|write (or SMART v2 .rs/.cud). See .well-known/smart-configuration.",
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{ "url": "token", "valueUri": format!("{}/auth/token", base.0) }],
                }],
            },
            "resource": RESOURCES.iter().map(resource).collect::<Vec<_>>(),
        }],
    });
    fhir(&body)
}

/// `GET /fhir/.well-known/smart-configuration` (and at the server's root): SMART discovery for
/// backend services, which use client credentials.
pub async fn smart_configuration(base: FhirBase) -> Response {
    let scopes: Vec<String> = std::iter::once("system/*.read".to_string())
        .chain(std::iter::once("system/*.write".to_string()))
        .chain(
            samverka_app::scopes::RESOURCE_TYPES
                .iter()
                .flat_map(|t| [format!("system/{t}.read"), format!("system/{t}.write")]),
        )
        .collect();
    let mut res = Json(json!({
        "token_endpoint": format!("{}/auth/token", base.0),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": scopes,
        "capabilities": ["client-confidential-symmetric", "permission-v1", "permission-v2"],
    }))
    .into_response();
    res.headers_mut().insert(axum::http::header::CACHE_CONTROL, "max-age=3600".parse().expect("static header"));
    res
}

/// Everything under `/fhir` that no route answers: an unknown type or operation is 404, an
/// interaction a known type does not have is 405, both as OperationOutcomes.
pub async fn unknown(uri: axum::http::Uri) -> FhirError {
    let path = uri.path().trim_start_matches("/fhir/");
    let ty = path.split('/').next().unwrap_or("");
    if let Some(op) = path.split('/').find(|s| s.starts_with('$')) {
        return FhirError::new(
            StatusCode::NOT_FOUND,
            "not-supported",
            format!("Operationen {op} finns inte i Samverka."),
            format!("The operation {op} is not supported."),
        );
    }
    match RESOURCES.iter().find(|r| r.ty == ty) {
        Some(r) => FhirError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-supported",
            format!("{ty} har bara: {}.", r.interactions.join(", ")),
            format!("{ty} supports only: {}.", r.interactions.join(", ")),
        ),
        None => FhirError::new(
            StatusCode::NOT_FOUND,
            "not-supported",
            format!("Resurstypen \"{ty}\" finns inte i Samverka (se /fhir/metadata)."),
            format!("The resource type \"{ty}\" is not served (see /fhir/metadata)."),
        ),
    }
}
