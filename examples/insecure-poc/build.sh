#!/usr/bin/env bash
# Build the classic insecure "proof of concept" static website in the local AWS emulator:
# a public-read S3 website bucket named like the domain, and a Route53 alias to its website endpoint.
#
#   AWS_ENDPOINT_URL=http://127.0.0.1:PORT examples/insecure-poc/build.sh DOMAIN [REGION]
#
# REGION defaults to eu-west-1. stdout: one JSON object (bucket, region, zone_id, website_endpoint,
# objects: key → SHA-256); progress on stderr. Only ever talks to an emulator on 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
py="$root/.venv-emulator/bin/python"

usage() { echo "usage: AWS_ENDPOINT_URL=http://127.0.0.1:PORT $0 DOMAIN [REGION]" >&2; }

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
esac
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
  usage
  exit 2
fi
domain=$1
region=${2:-eu-west-1}

# Never real AWS: the endpoint must be set and must be the local emulator.
endpoint=${AWS_ENDPOINT_URL:-}
if [ -z "$endpoint" ]; then
  echo "insecure-poc: AWS_ENDPOINT_URL is not set; start the emulator (scripts/emulator.sh start)" \
    "and set AWS_ENDPOINT_URL to the endpoint it prints, e.g. http://127.0.0.1:4566" >&2
  exit 2
fi
if ! [[ $endpoint =~ ^http://127\.0\.0\.1:([0-9]{1,5})$ ]] \
  || [ "${BASH_REMATCH[1]#0}" != "${BASH_REMATCH[1]}" ] \
  || [ "${BASH_REMATCH[1]}" -lt 1 ] || [ "${BASH_REMATCH[1]}" -gt 65535 ]; then
  echo "insecure-poc: refusing AWS_ENDPOINT_URL='$endpoint': this script builds a deliberately" \
    "insecure site and only runs against the local emulator, http://127.0.0.1:<port>" >&2
  exit 2
fi

if [ ! -x "$py" ]; then
  echo "insecure-poc: the emulator virtualenv $root/.venv-emulator is missing;" \
    "run scripts/emulator.sh setup first" >&2
  exit 2
fi

# Dummy credentials for the emulator unless some are already set; no profile lookups (a profile
# named in the environment but absent from ~/.aws would only make boto3 fail).
unset AWS_PROFILE AWS_DEFAULT_PROFILE
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-$region}
export AWS_ENDPOINT_URL=$endpoint

exec "$py" "$here/build.py" "$domain" "$region"
