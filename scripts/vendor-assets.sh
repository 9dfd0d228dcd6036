#!/usr/bin/env bash
# Copy the pinned front-end packages (package-lock.json) into app/static/vendor, which the app
# serves itself: the map must work on an intranet with no internet, so nothing comes from a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
vendor=app/static/vendor
rm -rf "$vendor"
mkdir -p "$vendor/leaflet" "$vendor/leaflet.vectorgrid" "$vendor/leaflet-geoman"
cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
      node_modules/leaflet/dist/images "$vendor/leaflet/"
cp node_modules/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js "$vendor/leaflet.vectorgrid/"
cp node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js \
   node_modules/@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css "$vendor/leaflet-geoman/"
# axe-core: the accessibility checker the browser tests run in each page (tests only)
mkdir -p "$vendor/axe-core"
cp node_modules/axe-core/axe.min.js "$vendor/axe-core/"
cp package-lock.json "$vendor/.installed-from-lock"
