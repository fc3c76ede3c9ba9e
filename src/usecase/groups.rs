//! Managing a tenant's user groups from the admin API. Which clients a group may use is set on
//! the client (`allowed_user_groups`) and only shown here.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::AdminCtx;
use crate::admin::custom_claims::{self, CustomClaimsInput};
use crate::admin::paging::Page;
use crate::crypto::random;
use crate::error::{Error, Result};
use crate::storage::audit::When;
use crate::storage::groups::{self, GroupRow, NamedRef, NewGroup};
use crate::validation::field_error;

/// The most members one request may set.
const MAX_MEMBERS: usize = 1000;

/// The JSON body of `POST` and `PUT /api/user-groups/{id}` (on PUT, left-out fields stay).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub custom_claims: Option<CustomClaimsInput>,
}

/// A group as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub friendly_name: String,
    pub custom_claims: Value,
    pub member_count: i64,
    pub created_at: i64,
}

impl From<GroupRow> for GroupView {
    fn from(g: GroupRow) -> Self {
        Self {
            custom_claims: Value::Object(g.custom_claims),
            id: g.id,
            name: g.name,
            friendly_name: g.friendly_name,
            member_count: g.member_count,
            created_at: g.created_at,
        }
    }
}

/// A group with its members and the clients that admit it.
#[derive(Debug, Clone, Serialize)]
pub struct GroupDetail {
    #[serde(flatten)]
    pub group: GroupView,
    pub members: Vec<NamedRef>,
    pub allowed_clients: Vec<NamedRef>,
}

pub async fn list(
    ctx: &AdminCtx<'_>,
    search: Option<&str>,
    page: &Page,
) -> Result<(Vec<GroupView>, i64)> {
    let (rows, total) = groups::list(ctx.db, ctx.tenant_id, search, page).await?;
    Ok((rows.into_iter().map(GroupView::from).collect(), total))
}

pub async fn get(ctx: &AdminCtx<'_>, id: &str) -> Result<GroupDetail> {
    let (group, members, allowed_clients) = groups::find(ctx.db, ctx.tenant_id, id)
        .await?
        .ok_or_else(|| Error::NotFound("This group".into()))?;
    Ok(GroupDetail {
        group: group.into(),
        members,
        allowed_clients,
    })
}

fn claims(input: Option<CustomClaimsInput>) -> Result<Option<Map<String, Value>>> {
    Ok(input.map(custom_claims::validate).transpose()?)
}

/// Creates a group; its friendly name defaults to its name.
pub async fn create(ctx: &AdminCtx<'_>, input: GroupInput) -> Result<GroupDetail> {
    let name = crate::admin::group::name(input.name.as_deref().unwrap_or_default())?;
    let friendly = match input.friendly_name.as_deref() {
        Some(f) if !f.trim().is_empty() => crate::admin::group::friendly_name(f)?,
        _ => name.clone(),
    };
    let claims = claims(input.custom_claims)?.unwrap_or_default();
    let id = random::id();
    let audit = ctx.audit(
        "group_created",
        None,
        json!({ "group": name }),
        When::PreviousChanged,
    )?;
    let group = NewGroup {
        id: &id,
        name: &name,
        friendly_name: &friendly,
        custom_claims: &claims,
    };
    groups::create(ctx.db, ctx.tenant_id, &group, ctx.now, audit).await?;
    get(ctx, &id).await
}

/// Changes the fields given; the others keep their stored values.
pub async fn update(ctx: &AdminCtx<'_>, id: &str, input: GroupInput) -> Result<GroupDetail> {
    let name = input
        .name
        .as_deref()
        .map(crate::admin::group::name)
        .transpose()?;
    let friendly = input
        .friendly_name
        .as_deref()
        .map(crate::admin::group::friendly_name)
        .transpose()?;
    let claims = claims(input.custom_claims)?;
    change(
        ctx,
        id,
        name.as_deref(),
        friendly.as_deref(),
        claims.as_ref(),
    )
    .await?;
    get(ctx, id).await
}

/// Replaces the group's custom claims (Pocket ID's `PUT /api/custom-claims/user-group/{id}`).
pub async fn set_custom_claims(
    ctx: &AdminCtx<'_>,
    id: &str,
    claims: Map<String, Value>,
) -> Result<Map<String, Value>> {
    change(ctx, id, None, None, Some(&claims)).await?;
    Ok(claims)
}

async fn change(
    ctx: &AdminCtx<'_>,
    id: &str,
    name: Option<&str>,
    friendly_name: Option<&str>,
    claims: Option<&Map<String, Value>>,
) -> Result<()> {
    let audit = ctx.audit(
        "group_updated",
        None,
        json!({ "group_id": id }),
        When::PreviousChanged,
    )?;
    if !groups::update(
        ctx.db,
        ctx.tenant_id,
        id,
        name,
        friendly_name,
        claims,
        audit,
    )
    .await?
    {
        return Err(Error::NotFound("This group".into()));
    }
    Ok(())
}

/// Deletes a group. Refused while a client is restricted to this group alone: without it that
/// client would be open to everyone (the rule is inside the DELETE; this explains a refusal).
pub async fn delete(ctx: &AdminCtx<'_>, id: &str) -> Result<()> {
    let audit = ctx.audit(
        "group_deleted",
        None,
        json!({ "group_id": id }),
        When::PreviousChanged,
    )?;
    if groups::delete(ctx.db, ctx.tenant_id, id, audit).await? {
        return Ok(());
    }
    let only = groups::clients_restricted_only_to(ctx.db, ctx.tenant_id, id).await?;
    if only.is_empty() {
        return Err(Error::NotFound("This group".into()));
    }
    let names: Vec<String> = only.into_iter().map(|c| c.name).collect();
    Err(Error::Conflict(format!(
        "Only this group may use {}; change that client's allowed groups first, or it would be open to everyone.",
        names.join(", ")
    )))
}

/// Replaces the members (users of this tenant only).
pub async fn set_members(ctx: &AdminCtx<'_>, id: &str, user_ids: &[String]) -> Result<GroupDetail> {
    if user_ids.len() > MAX_MEMBERS {
        return Err(field_error("user_ids", "at most 1000 per call").into());
    }
    let audit = ctx.audit(
        "group_members_set",
        None,
        json!({ "group_id": id, "count": user_ids.len() }),
        When::RowExists {
            table: "user_groups",
            id,
        },
    )?;
    if !groups::set_members(ctx.db, ctx.tenant_id, id, user_ids, audit).await? {
        return Err(Error::NotFound("This group".into()));
    }
    get(ctx, id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{admin_ctx, client_input, db, run, tenant, user};
    use crate::usecase::Actor;

    fn input(json: Value) -> GroupInput {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn groups_are_created_renamed_and_searched_and_names_are_unique_per_tenant() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let other = tenant(&db, "beta").await;
            let ctx = admin_ctx(&db, &t.id, Actor::Operator);
            let sre = create(
                &ctx,
                input(json!({ "name": "sre", "custom_claims": { "oncall": true } })),
            )
            .await
            .unwrap();
            assert_eq!(sre.group.friendly_name, "sre");
            assert_eq!(sre.group.custom_claims, json!({ "oncall": true }));
            let dup = create(&ctx, input(json!({ "name": "sre" })))
                .await
                .unwrap_err();
            assert!(matches!(dup, Error::Conflict(_)), "{dup:?}");
            let elsewhere = admin_ctx(&db, &other.id, Actor::Operator);
            create(&elsewhere, input(json!({ "name": "sre" })))
                .await
                .unwrap();
            let bad = create(&ctx, input(json!({ "name": "no spaces" })))
                .await
                .unwrap_err();
            assert!(
                matches!(bad, Error::Invalid { field: "name", .. }),
                "{bad:?}"
            );
            let renamed = update(
                &ctx,
                &sre.group.id,
                input(json!({ "friendly_name": "Site Reliability" })),
            )
            .await
            .unwrap();
            assert_eq!(renamed.group.name, "sre", "left-out fields stay");
            assert_eq!(renamed.group.friendly_name, "Site Reliability");
            assert_eq!(renamed.group.custom_claims, json!({ "oncall": true }));
            let (found, total) = list(&ctx, Some("reliab"), &Page::parse(None, None).unwrap())
                .await
                .unwrap();
            assert_eq!((found.len(), total), (1, 1));
            assert!(matches!(
                update(&elsewhere, &sre.group.id, input(json!({ "name": "x" }))).await,
                Err(Error::NotFound(_))
            ));
        });
    }

    #[test]
    fn members_are_users_of_the_tenant_and_are_replaced_as_a_whole() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let other = tenant(&db, "beta").await;
            let ada = user(&db, &t.id, "ada", false).await;
            let bob = user(&db, &t.id, "bob", false).await;
            let stranger = user(&db, &other.id, "eve", false).await;
            let ctx = admin_ctx(&db, &t.id, Actor::Operator);
            let g = create(&ctx, input(json!({ "name": "staff" })))
                .await
                .unwrap()
                .group;
            let set = set_members(&ctx, &g.id, &[ada.clone(), bob.clone()])
                .await
                .unwrap();
            assert_eq!(set.group.member_count, 2);
            let err = set_members(&ctx, &g.id, &[ada.clone(), stranger])
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Invalid {
                        field: "user_ids",
                        ..
                    }
                ),
                "{err:?}"
            );
            assert_eq!(
                get(&ctx, &g.id).await.unwrap().members.len(),
                2,
                "a refused set changes nothing"
            );
            let set = set_members(&ctx, &g.id, &[bob]).await.unwrap();
            assert_eq!(
                set.members
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>(),
                ["bob"]
            );
            let too_many = vec![ada; MAX_MEMBERS + 1];
            assert!(matches!(
                set_members(&ctx, &g.id, &too_many).await,
                Err(Error::Invalid { .. })
            ));
            assert!(matches!(
                set_members(&ctx, "ghost", &[]).await,
                Err(Error::NotFound(_))
            ));
        });
    }

    #[test]
    fn a_group_that_alone_admits_a_client_cannot_be_deleted() {
        let db = db();
        run(async {
            let t = tenant(&db, "acme").await;
            let ctx = admin_ctx(&db, &t.id, Actor::Operator);
            let payroll = create(&ctx, input(json!({ "name": "payroll" })))
                .await
                .unwrap()
                .group;
            let staff = create(&ctx, input(json!({ "name": "staff" })))
                .await
                .unwrap()
                .group;
            let restricted = crate::oidc::client::ClientInput {
                allowed_user_groups: vec!["payroll".into()],
                ..client_input("pay")
            };
            crate::usecase::clients::create_client(&ctx, &restricted, json!({}))
                .await
                .unwrap();
            let err = delete(&ctx, &payroll.id).await.unwrap_err();
            assert!(
                matches!(err, Error::Conflict(ref m) if m.contains("pay")),
                "{err:?}"
            );
            assert_eq!(
                get(&ctx, &payroll.id).await.unwrap().allowed_clients.len(),
                1
            );
            delete(&ctx, &staff.id).await.unwrap();
            assert!(matches!(
                get(&ctx, &staff.id).await,
                Err(Error::NotFound(_))
            ));
            assert!(matches!(
                delete(&ctx, &staff.id).await,
                Err(Error::NotFound(_))
            ));
            let claims = json!({ "team": "pay" }).as_object().unwrap().clone();
            set_custom_claims(&ctx, &payroll.id, claims).await.unwrap();
            assert_eq!(
                get(&ctx, &payroll.id).await.unwrap().group.custom_claims,
                json!({ "team": "pay" })
            );
        });
    }
}
