#!/usr/bin/python3
"""TorrentEdge end-to-end benchmark: our CLI against libtorrent 2.0.8 and aria2 on 127.0.0.1.

Started by benchmarks/run.sh (which builds the CLI first). Every process it starts is recorded in
<work>/pids and stopped by its id (SIGTERM, then SIGKILL) on exit, on Ctrl+C and on SIGTERM.
Leecher CPU time and peak RSS come from wait4()'s rusage of the leecher process itself.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LT_PEER = os.path.join(REPO, "tests", "Engine.InteropTests", "Support", "lt_peer.py")
MiB = 1024 * 1024
GiB = 1024 * MiB
CLK_TCK = os.sysconf("SC_CLK_TCK")

children = {}  # pid -> (Popen, name)
pidfile = None


# ---------------------------------------------------------------- processes

def record_pids():
    if pidfile:
        with open(pidfile, "w") as f:
            f.write("".join("%d\n" % p for p in children))


def spawn(name, args, log, cwd=None):
    out = open(log, "wb")
    p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd)
    out.close()
    children[p.pid] = (p, name)
    record_pids()
    return p


def stop(p, grace=5.0):
    """Stops one child by its pid: SIGTERM, then SIGKILL after `grace` seconds. Returns wait4's rusage or None."""
    if p.pid not in children:
        return None
    usage = None
    try:
        pid, _, usage = os.wait4(p.pid, os.WNOHANG)
        if pid == 0:
            os.kill(p.pid, signal.SIGTERM)
            deadline = time.time() + grace
            while time.time() < deadline:
                pid, _, usage = os.wait4(p.pid, os.WNOHANG)
                if pid != 0:
                    break
                time.sleep(0.02)
            else:
                os.kill(p.pid, signal.SIGKILL)
                _, _, usage = os.wait4(p.pid, 0)
    except ChildProcessError:
        pass
    except ProcessLookupError:
        pass
    p.returncode = p.returncode if p.returncode is not None else -1
    children.pop(p.pid, None)
    record_pids()
    return usage


def stop_all():
    for pid in list(children):
        stop(children[pid][0], grace=3.0)


def on_signal(signum, _frame):
    raise KeyboardInterrupt("signal %d" % signum)


def proc_cpu_seconds(pid):
    """utime+stime of a running process from /proc/<pid>/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(predicate, timeout, what, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = predicate()
        if v:
            return v
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s: process exited with %s" % (what, proc.returncode))
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


# ---------------------------------------------------------------- bencode (enough for .torrent files)

def bdecode(data, i=0):
    c = data[i:i + 1]
    if c == b"i":
        j = data.index(b"e", i)
        return int(data[i + 1:j]), j + 1
    if c == b"l":
        i += 1
        out = []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            v, i = bdecode(data, i)
            out[k] = v
        return out, i + 1
    j = data.index(b":", i)
    n = int(data[i:j])
    return data[j + 1:j + 1 + n], j + 1 + n


def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(type(v))


def info_hash(torrent_bytes):
    d, _ = bdecode(torrent_bytes)
    return hashlib.sha1(bencode(d[b"info"])).hexdigest()


def write_torrent(template, path, announce):
    """A copy of the template .torrent with another announce URL (or none); the info dictionary is untouched."""
    d, _ = bdecode(template)
    d.pop(b"announce-list", None)
    if announce:
        d[b"announce"] = announce.encode()
    else:
        d.pop(b"announce", None)
    data = bencode(d)
    assert info_hash(data) == info_hash(template)
    with open(path, "wb") as f:
        f.write(data)
    return path


# ---------------------------------------------------------------- payloads

def parse_size(text):
    m = re.fullmatch(r"(\d+)([KMG]?)(i?B?)?", text.strip(), re.I)
    if not m:
        raise argparse.ArgumentTypeError("size like 1G, 256M")
    return int(m.group(1)) * {"": 1, "K": 1024, "M": MiB, "G": GiB}[m.group(2).upper()]


def write_random(path, length):
    with open(path, "wb") as f:
        left = length
        while left:
            n = min(left, 4 * MiB)
            f.write(os.urandom(n))
            left -= n


def multi_layout(total):
    """35 files with odd sizes (tiny, unaligned, large) summing exactly to `total`."""
    rng = random.Random(35)
    fixed = [1, 17, 1000, 16383, 16385, 65537, 999_999]  # sub-block, straddling and under-a-piece files
    weights = [rng.uniform(0.2, 3.0) for _ in range(35 - len(fixed))]
    rest = total - sum(fixed)
    sizes = [int(rest * w / sum(weights)) | 1 for w in weights]
    sizes[-1] += rest - sum(sizes)
    sizes = fixed + sizes
    rng.shuffle(sizes)
    return [("d%d/file-%02d-%d.bin" % (i % 4, i, s), s) for i, s in enumerate(sizes)]


def prepare_payloads(work, size):
    base = os.path.join(work, "payload-%d" % size)
    stamp = base + ".ok"
    single = os.path.join(base, "single")
    multi = os.path.join(base, "multi")
    if not os.path.exists(stamp):
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(single)
        print("preparing payloads of %s in %s ..." % (human(size), base), flush=True)
        write_random(os.path.join(single, "payload.bin"), size)
        for rel, n in multi_layout(size):
            p = os.path.join(multi, "payload-35", rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            write_random(p, n)
        for layout, src in (("single", os.path.join(single, "payload.bin")), ("multi", os.path.join(multi, "payload-35"))):
            out = os.path.join(base, layout + ".torrent")
            # Plain v1 torrents in 1 MiB pieces (pieces straddle files in the 35-file layout).
            subprocess.run(["mktorrent", "-l", "20", "-a", "http://127.0.0.1:1/announce", "-o", out, src],
                           check=True, stdout=subprocess.DEVNULL, timeout=600)
        with open(stamp, "w") as f:
            f.write("ok\n")
    return {
        "single": {"dir": single, "torrent": open(os.path.join(base, "single.torrent"), "rb").read()},
        "multi": {"dir": multi, "torrent": open(os.path.join(base, "multi.torrent"), "rb").read()},
    }


def files_under(d):
    out = []
    for root, dirs, files in os.walk(d):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        out += [os.path.join(root, f) for f in files if not f.endswith(".aria2")]
    return out


def bytes_on_disk(d):
    total = 0
    for p in files_under(d):
        try:
            total += os.stat(p).st_blocks * 512
        except FileNotFoundError:
            pass
    return total


def verify(src_dir, out_dir):
    """Byte-for-byte comparison of every payload file; returns an error text or None."""
    for src in files_under(src_dir):
        rel = os.path.relpath(src, src_dir)
        dst = os.path.join(out_dir, rel)
        if not os.path.exists(dst):
            return "missing " + rel
        if os.path.getsize(dst) != os.path.getsize(src):
            return "size differs: " + rel
        if subprocess.run(["cmp", "-s", src, dst], timeout=600).returncode != 0:
            return "content differs: " + rel
    return None


# ---------------------------------------------------------------- services

class Tracker:
    def __init__(self, work, hashes):
        self.dir = os.path.join(work, "opentracker")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        # opentracker chroots into its directory and drops to "nobody" when run as root: readable by others.
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        with open(os.path.join(self.dir, "whitelist"), "w") as f:
            f.write("".join(h + "\n" for h in hashes))
        with open(os.path.join(self.dir, "opentracker.conf"), "w") as f:
            f.write("listen.tcp 127.0.0.1:%d\naccess.whitelist whitelist\n" % self.port)
        for name in ("whitelist", "opentracker.conf"):
            os.chmod(os.path.join(self.dir, name), 0o644)
        self.proc = spawn("opentracker", ["opentracker", "-f", os.path.join(self.dir, "opentracker.conf"), "-d", self.dir],
                          os.path.join(work, "logs", "opentracker.log"), cwd=self.dir)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                return False
        wait_for(up, 10, "opentracker", self.proc)
        self.announce = "http://127.0.0.1:%d/announce" % self.port


def lt_peer(mode, torrent, save, log, extra=()):
    return spawn("libtorrent-" + mode, ["/usr/bin/python3", LT_PEER, "--mode", mode, "--torrent", torrent, "--save", save,
                                        "--interval", "0.05", "--max-seconds", "3600", *extra], log)


def lt_events(log):
    out = []
    for line in read(log).splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def lt_seeding(log):
    return any(e.get("event") == "status" and e.get("seeding") for e in lt_events(log))


def lt_port(log):
    for e in lt_events(log):
        if e.get("event") == "listening" and e.get("port"):
            return e["port"]
    return None


def cli_listening(log):
    m = re.search(r"^listening \S*:(\d+)$", read(log), re.M)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------- one leecher run

def leech(client, cfg, torrent, out_dir, log, timeout):
    """Downloads `torrent` into the fresh folder `out_dir` with one client; returns a result dict."""
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    if client == "ours":
        args = [*cfg.cli, "download", torrent, "--out", out_dir, "--bind", "127.0.0.1", "--port", "0",
                "--quiet", "--timeout", str(int(timeout))]
    elif client == "libtorrent":
        args = ["/usr/bin/python3", LT_PEER, "--mode", "download", "--torrent", torrent, "--save", out_dir,
                "--interval", "0.05", "--max-seconds", str(int(timeout))]
    elif client == "aria2":
        args = ["aria2c", "--dir=" + out_dir, "--file-allocation=none", "--seed-time=0", "--enable-dht=false",
                "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false", "--disable-ipv6=true",
                "--interface=127.0.0.1", "--listen-port=%d" % free_port(), "--allow-overwrite=true",
                "--auto-file-renaming=false", "--summary-interval=0", "--console-log-level=warn",
                "--bt-stop-timeout=%d" % int(timeout), "--enable-color=false", "--show-console-readout=false",
                "--bt-tracker-interval=1", torrent]
    else:
        raise ValueError(client)
    t0 = time.monotonic()
    p = spawn(client, args, log)
    first = None
    done_at = None
    usage = None
    status = None
    hwm = 0
    deadline = t0 + timeout
    while True:
        now = time.monotonic()
        pid, st, ru = os.wait4(p.pid, os.WNOHANG)
        if pid != 0:
            done_at, usage, status = now, ru, os.waitstatus_to_exitcode(st)
            children.pop(p.pid, None)
            record_pids()
            break
        try:
            hwm = max(hwm, proc_hwm_kib(p.pid))
        except OSError:
            pass
        if first is None and bytes_on_disk(out_dir) > 0:
            first = now - t0
        if client == "libtorrent" and '"event": "finished"' in read(log):
            done_at = now
            usage = stop(p)
            status = 0
            break
        if now > deadline:
            usage = stop(p)
            return {"client": client, "error": "timeout after %d s" % timeout}
        time.sleep(0.02)
    if status != 0:
        return {"client": client, "error": "exit code %s: %s" % (status, read(log)[-500:].strip())}
    wall = done_at - t0
    err = verify(cfg.src_dir, out_dir)
    size = cfg.size
    r = {
        "client": client,
        "wall": wall,
        "mibps": size / MiB / wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "cpu_per_gib": (usage.ru_utime + usage.ru_stime) / (size / GiB),
        "first": first,
        "rss_mib": max(usage.ru_maxrss, hwm) / 1024,
        "error": err,
    }
    shutil.rmtree(out_dir, ignore_errors=True)
    return r


# ---------------------------------------------------------------- cases

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec="%.1f"):
    return "n/a" if v is None else spec % v


def human(n):
    return "%.0f MiB" % (n / MiB) if n < GiB else "%.2f GiB" % (n / GiB)


def summarize(rows, clients):
    by = {c: [r for r in rows if r["client"] == c] for c in clients}
    out = {}
    for c, rs in by.items():
        ok = [r for r in rs if not r.get("error")]
        out[c] = {
            "runs": "%d/%d" % (len(ok), len(rs)),
            "mibps": median([r["mibps"] for r in ok]),
            "cpu_per_gib": median([r["cpu_per_gib"] for r in ok]),
            "first": median([r["first"] for r in ok]),
            "rss_mib": median([r["rss_mib"] for r in ok]),
            "errors": [r["error"] for r in rs if r.get("error")],
        }
    return out


def download_table(title, s, reference="libtorrent"):
    lines = ["### " + title, "",
             "| leecher | ok runs | MiB/s | CPU s per GiB | first data on disk (s) | peak RSS (MiB) |",
             "|---|---|---|---|---|---|"]
    for c, m in s.items():
        lines.append("| %s | %s | %s | %s | %s | %s |" % (c, m["runs"], fmt(m["mibps"]), fmt(m["cpu_per_gib"], "%.2f"),
                                                      fmt(m["first"], "%.2f"), fmt(m["rss_mib"], "%.0f")))
    ref = s.get(reference)
    ours = s.get("ours")
    if ref and ours and ours["mibps"] and ref["mibps"]:
        lines += ["", "ours / libtorrent: rate **%.2f x** (target >= 1.3), CPU per GiB **%.2f x** (target <= 0.5), "
                      "first data %s s (target <= 0.2), peak RSS %s MiB (target <= 64)"
                  % (ours["mibps"] / ref["mibps"], ours["cpu_per_gib"] / ref["cpu_per_gib"],
                     fmt(ours["first"], "%.2f"), fmt(ours["rss_mib"], "%.0f"))]
    for c, m in s.items():
        for e in m["errors"]:
            lines.append("- %s failed: %s" % (c, e))
    return lines


def run_downloads(cfg, payloads, tracker_announce, layouts, clients):
    sections = []
    for layout in layouts:
        pl = payloads[layout]
        tdir = os.path.join(cfg.work, "run")
        os.makedirs(tdir, exist_ok=True)
        torrent = write_torrent(pl["torrent"], os.path.join(tdir, layout + ".torrent"), tracker_announce)
        cfg.src_dir = pl["dir"]
        log = os.path.join(cfg.work, "logs", "seeder-%s.log" % layout)
        seeder = lt_peer("seed", torrent, pl["dir"], log)
        try:
            wait_for(lambda: lt_seeding(log), 600, "libtorrent seeder to check its files", seeder)
            print("[%s] libtorrent seeder ready (pid %d)" % (layout, seeder.pid), flush=True)
            rows = []
            for run in range(cfg.runs):
                order = clients[run % len(clients):] + clients[:run % len(clients)]
                for c in order:
                    if time.monotonic() > cfg.deadline:
                        print("global time limit reached: skipping the rest", flush=True)
                        break
                    r = leech(c, cfg, torrent, os.path.join(cfg.work, "dl-" + c),
                              os.path.join(cfg.work, "logs", "%s-%s-%d.log" % (layout, c, run)), cfg.timeout)
                    rows.append(r)
                    print("[%s run %d] %-10s %s" % (layout, run + 1, c, describe(r)), flush=True)
        finally:
            stop(seeder)
        s = summarize(rows, clients)
        title = "Download, %s (%s, 1 MiB pieces), median of %d" % (
            "single file" if layout == "single" else "35 files", human(cfg.size), cfg.runs)
        sections.append(download_table(title, s))
    return sections


def describe(r):
    if r.get("error") and "wall" not in r:
        return "FAILED: " + r["error"]
    text = "%.1f MiB/s, %.2f s, CPU %.2f s, first %s s, peak RSS %.0f MiB" % (
        r["mibps"], r["wall"], r["cpu"], fmt(r["first"], "%.2f"), r["rss_mib"])
    return text + (" -- VERIFY FAILED: " + r["error"] if r.get("error") else ", verified")


def run_seeding(cfg, payloads):
    """Our seeder vs libtorrent's, each serving a libtorrent leecher that dials it (no tracker: one source only)."""
    pl = payloads["single"]
    cfg.src_dir = pl["dir"]
    tdir = os.path.join(cfg.work, "run")
    torrent = write_torrent(pl["torrent"], os.path.join(tdir, "single-notracker.torrent"), None)
    seeders = {}
    logs = {}
    rows = []
    try:
        logs["libtorrent"] = os.path.join(cfg.work, "logs", "seed-libtorrent.log")
        seeders["libtorrent"] = lt_peer("seed", torrent, pl["dir"], logs["libtorrent"])
        logs["ours"] = os.path.join(cfg.work, "logs", "seed-ours.log")
        resume = os.path.join(cfg.work, "seed-resume")
        shutil.rmtree(resume, ignore_errors=True)
        seeders["ours"] = spawn("ours-seed", [*cfg.cli, "seed", torrent, pl["dir"], "--bind", "127.0.0.1", "--port", "0",
                                              "--resume", resume], logs["ours"])
        wait_for(lambda: lt_seeding(logs["libtorrent"]), 600, "libtorrent seeder", seeders["libtorrent"])
        wait_for(lambda: re.search(r"^seeding ", read(logs["ours"]), re.M), 600, "our seeder to verify", seeders["ours"])
        ports = {"libtorrent": lt_port(logs["libtorrent"]), "ours": cli_listening(logs["ours"])}
        print("[seeding] seeders ready: %s" % ports, flush=True)
        for run in range(cfg.runs):
            for who in (["ours", "libtorrent"] if run % 2 == 0 else ["libtorrent", "ours"]):
                if time.monotonic() > cfg.deadline:
                    break
                sp = seeders[who]
                cpu0 = proc_cpu_seconds(sp.pid)
                out = os.path.join(cfg.work, "dl-seedcase")
                shutil.rmtree(out, ignore_errors=True)
                os.makedirs(out)
                log = os.path.join(cfg.work, "logs", "seedcase-%s-%d.log" % (who, run))
                t0 = time.monotonic()
                p = spawn("libtorrent-leech", ["/usr/bin/python3", LT_PEER, "--mode", "download", "--torrent", torrent,
                                               "--save", out, "--interval", "0.05", "--max-seconds", str(int(cfg.timeout)),
                                               "--peer", "127.0.0.1:%d" % ports[who]], log)
                try:
                    wait_for(lambda: '"event": "finished"' in read(log), cfg.timeout, "leecher from %s seeder" % who, p)
                    wall = time.monotonic() - t0
                    cpu = proc_cpu_seconds(sp.pid) - cpu0
                    stop(p)
                    err = verify(pl["dir"], out)
                    r = {"client": who, "wall": wall, "mibps": cfg.size / MiB / wall, "cpu": cpu,
                         "cpu_per_gib": cpu / (cfg.size / GiB), "error": err}
                except RuntimeError as e:
                    stop(p)
                    r = {"client": who, "error": str(e)}
                shutil.rmtree(out, ignore_errors=True)
                rows.append(r)
                print("[seeding run %d] %-10s %s" % (run + 1, who, "FAILED: " + r["error"] if "wall" not in r else
                                                       "%.1f MiB/s, seeder CPU %.2f s%s" % (r["mibps"], r["cpu"], ", verified" if not r["error"] else " VERIFY FAILED " + r["error"])),
                      flush=True)
    finally:
        for p in seeders.values():
            stop(p)
    lines = ["### Seeding to a libtorrent leecher, single file (%s), median of %d" % (human(cfg.size), cfg.runs), "",
             "| seeder | ok runs | MiB/s | seeder CPU s per GiB |", "|---|---|---|---|"]
    med = {}
    for who in ("ours", "libtorrent"):
        ok = [r for r in rows if r["client"] == who and not r.get("error")]
        med[who] = (median([r["mibps"] for r in ok]), median([r["cpu_per_gib"] for r in ok]))
        lines.append("| %s | %d/%d | %s | %s |" % (who, len(ok), len([r for r in rows if r["client"] == who]),
                                                 fmt(med[who][0]), fmt(med[who][1], "%.2f")))
    if all(med[w][0] for w in med):
        lines += ["", "ours / libtorrent: rate **%.2f x** (target >= 1.0), seeder CPU **%.2f x** (target <= 1.0)"
                  % (med["ours"][0] / med["libtorrent"][0], med["ours"][1] / med["libtorrent"][1])]
    for r in rows:
        if r.get("error"):
            lines.append("- %s failed: %s" % (r["client"], r["error"]))
    return lines


def openssl_sha1(multi):
    args = ["openssl", "speed", "-evp", "sha1", "-seconds", "2"] + (["-multi", str(multi)] if multi > 1 else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=120).stdout
    for line in out.splitlines():
        if line.lower().startswith("sha1"):
            # The last column is 16384-byte blocks in thousands of bytes per second.
            return float(line.split()[-1].rstrip("k")) * 1000 / MiB
    return None


def run_recheck(cfg, payloads):
    """Time for a fresh seeder (no resume data, page cache warm) to verify the payload: ours vs libtorrent."""
    pl = payloads["single"]
    tdir = os.path.join(cfg.work, "run")
    torrent = write_torrent(pl["torrent"], os.path.join(tdir, "single-notracker.torrent"), None)
    subprocess.run(["cat", os.path.join(pl["dir"], "payload.bin")], stdout=subprocess.DEVNULL, timeout=600)
    rows = []
    for run in range(cfg.runs):
        for who in (["ours", "libtorrent"] if run % 2 == 0 else ["libtorrent", "ours"]):
            if time.monotonic() > cfg.deadline:
                break
            log = os.path.join(cfg.work, "logs", "recheck-%s-%d.log" % (who, run))
            resume = os.path.join(cfg.work, "recheck-resume")
            shutil.rmtree(resume, ignore_errors=True)
            t0 = time.monotonic()
            if who == "ours":
                p = spawn("ours-recheck", [*cfg.cli, "seed", torrent, pl["dir"], "--bind", "127.0.0.1", "--port", "0",
                                           "--resume", resume], log)
                ready = lambda: re.search(r"^seeding ", read(log), re.M)
            else:
                p = lt_peer("seed", torrent, pl["dir"], log)
                ready = lambda: lt_seeding(log)
            try:
                wait_for(ready, cfg.timeout, "%s recheck" % who, p)
                wall = time.monotonic() - t0
                cpu = proc_cpu_seconds(p.pid)
                rows.append({"client": who, "wall": wall, "mibps": cfg.size / MiB / wall, "cpu": cpu})
            except RuntimeError as e:
                rows.append({"client": who, "error": str(e)})
            stop(p)
            r = rows[-1]
            print("[recheck run %d] %-10s %s" % (run + 1, who, "FAILED: " + r["error"] if "error" in r else
                                                 "%.1f MiB/s (%.2f s from process start), CPU %.2f s" % (r["mibps"], r["wall"], r["cpu"])), flush=True)
    one = openssl_sha1(1)
    both = openssl_sha1(os.cpu_count() or 1)
    print("[recheck] openssl speed -evp sha1: %s MiB/s on one core, %s MiB/s on %d" % (fmt(one), fmt(both), os.cpu_count()), flush=True)
    lines = ["### Recheck of %s on disk (page cache warm, no resume data), median of %d" % (human(cfg.size), cfg.runs), "",
             "| checker | ok runs | MiB/s (wall, from process start) | CPU s | MiB per CPU s | vs openssl 1 core | vs openssl all cores |",
             "|---|---|---|---|---|---|---|"]
    for who in ("ours", "libtorrent"):
        ok = [r for r in rows if r["client"] == who and "error" not in r]
        m = median([r["mibps"] for r in ok])
        c = median([r["cpu"] for r in ok])
        lines.append("| %s | %d/%d | %s | %s | %s | %s | %s |" % (
            who, len(ok), len([r for r in rows if r["client"] == who]), fmt(m), fmt(c, "%.2f"),
            fmt(cfg.size / MiB / c if c else None),
            fmt(m / one * 100 if m and one else None, "%.0f%%"), fmt(m / both * 100 if m and both else None, "%.0f%%")))
    lines.append("| openssl speed -evp sha1 | | %s (1 core, CPU time), %s (%d processes, -multi) | | | 100%% | 100%% |"
                 % (fmt(one), fmt(both), os.cpu_count()))
    lines += ["", "Targets: ours >= 90% of openssl on one core, and nearly twice that with both cores. The CLI has no "
              "recheck command: this is `torrentedge-cli seed` with an empty resume folder, timed until it prints "
              "`seeding` (process start-up included)."]
    return lines


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True, help="path to the built torrentedge-cli (apphost) or .dll")
    ap.add_argument("--size", type=parse_size, default=GiB, help="payload size (default 1G; e.g. 256M for a quick run)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/torrentedge-bench")
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--timeout", type=float, default=300, help="seconds allowed per transfer")
    ap.add_argument("--max-minutes", type=float, default=90, help="the whole run stops starting new transfers after this")
    ap.add_argument("--cases", default="download,seeding,recheck")
    ap.add_argument("--layouts", default="single,multi")
    ap.add_argument("--clients", default="ours,libtorrent,aria2")
    cfg = ap.parse_args()
    cfg.cli = [cfg.cli] if not cfg.cli.endswith(".dll") else ["dotnet", cfg.cli]
    cfg.deadline = time.monotonic() + cfg.max_minutes * 60
    os.makedirs(os.path.join(cfg.work, "logs"), exist_ok=True)
    global pidfile
    pidfile = os.path.join(cfg.work, "pids")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = os.getloadavg()
    sections = []
    interrupted = False
    try:
        payloads = prepare_payloads(cfg.work, cfg.size)
        cases = cfg.cases.split(",")
        if "download" in cases:
            tracker = Tracker(cfg.work, [info_hash(p["torrent"]) for p in payloads.values()])
            try:
                print("opentracker on %s (pid %d)" % (tracker.announce, tracker.proc.pid), flush=True)
                sections += run_downloads(cfg, payloads, tracker.announce, cfg.layouts.split(","), cfg.clients.split(","))
            finally:
                stop(tracker.proc)
        if "seeding" in cases:
            sections.append(run_seeding(cfg, payloads))
        if "recheck" in cases:
            sections.append(run_recheck(cfg, payloads))
    except KeyboardInterrupt as e:
        print("interrupted (%s): stopping every process" % e, flush=True)
        sections.append(["**Interrupted: partial results (not written to results/).**"])
        interrupted = True
    finally:
        stop_all()
        for name in os.listdir(cfg.work):
            if name.startswith("dl-"):
                shutil.rmtree(os.path.join(cfg.work, name), ignore_errors=True)
    load1 = os.getloadavg()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    header = ["# TorrentEdge benchmark, %s" % started.strftime("%Y-%m-%d %H:%M UTC"), "",
              "- command: `benchmarks/run.sh %s`" % " ".join(sys.argv[1:]).replace("--cli " + " ".join(cfg.cli), "").strip(),
              "- machine: %d cores, %s, %s %s; load average %.1f at start, %.1f at end"
              % (os.cpu_count(), cpu, platform.system(), platform.release(), load0[0], load1[0]),
              "- payload %s of random data in 1 MiB pieces, libtorrent 2.0.8 seeder, opentracker over HTTP, all on 127.0.0.1"
              % human(cfg.size),
              "- figures are valid only on an otherwise idle machine (load average well below the core count)", ""]
    text = "\n".join(header + [l for s in sections for l in s + [""]])
    print("\n" + text)
    if interrupted:
        return 130
    os.makedirs(cfg.results, exist_ok=True)
    path = os.path.join(cfg.results, started.strftime("%Y-%m-%d-%H%M") + ".md")
    with open(path, "w") as f:
        f.write(text)
    print("written to " + os.path.relpath(path, REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
