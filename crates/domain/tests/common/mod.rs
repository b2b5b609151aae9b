//! A small world of units and a case simulator for the domain's tests.
#![allow(dead_code)]

use jiff::Timestamp;
use jiff::civil::DateTime;
use samverka_domain::Problem;
use samverka_domain::access::Role;
use samverka_domain::actor::{Actor, UnitRef, UserRef};
use samverka_domain::calendar::STOCKHOLM;
use samverka_domain::case::{Case, CaseEvent, Command, Continuation, OpenCase, OpenHome, RecordedEvent};
use samverka_domain::ids::{HsaId, Kommunkod};
use samverka_domain::message::MessageBody;
use samverka_domain::org::{CareType, Principal, UnitKind};
use samverka_domain::sip::{Coordinator, Insats, Participant, ParticipantRole, SipPlan};
use uuid::Uuid;

/// Local Swedish time, written "2026-11-02 10:00".
pub fn ts(local: &str) -> Timestamp {
    let dt: DateTime = local.replace(' ', "T").parse().expect("datetime");
    dt.to_zoned_datetime(STOCKHOLM.clone()).expect("local time exists").timestamp()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub fn unit(n: u128, name: &str, kind: UnitKind, org: u128) -> UnitRef {
    UnitRef {
        id: id(n),
        name: name.to_string(),
        hsa_id: HsaId::parse(&format!("SE{:010}-U{n}", org)).unwrap(),
        kind,
        organisation_id: id(org),
    }
}

pub struct World {
    pub ward: UnitRef,
    pub ward2: UnitRef,
    pub psych_ward: UnitRef,
    pub bistand: UnitRef,
    pub hemsjukvard: UnitRef,
    pub vc: UnitRef,
    pub rehab: UnitRef,
}

impl World {
    pub fn new() -> Self {
        World {
            ward: unit(1, "Avdelning 12, Norrviks sjukhus", UnitKind::Ward, 2321000016),
            ward2: unit(2, "Avdelning 14, Norrviks sjukhus", UnitKind::Ward, 2321000016),
            psych_ward: unit(3, "Psykiatriavdelning 3", UnitKind::Ward, 2321000016),
            bistand: unit(10, "Biståndsenheten Solna", UnitKind::Bistandsenhet, 2120000000),
            hemsjukvard: unit(12, "Hemsjukvården Solna", UnitKind::Hemsjukvard, 2120000000),
            vc: unit(20, "Vårdcentralen Råsunda", UnitKind::Vardcentral, 2321000016),
            rehab: unit(30, "Primärvårdsrehab Solna", UnitKind::Primarvardsrehab, 2321000016),
        }
    }

    /// A user of `unit` in the role that unit's staff usually have.
    pub fn actor(&self, unit: &UnitRef) -> Actor {
        let role = match unit.kind {
            UnitKind::Ward => Role::Vardsamordnare,
            UnitKind::Bistandsenhet => Role::Bistandshandlaggare,
            UnitKind::Primarvardsrehab => Role::Arbetsterapeut,
            _ => Role::Sjukskoterska,
        };
        self.actor_as(unit, role)
    }

    pub fn actor_as(&self, unit: &UnitRef, role: Role) -> Actor {
        Actor {
            user: UserRef {
                id: Uuid::from_u128(unit.id.as_u128() + 1000),
                name: format!("Användare på {}", unit.name),
            },
            unit: unit.clone(),
            role,
        }
    }
}

/// Drives one case through commands, keeping its history as the store would.
pub struct Sim {
    pub world: World,
    pub events: Vec<RecordedEvent>,
    next_id: u128,
}

impl Sim {
    /// A case opened by `world.ward` at `admitted` for a patient living in Solna (0184).
    pub fn admitted(admitted: &str) -> Sim {
        Self::admitted_with(admitted, None, CareType::Somatic)
    }

    pub fn admitted_with(admitted: &str, assessed: Option<&str>, care: CareType) -> Sim {
        let world = World::new();
        let open = OpenCase {
            case_id: Uuid::from_u128(9000),
            patient_id: Uuid::from_u128(9001),
            kommun: Kommunkod::parse("0184").unwrap(),
            listed_unit: Some(world.vc.id),
            care_type: care,
            admitted_at: ts(admitted),
            needs_assessed_at: assessed.map(ts),
            // 88 at admission, as most in the discharge process are old.
            born: Some(jiff::civil::date(1938, 3, 1)),
            sip_at_home: None,
        };
        let ward = if care == CareType::Psychiatric { &world.psych_ward } else { &world.ward };
        let actor = world.actor(ward);
        let event = Case::open(&open, &actor, ts(assessed.unwrap_or(admitted))).expect("open");
        let events = vec![RecordedEvent { seq: 1, at: ts(assessed.unwrap_or(admitted)), actor, event }];
        Sim { world, events, next_id: 100 }
    }

    /// A coordination at home started by `unit` at `started` for the same patient.
    pub fn at_home(started: &str, unit: impl Fn(&World) -> UnitRef, continues: Option<Continuation>) -> Sim {
        let world = World::new();
        let open = OpenHome {
            case_id: Uuid::from_u128(9100),
            patient_id: Uuid::from_u128(9001),
            kommun: Kommunkod::parse("0184").unwrap(),
            listed_unit: Some(world.vc.id),
            reason: "Behöver både hemsjukvård och hemtjänst".into(),
            born: Some(jiff::civil::date(1938, 3, 1)),
            continues,
        };
        let actor = world.actor(&unit(&world));
        let event = Case::open_home(&open, &actor, ts(started)).expect("open at home");
        let events = vec![RecordedEvent { seq: 1, at: ts(started), actor, event }];
        Sim { world, events, next_id: 500 }
    }

    pub fn case(&self) -> Case {
        Case::from_events(&self.events).unwrap()
    }

    pub fn fresh_id(&mut self) -> Uuid {
        self.next_id += 1;
        Uuid::from_u128(self.next_id)
    }

    /// Runs a command as `unit` at local time `at`; returns the new events' count.
    pub fn run(&mut self, unit: &UnitRef, cmd: Command, at: &str) -> Result<usize, Problem> {
        let actor = self.world.actor(unit);
        self.run_as(actor, cmd, at)
    }

    pub fn run_as(&mut self, actor: Actor, cmd: Command, at: &str) -> Result<usize, Problem> {
        let now = ts(at);
        let new = self.case().decide(&actor, cmd, now)?;
        let n = new.len();
        for event in new {
            let seq = self.events.len() as u32 + 1;
            self.events.push(RecordedEvent { seq, at: now, actor: actor.clone(), event });
        }
        Ok(n)
    }

    /// Sends a message from `unit` to `to`, returning its id.
    pub fn send(&mut self, unit: &UnitRef, to: &[&UnitRef], body: MessageBody, at: &str) -> Result<Uuid, Problem> {
        let message_id = self.fresh_id();
        let recipients = to.iter().map(|u| (*u).clone()).collect();
        self.run(unit, Command::SendMessage { message_id, body, recipients, corrects: None }, at)?;
        Ok(message_id)
    }

    pub fn notice(&mut self, at: &str, estimate: &str) -> Uuid {
        let (ward, b, vc) = (self.ward_now(), self.world.bistand.clone(), self.world.vc.clone());
        self.send(
            &ward,
            &[&b, &vc],
            MessageBody::Inskrivningsmeddelande { estimated_discharge: estimate.parse().unwrap(), note: String::new() },
            at,
        )
        .expect("notice")
    }

    pub fn ready(&mut self, at: &str) -> Uuid {
        let (ward, b, vc) = (self.ward_now(), self.world.bistand.clone(), self.world.vc.clone());
        self.send(
            &ward,
            &[&b, &vc],
            MessageBody::Utskrivningsklar { referrals_cancelled: true, sip_needed: None, note: String::new() },
            at,
        )
        .expect("ready")
    }

    pub fn withdraw(&mut self, at: &str) {
        let (ward, b, vc) = (self.ward_now(), self.world.bistand.clone(), self.world.vc.clone());
        self.send(&ward, &[&b, &vc], MessageBody::AtertagenUtskrivningsklar { reason: "Feber".into() }, at)
            .expect("withdraw");
    }

    pub fn discharge(&mut self, at: &str) {
        let (ward, b, vc) = (self.ward_now(), self.world.bistand.clone(), self.world.vc.clone());
        self.send(
            &ward,
            &[&b, &vc],
            MessageBody::InformationVidUtskrivning {
                discharged_at: ts(at),
                medication: "Enligt läkemedelslista".into(),
                aids: String::new(),
                information_to_patient: String::new(),
                note: String::new(),
            },
            at,
        )
        .expect("discharge");
    }

    pub fn ward_now(&self) -> UnitRef {
        if self.events.is_empty() { self.world.ward.clone() } else { self.case().ward().clone() }
    }

    pub fn last_event(&self) -> &CaseEvent {
        &self.events.last().unwrap().event
    }
}

/// A complete SIP for the simulated case, coordinated by the vårdcentral.
pub fn sip_plan(sim: &Sim) -> SipPlan {
    SipPlan {
        needs: vec!["Hjälp med personlig hygien morgon och kväll".into()],
        insatser: vec![
            Insats {
                principal: Principal::Kommun,
                unit: Some(sim.world.bistand.id),
                description: "Hemtjänst 2 ggr/dag".into(),
            },
            Insats {
                principal: Principal::Region,
                unit: Some(sim.world.vc.id),
                description: "Läkemedelsgenomgång".into(),
            },
        ],
        others_measures: vec![],
        overall_responsible: Principal::Kommun,
        own_goals: "Jag vill kunna gå till affären själv igen.".into(),
        participants: vec![Participant {
            name: "Patienten".into(),
            role: ParticipantRole::Patient,
            unit: None,
            title: String::new(),
        }],
        coordinator: Coordinator { name: "Distriktssköterska Eva".into(), unit: sim.world.vc.id },
        follow_up_date: "2026-12-15".parse().unwrap(),
        follow_up_how: "Hembesök".into(),
    }
}
