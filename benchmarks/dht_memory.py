#!/usr/bin/python3
"""The engine's memory with 1,000 torrents, with the DHT off and on (issue 18: against the 80 MiB of before).

`torrentedge-cli seed-many` seeds 1,000 single-file torrents of 64 KiB on 127.0.0.1, once without a DHT and once with
--dht-bootstrap into a private DHT of three libtorrent 2.0.8 nodes on 127.0.0.2-4 (lt_peer.py --dht-bootstrap), where it
looks up and announces every torrent. The engine's RSS (VmRSS) is sampled each second; the JSON lines of seed-many give
its RSS and managed heap when all torrents seed and at the end. Nothing leaves 127.0.0.0/8; every process started here
is stopped by its pid; files live under --work and are removed at the end.

Usage: /usr/bin/python3 benchmarks/dht_memory.py --cli /path/to/torrentedge-cli [--torrents 1000] [--seconds 120]
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LT_PEER = os.path.join(HERE, "..", "tests", "Engine.InteropTests", "Support", "lt_peer.py")
sys.path.insert(0, HERE)
# The end-to-end benchmark's torrents of the scale case and its /proc reader, not copies of them.
from bench import prepare_scale, proc_rss_mib as rss_mib  # noqa: E402


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def seed_many(cli, tdir, data, resume, seconds, extra):
    shutil.rmtree(resume, ignore_errors=True)
    p = subprocess.Popen([cli, "seed-many", tdir, data, "--bind", "127.0.0.1", "--port", "0", "--resume", resume,
                          "--duration", str(seconds), "--quiet", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    samples, lines = [], []
    import threading

    def reader():
        for line in p.stdout:
            lines.append(line.rstrip())
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    deadline = time.monotonic() + seconds + 120
    try:
        while p.poll() is None and time.monotonic() < deadline:
            r = rss_mib(p.pid)
            if r is not None:
                samples.append(r)
            time.sleep(1)
    finally:
        stop(p)
    t.join(5)
    js = {}
    for line in lines:
        if line.startswith("{"):
            d = json.loads(line)
            js[d.get("command") or d.get("event") or d.get("type") or len(js)] = d
    return {"rss_max_sampled_mib": max(samples) if samples else None, "rss_last_sampled_mib": samples[-1] if samples else None,
            "json": js, "tail": lines[-5:]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--torrents", type=int, default=1000)
    ap.add_argument("--size", type=int, default=64 * 1024)
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--work", default="/tmp/te-dhtmem")
    a = ap.parse_args()

    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    nodes = []
    try:
        data, tdir = prepare_scale(a.work, a.torrents, a.size)
        off = seed_many(a.cli, tdir, data, os.path.join(a.work, "resume-off"), a.seconds, [])
        print(json.dumps({"dht": "off", **off}), flush=True)

        # A private DHT: three libtorrent nodes on their own loopback addresses, each running one magnet of nobody's.
        ports = [7361, 7362, 7363]
        for i, port in enumerate(ports):
            boot = "127.0.0.%d:%d" % (2 + (i + 1) % 3, ports[(i + 1) % 3])
            save = os.path.join(a.work, "lt%d" % i)
            os.makedirs(save)
            magnet = "magnet:?xt=urn:btih:" + hashlib.sha1(b"nobody%d" % i).hexdigest()
            log = open(os.path.join(a.work, "lt%d.log" % i), "w")
            nodes.append((subprocess.Popen(["/usr/bin/python3", "-u", LT_PEER, "--mode", "download", "--magnet", magnet, "--save", save,
                                            "--address", "127.0.0.%d" % (2 + i), "--port", str(port), "--dht-bootstrap", boot,
                                            "--interval", "1", "--max-seconds", str(a.seconds + 300)],
                                           stdout=log, stderr=subprocess.STDOUT), log))
        time.sleep(10)
        on = seed_many(a.cli, tdir, data, os.path.join(a.work, "resume-on"), a.seconds, ["--dht-bootstrap", "127.0.0.2:%d" % ports[0]])
        announces = 0
        for i in range(len(ports)):
            with open(os.path.join(a.work, "lt%d.log" % i)) as f:
                announces += sum(1 for line in f if "dht_announce_alert" in line)
        print(json.dumps({"dht": "on", "announces_received_by_libtorrent_nodes": announces, **on}), flush=True)
    finally:
        for p, log in nodes:
            stop(p)
            log.close()
        shutil.rmtree(a.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
