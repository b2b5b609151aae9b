//! Directives: who may see and do what with one, and every read and decision, checked and
//! logged in one place for the pages and the JSON API alike.
//!
//! A published directive is seen by its audience (the units of its organisations and kinds)
//! and by whoever it was sent to or has read it; a pending or sent-back one only by the
//! owning organisation's registrars and validators, who also see who has read what.

use jiff::Timestamp;
use samverka_domain::Problem;
use samverka_domain::access::{Permission, permits};
use samverka_domain::directive::{
    DirectiveAct, DirectiveId, DirectiveSpec, DirectiveStatus, Published, check_directive_act, check_transition,
    conflicts,
};
use samverka_domain::org::{OrganisationId, UnitId};
use samverka_domain::text::check_text;
use samverka_store::{DirectiveRecord, Reader};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::require;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::forums::{log_object_read, refuse_object, written};
use crate::state::AppState;

/// How the caller sees a directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectiveView {
    /// In its audience: reads it and confirms.
    Reader,
    /// The owning organisation's registrars and validators: everything, with read figures.
    Owner,
}

fn hidden() -> Problem {
    Problem::not_found(
        "directive_not_found",
        "Direktivet finns inte, eller så gäller det inte din enhet.",
        "No such directive, or it is not for your unit.",
    )
}

/// Whether the caller belongs to the directive's owners (may see it whatever its status).
pub fn is_owner(caller: &Caller, d: &DirectiveRecord) -> bool {
    caller.actor.unit.organisation_id == d.organisation_id
        && (permits(caller.actor.role, Permission::RegisterDirectives)
            || permits(caller.actor.role, Permission::ValidateDirectives))
}

/// Whether the directive is for the caller's unit.
pub fn is_for(caller: &Caller, d: &DirectiveRecord) -> bool {
    matches!(d.status, DirectiveStatus::Published | DirectiveStatus::Withdrawn)
        && permits(caller.actor.role, Permission::TakePartInForums)
        && d.spec.audience.includes(caller.actor.unit.organisation_id, caller.actor.unit.kind)
}

/// The directive and how the caller sees it; refused (and logged) when neither.
pub async fn directive_for(
    st: &AppState,
    caller: &Caller,
    id: DirectiveId,
    action: &str,
) -> AppResult<(DirectiveRecord, DirectiveView)> {
    let Some(d) = st.store.directive(id).await? else {
        return Err(refuse_object(st, caller, action, id, hidden()).await);
    };
    if is_owner(caller, &d) {
        return Ok((d, DirectiveView::Owner));
    }
    if is_for(caller, &d) {
        return Ok((d, DirectiveView::Reader));
    }
    // Sent to the caller's person earlier (a unit since changed) still counts.
    if matches!(d.status, DirectiveStatus::Published | DirectiveStatus::Withdrawn)
        && st.store.directive_readers(id).await?.iter().any(|r| r.user_id == caller.actor.user.id)
    {
        return Ok((d, DirectiveView::Reader));
    }
    Err(refuse_object(st, caller, action, id, hidden()).await)
}

/// Refuses (and logs) `act` on a directive when the caller may not.
pub async fn check_act(
    st: &AppState,
    caller: &Caller,
    d: &DirectiveRecord,
    act: DirectiveAct,
    action: &str,
) -> AppResult<()> {
    let checked = check_directive_act(
        act,
        caller.actor.role,
        caller.actor.user.id,
        caller.actor.unit.organisation_id,
        d.organisation_id,
        d.registered_by,
    );
    match checked {
        Ok(()) => Ok(()),
        Err(p) => Err(refuse_object(st, caller, action, d.id, p).await),
    }
}

/// The published directive that replaces `id`, if any.
pub fn successor(published: &[DirectiveRecord], id: DirectiveId) -> Option<&DirectiveRecord> {
    published.iter().find(|p| p.status == DirectiveStatus::Published && p.spec.supersedes.contains(&id))
}

/// The directives in force now that nothing has replaced, as the conflict check reads them.
pub fn in_force(published: &[DirectiveRecord]) -> Vec<Published> {
    published
        .iter()
        .filter(|p| p.status == DirectiveStatus::Published && successor(published, p.id).is_none())
        .map(|p| Published { id: p.id, spec: p.spec.clone() })
        .collect()
}

/// Registers a directive for validation; it reaches nobody until a validator publishes it.
pub async fn register(st: &AppState, caller: &Caller, id: DirectiveId, spec: &DirectiveSpec) -> AppResult<()> {
    require(st, caller, Permission::RegisterDirectives, "directive.register", None, None).await?;
    spec.validate()?;
    let orgs = st.store.organisations().await?;
    if spec.audience.organisations.iter().any(|o| !orgs.iter().any(|(x, _)| x.id == *o)) {
        return Err(AppError::invalid(
            "organisation",
            "invalid_form",
            "Välj organisationer i listan.",
            "Choose organisations from the list.",
        ));
    }
    let published = st.store.published_directives().await?;
    if spec.supersedes.iter().any(|s| !published.iter().any(|p| p.id == *s && p.status == DirectiveStatus::Published)) {
        return Err(AppError::invalid(
            "supersedes",
            "invalid_form",
            "Ett direktiv som ska ersättas måste vara publicerat och gälla. Ladda om sidan och välj igen.",
            "A superseded directive must be published.",
        ));
    }
    let org = caller.actor.unit.organisation_id;
    let registered = st.store.register_directive(id, org, spec, &caller.audit(), st.clock.now()).await;
    written(st, caller, "directive.register", id, registered).await
}

/// The caller confirms having read a published directive (again is fine).
pub async fn confirm_read(st: &AppState, caller: &Caller, id: DirectiveId) -> AppResult<()> {
    let (d, _) = directive_for(st, caller, id, "directive.confirm_read").await?;
    if d.status != DirectiveStatus::Published {
        return Err(Problem::conflict(
            "directive_not_published",
            "Direktivet är inte publicerat (eller har återkallats) och kan inte läskvitteras.",
            "The directive is not published.",
        )
        .into());
    }
    let confirmed = st.store.confirm_directive_read(id, &caller.audit(), st.clock.now()).await;
    written(st, caller, "directive.confirm_read", id, confirmed).await
}

/// A validator's decision on a pending directive: publish it (confirming, when there are
/// directives in force on the same topic for the same people, that both apply) or send it back
/// with a reason.
pub async fn decide(
    st: &AppState,
    caller: &Caller,
    id: DirectiveId,
    publish: bool,
    note: &str,
    both_apply: bool,
) -> AppResult<()> {
    let (d, _) = directive_for(st, caller, id, "directive.decide").await?;
    check_act(st, caller, &d, DirectiveAct::Validate, "directive.decide").await?;
    check_transition(d.status, DirectiveStatus::Published)?;
    let note = note.trim();
    check_text("note", note, !publish).map_err(|p| {
        if p.code == "required" {
            AppError::invalid(
                "note",
                "required",
                "Skriv varför direktivet skickas tillbaka, så att registreraren kan rätta det.",
                "Say why it is sent back.",
            )
        } else {
            p.into()
        }
    })?;
    let mut coexists = vec![];
    if publish {
        coexists = conflicts(id, &d.spec, &in_force(&st.store.published_directives().await?));
        if !coexists.is_empty() && !both_apply {
            return Err(AppError::invalid(
                "coexist",
                "conflict_unconfirmed",
                "Det finns gällande direktiv i samma ämne för samma mottagare. Skicka tillbaka direktivet så att \
                 det ersätter dem, eller bekräfta att de ska gälla samtidigt.",
                "Valid directives on the same topic for the same people exist: send back or confirm both apply.",
            ));
        }
    }
    let decided = st.store.decide_directive(id, publish, note, &coexists, &caller.audit(), st.clock.now()).await;
    written(st, caller, "directive.decide", id, decided).await.map(|_| ())
}

/// Withdraws a published directive, with a reason; it stays, marked withdrawn.
pub async fn withdraw(st: &AppState, caller: &Caller, id: DirectiveId, note: &str) -> AppResult<()> {
    let (d, _) = directive_for(st, caller, id, "directive.withdraw").await?;
    check_act(st, caller, &d, DirectiveAct::Withdraw, "directive.withdraw").await?;
    check_transition(d.status, DirectiveStatus::Withdrawn)?;
    let note = note.trim();
    check_text("note", note, true)?;
    let withdrawn = st.store.withdraw_directive(id, note, &caller.audit(), st.clock.now()).await;
    written(st, caller, "directive.withdraw", id, withdrawn).await
}

/// A directive as the caller may see it: the directive, whether and when the caller read it,
/// and for its owners who it went to and who has read it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectiveDetail {
    #[schema(value_type = String, format = Uuid)]
    pub id: DirectiveId,
    #[schema(value_type = String, format = Uuid)]
    pub organisation_id: OrganisationId,
    pub status: DirectiveStatus,
    pub spec: DirectiveSpec,
    /// Registered by, and when.
    pub registered_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub registered_at: Timestamp,
    /// The validator's decision: who, when, and the note.
    pub decided_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Timestamp>,
    pub decision_note: String,
    /// The published directive that replaces this one.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub superseded_by: Option<DirectiveId>,
    /// When the caller confirmed reading it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<Timestamp>,
    /// Only for the owning organisation's registrars and validators.
    pub readers: Option<Vec<ReaderView>>,
}

/// A person a directive went to, and when they read it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReaderView {
    pub name: String,
    #[schema(value_type = String, format = Uuid)]
    pub unit_id: UnitId,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<Timestamp>,
}

impl From<Reader> for ReaderView {
    fn from(r: Reader) -> Self {
        ReaderView { name: r.name, unit_id: r.unit_id, read_at: r.read_at }
    }
}

impl DirectiveDetail {
    fn of(
        d: DirectiveRecord,
        published: &[DirectiveRecord],
        read_at: Option<Timestamp>,
        readers: Option<Vec<ReaderView>>,
    ) -> Self {
        DirectiveDetail {
            superseded_by: successor(published, d.id).map(|s| s.id),
            id: d.id,
            organisation_id: d.organisation_id,
            status: d.status,
            spec: d.spec,
            registered_by: d.registered_by_name,
            registered_at: d.registered_at,
            decided_by: d.decided_by_name,
            decided_at: d.decided_at,
            decision_note: d.decision_note,
            read_at,
            readers,
        }
    }
}

/// One directive as the caller may see it (logged as read).
pub async fn read(st: &AppState, caller: &Caller, id: DirectiveId) -> AppResult<DirectiveDetail> {
    let (d, view) = directive_for(st, caller, id, "directive.read").await?;
    let published = st.store.published_directives().await?;
    let readers = st.store.directive_readers(id).await?;
    let mine = readers.iter().find(|r| r.user_id == caller.actor.user.id).and_then(|r| r.read_at);
    let readers = (view == DirectiveView::Owner).then(|| readers.into_iter().map(ReaderView::from).collect());
    log_object_read(st, caller, "directive.read", id).await?;
    Ok(DirectiveDetail::of(d, &published, mine, readers))
}

/// The directives for the caller's unit (published or withdrawn), and for registrars and
/// validators their organisation's own at every stage.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectiveList {
    pub for_my_unit: Vec<DirectiveDetail>,
    pub own_organisation: Vec<DirectiveDetail>,
}

/// The caller's directives (logged as a read of the list).
pub async fn list(st: &AppState, caller: &Caller) -> AppResult<DirectiveList> {
    require(st, caller, Permission::TakePartInForums, "directive.list", None, None).await?;
    let published = st.store.published_directives().await?;
    let reads = st.store.directive_reads_of(caller.actor.user.id).await?;
    let read_at = |id: DirectiveId| reads.iter().find(|(r, _)| *r == id).map(|(_, at)| *at);
    let for_my_unit = published
        .iter()
        .filter(|d| is_for(caller, d))
        .map(|d| DirectiveDetail::of(d.clone(), &published, read_at(d.id), None))
        .collect();
    let mut own_organisation = vec![];
    if permits(caller.actor.role, Permission::RegisterDirectives)
        || permits(caller.actor.role, Permission::ValidateDirectives)
    {
        for d in st.store.directives_of_organisation(caller.actor.unit.organisation_id).await? {
            let readers = st.store.directive_readers(d.id).await?.into_iter().map(ReaderView::from).collect();
            own_organisation.push(DirectiveDetail::of(d, &published, None, Some(readers)));
        }
    }
    log_object_read(st, caller, "directive.list", caller.actor.unit.id).await?;
    Ok(DirectiveList { for_my_unit, own_organisation })
}
