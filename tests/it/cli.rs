//! The command-line contract: help, exit codes, init, config errors, output streams.

use crate::support::{Run, project};

#[test]
fn help_lists_only_working_commands() {
    let dir = tempfile::tempdir().unwrap();
    let help = Run::new(dir.path()).offline().arg("--help").run().stdout;
    for command in [
        "init",
        "validate",
        "plan",
        "up",
        "deploy",
        "history",
        "rollback",
        "unlock",
        "destroy",
        "iam-policy",
        "audit",
        "adopt",
        "ci",
        "completions",
    ] {
        assert!(
            help.contains(&format!("  {command} ")),
            "{command} missing from:\n{help}"
        );
    }
    for flag in [
        "--config",
        "--profile",
        "--region",
        "--endpoint-url",
        "--json",
        "--quiet",
        "--verbose",
        "--color",
        "--yes",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    Run::new(dir.path())
        .offline()
        .arg("--no-such-flag")
        .status(2)
        .stderr_contains("--no-such-flag")
        .run();
    Run::new(dir.path()).offline().arg("adopt").status(2).run();
    Run::new(dir.path())
        .offline()
        .args(["--color", "sometimes", "init"])
        .status(2)
        .run();
}

#[test]
fn init_detects_the_build_folder_and_writes_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("public")).unwrap();
    Run::new(dir.path())
        .offline()
        .args(["init", "--name", "blog", "--domain", "blog.example.com"])
        .stdout_is(
            "wrote sitewarden.toml for site `blog` publishing `public` on `blog.example.com`\n",
        )
        .run();
    let text = std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap();
    let config = sitewarden::config::Config::parse(&text, "sitewarden.toml".as_ref()).unwrap();
    assert_eq!(config.site.name.as_str(), "blog");
    assert_eq!(config.site.source, std::path::Path::new("public"));
    assert!(
        text.contains("# [headers]"),
        "the written file documents the options"
    );
}

#[test]
fn init_refuses_to_overwrite() {
    let dir = project("keep-me", "");
    let before = std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap();
    Run::new(dir.path())
        .offline()
        .args(["init", "--name", "other"])
        .status(2)
        .stdout_is("")
        .stderr_is("error: `sitewarden.toml` already exists; refusing to overwrite it\nhint: edit it, or pass `-c FILE` to write another file\n")
        .run();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap(),
        before
    );
}

#[test]
fn init_without_build_folder_warns_and_uses_dist() {
    let dir = tempfile::tempdir().unwrap();
    let json = Run::new(dir.path())
        .offline()
        .json()
        .args(["init", "--name", "fresh"])
        .stderr_contains("warning: none of dist, public, build, _site, out exists here")
        .run()
        .into_json();
    assert_eq!(json["source"], "dist");
    assert_eq!(json["source_detected"], false);
}

#[test]
fn init_rejects_a_bad_domain() {
    let dir = tempfile::tempdir().unwrap();
    Run::new(dir.path())
        .offline()
        .args(["init", "--name", "x-site", "--domain", "Example.COM"])
        .status(2)
        .stderr_contains("invalid `--domain`: `Example.COM` is not a domain name")
        .run();
    assert!(!dir.path().join("sitewarden.toml").exists());
}

#[test]
fn bad_config_exits_2_before_any_aws_call() {
    // The endpoint is a closed port: reaching AWS would fail with exit 1, not 2.
    let dir = project("docs", "[tls]\nminimum = \"TLSv1\"\n");
    Run::new(dir.path())
        .endpoint("http://127.0.0.1:9")
        .arg("validate")
        .status(2)
        .stderr_is(
            "error: invalid config file `sitewarden.toml`: line 6, column 11: unknown variant \
             `TLSv1`, expected one of `TLSv1.2_2021`, `TLSv1.2_2025`, `TLSv1.3_2025`\n",
        )
        .run();
}

#[test]
fn missing_config_exits_2_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    Run::new(dir.path())
        .offline()
        .args(["-c", "nope.toml", "validate"])
        .status(2)
        .stderr_starts_with("error: cannot read config file `nope.toml`\n\nCaused by:\n  0: ")
        .stderr_ends_with("hint: run `sitewarden init` to write one, or pass `-c FILE`\n")
        .run();
}

#[test]
fn colour_follows_flag_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    Run::new(dir.path())
        .offline()
        .args(["--color", "always", "validate"])
        .status(2)
        .stderr_starts_with("\u{1b}[1;31merror:\u{1b}[0m cannot read config file")
        .run();
    Run::new(dir.path())
        .offline()
        .args(["--color", "auto", "validate"])
        .env("NO_COLOR", "1")
        .status(2)
        .stderr_starts_with("error: cannot read config file")
        .run();
}

#[test]
fn invalid_endpoint_url_is_a_usage_error() {
    let dir = project("docs", "");
    Run::new(dir.path())
        .endpoint("localhost:4566")
        .arg("validate")
        .status(2)
        .stderr_contains("invalid endpoint URL `localhost:4566`")
        .run();
}

#[test]
fn completions_are_printed_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    Run::new(dir.path())
        .offline()
        .args(["completions", "bash"])
        .stdout_contains("_sitewarden()")
        .run();
}

#[test]
fn every_example_config_is_valid() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path().join("sitewarden.toml");
        if path.exists() {
            sitewarden::config::Config::load(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen += 1;
        }
    }
    assert!(
        seen >= 2,
        "expected example configs under {}",
        examples.display()
    );
}
