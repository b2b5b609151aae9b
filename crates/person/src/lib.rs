//! The person's own pages under `/min`: the older person signs in with e-legitimation (their
//! region's OpenID Connect broker for BankID or Freja eID; in a demo, as one of the demo's
//! patients) and follows their own discharge in plain words: where it stands, what comes next,
//! whom to call, the SIP meeting and plan, and who has read their data.
//!
//! Everything goes through `samverka_app::person` (the session, what a person may see, the
//! log); this crate parses, renders and answers. No page needs a script; each is built for a
//! 320 px phone first and kept short.

mod pages;

use axum::Router;
use axum::routing::{MethodRouter, get, post};
use samverka_app::AppState;

/// A route whose other methods get the person's own page, not the server's 405.
fn page(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.fallback(pages::method_not_allowed)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/min", page(get(pages::start)))
        .route("/min/logga-in/{id}", page(get(pages::sign_in_start)))
        .route("/min/logga-in/{id}/tillbaka", page(get(pages::sign_in_callback)))
        .route("/min/demo", page(post(pages::demo_sign_in)))
        .route("/min/logga-ut", page(post(pages::sign_out)))
        .route("/min/utskrivning/{id}", page(get(pages::my_case)))
        .route("/min/utskrivning/{id}/mote.ics", page(get(pages::meeting_ics)))
        .route("/min/utskrivning/{id}/mina-ord", page(post(pages::before_meeting)))
        .route("/min/utskrivning/{id}/svar", page(post(pages::attendance)))
        .route("/min/utskrivning/{id}/fraga", page(post(pages::question)))
        .route("/min/utskrivning/{id}/samtycke", page(post(pages::consent)))
        .route("/min/vem-har-last", page(get(pages::who_read)))
        .route("/min/narstaende", page(get(pages::representatives).post(pages::invite)))
        .route("/min/e-post", page(post(pages::notice)))
        .route("/min/levnadsberattelse", page(get(pages::life_story).post(pages::write_life_story)))
        .route("/min/levnadsberattelse/delning", page(post(pages::share_life_story)))
        .route("/min/narstaende/{rep}/avsluta", page(post(pages::end_representative)))
        .route("/min/stil.css", page(get(pages::stylesheet)))
        .route("/min/tillganglighet", page(get(pages::accessibility)))
        .route("/min/{*rest}", axum::routing::any(pages::not_found))
        // The identity providers' discovered metadata (logins under way are in the database).
        .layer(axum::Extension(std::sync::Arc::new(samverka_app::oidc::OidcState::default())))
}
