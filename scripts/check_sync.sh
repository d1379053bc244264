#!/usr/bin/env bash
# Fails when the notebooks in nbs/ and the exported library ftmech/ disagree, or when notebooks are not clean.
set -euo pipefail
venv=${1:-.venv}
"$venv/bin/nbdev-export"
if [ -n "$(git status --porcelain -- ftmech pyproject.toml)" ]; then
  git status --porcelain -- ftmech pyproject.toml
  echo "ERROR: nbs/ and ftmech/ are out of sync: run nbdev-export and commit both" >&2; exit 1
fi
"$venv/bin/nbdev-clean"
if [ -n "$(git status --porcelain -- nbs)" ]; then
  git status --porcelain -- nbs
  echo "ERROR: notebooks are not clean (outputs or metadata committed): run nbdev-clean and commit" >&2; exit 1
fi
echo "nbs/ and ftmech/ in sync; notebooks clean"
