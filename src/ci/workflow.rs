//! The GitHub Actions workflow `sitewarden ci github` writes: OIDC credentials
//! (`id-token: write`, `contents: read`), `sitewarden plan` on pull requests with its summary in
//! the job summary, `sitewarden deploy` on pushes to the branch in a concurrency group (deploys of
//! one site queue rather than race), and a build step with the generator's command when the
//! project tells which generator it uses.

use std::fmt::Write as _;
use std::path::Path;

use crate::config::Ci;

/// `aws-actions/configure-aws-credentials`, pinned to a release.
pub const CONFIGURE_AWS_CREDENTIALS: &str = "aws-actions/configure-aws-credentials@v4.2.1";
pub const CHECKOUT: &str = "actions/checkout@v4.2.2";
pub const SETUP_NODE: &str = "actions/setup-node@v4.4.0";
pub const SETUP_PYTHON: &str = "actions/setup-python@v5.6.0";

/// How the site is built before it is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// The generator, as the workflow's step names it.
    pub generator: &'static str,
    pub command: String,
}

/// The build command of the generator found in `dir` (the project, with the config) or one of
/// its first-level folders: package.json with a `build` script, hugo.toml, book.toml, or a Sphinx
/// conf.py. `source` is the folder sitewarden publishes.
pub fn detect(dir: &Path, source: &str) -> Option<Build> {
    if let Ok(text) = std::fs::read_to_string(dir.join("package.json"))
        && let Ok(package) = serde_json::from_str::<serde_json::Value>(&text)
        && package["scripts"]["build"].is_string()
    {
        let install = if dir.join("package-lock.json").is_file() {
            "npm ci"
        } else {
            "npm install"
        };
        return Some(Build {
            generator: "npm",
            command: format!("{install}\nnpm run build"),
        });
    }
    if dir.join("book.toml").is_file() {
        let command = if source == "book" {
            "cargo install --locked mdbook\nmdbook build".to_owned()
        } else {
            format!(
                "cargo install --locked mdbook\nmdbook build --dest-dir {}",
                quote(source)
            )
        };
        return Some(Build {
            generator: "mdBook",
            command,
        });
    }
    let folders = std::iter::once(".".to_owned()).chain(subfolders(dir));
    for folder in folders {
        let here = dir.join(&folder);
        if ["hugo.toml", "hugo.yaml", "hugo.json"]
            .iter()
            .any(|f| here.join(f).is_file())
        {
            return Some(Build {
                generator: "Hugo",
                command: format!(
                    "sudo snap install hugo\nhugo --minify --source {} --destination \"$PWD\"/{}",
                    quote(&folder),
                    quote(source)
                ),
            });
        }
        if here.join("conf.py").is_file() {
            return Some(Build {
                generator: "Sphinx",
                command: format!(
                    "pip install sphinx\nsphinx-build -b html {} {}",
                    quote(&folder),
                    quote(source)
                ),
            });
        }
    }
    None
}

fn subfolders(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.') && n != "node_modules")
        .collect();
    names.sort();
    names
}

/// A shell word: as it is when plain, otherwise single-quoted.
fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A YAML single-quoted scalar.
fn yaml(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// What the workflow needs to know.
pub struct Workflow<'a> {
    pub site: &'a str,
    pub region: &'a str,
    pub ci: &'a Ci,
    pub deploy_role_arn: &'a str,
    pub plan_role_arn: Option<&'a str>,
    pub build: Option<&'a Build>,
    /// The shell command that installs sitewarden on the runner.
    pub install: &'a str,
    /// The project folder relative to the repository root (`None`: the root).
    pub working_directory: Option<&'a str>,
    pub source: &'a str,
}

impl Workflow<'_> {
    pub fn render(&self) -> String {
        let ci = self.ci;
        let branch = ci.branch();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Written by `sitewarden ci github` for site {}: `sitewarden plan` on pull requests,\n\
             # `sitewarden deploy` on pushes to {branch}. The roles trust only {} (see the README's\n\
             # \"Deploy from CI\"). Run `sitewarden ci github` again rather than editing the roles.",
            self.site, ci.repo
        );
        let _ = writeln!(out, "name: sitewarden\n");
        let _ = writeln!(out, "on:\n  push:\n    branches: [{}]", yaml(branch));
        if self.plan_role_arn.is_some() {
            let _ = writeln!(out, "  pull_request:\n    branches: [{}]", yaml(branch));
        }
        let _ = writeln!(
            out,
            "\npermissions:\n  id-token: write\n  contents: read\n\nenv:\n  AWS_REGION: {}\n",
            yaml(self.region)
        );
        if let Some(dir) = self.working_directory {
            let _ = writeln!(
                out,
                "defaults:\n  run:\n    working-directory: {}\n",
                yaml(dir)
            );
        }
        let _ = writeln!(out, "jobs:");
        if let Some(plan_role) = self.plan_role_arn {
            let _ = writeln!(
                out,
                "  plan:\n    # Pull requests from forks (and Dependabot) get no OIDC token: their plan is skipped.\n    if: github.event_name == 'pull_request' && github.event.pull_request.head.repo.full_name == github.repository\n    runs-on: ubuntu-latest"
            );
            self.steps(
                &mut out,
                plan_role,
                "plan",
                "sitewarden plan --format markdown",
            );
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "  deploy:\n    if: github.event_name == 'push'\n    runs-on: ubuntu-latest"
        );
        if let Some(environment) = &ci.environment {
            let _ = writeln!(out, "    environment: {}", yaml(environment.as_str()));
        }
        let _ = writeln!(
            out,
            "    # Deploys of this site never overlap: one runs, the next waits (GitHub keeps the newest\n\
             \x20   # waiting run and drops older waiting ones; a running deploy is never cancelled).\n\
             \x20   concurrency:\n      group: {}\n      cancel-in-progress: false",
            yaml(&format!("sitewarden-{}-deploy", self.site))
        );
        self.steps(
            &mut out,
            self.deploy_role_arn,
            "deploy",
            "sitewarden deploy --format markdown",
        );
        out
    }

    fn steps(&self, out: &mut String, role: &str, what: &str, command: &str) {
        let _ = writeln!(out, "    steps:\n      - uses: {CHECKOUT}");
        match self.build {
            Some(build) => {
                match build.generator {
                    "npm" => {
                        let _ = writeln!(
                            out,
                            "      - uses: {SETUP_NODE}\n        with:\n          node-version: 22"
                        );
                    }
                    "Sphinx" => {
                        let _ = writeln!(
                            out,
                            "      - uses: {SETUP_PYTHON}\n        with:\n          python-version: '3.12'"
                        );
                    }
                    _ => {}
                }
                let _ = writeln!(
                    out,
                    "      - name: Build the site ({})\n        run: |",
                    build.generator
                );
                for line in build.command.lines() {
                    let _ = writeln!(out, "          {line}");
                }
            }
            None => {
                let _ = writeln!(
                    out,
                    "      - name: Build the site\n        # Replace with your build: it must leave the site in `{}`.\n        run: test -d {}",
                    self.source,
                    quote(self.source)
                );
            }
        }
        let _ = writeln!(
            out,
            "      - name: Install sitewarden\n        run: {}",
            yaml(self.install)
        );
        let _ = writeln!(
            out,
            "      - uses: {CONFIGURE_AWS_CREDENTIALS}\n        with:\n          role-to-assume: {}\n          role-session-name: {}\n          aws-region: ${{{{ env.AWS_REGION }}}}",
            yaml(role),
            yaml(&format!("sitewarden-{what}-${{{{ github.run_id }}}}"))
        );
        let _ = writeln!(
            out,
            "      - name: sitewarden {what}\n        run: {}",
            yaml(command)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn the_generator_is_told_by_its_files() {
        let npm = project(&[("package.json", r#"{"scripts": {"build": "vite build"}}"#)]);
        assert_eq!(
            detect(npm.path(), "dist").unwrap().command,
            "npm install\nnpm run build"
        );
        std::fs::write(npm.path().join("package-lock.json"), "{}").unwrap();
        assert_eq!(
            detect(npm.path(), "dist").unwrap().command,
            "npm ci\nnpm run build"
        );
        let no_build = project(&[("package.json", r#"{"scripts": {"test": "x"}}"#)]);
        assert_eq!(detect(no_build.path(), "dist"), None);
        let book = project(&[("book.toml", "[book]\n")]);
        assert_eq!(
            detect(book.path(), "book").unwrap().command,
            "cargo install --locked mdbook\nmdbook build"
        );
        assert!(
            detect(book.path(), "site out")
                .unwrap()
                .command
                .ends_with("\nmdbook build --dest-dir 'site out'")
        );
        let hugo = project(&[("src/hugo.toml", "baseURL = 'x'\n")]);
        assert!(
            detect(hugo.path(), "public")
                .unwrap()
                .command
                .ends_with("\nhugo --minify --source src --destination \"$PWD\"/public")
        );
        let sphinx = project(&[("docs/conf.py", "project = 'x'\n")]);
        assert!(
            detect(sphinx.path(), "html")
                .unwrap()
                .command
                .ends_with("\nsphinx-build -b html docs html")
        );
        assert_eq!(detect(project(&[]).path(), "dist"), None);
    }

    #[test]
    fn examples_are_recognised() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        assert_eq!(
            detect(&root.join("hugo"), "public").unwrap().generator,
            "Hugo"
        );
        assert_eq!(
            detect(&root.join("mdbook"), "book").unwrap().generator,
            "mdBook"
        );
        assert_eq!(
            detect(&root.join("sphinx"), "html").unwrap().generator,
            "Sphinx"
        );
        assert_eq!(detect(&root.join("hello"), "site"), None);
    }
}
