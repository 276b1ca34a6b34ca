//! Stage 2, guard: refuse to publish secrets.
//!
//! Two kinds of rule. By name (`name_rule`): environment files, keys, keystores and password
//! databases, VCS and cloud credential folders, tool credential files, infrastructure state,
//! database dumps, server-side config, backups and editor or OS leftovers. By content
//! (`ContentScanner`, fed while hashing): tokens with a published prefix and shape (AWS, GitHub,
//! GitLab, Slack, Stripe, Google, npm) and private key blocks (PEM, OpenSSH, PGP, `PuTTY`), in
//! every file except recognised media. `deploy.allow` globs let a file through on purpose.
//!
//! Rules are chosen so that an ordinary site passes: a rule matches a name a build tool never
//! emits, or a token shape (prefix, length, charset, boundaries, randomness) that prose,
//! identifiers, placeholders and base64 data do not have. `tests/corpus/guard/` holds a true
//! positive for every rule and a set of realistic files that must pass.

mod content;
mod media;

use std::fmt;
use std::fmt::Write as _;

use globset::GlobSet;

pub use content::ContentScanner;

use super::walk::LocalFile;

/// One kind of secret the guard refuses.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable short name, shown in brackets at the end of `reason`.
    pub id: &'static str,
    /// What the file looks like, for the error: `... [id]`.
    pub reason: &'static str,
}

macro_rules! rules {
    ($($name:ident = $id:literal: $what:literal;)*) => {
        $(pub static $name: Rule = Rule { id: $id, reason: concat!($what, " [", $id, "]") };)*
        /// Every rule, names first, then content.
        pub static RULES: &[&Rule] = &[$(&$name),*];
    };
}

rules! {
    GIT_FOLDER = "git-folder": "inside a .git folder (repository history and credentials)";
    VCS_FOLDER = "vcs-folder": "inside a .hg, .svn or .bzr folder (repository history)";
    CREDENTIALS_FOLDER = "credentials-folder":
        "inside a credentials folder (.aws, .ssh, .gnupg, .azure, .config/gcloud)";
    DOCKER_CONFIG = "docker-config": "Docker registry credentials (.docker/config.json, .dockercfg)";
    KUBE_CONFIG = "kube-config": "Kubernetes credentials (.kube/config, kubeconfig)";
    ENV_FILE = "env-file": "environment file (.env*, *.env, .envrc)";
    SSH_KEY_FILE = "ssh-key-file": "SSH key (id_rsa*, id_ecdsa*, id_ed25519*, id_dsa*)";
    KEY_FILE = "key-file": "private key or certificate (*.pem, *.key, *.p8, *.ppk)";
    CERTIFICATE_BUNDLE = "certificate-bundle":
        "certificate bundle with private key (*.p12, *.pfx)";
    JAVA_KEYSTORE = "java-keystore": "Java or Android keystore (*.jks, *.keystore, *.bks)";
    PASSWORD_DATABASE = "password-database":
        "password manager database (*.kdbx, *.kdb, *.psafe3)";
    TERRAFORM_STATE = "terraform-state":
        "Terraform state, which records every secret it manages (*.tfstate*, .terraform/)";
    TERRAFORM_VARS = "terraform-vars": "Terraform variables (*.tfvars, *.tfvars.json)";
    DATABASE_DUMP = "database-dump": "database dump (*.sql, *.sql.gz and other *.sql.*, *.dump)";
    DATABASE_FILE = "database-file":
        "database file (*.sqlite, *.sqlite3, *.db, *.mdb): allow it if the site queries it in the browser";
    PHP_CONFIG = "php-config":
        "server-side PHP config with database passwords, served as source by S3 \
         (wp-config.php, config.php, configuration.php, settings.php, LocalSettings.php)";
    RAILS_CONFIG = "rails-config": "server-side Rails config (database.yml, secrets.yml)";
    NPM_CONFIG = "npm-config": "package manager config with registry tokens (.npmrc, .yarnrc.yml)";
    PYPI_CONFIG = "pypi-config": "PyPI credentials (.pypirc)";
    NETRC = "netrc": "login credentials (.netrc, _netrc)";
    GIT_CREDENTIALS = "git-credentials": "git credential store (.git-credentials)";
    PGPASS = "pgpass": "PostgreSQL password file (.pgpass)";
    MYSQL_CONFIG = "mysql-config": "MySQL client config with password (.my.cnf, .mylogin.cnf)";
    CLOUD_CLI_CONFIG = "cloud-cli-config": "S3 client credentials (.s3cfg, .boto, .passwd-s3fs)";
    HTPASSWD = "htpasswd": "web server password file (.htpasswd)";
    SHELL_HISTORY = "shell-history": "shell or REPL history (.bash_history, .psql_history...)";
    BACKUP_FILE = "backup-file": "backup copy (*.bak, *.backup, *.old, *.orig, *~)";
    EDITOR_SWAP_FILE = "editor-swap-file": "editor swap or autosave file (*.swp, *.swo, #*#, .#*)";
    OS_METADATA = "os-metadata":
        "folder metadata that lists file names (.DS_Store, Thumbs.db): add `**/.DS_Store` to `deploy.exclude`";
    AWS_ACCESS_KEY = "aws-access-key":
        "contains an AWS access key id with its secret key (AKIA/ASIA...)";
    GITHUB_PAT = "github-pat": "contains a GitHub personal access token (ghp_...)";
    GITHUB_OAUTH = "github-oauth": "contains a GitHub OAuth token (gho_...)";
    GITHUB_APP_TOKEN = "github-app-token": "contains a GitHub App token (ghu_..., ghs_...)";
    GITHUB_REFRESH_TOKEN = "github-refresh-token": "contains a GitHub refresh token (ghr_...)";
    GITHUB_FINE_GRAINED_PAT = "github-fine-grained-pat":
        "contains a GitHub fine-grained token (github_pat_...)";
    GITLAB_PAT = "gitlab-pat": "contains a GitLab personal access token (glpat-...)";
    SLACK_TOKEN = "slack-token": "contains a Slack token (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-...)";
    SLACK_WEBHOOK = "slack-webhook": "contains a Slack webhook URL (hooks.slack.com/...)";
    STRIPE_SECRET_KEY = "stripe-secret-key": "contains a Stripe live secret key (sk_live_...)";
    STRIPE_RESTRICTED_KEY = "stripe-restricted-key":
        "contains a Stripe live restricted key (rk_live_...)";
    GOOGLE_API_KEY = "google-api-key": "contains a Google API key (AIza...)";
    NPM_TOKEN = "npm-token": "contains an npm access token (npm_...)";
    PEM_PRIVATE_KEY = "pem-private-key":
        "contains a private key block (-----BEGIN [RSA|EC|DSA|ENCRYPTED ]PRIVATE KEY-----)";
    OPENSSH_PRIVATE_KEY = "openssh-private-key":
        "contains an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----)";
    PGP_PRIVATE_KEY = "pgp-private-key":
        "contains a PGP private key (-----BEGIN PGP PRIVATE KEY BLOCK-----)";
    PUTTY_PRIVATE_KEY = "putty-private-key": "contains a PuTTY private key (PuTTY-User-Key-File-)";
}

/// The rule whose `reason` this is (findings carry the reason only).
pub fn rule_of(reason: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.reason == reason)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub key: String,
    pub reason: &'static str,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}; to publish it on purpose: `deploy.allow = [\"{}\"]`",
            crate::output::escape(&self.key),
            self.reason,
            allow_glob(&self.key)
        )
    }
}

/// A `deploy.allow` entry matching exactly `key`, written as the inside of a TOML basic string
/// (so it can be pasted, and control characters are escaped rather than printed).
fn allow_glob(key: &str) -> String {
    let mut glob = String::with_capacity(key.len());
    for c in key.chars() {
        match c {
            '*' | '?' | '[' | ']' | '{' | '}' => {
                glob.push('[');
                glob.push(c);
                glob.push(']');
            }
            // `\\` for the glob (backslash escapes are on), doubled again for TOML.
            '\\' => glob.push_str("\\\\\\\\"),
            '"' => glob.push_str("\\\""),
            c if c.is_control() => {
                let _ = write!(glob, "\\u{:04X}", u32::from(c));
            }
            c => glob.push(c),
        }
    }
    glob
}

/// Why a file name looks like a secret, if it does.
pub fn name_reason(key: &str) -> Option<&'static str> {
    name_rule(key).map(|r| r.reason)
}

/// The name rule `key` matches, if any. Case-insensitive (ASCII), like the file systems sites
/// are built on; the first matching rule wins.
pub fn name_rule(key: &str) -> Option<&'static Rule> {
    let lower = key.to_ascii_lowercase();
    let components: Vec<&str> = lower.split('/').collect();
    let (dirs, name) = components.split_at(components.len() - 1);
    let name = name[0];
    let parent = dirs.last().copied();
    let in_dir = |names: &[&str]| dirs.iter().any(|d| names.contains(d));
    if in_dir(&[".git"]) || name == ".git" {
        return Some(&GIT_FOLDER);
    }
    if in_dir(&[".hg", ".svn", ".bzr"]) {
        return Some(&VCS_FOLDER);
    }
    if in_dir(&[".aws", ".ssh", ".gnupg", ".azure"])
        || dirs.windows(2).any(|w| w == [".config", "gcloud"])
    {
        return Some(&CREDENTIALS_FOLDER);
    }
    if in_dir(&[".terraform"]) || name.contains(".tfstate") {
        return Some(&TERRAFORM_STATE);
    }
    if (parent == Some(".docker") && name == "config.json") || name == ".dockercfg" {
        return Some(&DOCKER_CONFIG);
    }
    if (parent == Some(".kube") && name == "config")
        || name == "kubeconfig"
        || extension(name) == Some("kubeconfig")
    {
        return Some(&KUBE_CONFIG);
    }
    exact_name_rule(name)
        .or_else(|| prefix_rule(name))
        .or_else(|| extension_rule(name))
}

fn exact_name_rule(name: &str) -> Option<&'static Rule> {
    Some(match name {
        ".env" | ".envrc" => &ENV_FILE,
        ".npmrc" | ".yarnrc.yml" => &NPM_CONFIG,
        ".pypirc" => &PYPI_CONFIG,
        ".netrc" | "_netrc" => &NETRC,
        ".git-credentials" => &GIT_CREDENTIALS,
        ".pgpass" => &PGPASS,
        ".my.cnf" | ".mylogin.cnf" => &MYSQL_CONFIG,
        ".s3cfg" | ".boto" | ".passwd-s3fs" => &CLOUD_CLI_CONFIG,
        ".htpasswd" => &HTPASSWD,
        ".bash_history" | ".zsh_history" | ".sh_history" | ".history" | ".psql_history"
        | ".mysql_history" | ".sqlite_history" | ".rediscli_history" | ".python_history"
        | ".node_repl_history" | ".irb_history" => &SHELL_HISTORY,
        ".ds_store" | "thumbs.db" | "ehthumbs.db" => &OS_METADATA,
        // Not `settings.py` (Sphinx `_downloads/` and tutorials publish examples, and a Django
        // secret key has no recognisable shape), `web.config` (Angular and React guides put one
        // in the build output for IIS rewrites), `appsettings.json` (Blazor WebAssembly
        // publishes its client config under that name) or `.htaccess` (common and harmless).
        "wp-config.php" | "config.php" | "config.inc.php" | "configuration.php"
        | "localsettings.php" | "settings.php" | "settings.local.php" => &PHP_CONFIG,
        "database.yml" | "secrets.yml" => &RAILS_CONFIG,
        _ => return None,
    })
}

fn prefix_rule(name: &str) -> Option<&'static Rule> {
    if name.starts_with(".env.") {
        return Some(&ENV_FILE);
    }
    if ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
        .iter()
        .any(|p| name.starts_with(p))
    {
        return Some(&SSH_KEY_FILE);
    }
    if name.ends_with('~') {
        return Some(&BACKUP_FILE);
    }
    if (name.len() > 2 && name.starts_with('#') && name.ends_with('#')) || name.starts_with(".#") {
        return Some(&EDITOR_SWAP_FILE);
    }
    // `db.sql.gz`, `dump.sql.bz2`, `backup.sql.zip`...
    if name.contains(".sql.") {
        return Some(&DATABASE_DUMP);
    }
    None
}

fn extension(name: &str) -> Option<&str> {
    name.rsplit_once('.').map(|(_, e)| e)
}

fn extension_rule(name: &str) -> Option<&'static Rule> {
    let (stem, extension) = name.rsplit_once('.')?;
    Some(match extension {
        "env" => &ENV_FILE,
        "pem" | "key" | "p8" | "ppk" => &KEY_FILE,
        "p12" | "pfx" => &CERTIFICATE_BUNDLE,
        "jks" | "keystore" | "bks" => &JAVA_KEYSTORE,
        "kdbx" | "kdb" | "psafe3" => &PASSWORD_DATABASE,
        "tfvars" => &TERRAFORM_VARS,
        "json" if self::extension(stem) == Some("tfvars") => &TERRAFORM_VARS,
        "sql" | "dump" => &DATABASE_DUMP,
        "sqlite" | "sqlite3" | "db" | "db3" | "mdb" | "accdb" => &DATABASE_FILE,
        "bak" | "backup" | "old" | "orig" => &BACKUP_FILE,
        "swp" | "swo" | "swn" => &EDITOR_SWAP_FILE,
        _ => return None,
    })
}

/// Name-based findings for files not allowed on purpose.
pub fn check_names(files: &[LocalFile], allow: &GlobSet) -> Vec<Finding> {
    files
        .iter()
        .filter(|f| !allow.is_match(&f.key))
        .filter_map(|f| {
            name_reason(&f.key).map(|reason| Finding {
                key: f.key.clone(),
                reason,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
