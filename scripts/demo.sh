#!/usr/bin/env bash
# The demo: sitewarden against the local AWS emulator (never real AWS).
# Builds the binary, starts the emulator, writes a config for the example site with `init`, then
# plans and builds the secure stack, deploys, changes a page, shows history and a rollback plan,
# audits the site, shows an alert for an out-of-band change, sets up deploys from GitHub Actions,
# builds the classic public-website PoC and adopts it, and shows how a bad config is reported.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

cargo build --quiet
bin="$root/target/debug/sitewarden"

endpoint=$(scripts/emulator.sh start)
port=${endpoint##*:}
trap '"$root/scripts/emulator.sh" stop "$port"' EXIT
echo "emulator: $endpoint" >&2

# Test credentials for the emulator; nothing here can reach AWS.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1
export AWS_ENDPOINT_URL="$endpoint" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN

work=$(mktemp -d)
trap '"$root/scripts/emulator.sh" stop "$port"; rm -rf "$work"' EXIT
cp -r examples/hello/site "$work/public"
cd "$work"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }

step sitewarden init --name demo-docs
"$bin" init --name demo-docs
printf '\n[monitoring]\nemail = ["ops@example.com"]\n' >> sitewarden.toml
grep -v '^#' sitewarden.toml | grep -v '^$' >&2

step sitewarden validate
"$bin" validate

step sitewarden plan
"$bin" plan

step sitewarden up
"$bin" up

step "sitewarden plan --detailed-exitcode   # nothing left to do: exit 0"
"$bin" plan --detailed-exitcode
echo "exit code: $?" >&2

step "sitewarden deploy   # after editing one page"
echo '<p>edited</p>' >> public/docs/index.html
"$bin" deploy

step sitewarden history
"$bin" history

step "sitewarden rollback --dry-run"
"$bin" rollback --dry-run

step "sitewarden --json deploy --dry-run   # CI-friendly summary, with the AWS requests by operation"
"$bin" --json deploy --dry-run

step "sitewarden audit --fail-on high   # the site just built, graded against the baseline"
"$bin" audit --fail-on high | tail -n 1

step "monitoring: a queue on the alert topic; then someone suspends versioning out of band"
"$root/.venv-emulator/bin/python" - "$endpoint" <<'PY'
import json, sys, urllib.request
import boto3
endpoint, region, account = sys.argv[1], "eu-west-1", "123456789012"
kw = dict(endpoint_url=endpoint, region_name=region)
topic = f"arn:aws:sns:{region}:{account}:sitewarden-demo-docs-alerts"
sqs = boto3.client("sqs", **kw)
url = sqs.create_queue(QueueName="demo-alerts")["QueueUrl"]
queue = f"arn:aws:sqs:{region}:{account}:demo-alerts"
sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
    "Resource": queue, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
boto3.client("sns", **kw).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)
boto3.client("s3", **kw).put_bucket_versioning(
    Bucket=f"demo-docs-site-{account}", VersioningConfiguration={"Status": "Suspended"})
urllib.request.urlopen(f"{endpoint}/_sitewarden/deliveries?since=0").read()  # delivered by now
for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
    print("alert:", json.loads(m["Body"])["Message"])
PY

step "sitewarden plan --infra-only   # the drift shows; up puts it back"
"$bin" plan --infra-only | grep -i versioning
"$bin" up --infra-only 2>&1 | grep -i versioning

step "sitewarden ci github --repo octo-org/demo-docs   # deploys from that repository's main branch only"
"$bin" ci github --repo octo-org/demo-docs 2> /dev/null
grep -E "id-token|role-to-assume|run: 'sitewarden|group:" .github/workflows/sitewarden.yml >&2

step "examples/insecure-poc/build.sh www.poc.example.com   # a public S3 website, the classic PoC"
"$root/examples/insecure-poc/build.sh" www.poc.example.com > /dev/null

step "sitewarden audit --bucket www.poc.example.com --domain www.poc.example.com --fail-on high"
set +e
"$bin" audit --bucket www.poc.example.com --domain www.poc.example.com --fail-on high | grep -E '^  FAIL|pass,'
echo "exit code: ${PIPESTATUS[0]}" >&2
set -e

# No resolver caches the emulator's records: no wait after the DNS switch (--dns-grace 0).
step "sitewarden adopt --bucket www.poc.example.com --domain www.poc.example.com --dns-grace 0"
mkdir "$work/poc" && cd "$work/poc"
"$bin" adopt --bucket www.poc.example.com --domain www.poc.example.com --dns-grace 0 2> /dev/null

step "sitewarden audit --fail-on high   # the adopted site"
"$bin" audit --fail-on high | tail -n 1
cd "$work"

step "sitewarden validate   # with a mistake in the config"
sed -i 's/^name = .*/name = "Demo_Docs"/' sitewarden.toml
set +e
"$bin" validate
echo "exit code: $?" >&2
