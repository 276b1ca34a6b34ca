//! The kill sweep: `deploy`, `rollback` and `up` killed with SIGKILL at points spread over their
//! requests. The emulator holds the run's k-th request (the `faults` patch's `hold`), the test
//! kills the run while that request is in flight, looks at what visitors would get at that
//! moment (every published HTML page's same-site references must exist), lets the request
//! finish, then re-runs the same command plainly. Afterwards the bucket equals the source, the
//! manifest matches the bucket and nothing is left to do. Figures go to stderr; the sizes come
//! from `SITEWARDEN_KILL_POINTS` (points per command, default 20).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::faults::{control, published, resource_counts, source, write};
use crate::support::{ACCOUNT, Run, aws_clients, project, site_name, write_calls};

#[derive(Debug, Default)]
pub struct Figures {
    pub trials: usize,
    pub converged: usize,
    pub lost: usize,
    pub broken: usize,
}

impl Figures {
    pub fn report(&self, command: &str) {
        eprintln!(
            "kill sweep {command}: trials {}, converged {}, lost data {}, broken-page moments {}",
            self.trials, self.converged, self.lost, self.broken
        );
        assert_eq!((self.lost, self.broken), (0, 0), "{command}: {self:?}");
        assert_eq!(self.converged, self.trials, "{command}: {self:?}");
        assert!(
            self.trials >= 3,
            "{command}: too few kill points reached: {self:?}"
        );
    }
}

pub fn points() -> usize {
    std::env::var("SITEWARDEN_KILL_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

/// The emulator's fault state for `scope` (and the request count).
fn state(scope: &str) -> serde_json::Value {
    serde_json::from_str(&control("GET", &format!("faults?scope={scope}"), "")).unwrap()
}

/// How many requests `args` makes, run plainly under its own key.
pub fn count_requests(dir: &Path, args: &[&str]) -> usize {
    let key = format!("COUNT{}X{}", std::process::id(), site_name("k"));
    let start = state(&key)["requests"].as_u64().unwrap();
    Run::new(dir)
        .env("AWS_ACCESS_KEY_ID", &key)
        .args(args)
        .run();
    let log: serde_json::Value =
        serde_json::from_str(&control("GET", &format!("requests?since={start}"), "")).unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["access_key"] == key.as_str())
        .count()
}

/// `n` request numbers spread over `1..=total`.
pub fn spread(total: usize, n: usize) -> Vec<usize> {
    (0..n)
        .map(|i| 1 + i * total.saturating_sub(1) / n.max(1))
        .collect()
}

/// Starts `args` with its `k`-th request held; once it is held, kills the run (SIGKILL) and
/// returns the fault scope holding the request. `None` when the run ended before its `k`-th
/// request.
pub fn kill_at(dir: &Path, k: usize, args: &[&str]) -> Option<String> {
    let key = format!("KILL{}X{}", std::process::id(), site_name("k"));
    let rule = serde_json::json!({ "seed": 0, "rules": [{ "fault": "hold", "at": k, "access_key": key }] });
    control("POST", &format!("faults?scope={key}"), &rule.to_string());
    let mut child = Run::new(dir)
        .env("AWS_ACCESS_KEY_ID", &key)
        .args(args)
        .spawn();
    let deadline = Instant::now() + Duration::from_mins(3);
    loop {
        if state(&key)["held"].as_u64() == Some(1) {
            child.kill().unwrap();
            child.wait().unwrap();
            return Some(key);
        }
        if child.try_wait().unwrap().is_some() {
            control("DELETE", &format!("faults?scope={key}"), "");
            return None;
        }
        assert!(
            Instant::now() < deadline,
            "`{}` neither ended nor reached request {k}",
            args.join(" ")
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Lets the request `scope` holds finish (as an in-flight request may, its client gone) and
/// clears the rule.
pub fn release(scope: &str) {
    control("POST", &format!("release?scope={scope}"), "");
    let deadline = Instant::now() + Duration::from_secs(30);
    while state(scope)["held"].as_u64() != Some(0) {
        assert!(Instant::now() < deadline, "the held request did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
    control("DELETE", &format!("faults?scope={scope}"), "");
}

/// Published HTML pages that load a same-site asset the bucket lacks, as `page → missing`.
pub async fn broken_pages(bucket: &str) -> Vec<String> {
    let aws = aws_clients("eu-west-1").await;
    let Ok(listing) = aws.s3.list_objects_v2().bucket(bucket).send().await else {
        return Vec::new(); // not made yet: nothing is published
    };
    let keys: BTreeSet<String> = listing
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    let mut broken = Vec::new();
    for key in keys
        .iter()
        .filter(|k| sitewarden::deploy::headers::is_html(k))
    {
        let Ok(out) = aws.s3.get_object().bucket(bucket).key(key).send().await else {
            continue; // deleted since the listing
        };
        let html =
            String::from_utf8_lossy(&out.body.collect().await.unwrap().into_bytes()).into_owned();
        let base = url::Url::parse(&format!("https://site.test/{key}")).unwrap();
        for reference in references(&html) {
            let Ok(target) = base.join(&reference) else {
                continue;
            };
            if target.host_str() != Some("site.test") {
                continue;
            }
            let mut path = percent_encoding::percent_decode_str(target.path())
                .decode_utf8_lossy()
                .into_owned();
            if path.ends_with('/') {
                path.push_str("index.html");
            }
            let wanted = path.trim_start_matches('/');
            if !keys.contains(wanted) {
                broken.push(format!("{key} → {wanted}"));
            }
        }
    }
    broken
}

/// The assets a page loads: every `src="…"`, and the `href="…"` of `<link>` tags (stylesheets,
/// icons, preloads). Links to other pages are navigation, not assets: a redirect may serve them.
fn references(html: &str) -> Vec<String> {
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(name)? + name.len();
        let end = tag[start..].find('"')?;
        Some(tag[start..start + end].to_owned())
    };
    let mut out = Vec::new();
    for (i, _) in html.match_indices('<') {
        let tag = &html[i..html[i..].find('>').map_or(html.len(), |e| i + e)];
        out.extend(attribute(tag, " src=\""));
        if tag.starts_with("<link") {
            out.extend(attribute(tag, " href=\""));
        }
    }
    out
}

/// A build whose every page references assets named by `tag` (new names each build, as
/// fingerprinting bundlers make them): a page published before its assets would be broken.
fn write_build(dir: &Path, tag: &str) {
    let dist = dir.join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    write(
        dir,
        &format!("assets/app.{tag}.css"),
        &format!("body{{--build:\"{tag}\"}}"),
    );
    write(
        dir,
        &format!("assets/app.{tag}.js"),
        &format!("console.log('{tag}')"),
    );
    write(
        dir,
        "img/logo.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    );
    let page = |title: &str| {
        format!(
            "<!doctype html><title>{title}</title><link rel=\"stylesheet\" href=\"/assets/app.{tag}.css\">\
             <script src=\"/assets/app.{tag}.js\"></script><img src=\"/img/logo.svg\"><a href=\"/docs/\">docs</a> {tag}"
        )
    };
    write(dir, "index.html", &page("home"));
    write(dir, "docs/index.html", &page("docs"));
    for i in 0..4 {
        write(dir, &format!("docs/p{i}.html"), &page(&format!("p{i}")));
    }
}

/// After a killed run and its plain re-run: the bucket is the build, the manifest matches it
/// (checked by `published`), and a further deploy has nothing to do.
async fn settled(
    dir: &Path,
    bucket: &str,
    expected: &std::collections::BTreeMap<String, String>,
) -> bool {
    let same = published(bucket).await == *expected;
    let again = Run::new(dir).json().arg("deploy").run().into_json();
    same && again["uploaded"] == 0 && again["deleted"] == 0
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_killed_anywhere_leaves_no_broken_page_and_a_rerun_converges() {
    let name = site_name("kill-deploy");
    let dir = project(&name, "");
    let bucket = format!("{name}-site-{ACCOUNT}");
    Run::new(dir.path()).args(["up", "--infra-only"]).run();
    write_build(dir.path(), "a0");
    Run::new(dir.path()).arg("deploy").run();
    // The check sees a page whose stylesheet is missing (and ignores its links to pages).
    let s3 = aws_clients("eu-west-1").await.s3;
    let probe = "<link rel=\"stylesheet\" href=\"../assets/gone.css\"><a href=\"/nowhere/\">x</a>";
    s3.put_object()
        .bucket(&bucket)
        .key("docs/probe.html")
        .body(probe.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(
        broken_pages(&bucket).await,
        ["docs/probe.html → assets/gone.css"]
    );
    s3.delete_object()
        .bucket(&bucket)
        .key("docs/probe.html")
        .send()
        .await
        .unwrap();
    assert_eq!(broken_pages(&bucket).await, Vec::<String>::new());
    write_build(dir.path(), "b0");
    let total = count_requests(dir.path(), &["deploy"]);
    let mut figures = Figures::default();
    for (i, k) in spread(total, points()).into_iter().enumerate() {
        write_build(dir.path(), &format!("k{i}"));
        let expected = source(&dir.path().join("dist"));
        let Some(scope) = kill_at(dir.path(), k, &["deploy"]) else {
            continue;
        };
        figures.trials += 1;
        figures.broken += broken_pages(&bucket).await.len();
        release(&scope);
        figures.broken += broken_pages(&bucket).await.len();
        Run::new(dir.path()).arg("deploy").run();
        if settled(dir.path(), &bucket, &expected).await {
            figures.converged += 1;
        } else {
            figures.lost += 1;
        }
    }
    figures.report("deploy");
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_killed_anywhere_leaves_no_broken_page_and_a_rerun_converges() {
    let name = site_name("kill-rollback");
    let dir = project(&name, "");
    let bucket = format!("{name}-site-{ACCOUNT}");
    Run::new(dir.path()).args(["up", "--infra-only"]).run();
    let deploy = |tag: &str| {
        write_build(dir.path(), tag);
        let summary = Run::new(dir.path()).json().arg("deploy").run().into_json();
        (
            summary["deploy_id"].as_str().unwrap().to_owned(),
            source(&dir.path().join("dist")),
        )
    };
    let mut figures = Figures::default();
    let (mut previous, mut previous_build) = deploy("r0");
    deploy("r1");
    let total = count_requests(dir.path(), &["rollback", &previous]);
    for (i, k) in spread(total, points()).into_iter().enumerate() {
        let (id, build) = deploy(&format!("r{}", i + 2));
        if let Some(scope) = kill_at(dir.path(), k, &["rollback", &previous]) {
            figures.trials += 1;
            figures.broken += broken_pages(&bucket).await.len();
            release(&scope);
            figures.broken += broken_pages(&bucket).await.len();
            Run::new(dir.path()).args(["rollback", &previous]).run();
            if published(&bucket).await == previous_build {
                figures.converged += 1;
            } else {
                figures.lost += 1;
            }
        }
        (previous, previous_build) = (id, build);
    }
    figures.report("rollback");
}

#[tokio::test(flavor = "multi_thread")]
async fn up_killed_anywhere_converges_on_a_rerun_with_nothing_made_twice() {
    let measure = project(&site_name("kill-up"), "");
    let total = count_requests(measure.path(), &["up"]);
    let mut figures = Figures::default();
    for k in spread(total, points()) {
        let name = site_name("kill-up");
        let dir = project(&name, "");
        write_build(dir.path(), "u0");
        let Some(scope) = kill_at(dir.path(), k, &["up"]) else {
            continue;
        };
        figures.trials += 1;
        let bucket = format!("{name}-site-{ACCOUNT}");
        figures.broken += broken_pages(&bucket).await.len();
        release(&scope);
        figures.broken += broken_pages(&bucket).await.len();
        Run::new(dir.path()).arg("up").run();
        let again = Run::new(dir.path()).json().arg("up").run().into_json();
        let counts = resource_counts(&name).await;
        let once = counts.values().all(|n| *n == 1);
        if write_calls(&again["requests"]).is_empty()
            && once
            && published(&bucket).await == source(&dir.path().join("dist"))
        {
            figures.converged += 1;
        } else {
            eprintln!(
                "up killed at request {k}: second up {} / {counts:?}",
                again["requests"]
            );
            figures.lost += 1;
        }
    }
    figures.report("up");
}
