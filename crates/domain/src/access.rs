//! Who may do what: roles, the permissions each role carries, and the need-to-know rule.
//!
//! One table ([`permits`]) decides what a role may do; the case itself
//! ([`crate::case::Case::access`]) decides whether a unit may reach it. Handlers and the case's
//! own rules ask these two and never decide on their own.

use serde::{Deserialize, Serialize};

use crate::error::{Problem, ProblemKind};

/// The roles of an assignment (medarbetaruppdrag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Vardsamordnare,
    Bistandshandlaggare,
    Sjukskoterska,
    Lakare,
    Arbetsterapeut,
    Fysioterapeut,
    Enhetschef,
    /// Medicinskt ansvarig sjuksköterska.
    Mas,
    Administrator,
    Klusterledare,
    /// An integration (e.g. the hospital's HL7 feed), not a person.
    System,
    /// The person the case is about, acting on their own pages with e-legitimation. Never an
    /// assignment's role (not in [`Role::ALL`]).
    Person,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::Vardsamordnare,
        Role::Bistandshandlaggare,
        Role::Sjukskoterska,
        Role::Lakare,
        Role::Arbetsterapeut,
        Role::Fysioterapeut,
        Role::Enhetschef,
        Role::Mas,
        Role::Administrator,
        Role::Klusterledare,
        Role::System,
    ];

    /// Whether an administrator may give the role to a person in an assignment: neither an
    /// integration's nor the patient's own.
    pub fn for_assignments(self) -> bool {
        !matches!(self, Role::System | Role::Person)
    }

    pub fn label_sv(self) -> &'static str {
        match self {
            Role::Vardsamordnare => "vårdsamordnare",
            Role::Bistandshandlaggare => "biståndshandläggare",
            Role::Sjukskoterska => "sjuksköterska",
            Role::Lakare => "läkare",
            Role::Arbetsterapeut => "arbetsterapeut",
            Role::Fysioterapeut => "fysioterapeut",
            Role::Enhetschef => "enhetschef",
            Role::Mas => "MAS",
            Role::Administrator => "administratör",
            Role::Klusterledare => "klusterledare",
            Role::System => "systemintegration",
            Role::Person => "patienten själv",
        }
    }
}

/// What an action needs, independent of which case it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read cases, patients and messages of the unit's own cases.
    ReadPatientData,
    /// Register a patient and open a case at admission; move, discharge.
    RegisterAdmission,
    /// The ward's LUS messages: notice, changed date, ready (and withdrawn), discharge
    /// information, cancellation.
    SendWardNotices,
    /// Name the fast vårdkontakt (the vårdcentral's verksamhetschef or staff).
    AppointFastVardkontakt,
    /// Planning information, free messages, acknowledging, marking mis-sent, forwarding.
    HandleMessages,
    /// Call to, draw up and follow up the SIP.
    WorkWithSip,
    RecordConsent,
    /// Invite another unit into the case.
    ShareCase,
    /// Nödåtkomst: read a case outside need-to-know, with a stated reason.
    EmergencyAccess,
    /// Loggkontroll: review the access log and extract it for a patient.
    ReviewAccessLog,
    /// The municipality's invoice basis.
    ReadLiability,
    /// Follow-up indicators (sums, no patient data).
    ReadFollowUp,
    /// Approve the invoice basis, locking it as a version (the region's managers).
    ApproveLiability,
    /// Manage the organisation's units, users and assignments.
    Administer,
    /// Take part in forums one's unit is a member of: read, raise items, report on one's
    /// own action items.
    TakePartInForums,
    /// Run the forums one's unit organises: schedule, members, agenda, minutes.
    LeadForums,
    /// Register a directive for the information channel (and withdraw one).
    RegisterDirectives,
    /// Validate a directive before it is published (MAS, enhetschef): never one's own.
    ValidateDirectives,
}

/// The one table of what each role may do.
pub fn permits(role: Role, p: Permission) -> bool {
    use Permission::*;
    use Role::*;
    if p == TakePartInForums {
        // Every person's role; an integration takes part in no meeting, and administrators
        // run the accounts, not the collaboration.
        return !matches!(role, System | Administrator | Person);
    }
    if p == LeadForums || p == RegisterDirectives {
        return matches!(role, Enhetschef | Mas | Klusterledare);
    }
    if p == ValidateDirectives {
        return matches!(role, Enhetschef | Mas);
    }
    match role {
        Vardsamordnare => matches!(
            p,
            ReadPatientData
                | RegisterAdmission
                | SendWardNotices
                | HandleMessages
                | WorkWithSip
                | RecordConsent
                | ShareCase
                | EmergencyAccess
        ),
        Lakare | Sjukskoterska => matches!(
            p,
            ReadPatientData
                | RegisterAdmission
                | SendWardNotices
                | AppointFastVardkontakt
                | HandleMessages
                | WorkWithSip
                | RecordConsent
                | ShareCase
                | EmergencyAccess
        ),
        Bistandshandlaggare => {
            matches!(p, ReadPatientData | HandleMessages | WorkWithSip | RecordConsent | ShareCase)
        }
        Arbetsterapeut | Fysioterapeut => matches!(p, ReadPatientData | HandleMessages | WorkWithSip | RecordConsent),
        Enhetschef => {
            matches!(
                p,
                ReadPatientData
                    | AppointFastVardkontakt
                    | HandleMessages
                    | ReviewAccessLog
                    | ReadLiability
                    | ApproveLiability
                    | ReadFollowUp
            )
        }
        Mas => matches!(
            p,
            ReadPatientData | HandleMessages | ReviewAccessLog | ReadLiability | ReadFollowUp | EmergencyAccess
        ),
        Klusterledare => {
            matches!(p, ReadPatientData | AppointFastVardkontakt | HandleMessages | ReadLiability | ReadFollowUp)
        }
        Administrator => matches!(p, Administer | ReadFollowUp),
        System => matches!(p, ReadPatientData | RegisterAdmission),
        // Their own consent, given or taken back on their own pages; what they see of their
        // case is `person::may_see`, not a staff permission.
        Person => matches!(p, RecordConsent),
    }
}

fn permission_sv(p: Permission) -> &'static str {
    match p {
        Permission::ReadPatientData => "läsa patientuppgifter",
        Permission::RegisterAdmission => "registrera inskrivning, flytt eller utskrivning",
        Permission::SendWardNotices => "skicka avdelningens meddelanden (inskrivning, utskrivningsklar, utskrivning)",
        Permission::AppointFastVardkontakt => "utse fast vårdkontakt",
        Permission::HandleMessages => "hantera meddelanden",
        Permission::WorkWithSip => "kalla till, upprätta eller följa upp SIP",
        Permission::RecordConsent => "registrera samtycke",
        Permission::ShareCase => "dela ärendet med en annan enhet",
        Permission::EmergencyAccess => "använda nödåtkomst",
        Permission::ReviewAccessLog => "granska åtkomstloggen",
        Permission::ReadLiability => "se betalningsunderlag",
        Permission::ReadFollowUp => "se uppföljningens siffror",
        Permission::ApproveLiability => "godkänna betalningsunderlag",
        Permission::Administer => "administrera enheter och användare",
        Permission::TakePartInForums => "delta i forum",
        Permission::LeadForums => "leda forum (schema, dagordning, minnesanteckningar)",
        Permission::RegisterDirectives => "registrera direktiv",
        Permission::ValidateDirectives => "validera direktiv",
    }
}

/// Refuses, in words, when the role does not carry the permission.
pub fn require(role: Role, p: Permission) -> Result<(), Problem> {
    if permits(role, p) {
        return Ok(());
    }
    Err(Problem::new(
        ProblemKind::Forbidden,
        "role_not_permitted",
        format!("Din roll ({}) får inte {}.", role.label_sv(), permission_sv(p)),
        format!("Your role ({role:?}) may not do this ({p:?})."),
    ))
}

/// How a unit reaches a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAccess {
    /// The unit takes part in the patient's care.
    NeedToKnow,
    /// Outside need-to-know, by a stated emergency reason.
    Emergency,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn administrators_never_read_patient_data() {
        assert!(!permits(Role::Administrator, Permission::ReadPatientData));
        assert!(!permits(Role::Administrator, Permission::EmergencyAccess));
        let e = require(Role::Administrator, Permission::ReadPatientData).unwrap_err();
        assert!(e.message_sv.contains("administratör"));
    }

    #[test]
    fn the_person_may_only_give_or_take_back_their_consent() {
        let all = [
            Permission::ReadPatientData,
            Permission::RegisterAdmission,
            Permission::SendWardNotices,
            Permission::AppointFastVardkontakt,
            Permission::HandleMessages,
            Permission::WorkWithSip,
            Permission::RecordConsent,
            Permission::ShareCase,
            Permission::EmergencyAccess,
            Permission::ReviewAccessLog,
            Permission::ReadLiability,
            Permission::ReadFollowUp,
            Permission::ApproveLiability,
            Permission::Administer,
            Permission::TakePartInForums,
            Permission::LeadForums,
            Permission::RegisterDirectives,
            Permission::ValidateDirectives,
        ];
        let allowed: Vec<Permission> = all.into_iter().filter(|p| permits(Role::Person, *p)).collect();
        assert_eq!(allowed, [Permission::RecordConsent]);
        assert!(!Role::ALL.contains(&Role::Person) && !Role::Person.for_assignments(), "never an assignment's role");
    }

    #[test]
    fn only_mas_and_enhetschef_review_the_log() {
        let reviewers: Vec<Role> = Role::ALL.into_iter().filter(|r| permits(*r, Permission::ReviewAccessLog)).collect();
        assert_eq!(reviewers, vec![Role::Enhetschef, Role::Mas]);
    }
}
