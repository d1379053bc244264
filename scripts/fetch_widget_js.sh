#!/usr/bin/env bash
# Vendor the ipywidgets HTML manager and require.js from the npm registry into _static/ipywidgets/, so that
# widget outputs render in the offline book (Jupyter Book would otherwise load them from a CDN).
set -euo pipefail
dest=_static/ipywidgets
[ -f "$dest/embed-amd.js" ] && [ -f "$dest/require.js" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @jupyter-widgets/html-manager@1.0.6 requirejs@2.3.4 >/dev/null &&
  mkdir hm rq && tar xzf jupyter-widgets-html-manager-1.0.6.tgz -C hm && tar xzf requirejs-2.3.4.tgz -C rq)
mkdir -p "$dest.tmp"
cp "$tmp"/rq/package/require.js "$dest.tmp"/
cp "$tmp"/hm/package/dist/embed-amd.js "$tmp"/hm/package/dist/*.{woff,woff2,ttf,eot,svg} "$dest.tmp"/
rm -rf "$dest" && mv "$dest.tmp" "$dest"
