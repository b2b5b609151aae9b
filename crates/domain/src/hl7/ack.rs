//! The acknowledgement (ACK) Samverka answers every message with.

use hl7_parser::message::Separators;
use jiff::Timestamp;

use super::adt::{AckCode, Charset, Header, Refusal};
use crate::calendar::local;

/// Samverka's name in MSH-3 of its answers.
pub const APPLICATION: &str = "Samverka";

/// Builds an ACK for `header` (as far as it could be read). `control_id` is the ACK's own
/// MSH-10. The text is escaped, so a reason containing `|` or `^` cannot break the answer.
pub fn build(
    header: &Header,
    code: AckCode,
    refusal: Option<&Refusal>,
    control_id: &str,
    now: Timestamp,
    charset: Charset,
) -> Vec<u8> {
    let seps = Separators::default();
    let esc = |s: &str| seps.encode(&s.replace(['\r', '\n'], " ")).to_string();
    let version = if header.version.is_empty() { "2.5".to_string() } else { esc(&header.version) };
    let processing = if header.processing_id.is_empty() { "P".to_string() } else { esc(&header.processing_id) };
    let trigger = esc(&header.trigger);
    let when = local(now).strftime("%Y%m%d%H%M%S%z").to_string();
    let receiving_app =
        if header.receiving_application.is_empty() { APPLICATION } else { &header.receiving_application };
    let mut out = format!(
        "MSH|^~\\&|{}|{}|{}|{}|{when}||ACK^{trigger}^ACK|{}|{processing}|{version}|||||SWE|{}\r",
        esc(receiving_app),
        esc(&header.receiving_facility),
        esc(&header.sending_application),
        esc(&header.sending_facility),
        esc(control_id),
        charset.msh18(),
    );
    let text = refusal.map(|r| esc(&r.sv)).unwrap_or_default();
    out.push_str(&format!("MSA|{}|{}|{text}\r", code.as_str(), esc(&header.control_id)));
    if let Some(r) = refusal {
        // ERR-2 location, ERR-3 the code from table 0357, ERR-4 severity, ERR-8 the text
        // for a person (Swedish), ERR-7 the English diagnostic.
        let location = r.location.map(|l| l.replace('-', "^")).unwrap_or_default();
        out.push_str(&format!("ERR||{location}|{}^{}^HL70357|E|||{}|{}\r", r.code, esc(&r.en), esc(&r.en), esc(&r.sv)));
    }
    charset.encode(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hl7::adt::{error_code, parse_text};

    fn header() -> Header {
        Header {
            sending_application: "Cosmic".into(),
            sending_facility: "KS".into(),
            receiving_application: "".into(),
            receiving_facility: "".into(),
            message_type: "ADT".into(),
            trigger: "A01".into(),
            control_id: "MSG-7".into(),
            processing_id: "P".into(),
            version: "2.5".into(),
        }
    }

    #[test]
    fn an_error_answer_reads_back_with_its_reason_intact() {
        let refusal = Refusal::error(
            error_code::DATA_TYPE,
            Some("PID-3"),
            "Fel i PID-3: \"x|y^z\" är inget personnummer",
            "bad id",
        );
        let now: Timestamp = "2026-11-23T07:30:00Z".parse().unwrap();
        let bytes = build(&header(), AckCode::AE, Some(&refusal), "ACK-1", now, Charset::Utf8);
        let text = String::from_utf8(bytes).unwrap();
        let msg = parse_text(&text).unwrap();
        let msh = msg.segment("MSH").unwrap();
        assert_eq!(msh.field(5).unwrap().raw_value(), "Cosmic");
        assert_eq!(msh.field(7).unwrap().raw_value(), "20261123083000+0100");
        assert_eq!(msh.field(9).unwrap().raw_value(), "ACK^A01^ACK");
        let msa = msg.segment("MSA").unwrap();
        assert_eq!(msa.field(1).unwrap().raw_value(), "AE");
        assert_eq!(msa.field(2).unwrap().raw_value(), "MSG-7");
        let shown = crate::hl7::adt::unescape(msa.field(3).unwrap().raw_value(), &msg.separators);
        assert_eq!(shown, "Fel i PID-3: \"x|y^z\" är inget personnummer");
        let err = msg.segment("ERR").unwrap();
        assert_eq!(err.field(3).unwrap().component(1).unwrap().raw_value(), "102");
        assert_eq!(err.field(2).unwrap().raw_value(), "PID^3");
    }

    #[test]
    fn a_latin1_sender_gets_a_latin1_answer() {
        let refusal = Refusal::error(error_code::DATA_TYPE, None, "Åsa Öberg", "x");
        let now: Timestamp = "2026-11-23T07:30:00Z".parse().unwrap();
        let bytes = build(&header(), AckCode::AE, Some(&refusal), "A", now, Charset::Latin1);
        assert!(bytes.windows(3).any(|w| w == b"\xC5sa"));
        assert!(String::from_utf8(bytes).is_err());
    }
}
