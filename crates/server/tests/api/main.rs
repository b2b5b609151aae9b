//! Black-box tests of the HTTP API: each starts the real application on a random port.

mod access;
mod bad_input;
mod directives;
mod escalation;
mod fhir;
mod fhir_search;
mod followup;
mod forums;
mod helpers;
mod hl7;
mod home;
mod invoice;
mod login;
mod oidc;
mod person;
mod protection;
mod rounds;
mod scenario;
mod tls;
mod web;
