#!/bin/sh
# copied into the build by mistake
export AWS_SECRET_ACCESS_KEY={{b64:40}}
export AWS_ACCESS_KEY_ID={{cat:AK|IA}}{{base32:16}}
aws s3 sync public/ s3://acme-site/
