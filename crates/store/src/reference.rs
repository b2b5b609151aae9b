//! Organisations, units, users and patients.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use samverka_domain::Problem;
use samverka_domain::actor::{UnitRef, UserRef};
use samverka_domain::ids::{HsaId, Kommunkod, PatientIdentifier};
use samverka_domain::org::{AddressEntry, Organisation, OrganisationId, Unit, UnitId};
use samverka_domain::patient::{Address, Patient, PatientId, ProtectedIdentity};
use samverka_domain::routing::RoutableUnit;
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

use crate::access_log::{Audit, Outcome, logged_write};
use crate::sql::{enum_str, from_micros, is_unique_violation, micros, parse_enum, uuid};
use crate::{Result, Store, StoreError, on_db};

#[derive(FromRow)]
struct OrgRow {
    id: String,
    kind: String,
    name: String,
    region_code: Option<String>,
    kommunkod: Option<String>,
    hsa_id: Option<String>,
    acts_for: Option<String>,
    agreement_id: Option<String>,
}

impl OrgRow {
    fn into_domain(self) -> Result<(Organisation, Option<String>)> {
        Ok((
            Organisation {
                id: uuid(&self.id)?,
                kind: parse_enum(&self.kind)?,
                name: self.name,
                region_code: self.region_code,
                kommunkod: self.kommunkod.map(|k| Kommunkod::parse(&k)).transpose().map_err(StoreError::corrupt)?,
                hsa_id: self.hsa_id.map(|h| HsaId::parse(&h)).transpose().map_err(StoreError::corrupt)?,
                acts_for: self.acts_for.map(|a| parse_enum(&a)).transpose()?,
            },
            self.agreement_id,
        ))
    }
}

macro_rules! unit_columns {
    () => {
        "id, organisation_id, kind, name, hsa_id, care_type, receives_for_kommun, phone, \
         functional_mailbox, opening_hours, evening_weekend_cover, backup_unit_id"
    };
}

#[derive(FromRow)]
struct UnitRow {
    id: String,
    organisation_id: String,
    kind: String,
    name: String,
    hsa_id: String,
    care_type: String,
    receives_for_kommun: Option<String>,
    phone: Option<String>,
    functional_mailbox: Option<String>,
    opening_hours: Option<String>,
    evening_weekend_cover: Option<String>,
    backup_unit_id: Option<String>,
}

impl UnitRow {
    fn into_domain(self) -> Result<Unit> {
        Ok(Unit {
            id: uuid(&self.id)?,
            organisation_id: uuid(&self.organisation_id)?,
            kind: parse_enum(&self.kind)?,
            name: self.name,
            hsa_id: HsaId::parse(&self.hsa_id).map_err(StoreError::corrupt)?,
            care_type: parse_enum(&self.care_type)?,
            receives_for_kommun: self
                .receives_for_kommun
                .map(|k| Kommunkod::parse(&k))
                .transpose()
                .map_err(StoreError::corrupt)?,
            address: AddressEntry {
                phone: self.phone,
                functional_mailbox: self.functional_mailbox,
                opening_hours: self.opening_hours,
                evening_weekend_cover: self.evening_weekend_cover,
                backup_unit: self.backup_unit_id.map(|b| uuid(&b)).transpose()?,
            },
        })
    }
}

macro_rules! patient_columns {
    () => {
        "id, id_kind, identifier, given_name, family_name, kommunkod, listed_unit_id, \
         protection, street, postal_code, city, version"
    };
}

#[derive(FromRow)]
struct PatientRow {
    id: String,
    id_kind: String,
    identifier: String,
    given_name: String,
    family_name: String,
    kommunkod: String,
    listed_unit_id: Option<String>,
    protection: String,
    street: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    version: i64,
}

/// A patient by `$1` in `$key`, with whether unit `$2` takes part in their care (listed
/// there, or a party to one of their cases) and when the record last changed.
macro_rules! patient_for_unit_sql {
    ($key:literal) => {
        concat!(
            "SELECT p.id, p.id_kind, p.identifier, p.given_name, p.family_name, p.kommunkod, p.listed_unit_id, \
                    p.protection, p.street, p.postal_code, p.city, p.version, p.updated_at, \
                    (p.listed_unit_id IS NOT NULL AND p.listed_unit_id = $2) OR EXISTS (SELECT 1 FROM cases c \
                      JOIN case_parties cp ON cp.case_id = c.id WHERE c.patient_id = p.id AND cp.unit_id = $2) AS visible \
             FROM patients p WHERE p.",
            $key,
            " = $1"
        )
    };
}

#[derive(FromRow)]
struct PatientForUnitRow {
    #[sqlx(flatten)]
    patient: PatientRow,
    updated_at: i64,
    visible: bool,
}

impl PatientForUnitRow {
    fn into_domain(self) -> Result<(Patient, bool, Timestamp)> {
        let (patient, _) = self.patient.into_domain()?;
        Ok((patient, self.visible, crate::sql::from_micros(self.updated_at)?))
    }
}

impl PatientRow {
    fn into_domain(self) -> Result<(Patient, i64)> {
        let address = match (self.street, self.postal_code, self.city) {
            (Some(street), Some(postal_code), Some(city)) => Some(Address { street, postal_code, city }),
            _ => None,
        };
        Ok((
            Patient {
                id: uuid(&self.id)?,
                identifier: PatientIdentifier::from_stored(&self.id_kind, &self.identifier)
                    .map_err(StoreError::corrupt)?,
                given_name: self.given_name,
                family_name: self.family_name,
                kommun: Kommunkod::parse(&self.kommunkod).map_err(StoreError::corrupt)?,
                listed_unit: self.listed_unit_id.map(|u| uuid(&u)).transpose()?,
                protection: parse_enum(&self.protection)?,
                address,
            },
            self.version,
        ))
    }
}

/// A patient to register.
#[derive(Debug, Clone)]
pub struct NewPatient {
    pub identifier: PatientIdentifier,
    pub given_name: String,
    pub family_name: String,
    pub kommun: Kommunkod,
    pub listed_unit: Option<UnitId>,
    pub protection: ProtectedIdentity,
    pub address: Option<Address>,
}

/// What a list of patients shows.
#[derive(Debug, Clone, Serialize)]
pub struct PatientSummary {
    pub id: PatientId,
    pub identifier: String,
    pub name: String,
    pub protection: ProtectedIdentity,
}

/// The directory (organisations and units) as last read. It changes a few times a day and
/// nearly every page reads it, so it is kept: a write through this store clears it at once,
/// and another server's writes show within [`DIRECTORY_TTL`].
#[derive(Default)]
pub(crate) struct DirectoryCache {
    generation: AtomicU64,
    units: Slot<Vec<Unit>>,
    organisations: Slot<Vec<(Organisation, Option<String>)>>,
}

type Slot<T> = std::sync::Mutex<Option<(Instant, Arc<T>)>>;

/// How long a read directory is used before it is read again.
pub const DIRECTORY_TTL: Duration = Duration::from_secs(5);

impl DirectoryCache {
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn fresh<T>(slot: &Slot<T>) -> Option<Arc<T>> {
        let slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().filter(|(at, _)| at.elapsed() < DIRECTORY_TTL).map(|(_, v)| v.clone())
    }

    /// Keeps what was read, unless the directory changed while it was being read.
    fn keep<T>(&self, slot: &Slot<T>, read_at_generation: u64, value: &Arc<T>) {
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if self.generation() == read_at_generation {
            *slot = Some((Instant::now(), value.clone()));
        }
    }

    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        *self.units.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.organisations.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl Store {
    pub async fn insert_organisation(
        &self,
        org: &Organisation,
        agreement_id: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
            "INSERT INTO organisations (id, kind, name, region_code, kommunkod, hsa_id, acts_for, agreement_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(org.id.to_string())
        .bind(enum_str(&org.kind))
        .bind(&org.name)
        .bind(&org.region_code)
        .bind(org.kommunkod.as_ref().map(|k| k.as_str().to_string()))
        .bind(org.hsa_id.as_ref().map(|h| h.as_str().to_string()))
        .bind(org.acts_for.as_ref().map(enum_str))
        .bind(agreement_id)
        .bind(micros(now))
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|e| duplicate(e, "organisation_exists", "Organisationen finns redan (samma kommunkod eller HSA-id)."))
        })?;
        self.directory.changed();
        Ok(())
    }

    /// Every organisation with the agreement it applies (for regions), by name.
    pub async fn organisations(&self) -> Result<Arc<Vec<(Organisation, Option<String>)>>> {
        let generation = self.directory.generation();
        if let Some(orgs) = DirectoryCache::fresh(&self.directory.organisations) {
            return Ok(orgs);
        }
        let rows: Vec<OrgRow> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT id, kind, name, region_code, kommunkod, hsa_id, acts_for, agreement_id FROM organisations ORDER BY name"
        )
        .fetch_all(pool)
        .await?
        });
        let orgs = Arc::new(rows.into_iter().map(OrgRow::into_domain).collect::<Result<Vec<_>>>()?);
        self.directory.keep(&self.directory.organisations, generation, &orgs);
        Ok(orgs)
    }

    /// An organisation from the directory kept in memory (at most `DIRECTORY_TTL` old; read
    /// from the database when it is not there).
    pub async fn known_organisation(&self, id: OrganisationId) -> Result<Option<(Organisation, Option<String>)>> {
        match self.organisations().await?.iter().find(|(o, _)| o.id == id) {
            Some(found) => Ok(Some(found.clone())),
            None => self.organisation(id).await,
        }
    }

    pub async fn organisation(&self, id: OrganisationId) -> Result<Option<(Organisation, Option<String>)>> {
        let row: Option<OrgRow> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT id, kind, name, region_code, kommunkod, hsa_id, acts_for, agreement_id FROM organisations WHERE id = $1"
        )
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?
        });
        row.map(OrgRow::into_domain).transpose()
    }

    pub async fn insert_unit(&self, unit: &Unit, now: Timestamp) -> Result<()> {
        let a = &unit.address;
        on_db!(self, write, |pool| sqlx::query(concat!(
            "INSERT INTO units (",
            unit_columns!(),
            ", created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(unit.id.to_string())
        .bind(unit.organisation_id.to_string())
        .bind(enum_str(&unit.kind))
        .bind(&unit.name)
        .bind(unit.hsa_id.as_str())
        .bind(enum_str(&unit.care_type))
        .bind(unit.receives_for_kommun.as_ref().map(|k| k.as_str().to_string()))
        .bind(&a.phone)
        .bind(&a.functional_mailbox)
        .bind(&a.opening_hours)
        .bind(&a.evening_weekend_cover)
        .bind(a.backup_unit.map(|b| b.to_string()))
        .bind(micros(now))
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|e| duplicate(e, "unit_exists", "Det finns redan en enhet med samma HSA-id.")))?;
        self.directory.changed();
        Ok(())
    }

    /// Changes a unit's address entry (phone, hours, evening and weekend cover, backup).
    pub async fn update_unit_address(&self, id: UnitId, a: &AddressEntry, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query(
            "UPDATE units SET phone = $2, functional_mailbox = $3, opening_hours = $4, evening_weekend_cover = $5, \
             backup_unit_id = $6, updated_at = $7 WHERE id = $1"
        )
        .bind(id.to_string())
        .bind(&a.phone)
        .bind(&a.functional_mailbox)
        .bind(&a.opening_hours)
        .bind(&a.evening_weekend_cover)
        .bind(a.backup_unit.map(|b| b.to_string()))
        .bind(micros(now))
        .execute(pool)
        .await
        .map(|_| ())?);
        self.directory.changed();
        Ok(())
    }

    /// Every unit, by name.
    pub async fn units(&self) -> Result<Arc<Vec<Unit>>> {
        let generation = self.directory.generation();
        if let Some(units) = DirectoryCache::fresh(&self.directory.units) {
            return Ok(units);
        }
        let rows: Vec<UnitRow> =
            on_db!(self, read, |pool| sqlx::query_as(concat!("SELECT ", unit_columns!(), " FROM units ORDER BY name"))
                .fetch_all(pool)
                .await?);
        let units = Arc::new(rows.into_iter().map(UnitRow::into_domain).collect::<Result<Vec<_>>>()?);
        self.directory.keep(&self.directory.units, generation, &units);
        Ok(units)
    }

    pub async fn unit(&self, id: UnitId) -> Result<Option<Unit>> {
        let row: Option<UnitRow> =
            on_db!(self, read, |pool| sqlx::query_as(concat!("SELECT ", unit_columns!(), " FROM units WHERE id = $1"))
                .bind(id.to_string())
                .fetch_optional(pool)
                .await?);
        row.map(UnitRow::into_domain).transpose()
    }

    pub async fn unit_by_hsa(&self, hsa: &HsaId) -> Result<Option<Unit>> {
        let row: Option<UnitRow> = on_db!(self, read, |pool| sqlx::query_as(concat!(
            "SELECT ",
            unit_columns!(),
            " FROM units WHERE hsa_id = $1"
        ))
        .bind(hsa.as_str())
        .fetch_optional(pool)
        .await?);
        row.map(UnitRow::into_domain).transpose()
    }

    /// A unit from the directory kept in memory (`units`), or from the database when it is
    /// newer than the list kept.
    pub async fn known_unit(&self, id: UnitId) -> Result<Option<Unit>> {
        match self.units().await?.iter().find(|u| u.id == id) {
            Some(u) => Ok(Some(u.clone())),
            None => self.unit(id).await,
        }
    }

    /// A unit as events record it.
    pub async fn unit_ref(&self, id: UnitId) -> Result<Option<UnitRef>> {
        Ok(self.known_unit(id).await?.map(|u| unit_ref(&u)))
    }

    /// Units that receive notices for `kommun` (only units of that municipality or of the
    /// region of its län, as `Organisation::may_receive_for`), plus the patient's listed unit.
    pub async fn routable_units(&self, kommun: &Kommunkod, listed: Option<UnitId>) -> Result<Vec<RoutableUnit>> {
        let rows: Vec<UnitRow> = on_db!(self, read, |pool| {
            sqlx::query_as(concat!(
            "SELECT ",
            unit_columns!(),
            " FROM units WHERE id = $2 OR (receives_for_kommun = $1 AND organisation_id IN \
              (SELECT id FROM organisations WHERE kommunkod = $1 OR (kind = 'region' AND region_code = substr($1, 1, 2))))"
        ))
        .bind(kommun.as_str())
        .bind(listed.map(|l| l.to_string()).unwrap_or_default())
        .fetch_all(pool)
        .await?
        });
        rows.into_iter()
            .map(|r| {
                let u = r.into_domain()?;
                Ok(RoutableUnit { unit: unit_ref(&u), receives_for_kommun: u.receives_for_kommun })
            })
            .collect()
    }

    pub async fn insert_user(&self, id: Uuid, name: &str, hsa_id: Option<&str>, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query(
            "INSERT INTO users (id, name, hsa_id, created_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(id.to_string())
        .bind(name)
        .bind(hsa_id)
        .bind(micros(now))
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|e| duplicate(e, "user_exists", "Användaren finns redan.")))?;
        Ok(())
    }

    pub async fn user(&self, id: Uuid) -> Result<Option<UserRef>> {
        let row: Option<(String, String)> =
            on_db!(self, read, |pool| sqlx::query_as("SELECT id, name FROM users WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(pool)
                .await?);
        row.map(|(id, name)| Ok(UserRef { id: uuid(&id)?, name })).transpose()
    }

    /// Users with the unit they are registered at in the demo (for the development login).
    pub async fn users(&self) -> Result<Vec<UserRef>> {
        let rows: Vec<(String, String)> =
            on_db!(self, read, |pool| sqlx::query_as("SELECT id, name FROM users ORDER BY name")
                .fetch_all(pool)
                .await?);
        rows.into_iter().map(|(id, name)| Ok(UserRef { id: uuid(&id)?, name })).collect()
    }

    /// Registers a patient, with the first revision of the record.
    pub async fn insert_patient(
        &self,
        id: PatientId,
        new: NewPatient,
        audit: &Audit,
        now: Timestamp,
    ) -> Result<Patient> {
        let patient = Patient {
            id,
            identifier: new.identifier,
            given_name: new.given_name,
            family_name: new.family_name,
            kommun: new.kommun,
            listed_unit: new.listed_unit,
            protection: new.protection,
            address: new.address,
        };
        let p = &patient;
        let data = serde_json::to_string(p).map_err(StoreError::corrupt)?;
        let log =
            audit.entry("patient.register", now, Some(id), None, Outcome::Allowed, None, p.protection.is_protected());
        logged_write!(self, &log, |tx| {
            sqlx::query(concat!(
                "INSERT INTO patients (",
                patient_columns!(),
                ", created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12)"
            ))
            .bind(p.id.to_string())
            .bind(p.identifier.kind())
            .bind(p.identifier.value())
            .bind(&p.given_name)
            .bind(&p.family_name)
            .bind(p.kommun.as_str())
            .bind(p.listed_unit.map(|u| u.to_string()))
            .bind(enum_str(&p.protection))
            .bind(p.address.as_ref().map(|a| a.street.clone()))
            .bind(p.address.as_ref().map(|a| a.postal_code.clone()))
            .bind(p.address.as_ref().map(|a| a.city.clone()))
            .bind(micros(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                duplicate(e, "patient_exists", "Patienten finns redan i Samverka. Sök på personnumret i stället.")
            })?;
            sqlx::query(
                "INSERT INTO patient_revisions (patient_id, version, at, user_id, unit_id, data) VALUES ($1, 1, $2, $3, $4, $5)",
            )
            .bind(p.id.to_string())
            .bind(micros(now))
            .bind(audit.actor.user.id.to_string())
            .bind(audit.actor.unit.id.to_string())
            .bind(&data)
            .execute(&mut *tx)
            .await?;
        });
        Ok(patient)
    }

    pub async fn patient(&self, id: PatientId) -> Result<Option<Patient>> {
        let row: Option<PatientRow> = on_db!(self, read, |pool| sqlx::query_as(concat!(
            "SELECT ",
            patient_columns!(),
            " FROM patients WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?);
        Ok(row.map(PatientRow::into_domain).transpose()?.map(|(p, _)| p))
    }

    /// A patient read by `unit`, in one statement: the record, whether the unit takes part in
    /// the patient's care (listed there, or a party to one of the patient's cases), and when
    /// the record last changed.
    pub async fn patient_for_unit(&self, id: PatientId, unit: UnitId) -> Result<Option<(Patient, bool, Timestamp)>> {
        self.patient_for_unit_by(patient_for_unit_sql!("id"), id.to_string(), unit).await
    }

    /// As [`Store::patient_for_unit`], by personnummer, samordningsnummer or reservnummer.
    pub async fn patient_by_identifier_for_unit(
        &self,
        identifier: &PatientIdentifier,
        unit: UnitId,
    ) -> Result<Option<(Patient, bool, Timestamp)>> {
        self.patient_for_unit_by(patient_for_unit_sql!("identifier"), identifier.value().to_string(), unit).await
    }

    async fn patient_for_unit_by(
        &self,
        sql: &'static str,
        key: String,
        unit: UnitId,
    ) -> Result<Option<(Patient, bool, Timestamp)>> {
        let row: Option<PatientForUnitRow> = on_db!(self, read, |pool| sqlx::query_as(sql)
            .bind(key.as_str())
            .bind(unit.to_string())
            .fetch_optional(pool)
            .await?);
        row.map(PatientForUnitRow::into_domain).transpose()
    }

    /// Identifier and name of each patient, for lists that show many (the log review).
    pub async fn patient_labels(
        &self,
        ids: &[PatientId],
    ) -> Result<std::collections::HashMap<PatientId, (String, String)>> {
        let mut ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let sql = format!(
            "SELECT id, identifier, given_name, family_name FROM patients WHERE id IN ({})",
            crate::sql::placeholders(1, ids.len())
        );
        let rows: Vec<(String, String, String, String)> = on_db!(self, read, |pool| {
            // Only numbered placeholders are formatted into the text; the ids are bound.
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for id in &ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(id, identifier, given, family)| Ok((uuid(&id)?, (identifier, format!("{given} {family}")))))
            .collect()
    }

    pub async fn patient_by_identifier(&self, identifier: &PatientIdentifier) -> Result<Option<Patient>> {
        let row: Option<PatientRow> = on_db!(self, read, |pool| sqlx::query_as(concat!(
            "SELECT ",
            patient_columns!(),
            " FROM patients WHERE identifier = $1"
        ))
        .bind(identifier.value())
        .fetch_optional(pool)
        .await?);
        Ok(row.map(PatientRow::into_domain).transpose()?.map(|(p, _)| p))
    }

    /// Changes a patient's record by appending a new revision; earlier versions stay.
    pub async fn revise_patient(&self, patient: &Patient, audit: &Audit, now: Timestamp) -> Result<i64> {
        let p = patient;
        let data = serde_json::to_string(p).map_err(StoreError::corrupt)?;
        let log =
            audit.entry("patient.revise", now, Some(p.id), None, Outcome::Allowed, None, p.protection.is_protected());
        let version = logged_write!(self, &log, |tx| {
            let version: i64 = sqlx::query_scalar(
                "UPDATE patients SET given_name = $2, family_name = $3, kommunkod = $4, listed_unit_id = $5, \
                 protection = $6, street = $7, postal_code = $8, city = $9, version = version + 1, updated_at = $10 \
                 WHERE id = $1 RETURNING version",
            )
            .bind(p.id.to_string())
            .bind(&p.given_name)
            .bind(&p.family_name)
            .bind(p.kommun.as_str())
            .bind(p.listed_unit.map(|u| u.to_string()))
            .bind(enum_str(&p.protection))
            .bind(p.address.as_ref().map(|a| a.street.clone()))
            .bind(p.address.as_ref().map(|a| a.postal_code.clone()))
            .bind(p.address.as_ref().map(|a| a.city.clone()))
            .bind(micros(now))
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Problem::not_found("patient_not_found", "Patienten finns inte.", "No such patient."))?;
            sqlx::query(
                "INSERT INTO patient_revisions (patient_id, version, at, user_id, unit_id, data) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(p.id.to_string())
            .bind(version)
            .bind(micros(now))
            .bind(audit.actor.user.id.to_string())
            .bind(audit.actor.unit.id.to_string())
            .bind(&data)
            .execute(&mut *tx)
            .await?;
            version
        });
        Ok(version)
    }

    /// Every stored version of a patient's record, oldest first, with when and by whom.
    pub async fn patient_revisions(&self, id: PatientId) -> Result<Vec<(i64, Timestamp, Patient)>> {
        let rows: Vec<(i64, i64, String)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT version, at, data FROM patient_revisions WHERE patient_id = $1 ORDER BY version"
        )
        .bind(id.to_string())
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(v, at, data)| Ok((v, from_micros(at)?, serde_json::from_str(&data).map_err(StoreError::corrupt)?)))
            .collect()
    }
}

pub fn unit_ref(u: &Unit) -> UnitRef {
    UnitRef {
        id: u.id,
        name: u.name.clone(),
        hsa_id: u.hsa_id.clone(),
        kind: u.kind,
        organisation_id: u.organisation_id,
    }
}

/// Turns a unique-key violation into a conflict the user can act on.
fn duplicate(e: sqlx::Error, code: &'static str, sv: &str) -> StoreError {
    if is_unique_violation(&e) { StoreError::Problem(Problem::conflict(code, sv, "Already exists.")) } else { e.into() }
}
