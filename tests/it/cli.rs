//! The command-line contract: help, exit codes, init, config errors, output streams.

use predicates::prelude::*;

use crate::support::{project, sitewarden};

#[test]
fn help_lists_only_working_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = sitewarden(dir.path()).arg("--help").assert().success();
    let help = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for command in [
        "init",
        "validate",
        "plan",
        "up",
        "deploy",
        "history",
        "rollback",
        "destroy",
        "iam-policy",
        "audit",
        "adopt",
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
    sitewarden(dir.path())
        .arg("--no-such-flag")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-flag"));
    sitewarden(dir.path()).arg("adopt").assert().code(2);
    sitewarden(dir.path())
        .args(["--color", "sometimes", "init"])
        .assert()
        .code(2);
}

#[test]
fn init_detects_the_build_folder_and_writes_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("public")).unwrap();
    sitewarden(dir.path())
        .args(["init", "--name", "blog", "--domain", "blog.example.com"])
        .assert()
        .success()
        .stdout(
            "wrote sitewarden.toml for site `blog` publishing `public` on `blog.example.com`\n",
        );
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
    sitewarden(dir.path())
        .args(["init", "--name", "other"])
        .assert()
        .code(2)
        .stdout("")
        .stderr("error: `sitewarden.toml` already exists; refusing to overwrite it\nhint: edit it, or pass `-c FILE` to write another file\n");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap(),
        before
    );
}

#[test]
fn init_without_build_folder_warns_and_uses_dist() {
    let dir = tempfile::tempdir().unwrap();
    let out = sitewarden(dir.path())
        .args(["--json", "init", "--name", "fresh"])
        .assert()
        .success();
    let json = crate::support::stdout_json(out.get_output());
    assert_eq!(json["source"], "dist");
    assert_eq!(json["source_detected"], false);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr)
            .contains("warning: none of dist, public, build, _site, out exists here")
    );
}

#[test]
fn init_rejects_a_bad_domain() {
    let dir = tempfile::tempdir().unwrap();
    sitewarden(dir.path())
        .args(["init", "--name", "x-site", "--domain", "Example.COM"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid `--domain`: `Example.COM` is not a domain name",
        ));
    assert!(!dir.path().join("sitewarden.toml").exists());
}

#[test]
fn bad_config_exits_2_before_any_aws_call() {
    // The endpoint is a closed port: reaching AWS would fail with exit 1, not 2.
    let dir = project("docs", "[tls]\nminimum = \"TLSv1\"\n");
    sitewarden(dir.path())
        .args(["--endpoint-url", "http://127.0.0.1:9", "validate"])
        .assert()
        .code(2)
        .stderr(
            "error: invalid config file `sitewarden.toml`: line 6, column 11: unknown variant \
             `TLSv1`, expected one of `TLSv1.2_2021`, `TLSv1.2_2025`, `TLSv1.3_2025`\n",
        );
}

#[test]
fn missing_config_exits_2_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    sitewarden(dir.path())
        .args(["-c", "nope.toml", "validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: cannot read config file `nope.toml`\n\nCaused by:\n  0: ",
        ))
        .stderr(predicate::str::ends_with(
            "hint: run `sitewarden init` to write one, or pass `-c FILE`\n",
        ));
}

#[test]
fn colour_follows_flag_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    sitewarden(dir.path())
        .args(["--color", "always", "validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "\u{1b}[1;31merror:\u{1b}[0m cannot read config file",
        ));
    sitewarden(dir.path())
        .args(["--color", "auto", "validate"])
        .env("NO_COLOR", "1")
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: cannot read config file",
        ));
}

#[test]
fn invalid_endpoint_url_is_a_usage_error() {
    let dir = project("docs", "");
    sitewarden(dir.path())
        .args(["--endpoint-url", "localhost:4566", "validate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "invalid endpoint URL `localhost:4566`",
        ));
}

#[test]
fn completions_are_printed_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    sitewarden(dir.path())
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_sitewarden()"));
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
