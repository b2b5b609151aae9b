//! The web application: server-rendered pages in Swedish (English selectable) over the same
//! rules, access checks and access log as the JSON API. Every page is complete in one
//! request; a small script of our own (`static/samverka.js`) adds live updates when the
//! browser runs it, and every form works without it.

mod about;
mod admin;
mod case;
mod charts;
mod demo;
mod directives;
mod directory;
mod feed;
mod followup;
mod forums;
mod inbox;
mod invoice;
mod life_story;
mod live;
mod log;
mod login;
mod oidc;
mod page;
mod rounds;
mod screening;
mod search;
mod sip;
mod units;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use samverka_app::AppState;
use samverka_app::auth::{EVENTS_PATH, same_secret, token_hash};
use samverka_app::texts::texts;

pub use page::{error_page, error_text, lang_of, page_errors};

/// Checks the `csrf_token` field of every form posted to the web pages against the session
/// (or, on the login form, against its double-submit cookie) before any handler runs, so no
/// form handler can forget it.
async fn form_csrf(axum::extract::State(st): axum::extract::State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let t = texts(lang_of(req.headers()));
    let refuse = || error_page(t, StatusCode::FORBIDDEN, t.get("error.csrf").to_string());
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, samverka_app::config::MAX_BODY_BYTES).await else {
        return error_page(t, StatusCode::PAYLOAD_TOO_LARGE, t.get("error.too_large").to_string());
    };
    let sent: Option<String> = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v));
    let Some(sent) = sent else { return refuse() };
    let expected = if parts.uri.path() == "/logga-in" {
        samverka_app::auth::cookie_value(&parts.headers, page::LOGIN_CSRF_COOKIE)
    } else {
        match samverka_app::auth::cookie_value(&parts.headers, samverka_app::auth::SESSION_COOKIE) {
            Some(token) => st.store.session(&token_hash(&token)).await.ok().flatten().map(|s| s.csrf_token),
            None => None,
        }
    };
    match expected {
        Some(e) if same_secret(&sent, &e) => {
            let mut req = Request::from_parts(parts, Body::from(bytes));
            req.extensions_mut().insert(samverka_app::auth::CsrfVerified);
            next.run(req).await
        }
        // No live session behind the cookie (timed out, logged out): to the login, not a
        // misleading "security code" error.
        None if parts.uri.path() != "/logga-in" => Redirect::to("/logga-in").into_response(),
        _ => refuse(),
    }
}

/// Patient-data pages, under the same fail-closed access-log rule as the API.
fn patient_pages() -> Router<AppState> {
    Router::new()
        .route("/", get(inbox::inbox))
        .route("/arenden", get(inbox::cases))
        .route("/arenden/ny", get(case::new_admission_form).post(case::new_admission))
        .route("/arenden/ny-samordning", get(case::new_home_form).post(case::new_home))
        .route("/arenden/{id}", get(case::page))
        .route("/arenden/{id}/meddelande", post(case::send_message))
        .route("/arenden/{id}/meddelande/{message_id}", get(case::message_page))
        .route("/arenden/{id}/kvittera", post(case::acknowledge))
        .route("/arenden/{id}/kvittera-alla", post(case::acknowledge_all))
        .route("/arenden/{id}/felskickat/{message_id}", post(case::mis_sent))
        .route("/arenden/{id}/vidarebefordra/{message_id}", post(case::forward))
        .route("/arenden/{id}/samtycke", post(case::record_consent))
        .route("/arenden/{id}/patientens-ord/{statement}/last", post(case::read_person_words))
        .route("/arenden/{id}/foretradare", post(case::register_representative))
        .route("/arenden/{id}/foretradare/{rep}/avsluta", post(case::end_representative))
        .route("/arenden/{id}/samtycke/{consent_id}/aterkalla", post(case::withdraw_consent))
        .route("/arenden/{id}/bjud-in", get(case::invite_form).post(case::invite))
        .route("/arenden/{id}/flytt", post(case::transfer))
        .route("/arenden/{id}/utskrivning", post(case::discharge))
        .route("/arenden/{id}/angra-utskrivning", post(case::cancel_discharge))
        .route("/arenden/{id}/bekrafta-behov", post(case::confirm_needs))
        .route("/arenden/{id}/avsluta-utkast", post(case::dismiss))
        .route("/arenden/{id}/avsluta", post(case::close))
        .route("/arenden/{id}/fortsatt-hemma", post(case::continue_at_home))
        .route("/arenden/{id}/nodatkomst", post(case::emergency))
        .route("/arenden/{id}/levnadsberattelse", get(life_story::page).post(life_story::save))
        .route("/arenden/{id}/screening", post(case::record_screening))
        .route("/arenden/{id}/sip", get(sip::editor).post(sip::save))
        .route("/arenden/{id}/sip/utskrift", get(sip::print))
        .route("/arenden/{id}/sip/uppfoljning", post(sip::follow_up))
        .route("/moten/{id}/rond", get(rounds::page))
        .route("/moten/{id}/rond/lista", post(rounds::list))
        .route("/moten/{id}/rond/{case}", post(rounds::note))
        .route("/moten/{id}/rond/{case}/klar/{action}", post(rounds::done))
        .route("/sok", get(search::search_form).post(search::search_post))
        .route("/sok/nodatkomst", post(search::emergency_search))
        .route("/logg", get(log::log_review).post(log::log_review_post))
        .route("/uppfoljning", get(followup::page))
        .route("/betalningsansvar", get(invoice::page))
        .route("/betalningsansvar/godkann", post(invoice::approve))
        .route("/logg/utdrag", post(log::log_extract))
        .route("/admin/hl7", get(feed::list))
        .route("/admin/hl7/{id}", get(feed::message))
        .route("/admin/hl7/{id}/behandla", post(feed::replay))
        .route_layer(axum::middleware::from_fn(samverka_app::audit::require_access_log))
}

/// Forums, meetings, action items and directives: not patient data, but under the same fail-closed
/// access-log rule (every read and write of them is logged with the object's id).
fn forum_pages() -> Router<AppState> {
    Router::new()
        .route("/forum", get(forums::list).post(forums::create))
        .route("/forum/{id}", get(forums::page))
        .route("/forum/{id}/schema", post(forums::schedule))
        .route("/forum/{id}/medlemmar", post(forums::add_member))
        .route("/forum/{id}/medlemmar/ta-bort", post(forums::remove_member))
        .route("/forum/{id}/punkter", post(forums::raise_item))
        .route("/forum/{id}/moten", post(forums::plan_meeting))
        .route("/forum/{id}/kalender", post(forums::new_calendar))
        .route("/moten/{id}", get(forums::meeting))
        .route("/moten/{id}/kalender.ics", get(forums::meeting_ics))
        .route("/moten/{id}/minnesanteckningar", get(forums::minutes_document))
        .route("/moten/{id}/dagordning", post(forums::agenda))
        .route("/moten/{id}/anteckningar", post(forums::minutes))
        .route("/moten/{id}/narvaro", post(forums::attendance))
        .route("/moten/{id}/atgarder", post(forums::add_action))
        .route("/moten/{id}/faststall", post(forums::approve))
        .route("/moten/{id}/stall-in", post(forums::cancel))
        .route("/atgarder/{id}/status", post(forums::action_status))
        .route("/direktiv", get(directives::list).post(directives::register))
        .route("/direktiv/{id}", get(directives::page))
        .route("/direktiv/{id}/last", post(directives::confirm_read))
        .route("/direktiv/{id}/beslut", post(directives::decide))
        .route("/direktiv/{id}/aterkalla", post(directives::withdraw))
        .route("/eskaleringar", get(units::escalations))
        .route("/enheter/{id}/kontakter", post(units::contacts))
        .route("/enheter/{id}/bekrafta", post(units::confirm))
        .route("/enheter/{id}/eskalering", post(units::escalation_rule))
        .route_layer(axum::middleware::from_fn(samverka_app::audit::require_access_log))
}

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(patient_pages())
        .merge(forum_pages())
        .route("/kalender/{file}", get(forums::calendar_feed))
        .route("/logga-in", get(login::login_form).post(login::login))
        .route("/logga-in/losenord", get(login::password_form).post(login::change_password))
        .route("/logga-in/kod", get(login::code_form).post(login::code))
        .route("/logga-in/uppdrag", get(login::assignment_form).post(login::choose_assignment))
        .route("/logga-ut", post(login::logout))
        .route("/enheter", get(directory::directory))
        .route("/enheter/{id}", get(units::page))
        .route("/demo/klocka", post(demo::demo_clock))
        .route("/ordlista", get(about::glossary))
        .route("/tillganglighet", get(about::accessibility))
        .route("/sprak/{lang}", get(about::language))
        .route(EVENTS_PATH, get(live::events))
        .route("/auth/oidc/{id}/start", get(oidc::start))
        .route("/auth/oidc/{id}/callback", get(oidc::callback))
        .route("/static/samverka.js", get(live::script))
        .route("/static/samverka.css", get(live::stylesheet))
        .route("/static/favicon.svg", get(live::icon))
        .route("/favicon.ico", get(live::icon))
        .route("/admin", get(admin::page))
        .route("/admin/anvandare", post(admin::create_user))
        .route("/admin/anvandare/{id}", get(admin::user))
        .route("/admin/anvandare/{id}/uppdrag", post(admin::add_assignment))
        .route("/admin/anvandare/{id}/losenord", post(admin::reset_password))
        .route("/admin/anvandare/{id}/tvafaktor", post(admin::reset_totp))
        .route("/admin/anvandare/{id}/las-upp", post(admin::unlock))
        .route("/admin/anvandare/{id}/inaktivera", post(admin::deactivate))
        .route("/admin/uppdrag/{id}/avsluta", post(admin::end_assignment))
        .route("/admin/enheter", post(admin::create_unit))
        .route("/admin/enheter/{id}", get(admin::unit))
        .route("/admin/enheter/{id}/adress", post(admin::update_address))
        .layer(axum::middleware::from_fn_with_state(state, form_csrf))
        // The identity providers' discovered metadata (logins under way are in the database).
        .layer(axum::Extension(std::sync::Arc::new(samverka_app::oidc::OidcState::default())))
}

#[cfg(test)]
mod tests {
    use samverka_app::texts::{Lang, texts};

    #[test]
    fn every_key_the_templates_and_code_use_exists() {
        let dirs = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/src"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/../app/src"),
        ];
        let re = regex::Regex::new(r#"\b(?:t|texts|tr)\.(?:get|fill)\("([a-z0-9_.]+)""#).unwrap();
        let keys: std::collections::BTreeSet<_> = texts(Lang::SV).keys().collect();
        let mut used = 0;
        for dir in dirs {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let Ok(text) = std::fs::read_to_string(&path) else { continue };
                for cap in re.captures_iter(&text) {
                    used += 1;
                    assert!(keys.contains(&cap[1].to_string()), "{}: no text for key {}", path.display(), &cap[1]);
                }
            }
        }
        assert!(used > 100, "found only {used} uses");
    }
}
