//! Directives in storage, on both databases: registered, published to the people of their
//! audience at that moment, read-confirmed, superseded, sent back, withdrawn.

use jiff::civil::date;
use samverka_domain::access::Role;
use samverka_domain::directive::{Audience, DirectiveSpec, DirectiveStatus, Source};
use samverka_domain::ids::{HsaId, Kommunkod};
use samverka_domain::org::{AddressEntry, CareType, Organisation, OrganisationKind, Unit, UnitKind};
use samverka_store::{AccessFilter, Store, StoreError, reference_unit_ref};
use uuid::Uuid;

#[macro_use]
mod common;
use common::*;

fn refused(e: StoreError) -> &'static str {
    match e {
        StoreError::Problem(p) => p.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

on_both!(a_directive_from_registration_to_read_confirmations, |store: Store| async move {
    let now = ts("2026-01-01 00:00");
    let org = |kind, name: &str, code: Option<&str>, kommun: Option<&str>| Organisation {
        id: Uuid::now_v7(),
        kind,
        name: name.into(),
        region_code: code.map(String::from),
        kommunkod: kommun.map(|k| Kommunkod::parse(k).unwrap()),
        hsa_id: None,
        acts_for: None,
    };
    let region = org(OrganisationKind::Region, "Region Test", Some("01"), None);
    let kommun = org(OrganisationKind::Kommun, "Solna stad", None, Some("0184"));
    store.insert_organisation(&region, Some("stockholm"), now).await.unwrap();
    store.insert_organisation(&kommun, None, now).await.unwrap();
    let mut units = vec![];
    for (name, kind, o, hsa) in [
        ("Hemsjukvården Solna", UnitKind::Hemsjukvard, &kommun, "SE2120002882-H1"),
        ("Kommunal HSL Solna", UnitKind::KommunalHsl, &kommun, "SE2120002882-M1"),
        ("Biståndsenheten Solna", UnitKind::Bistandsenhet, &kommun, "SE2120002882-B1"),
        ("Avdelning 12", UnitKind::Ward, &region, "SE2321000016-A12"),
    ] {
        let u = Unit {
            id: Uuid::now_v7(),
            organisation_id: o.id,
            kind,
            name: name.into(),
            hsa_id: HsaId::parse(hsa).unwrap(),
            care_type: CareType::Somatic,
            receives_for_kommun: None,
            address: AddressEntry::default(),
        };
        store.insert_unit(&u, now).await.unwrap();
        units.push(reference_unit_ref(&u));
    }
    let (home, hsl, bistand, ward) = (&units[0], &units[1], &units[2], &units[3]);
    let chef = person(&store, bistand, kommun.id, Role::Enhetschef, "Erik Enhetschef").await;
    let mas = person(&store, hsl, kommun.id, Role::Mas, "Maria MAS").await;
    let nurse1 = person(&store, home, kommun.id, Role::Sjukskoterska, "Hanna Hemsjukvård").await;
    let nurse2 = person(&store, home, kommun.id, Role::Sjukskoterska, "Hugo Hemsjukvård").await;
    let _ward_nurse = person(&store, ward, region.id, Role::Sjukskoterska, "Sara Sjukhus").await;

    let spec = DirectiveSpec {
        topic: "Besöksrestriktioner".into(),
        title: "Munskydd vid hembesök".into(),
        source: Source::Vardhygien,
        source_name: "Vårdhygien Region Test".into(),
        reference: "VH 2026-01".into(),
        body: "Bär munskydd vid alla hembesök till och med februari.".into(),
        valid_from: date(2026, 1, 10),
        valid_until: Some(date(2026, 2, 28)),
        audience: Audience { organisations: vec![kommun.id], unit_kinds: vec![UnitKind::Hemsjukvard] },
        supersedes: vec![],
    };
    let d1 = Uuid::now_v7();
    store.register_directive(d1, kommun.id, &spec, &chef, ts("2026-01-09 09:00")).await.unwrap();
    let r = store.directive(d1).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.spec.clone(), r.registered_by),
        (DirectiveStatus::Pending, spec.clone(), chef.actor.user.id)
    );
    assert!(store.published_directives().await.unwrap().is_empty(), "nobody sees it before validation");
    assert_eq!(store.directives_of_organisation(kommun.id).await.unwrap().len(), 1);

    // Published to the people of the audience: the two home-care nurses, nobody else.
    let sent = store.decide_directive(d1, true, "", &[], &mas, ts("2026-01-09 10:00")).await.unwrap();
    assert_eq!(sent, 2);
    let again = store.decide_directive(d1, false, "Nej", &[], &mas, ts("2026-01-09 10:01")).await;
    assert_eq!(refused(again.unwrap_err()), "directive_not_pending");
    let published = store.published_directives().await.unwrap();
    assert_eq!((published.len(), published[0].decided_by_name.as_deref()), (1, Some("Maria MAS")));

    store.confirm_directive_read(d1, &nurse1, ts("2026-01-09 11:00")).await.unwrap();
    store.confirm_directive_read(d1, &nurse1, ts("2026-01-09 12:00")).await.unwrap();
    let readers = store.directive_readers(d1).await.unwrap();
    let read: Vec<(&str, bool)> = readers.iter().map(|r| (r.name.as_str(), r.read_at.is_some())).collect();
    assert_eq!(read, [("Hanna Hemsjukvård", true), ("Hugo Hemsjukvård", false)]);
    assert_eq!(readers[0].read_at, Some(ts("2026-01-09 11:00")), "the first confirmation counts");
    assert_eq!(store.directive_reads_of(nurse1.actor.user.id).await.unwrap(), vec![(d1, ts("2026-01-09 11:00"))]);
    assert!(store.directive_reads_of(nurse2.actor.user.id).await.unwrap().is_empty());

    // A new version supersedes; one sent back keeps the reason.
    let d2 = Uuid::now_v7();
    let v2 = DirectiveSpec { reference: "VH 2026-02".into(), supersedes: vec![d1], ..spec.clone() };
    store.register_directive(d2, kommun.id, &v2, &chef, ts("2026-01-20 09:00")).await.unwrap();
    assert_eq!(store.directive(d2).await.unwrap().unwrap().spec.supersedes, vec![d1]);
    let d3 = Uuid::now_v7();
    store.register_directive(d3, kommun.id, &spec, &chef, ts("2026-01-20 09:05")).await.unwrap();
    store.decide_directive(d3, false, "Dubblett av VH 2026-01.", &[], &mas, ts("2026-01-20 10:00")).await.unwrap();
    let r3 = store.directive(d3).await.unwrap().unwrap();
    assert_eq!((r3.status, r3.decision_note.as_str()), (DirectiveStatus::Rejected, "Dubblett av VH 2026-01."));
    store.decide_directive(d2, true, "", &[], &mas, ts("2026-01-20 10:05")).await.unwrap();

    // Withdrawn, not deleted.
    store.withdraw_directive(d1, "Ersatt av VH 2026-02.", &chef, ts("2026-01-21 08:00")).await.unwrap();
    let r1 = store.directive(d1).await.unwrap().unwrap();
    assert_eq!(r1.status, DirectiveStatus::Withdrawn);
    assert!(r1.withdrawn_at.is_some());
    assert_eq!(
        refused(store.withdraw_directive(d1, "", &chef, ts("2026-01-21 08:01")).await.unwrap_err()),
        "directive_not_pending"
    );
    assert_eq!(store.published_directives().await.unwrap().len(), 2, "withdrawn ones are still shown");

    let log = store
        .access_log(&AccessFilter { user_id: Some(mas.actor.user.id), limit: 50, ..Default::default() })
        .await
        .unwrap();
    assert!(log.iter().any(|e| e.action == "directive.publish" && e.object_id == Some(d1)));
    assert!(log.iter().any(|e| e.action == "directive.reject" && e.object_id == Some(d3)));
});
