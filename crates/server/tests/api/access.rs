//! The access matrix: every patient-data route, every role, inside and outside the care of
//! the patient. The expected answer comes from one table (the route's permission and whether
//! need-to-know applies) and the domain's role table; every denial is proven with a 403.
//! An allowed request is carried out (a 2xx), or refused by the case with the reason the table
//! names for that row. The same run proves that every request to a patient-data route writes
//! an access-log entry with the outcome it had, and that the table covers exactly the routes
//! the router declares.

use std::collections::{BTreeSet, HashMap};

use reqwest::{Method, StatusCode};
use samverka_api::PATIENT_DATA_ROUTES;
use samverka_domain::access::{Permission, Role, permits};
use samverka_store::{AccessFilter, Outcome};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{As, TestApp, account, pnr, session, ts};
use crate::on_both;

/// Which unit of the test world.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum U {
    Ward,
    Ward2,
    Vc,
    OtherVc,
    Bistand,
    NackaBistand,
}

/// Who may reach what the route serves.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Scope {
    /// Only units taking part in the patient's care (need-to-know).
    NeedToKnow,
    /// Any unit whose role carries the permission (lists of the unit's own, registration,
    /// log review of the own organisation, emergency access).
    Role,
    /// A search: outside need-to-know it answers, but finds nobody.
    Search,
    /// The municipality's own invoice basis (the outsider is another municipality).
    OwnMunicipality,
    /// A list shared with units outside the person's care (a joint round's persons): it
    /// answers every member, but shows the person only inside the care.
    Shared,
}

/// A god man's personnummer (a valid one, not the patient's).
const GUARDIAN: &str = "196003031231";

/// What a caller the table allows gets, in the state the rows before leave the case in.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Answer {
    /// A 2xx every time (a repeat finds it already done).
    Done,
    /// The first allowed caller carries it out; the case refuses it to those after, with this
    /// status and problem code.
    Once(StatusCode, &'static str),
    /// The case refuses it as it stands, with this status and problem code.
    Refused(StatusCode, &'static str),
    /// A 2xx inside the care; outside it, this status and problem code.
    RefusedOutside(StatusCode, &'static str),
}

struct Fixture {
    case: Uuid,
    patient: Uuid,
    patient_pnr: String,
    message: Uuid,
    consent: Uuid,
    representation: Uuid,
    hsl: Uuid,
    ward2: Uuid,
    vc: Uuid,
    hl7: Uuid,
    round_forum: Uuid,
    round_meeting: Uuid,
    round_action: Uuid,
}

struct RouteCase {
    method: &'static str,
    path: &'static str,
    permission: Permission,
    scope: Scope,
    party: U,
    outsider: U,
    answer: Answer,
    request: fn(&Fixture, usize) -> (String, Option<Value>),
}

fn plan(vc: Uuid) -> Value {
    json!({
        "needs": ["Stöd med hygien"],
        "insatser": [{ "principal": "kommun", "description": "Hemtjänst" }],
        "overall_responsible": "kommun",
        "own_goals": "Klara mig hemma.",
        "participants": [{ "name": "Patienten", "role": "patient" }],
        "coordinator": { "name": "Disa", "unit": vc },
        "follow_up_date": "2026-12-20",
        "follow_up_how": "Hembesök"
    })
}

fn cp(f: &Fixture, p: &str) -> String {
    format!("/api/cases/{}{p}", f.case)
}

/// The table. Order matters where a success changes what follows, and each row's `answer`
/// says what the rows before leave (close before discharge, discharge before its cancelling
/// and the transfer; emergency access last, since it opens the case to the outsider).
fn table() -> Vec<RouteCase> {
    use Answer::*;
    use Permission::*;
    use Scope::*;
    use U::*;
    let conflict = StatusCode::CONFLICT;
    vec![
        RouteCase {
            method: "get",
            path: "/api/inbox",
            permission: ReadPatientData,
            scope: Role,
            party: Bistand,
            outsider: NackaBistand,
            answer: Done,
            request: |_, _| ("/api/inbox".into(), None),
        },
        RouteCase {
            method: "get",
            path: "/api/cases",
            permission: ReadPatientData,
            scope: Role,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |_, _| ("/api/cases".into(), None),
        },
        RouteCase {
            method: "post",
            path: "/api/cases",
            permission: RegisterAdmission,
            scope: Role,
            party: Ward,
            outsider: Ward2,
            answer: Done,
            request: |f, _| {
                (
                    "/api/cases".into(),
                    // The patient has an open case already: a second one states why.
                    Some(json!({
                        "patient_id": f.patient,
                        "admitted_at": ts("2026-11-03 07:00").to_string(),
                        "duplicate_reason": "Ett andra vårdtillfälle medan det första är öppet.",
                    })),
                )
            },
        },
        RouteCase {
            method: "get",
            path: "/api/cases/{id}",
            permission: ReadPatientData,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| (format!("/api/cases/{}", f.case), None),
        },
        RouteCase {
            method: "get",
            path: "/api/cases/{id}/events",
            permission: ReadPatientData,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| (format!("/api/cases/{}/events", f.case), None),
        },
        RouteCase {
            method: "get",
            path: "/api/cases/{id}/liability",
            permission: ReadPatientData,
            scope: NeedToKnow,
            party: Bistand,
            outsider: NackaBistand,
            answer: Done,
            request: |f, _| (format!("/api/cases/{}/liability", f.case), None),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/messages",
            permission: HandleMessages,
            scope: NeedToKnow,
            party: Bistand,
            outsider: NackaBistand,
            answer: Done,
            request: |f, _| {
                (
                    format!("/api/cases/{}/messages", f.case),
                    Some(json!({ "body": { "kind": "allmant", "text": "Hej" }, "recipients": [f.vc] })),
                )
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/messages/{message_id}/open",
            permission: ReadPatientData,
            scope: NeedToKnow,
            party: Bistand,
            outsider: NackaBistand,
            answer: Done,
            request: |f, _| (format!("/api/cases/{}/messages/{}/open", f.case, f.message), Some(json!({}))),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/messages/{message_id}/forward",
            permission: HandleMessages,
            scope: NeedToKnow,
            party: Bistand,
            outsider: NackaBistand,
            // The first forwards the notice to HSL; HSL has it from then on.
            answer: Once(conflict, "already_recipient"),
            request: |f, _| {
                (format!("/api/cases/{}/messages/{}/forward", f.case, f.message), Some(json!({ "to_unit": f.hsl })))
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/messages/{message_id}/mis-sent",
            permission: HandleMessages,
            scope: NeedToKnow,
            party: Bistand,
            outsider: NackaBistand,
            answer: Done,
            request: |f, _| {
                (
                    format!("/api/cases/{}/messages/{}/mis-sent", f.case, f.message),
                    Some(json!({ "reason": "Fel kommun" })),
                )
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/messages/{message_id}/acknowledge",
            permission: HandleMessages,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| (format!("/api/cases/{}/messages/{}/acknowledge", f.case, f.message), Some(json!({}))),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/acknowledge-all",
            permission: HandleMessages,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            // The first acknowledges what is left; after that there is nothing to acknowledge.
            answer: Answer::Once(StatusCode::CONFLICT, "nothing_to_acknowledge"),
            request: |f, _| (cp(f, "/acknowledge-all"), Some(json!({}))),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/parties",
            permission: ShareCase,
            scope: NeedToKnow,
            party: Bistand,
            outsider: NackaBistand,
            answer: Done,
            request: |f, _| (cp(f, "/parties"), Some(json!({ "unit": f.hsl, "reason": "Hemsjukvård behövs" }))),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/consents",
            permission: RecordConsent,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| {
                (
                    cp(f, "/consents"),
                    Some(
                        json!({ "kind": "information_sharing", "given_by": { "kind": "patient" }, "given_at": ts("2026-11-03 07:00").to_string() }),
                    ),
                )
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/consents/{consent_id}/withdraw",
            permission: RecordConsent,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| (format!("/api/cases/{}/consents/{}/withdraw", f.case, f.consent), Some(json!({}))),
        },
        RouteCase {
            method: "get",
            path: "/api/cases/{id}/representatives",
            permission: ReadPatientData,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| (cp(f, "/representatives"), None),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/representatives",
            permission: RecordConsent,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            // The first registers her; she is there from then on.
            answer: Once(StatusCode::UNPROCESSABLE_ENTITY, "already_there"),
            request: |f, _| {
                (
                    cp(f, "/representatives"),
                    Some(
                        json!({ "name": "Karl Berg", "personnummer": GUARDIAN, "kind": "forvaltare", "shares": ["plan"] }),
                    ),
                )
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/representatives/{representation}/end",
            permission: RecordConsent,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Once(StatusCode::CONFLICT, "already_ended"),
            request: |f, _| {
                (
                    format!("/api/cases/{}/representatives/{}/end", f.case, f.representation),
                    Some(json!({ "reason": "Beslut från överförmyndaren" })),
                )
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/screenings",
            permission: WorkWithSip,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| {
                (
                    cp(f, "/screenings"),
                    Some(json!({ "frailty": 5, "coordination": { "both_principals": true }, "note": "Hembesök" })),
                )
            },
        },
        RouteCase {
            method: "get",
            path: "/api/meetings/{id}/round",
            permission: ReadPatientData,
            scope: Shared,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| (format!("/api/meetings/{}/round", f.round_meeting), None),
        },
        RouteCase {
            method: "post",
            path: "/api/forums/{id}/round-patients",
            permission: WorkWithSip,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| {
                (format!("/api/forums/{}/round-patients", f.round_forum), Some(json!({ "case_id": f.case })))
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/round-notes",
            permission: WorkWithSip,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| {
                (
                    cp(f, "/round-notes"),
                    Some(
                        json!({ "meeting_id": f.round_meeting, "changed": "Oförändrat", "next_review": "2026-11-20" }),
                    ),
                )
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/round-actions/{action_id}/done",
            permission: WorkWithSip,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            // Done once by the vårdcentral that owns it; again changes nothing.
            answer: Done,
            request: |f, _| (cp(f, &format!("/round-actions/{}/done", f.round_action)), None),
        },
        RouteCase {
            method: "get",
            path: "/api/cases/{id}/life-story",
            permission: ReadPatientData,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| (cp(f, "/life-story"), None),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/life-story",
            permission: RecordConsent,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            // The first writes version 1; the next, also on top of none, finds it written.
            answer: Once(StatusCode::CONFLICT, "changed_meanwhile"),
            request: |f, _| {
                (
                    cp(f, "/life-story"),
                    Some(json!({ "parts": { "who_i_am": "Kallas Gittan" }, "seen_version": 0, "person_agrees": true })),
                )
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/sip",
            permission: WorkWithSip,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| (cp(f, "/sip"), Some(plan(f.vc))),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/sip/follow-up",
            permission: WorkWithSip,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| {
                (
                    cp(f, "/sip/follow-up"),
                    Some(
                        json!({ "evaluation": "Går bra", "outcome": { "kind": "continue", "next_follow_up": "2026-12-24" } }),
                    ),
                )
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/close",
            permission: HandleMessages,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            // The patient is not yet discharged.
            answer: Refused(conflict, "step_out_of_order"),
            request: |f, _| (cp(f, "/close"), Some(json!({}))),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/discharge",
            permission: RegisterAdmission,
            scope: NeedToKnow,
            party: Ward,
            outsider: Ward2,
            // Discharged once.
            answer: Once(conflict, "step_out_of_order"),
            request: |f, _| (cp(f, "/discharge"), Some(json!({ "at": ts("2026-11-03 07:30").to_string() }))),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/cancel-discharge",
            permission: RegisterAdmission,
            scope: NeedToKnow,
            party: Ward,
            outsider: Ward2,
            // The SIP call is already sent.
            answer: Refused(conflict, "step_out_of_order"),
            request: |f, _| (cp(f, "/cancel-discharge"), Some(json!({ "note": "Registrerad av misstag" }))),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/confirm-needs",
            permission: RegisterAdmission,
            scope: NeedToKnow,
            party: Ward,
            outsider: Ward2,
            answer: Done,
            request: |f, _| {
                (cp(f, "/confirm-needs"), Some(json!({ "assessed_at": ts("2026-11-02 09:00").to_string() })))
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/dismiss",
            permission: RegisterAdmission,
            scope: NeedToKnow,
            party: Ward,
            outsider: Ward2,
            // Not a draft from the admission feed.
            answer: Refused(conflict, "step_out_of_order"),
            request: |f, _| (cp(f, "/dismiss"), Some(json!({ "reason": "no_longer_needed" }))),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/transfer",
            permission: RegisterAdmission,
            scope: NeedToKnow,
            party: Ward,
            outsider: Ward2,
            // The patient is discharged.
            answer: Refused(conflict, "step_out_of_order"),
            request: |f, _| {
                (cp(f, "/transfer"), Some(json!({ "to_ward": f.ward2, "at": ts("2026-11-03 07:40").to_string() })))
            },
        },
        RouteCase {
            method: "post",
            path: "/api/patients",
            permission: RegisterAdmission,
            scope: Role,
            party: Ward,
            outsider: Ward2,
            answer: Done,
            request: |_, n| {
                (
                    "/api/patients".into(),
                    Some(
                        json!({ "identifier": pnr(10 + (n % 9) as u16), "given_name": "Ny", "family_name": "Patient", "kommun": "0184" }),
                    ),
                )
            },
        },
        RouteCase {
            method: "get",
            path: "/api/patients",
            permission: ReadPatientData,
            scope: Search,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| (format!("/api/patients?identifier={}", f.patient_pnr), None),
        },
        RouteCase {
            method: "get",
            path: "/api/patients/{id}",
            permission: ReadPatientData,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| (format!("/api/patients/{}", f.patient), None),
        },
        RouteCase {
            method: "get",
            path: "/api/liability",
            permission: ReadLiability,
            scope: OwnMunicipality,
            party: Bistand,
            outsider: NackaBistand,
            answer: Done,
            request: |_, _| ("/api/liability?kommun=0184&month=2026-11".into(), None),
        },
        RouteCase {
            method: "get",
            path: "/api/liability/versions",
            permission: ReadLiability,
            scope: OwnMunicipality,
            party: Bistand,
            outsider: NackaBistand,
            answer: Done,
            request: |_, _| ("/api/liability/versions?kommun=0184&month=2026-11".into(), None),
        },
        RouteCase {
            method: "get",
            path: "/api/liability/export",
            permission: ReadLiability,
            scope: OwnMunicipality,
            party: Bistand,
            outsider: NackaBistand,
            answer: Done,
            request: |_, _| ("/api/liability/export?kommun=0184&month=2026-11&format=csv".into(), None),
        },
        // The hospitals' feed: administrators of the region only (the outsider is a
        // municipality's administrator).
        RouteCase {
            method: "get",
            path: "/api/hl7/messages",
            permission: Administer,
            scope: NeedToKnow,
            party: Ward,
            outsider: Bistand,
            answer: Done,
            request: |_, _| ("/api/hl7/messages?status=received".into(), None),
        },
        RouteCase {
            method: "get",
            path: "/api/hl7/messages/{id}",
            permission: Administer,
            scope: NeedToKnow,
            party: Ward,
            outsider: Bistand,
            answer: Done,
            request: |f, _| (format!("/api/hl7/messages/{}", f.hl7), None),
        },
        RouteCase {
            method: "post",
            path: "/api/hl7/messages/{id}/replay",
            permission: Administer,
            scope: NeedToKnow,
            party: Ward,
            outsider: Bistand,
            answer: Done,
            request: |f, _| (format!("/api/hl7/messages/{}/replay", f.hl7), None),
        },
        RouteCase {
            method: "get",
            path: "/api/access-log",
            permission: ReviewAccessLog,
            scope: Role,
            party: Bistand,
            outsider: NackaBistand,
            answer: Done,
            request: |_, _| ("/api/access-log".into(), None),
        },
        RouteCase {
            method: "get",
            path: "/api/access-log/extract",
            permission: ReviewAccessLog,
            scope: Role,
            party: Bistand,
            outsider: NackaBistand,
            // Nacka never accessed the patient: for its reviewers she is not in the log.
            answer: RefusedOutside(StatusCode::NOT_FOUND, "not_found"),
            request: |f, _| (format!("/api/access-log/extract?patient={}", f.patient_pnr), None),
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/emergency-access",
            permission: EmergencyAccess,
            scope: Role,
            party: Vc,
            outsider: OtherVc,
            answer: Done,
            request: |f, _| {
                (cp(f, "/emergency-access"), Some(json!({ "reason": "Patienten sökte akut på vårdcentralen" })))
            },
        },
        RouteCase {
            method: "post",
            path: "/api/home-coordinations",
            permission: WorkWithSip,
            scope: Role,
            party: Vc,
            outsider: OtherVc,
            // The first starts one; the person has it from then on.
            answer: Once(StatusCode::CONFLICT, "home_coordination_exists"),
            request: |f, _| {
                (
                    "/api/home-coordinations".into(),
                    Some(json!({ "patient_id": f.patient, "reason": "Behöver hemsjukvård och hemtjänst samordnat" })),
                )
            },
        },
        RouteCase {
            method: "post",
            path: "/api/cases/{id}/continue-at-home",
            permission: WorkWithSip,
            scope: NeedToKnow,
            party: Vc,
            outsider: OtherVc,
            // The row before started the person's coordination at home: the plan goes on there as
            // a new version, which waits for the call to a SIP meeting in it.
            answer: Refused(StatusCode::CONFLICT, "step_out_of_order"),
            request: |f, _| (cp(f, "/continue-at-home"), Some(json!({}))),
        },
    ]
}

/// A case in the middle of the process: notice sent and acknowledged by no one yet,
/// consents given, SIP called and drawn up.
async fn fixture(app: &TestApp) -> Fixture {
    let w = &app.world;
    let (case, c) = app.case(&pnr(1), "2026-11-02 07:00").await;
    let patient: Uuid = c["patient"]["id"].as_str().unwrap().parse().unwrap();
    let p = |x: &str| format!("/api/cases/{case}{x}");
    let v = app
        .post(
            &w.ward,
            &p("/messages"),
            json!({ "body": { "kind": "inskrivningsmeddelande", "estimated_discharge": "2026-11-09" } }),
            StatusCode::CREATED,
        )
        .await;
    let message = v["state"]["messages"][0]["message"]["id"].as_str().unwrap().parse().unwrap();
    for kind in ["sip_call", "sip", "information_sharing"] {
        app.post(
            &w.vc,
            &p("/consents"),
            json!({ "kind": kind, "given_by": { "kind": "patient" }, "given_at": ts("2026-11-02 07:30").to_string() }),
            StatusCode::CREATED,
        )
        .await;
    }
    let v = app.post(&w.vc, &p("/consents"), json!({ "kind": "information_sharing", "given_by": { "kind": "patient" }, "given_at": ts("2026-11-02 07:30").to_string() }), StatusCode::CREATED).await;
    let consent = v["state"]["consents"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().parse().unwrap();
    app.post(&w.vc, &p("/messages"), json!({ "body": { "kind": "kallelse_sip", "meeting_at": ts("2026-11-05 13:00").to_string(), "place": "Hemma", "patient_invited": true, "relatives_invited": false } }), StatusCode::CREATED).await;
    app.post(&w.vc, &p("/sip"), plan(w.units.vc), StatusCode::CREATED).await;
    let god_man = json!({ "name": "Karl Berg", "personnummer": GUARDIAN, "kind": "god_man", "shares": ["consent"] });
    let representation = app.post(&w.vc, &p("/representatives"), god_man, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let raw = b"MSH|^~\\&|Cosmic|KS|||20261102||ADT^A01|FX-1|P|2.5\rPID|1||x\r";
    let new =
        samverka_store::NewHl7Message { sender: "Cosmic|KS", control_id: Some("FX-1"), trigger_event: "A01", raw };
    let hl7 = match app.store.store_hl7(&new, ts("2026-11-02 07:45")).await.unwrap() {
        samverka_store::Stored::New(m) | samverka_store::Stored::Existing(m) => m.id,
    };
    // A joint round of the biståndsenhet with both vårdcentraler, under way, where the
    // vårdcentral has written a note with an action of its own.
    let spec = json!({
        "name": "Rond",
        "kind": "rond",
        "purpose": "Gemensamma patienter",
        "schedule": { "first_date": "2026-11-02", "interval_weeks": 1, "start": "07:00", "duration_minutes": 60, "paused": false },
    });
    let forum = app.post(&w.chef_solna, "/api/forums", spec, StatusCode::CREATED).await["forum"]["id"].clone();
    for unit in [w.units.vc, w.units.other_vc] {
        let member = json!({ "unit_id": unit, "role": "sjukskoterska", "mandate": "Vårdcentralens insatser" });
        app.post(&w.chef_solna, &format!("/api/forums/{}/members", forum.as_str().unwrap()), member, StatusCode::OK)
            .await;
    }
    let m = app
        .post(
            &w.chef_solna,
            &format!("/api/forums/{}/meetings", forum.as_str().unwrap()),
            json!({ "date": "2026-11-02" }),
            StatusCode::CREATED,
        )
        .await;
    let round_meeting: Uuid = m["meeting"]["id"].as_str().unwrap().parse().unwrap();
    let round_action = Uuid::now_v7();
    let note = json!({
        "meeting_id": round_meeting,
        "changed": "Ny i hemmet",
        "next_review": "2026-11-09",
        "actions": [{ "id": round_action, "what": "Ring anhörig", "owner_unit": w.units.vc, "owner_name": "Disa", "due": "2026-11-05" }]
    });
    app.post(&w.vc, &p("/round-notes"), note, StatusCode::CREATED).await;
    Fixture {
        case: case.parse().unwrap(),
        patient,
        patient_pnr: pnr(1),
        message,
        consent,
        representation,
        hsl: w.units.hsl,
        ward2: w.units.ward2,
        vc: w.units.vc,
        hl7,
        round_forum: forum.as_str().unwrap().parse().unwrap(),
        round_meeting,
        round_action,
    }
}

fn unit_of(app: &TestApp, u: U) -> (Uuid, Uuid) {
    let w = &app.world;
    match u {
        U::Ward => (w.units.ward, w.region),
        U::Ward2 => (w.units.ward2, w.region),
        U::Vc => (w.units.vc, w.region),
        U::OtherVc => (w.units.other_vc, w.region),
        U::Bistand => (w.units.bistand, w.solna),
        U::NackaBistand => (w.units.nacka_bistand, w.nacka),
    }
}

/// Every role a person can hold: a new role is in the matrix from the day it is added.
fn human_roles() -> impl Iterator<Item = Role> {
    Role::ALL.into_iter().filter(|r| *r != Role::System)
}

on_both!(access_matrix, |app: TestApp| async move {
    let table = table();
    // The table covers exactly the routes the router declares as patient data.
    let declared: BTreeSet<(String, String)> =
        PATIENT_DATA_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    let tested: BTreeSet<(String, String)> = table.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    assert_eq!(declared, tested, "every patient-data route needs a row in the access table");

    app.at("2026-11-02 08:00");
    let f = fixture(&app).await;
    app.at("2026-11-03 08:00");
    let mut sessions: HashMap<(Role, U), As> = HashMap::new();
    let mut n = 0usize;
    let (mut allowed, mut denied) = (0, 0);
    for row in &table {
        // Whether an allowed caller has carried out this row's request yet.
        let mut carried_out = false;
        for role in human_roles() {
            for (relation, u) in [("party", row.party), ("outsider", row.outsider)] {
                let who = match sessions.get(&(role, u)) {
                    Some(s) => s.clone(),
                    None => {
                        let (unit, org) = unit_of(&app, u);
                        let name = format!("{role:?}-{u:?}").to_lowercase();
                        let (user, assignment) = account(&app.store, org, &name, &name, unit, role).await;
                        let s = session(&app.store, user, unit, assignment).await;
                        sessions.insert((role, u), s.clone());
                        s
                    }
                };
                n += 1;
                let (path, body) = (row.request)(&f, n);
                let method = if row.method == "get" { Method::GET } else { Method::POST };
                let before = app.store.access_log_count().await.unwrap();
                let res = app.call(&who, method, &path, body).await;
                let status = res.status();
                let text = res.text().await.unwrap();
                let inside = relation == "party";
                let expect_allowed = permits(role, row.permission)
                    && match row.scope {
                        Scope::NeedToKnow | Scope::OwnMunicipality => inside,
                        Scope::Role | Scope::Search | Scope::Shared => true,
                    };
                let what = format!("{} {} as {role:?} ({relation}): {status} {text}", row.method, row.path);
                // The case's refusal, when the table expects one for an allowed caller here.
                let refusal = match row.answer {
                    Answer::Done => None,
                    Answer::Once(s, code) => carried_out.then_some((s, code)),
                    Answer::Refused(s, code) => Some((s, code)),
                    Answer::RefusedOutside(s, code) => (!inside).then_some((s, code)),
                };
                let outcome = if expect_allowed {
                    allowed += 1;
                    match refusal {
                        None => {
                            assert!(status.is_success(), "expected allowed and carried out: {what}");
                            carried_out = true;
                        }
                        Some((s, code)) => {
                            let p: Value = serde_json::from_str(&text).unwrap();
                            assert_eq!(
                                (status, p["code"].as_str()),
                                (s, Some(code)),
                                "expected the case's refusal: {what}"
                            );
                        }
                    }
                    if matches!(row.scope, Scope::Search | Scope::Shared) {
                        let hits = serde_json::from_str::<Value>(&text).unwrap()["patients"].as_array().unwrap().len();
                        assert_eq!(hits, usize::from(inside), "a search outside the care finds nobody: {what}");
                    }
                    match refusal {
                        Some(_) => Outcome::Refused,
                        // The hit a search outside the care does not show is logged as denied.
                        None if row.scope == Scope::Search && !inside => Outcome::Denied,
                        None => Outcome::Allowed,
                    }
                } else {
                    denied += 1;
                    assert_eq!(status, StatusCode::FORBIDDEN, "expected denied: {what}");
                    let p: Value = serde_json::from_str(&text).unwrap();
                    assert!(p["detail"].as_str().unwrap().len() > 20, "a denial says why: {what}");
                    Outcome::Denied
                };
                let after = app.store.access_log_count().await.unwrap();
                assert!(after > before, "no access-log entry for {what}");
                // The user's newest entry is this request's, with how it went.
                let filter = AccessFilter { user_id: Some(who.user), limit: 1, ..Default::default() };
                let newest = app.store.access_log(&filter).await.unwrap();
                assert_eq!(newest.first().map(|e| e.outcome), Some(outcome), "the logged outcome of {what}");
            }
        }
    }
    assert!(allowed > 60 && denied > 200, "allowed {allowed}, denied {denied}");
});
