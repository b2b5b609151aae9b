//! Anything a sender can put on the wire: MLLP framing, character set, HL7 parsing, reading
//! the ADT fields, and the answer. Nothing may panic, and every answer Samverka would send
//! must itself parse as HL7.

#![no_main]

use libfuzzer_sys::fuzz_target;
use samverka_domain::hl7::adt::{self, AckCode, Charset, FieldPath, FlagRule, Header};
use samverka_domain::hl7::{ack, mllp};

fuzz_target!(|data: &[u8]| {
    // The framer, fed in uneven pieces.
    let mut framer = mllp::Framer::new(4096);
    for chunk in data.chunks(7) {
        framer.push(chunk);
        while framer.next_frame().is_some() {}
    }

    let now = jiff::Timestamp::from_second(1_795_000_000).unwrap();
    let today = jiff::civil::date(2026, 11, 23);
    let flag = FlagRule { field: FieldPath::parse("ZSV-1").unwrap(), values: vec!["J".into()] };
    let (header, refusal, charset) = match adt::decode(data) {
        Err(r) => (Header::default(), Some(r), Charset::Utf8),
        Ok((text, charset)) => match adt::parse_text(&text) {
            Err(r) => (Header::default(), Some(r), charset),
            Ok(msg) => {
                let header = adt::header(&msg);
                let r = adt::read(&msg, charset, Some(&flag), None, today).err();
                (header, r, charset)
            }
        },
    };
    let code = refusal.as_ref().map(|r| r.ack).unwrap_or(AckCode::AA);
    let answer = ack::build(&header, code, refusal.as_ref(), "fuzz", now, charset);
    let (text, _) = adt::decode(&answer).expect("our answer decodes");
    let parsed = adt::parse_text(&text).expect("our answer parses");
    let msa = parsed.segment("MSA").expect("our answer has MSA");
    assert_eq!(msa.field(1).map(|f| f.raw_value()), Some(code.as_str()));
});
