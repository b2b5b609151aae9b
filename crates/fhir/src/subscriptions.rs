//! Subscriptions (rest-hook): a client asks to be told when its unit's cases change; the
//! deliveries themselves are `notify`'s.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use samverka_domain::access::Permission;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::FhirCaller;
use crate::http::{FhirError, FhirResult, created, fhir, resource_body, unprocessable};
use samverka_app::AppState;
use samverka_app::audit::require;
use samverka_app::scopes::Access;

// ---- Subscription (rest-hook) -----------------------------------------------------------------

pub(crate) fn subscription_resource(s: &samverka_store::Subscription, secret: bool) -> Value {
    let status = match s.status.as_str() {
        "active" => "active",
        "error" => "error",
        _ => "off",
    };
    let mut r = json!({
        "resourceType": "Subscription",
        "id": s.id.to_string(),
        "status": status,
        "reason": "Nya meddelanden till enheten",
        "criteria": s.criteria,
        "channel": { "type": "rest-hook", "endpoint": s.endpoint, "payload": "application/fhir+json" },
    });
    if !s.headers.is_empty() {
        r["channel"]["header"] = json!(s.headers);
    }
    if let Some(e) = &s.error {
        r["error"] = json!(e);
    }
    if secret {
        // Shown once, in the answer to the create; it signs every notification.
        r["extension"] = json!([{ "url": "urn:samverka:StructureDefinition:signing-secret", "valueString": s.secret }]);
    }
    r
}

/// Loopback addresses may be plain HTTP (a receiver on the same host); anything else HTTPS.
pub(crate) fn check_endpoint(endpoint: &str) -> Result<(), FhirError> {
    let ok = endpoint.starts_with("https://")
        || ["http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/", "http://[::1]:"]
            .iter()
            .any(|p| endpoint.starts_with(p));
    if !ok || endpoint.len() > 2000 || endpoint.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(unprocessable(
            "channel.endpoint ska vara en https-adress (http bara till den egna datorn, 127.0.0.1).",
            "channel.endpoint must be an https URL (http only to loopback).",
        ));
    }
    Ok(())
}

/// `POST /fhir/Subscription`: notifications of new messages to the client's own unit,
/// `Communication?recipient=Organization/<unit>` with an optional `&category=<message kind>`.
pub(crate) async fn create_subscription(
    State(st): State<AppState>,
    c: FhirCaller,
    uri: Uri,
    body: String,
) -> FhirResult {
    c.require("Subscription", Access::Write)?;
    let caller = &c.caller;
    require(&st, caller, Permission::ReadPatientData, "fhir.subscription.create", None, None).await?;
    let req = read_subscription_request(&body, caller.actor.unit.id)?;
    let s = samverka_store::Subscription {
        id: Uuid::now_v7(),
        client_id: c.client_id,
        unit_id: caller.actor.unit.id,
        criteria: req.criteria,
        kind: req.kind,
        endpoint: req.endpoint,
        headers: req.headers,
        secret: samverka_app::auth::random_token(),
        status: "active".into(),
        error: None,
        created_at: st.clock.now(),
    };
    st.store.create_subscription(&s, st.clock.now()).await?;
    tracing::info!(target: "audit", client = %c.client_id, subscription = %s.id, "FHIR subscription created");
    Ok(created(&subscription_resource(&s, true), format!("{}/{}", uri.path(), s.id)))
}

/// What a Subscription create asks for, checked.
#[derive(Debug)]
pub struct SubscriptionRequest {
    pub criteria: String,
    /// A message kind, or empty for all.
    pub kind: String,
    pub endpoint: String,
    pub headers: Vec<String>,
}

/// Reads and checks the body of `POST /fhir/Subscription` for a client of `own_unit`.
pub fn read_subscription_request(body: &str, own_unit: Uuid) -> Result<SubscriptionRequest, FhirError> {
    let v = resource_body(body, "Subscription")?;
    if !matches!(v["status"].as_str(), Some("requested" | "active")) {
        return Err(unprocessable("status ska vara requested.", "status must be requested."));
    }
    let channel = &v["channel"];
    if channel["type"] != "rest-hook" {
        return Err(unprocessable("Bara channel.type rest-hook stöds.", "Only rest-hook channels are supported."));
    }
    if !matches!(channel["payload"].as_str(), None | Some("application/fhir+json")) {
        return Err(unprocessable(
            "channel.payload ska vara application/fhir+json.",
            "channel.payload must be application/fhir+json.",
        ));
    }
    let endpoint = channel["endpoint"].as_str().unwrap_or_default().to_string();
    check_endpoint(&endpoint)?;
    let mut headers = vec![];
    if let Some(list) = channel.get("header") {
        let list = list
            .as_array()
            .ok_or_else(|| unprocessable("channel.header ska vara en lista.", "channel.header must be a list."))?;
        for h in list {
            let h = h.as_str().unwrap_or_default();
            let good = h.split_once(':').is_some_and(|(k, v)| {
                !k.trim().is_empty()
                    && k.trim().chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !v.chars().any(|c| c.is_control())
            });
            if !good || h.len() > 4000 {
                return Err(unprocessable(
                    format!("\"{h}\" är ingen HTTP-rubrik. Skriv \"Namn: värde\"."),
                    format!("\"{h}\" is not an HTTP header line."),
                ));
            }
            headers.push(h.to_string());
        }
    }
    let criteria = v["criteria"].as_str().unwrap_or_default().to_string();
    let own = format!("Communication?recipient=Organization/{}", own_unit);
    let kind = match criteria.strip_prefix(&own) {
        Some("") => String::new(),
        Some(rest) => match rest.strip_prefix("&category=") {
            Some(k) if serde_json::from_value::<samverka_domain::message::MessageKind>(json!(k)).is_ok() => {
                k.to_string()
            }
            _ => {
                return Err(unprocessable(
                    format!("Okänd kategori i \"{criteria}\". Använd en meddelandetyp, t.ex. inskrivningsmeddelande."),
                    "Unknown category.",
                ));
            }
        },
        None => {
            return Err(FhirError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("Klienten kan bara prenumerera på meddelanden till sin egen enhet: {own}"),
                format!("A client can only subscribe to messages to its own unit: {own}"),
            ));
        }
    };
    Ok(SubscriptionRequest { criteria, kind, endpoint, headers })
}

pub(crate) async fn own_subscription(
    st: &AppState,
    c: &FhirCaller,
    id: &str,
) -> Result<samverka_store::Subscription, FhirError> {
    let id = crate::reads::parse_id(id, "Prenumerationen")?;
    st.store
        .subscription(id)
        .await?
        .filter(|s| s.client_id == c.client_id)
        .ok_or_else(|| FhirError::not_found("Prenumerationen", "Subscription"))
}

pub(crate) async fn read_subscription(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Subscription", Access::Read)?;
    let s = own_subscription(&st, &c, &id).await?;
    Ok(fhir(&subscription_resource(&s, false)))
}

pub(crate) async fn delete_subscription(
    State(st): State<AppState>,
    c: FhirCaller,
    Path(id): Path<String>,
) -> FhirResult {
    c.require("Subscription", Access::Write)?;
    let s = own_subscription(&st, &c, &id).await?;
    st.store.set_subscription_status(s.id, "off", None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
