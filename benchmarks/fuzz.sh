#!/usr/bin/env bash
# Coverage-guided fuzzing of the engine's parsers with AFL++ and SharpFuzz (docs/fuzzing.md).
# Usage: benchmarks/fuzz.sh [--target T|all] [--seconds N] [--no-build] [--out DIR]
#   T is one of the targets of tests/Engine.Fuzzing (bencode, metainfo, peer-messages, handshake, extension-handshake,
#   metadata-message, pex-message, http-tracker, udp-tracker, krpc). Each target runs for N seconds (default 60), one after another.
# Prints per target: execs/s, total execs, corpus size, bitmap coverage, crashes and hangs. Exits 1 when any target
# found a crash or a hang (the inputs stay under DIR/<target>/default/{crashes,hangs}), 2 when it could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

target=all seconds=60 build=true out=""
while (($#)); do
  case "$1" in
    --target) target=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --no-build) build=false; shift ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--target T|all] [--seconds N] [--no-build] [--out DIR]" >&2; exit 2 ;;
  esac
done

command -v afl-fuzz >/dev/null || { echo "afl-fuzz is missing: apt-get install afl++" >&2; exit 2; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

project=tests/Engine.Fuzzing
if $build; then nice -n 10 dotnet build "$project" -c Release -nologo -v q >/dev/null; fi
bin="$project/bin/Release/net10.0"
[ -f "$bin/TorrentEdge.Engine.Fuzzing.dll" ] || { echo "no build at $bin" >&2; exit 2; }

# Instrument a copy, so the build output (and the tests that use it) keep the plain engine.
work=${out:-$(mktemp -d /tmp/te-fuzz.XXXXXX)}
mkdir -p "$work"
rm -rf "$work/bin"; cp -r "$bin" "$work/bin"
dotnet tool restore >/dev/null
dotnet sharpfuzz "$work/bin/TorrentEdge.Engine.dll" >/dev/null

if [ "$target" = all ]; then
  targets=(bencode metainfo peer-messages handshake extension-handshake metadata-message pex-message http-tracker udp-tracker krpc)
else
  targets=("$target")
fi

# As SharpFuzz's docs say: dotnet itself carries no AFL instrumentation (the engine's assembly does), no memory limit
# for the runtime, a generous per-input timeout for the JIT. Shared 2-core machines: no CPU pinning, no frequency check.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
failed=0
printf '%-20s %10s %12s %8s %9s %8s %6s\n' target execs/s execs corpus coverage crashes hangs
for t in "${targets[@]}"; do
  seeds="$project/corpus/$t"
  [ -d "$seeds" ] || { echo "no corpus for target '$t'" >&2; exit 2; }
  rm -rf "$work/$t"
  # -V stops afl-fuzz by itself; timeout is the backstop should it not.
  timeout -k 5 $((seconds + 60)) nice -n 10 afl-fuzz -V "$seconds" -i "$seeds" -o "$work/$t" -t 5000 -m none \
    -- dotnet "$work/bin/TorrentEdge.Engine.Fuzzing.dll" "$t" >"$work/$t.log" 2>&1 || true
  stats="$work/$t/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    echo "$t: afl-fuzz did not start; last lines of $work/$t.log:" >&2; tail -n 15 "$work/$t.log" >&2; failed=1; continue
  fi
  get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  crashes=$(get saved_crashes); crashes=${crashes:-$(get unique_crashes)}
  hangs=$(get saved_hangs); hangs=${hangs:-$(get unique_hangs)}
  corpus=$(get corpus_count); corpus=${corpus:-$(get paths_total)}
  printf '%-20s %10s %12s %8s %9s %8s %6s\n' "$t" "$(get execs_per_sec)" "$(get execs_done)" "$corpus" "$(get bitmap_cvg)" "$crashes" "$hangs"
  if [ "${crashes:-0}" != 0 ] || [ "${hangs:-0}" != 0 ]; then
    failed=1
    for f in "$work/$t"/default/crashes/id:* "$work/$t"/default/hangs/id:*; do
      [ -f "$f" ] && echo "   input: $f (replay: dotnet $bin/TorrentEdge.Engine.Fuzzing.dll $t '$f')"
    done
  fi
done
echo "fuzz output: $work"
exit $failed
