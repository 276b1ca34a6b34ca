# Sourced by the scripts that drive sitewarden against a fresh emulator (bench.sh, requests.sh):
# starts one on a free port, makes a work folder, stops and removes both on exit, and points the
# AWS environment at the emulator with test credentials (nothing here can reach AWS).
# Needs `root` (the checkout); sets `endpoint`, `port` and `work`.
endpoint=$("$root/scripts/emulator.sh" start)
port=${endpoint##*:}
work=$(mktemp -d)
trap '"$root/scripts/emulator.sh" stop "$port"; rm -rf "$work"' EXIT

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1
export AWS_ENDPOINT_URL="$endpoint" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN
