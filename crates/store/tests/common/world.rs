//! A small world for case tests: a ward, a municipality's biståndsenhet, two vårdcentraler
//! and one patient.

use samverka_domain::access::Role;
use samverka_domain::actor::{Actor, UnitRef, UserRef};
use samverka_domain::case::{Command, OpenCase};
use samverka_domain::ids::{HsaId, Kommunkod, PatientIdentifier, personnummer_with_check_digit};
use samverka_domain::message::MessageBody;
use samverka_domain::org::{AddressEntry, CareType, Organisation, OrganisationKind, Unit, UnitKind};
use samverka_domain::patient::ProtectedIdentity;
use samverka_store::{Audit, NewPatient, Store, reference_unit_ref};
use uuid::Uuid;

use super::ts;

pub struct World {
    pub ward: UnitRef,
    pub bistand: UnitRef,
    pub vc: UnitRef,
    pub other: UnitRef,
    pub patient: Uuid,
}

impl World {
    /// A user of `unit` acting in the role its staff usually have.
    pub fn actor(&self, unit: &UnitRef) -> Audit {
        let role = match unit.kind {
            UnitKind::Ward => Role::Vardsamordnare,
            UnitKind::Bistandsenhet => Role::Bistandshandlaggare,
            _ => Role::Sjukskoterska,
        };
        let user = UserRef { id: Uuid::from_u128(unit.id.as_u128() + 7), name: format!("Person på {}", unit.name) };
        Audit {
            actor: Actor { user, unit: unit.clone(), role },
            assignment_id: None,
            client_address: Some("192.0.2.1".into()),
        }
    }
}

pub async fn seed(store: &Store) -> World {
    let now = ts("2026-11-01 00:00");
    let region = Organisation {
        id: Uuid::now_v7(),
        kind: OrganisationKind::Region,
        name: "Region Test".into(),
        region_code: Some("01".into()),
        kommunkod: None,
        hsa_id: Some(HsaId::parse("SE2321000016-0001").unwrap()),
        acts_for: None,
    };
    let kommun = Organisation {
        id: Uuid::now_v7(),
        kind: OrganisationKind::Kommun,
        name: "Solna stad".into(),
        region_code: None,
        kommunkod: Some(Kommunkod::parse("0184").unwrap()),
        hsa_id: Some(HsaId::parse("SE2120002882-0001").unwrap()),
        acts_for: None,
    };
    store.insert_organisation(&region, Some("stockholm"), now).await.unwrap();
    store.insert_organisation(&kommun, None, now).await.unwrap();
    let mk = |name: &str, kind, org: &Organisation, hsa: &str, kommun: Option<&str>| Unit {
        id: Uuid::now_v7(),
        organisation_id: org.id,
        kind,
        name: name.into(),
        hsa_id: HsaId::parse(hsa).unwrap(),
        care_type: CareType::Somatic,
        receives_for_kommun: kommun.map(|k| Kommunkod::parse(k).unwrap()),
        address: AddressEntry { phone: Some("08-000 00 00".into()), ..Default::default() },
    };
    let units = [
        mk("Avdelning 12", UnitKind::Ward, &region, "SE2321000016-A12", None),
        mk("Biståndsenheten Solna", UnitKind::Bistandsenhet, &kommun, "SE2120002882-B1", Some("0184")),
        mk("Vårdcentralen Råsunda", UnitKind::Vardcentral, &region, "SE2321000016-VC1", None),
        mk("Vårdcentralen Bergshamra", UnitKind::Vardcentral, &region, "SE2321000016-VC2", None),
    ];
    for u in &units {
        store.insert_unit(u, now).await.unwrap();
    }
    let refs: Vec<UnitRef> = units.iter().map(reference_unit_ref).collect();
    let world = World {
        ward: refs[0].clone(),
        bistand: refs[1].clone(),
        vc: refs[2].clone(),
        other: refs[3].clone(),
        patient: Uuid::now_v7(),
    };
    let pnr = personnummer_with_check_digit(jiff::civil::date(1938, 4, 7), 982);
    store
        .insert_patient(
            world.patient,
            NewPatient {
                identifier: PatientIdentifier::Personnummer(pnr),
                given_name: "Åsa".into(),
                family_name: "Öberg".into(),
                kommun: Kommunkod::parse("0184").unwrap(),
                listed_unit: Some(world.vc.id),
                protection: ProtectedIdentity::None,
                address: None,
            },
            &world.actor(&world.ward),
            now,
        )
        .await
        .unwrap();
    world
}

/// Opens a case for the world's patient at the ward, under the Stockholm agreement.
pub async fn open(store: &Store, w: &World, at: &str) -> Uuid {
    open_under(store, w, at, "stockholm").await
}

/// Opens a case for the world's patient at the ward, under `agreement`.
pub async fn open_under(store: &Store, w: &World, at: &str, agreement: &str) -> Uuid {
    let id = Uuid::now_v7();
    let open = OpenCase {
        case_id: id,
        patient_id: w.patient,
        kommun: Kommunkod::parse("0184").unwrap(),
        listed_unit: Some(w.vc.id),
        care_type: CareType::Somatic,
        admitted_at: ts(at),
        needs_assessed_at: None,
        born: None,
        sip_at_home: None,
    };
    store.open_case(&open, agreement, &w.actor(&w.ward), ts(at)).await.unwrap();
    id
}

pub fn notice(w: &World) -> Command {
    Command::SendMessage {
        message_id: Uuid::now_v7(),
        body: MessageBody::Inskrivningsmeddelande {
            estimated_discharge: "2026-11-10".parse().unwrap(),
            note: String::new(),
        },
        recipients: vec![w.bistand.clone(), w.vc.clone()],
        corrects: None,
    }
}
