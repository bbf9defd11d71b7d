#!/usr/bin/env bash
# Footprint of the suite (issue 22): each process's RSS and CPU over a minute, idle and with 10 and 100 active
# torrents served by a local libtorrent seeder, and qbittorrent-nox measured the same way in the same run.
# Results: benchmarks/results/footprint-<date>.md. Details: docs/footprint.md.
#
# Usage: benchmarks/footprint.sh [--no-build] [footprint.py options: --seconds 60 --torrents 10,100 --workers 2
#        --env KEY=VALUE (for the AppHost and the services it starts) --no-qbittorrent --keep]
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
args=()
for a in "$@"; do
  if [ "$a" = "--no-build" ]; then build=0; else args+=("$a"); fi
done
missing=()
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null || missing+=(python3-libtorrent)
command -v qbittorrent-nox >/dev/null || missing+=(qbittorrent-nox)
if ((${#missing[@]})); then
  apt-get install -y "${missing[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "${missing[@]}" >/dev/null 2>&1; } \
    || echo "could not install ${missing[*]}; going on without" >&2
fi
if ((build)); then
  nice -n 10 dotnet build src/AppHost -c Release -nologo -v q
fi
exec /usr/bin/python3 benchmarks/footprint.py "${args[@]}"
