#!/usr/bin/env bash
# Rebuilds the seed corpus in corpus/<target>/: small valid samples of what each parser reads. The files are kept in
# the repository (fuzz.sh and Engine.Tests read them); rerun this only to change the seeds. Needs mktorrent, python3.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Seeds named crash-* are inputs that once broke a parser (kept as regression seeds): they stay.
find corpus -type f ! -name "crash-*" -delete 2>/dev/null || true
mkdir -p corpus/{bencode,metainfo,peer-messages,handshake,extension-handshake,metadata-message,pex-message,http-tracker,udp-tracker,krpc}

# KRPC (the DHT, BEP 5): the BEP's examples of each query, answers with values, nodes, and an error.
printf 'd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe' >corpus/krpc/ping.bin
printf 'd1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe' >corpus/krpc/find_node.bin
printf 'd1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe' >corpus/krpc/get_peers.bin
printf 'd1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe' >corpus/krpc/announce_peer.bin
printf 'd1:rd2:id20:0123456789abcdefghij5:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re' >corpus/krpc/get_peers_values.bin
printf 'd1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee' >corpus/krpc/error.bin
/usr/bin/python3 -c "
import sys
nodes = b''.join(bytes([i] * 20) + bytes([127, 0, 0, i]) + bytes([0x1a, 0xe1]) for i in range(1, 9))
sys.stdout.buffer.write(b'd1:rd2:id20:mnopqrstuvwxyz1234565:nodes%d:%se1:t2:aa1:y1:re' % (len(nodes), nodes))" >corpus/krpc/find_node_nodes.bin

# .torrent files from mktorrent (v1): one file, several files with one empty, a private one with tiers.
mkdir -p "$tmp/single" "$tmp/multi/sub"
head -c 40000 /dev/zero | tr '\0' 'a' >"$tmp/single/file.bin"
printf 'hello\n' >"$tmp/multi/a.txt"; : >"$tmp/multi/empty"; head -c 20000 /dev/zero | tr '\0' 'b' >"$tmp/multi/sub/b.bin"
mktorrent -d -l 15 -a http://127.0.0.1:6969/announce -o corpus/metainfo/single.torrent "$tmp/single/file.bin" >/dev/null
mktorrent -d -l 15 -a http://127.0.0.1:6969/announce -c "multi-file" -o corpus/metainfo/multi.torrent "$tmp/multi" >/dev/null
mktorrent -d -l 15 -p -a udp://127.0.0.1:6969/announce,http://127.0.0.1:6969/announce -a http://127.0.0.2/announce \
  -o corpus/metainfo/private-tiers.torrent "$tmp/multi" >/dev/null

SEEDS="$PWD/corpus" /usr/bin/python3 - <<'PY'
import os, struct
root = os.environ["SEEDS"]
def put(target, name, data):
    with open(os.path.join(root, target, name), "wb") as f: f.write(data)

def benc(v):
    if isinstance(v, int): return b"i%de" % v
    if isinstance(v, str): v = v.encode()
    if isinstance(v, bytes): return b"%d:%s" % (len(v), v)
    if isinstance(v, list): return b"l" + b"".join(benc(x) for x in v) + b"e"
    if isinstance(v, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, x) for k, x in v.items())
        return b"d" + b"".join(benc(k) + benc(x) for k, x in items) + b"e"
    raise TypeError(v)

# bencode: every kind of value, nesting, and the edges of integers.
put("bencode", "int.bin", b"i-9223372036854775808e")
put("bencode", "string.bin", b"12:hello world!")
put("bencode", "list.bin", benc([1, "two", [3, [b""]], {"k": 0}]))
put("bencode", "dict.bin", benc({"a": 1, "b": "x", "c": {"d": [1, 2, 3]}, "e": b"\x00\xff"}))
put("bencode", "deep.bin", b"l" * 20 + b"i0e" + b"e" * 20)

# metainfo: an info dictionary on its own (as BEP 9 delivers it) beside the mktorrent files.
info = {"name": "x.bin", "piece length": 16384, "length": 100, "pieces": b"\x11" * 20}
put("metainfo", "info-only.bin", benc(info))
put("metainfo", "hybrid.torrent", benc({"announce": "http://127.0.0.1/a", "info": dict(info, **{"meta version": 2, "file tree": {"x.bin": {"": {"length": 100}}}})}))

# peer messages: a stream of every message kind. Byte 0 is the target's own (segment cut, limits).
def msg(i, body=b""): return struct.pack(">IB", 1 + len(body), i) + body
stream = (struct.pack(">I", 0) + msg(0) + msg(1) + msg(2) + msg(3) + msg(4, struct.pack(">I", 7))
          + msg(5, b"\xff\xf0") + msg(6, struct.pack(">III", 1, 0, 16384)) + msg(7, struct.pack(">II", 1, 0) + b"data")
          + msg(8, struct.pack(">III", 1, 0, 16384)) + msg(9, struct.pack(">H", 6881)) + msg(13, struct.pack(">I", 3))
          + msg(14) + msg(15) + msg(16, struct.pack(">III", 1, 0, 16384)) + msg(17, struct.pack(">I", 2))
          + msg(20, b"\x00" + benc({"m": {"ut_metadata": 2}})) + msg(99, b"unknown"))
put("peer-messages", "all-kinds.bin", b"\x05" + stream)
put("peer-messages", "bitfield-12.bin", b"\x0c" + msg(5, b"\xff\xf0") + msg(2))
put("peer-messages", "partial.bin", b"\x00" + msg(7, struct.pack(">II", 0, 0) + b"x" * 40)[:-10])

# handshake: BEP 3 with the extension and fast bits set.
hs = b"\x13BitTorrent protocol" + bytes([0, 0, 0, 0, 0, 0x10, 0, 0x04]) + bytes(range(20)) + b"-TE0100-abcdefghijkl"
put("handshake", "handshake.bin", hs)
put("handshake", "handshake-then-bitfield.bin", hs + msg(5, b"\x80"))

# extension handshake (BEP 10) bodies.
put("extension-handshake", "libtorrent.bin", benc({"m": {"ut_metadata": 2, "ut_pex": 1, "lt_donthave": 7}, "v": "libtorrent 2.0.8", "p": 6881,
    "reqq": 500, "metadata_size": 31235, "yourip": b"\x7f\x00\x00\x01", "complete_ago": 1}))
put("extension-handshake", "ipv6.bin", benc({"m": {"ut_metadata": 0}, "yourip": b"\x00" * 15 + b"\x01", "v": "Transmission 3.00"}))

# ut_metadata (BEP 9): request, reject, and data with its piece after the dictionary.
put("metadata-message", "request.bin", benc({"msg_type": 0, "piece": 0}))
put("metadata-message", "reject.bin", benc({"msg_type": 2, "piece": 1}))
put("metadata-message", "data-last.bin", benc({"msg_type": 1, "piece": 1, "total_size": 16384 + 10}) + b"0123456789")
put("metadata-message", "data-first.bin", benc({"msg_type": 1, "piece": 0, "total_size": 100}) + b"d" * 100)

# ut_pex (BEP 11): libtorrent-like added with flags and dropped, IPv6 lists, and an empty one.
put("pex-message", "added-dropped.bin", benc({"added": b"\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x02\x1a\xe2", "added.f": b"\x12\x10",
    "dropped": b"\x7f\x00\x00\x03\x1a\xe3"}))
put("pex-message", "ipv6.bin", benc({"added": b"", "added.f": b"", "added6": b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x05\x1a\xe1",
    "added6.f": b"\x01", "dropped": b"", "dropped6": b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x09\x1a\xe2"}))
put("pex-message", "empty.bin", benc({"added": b"", "added.f": b"", "dropped": b""}))

# HTTP tracker answers: compact, dictionary peers, IPv6, failure, scrape.
put("http-tracker", "compact.bin", benc({"interval": 1800, "min interval": 60, "complete": 3, "incomplete": 1, "tracker id": "t1",
    "peers": b"\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x02\x1a\xe2", "peers6": b"\x00" * 15 + b"\x01\x1a\xe1"}))
put("http-tracker", "dict-peers.bin", benc({"interval": 900, "warning message": "slow down",
    "peers": [{"ip": "127.0.0.1", "port": 6881, "peer id": b"x" * 20}, {"ip": "::1", "port": 6882}]}))
put("http-tracker", "failure.bin", benc({"failure reason": "torrent not registered"}))
put("http-tracker", "scrape.bin", benc({"files": {b"\x01" * 20: {"complete": 5, "downloaded": 50, "incomplete": 2}, b"\x02" * 20: {"complete": 0}}}))

# UDP tracker answers (BEP 15), all for the transaction id the target expects.
tid = 0x0BADF00D
put("udp-tracker", "connect.bin", struct.pack(">iiq", 0, tid, 0x1122334455667788))
put("udp-tracker", "announce.bin", struct.pack(">iiiii", 1, tid, 1800, 2, 5) + b"\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x02\x1a\xe2")
put("udp-tracker", "scrape.bin", struct.pack(">ii", 2, tid) + struct.pack(">iii", 5, 50, 2) * 3)
put("udp-tracker", "error.bin", struct.pack(">ii", 3, tid) + b"torrent not registered\x00")
put("udp-tracker", "not-served.bin", struct.pack(">ii", 1, tid))
PY
find corpus -type f | sort
