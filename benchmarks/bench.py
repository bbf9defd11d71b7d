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


SEEDER_KINDS = {"default": [], "high": ["--high-performance"]}
SEEDER_LABELS = {"default": "default libtorrent seeder", "high": "libtorrent seeder on high_performance_seed()"}


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


def lt_uploaded(log):
    """Payload bytes a libtorrent peer had uploaded at its last status line (its lt_peer.py log)."""
    return next((e.get("up", 0) for e in reversed(lt_events(log)) if e.get("event") == "status"), 0)


def cli_listening(log):
    m = re.search(r"^listening \S*:(\d+)$", read(log), re.M)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------- one leecher run

def leech(client, cfg, torrent, out_dir, log, timeout):
    """Downloads `torrent` into the fresh folder `out_dir` with one client; returns a result dict.

    Completion is when the client says so (ours: its `completed` line; libtorrent: its `finished` event;
    aria2: process exit), seen by this poller every 20 ms. First data: ours reports the first piece
    verified and written (JSON line, from its process start); libtorrent's first status line with verified
    bytes; aria2's first allocated block on disk (it writes blocks as they arrive)."""
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    if client in ("ours", "ours-buffered", "ours-b"):
        # ours-buffered: the same CLI writing through the page cache, to show what direct writes save.
        # ours-b: another build (--cli-b), to compare two builds in one run.
        args = [*(cfg.cli_b if client == "ours-b" else cfg.cli), "download", torrent, "--out", out_dir, "--bind", "127.0.0.1", "--port", "0",
                "--quiet", "--json", "--timeout", str(int(timeout))] + (["--buffered-writes"] if client == "ours-buffered" else [])
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
            done_at, usage, status = done_at or now, ru, os.waitstatus_to_exitcode(st)
            children.pop(p.pid, None)
            record_pids()
            break
        try:
            hwm = max(hwm, proc_hwm_kib(p.pid))
        except OSError:
            pass
        if client == "aria2" and first is None and bytes_on_disk(out_dir) > 0:
            first = now - t0
        if client == "libtorrent":
            text = read(log)
            if first is None and re.search(r'"done": [1-9]', text):
                first = now - t0
            if '"event": "finished"' in text:
                done_at = now
                usage = stop(p)
                status = 0
                break
        if client.startswith("ours") and done_at is None and "\ncompleted " in "\n" + read(log):
            done_at = now  # then wait for the exit (files closed) for its rusage
        if now > deadline:
            usage = stop(p)
            return {"client": client, "error": "timeout after %d s" % timeout}
        time.sleep(0.02)
    if status != 0:
        return {"client": client, "error": "exit code %s: %s" % (status, read(log)[-500:].strip())}
    if client.startswith("ours"):
        summary = json_line(log, "download") or {}
        first = summary.get("first_piece_s")
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
    r["load"] = os.getloadavg()[0]
    cfg.loads.append(r["load"])
    return r


def json_line(log, command):
    """The last JSON line of our CLI's output with that "command"."""
    found = None
    for line in read(log).splitlines():
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("command") == command:
                found = obj
    return found


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


def download_table(title, s, reference="libtorrent", swarm=False):
    lines = ["### " + title, "",
             "| leecher | ok runs | MiB/s | CPU s per GiB | first piece (s) | peak RSS (MiB) |",
             "|---|---|---|---|---|---|"]
    for c, m in s.items():
        lines.append("| %s | %s | %s | %s | %s | %s |" % (c, m["runs"], fmt(m["mibps"]), fmt(m["cpu_per_gib"], "%.2f"),
                                                      fmt(m["first"], "%.2f"), fmt(m["rss_mib"], "%.0f")))
    ref = s.get(reference)
    ours = s.get("ours")
    if swarm and ref and ours and ours["mibps"] and ref["mibps"]:
        lines += ["", "ours / libtorrent: rate **%.2f x** (target >= 1.2), CPU per GiB %.2f x"
                  % (ours["mibps"] / ref["mibps"], ours["cpu_per_gib"] / ref["cpu_per_gib"])]
    elif ref and ours and ours["mibps"] and ref["mibps"]:
        lines += ["", "ours / libtorrent: rate **%.2f x** (target >= 1.3), CPU per GiB **%.2f x** (target <= 0.5), "
                      "first piece %s s (target <= 0.2), peak RSS %s MiB (target <= 64)"
                  % (ours["mibps"] / ref["mibps"], ours["cpu_per_gib"] / ref["cpu_per_gib"],
                     fmt(ours["first"], "%.2f"), fmt(ours["rss_mib"], "%.0f"))]
    for c, m in s.items():
        for e in m["errors"]:
            lines.append("- %s failed: %s" % (c, e))
    return lines


def run_downloads(cfg, payloads, tracker_announce, layouts, clients, seeders=("default",), count=1):
    """Every leecher in turn from `count` libtorrent seeders of one kind (all found through the tracker).
    count 1 is the download case; count 4 the swarm's download half."""
    sections = []
    for kind in seeders:
        for layout in layouts:
            pl = payloads[layout]
            tdir = os.path.join(cfg.work, "run")
            os.makedirs(tdir, exist_ok=True)
            torrent = write_torrent(pl["torrent"], os.path.join(tdir, layout + ".torrent"), tracker_announce)
            cfg.src_dir = pl["dir"]
            tag = "%s-%s-x%d" % (layout, kind, count)
            logs = [os.path.join(cfg.work, "logs", "seeder-%s-%d.log" % (tag, i)) for i in range(count)]
            procs = []
            try:
                for log in logs:
                    procs.append(lt_peer("seed", torrent, pl["dir"], log, SEEDER_KINDS[kind]))
                for p, log in zip(procs, logs):
                    wait_for(lambda: lt_seeding(log), 600, "libtorrent seeder to check its files", p)
                print("[%s] %d %s(s) ready (pids %s)" % (tag, count, SEEDER_LABELS[kind], [p.pid for p in procs]), flush=True)
                rows = []
                for run in range(cfg.runs):
                    order = clients[run % len(clients):] + clients[:run % len(clients)]
                    for c in order:
                        if time.monotonic() > cfg.deadline:
                            print("global time limit reached: skipping the rest", flush=True)
                            break
                        r = leech(c, cfg, torrent, os.path.join(cfg.work, "dl-" + c),
                                  os.path.join(cfg.work, "logs", "%s-%s-%d.log" % (tag, c, run)), cfg.timeout)
                        rows.append(r)
                        print("[%s run %d] %-10s %s" % (tag, run + 1, c, describe(r)), flush=True)
            finally:
                for p in procs:
                    stop(p)
            s = summarize(rows, clients)
            cfg.summary.setdefault("download" if count == 1 else "swarm-download", {})[(layout, kind)] = s
            title = "Download, %s (%s, 1 MiB pieces), from %s%s, median of %d" % (
                "single file" if layout == "single" else "35 files", human(cfg.size),
                "one " if count == 1 else "%d x " % count, SEEDER_LABELS[kind], cfg.runs)
            sections.append(download_table(title, s, swarm=count > 1))
    return sections


def describe(r):
    if r.get("error") and "wall" not in r:
        return "FAILED: " + r["error"]
    text = "%.1f MiB/s, %.2f s, CPU %.2f s, first %s s, peak RSS %.0f MiB, load %.1f" % (
        r["mibps"], r["wall"], r["cpu"], fmt(r["first"], "%.2f"), r["rss_mib"], r.get("load", 0))
    return text + (" -- VERIFY FAILED: " + r["error"] if r.get("error") else ", verified")


def run_seeding(cfg, payloads, leechers=1):
    """Our seeder against libtorrent's (default and high_performance_seed()), each serving `leechers` libtorrent
    leechers at once that dial it (no tracker: one seeder only; with several leechers they may also trade among
    themselves through PEX, alike for every seeder). Rate = leechers x payload / time until the last one finished;
    seeder CPU = its /proc CPU time over that span. leechers 1 is the seeding case, 4 the swarm's seeding half."""
    pl = payloads["single"]
    cfg.src_dir = pl["dir"]
    tdir = os.path.join(cfg.work, "run")
    os.makedirs(tdir, exist_ok=True)
    torrent = write_torrent(pl["torrent"], os.path.join(tdir, "single-notracker.torrent"), None)
    who_all = ["ours", "libtorrent", "libtorrent-high"] + (["ours-b"] if cfg.cli_b else [])
    seeders = {}
    logs = {}
    rows = []
    tag = "seeding" if leechers == 1 else "swarm-seeding"
    try:
        logs["libtorrent"] = os.path.join(cfg.work, "logs", "%s-libtorrent.log" % tag)
        seeders["libtorrent"] = lt_peer("seed", torrent, pl["dir"], logs["libtorrent"])
        logs["libtorrent-high"] = os.path.join(cfg.work, "logs", "%s-libtorrent-high.log" % tag)
        seeders["libtorrent-high"] = lt_peer("seed", torrent, pl["dir"], logs["libtorrent-high"], SEEDER_KINDS["high"])
        logs["ours"] = os.path.join(cfg.work, "logs", "%s-ours.log" % tag)
        resume = os.path.join(cfg.work, "seed-resume")
        shutil.rmtree(resume, ignore_errors=True)
        seeders["ours"] = spawn("ours-seed", [*cfg.cli, "seed", torrent, pl["dir"], "--bind", "127.0.0.1", "--port", "0",
                                              "--resume", resume], logs["ours"])
        if cfg.cli_b:
            logs["ours-b"] = os.path.join(cfg.work, "logs", "%s-ours-b.log" % tag)
            shutil.rmtree(resume + "-b", ignore_errors=True)
            seeders["ours-b"] = spawn("ours-b-seed", [*cfg.cli_b, "seed", torrent, pl["dir"], "--bind", "127.0.0.1", "--port", "0",
                                                      "--resume", resume + "-b"], logs["ours-b"])
            wait_for(lambda: re.search(r"^seeding ", read(logs["ours-b"]), re.M), 600, "our seeder b to verify", seeders["ours-b"])
        for who in ("libtorrent", "libtorrent-high"):
            wait_for(lambda: lt_seeding(logs[who]), 600, who + " seeder", seeders[who])
        wait_for(lambda: re.search(r"^seeding ", read(logs["ours"]), re.M), 600, "our seeder to verify", seeders["ours"])
        ports = {"libtorrent": lt_port(logs["libtorrent"]), "libtorrent-high": lt_port(logs["libtorrent-high"]),
                 "ours": cli_listening(logs["ours"])}
        if cfg.cli_b:
            ports["ours-b"] = cli_listening(logs["ours-b"])
        print("[%s] seeders ready: %s" % (tag, ports), flush=True)
        for run in range(cfg.runs):
            for who in who_all[run % len(who_all):] + who_all[:run % len(who_all)]:
                if time.monotonic() > cfg.deadline:
                    break
                sp = seeders[who]
                cpu0 = proc_cpu_seconds(sp.pid)
                outs = [os.path.join(cfg.work, "dl-seedcase-%d" % i) for i in range(leechers)]
                llogs = [os.path.join(cfg.work, "logs", "%s-%s-%d-%d.log" % (tag, who, run, i)) for i in range(leechers)]
                for out in outs:
                    shutil.rmtree(out, ignore_errors=True)
                    os.makedirs(out)
                t0 = time.monotonic()
                ps = [spawn("libtorrent-leech", ["/usr/bin/python3", LT_PEER, "--mode", "download", "--torrent", torrent,
                                                 "--save", out, "--interval", "0.05", "--max-seconds", str(int(cfg.timeout)),
                                                 "--peer", "127.0.0.1:%d" % ports[who]], log) for out, log in zip(outs, llogs)]
                try:
                    for p, log in zip(ps, llogs):
                        wait_for(lambda: '"event": "finished"' in read(log), max(1, t0 + cfg.timeout - time.monotonic()),
                                 "leecher from %s seeder" % who, p)
                    wall = time.monotonic() - t0
                    cpu = proc_cpu_seconds(sp.pid) - cpu0
                    # What the leechers spent, and what they passed each other (PEX lets them meet): on two cores the
                    # leechers' CPU bounds the rate any seeder can reach.
                    leech_cpu = sum(proc_cpu_seconds(p.pid) for p in ps)
                    traded = sum(lt_uploaded(log) for log in llogs)
                    for p in ps:
                        stop(p)
                    err = next((e for e in (verify(pl["dir"], out) for out in outs) if e), None)
                    total = cfg.size * leechers
                    r = {"client": who, "wall": wall, "mibps": total / MiB / wall, "cpu": cpu,
                         "cpu_per_gib": cpu / (total / GiB), "leech_cpu_per_gib": leech_cpu / (total / GiB),
                         "traded_mib": traded / MiB, "error": err, "load": os.getloadavg()[0]}
                    cfg.loads.append(r["load"])
                except RuntimeError as e:
                    for p in ps:
                        stop(p)
                    r = {"client": who, "error": str(e)}
                for out in outs:
                    shutil.rmtree(out, ignore_errors=True)
                rows.append(r)
                print("[%s run %d] %-15s %s" % (tag, run + 1, who, "FAILED: " + r["error"] if "wall" not in r else
                                                "%.1f MiB/s, seeder CPU %.2f s, leechers %.2f CPU s per GiB, %.0f MiB among themselves, load %.1f%s" % (
                                                    r["mibps"], r["cpu"], r["leech_cpu_per_gib"], r["traded_mib"], r["load"], ", verified" if not r["error"] else " VERIFY FAILED " + r["error"])),
                      flush=True)
    finally:
        for p in seeders.values():
            stop(p)
    title = ("Seeding to a libtorrent leecher, single file (%s), median of %d" % (human(cfg.size), cfg.runs)) if leechers == 1 else \
        ("Seeding to %d libtorrent leechers at once, single file (%s each), median of %d" % (leechers, human(cfg.size), cfg.runs))
    lines = ["### " + title, "",
             "| seeder | ok runs | MiB/s%s | seeder CPU s per GiB | leechers' CPU s per GiB | MiB the leechers passed each other |"
             % (" (all leechers)" if leechers > 1 else ""), "|---|---|---|---|---|---|"]
    med = {}
    for who in who_all:
        ok = [r for r in rows if r["client"] == who and not r.get("error")]
        med[who] = (median([r["mibps"] for r in ok]), median([r["cpu_per_gib"] for r in ok]))
        name = {"libtorrent": "libtorrent (default)", "libtorrent-high": "libtorrent (high_performance_seed)",
                "ours-b": "ours, build b (--cli-b)"}.get(who, who)
        lines.append("| %s | %d/%d | %s | %s | %s | %s |" % (
            name, len(ok), len([r for r in rows if r["client"] == who]), fmt(med[who][0]), fmt(med[who][1], "%.2f"),
            fmt(median([r["leech_cpu_per_gib"] for r in ok]), "%.2f"), fmt(median([r["traded_mib"] for r in ok]), "%.0f")))
    cfg.summary[tag] = med
    target = 1.0 if leechers == 1 else 1.2
    for ref in ("libtorrent", "libtorrent-high"):
        if med["ours"][0] and med[ref][0]:
            lines += ["", "ours / %s: rate **%.2f x** (target >= %.1f), seeder CPU **%.2f x**%s"
                      % (ref, med["ours"][0] / med[ref][0], target, med["ours"][1] / med[ref][1],
                         " (target <= 1.0)" if leechers == 1 else "")]
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
    """Full recheck of the page-cache-warm payload: `torrentedge-cli verify` with one thread and with every
    core, libtorrent's check at start-up (a fresh seeder, timed until it seeds), and openssl's SHA-1."""
    pl = payloads["single"]
    tdir = os.path.join(cfg.work, "run")
    torrent = write_torrent(pl["torrent"], os.path.join(tdir, "single-notracker.torrent"), None)
    subprocess.run(["cat", os.path.join(pl["dir"], "payload.bin")], stdout=subprocess.DEVNULL, timeout=600)
    cores = os.cpu_count() or 1
    who_all = ["ours-1", "ours-%d" % cores, "libtorrent"]
    rows = []
    for run in range(cfg.runs):
        for who in who_all[run % 3:] + who_all[:run % 3]:
            if time.monotonic() > cfg.deadline:
                break
            log = os.path.join(cfg.work, "logs", "recheck-%s-%d.log" % (who, run))
            t0 = time.monotonic()
            if who.startswith("ours"):
                p = spawn("ours-verify", [*cfg.cli, "verify", torrent, pl["dir"], "--json", "--threads", who.split("-")[1]], log)
                ready = lambda: p.poll() is not None
            else:
                resume = os.path.join(cfg.work, "recheck-resume")
                shutil.rmtree(resume, ignore_errors=True)
                p = lt_peer("seed", torrent, pl["dir"], log)
                ready = lambda: lt_seeding(log)
            try:
                wait_for(ready, cfg.timeout, "%s recheck" % who, None)
                wall = time.monotonic() - t0
                if who.startswith("ours"):
                    if p.returncode != 0:
                        raise RuntimeError("verify exit code %s: %s" % (p.returncode, read(log)[-300:]))
                    j = json_line(log, "verify")
                    children.pop(p.pid, None)
                    record_pids()
                    rows.append({"client": who, "wall": wall, "mibps_wall": cfg.size / MiB / wall,
                                 "mibps": j["mib_per_s"], "cpu": j["cpu_s"]})
                else:
                    cpu = proc_cpu_seconds(p.pid)
                    rows.append({"client": who, "wall": wall, "mibps_wall": cfg.size / MiB / wall, "mibps": None, "cpu": cpu})
            except (RuntimeError, TypeError, KeyError) as e:
                rows.append({"client": who, "error": str(e)})
            stop(p)
            r = rows[-1]
            print("[recheck run %d] %-10s %s" % (run + 1, who, "FAILED: " + r["error"] if "error" in r else
                                                 "%s MiB/s hashing, %.1f MiB/s from process start, CPU %.2f s"
                                                 % (fmt(r["mibps"]), r["mibps_wall"], r["cpu"])), flush=True)
    one = openssl_sha1(1)
    both = openssl_sha1(cores)
    print("[recheck] openssl speed -evp sha1: %s MiB/s on one core, %s MiB/s on %d" % (fmt(one), fmt(both), cores), flush=True)
    lines = ["### Recheck of %s on disk (page cache warm), median of %d" % (human(cfg.size), cfg.runs), "",
             "| checker | ok runs | MiB/s (hashing) | MiB/s (from process start) | CPU s | vs openssl 1 core | vs openssl %d cores |" % cores,
             "|---|---|---|---|---|---|---|"]
    med = {}
    for who in who_all:
        ok = [r for r in rows if r["client"] == who and "error" not in r]
        m = median([r["mibps"] for r in ok])
        mw = median([r["mibps_wall"] for r in ok])
        med[who] = m if m is not None else mw
        c = median([r["cpu"] for r in ok])
        name = {"ours-1": "ours, `verify --threads 1`", "libtorrent": "libtorrent (seeder start-up check)"}.get(
            who, "ours, `verify --threads %s`" % who.split("-")[-1])
        lines.append("| %s | %d/%d | %s | %s | %s | %s | %s |" % (
            name, len(ok), len([r for r in rows if r["client"] == who]), fmt(m), fmt(mw), fmt(c, "%.2f"),
            fmt(med[who] / one * 100 if med[who] and one else None, "%.0f%%"),
            fmt(med[who] / both * 100 if med[who] and both else None, "%.0f%%")))
    lines.append("| openssl speed -evp sha1 (16 KiB blocks) | | %s (1 core), %s (%d processes) | | | 100%% | 100%% |"
                 % (fmt(one), fmt(both), cores))
    lines += ["", "Targets: one thread >= 90%% of openssl on one core; %d threads nearly %d x that. \"hashing\" is "
              "the rate `verify` measures around the recheck itself; \"from process start\" includes the runtime "
              "start-up (libtorrent: until its seeder reports seeding)." % (cores, cores)]
    cfg.summary["recheck"] = {"one": med.get("ours-1"), "all": med.get("ours-%d" % cores), "openssl1": one, "openssl_all": both}
    for r in rows:
        if r.get("error"):
            lines.append("- %s failed: %s" % (r["client"], r["error"]))
    return lines


def prepare_scale(work, count, size):
    """`count` single-file torrents of `size` random bytes each (16 KiB pieces, no tracker), made once per shape."""
    base = os.path.join(work, "scale-%d-%d" % (count, size))
    data, tdir = os.path.join(base, "data"), os.path.join(base, "torrents")
    if not os.path.exists(base + ".ok"):
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(data)
        os.makedirs(tdir)
        plen = 16 * 1024
        for i in range(count):
            name = "t%05d.bin" % i
            blob = os.urandom(size)
            with open(os.path.join(data, name), "wb") as f:
                f.write(blob)
            pieces = b"".join(hashlib.sha1(blob[o:o + plen]).digest() for o in range(0, size, plen))
            meta = {b"info": {b"name": name.encode(), b"length": size, b"piece length": plen, b"pieces": pieces}}
            with open(os.path.join(tdir, "t%05d.torrent" % i), "wb") as f:
                f.write(bencode(meta))
        with open(base + ".ok", "w") as f:
            f.write("ok\n")
    return data, tdir


def proc_rss_mib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None  # the process is gone
    return None


def run_scale(cfg):
    """1,000 idle torrents in one engine (start-up from resume data, RSS), then 1,000 concurrent incoming peer
    connections to it from other processes on 127.0.x.y addresses (handshakes per second, errors)."""
    data, tdir = prepare_scale(cfg.work, cfg.scale_torrents, cfg.scale_size)
    resume = os.path.join(cfg.work, "scale-resume")
    shutil.rmtree(resume, ignore_errors=True)
    base_args = [*cfg.cli, "seed-many", tdir, data, "--bind", "127.0.0.1", "--port", "0", "--resume", resume,
                 "--max-connections", str(cfg.scale_connections + 100)]
    lines = ["### Scale: %d idle torrents in one engine, %d concurrent incoming connections" % (cfg.scale_torrents, cfg.scale_connections), ""]
    results = {}
    errors = []
    # 1. Cold start (no resume data: every torrent is checked), ends by itself and saves resume data.
    log = os.path.join(cfg.work, "logs", "scale-cold.log")
    p = spawn("seed-many-cold", base_args + ["--duration", "1", "--timeout", str(int(cfg.timeout))], log)
    try:
        wait_for(lambda: p.poll() is not None, cfg.timeout, "seed-many (cold) to finish", None)
        cold = json_line(log, "seed-many")
        results["cold"] = cold
        print("[scale] cold start: %s" % cold, flush=True)
    except RuntimeError as e:
        errors.append("cold start: %s" % e)
    finally:
        stop(p)
    # 2. Warm start from resume data; it keeps running for the connection test.
    log = os.path.join(cfg.work, "logs", "scale-warm.log")
    p = spawn("seed-many", base_args + ["--timeout", str(int(cfg.timeout + 60))], log)
    try:
        warm = wait_for(lambda: json_line(log, "seed-many"), cfg.timeout, "seed-many (resume data) to seed", p)
        time.sleep(2)
        warm["idle_rss_mib"] = proc_rss_mib(p.pid)
        warm["idle_cpu_s"] = proc_cpu_seconds(p.pid)
        results["warm"] = warm
        print("[scale] start from resume data: %s" % warm, flush=True)
        port = cli_listening(log)
        # 3. Connections from other processes, each from its own range of loopback addresses.
        gens = []
        per = cfg.scale_connections // cfg.scale_procs
        torrent = os.path.join(tdir, "t%05d.torrent" % 0)
        cpu0 = proc_cpu_seconds(p.pid)
        for k in range(cfg.scale_procs):
            glog = os.path.join(cfg.work, "logs", "scale-loadgen-%d.log" % k)
            gp = spawn("loadgen", [*cfg.cli, "loadgen", "127.0.0.1:%d" % port, torrent, "--connections", str(per),
                                   "--source-base", "127.0.%d.1" % (k + 1), "--sources", "100", "--concurrency", "64",
                                   "--hold", "3", "--json", "--timeout", str(int(cfg.timeout))], glog)
            gens.append((gp, glog))
        peak_peers = 0
        deadline = time.monotonic() + cfg.timeout
        while any(gp.poll() is None for gp, _ in gens) and time.monotonic() < deadline:
            m = re.findall(r"^peers (\d+)$", read(log), re.M)
            time.sleep(0.1)
        for gp, _ in gens:
            stop(gp)
        m = [int(x) for x in re.findall(r"^peers (\d+)$", read(log), re.M)]
        peak_peers = max(m) if m else None
        outs = [json_line(glog, "loadgen") for _, glog in gens]
        if all(outs):
            hs = sum(o["handshakes"] for o in outs)
            secs = max(o["connect_s"] for o in outs)
            results["conn"] = {"handshakes": hs, "rate": hs / secs if secs else None, "errors": sum(o["errors"] for o in outs),
                               "dropped": sum(o["dropped"] for o in outs), "peak_peers": peak_peers,
                               "engine_rss_mib": proc_rss_mib(p.pid), "engine_cpu_s": proc_cpu_seconds(p.pid) - cpu0,
                               "kinds": "; ".join(o["error_kinds"] for o in outs if o["error_kinds"])}
            print("[scale] connections: %s" % results["conn"], flush=True)
        else:
            errors.append("load generator output missing: " + " | ".join(read(g)[-300:] for _, g in gens))
    except RuntimeError as e:
        errors.append(str(e))
    finally:
        stop(p)
    cold, warm, conn = results.get("cold") or {}, results.get("warm") or {}, results.get("conn") or {}
    lines += ["| measure | result | target |", "|---|---|---|",
              "| torrents seeding (of %d) | %s | all |" % (cfg.scale_torrents, warm.get("seeding", "n/a")),
              "| start-up, no resume data (check every torrent) | %s s | |" % fmt(cold.get("ready_s"), "%.2f"),
              "| start-up from resume data (process start to all seeding) | %s s | <= 5 s |" % fmt(warm.get("ready_s"), "%.2f"),
              "| RSS idle, %d torrents | %s MiB (peak %s) | <= 200 MiB |" % (cfg.scale_torrents, fmt(warm.get("idle_rss_mib"), "%.0f"), fmt(warm.get("peak_rss_mib"), "%.0f")),
              "| concurrent connections: handshakes completed | %s of %d (%d processes) | all |" % (conn.get("handshakes", "n/a"), cfg.scale_connections, cfg.scale_procs),
              "| handshakes per second | %s | >= 5,000 |" % fmt(conn.get("rate"), "%.0f"),
              "| errors / dropped by the engine | %s / %s | 0 |" % (conn.get("errors", "n/a"), conn.get("dropped", "n/a")),
              "| peers the engine counted (peak) | %s | |" % conn.get("peak_peers", "n/a"),
              "| engine RSS with the connections | %s MiB | |" % fmt(conn.get("engine_rss_mib"), "%.0f"),
              "| engine CPU for the connection phase | %s s | |" % fmt(conn.get("engine_cpu_s"), "%.2f")]
    if conn.get("kinds"):
        lines.append("- load generator errors: " + conn["kinds"])
    for e in errors:
        lines.append("- failed: " + e)
    cfg.summary["scale"] = {"ready": warm.get("ready_s"), "rss": warm.get("idle_rss_mib"), "rate": conn.get("rate"),
                            "errors": None if not conn else conn["errors"] + conn["dropped"], "handshakes": conn.get("handshakes")}
    return lines


def summary_table(cfg):
    """Issue 6's targets against this run, as one markdown table (for the README's performance section)."""
    sm = cfg.summary
    rows = []

    def ratio(a, b):
        return a / b if a is not None and b else None

    def verdict(v, ok):
        return "n/a" if v is None else ("yes" if ok(v) else "**no**")

    for (layout, kind), s in (sm.get("download") or {}).items():
        ours, lt = s.get("ours") or {}, s.get("libtorrent") or {}
        label = ("single file" if layout == "single" else "35 files") + (", hp seeder" if kind == "high" else "")
        r = ratio(ours.get("mibps"), lt.get("mibps"))
        rows.append("| download %s: rate vs libtorrent | %s MiB/s vs %s | %s x | >= 1.3 x | %s |" % (
            label, fmt(ours.get("mibps")), fmt(lt.get("mibps")), fmt(r, "%.2f"), verdict(r, lambda v: v >= 1.3)))
        c = ratio(ours.get("cpu_per_gib"), lt.get("cpu_per_gib"))
        rows.append("| download %s: CPU s per GiB vs libtorrent | %s vs %s | %s x | <= 0.5 x | %s |" % (
            label, fmt(ours.get("cpu_per_gib"), "%.2f"), fmt(lt.get("cpu_per_gib"), "%.2f"), fmt(c, "%.2f"), verdict(c, lambda v: v <= 0.5)))
        f = ours.get("first")
        rows.append("| download %s: first piece | %s s (libtorrent %s s) | | <= 0.2 s | %s |" % (
            label, fmt(f, "%.2f"), fmt(lt.get("first"), "%.2f"), verdict(f, lambda v: v <= 0.2)))
        m = ours.get("rss_mib")
        rows.append("| download %s: peak RSS | %s MiB | | <= 64 MiB | %s |" % (label, fmt(m, "%.0f"), verdict(m, lambda v: v <= 64)))
    if sm.get("seeding"):
        for ref, name in (("libtorrent", "libtorrent seeder"), ("libtorrent-high", "hp libtorrent seeder")):
            (om, oc), (lm, lc) = sm["seeding"].get("ours", (None, None)), sm["seeding"].get(ref, (None, None))
            r, c = ratio(om, lm), ratio(oc, lc)
            rows.append("| seeding: rate vs %s | %s MiB/s vs %s | %s x | >= 1.0 x | %s |" % (name, fmt(om), fmt(lm), fmt(r, "%.2f"), verdict(r, lambda v: v >= 1.0)))
            rows.append("| seeding: CPU s per GiB vs %s | %s vs %s | %s x | <= 1.0 x | %s |" % (name, fmt(oc, "%.2f"), fmt(lc, "%.2f"), fmt(c, "%.2f"), verdict(c, lambda v: v <= 1.0)))
    for (layout, kind), s in (sm.get("swarm-download") or {}).items():
        ours, lt = s.get("ours") or {}, s.get("libtorrent") or {}
        r = ratio(ours.get("mibps"), lt.get("mibps"))
        rows.append("| swarm: download %s from 4 %s seeders | %s MiB/s vs %s | %s x | >= 1.2 x | %s |" % (
            "single file" if layout == "single" else "35 files", "hp" if kind == "high" else "default",
            fmt(ours.get("mibps")), fmt(lt.get("mibps")), fmt(r, "%.2f"), verdict(r, lambda v: v >= 1.2)))
    if sm.get("swarm-seeding"):
        for ref, name in (("libtorrent", "libtorrent seeder"), ("libtorrent-high", "hp libtorrent seeder")):
            om, lm = sm["swarm-seeding"].get("ours", (None, None))[0], sm["swarm-seeding"].get(ref, (None, None))[0]
            r = ratio(om, lm)
            rows.append("| swarm: seeding to 4 leechers vs %s | %s MiB/s vs %s | %s x | >= 1.2 x | %s |" % (name, fmt(om), fmt(lm), fmt(r, "%.2f"), verdict(r, lambda v: v >= 1.2)))
    if sm.get("recheck"):
        rc = sm["recheck"]
        r1, ra = ratio(rc["one"], rc["openssl1"]), ratio(rc["all"], rc["openssl1"])
        rows.append("| recheck, 1 thread vs openssl 1 core | %s vs %s MiB/s | %s | >= 90%% | %s |" % (
            fmt(rc["one"]), fmt(rc["openssl1"]), fmt(r1 * 100 if r1 else None, "%.0f%%"), verdict(r1, lambda v: v >= 0.9)))
        rows.append("| recheck, all cores vs openssl 1 core | %s MiB/s | %s | nearly 2 x | %s |" % (
            fmt(rc["all"]), fmt(ra, "%.2f x"), verdict(ra, lambda v: v >= 1.7)))
    if sm.get("scale"):
        sc = sm["scale"]
        rows.append("| %d torrents: start-up from resume data | %s s | | <= 5 s | %s |" % (cfg.scale_torrents, fmt(sc["ready"], "%.2f"), verdict(sc["ready"], lambda v: v <= 5)))
        rows.append("| %d torrents: RSS idle | %s MiB | | <= 200 MiB | %s |" % (cfg.scale_torrents, fmt(sc["rss"], "%.0f"), verdict(sc["rss"], lambda v: v <= 200)))
        rows.append("| %d connections: handshakes per second | %s | | >= 5,000 | %s |" % (cfg.scale_connections, fmt(sc["rate"], "%.0f"), verdict(sc["rate"], lambda v: v >= 5000)))
        rows.append("| %d connections: errors + drops | %s | | 0 | %s |" % (cfg.scale_connections, sc["errors"] if sc["errors"] is not None else "n/a",
                                                                      verdict(sc["errors"], lambda v: v == 0 and sc["handshakes"] == cfg.scale_connections)))
    if not rows:
        return []
    return ["### Summary against issue 17's targets (paste into the README)", "",
            "| measure | ours (vs reference) | ratio | target | met |", "|---|---|---|---|---|"] + rows + [""]


# ---------------------------------------------------------------- machine limits

def iperf3_loopback():
    """One iperf3 stream over 127.0.0.1 for 3 s: MiB/s received, or None without iperf3."""
    if not shutil.which("iperf3"):
        return None
    port = free_port()
    log = os.path.join(CFG_WORK[0], "logs", "iperf3-server.log")
    server = spawn("iperf3-server", ["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)], log)
    try:
        time.sleep(0.3)
        out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-B", "127.0.0.1", "-p", str(port), "-t", "3", "-J"],
                             capture_output=True, text=True, timeout=30).stdout
        return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 8 / MiB
    except (subprocess.TimeoutExpired, ValueError, KeyError):
        return None
    finally:
        stop(server)


def dd_fdatasync(work, mib):
    """`dd if=/dev/zero bs=1M count=mib conv=fdatasync` into the work folder: MiB/s as dd reports it."""
    path = os.path.join(work, "dd-test.bin")
    try:
        t0 = time.monotonic()
        subprocess.run(["dd", "if=/dev/zero", "of=" + path, "bs=1M", "count=%d" % mib, "conv=fdatasync"],
                       capture_output=True, text=True, timeout=300, check=True)
        return mib / (time.monotonic() - t0)
    except (subprocess.SubprocessError, OSError):
        return None
    finally:
        if os.path.exists(path):
            os.remove(path)


CFG_WORK = [None]


def machine_limits(cfg):
    CFG_WORK[0] = cfg.work
    mib = 256 if cfg.quick else 1024
    limits = {"sha1": openssl_sha1(1), "loopback": iperf3_loopback(), "disk": dd_fdatasync(cfg.work, mib), "dd_mib": mib}
    print("machine limits: SHA-1 %s MiB/s (one core), loopback TCP %s MiB/s, disk with fdatasync %s MiB/s; load %.1f"
          % (fmt(limits["sha1"]), fmt(limits["loopback"]), fmt(limits["disk"]), os.getloadavg()[0]), flush=True)
    cfg.limits = limits
    return limits


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True, help="path to the built torrentedge-cli (apphost) or .dll")
    ap.add_argument("--cli-b", default=None, help="a second build, run as client and seeder \"ours-b\" (A/B in one run)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 64M payloads, 1 run, 100 torrents and 200 connections, short time limits")
    ap.add_argument("--size", type=parse_size, default=None, help="payload size (default 1G; e.g. 256M for a quick run)")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--work", default="/tmp/torrentedge-bench")
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--timeout", type=float, default=None, help="seconds allowed per transfer (default 300)")
    ap.add_argument("--max-minutes", type=float, default=None, help="the whole run stops starting new transfers after this (default 90)")
    ap.add_argument("--cases", default="download,seeding,swarm,recheck,scale",
                    help="download, seeding, swarm (4 seeders to one leecher, one seeder to 4 leechers; swarm-download or swarm-seeding for one half), recheck, scale")
    ap.add_argument("--seeders", default="default,high",
                    help="libtorrent seeders in the download and swarm cases: default settings, high_performance_seed()")
    ap.add_argument("--swarm-size", type=int, default=4, help="seeders / leechers in the swarm case")
    ap.add_argument("--scale-torrents", type=int, default=None, help="torrents in the scale case (default 1000)")
    ap.add_argument("--scale-size", type=parse_size, default=parse_size("64K"), help="bytes per scale torrent (default 64K)")
    ap.add_argument("--scale-connections", type=int, default=None, help="concurrent connections in the scale case (default 1000)")
    ap.add_argument("--scale-procs", type=int, default=2, help="load generator processes")
    ap.add_argument("--layouts", default="single,multi")
    ap.add_argument("--clients", default="ours,libtorrent,aria2")
    cfg = ap.parse_args()
    quick = cfg.quick
    for name, full, small in (("size", GiB, 64 * MiB), ("runs", 5, 1), ("timeout", 300, 120), ("max_minutes", 90, 15),
                              ("scale_torrents", 1000, 100), ("scale_connections", 1000, 200)):
        if getattr(cfg, name) is None:
            setattr(cfg, name, small if quick else full)
    cfg.summary = {}
    cfg.loads = []
    cfg.cli = [cfg.cli] if not cfg.cli.endswith(".dll") else ["dotnet", cfg.cli]
    if cfg.cli_b:
        cfg.cli_b = [cfg.cli_b] if not cfg.cli_b.endswith(".dll") else ["dotnet", cfg.cli_b]
    cfg.deadline = time.monotonic() + cfg.max_minutes * 60
    os.makedirs(os.path.join(cfg.work, "logs"), exist_ok=True)
    global pidfile
    pidfile = os.path.join(cfg.work, "pids")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    started = datetime.datetime.now(datetime.timezone.utc)
    load0 = os.getloadavg()
    sections = []
    limits = {}
    interrupted = False
    try:
        cases = cfg.cases.split(",")
        limits = machine_limits(cfg)
        payloads = prepare_payloads(cfg.work, cfg.size) if {"download", "seeding", "swarm", "swarm-download", "swarm-seeding", "recheck"} & set(cases) else None
        # "swarm" is both halves; "swarm-download" and "swarm-seeding" run one of them.
        swarm_download = "swarm" in cases or "swarm-download" in cases
        swarm_seeding = "swarm" in cases or "swarm-seeding" in cases
        if "download" in cases or swarm_download:
            tracker = Tracker(cfg.work, [info_hash(p["torrent"]) for p in payloads.values()])
            try:
                print("opentracker on %s (pid %d)" % (tracker.announce, tracker.proc.pid), flush=True)
                if "download" in cases:
                    sections += run_downloads(cfg, payloads, tracker.announce, cfg.layouts.split(","), cfg.clients.split(","),
                                              cfg.seeders.split(","))
                if swarm_download:
                    sections += run_downloads(cfg, payloads, tracker.announce, cfg.layouts.split(","),
                                              [c for c in cfg.clients.split(",") if c in ("ours", "libtorrent", "ours-b")],
                                              cfg.seeders.split(","), count=cfg.swarm_size)
            finally:
                stop(tracker.proc)
        if "seeding" in cases:
            sections.append(run_seeding(cfg, payloads))
        if swarm_seeding:
            sections.append(run_seeding(cfg, payloads, leechers=cfg.swarm_size))
        if "recheck" in cases:
            sections.append(run_recheck(cfg, payloads))
        if "scale" in cases:
            sections.append(run_scale(cfg))
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
              "- our CLI: %s" % ("Native AOT" if not os.path.exists(os.path.join(os.path.dirname(cfg.cli[-1]), "torrentedge-cli.dll"))
                                 else "JIT (Native AOT build failed)"),
              "- payload %s of random data in 1 MiB pieces, libtorrent 2.0.8 seeder, opentracker over HTTP, all on 127.0.0.1"
              % human(cfg.size),
              "- machine limits, measured at the start: SHA-1 %s MiB/s on one core (`openssl speed -evp sha1`, 16 KiB blocks); "
              "loopback TCP %s MiB/s (iperf3, one stream, 3 s); disk writes %s MiB/s (`dd bs=1M count=%d conv=fdatasync` in %s)"
              % (fmt(limits.get("sha1")), fmt(limits.get("loopback")), fmt(limits.get("disk")), limits.get("dd_mib", 0), cfg.work),
              ("- load average (1 min) after each transfer: min %.1f, median %.1f, max %.1f over %d transfers"
               % (min(cfg.loads), median(cfg.loads), max(cfg.loads), len(cfg.loads))) if cfg.loads else "- load averages: n/a",
              "- figures are valid only on an otherwise idle machine (load average well below the core count); "
              "ratios come from one run with the clients alternating", ""]
    text = "\n".join(header + summary_table(cfg) + [l for s in sections for l in s + [""]])
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
