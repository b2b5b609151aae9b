//! The hospital's admission feed: HL7 v2 ADT messages over MLLP.
//!
//! - [`mllp`] finds messages in the bytes of a connection;
//! - [`adt`] decodes the character set (MSH-18) and reads header, patient and visit;
//! - [`plan`] decides what a message means for Samverka's cases;
//! - [`ack`] writes the answer.
//!
//! Nothing here touches a socket or the database; the listener in `samverka-api` stores every
//! message before it answers and carries plans out with the same commands users give.

pub mod ack;
pub mod adt;
pub mod mllp;
pub mod plan;
