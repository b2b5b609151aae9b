//! Bootstrapping an installation from the command line: the first organisations and their
//! administrators. Everything after that is done by the administrators in Samverka.

use jiff::Timestamp;
use samverka_domain::access::Role;
use samverka_domain::ids::{HsaId, Kommunkod};
use samverka_domain::org::{AddressEntry, CareType, Organisation, OrganisationKind, Unit, UnitKind};
use samverka_store::{NewAccount, Store};
use uuid::Uuid;

use crate::config::Checked;

#[allow(clippy::too_many_arguments)]
pub async fn add_organisation(
    store: &Store,
    checked: &Checked,
    kind: &str,
    name: &str,
    hsa_id: &str,
    kommunkod: Option<String>,
    region_code: Option<String>,
    agreement: Option<String>,
) -> Result<(), String> {
    let kind = match kind {
        "region" => OrganisationKind::Region,
        "kommun" => OrganisationKind::Kommun,
        "private_provider" => OrganisationKind::PrivateProvider,
        other => return Err(format!("--kind \"{other}\" ska vara region, kommun eller private_provider.")),
    };
    let hsa = HsaId::parse(hsa_id).map_err(|e| format!("--hsa-id: {}", e.problem("hsa_id").message_sv))?;
    let kommunkod = kommunkod
        .map(|k| Kommunkod::parse(&k))
        .transpose()
        .map_err(|e| format!("--kommunkod: {}", e.problem("kommunkod").message_sv))?;
    if kind == OrganisationKind::Kommun && kommunkod.is_none() {
        return Err("En kommun behöver --kommunkod.".into());
    }
    if let Some(a) = &agreement
        && checked.agreements.get(a).is_none()
    {
        return Err(format!("--agreement \"{a}\" finns inte. Välj en av: {}.", checked.agreements.ids().join(", ")));
    }
    let org = Organisation {
        id: Uuid::now_v7(),
        kind,
        name: name.trim().into(),
        region_code,
        kommunkod,
        hsa_id: Some(hsa),
        acts_for: None,
    };
    store.insert_organisation(&org, agreement.as_deref(), Timestamp::now()).await.map_err(|e| e.to_string())?;
    println!("Organisationen {} är registrerad (id {}).", org.name, org.id);
    Ok(())
}

pub async fn create_admin(
    store: &Store,
    organisation: &str,
    username: &str,
    name: &str,
    unit: Option<&str>,
) -> Result<(), String> {
    let now = Timestamp::now();
    let orgs = store.organisations().await.map_err(|e| e.to_string())?;
    let (org, _) = orgs
        .iter()
        .find(|(o, _)| o.hsa_id.as_ref().is_some_and(|h| h.as_str().eq_ignore_ascii_case(organisation)) || o.kommunkod.as_ref().is_some_and(|k| k.as_str() == organisation))
        .ok_or_else(|| format!("Ingen organisation med HSA-id eller kommunkod \"{organisation}\". Registrera den först med add-organisation."))?
        .clone();
    let units: Vec<Unit> = store
        .units()
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .filter(|u| u.organisation_id == org.id)
        .cloned()
        .collect();
    let unit = match unit {
        Some(h) => units
            .into_iter()
            .find(|u| u.hsa_id.as_str().eq_ignore_ascii_case(h))
            .ok_or_else(|| format!("Enheten {h} finns inte i {}.", org.name))?,
        None => match units.into_iter().next() {
            Some(u) => u,
            None => {
                // An organisation without units gets one for its administration.
                let org_hsa = org.hsa_id.as_ref().ok_or("Organisationen saknar HSA-id.")?;
                let u = Unit {
                    id: Uuid::now_v7(),
                    organisation_id: org.id,
                    kind: UnitKind::KommunalHsl,
                    name: format!("{} – administration", org.name),
                    hsa_id: HsaId::parse(&format!("SE{}-ADM", org_hsa.organisation_number())).map_err(|_| "HSA-id")?,
                    care_type: CareType::Somatic,
                    receives_for_kommun: None,
                    address: AddressEntry::default(),
                };
                store.insert_unit(&u, now).await.map_err(|e| e.to_string())?;
                u
            }
        },
    };
    let temporary = samverka_app::auth::password::temporary();
    let hash = samverka_app::auth::password::hash(temporary.clone()).await.map_err(|e| e.sv)?;
    let id = Uuid::now_v7();
    let account = NewAccount {
        id,
        name: name.trim().into(),
        hsa_id: None,
        organisation_id: org.id,
        username: Some(username.trim().to_lowercase()),
        password_hash: Some(hash),
        password_must_change: true,
        totp_secret: None,
        totp_confirmed: false,
        oidc: None,
    };
    store.create_account(&account, now).await.map_err(|e| e.to_string())?;
    store
        .add_assignment(Uuid::now_v7(), id, unit.id, Role::Administrator, None, now)
        .await
        .map_err(|e| e.to_string())?;
    println!("Administratören {username} för {} är skapad.", org.name);
    println!("Tillfälligt lösenord (visas bara nu): {temporary}");
    println!("Vid första inloggningen väljs ett nytt lösenord och en autentiseringsapp kopplas.");
    Ok(())
}
