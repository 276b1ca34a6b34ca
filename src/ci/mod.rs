//! CI deploy roles (`[ci]`, written by `sitewarden ci github`): the account's OIDC provider for
//! GitHub Actions (created if missing, reused if present: never duplicated, its thumbprints never
//! touched), a role `sitewarden-<site>-deploy` that only one repository's branch or environment
//! may assume, with the deploy policy of `iam-policy --for deploy` inline, and for pull requests a
//! role `sitewarden-<site>-plan` with the read-only part of the provisioning policy.
//!
//! Reconciled like every resource: `plan` shows them, `up` repairs them (trust, session length,
//! inline policy, attached policies), `destroy` removes the roles (not the shared provider).

mod command;
pub mod workflow;

pub use command::{CiArgs, CiCommand, GithubArgs, run};

use serde_json::{Value, json};

use crate::config::{Ci, KmsKeyArn, PullRequests};
use crate::error::{AwsResultExt as _, Result};
use crate::names::{Kind, Resource, SITE_TAG};
use crate::observe::iam as observe;
use crate::provision::{Action, Ctx, Plan};

/// GitHub Actions' OIDC issuer host.
pub const GITHUB_HOST: &str = "token.actions.githubusercontent.com";
/// The audience `aws-actions/configure-aws-credentials` asks GitHub for.
pub const AUDIENCE: &str = "sts.amazonaws.com";
/// GitHub's published certificate thumbprints (AWS verifies GitHub against its own trust store
/// and ignores them, but the API asks for one).
const GITHUB_THUMBPRINTS: [&str; 2] = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
];
/// One hour, IAM's shortest maximum session: a leaked session token expires soon.
pub const MAX_SESSION_SECONDS: i32 = 3600;
const DEPLOY_POLICY_NAME: &str = "sitewarden-deploy";
const PLAN_POLICY_NAME: &str = "sitewarden-plan";

/// The role names of a site.
pub fn deploy_role(site: &str) -> String {
    format!("sitewarden-{site}-deploy")
}

pub fn plan_role(site: &str) -> String {
    format!("sitewarden-{site}-plan")
}

/// The subject claim GitHub puts in the tokens of the runs that may deploy.
pub fn deploy_subject(ci: &Ci) -> String {
    match &ci.environment {
        Some(environment) => format!("repo:{}:environment:{environment}", ci.repo),
        None => format!("repo:{}:ref:refs/heads/{}", ci.repo, ci.branch()),
    }
}

/// The subject claim of a pull request's runs.
pub fn pull_request_subject(ci: &Ci) -> String {
    format!("repo:{}:pull_request", ci.repo)
}

pub fn provider_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:oidc-provider/{GITHUB_HOST}")
}

pub fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

/// Only `sts:AssumeRoleWithWebIdentity` through the provider, with the exact audience and subject.
pub fn trust_policy(provider_arn: &str, subject: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "OneRepositoryThroughGitHubOidc",
            "Effect": "Allow",
            "Principal": { "Federated": provider_arn },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    format!("{GITHUB_HOST}:aud"): AUDIENCE,
                    format!("{GITHUB_HOST}:sub"): subject,
                }
            }
        }]
    })
}

/// The ARNs of the roles a reconciliation leaves (or, in `plan`, would leave).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Roles {
    pub provider_arn: String,
    pub deploy_role_arn: String,
    pub plan_role_arn: Option<String>,
}

/// One role as sitewarden writes it.
struct RoleSpec<'a> {
    name: String,
    description: String,
    trust: Value,
    policy_name: &'a str,
    policy: Value,
    /// The permissions boundary's ARN.
    boundary: &'a str,
}

/// The managed policy that bounds both CI roles: whatever their inline policies say, they can do
/// no more than the site's deploy and plan permissions. Only `ci github` (an IAM administrator)
/// writes it; `up` may change the roles' policies only while this boundary is on them, so the
/// provisioning identity cannot turn a CI role into anything wider.
pub fn boundary_name(site: &str) -> String {
    format!("sitewarden-{site}-ci-boundary")
}

pub fn boundary_arn(account: &str, site: &str) -> String {
    format!("arn:aws:iam::{account}:policy/{}", boundary_name(site))
}

/// The deploy policy's and the plan policy's statements together (their Sids prefixed).
fn boundary_document(deploy: &Value, plan: &Value) -> Value {
    let mut statements = Vec::new();
    for (prefix, doc) in [("Deploy", deploy), ("Plan", plan)] {
        for statement in doc["Statement"].as_array().into_iter().flatten() {
            let mut statement = statement.clone();
            if let Some(sid) = statement["Sid"].as_str() {
                statement["Sid"] = Value::from(format!("{prefix}{sid}"));
            }
            statements.push(statement);
        }
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Reconciles the provider, the boundary and the roles of `ci`. `admin`: the run may write the
/// boundary (`ci github`); `plan` and `up` only read it, and leave a role without it alone.
pub async fn reconcile(ctx: &Ctx<'_>, ci: &Ci, admin: bool, plan: &mut Plan) -> Result<Roles> {
    let provider = reconcile_provider(ctx, plan).await?;
    let site = &ctx.names.site;
    let key_arn = ctx.config.kms.key_arn.as_ref().map(KmsKeyArn::as_str);
    let deploy_policy = crate::iam::policy_for(
        crate::iam::Purpose::Deploy,
        ctx.names,
        ctx.account,
        &ctx.aws.region,
        key_arn,
        &crate::iam::Scope::default(),
    )
    .0;
    let scope = crate::iam::find_scope(ctx).await;
    let provision = crate::iam::policy_for(
        crate::iam::Purpose::Provision,
        ctx.names,
        ctx.account,
        &ctx.aws.region,
        key_arn,
        &scope,
    )
    .0;
    let plan_policy = crate::iam::read_only(&provision, ctx.names, &ctx.aws.region);
    let boundary = boundary_arn(ctx.account, site);
    let bounded = boundary_document(&deploy_policy, &plan_policy);
    let boundary_ready = reconcile_boundary(ctx, &boundary, &bounded, admin, plan).await?;
    let deploy = RoleSpec {
        name: deploy_role(site),
        description: format!(
            "sitewarden: deploys site {site} from {} (GitHub Actions)",
            deploy_subject(ci)
        ),
        trust: trust_policy(&provider, &deploy_subject(ci)),
        policy_name: DEPLOY_POLICY_NAME,
        policy: deploy_policy,
        boundary: &boundary,
    };
    reconcile_role(ctx, &deploy, admin, boundary_ready, plan).await?;
    let plan_role_arn = match ci.pull_requests {
        PullRequests::Plan => {
            let spec = RoleSpec {
                name: plan_role(site),
                description: format!(
                    "sitewarden: `plan` for site {site} on pull requests of {} (read only)",
                    ci.repo
                ),
                trust: trust_policy(&provider, &pull_request_subject(ci)),
                policy_name: PLAN_POLICY_NAME,
                policy: plan_policy,
                boundary: &boundary,
            };
            reconcile_role(ctx, &spec, admin, boundary_ready, plan).await?;
            Some(role_arn(ctx.account, &spec.name))
        }
        PullRequests::None => {
            remove_role(ctx, &plan_role(site), plan).await?;
            None
        }
    };
    Ok(Roles {
        provider_arn: provider,
        deploy_role_arn: role_arn(ctx.account, &deploy_role(site)),
        plan_role_arn,
    })
}

/// The boundary policy: written by `admin` runs, compared by the others. Whether it exists
/// (or, in `plan`, would) as `bounded` says.
async fn reconcile_boundary(
    ctx: &Ctx<'_>,
    arn: &str,
    bounded: &Value,
    admin: bool,
    plan: &mut Plan,
) -> Result<bool> {
    let iam = &ctx.aws.iam;
    let resource = Resource::new(Kind::Policy, arn);
    let rerun = "run `sitewarden ci github` again with IAM administrator rights";
    match observe::managed_policy(iam, arn).await? {
        None if !admin => {
            if ctx.apply {
                return Err(crate::error::Error::usage_with_hint(
                    format!("the CI roles' permissions boundary {arn} does not exist"),
                    rerun,
                ));
            }
            ctx.change(plan, &resource, Action::Create, format!("missing: {rerun}"));
            Ok(false)
        }
        None => {
            ctx.change(
                plan,
                &resource,
                Action::Create,
                "permissions boundary of the CI roles: the site's deploy and plan permissions, \
                 nothing else",
            );
            if ctx.apply {
                create_boundary(ctx, bounded, &resource).await?;
            }
            Ok(true)
        }
        Some(live)
            if live
                .as_ref()
                .is_some_and(|l| crate::policy::same(l, bounded)) =>
        {
            ctx.settled(plan, &resource);
            Ok(true)
        }
        Some(_) if !admin => {
            ctx.printer.warn(format_args!(
                "the CI roles' permissions boundary {arn} differs from the site's deploy and plan \
                 permissions: {rerun}"
            ));
            ctx.change(plan, &resource, Action::Update, format!("differs: {rerun}"));
            Ok(true)
        }
        Some(_) => {
            ctx.change(
                plan,
                &resource,
                Action::Update,
                "permissions boundary: the site's deploy and plan permissions, nothing else",
            );
            if ctx.apply {
                update_boundary(ctx, arn, bounded, &resource).await?;
            }
            Ok(true)
        }
    }
}

async fn create_boundary(ctx: &Ctx<'_>, bounded: &Value, resource: &Resource) -> Result<()> {
    ctx.aws
        .iam
        .create_policy()
        .policy_name(boundary_name(&ctx.names.site))
        .description(format!(
            "sitewarden: the most the CI roles of site {} may do",
            ctx.names.site
        ))
        .policy_document(bounded.to_string())
        .tags(site_tag(ctx)?)
        .send()
        .await
        .op("CreatePolicy", resource)?;
    Ok(())
}

async fn update_boundary(
    ctx: &Ctx<'_>,
    arn: &str,
    bounded: &Value,
    resource: &Resource,
) -> Result<()> {
    let iam = &ctx.aws.iam;
    // At most five versions: the oldest that is not the default goes first.
    let old = observe::old_policy_versions(iam, arn).await?;
    if old.len() >= 4 {
        iam.delete_policy_version()
            .policy_arn(arn)
            .version_id(&old[0])
            .send()
            .await
            .op("DeletePolicyVersion", resource)?;
    }
    iam.create_policy_version()
        .policy_arn(arn)
        .policy_document(bounded.to_string())
        .set_as_default(true)
        .send()
        .await
        .op("CreatePolicyVersion", resource)?;
    Ok(())
}

/// The `sitewarden:site` tag of what `ci` creates.
fn site_tag(ctx: &Ctx<'_>) -> Result<aws_sdk_iam::types::Tag> {
    Ok(aws_sdk_iam::types::Tag::builder()
        .key(SITE_TAG)
        .value(&ctx.names.site)
        .build()?)
}

/// The account's GitHub provider: reused as it is (a missing `sts.amazonaws.com` audience is
/// reported, for an administrator to add); created when there is none.
async fn reconcile_provider(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<String> {
    let iam = &ctx.aws.iam;
    let resource = Resource::new(Kind::OidcProvider, GITHUB_HOST);
    let Some(provider) = observe::oidc_provider(iam, GITHUB_HOST).await? else {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            format!("create the account's OIDC provider for GitHub Actions (audience {AUDIENCE})"),
        );
        if ctx.apply {
            let created = iam
                .create_open_id_connect_provider()
                .url(format!("https://{GITHUB_HOST}"))
                .client_id_list(AUDIENCE)
                .set_thumbprint_list(Some(GITHUB_THUMBPRINTS.map(str::to_owned).to_vec()))
                .send()
                .await
                // Another site's run created it meanwhile: it is the account's, reused.
                .or_missing(
                    &["EntityAlreadyExists"],
                    "CreateOpenIDConnectProvider",
                    &resource,
                )?;
            if let Some(arn) = created.and_then(|c| c.open_id_connect_provider_arn) {
                return Ok(arn);
            }
        }
        return Ok(provider_arn(ctx.account));
    };
    if !provider.client_ids.iter().any(|c| c == AUDIENCE) {
        // Shared by the whole account: changed by an administrator, not by a site's run.
        ctx.printer.warn(format_args!(
            "the account's OIDC provider {} lacks the audience {AUDIENCE}, so STS refuses the \
             workflow's tokens; an administrator adds it (its other audiences stay): aws iam \
             add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {} \
             --client-id {AUDIENCE}",
            provider.arn, provider.arn
        ));
    }
    ctx.settled(plan, &resource);
    Ok(provider.arn)
}

async fn reconcile_role(
    ctx: &Ctx<'_>,
    spec: &RoleSpec<'_>,
    admin: bool,
    boundary_ready: bool,
    plan: &mut Plan,
) -> Result<()> {
    let iam = &ctx.aws.iam;
    let resource = Resource::new(Kind::Role, &spec.name);
    let found = observe::role(iam, &spec.name).await?;
    if let Some(other) = found.as_ref().and_then(|r| r.site_tag.as_deref())
        && other != ctx.names.site
    {
        return Err(crate::error::Error::usage_with_hint(
            format!(
                "role {} is tagged for site `{other}`, not this one",
                spec.name
            ),
            "rename one of the sites, or remove the role if it is stale",
        ));
    }
    let Some(role) = found else {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            format!(
                "create the role ({}; sessions of at most 1 hour; policy `{}` inline)",
                spec.description.trim_start_matches("sitewarden: "),
                spec.policy_name
            ),
        );
        if ctx.apply && boundary_ready {
            iam.create_role()
                .role_name(&spec.name)
                .permissions_boundary(spec.boundary)
                .description(&spec.description)
                .assume_role_policy_document(spec.trust.to_string())
                .max_session_duration(MAX_SESSION_SECONDS)
                .tags(site_tag(ctx)?)
                .send()
                .await
                .op("CreateRole", &resource)?;
            put_policy(ctx, spec, &resource).await?;
        }
        return Ok(());
    };
    if role.permissions_boundary.as_deref() != Some(spec.boundary) {
        let live = role.permissions_boundary.as_deref().unwrap_or("none");
        ctx.change(
            plan,
            &resource,
            Action::Update,
            format!("permissions boundary {live} → {}", spec.boundary),
        );
        if !admin {
            // Without its boundary the role's policies may not be written by this identity.
            ctx.printer.warn(format_args!(
                "role {} lacks its permissions boundary {}: run `sitewarden ci github` again with \
                 IAM administrator rights",
                spec.name, spec.boundary
            ));
            return Ok(());
        }
        if ctx.apply {
            iam.put_role_permissions_boundary()
                .role_name(&spec.name)
                .permissions_boundary(spec.boundary)
                .send()
                .await
                .op("PutRolePermissionsBoundary", &resource)?;
        }
    }
    reconcile_settings(ctx, spec, &role, &resource, plan).await?;
    reconcile_permissions(ctx, spec, &resource, plan).await?;
    ctx.settled(plan, &resource);
    Ok(())
}

/// The role's trust, session length and site tag.
async fn reconcile_settings(
    ctx: &Ctx<'_>,
    spec: &RoleSpec<'_>,
    role: &observe::Role,
    resource: &Resource,
    plan: &mut Plan,
) -> Result<()> {
    let iam = &ctx.aws.iam;
    if !role
        .trust
        .as_ref()
        .is_some_and(|t| crate::policy::same(t, &spec.trust))
    {
        ctx.change(
            plan,
            resource,
            Action::Update,
            "trust policy: only this repository's runs, with the exact audience and subject",
        );
        if ctx.apply {
            iam.update_assume_role_policy()
                .role_name(&spec.name)
                .policy_document(spec.trust.to_string())
                .send()
                .await
                .op("UpdateAssumeRolePolicy", resource)?;
        }
    }
    if role.max_session_duration != Some(MAX_SESSION_SECONDS) {
        ctx.change(
            plan,
            resource,
            Action::Update,
            format!(
                "maximum session {} s → {MAX_SESSION_SECONDS} s",
                role.max_session_duration.unwrap_or_default()
            ),
        );
        if ctx.apply {
            iam.update_role()
                .role_name(&spec.name)
                .max_session_duration(MAX_SESSION_SECONDS)
                .send()
                .await
                .op("UpdateRole", resource)?;
        }
    }
    if role.site_tag.is_none() {
        ctx.change(plan, resource, Action::Update, "tag sitewarden:site");
        if ctx.apply {
            iam.tag_role()
                .role_name(&spec.name)
                .tags(site_tag(ctx)?)
                .send()
                .await
                .op("TagRole", resource)?;
        }
    }
    Ok(())
}

/// The role's permissions are exactly its one inline policy: others are removed.
async fn reconcile_permissions(
    ctx: &Ctx<'_>,
    spec: &RoleSpec<'_>,
    resource: &Resource,
    plan: &mut Plan,
) -> Result<()> {
    let iam = &ctx.aws.iam;
    let inline = observe::inline_policies(iam, &spec.name).await?;
    let ours = inline.iter().find(|(name, _)| name == spec.policy_name);
    if !ours.is_some_and(|(_, doc)| {
        doc.as_ref()
            .is_some_and(|d| crate::policy::same(d, &spec.policy))
    }) {
        ctx.change(
            plan,
            resource,
            Action::Update,
            format!(
                "inline policy `{}` as `iam-policy` prints it",
                spec.policy_name
            ),
        );
        if ctx.apply {
            put_policy(ctx, spec, resource).await?;
        }
    }
    for (name, _) in inline.iter().filter(|(name, _)| name != spec.policy_name) {
        ctx.change(
            plan,
            resource,
            Action::Update,
            format!("remove inline policy `{name}` (not sitewarden's)"),
        );
        if ctx.apply {
            delete_inline(iam, &spec.name, name, resource).await?;
        }
    }
    for arn in observe::attached_policies(iam, &spec.name).await? {
        ctx.change(
            plan,
            resource,
            Action::Update,
            format!("detach managed policy {arn} (the role's permissions are its inline policy)"),
        );
        if ctx.apply {
            detach(iam, &spec.name, &arn, resource).await?;
        }
    }
    Ok(())
}

async fn delete_inline(
    iam: &aws_sdk_iam::Client,
    role: &str,
    policy: &str,
    resource: &Resource,
) -> Result<()> {
    iam.delete_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await
        .op("DeleteRolePolicy", resource)?;
    Ok(())
}

async fn detach(
    iam: &aws_sdk_iam::Client,
    role: &str,
    arn: &str,
    resource: &Resource,
) -> Result<()> {
    iam.detach_role_policy()
        .role_name(role)
        .policy_arn(arn)
        .send()
        .await
        .op("DetachRolePolicy", resource)?;
    Ok(())
}

async fn put_policy(ctx: &Ctx<'_>, spec: &RoleSpec<'_>, resource: &Resource) -> Result<()> {
    ctx.aws
        .iam
        .put_role_policy()
        .role_name(&spec.name)
        .policy_name(spec.policy_name)
        .policy_document(spec.policy.to_string())
        .send()
        .await
        .op("PutRolePolicy", resource)?;
    Ok(())
}

/// Deletes the role `name` if it exists: its inline policies, attached policies, then the role.
async fn remove_role(ctx: &Ctx<'_>, name: &str, plan: &mut Plan) -> Result<()> {
    let iam = &ctx.aws.iam;
    let resource = Resource::new(Kind::Role, name);
    if observe::role(iam, name).await?.is_none() {
        return Ok(());
    }
    ctx.change(
        plan,
        &resource,
        Action::Delete,
        "delete the role and its policies",
    );
    if !ctx.apply {
        return Ok(());
    }
    for (policy, _) in observe::inline_policies(iam, name).await? {
        delete_inline(iam, name, &policy, &resource).await?;
    }
    for arn in observe::attached_policies(iam, name).await? {
        detach(iam, name, &arn, &resource).await?;
    }
    iam.delete_role()
        .role_name(name)
        .send()
        .await
        .op("DeleteRole", &resource)?;
    Ok(())
}

/// `destroy`: the site's CI roles go; the account's OIDC provider stays (other sites and
/// repositories use it).
pub async fn remove(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    // By name, with or without `[ci]`: a role left trusted by a repository is a way in.
    remove_role(ctx, &deploy_role(&ctx.names.site), plan).await?;
    remove_role(ctx, &plan_role(&ctx.names.site), plan).await?;
    let iam = &ctx.aws.iam;
    let arn = boundary_arn(ctx.account, &ctx.names.site);
    if observe::managed_policy(iam, &arn).await?.is_none() {
        return Ok(());
    }
    let resource = Resource::new(Kind::Policy, &arn);
    ctx.change(
        plan,
        &resource,
        Action::Delete,
        "delete the CI roles' permissions boundary",
    );
    if ctx.apply {
        for version in observe::old_policy_versions(iam, &arn).await? {
            iam.delete_policy_version()
                .policy_arn(&arn)
                .version_id(&version)
                .send()
                .await
                .op("DeletePolicyVersion", &resource)?;
        }
        iam.delete_policy()
            .policy_arn(&arn)
            .send()
            .await
            .op("DeletePolicy", &resource)?;
    }
    Ok(())
}
