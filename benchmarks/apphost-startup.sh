#!/usr/bin/env bash
# Start-up time of the suite: from `dotnet run --no-build` of the AppHost to (1) the Gateway answering through
# Catalog (POST /api/auth/login with bad credentials answered 4xx, not 502/503) and (2) every process of the suite
# healthy (the AppHost's own line). Alternates the AppHost under test with a second one (e.g. an older tree) when
# given, and prints each run and the medians, with the machine's load.
#
# Usage: benchmarks/apphost-startup.sh [--runs 3] [--other /path/to/older/checkout] [--other-ready "All services are healthy"]
# Both trees must be built in Release first (dotnet build src/AppHost -c Release).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3; other=""; other_ready="All services are healthy"; ours_ready="processes of the suite are running and healthy"
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2;;
    --other) other=$2; shift 2;;
    --other-ready) other_ready=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
port=3099

one_run() { # tree ready-text -> prints "gateway_s all_s"
  local tree=$1 ready=$2 data log pid start t_gw="" t_all=""
  data=$(mktemp -d); log=$(mktemp)
  start=$(date +%s.%N)
  (cd "$tree" && exec setsid dotnet run --project src/AppHost -c Release --no-build -- --data-dir "$data" --gateway-port $port >"$log" 2>&1) &
  pid=$!
  for _ in $(seq 1 1200); do # 0.1 s steps, 120 s bound
    now=$(date +%s.%N)
    if [ -z "$t_gw" ]; then
      code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/auth/login" \
        -H 'content-type: application/json' -d '{"username":"nobody","password":"nothing-here-42"}' || true)
      case "$code" in 4??) t_gw=$(awk -v a="$now" -v b="$start" 'BEGIN{printf "%.1f", a-b}');; esac
    fi
    if [ -z "$t_all" ] && grep -q "$ready" "$log"; then t_all=$(awk -v a="$now" -v b="$start" 'BEGIN{printf "%.1f", a-b}'); fi
    [ -n "$t_gw" ] && [ -n "$t_all" ] && break
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- -"$pid" 2>/dev/null || true
  sleep 3 # ports and DCP released
  rm -rf "$data" "$log"
  printf '%s %s\n' "${t_gw:-NA}" "${t_all:-NA}"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "NA"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo "# AppHost start-up, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
ours=(); theirs=()
for i in $(seq 1 "$runs"); do
  r=$(one_run . "$ours_ready"); ours+=("$r"); echo "run $i  this tree : gateway ${r% *} s, all healthy ${r#* } s"
  if [ -n "$other" ]; then
    r=$(one_run "$other" "$other_ready"); theirs+=("$r"); echo "run $i  $other: gateway ${r% *} s, all healthy ${r#* } s"
  fi
done
echo "median this tree : gateway $(printf '%s\n' "${ours[@]}" | cut -d' ' -f1 | median) s, all healthy $(printf '%s\n' "${ours[@]}" | cut -d' ' -f2 | median) s"
if [ -n "$other" ]; then
  echo "median $other: gateway $(printf '%s\n' "${theirs[@]}" | cut -d' ' -f1 | median) s, all healthy $(printf '%s\n' "${theirs[@]}" | cut -d' ' -f2 | median) s"
fi
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
