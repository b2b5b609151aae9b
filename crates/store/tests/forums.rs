//! Forums in storage, on both databases: from a raised item to approved minutes with action
//! items and attendance; fixed minutes refuse every change; history and access log follow.

use jiff::civil::{date, time};
use samverka_domain::access::Role;
use samverka_domain::actor::{Actor, UnitRef, UserRef};
use samverka_domain::forum::{
    ActionSpec, ActionStatus, ForumKind, ForumSpec, ItemKind, ItemProposal, MeetingStatus, Member, Schedule,
    attendance_summary,
};
use samverka_domain::ids::{HsaId, Kommunkod};
use samverka_domain::org::{AddressEntry, CareType, Organisation, OrganisationKind, Unit, UnitKind};
use samverka_store::{AccessFilter, Audit, ItemMinutes, Store, StoreError, reference_unit_ref};
use uuid::Uuid;

#[macro_use]
mod common;
use common::*;

struct World {
    kommun: Organisation,
    region: Organisation,
    bistand: UnitRef,
    ward: UnitRef,
    vc: UnitRef,
}

fn who(unit: &UnitRef, role: Role) -> Audit {
    let user = UserRef { id: Uuid::now_v7(), name: format!("{} på {}", role.label_sv(), unit.name) };
    Audit { actor: Actor { user, unit: unit.clone(), role }, assignment_id: None, client_address: None }
}

async fn seed(store: &Store) -> World {
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
    let unit = |name: &str, kind, o: &Organisation, hsa: &str| Unit {
        id: Uuid::now_v7(),
        organisation_id: o.id,
        kind,
        name: name.into(),
        hsa_id: HsaId::parse(hsa).unwrap(),
        care_type: CareType::Somatic,
        receives_for_kommun: None,
        address: AddressEntry::default(),
    };
    let units = [
        unit("Biståndsenheten Solna", UnitKind::Bistandsenhet, &kommun, "SE2120002882-B1"),
        unit("Avdelning 12", UnitKind::Ward, &region, "SE2321000016-A12"),
        unit("Vårdcentralen Råsunda", UnitKind::Vardcentral, &region, "SE2321000016-VC1"),
    ];
    for u in &units {
        store.insert_unit(u, now).await.unwrap();
    }
    let r: Vec<UnitRef> = units.iter().map(reference_unit_ref).collect();
    World { kommun, region, bistand: r[0].clone(), ward: r[1].clone(), vc: r[2].clone() }
}

fn spec() -> ForumSpec {
    ForumSpec {
        name: "Fredagsavstämning Solna".into(),
        kind: ForumKind::Statusmote,
        purpose: "Kommunen och alla utförare hör samma besked samtidigt.".into(),
        video_link: Some("https://mote.example.se/fredag".into()),
        schedule: Schedule {
            first_date: date(2026, 1, 9),
            interval_weeks: 2,
            start: time(13, 0, 0, 0),
            duration_minutes: 60,
            paused: false,
        },
    }
}

fn conflict(e: StoreError) -> &'static str {
    match e {
        StoreError::Problem(p) => p.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

on_both!(a_forum_from_raised_item_to_approved_minutes, |store: Store| async move {
    let w = seed(&store).await;
    let chair = who(&w.bistand, Role::Enhetschef);
    let ward = who(&w.ward, Role::Vardsamordnare);
    let forum = Uuid::now_v7();
    store.create_forum(forum, &spec(), w.bistand.id, &chair, ts("2026-01-02 10:00")).await.unwrap();
    // Repeating the request changes nothing.
    store.create_forum(forum, &spec(), w.bistand.id, &chair, ts("2026-01-02 10:01")).await.unwrap();
    let f = store.forum(forum).await.unwrap().unwrap();
    assert_eq!((f.spec, f.organiser_unit_id), (spec(), w.bistand.id));
    assert_eq!(store.forums_of_unit(w.bistand.id).await.unwrap().len(), 1);
    assert!(store.forums_of_unit(w.ward.id).await.unwrap().is_empty(), "not a member yet");

    let member =
        Member { unit_id: w.ward.id, role: Role::Vardsamordnare, mandate: "Beslut om avdelningens rutiner".into() };
    store.add_forum_member(forum, &member, "Avdelning 12", &chair, ts("2026-01-02 10:05")).await.unwrap();
    let again = store.add_forum_member(forum, &member, "Avdelning 12", &chair, ts("2026-01-02 10:06")).await;
    assert_eq!(conflict(again.unwrap_err()), "member_exists");
    let mine = store.forums_of_unit(w.ward.id).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].members, vec![member.clone()]);

    let weekly = spec().schedule.raised().unwrap();
    store.set_forum_schedule(forum, &weekly, "raised", "varje vecka", &chair, ts("2026-01-03 09:00")).await.unwrap();
    assert_eq!(store.forum(forum).await.unwrap().unwrap().spec.schedule.interval_weeks, 1);
    let history = store.forum_history(forum).await.unwrap();
    let changes: Vec<&str> = history.iter().map(|h| h.change.as_str()).collect();
    assert_eq!(changes, ["raised", "member_added", "created"], "newest first, the repeat not twice");
    assert_eq!(history[0].user_name, chair.actor.user.name);

    // The ward raises an item; it waits until it is put on an agenda.
    let item = Uuid::now_v7();
    let proposal = ItemProposal {
        kind: ItemKind::Arbeta,
        title: "Hjälpmedel vid helgutskrivning".into(),
        why: "Patienter kommer hem utan rullator på lördagar.".into(),
        affected: "Hemtjänsten".into(),
        ask: "Beslut om gemensam rutin".into(),
    };
    store.raise_item(item, forum, &proposal, &ward, ts("2026-01-05 08:00")).await.unwrap();
    let waiting = store.forum_items(forum, None).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!((waiting[0].proposal.clone(), waiting[0].raised_by_unit_id), (proposal.clone(), w.ward.id));

    let meeting = Uuid::now_v7();
    let (start, end) = weekly.meeting_at(date(2026, 1, 9));
    store.plan_meeting(meeting, forum, start, end, "2026-01-09", &chair, ts("2026-01-05 09:00")).await.unwrap();
    store.place_item(item, Some(meeting), None, &chair, ts("2026-01-05 09:01")).await.unwrap();
    assert!(store.forum_items(forum, None).await.unwrap().is_empty());
    let agenda = store.forum_items(forum, Some(meeting)).await.unwrap();
    assert_eq!((agenda.len(), agenda[0].position), (1, 1));
    let twice = store.place_item(item, Some(meeting), None, &chair, ts("2026-01-05 09:02")).await;
    assert_eq!(conflict(twice.unwrap_err()), "item_moved");

    // The meeting is held: minutes, attendance, an action item.
    let minutes = [ItemMinutes { item_id: item, note: "Diskuterades.".into(), decision: "Rutin tas fram.".into() }];
    store.write_minutes(meeting, "Alla utförare närvarade.", &minutes, &chair, ts("2026-01-09 14:05")).await.unwrap();
    let m = store.meeting(meeting).await.unwrap().unwrap();
    assert_eq!((m.status, m.notes.as_str()), (MeetingStatus::Held, "Alla utförare närvarade."));
    assert_eq!(store.forum_items(forum, Some(meeting)).await.unwrap()[0].decision, "Rutin tas fram.");
    store
        .record_attendance(meeting, &[(w.bistand.id, 3), (w.ward.id, 2), (w.vc.id, 0)], &chair, ts("2026-01-09 14:06"))
        .await
        .unwrap();
    assert_eq!(store.meeting_attendance(meeting).await.unwrap().len(), 2, "nobody from the vårdcentral");
    let (held, rows) = store.forum_attendance(forum).await.unwrap();
    let sum = attendance_summary(&held, &rows);
    assert_eq!((sum.meetings, sum.average_organisations, sum.average_participants), (1, 2.0, 5.0));
    assert!(sum.per_organisation.iter().any(|(o, n)| *o == w.kommun.id && *n == 1));
    assert!(sum.per_organisation.iter().any(|(o, n)| *o == w.region.id && *n == 1));

    let action = Uuid::now_v7();
    let a = ActionSpec {
        what: "Ta fram rutin".into(),
        owner_unit: w.ward.id,
        owner_name: "Vårdsamordnaren".into(),
        due: date(2026, 1, 30),
    };
    store.add_action(action, meeting, Some(item), &a, &chair, ts("2026-01-09 14:07")).await.unwrap();
    let actions = store.forum_actions(forum).await.unwrap();
    assert_eq!((actions.len(), actions[0].status, actions[0].item_id), (1, ActionStatus::Open, Some(item)));

    // Approved minutes are fixed.
    store.approve_minutes(meeting, "2026-01-09", &chair, ts("2026-01-12 09:00")).await.unwrap();
    let m = store.meeting(meeting).await.unwrap().unwrap();
    assert_eq!(
        (m.status, m.approved_by_name.as_deref()),
        (MeetingStatus::Approved, Some(chair.actor.user.name.as_str()))
    );
    let late = ts("2026-01-12 10:00");
    assert_eq!(
        conflict(store.write_minutes(meeting, "Ändrat", &[], &chair, late).await.unwrap_err()),
        "minutes_approved"
    );
    assert_eq!(conflict(store.record_attendance(meeting, &[], &chair, late).await.unwrap_err()), "minutes_approved");
    assert_eq!(conflict(store.approve_minutes(meeting, "x", &chair, late).await.unwrap_err()), "minutes_approved");
    assert_eq!(
        conflict(store.add_action(Uuid::now_v7(), meeting, None, &a, &chair, late).await.unwrap_err()),
        "minutes_approved"
    );
    assert_eq!(store.meeting(meeting).await.unwrap().unwrap().notes, "Alla utförare närvarade.");
    // Its action item carries on until done, by whoever reports it.
    store.set_action_status(action, ActionStatus::Done, &ward, ts("2026-01-20 08:00")).await.unwrap();
    assert_eq!(store.action(action).await.unwrap().unwrap().status, ActionStatus::Done);

    // A cancelled meeting sends its items back to wait.
    let next = Uuid::now_v7();
    let (s2, e2) = weekly.meeting_at(date(2026, 1, 16));
    store.plan_meeting(next, forum, s2, e2, "2026-01-16", &chair, late).await.unwrap();
    let item2 = Uuid::now_v7();
    store
        .raise_item(
            item2,
            forum,
            &ItemProposal { kind: ItemKind::BraAttVeta, ask: String::new(), ..proposal },
            &ward,
            late,
        )
        .await
        .unwrap();
    store.place_item(item2, Some(next), None, &chair, late).await.unwrap();
    store.cancel_meeting(next, "2026-01-16", &chair, late).await.unwrap();
    assert_eq!(store.forum_items(forum, None).await.unwrap().len(), 1);
    assert_eq!(store.meeting(next).await.unwrap().unwrap().status, MeetingStatus::Cancelled);
    assert_eq!(store.meetings_of_forum(forum).await.unwrap().len(), 2);
    let (held, _) = store.forum_attendance(forum).await.unwrap();
    assert_eq!(held.len(), 1, "a cancelled meeting is not counted");

    // A calendar address: a new one revokes the old.
    let person = ward.actor.user.id;
    let account = samverka_store::NewAccount::without_sign_in(person, ward.actor.user.name.clone(), w.region.id);
    store.create_account(&account, late).await.unwrap();
    store.create_calendar_feed("hash-1", person, forum, &ward, late).await.unwrap();
    assert_eq!(store.calendar_feed("hash-1").await.unwrap(), Some((person, forum)));
    store.create_calendar_feed("hash-2", person, forum, &ward, late).await.unwrap();
    assert_eq!(store.calendar_feed("hash-1").await.unwrap(), None, "the old address is revoked");
    assert_eq!(store.calendar_feed("hash-2").await.unwrap(), Some((person, forum)));
    store.remove_forum_member(forum, w.ward.id, Role::Vardsamordnare, "Avdelning 12", &chair, late).await.unwrap();
    assert!(store.forums_of_unit(w.ward.id).await.unwrap().is_empty());
    let gone = store.remove_forum_member(forum, w.ward.id, Role::Vardsamordnare, "Avdelning 12", &chair, late).await;
    assert_eq!(conflict(gone.unwrap_err()), "not_found");

    // Every write is in the access log with the object it touched.
    let log = store
        .access_log(&AccessFilter { unit_id: Some(w.bistand.id), limit: 100, ..Default::default() })
        .await
        .unwrap();
    let approve = log.iter().find(|e| e.action == "forum.minutes_approve").unwrap();
    assert_eq!((approve.object_id, approve.patient_id), (Some(meeting), None));
    assert!(log.iter().any(|e| e.action == "forum.create" && e.object_id == Some(forum)));
    let ward_log =
        store.access_log(&AccessFilter { unit_id: Some(w.ward.id), limit: 100, ..Default::default() }).await.unwrap();
    assert!(ward_log.iter().any(|e| e.action == "forum.item_raise" && e.object_id == Some(item)));
});

on_both!(an_unknown_forum_or_meeting_is_refused_and_nothing_is_written, |store: Store| async move {
    let w = seed(&store).await;
    let chair = who(&w.bistand, Role::Enhetschef);
    let now = ts("2026-01-05 09:00");
    let before = store.access_log_count().await.unwrap();
    let nowhere = Uuid::now_v7();
    let s = spec().schedule;
    assert_eq!(
        conflict(store.set_forum_schedule(nowhere, &s, "raised", "", &chair, now).await.unwrap_err()),
        "not_found"
    );
    assert_eq!(
        conflict(store.plan_meeting(Uuid::now_v7(), nowhere, now, now, "", &chair, now).await.unwrap_err()),
        "not_found"
    );
    assert_eq!(conflict(store.write_minutes(nowhere, "", &[], &chair, now).await.unwrap_err()), "not_found");
    assert_eq!(
        conflict(store.set_action_status(nowhere, ActionStatus::Done, &chair, now).await.unwrap_err()),
        "not_found"
    );
    assert_eq!(store.access_log_count().await.unwrap(), before, "a refused write leaves no trace of success");
});
