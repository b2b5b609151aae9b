//! The hospital's admission feed over MLLP: the listener that receives HL7 v2 messages and
//! answers with what the application's feed (`samverka_app::feed`) made of them.

pub mod listener;
