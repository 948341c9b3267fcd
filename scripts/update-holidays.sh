#!/usr/bin/env bash
# Regenerates crates/domain/data/jp-holidays.tsv from the holiday_jp dataset (MIT licence,
# https://github.com/holiday-jp/holiday_jp), as packaged on the npm registry. Run it when the Cabinet
# Office announces a change to the national holidays, review the diff, and commit it.
set -euo pipefail
version="${1:-2.5.1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "@holiday-jp/holiday_jp@${version}" >/dev/null
tar xzf ./*.tgz
node -e '
const holidays = (() => { const m = require("./package/lib/holidays.js"); return m.holidays || m.default || m; })();
const lines = Object.values(holidays)
  .filter((h) => h.date >= "2000-01-01")
  .sort((a, b) => a.date.localeCompare(b.date))
  .map((h) => [h.date, h.name, h.name_en].join("\t"));
process.stdout.write(
  "# Japanese national holidays (国民の祝日, including substitute and citizens\x27 holidays).\n" +
  "# Source: holiday_jp dataset, npm @holiday-jp/holiday_jp@" + process.argv[1] + " (MIT). Regenerate with\n" +
  "# scripts/update-holidays.sh; do not edit by hand.\n" +
  "date\tname_ja\tname_en\n" + lines.join("\n") + "\n");
' "$version" > "$root/crates/domain/data/jp-holidays.tsv"
echo "wrote $(grep -c '^2' "$root/crates/domain/data/jp-holidays.tsv") holidays"
