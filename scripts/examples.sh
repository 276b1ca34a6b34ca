#!/usr/bin/env bash
# Optional: rebuild the generator output checked in under examples/ (the tests use the checked-in
# output and need no generator). Needs mdbook (with its `search` feature), sphinx-build and hugo;
# MDBOOK, SPHINX_BUILD and HUGO name other binaries. Each example's sitewarden.toml records the
# version its output was built with.
set -euo pipefail
cd "$(dirname "$0")/../examples"

mdbook=${MDBOOK:-mdbook}
sphinx=${SPHINX_BUILD:-sphinx-build}
hugo=${HUGO:-hugo}
for tool in "$mdbook" "$sphinx" "$hugo"; do
  command -v "$tool" >/dev/null || { echo "error: \`$tool\` is not installed" >&2; exit 1; }
done

echo "== mdbook: $("$mdbook" --version)" >&2
(cd mdbook && rm -rf book && "$mdbook" build)

echo "== sphinx: $("$sphinx" --version)" >&2
doctrees=$(mktemp -d)
trap 'rm -rf "$doctrees"' EXIT
(cd sphinx && rm -rf html && "$sphinx" -q -b html -d "$doctrees" src html && rm -f html/.buildinfo)

echo "== hugo: $("$hugo" version)" >&2
(cd hugo && rm -rf public && "$hugo" --quiet -s src -d ../public && rm -rf src/resources src/.hugo_build.lock)

du -sh mdbook/book sphinx/html hugo/public >&2
