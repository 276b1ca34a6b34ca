//! Command-line flags (clap derive). Nothing past `settings.rs` sees these types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sitewarden",
    version,
    about = "Publish a folder of static files as a secure, production-grade website on AWS",
    long_about = "Publish a folder of static files as a secure, production-grade website on AWS: \
                  a private SSE-KMS bucket behind CloudFront with Origin Access Control, HTTPS with \
                  a modern TLS policy, security headers and access logs.\n\n\
                  Exit codes: 0 success, 1 runtime failure (AWS, network), 2 invalid usage, config \
                  or input (nothing changed remotely), 3 audit failures, 4 plan found changes."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file
    #[arg(
        short,
        long,
        global = true,
        value_name = "FILE",
        default_value = "sitewarden.toml"
    )]
    pub config: PathBuf,
    /// AWS profile (default: the standard credential chain)
    #[arg(long, global = true, value_name = "P")]
    pub profile: Option<String>,
    /// Region of the content and log buckets (overrides `site.region`)
    #[arg(long, global = true, value_name = "R")]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint, e.g. the local emulator (S3 then uses path-style)
    #[arg(long, global = true, value_name = "URL", env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Print a JSON document on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// Print no progress or informational messages
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail on stderr
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// When to use colour on stderr (`NO_COLOR` is honoured with `auto`)
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorChoice,
    /// Answer yes to confirmations
    #[arg(short = 'y', long = "yes", global = true)]
    pub yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented sitewarden.toml for the site in this folder
    Init(InitArgs),
    /// Check sitewarden.toml and the AWS identity; show the resources the site maps to
    Validate,
    /// Show the infrastructure and content changes `up` would make; writes nothing
    Plan {
        /// Exit 4 when changes are pending (0: none)
        #[arg(long)]
        detailed_exitcode: bool,
        /// The infrastructure only (what `up --infra-only` would change)
        #[arg(long)]
        infra_only: bool,
        /// text, json (`--json`) or markdown (tables; also appended to `$GITHUB_STEP_SUMMARY`)
        #[arg(long, value_name = "FORMAT")]
        format: Option<crate::output::Format>,
    },
    /// Create or repair the site's infrastructure, then deploy
    Up {
        /// Reconcile the infrastructure only
        #[arg(long)]
        infra_only: bool,
        /// Do not wait for the certificate or distribution (resume with the next `up`)
        #[arg(long)]
        no_wait: bool,
        /// How long the deploy waits for another run's lease on the site (e.g. 90s, 10m)
        #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = crate::deploy::lock::parse_duration)]
        wait_for_lock: std::time::Duration,
    },
    /// Delete the site's distribution, policies, DNS records and key (buckets kept)
    Destroy {
        /// Also delete both buckets and every version of their objects
        #[arg(long)]
        delete_content: bool,
        /// Keep the site's KMS key (the kept content stays readable); default: schedule its
        /// deletion (30 days)
        #[arg(long, conflicts_with = "delete_content")]
        keep_key: bool,
    },
    /// Publish the source folder: upload what changed, delete what was removed, invalidate
    Deploy(DeployArgs),
    /// List the recorded deploys
    History,
    /// Restore a recorded deploy server-side (default: the one before the current)
    Rollback(RollbackArgs),
    /// Break the site's deploy lease left by a run that was killed (a live one needs --force)
    Unlock {
        /// Break the lease even though it has not expired
        #[arg(long)]
        force: bool,
    },
    /// Serve the site on 127.0.0.1 as CloudFront would: the local folder as `up` and `deploy`
    /// would publish it, or with --remote what is live
    Preview {
        /// Port on 127.0.0.1 (0: any free port)
        #[arg(long, value_name = "N", default_value_t = 8080)]
        port: u16,
        /// Serve what is live: the distribution's config, LIVE function, headers policy and the
        /// objects in its bucket
        #[arg(long)]
        remote: bool,
    },
    /// Print the least-privilege IAM policy for deploying (CI) or provisioning this site
    IamPolicy {
        /// What the identity will run
        #[arg(long = "for", value_name = "PURPOSE", default_value = "deploy")]
        purpose: crate::iam::Purpose,
    },
    /// Grade the site's live resources (or any bucket, distribution or domain) against the
    /// security baseline
    Audit(AuditArgs),
    /// Move an existing public S3 website bucket behind the secure stack, keeping its objects and
    /// the domain served at every step
    Adopt(AdoptArgs),
    /// Set up deploys from CI: a deploy role only one repository may assume through OIDC, and
    /// the workflow that uses it
    Ci(crate::ci::CiArgs),
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Show what would change; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not invalidate the CloudFront cache
    #[arg(long)]
    pub no_invalidate: bool,
    /// Allow deleting more than `deploy.mass_delete_threshold` of the site
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// Wait until the invalidation completes
    #[arg(long)]
    pub wait: bool,
    /// How long to wait for another run's lease on the site (e.g. 90s, 10m)
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = crate::deploy::lock::parse_duration)]
    pub wait_for_lock: std::time::Duration,
    /// text, json (`--json`) or markdown (tables; also appended to `$GITHUB_STEP_SUMMARY`)
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<crate::output::Format>,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Deploy id from `history`
    pub deploy_id: Option<String>,
    /// Show what would be restored; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not invalidate the CloudFront cache
    #[arg(long)]
    pub no_invalidate: bool,
    /// Wait until the invalidation completes
    #[arg(long)]
    pub wait: bool,
    /// How long to wait for another run's lease on the site (e.g. 90s, 10m)
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = crate::deploy::lock::parse_duration)]
    pub wait_for_lock: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The bucket that serves the site today (kept, with its objects)
    #[arg(long, value_name = "B")]
    pub bucket: String,
    /// The domain whose DNS alias points at the bucket's website endpoint
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Site name for the new resources (default: from the domain or bucket)
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// `site.source` in the written config: the folder `deploy` publishes
    #[arg(long, value_name = "DIR", default_value = "dist")]
    pub source: std::path::PathBuf,
    /// Show the ordered steps and their changes; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Apply the steps up to this one, then stop (run again to continue)
    #[arg(long, value_name = "STEP")]
    pub stop_after: Option<crate::adopt::Step>,
    /// Leave existing objects as they are encrypted now (new uploads still use the site key)
    #[arg(long)]
    pub no_reencrypt: bool,
    /// Seconds to wait after the DNS switch before public access ends, so resolvers drop the
    /// cached website answer (default: the old record's TTL, 60 for an alias, plus 30)
    #[arg(long, value_name = "SECONDS")]
    pub dns_grace: Option<u64>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit this bucket (no sitewarden.toml needed); its distribution is found by origin
    #[arg(long, value_name = "B")]
    pub bucket: Option<String>,
    /// Audit this CloudFront distribution id and the buckets behind it
    #[arg(long, value_name = "ID")]
    pub distribution: Option<String>,
    /// Audit this domain's DNS and the distribution serving it
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Report format (`--json` is `--format json`)
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<crate::audit::Format>,
    /// Exit 3 when a failed control has this severity or higher (default: exit 0)
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<crate::audit::Severity>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Site name (default: from the folder name)
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// Domain to serve the site on (default: none, a *.cloudfront.net site)
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Folder to publish (default: the first of dist, public, build, _site, out that exists)
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
}

impl DeployArgs {
    pub fn options(&self) -> crate::deploy::Options {
        crate::deploy::Options {
            dry_run: self.dry_run,
            invalidate: !self.no_invalidate,
            allow_mass_delete: self.allow_mass_delete,
            wait: self.wait,
            wait_for_lock: self.wait_for_lock,
        }
    }
}

impl RollbackArgs {
    /// A rollback restores a deploy the site had: never held back by the mass-delete guard.
    pub fn options(&self) -> crate::deploy::Options {
        crate::deploy::Options {
            dry_run: self.dry_run,
            invalidate: !self.no_invalidate,
            allow_mass_delete: true,
            wait: self.wait,
            wait_for_lock: self.wait_for_lock,
        }
    }
}

impl AdoptArgs {
    pub fn into_options(self) -> crate::adopt::Options {
        crate::adopt::Options {
            bucket: self.bucket,
            domain: self.domain,
            name: self.name,
            source: self.source,
            dry_run: self.dry_run,
            stop_after: self.stop_after,
            reencrypt: !self.no_reencrypt,
            dns_grace: self.dns_grace.map(std::time::Duration::from_secs),
        }
    }
}

impl AuditArgs {
    pub fn into_options(self) -> crate::audit::Options {
        crate::audit::Options {
            bucket: self.bucket,
            distribution: self.distribution,
            domain: self.domain,
            format: self.format,
            fail_on: self.fail_on,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
