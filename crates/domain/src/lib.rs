//! Samverka's domain core: the rules of discharge from hospital under LUS (lag 2017:612 om
//! samverkan vid utskrivning från sluten hälso- och sjukvård) as plain Rust.
//!
//! Architecture invariant: this crate does no I/O. No async, no SQL, no HTTP, no clock: the
//! current time is always passed in, and ids of new things are chosen by the caller.

pub mod access;
pub mod action;
pub mod actor;
pub mod agreement;
pub mod calendar;
pub mod case;
pub mod consent;
pub mod deadlines;
pub mod directive;
pub mod directory;
pub mod error;
pub mod escalation;
pub mod followup;
pub mod forum;
pub mod hl7;
pub mod ids;
pub mod liability;
pub mod life_story;
pub mod message;
pub mod org;
pub mod patient;
pub mod person;
pub mod representative;
pub mod round;
pub mod routing;
pub mod screening;
pub mod sip;
pub mod text;

pub use error::{Problem, ProblemKind};
