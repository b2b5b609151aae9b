//! Storage tests. Every test runs twice: on an SQLite file and on a real PostgreSQL server
//! started by the test process.

use samverka_domain::access::Role;
use samverka_domain::case::{Command, OpenCase, Phase};
use samverka_domain::deadlines::DeadlineKind;
use samverka_domain::ids::{HsaId, Kommunkod, PatientIdentifier, personnummer_with_check_digit};
use samverka_domain::message::MessageBody;
use samverka_domain::org::{AddressEntry, CareType, Organisation, OrganisationKind, Unit, UnitKind};
use samverka_domain::patient::ProtectedIdentity;
use samverka_store::{AccessFilter, NewPatient, Outcome, Store, StoreError, reference_unit_ref};
use uuid::Uuid;

#[macro_use]
mod common;
use common::*;

on_both!(history_and_projections_agree, |store: Store| async move {
    let w = seed(&store).await;
    let case_id = open(&store, &w, "2026-11-02 08:00").await;
    // Before the notice: the ward owes it, due 24 h after admission.
    let due = store.due_deadlines(w.ward.id, ts("2026-11-04 00:00")).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].kind, due[0].due), (DeadlineKind::AdmissionNotice, ts("2026-11-03 08:00")));
    let with_patient = store.due_deadlines_with_patients(w.ward.id, ts("2026-11-04 00:00")).await.unwrap();
    assert_eq!(with_patient.len(), 1);
    assert_eq!((with_patient[0].deadline.case_id, with_patient[0].patient_name.as_str()), (case_id, "Åsa Öberg"));
    assert_eq!(with_patient[0].protection, ProtectedIdentity::None);
    assert!(store.due_deadlines_with_patients(w.bistand.id, ts("2026-11-04 00:00")).await.unwrap().is_empty());

    let cmd = notice(&w);
    let Command::SendMessage { message_id, .. } = &cmd else { unreachable!() };
    let message_id = *message_id;
    store.execute(case_id, &w.actor(&w.ward), cmd, ts("2026-11-02 09:00")).await.unwrap();
    assert!(
        store
            .due_deadlines(w.ward.id, ts("2026-11-04 00:00"))
            .await
            .unwrap()
            .iter()
            .all(|d| d.kind != DeadlineKind::AdmissionNotice)
    );

    // The notice is in both recipients' inboxes, unopened.
    let inbox = store.inbox(w.bistand.id, false, 50).await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!((inbox[0].message_id, inbox[0].opened_at), (message_id, None));
    assert_eq!(inbox[0].patient_name, "Åsa Öberg");
    store
        .execute(case_id, &w.actor(&w.bistand), Command::OpenMessage { message_id }, ts("2026-11-02 09:30"))
        .await
        .unwrap();
    assert_eq!(store.inbox(w.bistand.id, false, 50).await.unwrap()[0].opened_at, Some(ts("2026-11-02 09:30")));
    store
        .execute(case_id, &w.actor(&w.bistand), Command::AcknowledgeMessage { message_id }, ts("2026-11-02 09:40"))
        .await
        .unwrap();
    assert!(store.inbox(w.bistand.id, false, 50).await.unwrap().is_empty(), "acknowledged leaves the to-do inbox");
    assert_eq!(store.inbox(w.bistand.id, true, 50).await.unwrap()[0].acknowledged_at, Some(ts("2026-11-02 09:40")));
    assert_eq!(store.inbox(w.vc.id, false, 50).await.unwrap().len(), 1, "the vårdcentral has not acknowledged");

    // Need-to-know projection: parties see the case, an unrelated vårdcentral does not.
    assert_eq!(store.cases_for_unit(w.vc.id, false, 50).await.unwrap().len(), 1);
    assert!(store.cases_for_unit(w.other.id, true, 50).await.unwrap().is_empty());

    // The stored snapshot is exactly what replaying the history gives: as this process
    // keeps it, and as read anew from the database.
    let events = store.case_events(case_id).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=events.len() as u32).collect::<Vec<_>>());
    let replayed = samverka_domain::case::Case::from_events(&events).unwrap();
    assert_eq!(replayed, *store.case(case_id).await.unwrap().unwrap().case);
    store.forget_kept_cases();
    assert_eq!(replayed, *store.case(case_id).await.unwrap().unwrap().case);
    assert_eq!(replayed.phase(), Phase::Notified);

    // The page's timeline is the history without the deliveries (the notice went to two units).
    let delivered = |e: &samverka_domain::case::RecordedEvent| {
        matches!(e.event, samverka_domain::case::CaseEvent::MessageDelivered { .. })
    };
    assert_eq!(events.iter().filter(|e| delivered(e)).count(), 2);
    let timeline = store.case_timeline(case_id, events.last().unwrap().seq).await.unwrap().to_vec();
    assert_eq!(timeline, events.into_iter().filter(|e| !delivered(e)).collect::<Vec<_>>());
});

on_both!(a_timeline_is_the_history_up_to_the_version_asked, |store: Store| async move {
    let w = seed(&store).await;
    let case_id = open(&store, &w, "2026-11-02 08:00").await;
    let (record, _) = store.execute(case_id, &w.actor(&w.ward), notice(&w), ts("2026-11-02 09:00")).await.unwrap();
    let first = record.case.version;
    let expected = |upto: u32| {
        let store = store.clone();
        async move {
            let all = store.case_events(case_id).await.unwrap();
            all.into_iter()
                .filter(|e| {
                    e.seq <= upto && !matches!(e.event, samverka_domain::case::CaseEvent::MessageDelivered { .. })
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(store.case_timeline(case_id, first).await.unwrap().to_vec(), expected(first).await);
    let message_id = record.case.messages[0].message.id;
    store
        .execute(case_id, &w.actor(&w.bistand), Command::AcknowledgeMessage { message_id }, ts("2026-11-02 09:40"))
        .await
        .unwrap();
    let reply = Command::SendMessage {
        message_id: uuid::Uuid::now_v7(),
        body: MessageBody::Allmant { text: "Tack".into() },
        recipients: vec![w.bistand.clone()],
        corrects: None,
    };
    let (record, _) = store.execute(case_id, &w.actor(&w.ward), reply, ts("2026-11-02 10:00")).await.unwrap();
    let later = record.case.version;
    // A later version brings the events since the one kept; an earlier one is still itself.
    assert_eq!(store.case_timeline(case_id, later).await.unwrap().to_vec(), expected(later).await);
    assert_eq!(store.case_timeline(case_id, first).await.unwrap().to_vec(), expected(first).await);
    assert_eq!(store.case_timeline(case_id, later).await.unwrap().to_vec(), expected(later).await);
    store.forget_kept_cases();
    assert_eq!(store.case_timeline(case_id, later).await.unwrap().to_vec(), expected(later).await);
});

on_both!(history_is_append_only, |store: Store| async move {
    let w = seed(&store).await;
    let case_id = open(&store, &w, "2026-11-02 08:00").await;
    // Refused by the database's own trigger, on both databases in the same words.
    let update = store_exec(&store, &format!("UPDATE case_events SET kind = 'x' WHERE case_id = '{case_id}'")).await;
    assert!(
        update.as_ref().is_err_and(|e| e.contains("case_events is append-only")),
        "updating history must fail: {update:?}"
    );
    let delete = store_exec(&store, &format!("DELETE FROM case_events WHERE case_id = '{case_id}'")).await;
    assert!(
        delete.as_ref().is_err_and(|e| e.contains("case_events is append-only")),
        "deleting history must fail: {delete:?}"
    );
    assert_eq!(store.case_events(case_id).await.unwrap().len(), 1);
});

async fn store_exec(store: &Store, sql: &str) -> Result<(), String> {
    store.raw_execute_for_tests(sql).await.map_err(|e| e.to_string())
}

on_both!(a_cases_state_is_stored_compressed_on_sqlite_and_older_states_are_still_read, |store: Store| async move {
    let w = seed(&store).await;
    let case_id = open(&store, &w, "2026-11-02 08:00").await;
    store.execute(case_id, &w.actor(&w.ward), notice(&w), ts("2026-11-02 09:00")).await.unwrap();
    let case = store.case(case_id).await.unwrap().unwrap().case;
    assert_eq!(case.messages.len(), 1);
    // The state is stored without its messages (they are rows of their own).
    let state_json =
        serde_json::to_string(&samverka_domain::case::Case { messages: vec![], ..(*case).clone() }).unwrap();
    let json = serde_json::to_string(&case).unwrap();
    let stored = |sql: &str| {
        let (store, sql) = (store.clone(), sql.replace("{id}", &case_id.to_string()));
        async move { store.raw_text_for_tests(&sql).await.unwrap().unwrap() }
    };
    let sqlite = store.kind() == samverka_store::DatabaseKind::Sqlite;
    let how = if sqlite {
        "SELECT typeof(state) || ' ' || length(state) FROM cases WHERE id = '{id}'"
    } else {
        "SELECT pg_typeof(state)::text || ' ' || octet_length(state) FROM cases WHERE id = '{id}'"
    };
    let (kind, bytes) = {
        let s = stored(how).await;
        let (k, n) = s.split_once(' ').unwrap();
        (k.to_string(), n.parse::<usize>().unwrap())
    };
    if sqlite {
        assert_eq!(kind, "blob");
        assert!(bytes * 2 < state_json.len(), "{bytes} bytes stored for {} of JSON", state_json.len());
    } else {
        // PostgreSQL compresses large values itself.
        assert_eq!((kind.as_str(), bytes), ("text", state_json.len()));
    }
    let message_rows = || stored("SELECT CAST(COUNT(*) AS TEXT) FROM case_messages WHERE case_id = '{id}'");
    assert_eq!(message_rows().await, "1");
    // A state written before compression and before messages had rows of their own (text,
    // with its messages) is read as it is; when the case is next written it is compressed and
    // its messages move to their rows.
    let quoted = json.replace('\'', "''");
    store_exec(&store, &format!("UPDATE cases SET state = '{quoted}' WHERE id = '{case_id}'")).await.unwrap();
    store_exec(&store, &format!("DELETE FROM case_messages WHERE case_id = '{case_id}'")).await.unwrap();
    store.forget_kept_cases();
    assert_eq!(store.case(case_id).await.unwrap().unwrap().case, case);
    let reply = Command::SendMessage {
        message_id: Uuid::now_v7(),
        body: MessageBody::Allmant { text: "Svar".into() },
        recipients: vec![w.ward.clone()],
        corrects: None,
    };
    store.execute(case_id, &w.actor(&w.bistand), reply, ts("2026-11-02 10:00")).await.unwrap();
    let after = store.case(case_id).await.unwrap().unwrap().case;
    assert_eq!(after.messages.len(), case.messages.len() + 1);
    store.forget_kept_cases();
    assert_eq!(store.case(case_id).await.unwrap().unwrap().case, after);
    assert_eq!(*after, samverka_domain::case::Case::from_events(&store.case_events(case_id).await.unwrap()).unwrap());
    assert!(stored(how).await.starts_with(if sqlite { "blob " } else { "text " }));
    assert_eq!(message_rows().await, "2", "the old message moved to its row beside the new one");
    if sqlite {
        // A damaged compressed state is an error, never a case read wrong.
        store_exec(&store, &format!("UPDATE cases SET state = x'789c0b' WHERE id = '{case_id}'")).await.unwrap();
        store.forget_kept_cases();
        assert!(store.case(case_id).await.is_err());
    }
});

on_both!(a_store_that_keeps_no_cases_reads_each_from_the_database, |store: Store| async move {
    let store = store.with_case_cache(0);
    let w = seed(&store).await;
    let case_id = open(&store, &w, "2026-11-02 08:00").await;
    store.execute(case_id, &w.actor(&w.ward), notice(&w), ts("2026-11-02 09:00")).await.unwrap();
    let case = store.case(case_id).await.unwrap().unwrap().case;
    // A change behind the store's back (same version) is what the next read sees, since
    // nothing was kept.
    let changed = samverka_domain::case::Case { estimated_discharge: None, ..(*case).clone() };
    let json = serde_json::to_string(&changed).unwrap().replace('\'', "''");
    store_exec(&store, &format!("UPDATE cases SET state = '{json}' WHERE id = '{case_id}'")).await.unwrap();
    assert_eq!(*store.case(case_id).await.unwrap().unwrap().case, changed);
    assert!(case.estimated_discharge.is_some());
});

on_both!(a_repeated_request_is_applied_once, |store: Store| async move {
    let w = seed(&store).await;
    let case_id = open(&store, &w, "2026-11-02 08:00").await;
    let cmd = notice(&w);
    let (_, first) = store.execute(case_id, &w.actor(&w.ward), cmd.clone(), ts("2026-11-02 09:00")).await.unwrap();
    let (_, second) = store.execute(case_id, &w.actor(&w.ward), cmd, ts("2026-11-02 09:01")).await.unwrap();
    assert_eq!(first.len(), 3, "message sent and delivered to two units");
    assert!(second.is_empty());
    assert_eq!(store.case_events(case_id).await.unwrap().len(), 4);
});

on_both!(concurrent_writers_lose_nothing, |store: Store| async move {
    let w = seed(&store).await;
    let case_id = open(&store, &w, "2026-11-02 08:00").await;
    store.execute(case_id, &w.actor(&w.ward), notice(&w), ts("2026-11-02 09:00")).await.unwrap();
    let w = std::sync::Arc::new(w);
    let mut tasks = vec![];
    for i in 0..24 {
        let (store, w) = (store.clone(), w.clone());
        tasks.push(tokio::spawn(async move {
            let (from, to) = if i % 2 == 0 { (&w.bistand, &w.vc) } else { (&w.vc, &w.bistand) };
            let cmd = Command::SendMessage {
                message_id: Uuid::now_v7(),
                body: MessageBody::Allmant { text: format!("Meddelande {i}") },
                recipients: vec![to.clone()],
                corrects: None,
            };
            store.execute(case_id, &w.actor(from), cmd, ts("2026-11-02 10:00")).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let case = store.case(case_id).await.unwrap().unwrap().case;
    assert_eq!(case.messages.len(), 25);
    let events = store.case_events(case_id).await.unwrap();
    assert_eq!(events.len(), 1 + 3 + 24 * 2);
    assert_eq!(events.last().unwrap().seq as usize, events.len());
});

/// Two stores on one database, as two processes: each keeps the cases it read or wrote, and
/// each still sees, reads and writes on top of what the other wrote.
async fn each_process_sees_the_others_writes(a: Store, b: Store) {
    let w = seed(&a).await;
    let case_id = open(&a, &w, "2026-11-02 08:00").await;
    a.execute(case_id, &w.actor(&w.ward), notice(&w), ts("2026-11-02 09:00")).await.unwrap();
    let message = |text: &str, to: &samverka_domain::actor::UnitRef| Command::SendMessage {
        message_id: Uuid::now_v7(),
        body: MessageBody::Allmant { text: text.into() },
        recipients: vec![to.clone()],
        corrects: None,
    };
    let count = |store: &Store| {
        let store = store.clone();
        async move { store.case(case_id).await.unwrap().unwrap().case.messages.len() }
    };
    assert_eq!(count(&b).await, 1, "b reads the notice and keeps the case");
    a.execute(case_id, &w.actor(&w.ward), message("Från avdelningen", &w.bistand), ts("2026-11-02 09:10"))
        .await
        .unwrap();
    assert_eq!(count(&b).await, 2, "b sees a's message, though it kept the case before it");
    // Each writes on top of the other's change, alternately, both from what they keep.
    for i in 0..6 {
        let (store, from, to) = if i % 2 == 0 { (&b, &w.bistand, &w.ward) } else { (&a, &w.ward, &w.bistand) };
        let at = ts("2026-11-02 10:00") + jiff::SignedDuration::from_mins(i);
        store.execute(case_id, &w.actor(from), message(&format!("Svar {i}"), to), at).await.unwrap();
    }
    let replayed = samverka_domain::case::Case::from_events(&a.case_events(case_id).await.unwrap()).unwrap();
    assert_eq!(replayed.messages.len(), 8);
    assert_eq!(a.case(case_id).await.unwrap().unwrap().case.as_ref(), &replayed);
    assert_eq!(b.case(case_id).await.unwrap().unwrap().case.as_ref(), &replayed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_process_sees_the_others_writes_sqlite() {
    let (a, dir) = sqlite().await;
    let path = dir.path().join("samverka.db");
    let b = Store::connect(path.to_str().unwrap(), samverka_store::Agreements::built_in()).await.unwrap();
    each_process_sees_the_others_writes(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_process_sees_the_others_writes_postgres() {
    let (a, url) = postgres().await;
    let b = Store::connect(&url, samverka_store::Agreements::built_in()).await.unwrap();
    each_process_sees_the_others_writes(a, b).await;
}

on_both!(patient_corrections_are_appended, |store: Store| async move {
    let w = seed(&store).await;
    let mut p = store.patient(w.patient).await.unwrap().unwrap();
    p.family_name = "Öberg Lind".into();
    p.protection = ProtectedIdentity::SkyddadFolkbokforing;
    let v = store.revise_patient(&p, &w.actor(&w.bistand), ts("2026-11-03 10:00")).await.unwrap();
    assert_eq!(v, 2);
    let revisions = store.patient_revisions(w.patient).await.unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(revisions[0].2.family_name, "Öberg");
    assert_eq!(revisions[1].2.family_name, "Öberg Lind");
    assert_eq!(store.patient(w.patient).await.unwrap().unwrap().protection, ProtectedIdentity::SkyddadFolkbokforing);
    // The same personnummer cannot be registered twice.
    let again = store
        .insert_patient(
            Uuid::now_v7(),
            NewPatient {
                identifier: p.identifier.clone(),
                given_name: "X".into(),
                family_name: "Y".into(),
                kommun: p.kommun.clone(),
                listed_unit: None,
                protection: ProtectedIdentity::None,
                address: None,
            },
            &w.actor(&w.ward),
            ts("2026-11-03 10:00"),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Problem(p)) if p.code == "patient_exists"));
});

on_both!(liability_candidates_are_the_ready_cases_of_the_window, |store: Store| async move {
    let w = seed(&store).await;
    let ready = |w: &World| Command::SendMessage {
        message_id: Uuid::now_v7(),
        body: MessageBody::Utskrivningsklar { referrals_cancelled: true, sip_needed: None, note: String::new() },
        recipients: vec![w.bistand.clone(), w.vc.clone()],
        corrects: None,
    };
    let a = open(&store, &w, "2026-10-01 08:00").await;
    store.execute(a, &w.actor(&w.ward), notice(&w), ts("2026-10-01 09:00")).await.unwrap();
    store.execute(a, &w.actor(&w.ward), ready(&w), ts("2026-10-03 09:00")).await.unwrap();
    store
        .execute(a, &w.actor(&w.ward), Command::RecordDischarge { at: ts("2026-10-20 10:00") }, ts("2026-10-20 10:00"))
        .await
        .unwrap();
    let b = open(&store, &w, "2026-11-02 08:00").await;
    store.execute(b, &w.actor(&w.ward), notice(&w), ts("2026-11-02 09:00")).await.unwrap();
    store.execute(b, &w.actor(&w.ward), ready(&w), ts("2026-11-05 09:00")).await.unwrap();
    let _never_ready = open(&store, &w, "2026-11-03 08:00").await;
    let k = Kommunkod::parse("0184").unwrap();
    let nov = store.liability_cases(&k, "stockholm", ts("2026-11-01 00:00"), ts("2026-12-01 00:00")).await.unwrap();
    assert_eq!(nov.iter().map(|c| c.id).collect::<Vec<_>>(), vec![b]);
    let oct_nov = store.liability_cases(&k, "stockholm", ts("2026-10-01 00:00"), ts("2026-12-01 00:00")).await.unwrap();
    assert_eq!(oct_nov.len(), 2);
    assert!(
        store.liability_cases(&k, "demo", ts("2026-10-01 00:00"), ts("2026-12-01 00:00")).await.unwrap().is_empty()
    );
});

on_both!(migrations_run_twice_and_the_database_checks_out, |store: Store| async move {
    store.migrate().await.unwrap();
    assert!(store.is_empty().await.unwrap());
    seed(&store).await;
    assert!(!store.is_empty().await.unwrap());
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
});

on_both!(refused_commands_among_concurrent_ones_change_nothing, |store: Store| async move {
    // On SQLite the writes waiting for the writer share one commit, each in its own savepoint:
    // a refused command must leave no trace, and the others must all be kept.
    let w = seed(&store).await;
    let case_id = open(&store, &w, "2026-11-02 08:00").await;
    store.execute(case_id, &w.actor(&w.ward), notice(&w), ts("2026-11-02 09:00")).await.unwrap();
    let log_before = store.access_log_count().await.unwrap();
    let w = std::sync::Arc::new(w);
    let mut tasks = vec![];
    for i in 0..20 {
        let (store, w) = (store.clone(), w.clone());
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let cmd = Command::SendMessage {
                    message_id: Uuid::now_v7(),
                    body: MessageBody::Allmant { text: format!("Meddelande {i}") },
                    recipients: vec![w.vc.clone()],
                    corrects: None,
                };
                store.execute(case_id, &w.actor(&w.bistand), cmd, ts("2026-11-02 10:00")).await.is_ok()
            } else {
                // A unit outside the case may not close it.
                let cmd = Command::CloseCase { note: String::new() };
                store.execute(case_id, &w.actor(&w.other), cmd, ts("2026-11-02 10:00")).await.is_ok()
            }
        }));
    }
    let mut ok = vec![];
    for t in tasks {
        ok.push(t.await.unwrap());
    }
    assert_eq!(ok, (0..20).map(|i| i % 2 == 0).collect::<Vec<_>>());
    let case = store.case(case_id).await.unwrap().unwrap().case;
    assert_eq!(case.messages.len(), 11);
    assert!(case.phase().is_open());
    let events = store.case_events(case_id).await.unwrap();
    assert_eq!(events.len(), 1 + 3 + 10 * 2);
    assert_eq!(events.iter().map(|e| e.seq as usize).collect::<Vec<_>>(), (1..=events.len()).collect::<Vec<_>>());
    assert_eq!(store.access_log_count().await.unwrap(), log_before + 10, "one entry per kept command");
});

on_both!(several_commands_are_one_change_or_none, |store: Store| async move {
    let w = seed(&store).await;
    let case_id = open(&store, &w, "2026-11-02 08:00").await;
    store.execute(case_id, &w.actor(&w.ward), notice(&w), ts("2026-11-02 08:30")).await.unwrap();
    let mut ids = vec![];
    for text in ["Första", "Andra"] {
        let message_id = Uuid::now_v7();
        let cmd = Command::SendMessage {
            message_id,
            body: MessageBody::Allmant { text: text.into() },
            recipients: vec![w.bistand.clone()],
            corrects: None,
        };
        store.execute(case_id, &w.actor(&w.ward), cmd, ts("2026-11-02 09:00")).await.unwrap();
        ids.push(message_id);
    }
    let events_before = store.case_events(case_id).await.unwrap().len();
    let log_before = store.access_log_count().await.unwrap();
    // Both opened in one change, each with its event and its access-log entry.
    let opens = ids.iter().map(|&message_id| Command::OpenMessage { message_id }).collect();
    let (record, events) =
        store.execute_all(case_id, &w.actor(&w.bistand), opens, ts("2026-11-02 09:30")).await.unwrap();
    assert_eq!(events.len(), 2);
    let opened = |m: &&samverka_domain::message::MessageState| ids.contains(&m.message.id);
    assert!(record.case.messages.iter().filter(opened).all(|m| m.receipt(w.bistand.id).unwrap().opened.is_some()));
    assert_eq!(store.access_log_count().await.unwrap(), log_before + 2);
    assert_eq!(store.case_events(case_id).await.unwrap().len(), events_before + 2);

    // The second is refused (a case is closed only after discharge): the first, allowed on its
    // own, is not carried out either.
    let cmds = vec![Command::AcknowledgeMessage { message_id: ids[0] }, Command::CloseCase { note: String::new() }];
    let refused = store.execute_all(case_id, &w.actor(&w.bistand), cmds, ts("2026-11-02 09:40")).await;
    assert!(matches!(&refused, Err(StoreError::Problem(p)) if p.code == "step_out_of_order"), "{refused:?}");
    assert_eq!(store.case_events(case_id).await.unwrap().len(), events_before + 2);
    assert_eq!(store.inbox(w.bistand.id, false, 50).await.unwrap().len(), 3, "nothing acknowledged");
    assert_eq!(store.access_log_count().await.unwrap(), log_before + 2);
    // And nothing at all is no change.
    let none = store.execute_all(case_id, &w.actor(&w.bistand), vec![], ts("2026-11-02 09:50")).await;
    assert!(matches!(&none, Err(StoreError::Problem(p)) if p.code == "no_command"), "{none:?}");
});

on_both!(a_patients_cases_are_found_for_the_units_taking_part, |store: Store| async move {
    let w = seed(&store).await;
    let case_id = open(&store, &w, "2026-11-02 08:00").await;
    let found = |unit| {
        let store = store.clone();
        async move {
            store
                .cases_of_patient_for_unit(w.patient, unit)
                .await
                .unwrap()
                .iter()
                .map(|c| c.case_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found(w.ward.id).await, vec![case_id]);
    assert!(found(w.bistand.id).await.is_empty(), "not yet told of the admission");
    store.execute(case_id, &w.actor(&w.ward), notice(&w), ts("2026-11-02 09:00")).await.unwrap();
    assert_eq!(found(w.bistand.id).await, vec![case_id]);
    assert!(found(w.other.id).await.is_empty(), "a unit outside the care finds nothing");
});

on_both!(every_write_is_logged_in_its_own_transaction, |store: Store| async move {
    let w = seed(&store).await;
    let before = store.access_log_count().await.unwrap();
    let case_id = open(&store, &w, "2026-11-02 08:00").await;
    store.execute(case_id, &w.actor(&w.ward), notice(&w), ts("2026-11-02 09:00")).await.unwrap();
    // A refused command writes no event and (here) no entry: the caller logs the refusal.
    let refused = store
        .execute(case_id, &w.actor(&w.other), Command::CloseCase { note: String::new() }, ts("2026-11-02 09:05"))
        .await;
    assert!(matches!(&refused, Err(StoreError::Problem(p)) if p.code == "not_a_party"), "{refused:?}");
    let entries = store
        .access_log(&AccessFilter { patient_id: Some(w.patient), limit: 100, ..Default::default() })
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["patient.register", "case.open", "case.send_message"]);
    assert_eq!(store.access_log_count().await.unwrap(), before + 2);
    let e = &entries[0];
    assert_eq!(
        (e.case_id, e.unit_id, e.role, e.outcome),
        (Some(case_id), w.ward.id, Some(Role::Vardsamordnare), Outcome::Allowed)
    );
    assert_eq!(e.client_address.as_deref(), Some("192.0.2.1"));
});

on_both!(the_access_log_is_append_only_and_purged_only_past_retention, |store: Store| async move {
    let w = seed(&store).await;
    let audit = w.actor(&w.vc);
    for (i, at) in ["2019-01-01 10:00", "2020-06-01 10:00", "2026-11-02 10:00"].iter().enumerate() {
        store
            .log_access(&audit.entry("case.read", ts(at), Some(w.patient), None, Outcome::Allowed, None, i == 2))
            .await
            .unwrap();
    }
    let refusal = |sql: &'static str| {
        let store = store.clone();
        async move { store.raw_execute_for_tests(sql).await.map_err(|e| e.to_string()).unwrap_err() }
    };
    let update = refusal("UPDATE access_log SET action = 'x'").await;
    assert!(update.contains("access_log is append-only"), "{update}");
    let delete = refusal("DELETE FROM access_log").await;
    assert!(
        delete.contains("access_log rows are kept for the retention period"),
        "no delete without a purge cut-off: {delete}"
    );
    // Five years back from 2026-11-02: only the 2019 and 2020 entries may go.
    let purged = store.purge_access_log(ts("2021-11-02 00:00"), ts("2026-11-02 12:00")).await.unwrap();
    assert_eq!(purged, 2);
    let left = store
        .access_log(&AccessFilter { user_id: Some(audit.actor.user.id), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].protected_identity);
    // The cut-off does not open newer rows.
    let delete = refusal("DELETE FROM access_log").await;
    assert!(delete.contains("access_log rows are kept for the retention period"), "{delete}");
});

on_both!(a_totp_time_step_is_used_once, |store: Store| async move {
    let w = seed(&store).await;
    let org = store.units().await.unwrap()[0].organisation_id;
    let id = Uuid::now_v7();
    let account = samverka_store::NewAccount {
        id,
        name: "Test Testsson".into(),
        hsa_id: None,
        organisation_id: org,
        username: Some("test".into()),
        password_hash: Some("$argon2id$fake".into()),
        password_must_change: false,
        totp_secret: Some("JBSWY3DPEHPK3PXP".into()),
        totp_confirmed: false,
        oidc: None,
    };
    store.create_account(&account, ts("2026-11-02 08:00")).await.unwrap();
    assert!(store.use_totp_step(id, 1000, true).await.unwrap());
    assert!(!store.use_totp_step(id, 1000, false).await.unwrap(), "the same step again is a replay");
    assert!(!store.use_totp_step(id, 999, false).await.unwrap(), "an older step is a replay");
    assert!(store.use_totp_step(id, 1001, false).await.unwrap());
    assert!(store.account(id).await.unwrap().unwrap().totp_confirmed);
    // Usernames are unique.
    let again = samverka_store::NewAccount { id: Uuid::now_v7(), ..account };
    assert!(
        matches!(store.create_account(&again, ts("2026-11-02 08:00")).await, Err(StoreError::Problem(p)) if p.code == "account_exists")
    );
    let _ = w;
});

on_both!(login_failures_are_counted_per_account_and_address, |store: Store| async move {
    let t = ts("2026-11-02 08:00");
    for _ in 0..3 {
        store.record_login_failure("anna", "10.0.0.1", t).await.unwrap();
    }
    store.record_login_failure("anna", "10.0.0.2", t).await.unwrap();
    store.record_login_failure("bert", "10.0.0.1", t).await.unwrap();
    store.record_login_failure("anna", "10.0.0.1", ts("2026-11-01 08:00")).await.unwrap();
    assert_eq!(store.login_failures("anna", "10.0.0.1", ts("2026-11-02 07:00")).await.unwrap(), (3, 4, 4));
    store.clear_login_failures("anna", Some("10.0.0.1")).await.unwrap();
    assert_eq!(store.login_failures("anna", "10.0.0.1", ts("2026-11-02 07:00")).await.unwrap(), (0, 1, 1));
    store.clear_login_failures("anna", None).await.unwrap();
    assert_eq!(store.login_failures("anna", "10.0.0.2", ts("2026-11-01 00:00")).await.unwrap(), (0, 0, 0));
});

on_both!(notices_route_only_to_the_municipality_or_the_region_of_its_lan, |store: Store| async move {
    let w = seed(&store).await;
    let now = ts("2026-11-01 00:00");
    let kommun = Kommunkod::parse("0184").unwrap();
    // Nacka's own unit and a private provider both claim Solna's notices; the region's
    // hemsjukvård (the region of Solna's län) receives them as in Stockholm.
    let org = |kind, name: &str, kommun: Option<&str>, region: Option<&str>, hsa: &str| Organisation {
        id: Uuid::now_v7(),
        kind,
        name: name.into(),
        region_code: region.map(str::to_string),
        kommunkod: kommun.map(|k| Kommunkod::parse(k).unwrap()),
        hsa_id: Some(HsaId::parse(hsa).unwrap()),
        acts_for: None,
    };
    let nacka = org(OrganisationKind::Kommun, "Nacka kommun", Some("0182"), None, "SE2120002841-0001");
    let private = org(OrganisationKind::PrivateProvider, "Omsorg AB", None, None, "SE5566778899-0001");
    store.insert_organisation(&nacka, None, now).await.unwrap();
    store.insert_organisation(&private, None, now).await.unwrap();
    let region_id = store.unit(w.ward.id).await.unwrap().unwrap().organisation_id;
    let claim = |org_id, name: &str, kind, hsa: &str| Unit {
        id: Uuid::now_v7(),
        organisation_id: org_id,
        kind,
        name: name.into(),
        hsa_id: HsaId::parse(hsa).unwrap(),
        care_type: CareType::Somatic,
        receives_for_kommun: Some(kommun.clone()),
        address: AddressEntry::default(),
    };
    let nacka_unit = claim(nacka.id, "Biståndsenheten Nacka", UnitKind::Bistandsenhet, "SE2120002841-B1");
    let private_unit = claim(private.id, "Omsorg AB hemtjänst", UnitKind::KommunalHsl, "SE5566778899-H1");
    let region_unit = claim(region_id, "Hemsjukvården Region Test", UnitKind::Hemsjukvard, "SE2321000016-H1");
    for u in [&nacka_unit, &private_unit, &region_unit] {
        store.insert_unit(u, now).await.unwrap();
    }
    let mut ids: Vec<Uuid> =
        store.routable_units(&kommun, Some(w.vc.id)).await.unwrap().into_iter().map(|r| r.unit.id).collect();
    ids.sort();
    let mut expected = vec![w.bistand.id, w.vc.id, region_unit.id];
    expected.sort();
    assert_eq!(ids, expected);
});

on_both!(two_requests_opening_the_same_case_make_one_case, |store: Store| async move {
    let w = std::sync::Arc::new(seed(&store).await);
    let open = OpenCase {
        case_id: Uuid::now_v7(),
        patient_id: w.patient,
        kommun: Kommunkod::parse("0184").unwrap(),
        listed_unit: Some(w.vc.id),
        care_type: CareType::Somatic,
        admitted_at: ts("2026-11-02 08:00"),
        needs_assessed_at: None,
        born: None,
        sip_at_home: None,
    };
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (store, w, open) = (store.clone(), w.clone(), open.clone());
            tokio::spawn(async move {
                store.open_case(&open, "stockholm", &w.actor(&w.ward), ts("2026-11-02 08:00")).await.unwrap()
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        let (record, new) = t.await.unwrap();
        assert_eq!(record.case.id, open.case_id);
        created += usize::from(new);
    }
    assert_eq!(created, 1, "exactly one request created the case");
    assert_eq!(store.case_events(open.case_id).await.unwrap().len(), 1);
});

on_both!(the_same_message_id_in_two_cases_reaches_the_inbox_twice, |store: Store| async move {
    let w = seed(&store).await;
    let first = open(&store, &w, "2026-11-02 08:00").await;
    let second = open(&store, &w, "2026-11-03 08:00").await;
    // A client that chooses its own ids may reuse one in another case.
    let cmd = notice(&w);
    store.execute(first, &w.actor(&w.ward), cmd.clone(), ts("2026-11-02 09:00")).await.unwrap();
    store.execute(second, &w.actor(&w.ward), cmd, ts("2026-11-03 09:00")).await.unwrap();
    let inbox = store.inbox(w.bistand.id, true, 100).await.unwrap();
    let mut cases: Vec<Uuid> = inbox.iter().map(|i| i.case_id).collect();
    cases.sort();
    assert_eq!(cases, {
        let mut c = vec![first, second];
        c.sort();
        c
    });
    assert_eq!(store.unread_count(w.bistand.id).await.unwrap(), 2);
});

on_both!(installation_facts_are_kept, |store: Store| async move {
    assert_eq!(store.installation_fact("demo_data").await.unwrap(), None);
    store.set_installation_fact("demo_data", "true").await.unwrap();
    store.set_installation_fact("demo_data", "false").await.unwrap();
    assert_eq!(store.installation_fact("demo_data").await.unwrap().as_deref(), Some("false"));
});

on_both!(follow_up_sums_follow_every_case_change, |store: Store| async move {
    use samverka_domain::followup::Totals;
    use samverka_store::KeyFilter;
    let w = seed(&store).await;
    store.set_ward_capacity(w.ward.id, Some("Norrviks sjukhus"), Some(20)).await.unwrap();
    let ready = |w: &World| Command::SendMessage {
        message_id: Uuid::now_v7(),
        body: MessageBody::Utskrivningsklar { referrals_cancelled: true, sip_needed: None, note: String::new() },
        recipients: vec![w.bistand.clone(), w.vc.clone()],
        corrects: None,
    };
    let discharge = |at: &str| Command::RecordDischarge { at: ts(at) };
    let late_notice = |w: &World| Command::SendMessage {
        message_id: Uuid::now_v7(),
        body: MessageBody::Inskrivningsmeddelande {
            estimated_discharge: "2026-12-05".parse().unwrap(),
            note: String::new(),
        },
        recipients: vec![w.bistand.clone(), w.vc.clone()],
        corrects: None,
    };
    // A: ready Thu 5 Nov, discharged Sat 7 Nov: 2 days, a weekend discharge.
    let a = open(&store, &w, "2026-11-02 08:00").await;
    store.execute(a, &w.actor(&w.ward), notice(&w), ts("2026-11-02 09:00")).await.unwrap();
    store.execute(a, &w.actor(&w.ward), ready(&w), ts("2026-11-05 10:00")).await.unwrap();
    store.execute(a, &w.actor(&w.ward), discharge("2026-11-07 14:00"), ts("2026-11-07 14:00")).await.unwrap();
    // B: discharged the day it was ready (day 0), in December.
    let b = open(&store, &w, "2026-11-28 08:00").await;
    store.execute(b, &w.actor(&w.ward), late_notice(&w), ts("2026-11-28 09:00")).await.unwrap();
    store.execute(b, &w.actor(&w.ward), ready(&w), ts("2026-12-01 09:00")).await.unwrap();
    store.execute(b, &w.actor(&w.ward), discharge("2026-12-01 15:00"), ts("2026-12-01 15:00")).await.unwrap();
    // C: still in hospital: nothing yet.
    let c = open(&store, &w, "2026-11-20 08:00").await;
    store.execute(c, &w.actor(&w.ward), late_notice(&w), ts("2026-11-20 09:00")).await.unwrap();

    let sum = |rows: Vec<samverka_store::MonthTotals>| {
        let mut t = Totals::default();
        rows.iter().for_each(|r| t.add(&r.totals));
        t
    };
    let kommun = KeyFilter::Exact("0184".into());
    let nov = sum(store.followup_months("kommun", &kommun, 202611, 202611, None).await.unwrap());
    assert_eq!((nov.episodes, nov.ready_days, nov.weekend_discharges, nov.bed_days), (1, 2, 1, 5));
    let both =
        sum(store.followup_months("kommun", &KeyFilter::Prefix("01".into()), 202611, 202612, None).await.unwrap());
    assert_eq!((both.episodes, both.ready_episodes, both.ready_episodes_with_days, both.ready_days), (2, 2, 1, 2));
    let hospital = store
        .followup_months("hospital", &KeyFilter::Exact("Norrviks sjukhus".into()), 202601, 202612, None)
        .await
        .unwrap();
    assert_eq!(sum(hospital).episodes, 2);
    let vc = sum(store.followup_months("vardcentral", &KeyFilter::All, 202601, 202612, None).await.unwrap());
    assert_eq!(vc.episodes, 2, "both patients are listed at the vårdcentral");
    let psych = store.followup_months("kommun", &kommun, 202601, 202612, Some(CareType::Psychiatric)).await.unwrap();
    assert_eq!(sum(psych).episodes, 0);

    // A discharge recorded in error is taken back: A leaves November's sums.
    store
        .execute(a, &w.actor(&w.ward), Command::CancelDischarge { note: "Fel patient".into() }, ts("2026-11-07 15:00"))
        .await
        .unwrap();
    let nov = sum(store.followup_months("kommun", &kommun, 202611, 202611, None).await.unwrap());
    assert_eq!(nov, Totals::default(), "the sums equal the cases again");
    store.execute(a, &w.actor(&w.ward), discharge("2026-11-09 10:00"), ts("2026-11-09 10:00")).await.unwrap();
    let nov = sum(store.followup_months("kommun", &kommun, 202611, 202611, None).await.unwrap());
    assert_eq!((nov.episodes, nov.ready_days, nov.weekend_discharges), (1, 4, 0));

    // Acknowledgements: the bistånd acknowledges A's notice after 40 minutes.
    let notice_id = store.case(a).await.unwrap().unwrap().case.messages[0].message.id;
    store
        .execute(a, &w.actor(&w.bistand), Command::AcknowledgeMessage { message_id: notice_id }, ts("2026-11-02 09:40"))
        .await
        .unwrap();
    let acks = store.ack_months(Some(&[w.bistand.id]), 202611, 202611).await.unwrap();
    assert_eq!(acks.len(), 1);
    // Four notices reached the bistånd in November: A's notice and ready notice, B's and C's notices.
    assert_eq!((acks[0].totals.notices, acks[0].totals.acknowledged, acks[0].totals.minutes), (4, 1, 40));

    // A database from before follow-up is filled in from the cases.
    store_exec(&store, "DELETE FROM case_followup").await.unwrap();
    store_exec(&store, "DELETE FROM followup_months").await.unwrap();
    store_exec(&store, "DELETE FROM ack_months").await.unwrap();
    assert_eq!(store.backfill_followup(ts("2026-12-02 00:00")).await.unwrap(), 3);
    let again = sum(store.followup_months("kommun", &kommun, 202611, 202612, None).await.unwrap());
    assert_eq!((again.episodes, again.ready_days), (2, 4));
    assert_eq!(store.ack_months(Some(&[w.bistand.id]), 202611, 202611).await.unwrap()[0].totals.acknowledged, 1);
    assert_eq!(store.backfill_followup(ts("2026-12-02 00:00")).await.unwrap(), 0, "once is enough");

    // Population figures are replaced per year.
    let k = Kommunkod::parse("0184").unwrap();
    store.set_population(&[(k.clone(), 2025, 14_000)]).await.unwrap();
    store.set_population(&[(k.clone(), 2026, 14_500)]).await.unwrap();
    assert_eq!(store.population(2026).await.unwrap().get("0184"), Some(&14_500));
    assert_eq!(store.population(2025).await.unwrap().get("0184"), Some(&14_000));
    assert!(store.population(2024).await.unwrap().is_empty());
});

on_both!(a_command_writes_what_changed_against_the_case_as_stored, |store: Store| async move {
    use samverka_domain::consent::{ConsentGiver, ConsentKind};
    use samverka_store::KeyFilter;
    let w = seed(&store).await;
    // Two wards of two hospitals: a transfer moves the case's follow-up figures with it.
    store.set_ward_capacity(w.ward.id, Some("Norrviks sjukhus"), Some(20)).await.unwrap();
    let region = store.unit(w.ward.id).await.unwrap().unwrap().organisation_id;
    let other_ward = Unit {
        id: Uuid::now_v7(),
        organisation_id: region,
        kind: UnitKind::Ward,
        name: "Avdelning 40".into(),
        hsa_id: HsaId::parse("SE2321000016-A40").unwrap(),
        care_type: CareType::Somatic,
        receives_for_kommun: None,
        address: AddressEntry::default(),
    };
    store.insert_unit(&other_ward, ts("2026-11-01 00:00")).await.unwrap();
    store.set_ward_capacity(other_ward.id, Some("Söderby sjukhus"), Some(10)).await.unwrap();

    let a = open(&store, &w, "2026-11-02 08:00").await;
    store.execute(a, &w.actor(&w.ward), notice(&w), ts("2026-11-02 09:00")).await.unwrap();
    let consent = |id: Uuid| Command::RecordConsent {
        consent_id: id,
        kind: ConsentKind::InformationSharing,
        given_by: ConsentGiver::Patient,
        given_at: ts("2026-11-02 10:00"),
        note: String::new(),
    };
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    store.execute(a, &w.actor(&w.ward), consent(first), ts("2026-11-02 10:00")).await.unwrap();
    store.execute(a, &w.actor(&w.ward), consent(second), ts("2026-11-02 10:05")).await.unwrap();
    assert_eq!(store.cases_of_consent(first).await.unwrap(), vec![a], "a consent is linked to its case");
    assert_eq!(store.cases_of_consent(second).await.unwrap(), vec![a], "so is one recorded later");

    // Moved to the other ward and discharged from there: the figures go to that ward's hospital.
    let to = reference_unit_ref(&other_ward);
    let transfer =
        Command::TransferPatient { to_ward: to.clone(), care_type: CareType::Somatic, at: ts("2026-11-03 08:00") };
    store.execute(a, &w.actor(&w.ward), transfer, ts("2026-11-03 08:00")).await.unwrap();
    let discharge = Command::RecordDischarge { at: ts("2026-11-06 12:00") };
    store.execute(a, &w.actor(&to), discharge, ts("2026-11-06 12:00")).await.unwrap();
    let episodes = |name: &str| {
        let store = store.clone();
        let name = name.to_string();
        async move {
            let rows = store.followup_months("hospital", &KeyFilter::Exact(name), 202601, 202612, None).await.unwrap();
            rows.iter().map(|r| r.totals.episodes).sum::<i64>()
        }
    };
    assert_eq!(episodes("Söderby sjukhus").await, 1, "counted at the hospital of the ward it was discharged from");
    assert_eq!(episodes("Norrviks sjukhus").await, 0);
});

on_both!(an_invoice_basis_from_stored_cases_with_an_exclusion_and_a_day_0_case, |store: Store| async move {
    use samverka_domain::agreement::Hundredths;
    use samverka_domain::liability::{Exclusion, LiabilityFacts, case_liability, municipal_basis};
    let w = seed(&store).await;
    // Västra Götaland's rules: a rolling 3-month average that leaves out day-0 episodes, and
    // no liability for a case whose needed SIP call was not made within 3 working days.
    let agreement = store.agreements().get("vastra-gotaland").unwrap();
    let open_vg = |at: &'static str| open_under(&store, &w, at, "vastra-gotaland");
    let send = |body: MessageBody| Command::SendMessage {
        message_id: Uuid::now_v7(),
        body,
        recipients: vec![w.bistand.clone(), w.vc.clone()],
        corrects: None,
    };
    let notice = || {
        send(MessageBody::Inskrivningsmeddelande {
            estimated_discharge: "2026-10-20".parse().unwrap(),
            note: String::new(),
        })
    };
    let ready = |sip: bool| {
        send(MessageBody::Utskrivningsklar { referrals_cancelled: true, sip_needed: Some(sip), note: String::new() })
    };
    let ward = w.actor(&w.ward);
    let run = |id: Uuid, cmd: Command, at: &'static str| {
        let store = store.clone();
        let ward = ward.clone();
        async move { store.execute(id, &ward, cmd, ts(at)).await.unwrap() }
    };
    // X: a SIP was needed from Thu 1 Oct and never called; 7 days (2–8 Oct): excluded.
    let x = open_vg("2026-09-30 08:00").await;
    run(x, notice(), "2026-09-30 09:00").await;
    run(x, ready(true), "2026-10-01 10:00").await;
    run(x, Command::RecordDischarge { at: ts("2026-10-08 10:00") }, "2026-10-08 10:00").await;
    // Y: 4 days (6–9 Oct), counted.
    let y = open_vg("2026-10-02 08:00").await;
    run(y, notice(), "2026-10-02 09:00").await;
    run(y, ready(false), "2026-10-05 10:00").await;
    run(y, Command::RecordDischarge { at: ts("2026-10-09 10:00") }, "2026-10-09 10:00").await;
    // Z: ready and discharged Mon 12 Oct (day 0): left out of the average.
    let z = open_vg("2026-10-09 08:00").await;
    run(z, notice(), "2026-10-09 09:00").await;
    run(z, ready(false), "2026-10-12 09:00").await;
    run(z, Command::RecordDischarge { at: ts("2026-10-12 15:00") }, "2026-10-12 15:00").await;

    let now = ts("2026-11-02 08:00");
    let k = Kommunkod::parse("0184").unwrap();
    let cases =
        store.liability_cases(&k, "vastra-gotaland", ts("2026-08-01 00:00"), ts("2026-11-01 00:00")).await.unwrap();
    assert_eq!(cases.len(), 3);
    let liabilities: Vec<_> =
        cases.iter().map(|c| case_liability(&LiabilityFacts::from_case(c, &agreement, now), &agreement, now)).collect();
    let basis = municipal_basis(&k, 2026, 10, &liabilities, &agreement);
    let line = |id: Uuid| basis.lines.iter().find(|l| l.case_id == id).unwrap();
    assert_eq!(line(x).excluded, Some(Exclusion::NeededSipCallMissing));
    assert!(!line(x).counted_in_month);
    assert_eq!((line(y).ready_days, line(y).counted_in_month), (4, true));
    assert_eq!((line(z).ready_days, line(z).counted_in_month, line(z).excluded), (0, false, None));
    // One episode counted over the window, 4 days: average 4.00; 2 free days; (4 − 2) × 1.
    let somatic = &basis.groups[0];
    assert_eq!((somatic.window_episodes, somatic.window_ready_days), (1, 4));
    assert_eq!(somatic.average, Some(Hundredths(400)));
    assert_eq!(somatic.liable_days, Hundredths(200));
});

on_both!(representations_are_kept_ended_once_and_logged, |store: Store| async move {
    use samverka_domain::representative::{Ended, Granter, Kind, Representation, Share};
    use samverka_store::{Outcome, PersonAccess, WriteLog};
    let w = seed(&store).await;
    let now = ts("2026-11-02 09:00");
    let rep = |kind, granted, shares: &[Share]| Representation {
        id: Uuid::now_v7(),
        patient_id: w.patient,
        personnummer: "197001022388".into(),
        name: "Eva Lund".into(),
        kind,
        shares: shares.to_vec(),
        granted,
        granted_at: now,
        valid_until: Some("2027-01-31".parse().unwrap()),
        ended: None,
    };
    let staff = w.actor(&w.bistand);
    let god_man = rep(
        Kind::GodMan,
        Granter::Staff { name: "Bo".into(), unit: w.bistand.id, unit_name: w.bistand.name.clone() },
        &[Share::Overview, Share::Consent],
    );
    let logged = staff.entry("representation.register", now, Some(w.patient), None, Outcome::Allowed, None, false);
    store.add_representation(&god_man, WriteLog::Staff(&logged)).await.unwrap();
    let invited = rep(Kind::Narstaende, Granter::Person, &[Share::Overview]);
    let by_person = PersonAccess {
        at: now,
        patient_id: Some(w.patient),
        case_id: None,
        reader_name: "Åsa Öberg".into(),
        action: "person.invite".into(),
        outcome: Outcome::Allowed,
        client_address: None,
        representation_id: Some(invited.id),
    };
    store.add_representation(&invited, WriteLog::Person(&by_person)).await.unwrap();

    assert_eq!(store.representations_of(w.patient).await.unwrap(), [god_man.clone(), invited.clone()]);
    assert_eq!(store.representations_held_by("197001022388").await.unwrap().len(), 2);
    assert!(store.representations_held_by("194107086995").await.unwrap().is_empty());

    let ended = Ended { at: ts("2026-11-03 10:00"), by: "Åsa Öberg".into(), reason: "Inte längre".into() };
    store.end_representation(invited.id, &ended, WriteLog::Person(&by_person)).await.unwrap();
    let again = store.end_representation(invited.id, &ended, WriteLog::Person(&by_person)).await.unwrap_err();
    assert!(matches!(again, StoreError::Problem(ref p) if p.code == "already_ended"), "{again:?}");
    let now_held = store.representations_of(w.patient).await.unwrap();
    assert_eq!(now_held[1].ended.as_ref(), Some(&ended));
    assert_eq!(now_held[0].ended, None);

    // Every change is in a log: the staff's in the access log, the person's in theirs (twice:
    // the invitation and the end; the refused second end wrote nothing).
    let staff_log = store
        .access_log(&samverka_store::AccessFilter { patient_id: Some(w.patient), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert!(staff_log.iter().any(|e| e.action == "representation.register"));
    let person_log = store.person_access_of(w.patient, 10).await.unwrap();
    assert_eq!(person_log.len(), 2);
    assert!(person_log.iter().all(|e| e.representation_id == Some(invited.id)));
});

on_both!(a_searchs_entries_share_the_group_commit_with_single_reads, |store: Store| async move {
    let w = seed(&store).await;
    let before = (store.access_log_count().await.unwrap(), store.group_commits());
    let audit = w.actor(&w.ward);
    let at = ts("2026-11-02 10:00");
    // Forty searches answering with three cases each and forty single reads, all at once.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..80 {
        let (store, audit) = (store.clone(), audit.clone());
        let patient = w.patient;
        tasks.spawn(async move {
            let entry = |action: &str| audit.entry(action, at, Some(patient), None, Outcome::Allowed, None, false);
            if i % 2 == 0 {
                store.log_access_all(&[entry("patient.search"), entry("patient.search"), entry("patient.search")]).await
            } else {
                store.log_access(&entry("patient.read")).await
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    // Every entry is durable once its request has its answer, and every one went through the
    // group commit (searches used to commit alone, outside its count).
    assert_eq!(store.access_log_count().await.unwrap(), before.0 + 160);
    let after = store.group_commits();
    assert_eq!(after.access_log_entries - before.1.access_log_entries, 160);
});

/// PostgreSQL refuses a NUL character in text: a request whose entries cannot be written fails
/// alone, with none of its entries kept, while the requests committed with it are answered.
#[tokio::test]
async fn a_refused_entry_fails_only_its_own_request() {
    let (store, _) = common::postgres().await;
    let w = seed(&store).await;
    let before = store.access_log_count().await.unwrap();
    let audit = w.actor(&w.ward);
    let at = ts("2026-11-02 10:00");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..60 {
        let (store, audit) = (store.clone(), audit.clone());
        let patient = w.patient;
        tasks.spawn(async move {
            let entry = |action: &str| audit.entry(action, at, Some(patient), None, Outcome::Allowed, None, false);
            let bad = i == 30;
            let third = if bad { entry("patient.search\0") } else { entry("patient.search") };
            (bad, store.log_access_all(&[entry("patient.search"), entry("patient.search"), third]).await)
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (bad, result) = done.unwrap();
        assert_eq!(result.is_err(), bad, "only the request with the refused entry fails");
    }
    assert_eq!(store.access_log_count().await.unwrap(), before + 59 * 3, "the others' entries, all of them");
}

on_both!(a_token_acts_only_while_it_its_client_account_and_assignment_last, |store: Store| async move {
    let w = seed(&store).await;
    let now = ts("2026-11-02 10:00");
    let system_a = person(&store, &w.ward, w.ward.organisation_id, Role::Vardsamordnare, "System A").await;
    let system_b = person(&store, &w.ward, w.ward.organisation_id, Role::Vardsamordnare, "System B").await;
    let (a, a_work, b_work) =
        (system_a.actor.user.id, system_a.assignment_id.unwrap(), system_b.assignment_id.unwrap());
    // Three clients of account A: one in order, one switched off, one pointing at B's assignment.
    let mut hashes = vec![];
    for (active, assignment) in [(true, a_work), (false, a_work), (true, b_work)] {
        let client = samverka_store::ApiClient {
            id: Uuid::now_v7(),
            user_id: a,
            assignment_id: assignment,
            secret_hash: "x".into(),
            scopes: vec!["system/*.read".into()],
            active,
        };
        store.create_api_client(&client, None, now).await.unwrap();
        let hash = format!("token-{}", client.id);
        let token = samverka_store::ApiToken {
            client_id: client.id,
            scopes: vec!["system/*.read".into()],
            expires_at: now + jiff::SignedDuration::from_hours(1),
        };
        store.insert_api_token(&hash, &token, now).await.unwrap();
        hashes.push(hash);
    }
    let acts = |i: usize, at: jiff::Timestamp| {
        let (store, hash) = (store.clone(), hashes[i].clone());
        async move { store.token_holder(&hash).await.unwrap().unwrap().actor(at) }
    };
    let (actor, assignment) = acts(0, now).await.expect("a token in order acts");
    assert_eq!((actor.user.id, actor.unit.id, actor.role, assignment), (a, w.ward.id, Role::Vardsamordnare, a_work));
    assert!(acts(0, now + jiff::SignedDuration::from_hours(1)).await.is_none(), "expired");
    assert!(acts(1, now).await.is_none(), "client switched off");
    assert!(acts(2, now).await.is_none(), "another account's assignment");
    assert!(store.token_holder("no such token").await.unwrap().is_none());
    store.set_account_active(a, false, now).await.unwrap();
    assert!(acts(0, now).await.is_none(), "account ended");
    store.set_account_active(a, true, now).await.unwrap();
    assert!(acts(0, now).await.is_some());
    store.set_assignment_active(a_work, false, now).await.unwrap();
    assert!(acts(0, now).await.is_none(), "assignment ended");
});

on_both!(a_patient_read_for_a_unit_says_whether_it_takes_part, |store: Store| async move {
    let w = seed(&store).await;
    let identifier = store.patient(w.patient).await.unwrap().unwrap().identifier;
    let seen = |unit: Uuid| {
        let (store, identifier) = (store.clone(), identifier.clone());
        async move {
            let by_id = store.patient_for_unit(w.patient, unit).await.unwrap().unwrap();
            let by_number = store.patient_by_identifier_for_unit(&identifier, unit).await.unwrap().unwrap();
            assert_eq!((by_id.0.id, by_number.0.id), (w.patient, w.patient));
            assert_eq!(by_id.1, by_number.1);
            assert_eq!(by_id.2, by_number.2);
            by_id.1
        }
    };
    // The same answer as the check on its own, for every unit, before and after a case.
    let agrees = || async {
        for u in [&w.ward, &w.bistand, &w.vc, &w.other] {
            let (_, visible, _) = store.patient_for_unit(w.patient, u.id).await.unwrap().unwrap();
            assert_eq!(visible, store.patient_visible_to(w.patient, u.id).await.unwrap(), "{}", u.name);
        }
    };
    agrees().await;
    // Listed at the vårdcentral: it takes part; the ward and another vårdcentral do not.
    assert!(seen(w.vc.id).await);
    assert!(!seen(w.ward.id).await);
    assert!(!seen(w.other.id).await);
    // A case makes the ward a party; the other vårdcentral still is not.
    open(&store, &w, "2026-11-02 08:00").await;
    assert!(seen(w.ward.id).await);
    assert!(!seen(w.other.id).await);
    agrees().await;
    // A patient listed nowhere (no listed unit) is seen only by the parties to their cases.
    let unlisted = Uuid::now_v7();
    let pnr = personnummer_with_check_digit(jiff::civil::date(1941, 6, 2), 981);
    let new = NewPatient {
        identifier: PatientIdentifier::Personnummer(pnr),
        given_name: "Olle".into(),
        family_name: "Olsson".into(),
        kommun: Kommunkod::parse("0184").unwrap(),
        listed_unit: None,
        protection: ProtectedIdentity::None,
        address: None,
    };
    store.insert_patient(unlisted, new, &w.actor(&w.ward), ts("2026-11-02 09:00")).await.unwrap();
    for u in [&w.ward, &w.bistand, &w.vc, &w.other] {
        let (_, visible, _) = store.patient_for_unit(unlisted, u.id).await.unwrap().unwrap();
        assert!(!visible, "{}", u.name);
    }
    // The change time is the record's own.
    let changed = store.patients_updated_at(&[w.patient]).await.unwrap()[&w.patient];
    assert_eq!(store.patient_for_unit(w.patient, w.vc.id).await.unwrap().unwrap().2, changed);
    assert!(store.patient_for_unit(Uuid::now_v7(), w.vc.id).await.unwrap().is_none());
});

on_both!(a_life_story_keeps_every_version_and_the_last_choice_to_share_it, |store: Store| async move {
    use samverka_domain::life_story::{Author, Part, Sharing, Story, Version};
    use samverka_store::{Outcome, PersonAccess, WriteLog};
    let w = seed(&store).await;
    let number = "194107086995";
    let person = Author::Person { name: "Åsa Öberg".into() };
    let staff = Author::Staff { name: "Bo".into(), unit_id: w.bistand.id, unit_name: w.bistand.name.clone() };
    let version = |text: &str, by: &Author, at: &str| Version {
        version: 0,
        story: Story::checked([(Part::WhoIAm, text)]).unwrap(),
        written_at: ts(at),
        written_by: by.clone(),
    };
    let own = PersonAccess {
        at: ts("2026-11-02 09:00"),
        patient_id: Some(w.patient),
        case_id: None,
        reader_name: "Åsa Öberg".into(),
        action: "person.life_story.write".into(),
        outcome: Outcome::Allowed,
        client_address: None,
        representation_id: None,
    };
    assert_eq!(store.life_story(number).await.unwrap(), samverka_store::LifeStory::default());

    // The person writes twice, each on top of the last.
    let first = version("Åsa, kallas Åsa", &person, "2026-11-02 09:00");
    assert_eq!(store.write_life_story(number, 0, &first, None, WriteLog::Person(&own)).await.unwrap(), 1);
    let second = version("Åsa, sjöman i trettio år", &person, "2026-11-02 09:05");
    assert_eq!(store.write_life_story(number, 1, &second, None, WriteLog::Person(&own)).await.unwrap(), 2);
    // A version written on top of one that is no longer the latest is refused, and nothing is kept.
    let stale = store.write_life_story(number, 1, &first, None, WriteLog::Person(&own)).await.unwrap_err();
    assert!(matches!(stale, StoreError::Problem(ref p) if p.code == "changed_meanwhile"), "{stale:?}");
    let kept = store.life_story(number).await.unwrap();
    assert_eq!(kept.versions.iter().map(|v| v.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(kept.latest().unwrap().story.get(Part::WhoIAm), "Åsa, sjöman i trettio år");
    assert_eq!(kept.latest().unwrap().written_by, person);
    assert!(!kept.shared(), "nobody has shared it");

    // Staff write with her, and her word to share is recorded with the version, in one
    // transaction with the staff's log entry.
    let logged = w.actor(&w.bistand).entry(
        "life_story.write",
        ts("2026-11-03 10:00"),
        Some(w.patient),
        None,
        Outcome::Allowed,
        None,
        false,
    );
    let with_staff = version("Åsa, sjöman; vill ha kaffe först", &staff, "2026-11-03 10:00");
    let share = Sharing { shared: true, at: ts("2026-11-03 10:00"), by: staff.clone() };
    assert_eq!(
        store.write_life_story(number, 2, &with_staff, Some(&share), WriteLog::Staff(&logged)).await.unwrap(),
        3
    );
    let kept = store.life_story(number).await.unwrap();
    assert!(kept.shared());
    assert_eq!(kept.sharing.as_ref().unwrap().by, staff);

    // She stops sharing, then shares again: the last choice counts.
    let stop = Sharing { shared: false, at: ts("2026-11-04 08:00"), by: person.clone() };
    store.share_life_story(number, &stop, WriteLog::Person(&own)).await.unwrap();
    assert!(!store.life_story(number).await.unwrap().shared());
    let again = Sharing { shared: true, at: ts("2026-11-04 08:01"), by: person.clone() };
    store.share_life_story(number, &again, WriteLog::Person(&own)).await.unwrap();
    assert_eq!(store.life_story(number).await.unwrap().sharing, Some(again));
    // Another person's story is another's.
    assert_eq!(store.life_story("197001022388").await.unwrap(), samverka_store::LifeStory::default());
    // Choices made at the same moment (a double click) are each kept; none fails.
    let mut clicks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (store, own, by) = (store.clone(), own.clone(), person.clone());
        clicks.spawn(async move {
            let choice = Sharing { shared: i % 2 == 0, at: ts("2026-11-05 08:00"), by };
            store.share_life_story("194107086995", &choice, WriteLog::Person(&own)).await
        });
    }
    while let Some(done) = clicks.join_next().await {
        done.unwrap().unwrap();
    }

    // Every write has its entry: the person's twelve in her log, the staff's in the access log.
    assert_eq!(store.person_access_of(w.patient, 100).await.unwrap().len(), 4 + 8);
    let staff_log = store
        .access_log(&samverka_store::AccessFilter { patient_id: Some(w.patient), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(staff_log.iter().filter(|e| e.action == "life_story.write").count(), 1);
    // Nothing is changed or deleted in place.
    for sql in [
        "UPDATE life_story_versions SET story = '{}'",
        "DELETE FROM life_story_versions",
        "UPDATE life_story_sharing SET shared = FALSE",
        "DELETE FROM life_story_sharing",
    ] {
        assert!(store.raw_execute_for_tests(sql).await.is_err(), "{sql} must be refused");
    }
});

on_both!(a_coordination_at_home_is_stored_with_its_kind_deadline_and_log, |store: Store| async move {
    use samverka_domain::case::{CaseKind, OpenHome};
    use samverka_domain::consent::{ConsentGiver, ConsentKind};
    let w = seed(&store).await;
    let vc = w.actor(&w.vc);
    let id = Uuid::now_v7();
    let open = OpenHome {
        case_id: id,
        patient_id: w.patient,
        kommun: Kommunkod::parse("0184").unwrap(),
        listed_unit: Some(w.vc.id),
        reason: "Behöver både hemsjukvård och hemtjänst".into(),
        born: None,
        continues: None,
    };
    let (record, created) = store.open_home_case(&open, "stockholm", &vc, ts("2026-11-02 10:00")).await.unwrap();
    assert!(created);
    assert_eq!((record.case.kind(), record.case.phase()), (CaseKind::Home, Phase::Coordinating));
    // A retry answers the same coordination and stores nothing more.
    let (again, created) = store.open_home_case(&open, "stockholm", &vc, ts("2026-11-02 10:01")).await.unwrap();
    assert!(!created);
    assert_eq!(again.case.version, 1);
    // Listed under the unit that started it, as a coordination at home.
    let listed = store.cases_for_patient(w.patient).await.unwrap();
    assert_eq!(
        listed.iter().map(|c| (c.case_id, c.kind, c.ward_id)).collect::<Vec<_>>(),
        [(id, CaseKind::Home, w.vc.id)]
    );
    // The call is the starting unit's deadline until the call is sent.
    let due = store.due_deadlines(w.vc.id, ts("2026-12-01 00:00")).await.unwrap();
    assert_eq!(due.iter().map(|d| (d.case_id, d.kind)).collect::<Vec<_>>(), [(id, DeadlineKind::SipCall)]);
    let consent = Command::RecordConsent {
        consent_id: Uuid::now_v7(),
        kind: ConsentKind::SipCall,
        given_by: ConsentGiver::Patient,
        given_at: ts("2026-11-03 08:00"),
        note: String::new(),
    };
    store.execute(id, &vc, consent, ts("2026-11-03 08:00")).await.unwrap();
    let call = Command::SendMessage {
        message_id: Uuid::now_v7(),
        body: MessageBody::KallelseSip {
            meeting_at: ts("2026-11-06 13:00"),
            place: "Hemma".into(),
            participants: vec![],
            patient_invited: true,
            relatives_invited: false,
            note: String::new(),
        },
        recipients: vec![w.bistand.clone()],
        corrects: None,
    };
    // Sending to a unit not yet in the coordination needs the consent to sharing.
    assert!(matches!(
        store.execute(id, &vc, call.clone(), ts("2026-11-03 09:00")).await.unwrap_err(),
        StoreError::Problem(p) if p.code == "no_one_to_send_to" && p.message_sv.contains("samtycke till informationsöverföring")
    ));
    let sharing = Command::RecordConsent {
        consent_id: Uuid::now_v7(),
        kind: ConsentKind::InformationSharing,
        given_by: ConsentGiver::Patient,
        given_at: ts("2026-11-03 08:00"),
        note: String::new(),
    };
    store.execute(id, &vc, sharing, ts("2026-11-03 08:01")).await.unwrap();
    let (record, _) = store.execute(id, &vc, call, ts("2026-11-03 09:00")).await.unwrap();
    assert_eq!(record.case.phase(), Phase::SipCalled);
    assert!(store.due_deadlines(w.vc.id, ts("2026-12-01 00:00")).await.unwrap().is_empty(), "the call met it");
    // The municipality now takes part and has the call in its inbox.
    assert_eq!(store.cases_of_patient_for_unit(w.patient, w.bistand.id).await.unwrap().len(), 1);
    assert_eq!(store.case_counts().await.unwrap(), [(Phase::SipCalled, 1)]);
    // The opening is in the access log under its own name.
    let log =
        store.access_log(&AccessFilter { patient_id: Some(w.patient), limit: 20, ..Default::default() }).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "case.open_home").count(), 1);
});

on_both!(
    a_rounds_persons_are_the_cases_shared_with_its_units_and_its_list_takes_each_once,
    |store: Store| async move {
        use samverka_domain::case::OpenHome;
        use samverka_domain::consent::{ConsentGiver, ConsentKind};
        use samverka_domain::forum::{ForumKind, ForumSpec, Member, Schedule};
        let w = seed(&store).await;
        let (vc, bistand) = (w.actor(&w.vc), w.actor(&w.bistand));
        let case = Uuid::now_v7();
        let open = OpenHome {
            case_id: case,
            patient_id: w.patient,
            kommun: Kommunkod::parse("0184").unwrap(),
            listed_unit: Some(w.vc.id),
            reason: "Behöver både hemsjukvård och hemtjänst".into(),
            born: None,
            continues: None,
        };
        store.open_home_case(&open, "stockholm", &vc, ts("2026-11-02 10:00")).await.unwrap();
        let spec = ForumSpec {
            name: "Rond".into(),
            kind: ForumKind::Rond,
            purpose: "Gemensamma patienter".into(),
            video_link: None,
            schedule: Schedule {
                first_date: jiff::civil::date(2026, 11, 3),
                interval_weeks: 1,
                start: jiff::civil::time(9, 0, 0, 0),
                duration_minutes: 60,
                paused: false,
            },
        };
        let forum = Uuid::now_v7();
        store.create_forum(forum, &spec, w.bistand.id, &bistand, ts("2026-11-02 10:00")).await.unwrap();
        let member = Member { unit_id: w.vc.id, role: Role::Sjukskoterska, mandate: "Vårdcentralen".into() };
        store.add_forum_member(forum, &member, &w.vc.name, &bistand, ts("2026-11-02 10:00")).await.unwrap();
        // Only the vårdcentral takes part yet: nobody of the round to share with.
        assert!(store.round_candidates(forum, w.vc.id).await.unwrap().is_empty());
        let sharing = Command::RecordConsent {
            consent_id: Uuid::now_v7(),
            kind: ConsentKind::InformationSharing,
            given_by: ConsentGiver::Patient,
            given_at: ts("2026-11-02 10:00"),
            note: String::new(),
        };
        store.execute(case, &vc, sharing, ts("2026-11-02 10:01")).await.unwrap();
        let invite = Command::AddParty { unit: w.bistand.clone(), reason: "Hemtjänst".into() };
        store.execute(case, &vc, invite, ts("2026-11-02 10:02")).await.unwrap();
        assert_eq!(store.round_candidates(forum, w.vc.id).await.unwrap(), [(case, false)]);
        assert_eq!(store.round_candidates(forum, w.bistand.id).await.unwrap(), [(case, false)]);
        // A unit outside the care finds nothing.
        assert!(store.round_candidates(forum, w.other.id).await.unwrap().is_empty());
        // Listed once, however often asked, each time with its access-log entry.
        for at in ["2026-11-02 10:03", "2026-11-02 10:04"] {
            let entry =
                vc.entry("round.list_patient", ts(at), Some(w.patient), Some(case), Outcome::Allowed, None, false);
            store.list_on_round(forum, case, w.vc.id, &w.vc.name, &entry, ts(at)).await.unwrap();
        }
        assert_eq!(store.round_candidates(forum, w.vc.id).await.unwrap(), [(case, true)]);
        let log = store
            .access_log(&AccessFilter { patient_id: Some(w.patient), limit: 20, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(log.iter().filter(|e| e.action == "round.list_patient").count(), 2);
    }
);

/// The access log's journal (a server on an SQLite file): a read's entry is durable in the
/// journal when answered, a review folds it into the table first, a generation is folded once
/// even when its file outlives the fold, and what a killed server left (a last line cut short
/// left out) is folded by the next owner before anything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_logs_journal_keeps_every_answered_read_and_folds_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("samverka.db");
    let url = path.to_string_lossy().to_string();
    let open = || async {
        let store = Store::connect(&url, samverka_store::Agreements::built_in()).await.unwrap();
        store.migrate().await.unwrap();
        store
    };
    let store = open().await;
    let w = seed(&store).await;
    let audit = w.actor(&w.ward);
    let entry = |n: i64| {
        audit.entry(
            "patient.read",
            ts("2026-11-02 10:00") + jiff::SignedDuration::from_secs(n),
            Some(w.patient),
            None,
            Outcome::Allowed,
            None,
            false,
        )
    };
    let base = store.access_log_count().await.unwrap();
    let claim = Store::claim_sqlite_file(&url).unwrap().unwrap();
    assert_eq!(store.use_access_journal(&claim).await.unwrap(), 0);
    for n in 0..3 {
        store.log_access(&entry(n)).await.unwrap();
    }
    // Answered: in the journal, not yet in the table.
    assert_eq!(Store::unfolded_access_journal(&url).unwrap().entries(), 3);
    assert_eq!(store.access_log_count().await.unwrap(), base + 3, "a review folds first");
    assert_eq!(Store::unfolded_access_journal(&url).unwrap().entries(), 0, "the folded file is gone");

    // A fold that committed but whose file outlived it (the process died in between).
    store.log_access_all(&[entry(3), entry(4)]).await.unwrap();
    let files = |d: &std::path::Path| {
        let mut f: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains(".access-journal."))
            .collect();
        f.sort();
        f
    };
    let current = files(dir.path()).pop().unwrap();
    let kept = std::fs::read(&current).unwrap();
    assert_eq!(store.access_log_count().await.unwrap(), base + 5);
    std::fs::write(&current, &kept).unwrap();
    // And a generation a killed server never folded, its last write cut short.
    let next = current
        .with_extension(format!("{}", current.extension().unwrap().to_string_lossy().parse::<u64>().unwrap() + 5));
    let line = serde_json::to_string(&entry(5)).unwrap();
    std::fs::write(&next, format!("{line}\n{}", &line[..line.len() / 2])).unwrap();
    store.close().await;
    drop(claim);

    // The next owner (which claims the file before it opens it, as a server does) folds what
    // was left, the already folded generation not again.
    let claim = Store::claim_sqlite_file(&url).unwrap().unwrap();
    let store = open().await;
    assert_eq!(store.use_access_journal(&claim).await.unwrap(), 1, "two already folded, one new");
    assert_eq!(store.access_log_count().await.unwrap(), base + 6);
    assert!(files(dir.path()).iter().all(|f| std::fs::metadata(f).unwrap().len() == 0), "only the new, empty journal");
    // The journal goes on from the generations seen, and a second owner in the process is refused.
    store.log_access(&entry(6)).await.unwrap();
    assert!(store.use_access_journal(&claim).await.is_err());
    assert_eq!(store.access_log_count().await.unwrap(), base + 7);
    let read = store
        .access_log(&AccessFilter { patient_id: Some(w.patient), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(read.iter().filter(|e| e.action == "patient.read").count(), 7);
    store.close().await;
    drop(claim);

    // A killed owner's journal, opened by anyone once no server holds the file: folded on opening.
    let left = files(dir.path()).pop().unwrap();
    let after =
        left.with_extension(format!("{}", left.extension().unwrap().to_string_lossy().parse::<u64>().unwrap() + 1));
    std::fs::write(&after, format!("{}\n", serde_json::to_string(&entry(7)).unwrap())).unwrap();
    let store = open().await;
    assert_eq!(store.access_log_count().await.unwrap(), base + 8);
    assert!(!after.exists());
    store.close().await;
}
