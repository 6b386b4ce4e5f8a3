#!/usr/bin/env bash
# Extract each area's messages into its own catalog and update the fr and pt translations.
# Usage: scripts/translations.sh [AREA...]   (default: every area with templates or messages)
# An area owns the catalog of its own messages: exchange/<area>/translations/<lang>/LC_MESSAGES/.
# The shared layout (exchange/templates, exchange/*.py) belongs to the "core" area's catalog.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
areas=("$@")
if [[ ${#areas[@]} -eq 0 ]]; then
  areas=(core)
  for d in exchange/*/; do
    d=$(basename "$d")
    if [[ -f exchange/$d/__init__.py && $d != core ]]; then areas+=("$d"); fi
  done
fi
for area in "${areas[@]}"; do
  pot=$(mktemp --suffix=.pot)
  if [[ $area == core ]]; then
    sources=(exchange/core exchange/templates $(ls exchange/*.py))
  else
    sources=("exchange/$area")
  fi
  $BIN/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o "$pot" --no-location --sort-output "${sources[@]}"
  if ! grep -q '^msgid "[^"]' "$pot"; then rm -f "$pot"; continue; fi
  dir="exchange/$area/translations"
  for lang in fr pt; do
    if [[ -f $dir/$lang/LC_MESSAGES/messages.po ]]; then
      $BIN/pybabel -q update -i "$pot" -d "$dir" -l "$lang" --no-fuzzy-matching --ignore-obsolete
    else
      $BIN/pybabel -q init -i "$pot" -d "$dir" -l "$lang"
    fi
  done
  rm -f "$pot"
done
