#!/usr/bin/python3
"""Download rate under forced encryption: our CLI (--encryption require) against a libtorrent 2.0.8 leecher
(lt_peer.py --enc forced), both from the same libtorrent seeder with encryption forced (RC4 only), on 127.0.0.1.

Issue 18 asks for at least 1.0x. Every process started here is stopped by its pid; files live under --work and are
removed at the end. Leecher CPU time is wait4()'s rusage of the leecher process; the rate is the payload size over the
wall time from the leecher's start to its completion (the CLI's exit, libtorrent's "finished" line), so both include
their start-up. Run it under `flock /tmp/heavy.lock` on a shared machine.

Usage: /usr/bin/python3 benchmarks/encryption_rate.py --cli src/Engine.Cli/bin/Release/net10.0/torrentedge-cli
           [--size-mib 1024] [--runs 3] [--work /tmp/te-encbench]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LT_PEER = os.path.join(HERE, "..", "tests", "Engine.InteropTests", "Support", "lt_peer.py")


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_leecher(cmd, done_line, timeout):
    """Starts cmd, waits for its completion; returns (wall seconds, cpu seconds, stdout lines)."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    wall = None
    try:
        for line in p.stdout:
            lines.append(line.rstrip())
            if done_line and done_line in line and wall is None:
                wall = time.monotonic() - start
                p.send_signal(signal.SIGTERM)
            if time.monotonic() - start > timeout:
                raise TimeoutError("leecher timed out: " + " ".join(cmd))
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if wall is None:
            wall = time.monotonic() - start
            if p.returncode != 0:
                raise RuntimeError("leecher failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), "\n".join(lines[-20:])))
        return wall, usage.ru_utime + usage.ru_stime, lines
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/te-encbench")
    ap.add_argument("--port", type=int, default=7391)
    a = ap.parse_args()

    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(os.path.join(a.work, "seed"))
    data = os.path.join(a.work, "seed", "big.bin")
    with open(data, "wb") as f:
        left = a.size_mib * 1024 * 1024
        while left:
            n = min(left, 16 << 20)
            f.write(os.urandom(n))
            left -= n
    torrent = os.path.join(a.work, "big.torrent")
    subprocess.run([a.cli, "create", data, "--tracker", "http://127.0.0.1:1/announce", "--out", torrent,
                    "--piece-length", str(1 << 20)], check=True, stdout=subprocess.DEVNULL)
    seeder = subprocess.Popen(["/usr/bin/python3", "-u", LT_PEER, "--mode", "seed", "--torrent", torrent, "--save",
                               os.path.join(a.work, "seed"), "--port", str(a.port), "--enc", "forced",
                               "--max-seconds", "3600", "--interval", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    results = {"cli": [], "libtorrent": []}
    try:
        for line in seeder.stdout:
            if '"seeding": true' in line:
                break
        peer = "127.0.0.1:%d" % a.port
        for run in range(a.runs):
            for name in ("cli", "libtorrent"):
                out = os.path.join(a.work, "leech-%s-%d" % (name, run))
                os.makedirs(out)
                if name == "cli":
                    cmd = [a.cli, "download", torrent, "--out", out, "--bind", "127.0.0.1", "--peer", peer,
                           "--encryption", "require", "--no-dht", "--quiet", "--json", "--timeout", "600"]
                    wall, cpu, lines = run_leecher(cmd, None, 900)
                    summary = json.loads([l for l in lines if l.startswith("{")][-1])
                    extra = {"engine_seconds": summary.get("seconds")}
                else:
                    cmd = ["/usr/bin/python3", "-u", LT_PEER, "--mode", "download", "--torrent", torrent, "--save", out,
                           "--peer", peer, "--enc", "forced", "--interval", "0.05", "--max-seconds", "600"]
                    wall, cpu, lines = run_leecher(cmd, '"event": "finished"', 900)
                    extra = {}
                if subprocess.run(["cmp", data, os.path.join(out, "big.bin")]).returncode != 0:
                    raise RuntimeError(name + " downloaded different bytes")
                rate = a.size_mib / wall
                results[name].append({"seconds": wall, "mib_s": rate, "cpu_s": cpu, **extra})
                print(json.dumps({"run": run, "leecher": name, "seconds": round(wall, 2), "mib_s": round(rate, 1),
                                  "cpu_s": round(cpu, 2), **extra}), flush=True)
                shutil.rmtree(out)
    finally:
        stop(seeder)
        shutil.rmtree(a.work, ignore_errors=True)
    med = {n: {k: statistics.median(r[k] for r in rs) for k in ("seconds", "mib_s", "cpu_s")} for n, rs in results.items()}
    print(json.dumps({"median": med, "ratio_cli_over_libtorrent": round(med["cli"]["mib_s"] / med["libtorrent"]["mib_s"], 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
