//! Samverka's application layer, beneath every front end (the JSON API, the web pages, FHIR,
//! the HL7 feed): the state, the caller, every access-logged read and command, the
//! collaboration rules (forums, directives, directory, escalation) and the texts.
//!
//! Architecture invariant: front ends translate their protocol to calls here and back, and
//! never call each other. Rules live in `samverka-domain`, SQL in `samverka-store`; this crate
//! asks the domain what is allowed, writes the access log and tells open pages of changes.
//! It knows HTTP only as far as all HTTP front ends share it: the caller's session, problem
//! answers and input extractors.

pub mod access_log;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod directives;
pub mod directory;
pub mod error;
pub mod escalation;
pub mod export;
pub mod extract;
pub mod feed;
pub mod followup;
pub mod forums;
pub mod hl7;
pub mod home;
pub mod inbox;
pub mod liability;
pub mod life_story;
pub mod live;
pub mod mail;
pub mod metrics;
pub mod oidc;
pub mod patients;
pub mod person;
pub mod representatives;
pub mod rounds;
pub mod scopes;
pub mod state;
pub mod texts;
pub mod tls;
pub mod units;
pub mod views;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::AppConfig;
pub use error::{AppError, AppResult, ProblemDetails};
pub use state::AppState;

/// The systems that act in Samverka on their own, with the name the access log gives them:
/// the HL7 admission feed and the escalation of overdue steps.
pub const SYSTEM_IDENTITIES: [(uuid::Uuid, &str); 2] =
    [(feed::FEED_USER_ID, "Journalsystemet via HL7"), (escalation::ESCALATION_USER_ID, "Samverka (eskalering)")];
