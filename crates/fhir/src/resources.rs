//! Samverka's things as HL7 FHIR R4 resources, on the Swedish base profiles' identifier
//! systems. Only what Samverka serves is mapped; every resource the tests emit is checked by an
//! independent FHIR implementation (`fhir.resources` from PyPI).

use jiff::Timestamp;
use samverka_domain::action::Action;
use samverka_domain::actor::{UnitRef, UserRef};
use samverka_domain::case::{Case, Phase};
use samverka_domain::consent::{ConsentGiver, ConsentKind, ConsentRecord};
use samverka_domain::deadlines::{Deadline, DeadlineStatus};
use samverka_domain::ids::PatientIdentifier;
use samverka_domain::message::MessageState;
use samverka_domain::org::{Organisation, OrganisationKind, Unit};
use samverka_domain::patient::{Patient, ProtectedIdentity};
use samverka_domain::round::RoundNoteRecord;
use samverka_domain::screening::ScreeningRecord;
use samverka_domain::sip::SipVersion;
use serde_json::{Value, json};

pub const PERSONNUMMER: &str = "http://electronichealth.se/identifier/personnummer";
pub const SAMORDNINGSNUMMER: &str = "http://electronichealth.se/identifier/samordningsnummer";
/// Reservnummer are regional; HL7 Sweden names no system for them.
pub const RESERVNUMMER: &str = "urn:samverka:identifier:reservnummer";
pub const HSA_ID: &str = "urn:oid:1.2.752.29.4.19";
/// HL7 Sweden's security labels for protected identity.
pub const SE_SECURITY_LABEL: &str = "http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// Samverka's own code systems (message kinds, steps).
pub const MESSAGE_KIND: &str = "urn:samverka:CodeSystem:message-kind";
pub const STEP: &str = "urn:samverka:CodeSystem:lus-step";
pub const CONSENT_KIND: &str = "urn:samverka:CodeSystem:consent-kind";
/// What a screening judges: frailty, the need for coordination and its facts.
pub const SCREENING: &str = "urn:samverka:CodeSystem:screening";
/// Samverka's codes for a joint round's note and its parts.
pub const ROUND: &str = "urn:samverka:CodeSystem:round";
/// The case (EpisodeOfCare) a consent was recorded in.
pub const EPISODE_EXTENSION: &str = "urn:samverka:StructureDefinition:episode-of-care";
/// What the reading caller may do to the case now (`Case::available`), one extension each.
pub const AVAILABLE_ACTION: &str = "urn:samverka:StructureDefinition:available-action";
/// The HL7 Sweden base profiles (hl7se.fhir.base) the resources claim and meet.
pub const PATIENT_PROFILE: &str = "http://hl7.se/fhir/ig/base/StructureDefinition/SEBasePatient";
pub const ORGANIZATION_PROFILE: &str = "http://hl7.se/fhir/ig/base/StructureDefinition/SEBaseOrganization";
pub const PRACTITIONER_PROFILE: &str = "http://hl7.se/fhir/ig/base/StructureDefinition/SEBasePractitioner";
pub const PRACTITIONER_ROLE_PROFILE: &str = "http://hl7.se/fhir/ig/base/StructureDefinition/SEBasePractitionerRole";
/// RFC 3986 identifiers (`urn:uuid:…`): how a client names a new resource so a retry is safe.
pub const URI_SYSTEM: &str = "urn:ietf:rfc:3986";
/// A message's content as Samverka's JSON API has it (`MessageBody`).
pub const MESSAGE_BODY_TYPE: &str = "application/json";

fn uuid_identifier(id: impl std::fmt::Display) -> Value {
    json!([{ "system": URI_SYSTEM, "value": format!("urn:uuid:{id}") }])
}

/// A time to the second, as Samverka's FHIR resources give it (and search compares it).
pub fn to_second(t: Timestamp) -> Timestamp {
    t.round(jiff::Unit::Second).unwrap_or(t)
}

pub fn instant(t: &Timestamp) -> String {
    // FHIR instants need seconds and a zone; jiff prints RFC 3339 in UTC.
    to_second(*t).to_string()
}

fn meta(updated: &Timestamp) -> Value {
    json!({ "lastUpdated": instant(updated) })
}

/// An HSA-id as the HL7 Sweden base profiles have it (identifier slice `hsaid`, type PRN).
fn hsa_identifier(value: &str) -> Value {
    json!({
        "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PRN", "display": "Provider number" }] },
        "system": HSA_ID,
        "value": value,
    })
}

pub fn identifier_system(id: &PatientIdentifier) -> &'static str {
    match id {
        PatientIdentifier::Personnummer(_) => PERSONNUMMER,
        PatientIdentifier::Samordningsnummer(_) => SAMORDNINGSNUMMER,
        PatientIdentifier::Reservnummer(_) => RESERVNUMMER,
    }
}

pub fn reference(kind: &str, id: impl std::fmt::Display, display: &str) -> Value {
    if display.is_empty() {
        json!({ "reference": format!("{kind}/{id}") })
    } else {
        json!({ "reference": format!("{kind}/{id}"), "display": display })
    }
}

pub fn unit_reference(u: &UnitRef) -> Value {
    json!({
        "reference": format!("Organization/{}", u.id),
        "identifier": { "system": HSA_ID, "value": u.hsa_id.as_str() },
        "display": u.name,
    })
}

fn user_reference(u: &UserRef) -> Value {
    reference("Practitioner", u.id, &u.name)
}

/// Patient (HL7 Sweden's SEBasePatient). A protected identity carries the security labels and
/// no address. `updated`: when the record last changed.
pub fn patient(p: &Patient, updated: Option<&Timestamp>) -> Value {
    let mut meta = json!({ "profile": [PATIENT_PROFILE] });
    if let Some(t) = updated {
        meta["lastUpdated"] = json!(instant(t));
    }
    if p.protection.is_protected() {
        let code = match p.protection {
            ProtectedIdentity::SkyddadFolkbokforing => ("skyddadFolkbokforing", "Skyddad folkbokföring"),
            _ => ("sekretessmarkering", "Sekretessmarkering"),
        };
        meta["security"] = json!([
            { "system": ACT_CODE, "code": "DEMO", "display": "all demographic information sensitivity" },
            { "system": SE_SECURITY_LABEL, "code": code.0, "display": code.1 },
        ]);
    }
    let mut r = json!({
        "resourceType": "Patient",
        "id": p.id.to_string(),
        "meta": meta,
        "identifier": [{ "use": "official", "system": identifier_system(&p.identifier), "value": p.identifier.value() }],
        "active": true,
        "name": [{ "use": "official", "family": p.family_name, "given": [p.given_name] }],
    });
    if let PatientIdentifier::Personnummer(pnr) = &p.identifier {
        r["gender"] = json!(if pnr.is_male() { "male" } else { "female" });
        r["birthDate"] = json!(pnr.birth_date().to_string());
    }
    if let Some(a) = p.visible_address() {
        r["address"] = json!([{ "use": "home", "type": "physical", "line": [a.street], "postalCode": a.postal_code, "city": a.city, "district": p.kommun.as_str(), "country": "SE" }]);
    }
    if let Some(listed) = p.listed_unit {
        r["generalPractitioner"] = json!([reference("Organization", listed, "")]);
    }
    r
}

/// An organisation (region, kommun, private provider) as a FHIR Organization.
pub fn organisation(o: &Organisation) -> Value {
    let kind = match o.kind {
        OrganisationKind::Region => ("govt", "Region"),
        OrganisationKind::Kommun => ("govt", "Kommun"),
        OrganisationKind::PrivateProvider => ("prov", "Privat vårdgivare"),
    };
    let mut r = json!({
        "resourceType": "Organization",
        "id": o.id.to_string(),
        "meta": { "profile": [ORGANIZATION_PROFILE] },
        "active": true,
        "type": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": kind.0 }], "text": kind.1 }],
        "name": o.name,
    });
    if let Some(h) = &o.hsa_id {
        r["identifier"] = json!([hsa_identifier(h.as_str())]);
    }
    r
}

/// A unit (ward, vårdcentral, biståndsenhet …) as an Organization that is part of its
/// organisation, with its telecom from the address entry.
pub fn unit(u: &Unit, kind_sv: &str) -> Value {
    let mut telecom = vec![];
    if let Some(p) = &u.address.phone {
        telecom.push(json!({ "system": "phone", "value": p, "use": "work" }));
    }
    if let Some(m) = &u.address.functional_mailbox {
        telecom.push(json!({ "system": "email", "value": m, "use": "work" }));
    }
    let mut r = json!({
        "resourceType": "Organization",
        "id": u.id.to_string(),
        "meta": { "profile": [ORGANIZATION_PROFILE] },
        "identifier": [hsa_identifier(u.hsa_id.as_str())],
        "active": true,
        "type": [{ "text": kind_sv }],
        "name": u.name,
        "partOf": reference("Organization", u.organisation_id, ""),
    });
    if !telecom.is_empty() {
        r["telecom"] = json!(telecom);
    }
    r
}

fn episode_status(case: &Case) -> &'static str {
    match case.phase() {
        Phase::AwaitingAssessment => "planned",
        Phase::Closed => "finished",
        Phase::Cancelled => "cancelled",
        _ => "active",
    }
}

/// An action the caller may take, as a complex extension: `action` (the domain's name, e.g.
/// `send`, `acknowledge`), the message `kind` of a send, and the message or consent it concerns.
fn available_action(a: &Action) -> Value {
    let parts: Vec<Value> = match serde_json::to_value(a) {
        Ok(Value::Object(fields)) => fields
            .into_iter()
            .filter_map(|(k, v)| {
                let v = v.as_str()?.to_string();
                Some(match k.as_str() {
                    "message_id" | "corrects" => {
                        json!({ "url": k, "valueReference": { "reference": format!("Communication/{v}") } })
                    }
                    "consent_id" => json!({ "url": k, "valueReference": { "reference": format!("Consent/{v}") } }),
                    _ => json!({ "url": k, "valueCode": v }),
                })
            })
            .collect(),
        _ => vec![],
    };
    json!({ "url": AVAILABLE_ACTION, "extension": parts })
}

/// The case as an EpisodeOfCare: from admission until the case is closed, with what the
/// reading caller may do to it now.
pub fn episode_of_care(case: &Case, available: &[Action]) -> Value {
    let mut period = json!({ "start": instant(&case.admitted_at) });
    if let Some(c) = &case.closed {
        period["end"] = json!(instant(&c.at));
    } else if let Some(c) = &case.cancelled {
        period["end"] = json!(instant(&c.stamp.at));
    }
    let mut r = json!({
        "resourceType": "EpisodeOfCare",
        "id": case.id.to_string(),
        "meta": meta(&case.updated_at),
        "status": episode_status(case),
        "type": [{ "coding": [episode_kind(case)], "text": case.phase().label_sv() }],
        "patient": reference("Patient", case.patient_id, ""),
        "managingOrganization": unit_reference(case.ward()),
        "period": period,
    });
    if !available.is_empty() {
        r["extension"] = json!(available.iter().map(available_action).collect::<Vec<_>>());
    }
    r
}

/// What the episode coordinates: a discharge under LUS, or a SIP at home.
fn episode_kind(case: &Case) -> Value {
    if case.home.is_some() {
        json!({ "system": STEP, "code": "home", "display": "Samordnad individuell plan i hemmet (SIP)" })
    } else {
        json!({ "system": STEP, "code": "lus", "display": "Samverkan vid utskrivning (LUS)" })
    }
}

/// The hospital stay as an Encounter: inpatient, with the wards in order.
pub fn encounter(case: &Case) -> Value {
    let status = match (case.discharged_at, case.cancelled.is_some()) {
        (_, true) => "cancelled",
        (Some(_), _) => "finished",
        (None, _) => "in-progress",
    };
    let mut period = json!({ "start": instant(&case.admitted_at) });
    if let Some(d) = &case.discharged_at {
        period["end"] = json!(instant(d));
    }
    let locations: Vec<Value> = case
        .wards
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let end = case.wards.get(i + 1).map(|n| n.from).or(case.discharged_at);
            let mut p = json!({ "start": instant(&w.from) });
            if let Some(e) = end {
                p["end"] = json!(instant(&e));
            }
            json!({ "location": { "display": w.ward.name }, "status": if end.is_some() { "completed" } else { "active" }, "period": p })
        })
        .collect();
    json!({
        "resourceType": "Encounter",
        "id": case.id.to_string(),
        "meta": meta(&case.updated_at),
        "status": status,
        "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient encounter" },
        "subject": reference("Patient", case.patient_id, ""),
        "episodeOfCare": [reference("EpisodeOfCare", case.id, "")],
        "period": period,
        "location": locations,
        "serviceProvider": unit_reference(case.ward()),
    })
}

/// A message as a Communication. Per recipient, when it was opened and acknowledged
/// (Samverka's receipts) are given as extensions, since Communication has one `received`.
pub fn communication(case: &Case, m: &MessageState, summary_sv: &str) -> Value {
    let msg = &m.message;
    let receipts: Vec<Value> = m
        .receipts
        .iter()
        .map(|r| {
            let mut ext = vec![json!({ "url": "unit", "valueReference": unit_reference(&r.unit) })];
            if let Some(d) = r.delivered_at {
                ext.push(json!({ "url": "delivered", "valueDateTime": instant(&d) }));
            }
            if let Some(o) = &r.opened {
                ext.push(json!({ "url": "opened", "valueDateTime": instant(&o.at) }));
            }
            if let Some(a) = &r.acknowledged {
                ext.push(json!({ "url": "acknowledged", "valueDateTime": instant(&a.at) }));
            }
            json!({ "url": "urn:samverka:StructureDefinition:receipt", "extension": ext })
        })
        .collect();
    use base64::Engine as _;
    let content = serde_json::to_vec(&msg.body).unwrap_or_default();
    let mut r = json!({
        "resourceType": "Communication",
        "id": msg.id.to_string(),
        "meta": meta(&case.updated_at),
        "identifier": uuid_identifier(msg.id),
        "status": "completed",
        "category": [{ "coding": [{ "system": MESSAGE_KIND, "code": msg.body.kind().as_str() }], "text": msg.body.kind().label_sv() }],
        "subject": reference("Patient", case.patient_id, ""),
        "encounter": reference("Encounter", case.id, ""),
        "sent": instant(&m.sent.at),
        "recipient": msg.recipients.iter().map(unit_reference).collect::<Vec<_>>(),
        "sender": unit_reference(&msg.sender),
        "payload": [
            { "contentString": summary_sv },
            { "contentAttachment": {
                "contentType": MESSAGE_BODY_TYPE,
                "data": base64::engine::general_purpose::STANDARD.encode(content),
                "title": "Meddelandets innehåll",
            } },
        ],
    });
    if !receipts.is_empty() {
        r["extension"] = json!(receipts);
    }
    if let Some(old) = msg.corrects {
        r["inResponseTo"] = json!([reference("Communication", old, "")]);
    }
    r
}

/// A deadline of a step as a Task owned by the unit that must act.
pub fn task(case: &Case, d: &Deadline, owner: Option<&UnitRef>, what_sv: &str) -> Value {
    let status = match d.status {
        DeadlineStatus::Met | DeadlineStatus::MetLate => "completed",
        _ if !case.phase().is_open() => "cancelled",
        _ => "requested",
    };
    let mut r = json!({
        "resourceType": "Task",
        "id": format!("{}-{}", case.id, d.kind.as_str().replace('_', "-")),
        "meta": meta(&case.updated_at),
        "status": status,
        "intent": "order",
        "code": { "coding": [{ "system": STEP, "code": d.kind.as_str(), "display": what_sv }], "text": what_sv },
        "description": d.rule_sv,
        "focus": reference("EpisodeOfCare", case.id, ""),
        "for": reference("Patient", case.patient_id, ""),
        "authoredOn": instant(&case.admitted_at),
        "restriction": { "period": { "end": instant(&d.due) } },
    });
    if let Some(o) = owner {
        r["owner"] = unit_reference(o);
    }
    if let Some(met) = d.met_at {
        r["executionPeriod"] = json!({ "end": instant(&met) });
        r["lastModified"] = json!(instant(&met));
    }
    r
}

/// The current SIP version as a CarePlan.
pub fn care_plan(case: &Case, v: &SipVersion) -> Value {
    let status = if case.sip.closed_at.is_some() { "completed" } else { "active" };
    let plan = &v.plan;
    let activities: Vec<Value> = plan
        .insatser
        .iter()
        .map(|i| json!({ "detail": { "status": "in-progress", "description": i.description } }))
        .collect();
    let mut r = json!({
        "resourceType": "CarePlan",
        "id": case.id.to_string(),
        // A case's resources change together with the case (and are searched so).
        "meta": { "lastUpdated": instant(&case.updated_at), "versionId": v.version.to_string() },
        "status": status,
        "intent": "plan",
        "title": "Samordnad individuell plan (SIP)",
        "description": plan.own_goals,
        "subject": reference("Patient", case.patient_id, ""),
        "created": instant(&v.drawn_up.at),
        "author": user_reference(&v.drawn_up.by),
        "note": plan.needs.iter().map(|n| json!({ "text": n })).collect::<Vec<_>>(),
    });
    if !activities.is_empty() {
        r["activity"] = json!(activities);
    }
    r
}

/// An Observation's category for what staff assess with a form of questions.
fn survey() -> Value {
    json!([{ "coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
        "code": "survey",
        "display": "Survey"
    }] }])
}

/// One screening in a case as an Observation: frailty as a level (1–9) and the need for
/// coordination with the facts it rests on, as components. Its id is the case's and the
/// screening's place in it (`<case id>-screening-<n>`).
pub fn observation(case: &Case, n: usize, s: &ScreeningRecord, level_sv: Option<&str>) -> Value {
    let code = |code: &str, display: &str| json!({ "coding": [{ "system": SCREENING, "code": code, "display": display }], "text": display });
    let mut components = vec![];
    if let Some(f) = s.screening.frailty {
        let mut c = json!({ "code": code("frailty", "Skörhet (nivå 1–9)"), "valueInteger": f.level() });
        if let Some(text) = level_sv {
            c["interpretation"] = json!([{ "text": text }]);
        }
        components.push(c);
    }
    if let Some(need) = &s.screening.coordination {
        components
            .push(json!({ "code": code("coordination-needed", "Samordningsbehov"), "valueBoolean": need.needed() }));
        for (key, display, value) in [
            ("both-principals", "Insatser från både region och kommun", need.both_principals),
            ("many-providers", "Tre eller fler enheter eller vårdgivare", need.many_providers),
            ("repeated-admissions", "Två eller fler sjukhusvistelser senaste året", need.repeated_admissions),
            ("cognitive-impairment", "Minne eller kognition", need.cognitive_impairment),
            ("carer-strain", "Närståendes börda", need.carer_strain),
        ] {
            components.push(json!({ "code": code(key, display), "valueBoolean": value }));
        }
    }
    let mut r = json!({
        "resourceType": "Observation",
        "id": format!("{}-screening-{}", case.id, n),
        "meta": meta(&case.updated_at),
        "status": "final",
        "category": survey(),
        "code": code("screening", "Screening: skörhet och samordningsbehov"),
        "subject": reference("Patient", case.patient_id, ""),
        "encounter": reference("Encounter", case.id, ""),
        "effectiveDateTime": instant(&s.recorded.at),
        "performer": [user_reference(&s.recorded.by)],
        "component": components,
    });
    if !s.screening.note.is_empty() {
        r["note"] = json!([{ "text": s.screening.note }]);
    }
    r
}

/// What a joint round said about the person as an Observation: what changed, each
/// profession's part, the next review and the actions with their owners, as components. Its id
/// is the case's and the note's place in it (`<case id>-round-<n>`).
pub fn round_observation(case: &Case, n: usize, r: &RoundNoteRecord) -> Value {
    let code = |code: &str, display: &str| json!({ "coding": [{ "system": ROUND, "code": code, "display": display }], "text": display });
    let mut components = vec![json!({ "code": code("changed", "Vad har ändrats"), "valueString": r.note.changed })];
    for p in &r.note.professions {
        components.push(json!({ "code": code(p.profession.as_str(), p.profession.as_str()), "valueString": p.what }));
    }
    components.push(
        json!({ "code": code("next-review", "Nästa genomgång"), "valueDateTime": r.note.next_review.to_string() }),
    );
    for a in &r.note.actions {
        let done = case.rounds.is_done(a.id);
        components.push(json!({
            "code": code("action", "Åtgärd"),
            "valueString": format!("{} ({}, senast {}){}", a.what, a.owner_name, a.due, if done { " – klar" } else { "" }),
        }));
    }
    json!({
        "resourceType": "Observation",
        "id": format!("{}-round-{}", case.id, n),
        "meta": meta(&case.updated_at),
        "status": "final",
        "category": survey(),
        "code": code("round-note", "Anteckning från gemensam rond"),
        "subject": reference("Patient", case.patient_id, ""),
        "encounter": reference("Encounter", case.id, ""),
        "effectiveDateTime": instant(&r.recorded.at),
        "performer": [user_reference(&r.recorded.by), reference("Organization", r.recorded.unit, "")],
        "component": components,
    })
}

/// A recorded consent.
pub fn consent(case: &Case, c: &ConsentRecord) -> Value {
    let (code, text) = consent_kind_code(c.kind);
    let mut r = json!({
        "resourceType": "Consent",
        "id": c.id.to_string(),
        "meta": meta(&case.updated_at),
        "extension": [{ "url": EPISODE_EXTENSION, "valueReference": reference("EpisodeOfCare", case.id, "") }],
        "identifier": uuid_identifier(c.id),
        "status": if c.withdrawn.is_some() { "inactive" } else { "active" },
        "scope": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy" }] },
        "category": [{ "coding": [{ "system": CONSENT_KIND, "code": code }], "text": text }],
        "patient": reference("Patient", case.patient_id, ""),
        "dateTime": instant(&c.given_at),
        "organization": [reference("Organization", c.recorded.unit, "")],
        "policy": [{ "uri": "https://www.riksdagen.se/sv/dokument-och-lagar/dokument/svensk-forfattningssamling/lag-2017612-om-samverkan-vid-utskrivning-fran_sfs-2017-612/" }],
        "provision": { "type": "permit" },
    });
    match &c.given_by {
        ConsentGiver::Patient => r["performer"] = json!([reference("Patient", case.patient_id, "")]),
        ConsentGiver::Representative { name, relation } => {
            // A representative (god man, förvaltare, närstående) has no resource of their own.
            r["contained"] = json!([{
                "resourceType": "RelatedPerson",
                "id": "representative",
                "patient": reference("Patient", case.patient_id, ""),
                "relationship": [{ "text": relation }],
                "name": [{ "text": name }],
            }]);
            r["performer"] = json!([{ "reference": "#representative" }]);
        }
    }
    r
}

/// The code and Swedish text of a kind of consent.
pub fn consent_kind_code(kind: ConsentKind) -> (&'static str, &'static str) {
    match kind {
        ConsentKind::InformationSharing => ("information-sharing", "Samtycke till informationsöverföring"),
        ConsentKind::SipCall => ("sip-call", "Samtycke till kallelse till SIP"),
        ConsentKind::Sip => ("sip", "Samtycke till SIP"),
    }
}

/// A user (staff member or system) as a Practitioner: name and HSA-id, nothing more.
pub fn practitioner(a: &samverka_store::Account) -> Value {
    let mut r = json!({
        "resourceType": "Practitioner",
        "id": a.id.to_string(),
        "meta": { "profile": [PRACTITIONER_PROFILE] },
        "active": a.active,
        "name": [{ "text": a.name }],
    });
    if let Some(h) = &a.hsa_id {
        r["identifier"] = json!([hsa_identifier(h)]);
    }
    r
}

/// An assignment (medarbetaruppdrag) as a PractitionerRole: who, at which unit, in which role.
pub fn practitioner_role(a: &samverka_store::Assignment, user_name: &str) -> Value {
    json!({
        "resourceType": "PractitionerRole",
        "id": a.id.to_string(),
        "meta": { "profile": [PRACTITIONER_ROLE_PROFILE] },
        "active": a.active,
        "practitioner": reference("Practitioner", a.user_id, user_name),
        "organization": unit_reference(&a.unit),
        "code": [{ "coding": [{ "system": "urn:samverka:CodeSystem:role", "code": format!("{:?}", a.role).to_lowercase(), "display": a.role.label_sv() }], "text": a.role.label_sv() }],
    })
}

/// An access-log entry as an AuditEvent (the patient's log extract, for log review).
pub fn audit_event(e: &samverka_store::AccessEntry) -> Value {
    let outcome = match e.outcome {
        samverka_store::Outcome::Allowed => "0",
        _ => "4",
    };
    // The feed and the escalation are systems (Device), every other actor a user.
    let system = samverka_app::SYSTEM_IDENTITIES.iter().any(|(id, _)| *id == e.user_id);
    let mut agent = json!({
        "who": reference(if system { "Device" } else { "Practitioner" }, e.user_id, &e.user_name),
        "requestor": true,
    });
    if let Some(role) = e.role {
        agent["role"] = json!([{ "text": role.label_sv() }]);
    }
    if let Some(addr) = &e.client_address {
        agent["network"] = json!({ "address": addr, "type": "2" });
    }
    let mut entities = vec![];
    if let Some(p) = e.patient_id {
        entities.push(json!({ "what": reference("Patient", p, ""), "role": { "system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient" } }));
    }
    if let Some(c) = e.case_id {
        entities.push(json!({ "what": reference("EpisodeOfCare", c, "") }));
    }
    let mut r = json!({
        "resourceType": "AuditEvent",
        "id": e.id.to_string(),
        "meta": meta(&e.at),
        "type": { "system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "RESTful Operation" },
        "subtype": [{ "system": "urn:samverka:CodeSystem:access-action", "code": e.action }],
        "recorded": instant(&e.at),
        "outcome": outcome,
        "agent": [agent],
        "source": { "observer": { "display": "Samverka" }, "site": e.unit_name },
    });
    if !entities.is_empty() {
        r["entity"] = json!(entities);
    }
    if e.emergency {
        r["purposeOfEvent"] = json!([{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "ETREAT", "display": "Emergency Treatment" }], "text": e.reason.clone().unwrap_or_default() }]);
    }
    r
}

/// A system that acts in Samverka on its own, as a Device.
pub fn device(id: uuid::Uuid, name: &str) -> Value {
    json!({
        "resourceType": "Device",
        "id": id.to_string(),
        "status": "active",
        "deviceName": [{ "name": name, "type": "user-friendly-name" }],
        "owner": { "display": "Samverka" },
    })
}
