//! Reading an HL7 v2 ADT message: the character set (MSH-18), the header, and the facts
//! Samverka uses: who the patient is (PID), where they are (PV1) and when things happened.

use hl7_parser::Message;
use hl7_parser::datetime::TimeStamp;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};

use crate::calendar::STOCKHOLM;
use crate::ids::{Kommunkod, PatientIdentifier, ReservnummerRule};

/// HL7 table 0357 (message error condition codes) used in ERR-3.
pub mod error_code {
    pub const SEGMENT_SEQUENCE: &str = "100";
    pub const REQUIRED_FIELD_MISSING: &str = "101";
    pub const DATA_TYPE: &str = "102";
    pub const TABLE_VALUE_NOT_FOUND: &str = "103";
    pub const UNSUPPORTED_MESSAGE_TYPE: &str = "200";
    pub const UNSUPPORTED_EVENT: &str = "201";
    pub const UNSUPPORTED_PROCESSING_ID: &str = "202";
    pub const UNKNOWN_KEY: &str = "204";
    pub const APPLICATION_INTERNAL: &str = "207";
}

/// The character sets Swedish hospital systems send (MSH-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    /// ISO 8859-1 (Latin-1): å ä ö as single bytes.
    Latin1,
}

impl Charset {
    /// The value for MSH-18 in an answer.
    pub fn msh18(self) -> &'static str {
        match self {
            Charset::Utf8 => "UNICODE UTF-8",
            Charset::Latin1 => "8859/1",
        }
    }

    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Charset::Utf8 => text.as_bytes().to_vec(),
            // Characters outside Latin-1 cannot occur in our answers except in echoed
            // text; they become '?', as an 8859/1 receiver could not show them anyway.
            Charset::Latin1 => text.chars().map(|c| if (c as u32) < 256 { c as u8 } else { b'?' }).collect(),
        }
    }
}

/// Why a message was not accepted, for MSA/ERR and for the administrator's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `AR` (the message as such cannot be processed: do not resend it unchanged) or `AE`
    /// (its content could not be applied).
    pub ack: AckCode,
    /// HL7 table 0357.
    pub code: &'static str,
    /// Where, e.g. `PID-3`.
    pub location: Option<&'static str>,
    pub sv: String,
    pub en: String,
}

impl Refusal {
    pub fn reject(
        code: &'static str,
        location: Option<&'static str>,
        sv: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Refusal { ack: AckCode::AR, code, location, sv: sv.into(), en: en.into() }
    }
    pub fn error(
        code: &'static str,
        location: Option<&'static str>,
        sv: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Refusal { ack: AckCode::AE, code, location, sv: sv.into(), en: en.into() }
    }
}

/// MSA-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    AA,
    AE,
    AR,
}

impl AckCode {
    pub fn as_str(self) -> &'static str {
        match self {
            AckCode::AA => "AA",
            AckCode::AE => "AE",
            AckCode::AR => "AR",
        }
    }
}

/// MSH as far as Samverka needs it, and enough to answer even a message it refuses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    pub sending_application: String,
    pub sending_facility: String,
    pub receiving_application: String,
    pub receiving_facility: String,
    /// MSH-9.1, e.g. `ADT`.
    pub message_type: String,
    /// MSH-9.2, e.g. `A01`.
    pub trigger: String,
    /// MSH-10: the sender's id of this message; duplicates carry the same.
    pub control_id: String,
    /// MSH-11: P (production), T (training), D (debugging).
    pub processing_id: String,
    /// MSH-12.
    pub version: String,
}

/// The ADT events Samverka acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdtEvent {
    /// A01 admit (and A04/A05 when configured to count as admissions).
    Admit,
    /// A02 transfer.
    Transfer,
    /// A03 discharge.
    Discharge,
    /// A08 update patient information.
    Update,
    /// A11 cancel admit.
    CancelAdmit,
    /// A13 cancel discharge.
    CancelDischarge,
    /// A04 register an outpatient / A05 pre-admit: only acted on when configured.
    Register,
    PreAdmit,
}

impl AdtEvent {
    pub fn from_trigger(t: &str) -> Option<AdtEvent> {
        Some(match t {
            "A01" => AdtEvent::Admit,
            "A02" => AdtEvent::Transfer,
            "A03" => AdtEvent::Discharge,
            "A04" => AdtEvent::Register,
            "A05" => AdtEvent::PreAdmit,
            "A08" => AdtEvent::Update,
            "A11" => AdtEvent::CancelAdmit,
            "A13" => AdtEvent::CancelDischarge,
            _ => return None,
        })
    }
}

/// The patient as the message describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdtPatient {
    pub identifier: PatientIdentifier,
    pub given_name: String,
    pub family_name: String,
    /// Folkbokföringskommun, from PID-11.9 (county/parish code) or PID-12.
    pub kommun: Option<Kommunkod>,
}

/// The visit (PV1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Visit {
    /// PV1-2: I inpatient, O outpatient, E emergency ...
    pub patient_class: String,
    /// PV1-3.1 (point of care): the ward's code in the hospital system, or its HSA-id.
    pub location: String,
    /// PV1-6.1: where the patient was before a transfer.
    pub prior_location: String,
    /// PV1-44.
    pub admitted_at: Option<Timestamp>,
    /// PV1-45.
    pub discharged_at: Option<Timestamp>,
}

/// A field named the way HL7 people write it, e.g. `PV2-22` or `ZSV-1`: where a hospital puts
/// its "follow up after discharge" flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub segment: String,
    pub field: usize,
}

impl FieldPath {
    pub fn parse(s: &str) -> Option<FieldPath> {
        let (seg, n) = s.trim().split_once(['-', '.'])?;
        let field: usize = n.parse().ok()?;
        let ok = seg.len() == 3 && seg.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        (ok && field > 0 && field < 1000).then(|| FieldPath { segment: seg.to_string(), field })
    }
}

/// How to read the flag: which field, and which values mean "follow up".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagRule {
    pub field: FieldPath,
    pub values: Vec<String>,
}

/// A message read and understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdtMessage {
    pub header: Header,
    pub charset: Charset,
    pub event: AdtEvent,
    /// When it happened: EVN-6 (event occurred), else EVN-2 (recorded), else MSH-7.
    pub occurred_at: Timestamp,
    pub patient: AdtPatient,
    pub visit: Visit,
    /// The message itself says the patient is to be followed up after discharge.
    pub flagged: bool,
}

/// The message as text, decoded by the character set named in MSH-18, and that set. A UTF-8
/// byte-order mark is skipped. Without MSH-18, text that is valid UTF-8 is taken as such and
/// anything else as ISO 8859-1, which is what Swedish senders that leave it out use.
pub fn decode(raw: &[u8]) -> Result<(String, Charset), Refusal> {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    if !raw.starts_with(b"MSH") || raw.len() < 8 {
        return Err(Refusal::reject(
            error_code::SEGMENT_SEQUENCE,
            Some("MSH"),
            "Meddelandet börjar inte med ett MSH-segment.",
            "The message does not start with an MSH segment.",
        ));
    }
    let first_segment = raw.split(|&b| b == b'\r' || b == b'\n').next().unwrap_or(raw);
    let Some(&sep) = first_segment.get(3) else {
        return Err(Refusal::reject(
            error_code::SEGMENT_SEQUENCE,
            Some("MSH"),
            "MSH-segmentet är ofullständigt.",
            "The MSH segment is incomplete.",
        ));
    };
    let msh18 = first_segment.split(|&b| b == sep).nth(17).unwrap_or(b"");
    let msh18 = String::from_utf8_lossy(msh18).trim().to_ascii_uppercase();
    let latin1 = |raw: &[u8]| raw.iter().map(|&b| b as char).collect::<String>();
    match msh18.as_str() {
        "" => Ok(match std::str::from_utf8(raw) {
            Ok(s) => (s.to_string(), Charset::Utf8),
            Err(_) => (latin1(raw), Charset::Latin1),
        }),
        "UNICODE UTF-8" | "UTF-8" | "UNICODE" | "ASCII" => match std::str::from_utf8(raw) {
            Ok(s) => Ok((s.to_string(), Charset::Utf8)),
            Err(_) => Err(Refusal::reject(
                error_code::DATA_TYPE,
                Some("MSH-18"),
                format!("Meddelandet säger att det är {msh18} (MSH-18) men innehåller ogiltiga tecken för det."),
                format!("MSH-18 says {msh18} but the message is not valid in that character set."),
            )),
        },
        "8859/1" | "ISO-8859-1" | "ISO 8859-1" | "ISO_IR 100" => Ok((latin1(raw), Charset::Latin1)),
        other => Err(Refusal::reject(
            error_code::TABLE_VALUE_NOT_FOUND,
            Some("MSH-18"),
            format!("Teckenuppsättningen \"{other}\" (MSH-18) stöds inte. Använd UNICODE UTF-8 eller 8859/1."),
            format!("Character set \"{other}\" (MSH-18) is not supported; use UNICODE UTF-8 or 8859/1."),
        )),
    }
}

/// Whether Samverka takes a message of this kind at all: an ADT message (MSH-9) of an event it
/// handles, with a known processing id (MSH-11). Asked first, before anything about the
/// message's identity, so the reason given is the first that applies.
pub fn screen(msg: &Message<'_>) -> Result<AdtEvent, Refusal> {
    let header = header(msg);
    if header.message_type != "ADT" {
        return Err(Refusal::reject(
            error_code::UNSUPPORTED_MESSAGE_TYPE,
            Some("MSH-9"),
            format!("Meddelandetypen \"{}\" tas inte emot; Samverka tar emot ADT.", header.message_type),
            format!("Message type \"{}\" is not accepted; Samverka accepts ADT.", header.message_type),
        ));
    }
    let evn1 =
        || msg.segment("EVN").and_then(|s| s.field(1)).map(|f| f.raw_value().trim().to_string()).unwrap_or_default();
    let trigger = if header.trigger.is_empty() { evn1() } else { header.trigger.clone() };
    let Some(event) = AdtEvent::from_trigger(&trigger) else {
        return Err(Refusal::reject(
            error_code::UNSUPPORTED_EVENT,
            Some("MSH-9"),
            format!("Händelsen ADT^{trigger} hanteras inte. Samverka hanterar A01–A05, A08, A11 och A13."),
            format!("Event ADT^{trigger} is not handled."),
        ));
    };
    if !matches!(header.processing_id.as_str(), "P" | "T" | "D" | "") {
        return Err(Refusal::reject(
            error_code::UNSUPPORTED_PROCESSING_ID,
            Some("MSH-11"),
            format!("Bearbetnings-id \"{}\" (MSH-11) är okänt.", header.processing_id),
            format!("Unknown processing id \"{}\".", header.processing_id),
        ));
    }
    Ok(event)
}

/// Reads the header; on its own so that even a message refused later can be answered.
pub fn header(msg: &Message<'_>) -> Header {
    let Some(msh) = msg.segment("MSH") else { return Header::default() };
    let text = |n: usize| msh.field(n).map(|f| f.raw_value().to_string()).unwrap_or_default();
    let comp = |n: usize, c: usize| {
        msh.field(n).and_then(|f| f.component(c)).map(|x| x.raw_value().to_string()).unwrap_or_default()
    };
    Header {
        sending_application: comp(3, 1),
        sending_facility: comp(4, 1),
        receiving_application: comp(5, 1),
        receiving_facility: comp(6, 1),
        message_type: comp(9, 1),
        trigger: comp(9, 2),
        control_id: text(10),
        processing_id: comp(11, 1),
        version: comp(12, 1),
    }
}

/// Parses the text of a message (segments separated by CR, or by LF from files).
pub fn parse_text(text: &str) -> Result<Message<'_>, Refusal> {
    Message::parse_with_lenient_newlines(text.trim_end_matches(['\r', '\n']), true).map_err(|e| {
        Refusal::reject(
            error_code::SEGMENT_SEQUENCE,
            None,
            format!("Meddelandet går inte att tolka som HL7 v2: {e}"),
            format!("The message cannot be parsed as HL7 v2: {e}"),
        )
    })
}

/// Reads what Samverka needs from an ADT message. `today` decides which century a ten-digit
/// personnummer belongs to.
pub fn read(
    msg: &Message<'_>,
    charset: Charset,
    flag: Option<&FlagRule>,
    reserv: Option<&ReservnummerRule>,
    today: Date,
) -> Result<AdtMessage, Refusal> {
    let header = header(msg);
    let seps = msg.separators;
    let value = |seg: &str, field: usize, comp: usize| -> String {
        msg.segment(seg)
            .and_then(|s| s.field(field))
            .and_then(|f| f.repeat(1))
            .and_then(|r| r.component(comp))
            .map(|c| unescape(c.raw_value(), &seps).trim().to_string())
            .unwrap_or_default()
    };
    if header.control_id.trim().is_empty() {
        return Err(Refusal::reject(
            error_code::REQUIRED_FIELD_MISSING,
            Some("MSH-10"),
            "Meddelandet saknar kontroll-id (MSH-10), så dubbletter kan inte kännas igen.",
            "MSH-10 (message control id) is missing.",
        ));
    }
    let event = screen(msg)?;

    let time = |seg: &str, field: usize, name: &'static str| -> Result<Option<Timestamp>, Refusal> {
        let raw = value(seg, field, 1);
        if raw.is_empty() {
            return Ok(None);
        }
        parse_time(&raw).map(Some).ok_or_else(|| {
            Refusal::error(
                error_code::DATA_TYPE,
                Some(name),
                format!("Tidpunkten \"{raw}\" i {name} är ogiltig. Ange ÅÅÅÅMMDDTTMM[SS][+/-ZZZZ]."),
                format!("The time \"{raw}\" in {name} is invalid."),
            )
        })
    };
    let occurred_at = match time("EVN", 6, "EVN-6")? {
        Some(t) => t,
        None => match time("EVN", 2, "EVN-2")? {
            Some(t) => t,
            // HL7's DTM lets the message time be a date alone: then the start of that day.
            None => match time("MSH", 7, "MSH-7") {
                Err(_) => parse_day(&value("MSH", 7, 1)).map(Some).ok_or_else(|| {
                    Refusal::error(
                        error_code::DATA_TYPE,
                        Some("MSH-7"),
                        format!(
                            "Tidpunkten \"{}\" i MSH-7 är ogiltig. Ange ÅÅÅÅMMDD[TTMM[SS]][+/-ZZZZ].",
                            value("MSH", 7, 1)
                        ),
                        "The time in MSH-7 is invalid.",
                    )
                })?,
                Ok(t) => t,
            }
            .ok_or_else(|| {
                Refusal::error(
                    error_code::REQUIRED_FIELD_MISSING,
                    Some("EVN-2"),
                    "Meddelandet saknar tidpunkt (EVN-2 eller MSH-7).",
                    "The message has no time (EVN-2 or MSH-7).",
                )
            })?,
        },
    };

    let patient = read_patient(msg, reserv, today)?;
    let visit = Visit {
        patient_class: value("PV1", 2, 1),
        location: value("PV1", 3, 1),
        prior_location: value("PV1", 6, 1),
        admitted_at: time("PV1", 44, "PV1-44")?,
        discharged_at: time("PV1", 45, "PV1-45")?,
    };
    let flagged = flag.is_some_and(|rule| {
        msg.segment(&rule.field.segment).and_then(|s| s.field(rule.field.field)).is_some_and(|f| {
            f.repeats().any(|r| {
                let v = r.component(1).map(|c| c.raw_value().trim()).unwrap_or("");
                rule.values.iter().any(|want| want.eq_ignore_ascii_case(v))
            })
        })
    });
    Ok(AdtMessage { header, charset, event, occurred_at, patient, visit, flagged })
}

/// OIDs for Swedish identifiers in CX-4 (assigning authority).
const OID_PERSONNUMMER: &str = "1.2.752.129.2.1.3.1";
const OID_SAMORDNINGSNUMMER: &str = "1.2.752.129.2.1.3.3";

fn read_patient(msg: &Message<'_>, reserv: Option<&ReservnummerRule>, today: Date) -> Result<AdtPatient, Refusal> {
    let seps = msg.separators;
    let Some(pid) = msg.segment("PID") else {
        return Err(Refusal::error(
            error_code::SEGMENT_SEQUENCE,
            Some("PID"),
            "Meddelandet saknar PID-segment (patienten).",
            "The message has no PID segment.",
        ));
    };
    // PID-3 may repeat: the hospital's own number, then the personnummer. Take the first
    // repetition that is a valid Swedish identifier; a marked one (type PN/NNSWE or the
    // Swedish OIDs) that is *not* valid is an error rather than silently skipped.
    let mut identifier = None;
    let mut marked_invalid = None;
    for rep in pid.field(3).into_iter().flat_map(|f| f.repeats()) {
        let id = rep.component(1).map(|c| unescape(c.raw_value(), &seps)).unwrap_or_default();
        let authority = rep.component(4).map(|c| c.raw_value()).unwrap_or("");
        let kind = rep.component(5).map(|c| c.raw_value()).unwrap_or("");
        let marked = matches!(kind, "PN" | "NNSWE" | "NI")
            || authority.contains(OID_PERSONNUMMER)
            || authority.contains(OID_SAMORDNINGSNUMMER);
        match PatientIdentifier::parse(id.trim(), today, reserv) {
            Ok(p) => {
                identifier = Some(p);
                break;
            }
            Err(_) if marked => marked_invalid = Some(id),
            Err(_) => {}
        }
    }
    let identifier = match (identifier, marked_invalid) {
        (Some(id), _) => id,
        (None, Some(bad)) => {
            return Err(Refusal::error(
                error_code::DATA_TYPE,
                Some("PID-3"),
                format!("\"{bad}\" i PID-3 är inget giltigt personnummer eller samordningsnummer."),
                format!("\"{bad}\" in PID-3 is not a valid personnummer or samordningsnummer."),
            ));
        }
        (None, None) => {
            return Err(Refusal::error(
                error_code::UNKNOWN_KEY,
                Some("PID-3"),
                "PID-3 innehåller inget personnummer, samordningsnummer eller reservnummer.",
                "PID-3 holds no Swedish personal identity number.",
            ));
        }
    };
    let name = |c: usize| {
        pid.field(5)
            .and_then(|f| f.repeat(1))
            .and_then(|r| r.component(c))
            .map(|x| unescape(x.raw_value(), &seps).trim().to_string())
            .unwrap_or_default()
    };
    let kommun_text = pid
        .field(11)
        .and_then(|f| f.repeat(1))
        .and_then(|r| r.component(9))
        .map(|c| c.raw_value().trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| pid.field(12).map(|f| f.raw_value().trim().to_string()).filter(|s| !s.is_empty()));
    let kommun = match kommun_text {
        None => None,
        Some(k) => Some(Kommunkod::parse(&k).map_err(|_| {
            Refusal::error(
                error_code::TABLE_VALUE_NOT_FOUND,
                Some("PID-11"),
                format!("\"{k}\" (PID-11.9/PID-12) är ingen kommunkod. Ange folkbokföringskommunens fyrsiffriga kod."),
                format!("\"{k}\" is not a Swedish kommunkod."),
            )
        })?),
    };
    Ok(AdtPatient { identifier, family_name: name(1), given_name: name(2), kommun })
}

/// Replaces HL7 escape sequences (`\F\`, `\S\`, `\T\`, `\R\`, `\E\`, `\X0D\`, `\X0A\`, `\.br\`)
/// with what they stand for; formatting sequences (`\H\`, `\N\` ...) are dropped. Written here
/// because hl7-parser 0.3's decoder slices by character count and panics on non-ASCII text
/// (found by fuzzing).
pub fn unescape(raw: &str, seps: &hl7_parser::message::Separators) -> String {
    let esc = seps.escape;
    if !raw.contains(esc) {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find(esc) {
        out.push_str(&rest[..start]);
        let after = &rest[start + esc.len_utf8()..];
        let Some(end) = after.find(esc) else {
            // An escape character with no partner is taken literally.
            out.push_str(&rest[start..]);
            return out;
        };
        match &after[..end] {
            "F" => out.push(seps.field),
            "S" => out.push(seps.component),
            "T" => out.push(seps.subcomponent),
            "R" => out.push(seps.repetition),
            "E" => out.push(esc),
            "X0D" | "X0d" | ".br" => out.push('\r'),
            "X0A" | "X0a" => out.push('\n'),
            _ => {}
        }
        rest = &after[end + esc.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// An HL7 DTM (`YYYYMMDDHHMM[SS[.S...]][+/-ZZZZ]`) as an instant. Without an offset the time
/// is Swedish local time. Dates without a time of day are refused: Samverka counts hours.
/// A DTM of a date alone (`YYYYMMDD`, perhaps with an offset): the start of that day in Sweden.
pub fn parse_day(raw: &str) -> Option<Timestamp> {
    let digits = raw.split(['+', '-']).next()?;
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = jiff::civil::Date::new(digits[..4].parse().ok()?, digits[4..6].parse().ok()?, digits[6..].parse().ok()?)
        .ok()?;
    Some(crate::calendar::start_of_day(day))
}

pub fn parse_time(raw: &str) -> Option<Timestamp> {
    let ts: TimeStamp = raw.parse().ok()?;
    let (month, day, hour, minute) = (ts.month?, ts.day?, ts.hour?, ts.minute?);
    let second = ts.second.unwrap_or(0);
    let nanos = ts.microsecond.unwrap_or(0).checked_mul(1000)?;
    let civil = DateTime::new(
        i16::try_from(ts.year).ok()?,
        month as i8,
        day as i8,
        hour as i8,
        minute as i8,
        second as i8,
        nanos as i32,
    )
    .ok()?;
    match ts.offset {
        Some(off) => {
            let sign = if off.hours < 0 { -1 } else { 1 };
            let secs = sign * (i32::from(off.hours).abs() * 3600 + i32::from(off.minutes) * 60);
            let offset = jiff::tz::Offset::from_seconds(secs).ok()?;
            offset.to_timestamp(civil).ok()
        }
        None => civil.to_zoned_datetime(STOCKHOLM.clone()).ok().map(|z| z.timestamp()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_and_without_offset() {
        assert_eq!(parse_time("202611230830+0100").unwrap().to_string(), "2026-11-23T07:30:00Z");
        // Local Swedish time: winter UTC+1, summer UTC+2.
        assert_eq!(parse_time("20261123083000").unwrap().to_string(), "2026-11-23T07:30:00Z");
        assert_eq!(parse_time("20260623083000").unwrap().to_string(), "2026-06-23T06:30:00Z");
        assert_eq!(parse_time("20261123").map(|t| t.to_string()), None, "a date alone has no hour");
        assert_eq!(parse_day("20261123").unwrap().to_string(), "2026-11-22T23:00:00Z", "a day starts at midnight here");
        assert_eq!(parse_day("2026112"), None);
        assert_eq!(parse_day("20261132"), None);
        assert_eq!(parse_time("20261340083000"), None);
        assert_eq!(parse_time("garbage"), None);
    }

    #[test]
    fn escapes_are_undone_in_any_text() {
        let seps = hl7_parser::message::Separators::default();
        assert_eq!(unescape(r"Åsa\S\Öberg \T\ Co\F\x\E\y", &seps), "Åsa^Öberg & Co|x\\y");
        assert_eq!(unescape(r"rad\.br\två\H\fet\N\", &seps), "rad\rtvåfet");
        assert_eq!(unescape(r"ÅÄÖ\S", &seps), r"ÅÄÖ\S", "an unpaired escape is literal");
        // Found by fuzzing: an odd escape character next to non-ASCII text.
        let odd = hl7_parser::message::Separators { escape: '0', ..seps };
        assert_eq!(unescape("2026ÏÍÌ×183001", &odd), "201");
    }

    #[test]
    fn field_paths() {
        assert_eq!(FieldPath::parse("PV2-22"), Some(FieldPath { segment: "PV2".into(), field: 22 }));
        assert_eq!(FieldPath::parse("ZSV.1"), Some(FieldPath { segment: "ZSV".into(), field: 1 }));
        assert_eq!(FieldPath::parse("pv2-22"), None);
        assert_eq!(FieldPath::parse("PV2-0"), None);
        assert_eq!(FieldPath::parse("PV2"), None);
    }

    #[test]
    fn latin1_and_utf8_are_told_apart() {
        let latin = b"MSH|^~\\&|A|B|C|D|20261123||ADT^A01|1|P|2.5|||||SWE|8859/1\rPID|||x||\xC5sa^\xD6berg";
        let (text, cs) = decode(latin).unwrap();
        assert_eq!(cs, Charset::Latin1);
        assert!(text.contains("Åsa^Öberg"));
        let utf = "MSH|^~\\&|A|B|C|D|20261123||ADT^A01|1|P|2.5|||||SWE|UNICODE UTF-8\rPID|||x||Åsa^Öberg";
        assert_eq!(decode(utf.as_bytes()).unwrap(), (utf.to_string(), Charset::Utf8));
        // Says UTF-8, is not.
        let lie = b"MSH|^~\\&|A|B|C|D|20261123||ADT^A01|1|P|2.5|||||SWE|UNICODE UTF-8\rPID|||x||\xC5sa";
        assert_eq!(decode(lie).unwrap_err().location, Some("MSH-18"));
        let odd = b"MSH|^~\\&|A|B|C|D|20261123||ADT^A01|1|P|2.5|||||SWE|8859/7\r";
        assert_eq!(decode(odd).unwrap_err().code, error_code::TABLE_VALUE_NOT_FOUND);
        assert!(decode(b"PID|1").is_err());
        // Found by fuzzing: a segment break right after "MSH".
        assert!(decode(b"MSH\rPID|1|2|3").is_err());
    }
}
