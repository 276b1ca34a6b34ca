//! `sitewarden ci github`: reconciles the site's CI roles for one repository, writes the workflow
//! that uses them and records the choice as `[ci]` in sitewarden.toml, so that `plan`, `up` and
//! `destroy` keep reconciling them.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;

use super::workflow::{Workflow, detect};
use super::{Roles, deploy_role, plan_role, reconcile, role_arn};
use crate::config::{Ci, CiName, CiProvider, PullRequests, RepoPath};
use crate::error::{Error, Exit, Result};
use crate::output::{Printer, escape};
use crate::provision::Plan;
use crate::site::{Session, Settings};

#[derive(Debug, Args)]
pub struct CiArgs {
    #[command(subcommand)]
    pub provider: CiCommand,
}

#[derive(Debug, Subcommand)]
pub enum CiCommand {
    /// A deploy role only OWNER/NAME's branch (or environment) may assume, a read-only role for
    /// its pull requests, and .github/workflows/sitewarden.yml
    Github(GithubArgs),
}

#[derive(Debug, Args)]
pub struct GithubArgs {
    /// The repository whose workflow deploys, exactly as GitHub spells it
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: String,
    /// The branch whose pushes deploy
    #[arg(long, value_name = "B", default_value = "main")]
    pub branch: String,
    /// Trust the GitHub environment E instead of the branch (limit its deployment branches to
    /// --branch in the repository's settings: the token names the environment, not the branch)
    #[arg(long, value_name = "E")]
    pub environment: Option<String>,
    /// What pull requests get: a read-only role for `sitewarden plan`, or none
    #[arg(long, value_name = "ROLE", default_value = "plan")]
    pub pull_requests: PullRequests,
    /// Where to write the workflow (default: .github/workflows/sitewarden.yml in the repository
    /// that holds sitewarden.toml)
    #[arg(long, value_name = "FILE")]
    pub workflow: Option<PathBuf>,
    /// The workflow's command that installs sitewarden on the runner
    #[arg(long, value_name = "COMMAND")]
    pub install: Option<String>,
    /// Replace a workflow file that differs from the one sitewarden would write
    #[arg(long)]
    pub force: bool,
    /// Show the changes and the workflow; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// What `ci github` did (or, with `--dry-run`, would do).
#[derive(Debug, Serialize)]
pub struct CiSummary {
    pub site: String,
    #[serde(flatten)]
    pub plan: Plan,
    #[serde(flatten)]
    pub roles: Roles,
    pub workflow: PathBuf,
    /// `written`, `unchanged` or (dry run) `would be written`.
    pub workflow_status: &'static str,
    pub dry_run: bool,
    pub requests: BTreeMap<String, u64>,
}

impl fmt::Display for CiSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run || self.plan.is_empty() {
            write!(f, "{}", self.plan)?;
        } else {
            writeln!(f, "Applied {} change(s).", self.plan.changes.len())?;
        }
        writeln!(f, "deploy role: {}", self.roles.deploy_role_arn)?;
        if let Some(arn) = &self.roles.plan_role_arn {
            writeln!(f, "plan role (pull requests, read only): {arn}")?;
        }
        writeln!(
            f,
            "workflow: {} ({})",
            escape(&self.workflow.display().to_string()),
            self.workflow_status
        )?;
        if !self.dry_run {
            writeln!(
                f,
                "next: commit the workflow and sitewarden.toml, push, and open a pull request to \
                 see its plan; pushes to the branch deploy. No AWS secret goes into GitHub."
            )?;
        }
        Ok(())
    }
}

/// The `[ci]` the flags describe (their values checked: exit 2 before any call).
fn requested(args: &GithubArgs) -> Result<Ci> {
    Ok(Ci {
        provider: CiProvider::Github,
        repo: RepoPath::try_from(args.repo.clone())
            .map_err(|e| Error::usage(format!("--repo: {e}")))?,
        branch: Some(
            CiName::try_from(args.branch.clone())
                .map_err(|e| Error::usage(format!("--branch: {e}")))?,
        ),
        environment: args
            .environment
            .clone()
            .map(|e| CiName::try_from(e).map_err(|e| Error::usage(format!("--environment: {e}"))))
            .transpose()?,
        pull_requests: args.pull_requests,
    })
}

pub async fn run(settings: &Settings, printer: &Printer, args: CiArgs) -> Result<Exit> {
    let CiCommand::Github(args) = args.provider;
    let ci = requested(&args)?;
    let session = Session::open(settings).await?;
    let project = std::fs::canonicalize(settings.config_dir())
        .unwrap_or_else(|_| settings.config_dir().to_path_buf());
    let repository = repository_root(&project);
    let workflow_path = args
        .workflow
        .clone()
        .unwrap_or_else(|| repository.join(".github/workflows/sitewarden.yml"));
    let working_directory = project
        .strip_prefix(&repository)
        .ok()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.to_string_lossy().replace('\\', "/"));
    let site = &session.names.site;
    let text = workflow_text(&session, &ci, &args, &project, working_directory.as_deref());
    // Refused before any remote change: a workflow of the user's is never overwritten silently.
    let existing = std::fs::read_to_string(&workflow_path).ok();
    let unchanged = existing.as_deref() == Some(text.as_str());
    if existing.is_some() && !unchanged && !args.force {
        return Err(Error::usage_with_hint(
            format!(
                "`{}` exists and differs from the workflow sitewarden writes; refusing to \
                 overwrite it",
                workflow_path.display()
            ),
            "pass `--force` to replace it, `--workflow FILE` to write another file, or \
             `--dry-run` to see it",
        ));
    }
    if let Some(environment) = &ci.environment {
        printer.warn(format_args!(
            "the deploy role trusts every job of {} that names the environment `{environment}`: \
             in the repository's Settings → Environments, limit `{environment}`'s deployment \
             branches to `{}` (and add reviewers if deploys need approval)",
            ci.repo,
            ci.branch()
        ));
    }
    let mut plan = Plan::default();
    let ctx = session.ctx(printer, !args.dry_run, false);
    let roles = reconcile(&ctx, &ci, true, &mut plan).await?;
    let workflow_status = if unchanged {
        "unchanged"
    } else if args.dry_run {
        printer.info(format_args!("the workflow sitewarden would write:\n{text}"));
        "would be written"
    } else {
        if let Some(dir) = workflow_path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&workflow_path, &text)?;
        "written"
    };
    if !args.dry_run && session.config.ci.as_ref() != Some(&ci) {
        record(&settings.config_path, &ci)?;
    }
    printer.data(&CiSummary {
        site: site.clone(),
        plan,
        roles,
        workflow: workflow_path,
        workflow_status,
        dry_run: args.dry_run,
        requests: session.aws.requests.snapshot(),
    })?;
    Ok(Exit::Success)
}

/// The workflow for `ci`, with the roles' ARNs (known before they exist: IAM names them).
fn workflow_text(
    session: &Session,
    ci: &Ci,
    args: &GithubArgs,
    project: &Path,
    working_directory: Option<&str>,
) -> String {
    let site = &session.names.site;
    let source = session.config.site.source.to_string_lossy().into_owned();
    let build = detect(project, &source);
    let install = args.install.clone().unwrap_or_else(|| {
        format!(
            "cargo install --locked --git {} --tag v{} sitewarden",
            crate::REPOSITORY,
            env!("CARGO_PKG_VERSION")
        )
    });
    let deploy_arn = role_arn(&session.account, &deploy_role(site));
    let plan_arn = (ci.pull_requests == PullRequests::Plan)
        .then(|| role_arn(&session.account, &plan_role(site)));
    Workflow {
        site,
        region: &session.aws.region,
        ci,
        deploy_role_arn: &deploy_arn,
        plan_role_arn: plan_arn.as_deref(),
        build: build.as_ref(),
        install: &install,
        working_directory,
        source: &source,
    }
    .render()
}

/// The folder of the git repository that holds `dir` (`dir` itself when it is in none).
fn repository_root(dir: &Path) -> PathBuf {
    let absolute = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    absolute
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map_or(absolute.clone(), Path::to_path_buf)
}

/// `[ci]` as `ci github` writes it.
fn section(ci: &Ci) -> String {
    let mut text = format!(
        "[ci]   # written by `sitewarden ci github`\nprovider = \"github\"\nrepo = \"{}\"\nbranch = \"{}\"\n",
        ci.repo,
        ci.branch()
    );
    if let Some(environment) = &ci.environment {
        let _ = writeln!(text, "environment = \"{environment}\"");
    }
    let pull_requests = match ci.pull_requests {
        PullRequests::Plan => "plan",
        PullRequests::None => "none",
    };
    let _ = writeln!(text, "pull_requests = \"{pull_requests}\"");
    text
}

/// Replaces the config's `[ci]` section (or appends one), leaving every other line as it is.
fn record(path: &Path, ci: &Ci) -> Result<()> {
    let text = std::fs::read_to_string(path)?;
    std::fs::write(path, with_section(&text, &section(ci)))?;
    Ok(())
}

fn with_section(text: &str, section: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    // Comments and blank lines met while skipping: they may introduce the next section.
    let mut held = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            skipping = trimmed
                .trim_start_matches('[')
                .split(']')
                .next()
                .is_some_and(|name| name.trim() == "ci");
            if !skipping {
                out.push_str(&held);
            }
            held.clear();
        } else if skipping && (trimmed.is_empty() || trimmed.starts_with('#')) {
            held.push_str(line);
            held.push('\n');
            continue;
        } else if skipping {
            held.clear();
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(section);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ci_section_is_replaced_and_nothing_else() {
        let text = "[site]\nname = \"docs\"\n\n[ci]\nrepo = \"a/b\"\n\n# the CDN\n[cdn]\nprice_class = \"PriceClass_100\"\n";
        let out = with_section(text, "[ci]\nrepo = \"c/d\"\n");
        assert_eq!(
            out,
            "[site]\nname = \"docs\"\n\n\n# the CDN\n[cdn]\nprice_class = \"PriceClass_100\"\n\n[ci]\nrepo = \"c/d\"\n"
        );
        assert_eq!(
            with_section("[site]\nname = \"docs\"\n", "[ci]\n"),
            "[site]\nname = \"docs\"\n\n[ci]\n"
        );
    }
}
