//! `sitewarden ci github` end to end: the OIDC provider and the roles it reconciles, the exact
//! trust (a token of another repository or branch is refused by STS), the workflow it writes,
//! `--dry-run`, a refused overwrite, the audit of bad trust policies, and `--format markdown`.

use std::path::Path;

use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::{ACCOUNT, Run, aws_clients, project, site_name, write_calls};

const GITHUB: &str = "token.actions.githubusercontent.com";

fn b64url(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A GitHub Actions ID token for `sub` (unsigned: the emulator checks claims, not signatures).
fn token(sub: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": format!("https://{GITHUB}"), "aud": "sts.amazonaws.com", "sub": sub,
        "iat": now - 5, "nbf": now - 5, "exp": now + 300,
    });
    format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes())
    )
}

async fn assume(role_arn: &str, sub: &str) -> Result<(), String> {
    aws_clients("us-east-1")
        .await
        .sts
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name("test")
        .web_identity_token(token(sub))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{:?}", aws_sdk_sts::error::ProvideErrorMetadata::code(&e)))
}

fn yaml(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

fn steps<'a>(workflow: &'a Yaml, job: &str) -> &'a Vec<Yaml> {
    workflow["jobs"][job]["steps"].as_vec().unwrap()
}

fn step_using<'a>(steps: &'a [Yaml], action: &str) -> &'a Yaml {
    steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action)))
        .unwrap_or_else(|| panic!("no step uses {action}: {steps:?}"))
}

fn runs(steps: &[Yaml]) -> Vec<&str> {
    steps.iter().filter_map(|s| s["run"].as_str()).collect()
}

/// A trust for GitHub's provider with the audience and, if given, a subject.
fn github_trust(sub: Option<&str>) -> Value {
    let mut condition = serde_json::json!({format!("{GITHUB}:aud"): "sts.amazonaws.com"});
    if let Some(sub) = sub {
        condition[format!("{GITHUB}:sub")] = Value::from(sub);
    }
    serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": condition}}]})
}

/// `audit --fail-on high` (exit 3): the failed findings of `control`.
fn failed_findings(dir: &Path, control: &str) -> Vec<Value> {
    let report = Run::new(dir)
        .json()
        .args(["audit", "--fail-on", "high"])
        .status(3)
        .run()
        .into_json();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control"] == control && f["status"] == "fail")
        .cloned()
        .collect()
}

async fn role(name: &str) -> Option<sitewarden::observe::iam::Role> {
    sitewarden::observe::iam::role(&aws_clients("us-east-1").await.iam, name)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deploy_role_trusts_one_branch_and_the_workflow_uses_it() {
    let site = site_name("ci");
    let dir = project(&site, "");
    std::fs::write(
        dir.path().join("package.json"),
        r#"{"scripts": {"build": "vite build"}}"#,
    )
    .unwrap();
    Run::new(dir.path())
        .args(["up", "--infra-only", "-y"])
        .run();
    let repo = format!("octo-org/{site}");
    let workflow = dir.path().join(".github/workflows/sitewarden.yml");
    let deploy_name = format!("sitewarden-{site}-deploy");
    let deploy_arn = format!("arn:aws:iam::{ACCOUNT}:role/{deploy_name}");
    let plan_arn = format!("arn:aws:iam::{ACCOUNT}:role/sitewarden-{site}-plan");
    let config_before = std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap();

    // --dry-run: the plan, no write anywhere.
    let dry = Run::new(dir.path())
        .json()
        .args(["ci", "github", "--repo", &repo, "--dry-run"])
        .run()
        .into_json();
    assert_eq!(write_calls(&dry["requests"]), Vec::<String>::new());
    let planned: Vec<String> = dry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["action"].as_str().unwrap(),
                c["resource"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        planned.contains(&format!("create iam role {deploy_name}")),
        "{planned:?}"
    );
    assert!(planned.contains(&format!("create iam role sitewarden-{site}-plan")));
    assert_eq!(dry["workflow_status"], "would be written");
    assert!(!workflow.exists());
    assert!(role(&deploy_name).await.is_none());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap(),
        config_before
    );

    let created = Run::new(dir.path())
        .json()
        .args(["ci", "github", "--repo", &repo])
        .run()
        .into_json();
    assert_eq!(created["deploy_role_arn"], deploy_arn.as_str());
    assert_eq!(created["plan_role_arn"], plan_arn.as_str());
    assert_eq!(created["workflow_status"], "written");

    // The trust: exactly the provider, the audience and the branch's subject.
    let live = role(&deploy_name).await.unwrap();
    assert_eq!(live.max_session_duration, Some(3600));
    // Bounded: whatever its inline policy says, no more than the site's deploy and plan rights.
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/sitewarden-{site}-ci-boundary");
    assert_eq!(
        live.permissions_boundary.as_deref(),
        Some(boundary.as_str())
    );
    let iam_client = aws_clients("us-east-1").await.iam;
    let bounded = sitewarden::observe::iam::managed_policy(&iam_client, &boundary)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let sids: Vec<&str> = bounded["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert!(
        sids.iter().any(|s| s.starts_with("Deploy"))
            && sids.iter().any(|s| s.starts_with("PlanRead")),
        "{sids:?}"
    );
    assert_eq!(live.site_tag.as_deref(), Some(site.as_str()));
    let statement = &live.trust.as_ref().unwrap()["Statement"][0];
    assert_eq!(
        statement["Principal"]["Federated"],
        format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB}")
    );
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(
        statement["Condition"],
        serde_json::json!({"StringEquals": {
            format!("{GITHUB}:aud"): "sts.amazonaws.com",
            format!("{GITHUB}:sub"): format!("repo:{repo}:ref:refs/heads/main"),
        }})
    );
    // STS agrees: only the branch's runs get in; another repository, branch or a pull request not.
    assume(&deploy_arn, &format!("repo:{repo}:ref:refs/heads/main"))
        .await
        .unwrap();
    for other in [
        "repo:octo-org/other:ref:refs/heads/main".to_owned(),
        format!("repo:{repo}:ref:refs/heads/feature"),
        format!("repo:{repo}:pull_request"),
    ] {
        assert_eq!(
            assume(&deploy_arn, &other).await,
            Err("Some(\"AccessDenied\")".to_owned()),
            "{other}"
        );
    }
    assume(&plan_arn, &format!("repo:{repo}:pull_request"))
        .await
        .unwrap();

    // The deploy permissions are `iam-policy --for deploy`; the plan role's only read.
    let iam = aws_clients("us-east-1").await.iam;
    let policies = sitewarden::observe::iam::inline_policies(&iam, &deploy_name)
        .await
        .unwrap();
    let printed = Run::new(dir.path())
        .json()
        .args(["iam-policy", "--for", "deploy"])
        .run()
        .into_json();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].1.as_ref().unwrap(), &printed);
    let plan_policies =
        sitewarden::observe::iam::inline_policies(&iam, &format!("sitewarden-{site}-plan"))
            .await
            .unwrap();
    let plan_statements = plan_policies[0].1.as_ref().unwrap()["Statement"]
        .as_array()
        .unwrap()
        .clone();
    for statement in &plan_statements {
        let actions: Vec<&str> = match &statement["Action"] {
            Value::String(a) => vec![a.as_str()],
            other => other
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect(),
        };
        for action in actions {
            assert!(
                sitewarden::iam::reads_only(action),
                "the plan role may {action}"
            );
            if action.starts_with("s3:GetObject") {
                assert_eq!(
                    statement["Resource"],
                    format!("arn:aws:s3:::{site}-site-{ACCOUNT}/.sitewarden/manifest.json"),
                    "object reads are the manifest only"
                );
            }
        }
    }

    // The workflow, parsed.
    let parsed = yaml(&workflow);
    assert_eq!(parsed["permissions"]["id-token"].as_str(), Some("write"));
    assert_eq!(parsed["permissions"]["contents"].as_str(), Some("read"));
    assert_eq!(parsed["on"]["push"]["branches"][0].as_str(), Some("main"));
    assert!(!parsed["on"]["pull_request"].is_badvalue());
    let deploy = steps(&parsed, "deploy");
    let credentials = step_using(deploy, "aws-actions/configure-aws-credentials@v");
    assert_eq!(
        credentials["with"]["role-to-assume"].as_str(),
        Some(deploy_arn.as_str())
    );
    assert_eq!(parsed["env"]["AWS_REGION"].as_str(), Some("eu-west-1"));
    assert!(runs(deploy).contains(&"sitewarden deploy --format markdown"));
    assert!(
        runs(deploy).iter().any(|r| r.contains("npm run build")),
        "{:?}",
        runs(deploy)
    );
    assert!(
        runs(deploy).iter().any(|r| r.starts_with(
            "cargo install --locked --git https://github.com/sitewarden/sitewarden --tag v"
        )),
        "{:?}",
        runs(deploy)
    );
    assert_eq!(
        parsed["jobs"]["deploy"]["concurrency"]["group"].as_str(),
        Some(format!("sitewarden-{site}-deploy").as_str())
    );
    assert_eq!(
        parsed["jobs"]["deploy"]["concurrency"]["cancel-in-progress"].as_bool(),
        Some(false)
    );
    assert_eq!(
        parsed["jobs"]["deploy"]["if"].as_str(),
        Some("github.event_name == 'push'")
    );
    let plan = steps(&parsed, "plan");
    assert_eq!(
        step_using(plan, "aws-actions/configure-aws-credentials@v")["with"]["role-to-assume"]
            .as_str(),
        Some(plan_arn.as_str())
    );
    assert!(runs(plan).contains(&"sitewarden plan --format markdown"));
    assert_eq!(
        parsed["jobs"]["plan"]["if"].as_str(),
        Some(
            "github.event_name == 'pull_request' && \
             github.event.pull_request.head.repo.full_name == github.repository"
        )
    );

    // `[ci]` is recorded, and a second run changes nothing at all.
    let config = std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap();
    assert!(
        config.starts_with(&config_before),
        "the rest of the file is kept"
    );
    assert!(config.contains("[ci]") && config.contains(&format!("repo = \"{repo}\"")));
    let again = Run::new(dir.path())
        .json()
        .args(["ci", "github", "--repo", &repo])
        .run()
        .into_json();
    assert_eq!(
        write_calls(&again["requests"]),
        Vec::<String>::new(),
        "{again:#}"
    );
    assert_eq!(again["workflow_status"], "unchanged");
    assert_eq!(again["changes"], serde_json::json!([]));

    // Drift: someone widens the trust to every repository; `plan` shows it, `up` puts it back,
    // and the audit fails it meanwhile.
    let open = github_trust(None);
    iam.update_assume_role_policy()
        .role_name(&deploy_name)
        .policy_document(open.to_string())
        .send()
        .await
        .unwrap();
    let trust: Vec<Value> = failed_findings(dir.path(), "SW.IAM.CiTrust")
        .into_iter()
        .filter(|f| f["resource"]["name"] == deploy_name.as_str())
        .collect();
    assert_eq!(trust.len(), 1, "{trust:#?}");
    assert!(
        trust[0]["evidence"]
            .as_str()
            .unwrap()
            .contains("no `token.actions.githubusercontent.com:sub` condition")
    );
    let planned = Run::new(dir.path())
        .json()
        .args(["plan", "--infra-only"])
        .run()
        .into_json();
    assert!(
        planned["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["resource"] == format!("iam role {deploy_name}")),
        "{planned:#}"
    );
    Run::new(dir.path())
        .args(["up", "--infra-only", "-y"])
        .run();
    assert_eq!(
        role(&deploy_name).await.unwrap().trust.unwrap()["Statement"][0]["Condition"]["StringEquals"]
            [format!("{GITHUB}:sub")],
        format!("repo:{repo}:ref:refs/heads/main")
    );

    // Extra permissions on the role (an inline policy, an attached managed one) are removed.
    iam.put_role_policy()
        .role_name(&deploy_name)
        .policy_name("extra")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let admin = iam
        .create_policy()
        .policy_name(format!("{site}-admin"))
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    iam.attach_role_policy()
        .role_name(&deploy_name)
        .policy_arn(&admin)
        .send()
        .await
        .unwrap();
    let repaired = Run::new(dir.path())
        .json()
        .args(["up", "--infra-only", "-y"])
        .run()
        .into_json();
    let details: Vec<&str> = repaired["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["resource"] == format!("iam role {deploy_name}"))
        .map(|c| c["detail"].as_str().unwrap())
        .collect();
    assert_eq!(
        details,
        [
            "remove inline policy `extra` (not sitewarden's)".to_owned(),
            format!("detach managed policy {admin} (the role's permissions are its inline policy)")
        ]
    );
    let inline = sitewarden::observe::iam::inline_policies(&iam, &deploy_name)
        .await
        .unwrap();
    assert_eq!(inline.len(), 1);
    let attached = sitewarden::observe::iam::attached_policies(&iam, &deploy_name)
        .await
        .unwrap();
    assert!(attached.is_empty());

    // A trust of another repository fails the audit even though it is exact.
    let elsewhere = github_trust(Some("repo:evil-org/site:ref:refs/heads/main"));
    iam.update_assume_role_policy()
        .role_name(&deploy_name)
        .policy_document(elsewhere.to_string())
        .send()
        .await
        .unwrap();
    let evidence: Vec<String> = failed_findings(dir.path(), "SW.IAM.CiTrust")
        .iter()
        .map(|f| f["evidence"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(evidence.len(), 1, "{evidence:?}");
    assert!(evidence[0].contains("not exactly"), "{evidence:?}");
    Run::new(dir.path())
        .args(["up", "--infra-only", "-y"])
        .run();

    // A long-lived key for a user with the deploy policy fails the audit.
    let user = format!("{site}-ci-user");
    iam.create_user().user_name(&user).send().await.unwrap();
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("deploy")
        .policy_document(printed.to_string())
        .send()
        .await
        .unwrap();
    iam.create_access_key()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    let keys = failed_findings(dir.path(), "SW.IAM.CiNoAccessKeys");
    assert_eq!(keys.len(), 1);
    assert!(
        keys[0]["evidence"]
            .as_str()
            .unwrap()
            .contains(&format!("user {user} has the deploy policy"))
    );

    // `--pull-requests none` removes the plan role (and the workflow's plan job, with --force).
    let plan_name = format!("sitewarden-{site}-plan");
    let none = Run::new(dir.path())
        .json()
        .args([
            "ci",
            "github",
            "--repo",
            &repo,
            "--pull-requests",
            "none",
            "--force",
        ])
        .run()
        .into_json();
    assert_eq!(none["plan_role_arn"], Value::Null);
    assert!(role(&plan_name).await.is_none());
    assert!(yaml(&workflow)["jobs"]["plan"].is_badvalue());
    let config = std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap();
    assert!(config.contains("pull_requests = \"none\""), "{config}");
    Run::new(dir.path())
        .args(["ci", "github", "--repo", &repo, "--force"])
        .run();
    assert!(role(&plan_name).await.is_some());

    // `destroy` removes both roles; the account's provider stays.
    Run::new(dir.path()).args(["destroy", "-y"]).run();
    assert!(role(&deploy_name).await.is_none());
    assert!(role(&plan_name).await.is_none());
    assert!(
        sitewarden::observe::iam::oidc_provider(&iam, GITHUB)
            .await
            .unwrap()
            .is_some(),
        "the shared provider is kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_environment_is_trusted_instead_of_the_branch_and_a_users_workflow_is_never_overwritten()
{
    let site = site_name("cienv");
    let dir = project(&site, "");
    let workflow = dir.path().join(".github/workflows/sitewarden.yml");
    std::fs::create_dir_all(workflow.parent().unwrap()).unwrap();
    std::fs::write(&workflow, "name: mine\n").unwrap();
    let repo = format!("octo-org/{site}");
    let args = [
        "ci",
        "github",
        "--repo",
        &repo,
        "--environment",
        "production",
        "--pull-requests",
        "none",
    ];
    Run::new(dir.path())
        .args(args)
        .status(2)
        .stderr_contains("refusing to overwrite it")
        .run();
    assert!(
        role(&format!("sitewarden-{site}-deploy")).await.is_none(),
        "nothing was created"
    );
    assert_eq!(std::fs::read_to_string(&workflow).unwrap(), "name: mine\n");
    // Bad input: exit 2, nothing created.
    for (flag, value) in [
        ("--repo", "octo-org/*"),
        ("--repo", "no-slash"),
        ("--branch", "ma:in"),
        ("--branch", "*"),
    ] {
        Run::new(dir.path())
            .args(["ci", "github", "--repo", &repo, flag, value, "--force"])
            .status(2)
            .stderr_contains(flag)
            .run();
    }
    let out = Run::new(dir.path())
        .json()
        .args(args)
        .arg("--force")
        .run()
        .into_json();
    assert_eq!(out["plan_role_arn"], Value::Null);
    let deploy_arn = out["deploy_role_arn"].as_str().unwrap().to_owned();
    assume(&deploy_arn, &format!("repo:{repo}:environment:production"))
        .await
        .unwrap();
    assert!(
        assume(&deploy_arn, &format!("repo:{repo}:ref:refs/heads/main"))
            .await
            .is_err()
    );
    let parsed = yaml(&workflow);
    assert_eq!(
        parsed["jobs"]["deploy"]["environment"].as_str(),
        Some("production")
    );
    assert!(
        parsed["defaults"].is_badvalue(),
        "the project is the repository's root"
    );
    assert!(
        parsed["jobs"]["plan"].is_badvalue(),
        "no plan job without a pull request role"
    );
    assert!(parsed["on"]["pull_request"].is_badvalue());
    assert!(role(&format!("sitewarden-{site}-plan")).await.is_none());
}

#[test]
fn a_project_in_a_subfolder_gets_its_working_directory() {
    let site = site_name("cisub");
    let repository = tempfile::tempdir().unwrap();
    std::fs::create_dir(repository.path().join(".git")).unwrap();
    let project = repository.path().join("web/site");
    std::fs::create_dir_all(project.join("dist")).unwrap();
    std::fs::write(project.join("dist/index.html"), "<p>x</p>").unwrap();
    std::fs::write(
        project.join("sitewarden.toml"),
        format!("[site]\nname = \"{site}\"\nsource = \"dist\"\nregion = \"eu-west-1\"\n"),
    )
    .unwrap();
    let out = Run::new(&project)
        .json()
        .args(["ci", "github", "--repo", "octo-org/mono", "--dry-run"])
        .run()
        .into_json();
    let written = std::path::PathBuf::from(out["workflow"].as_str().unwrap());
    assert!(
        written.ends_with(".github/workflows/sitewarden.yml"),
        "{written:?}"
    );
    assert!(
        !written.starts_with(&project),
        "at the repository's root: {written:?}"
    );
    Run::new(&project)
        .args(["ci", "github", "--repo", "octo-org/mono"])
        .run();
    let parsed = yaml(&repository.path().join(".github/workflows/sitewarden.yml"));
    assert_eq!(
        parsed["defaults"]["run"]["working-directory"].as_str(),
        Some("web/site")
    );
    Run::new(&project).args(["destroy", "-y"]).run();
}

#[tokio::test(flavor = "multi_thread")]
async fn markdown_summaries_go_to_stdout_and_the_step_summary() {
    let site = site_name("md");
    let dir = project(&site, "");
    let summary = dir.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let plan = Run::new(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["plan", "--format", "markdown"])
        .run()
        .stdout;
    assert!(
        plan.starts_with(&format!("## sitewarden plan: site `{site}`\n")),
        "{plan}"
    );
    assert!(
        plan.contains("| | resource | change |\n| --- | --- | --- |\n"),
        "{plan}"
    );
    assert!(
        plan.contains(&format!("| + | `s3 bucket {site}-site-{ACCOUNT}` |")),
        "{plan}"
    );
    assert!(plan.contains("| `index.html` | new |"), "{plan}");
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("earlier step\n{plan}\n")
    );
    Run::new(dir.path()).args(["up", "-y"]).run();
    std::fs::write(dir.path().join("dist/a|b.html"), "<p>pipe</p>").unwrap();
    let deploy = Run::new(dir.path())
        .args(["deploy", "--format", "markdown"])
        .run()
        .stdout;
    assert!(deploy.starts_with("### sitewarden deploy `"), "{deploy}");
    assert!(deploy.contains("| `a\\|b.html` | new |"), "{deploy}");
    let audit = Run::new(dir.path())
        .args(["audit", "--format", "markdown"])
        .run()
        .stdout;
    assert!(
        audit.starts_with(&format!("## sitewarden audit: site `{site}`\n")),
        "{audit}"
    );
    assert!(
        audit.contains("| fail | medium | `SW.SNS.Subscribed` |"),
        "{audit}"
    );
    Run::new(dir.path())
        .args(["--json", "plan", "--format", "markdown"])
        .status(2)
        .stderr_contains("conflicts with `--format markdown`")
        .run();
}
