#!/usr/bin/env bash
# TorrentEdge end-to-end benchmark: our CLI vs libtorrent 2.0.8 vs aria2 on 127.0.0.1.
# Builds torrentedge-cli in Release, prepares payloads, starts opentracker and a libtorrent seeder,
# runs the leechers alternately, checks every download byte for byte, prints medians and ratios,
# and writes benchmarks/results/<date>.md. See benchmarks/README.md.
#
#   benchmarks/run.sh [--quick] [--size 1G] [--runs 5] [--cases download,seeding,swarm,recheck,scale]
#                     [--layouts single,multi] [--clients ours,libtorrent,aria2] [--seeders default,high]
#                     [--swarm-size 4] [--scale-torrents 1000] [--scale-connections 1000]
#                     [--timeout 300] [--max-minutes 90] [--work /tmp/torrentedge-bench] [--prebuilt DIR]
#
# --prebuilt DIR: use the torrentedge-cli already published in DIR instead of building (to compare builds).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
work="/tmp/torrentedge-bench"
args=("$@")
prebuilt=""
pass=()
for a in "$@"; do
  [[ "$a" == "-h" || "$a" == "--help" ]] && exec /usr/bin/python3 "$here/bench.py" --help
done
for ((i = 0; i < ${#args[@]}; i++)); do
  [[ "${args[$i]}" == "--work" ]] && work="${args[$((i + 1))]}"
  if [[ "${args[$i]}" == "--prebuilt" ]]; then prebuilt="${args[$((i + 1))]}"; i=$((i + 1)); continue; fi
  pass+=("${args[$i]}")
done
mkdir -p "$work"

# Tools: install what is missing (Debian package names).
need=()
command -v opentracker >/dev/null || need+=(opentracker)
command -v aria2c >/dev/null || need+=(aria2)
command -v mktorrent >/dev/null || need+=(mktorrent)
command -v cmp >/dev/null || need+=(diffutils)
command -v openssl >/dev/null || need+=(openssl)
command -v iperf3 >/dev/null || need+=(iperf3)
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null || need+=(python3-libtorrent)
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  sudo_cmd=""; [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}"
fi

# Native AOT: no JIT at start-up or during the transfer (it was a third of the CPU of a 256 MiB download)
# and about half the memory; measured in benchmarks/README.md. Falls back to the JIT build if AOT cannot
# build here (it needs clang and the ILCompiler package); the header of the results says which.
out="$work/cli"
if [[ -n "$prebuilt" ]]; then
  out="$prebuilt"
  echo "using the torrentedge-cli in $out (not built)"
else
rm -rf "$out"
echo "building torrentedge-cli (Release, Native AOT) ..."
if ! dotnet publish "$repo/src/Engine.Cli" -c Release -r linux-x64 -p:PublishAot=true -nologo -v q -o "$out" >"$work/build.log" 2>&1; then
  tail -5 "$work/build.log"
  echo "Native AOT publish failed: building the JIT version instead"
  rm -rf "$out"
  dotnet build "$repo/src/Engine.Cli" -c Release -nologo -v q -o "$out" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; exit 1; }
fi
fi
cli="$out/torrentedge-cli"
[[ -x "$cli" ]] || cli="$out/torrentedge-cli.dll"

# The driver records every process it starts in $work/pids and stops them itself; this trap is the
# backstop if the driver is killed: stop the driver, then whatever it left, each by its id.
driver=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$driver" ]] && kill -0 "$driver" 2>/dev/null; then
    kill -TERM "$driver" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$driver" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$driver" 2>/dev/null || true
  fi
  if [[ -f "$work/pids" ]]; then
    while read -r pid; do
      [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null || true
    done <"$work/pids"
    rm -f "$work/pids"
  fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

/usr/bin/python3 "$here/bench.py" --cli "$cli" "${pass[@]}" &
driver=$!
wait "$driver"
