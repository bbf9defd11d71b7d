using System.Buffers;
using System.Diagnostics;
using System.Net;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.Fuzzing;

/// <summary>
/// The engine's parsers as fuzz targets: each feeds one input to a parser, lets through only the failure that parser
/// documents (a result value or its own exception type), and checks what a parser that accepted the input promised.
/// Anything else escapes as a crash, and so does an input that costs more memory or time than its size allows.
/// </summary>
public static class FuzzTargets
{
    /// <summary>Longer inputs are not run: the parsers' own caps are far above this, and small inputs fuzz faster.</summary>
    public const int MaxInputLength = 64 * 1024;

    /// <summary>Bytes any input may allocate: type initialisers and the minimum sizes of lists and dictionaries.</summary>
    public const long AllocationBase = 512 * 1024;

    /// <summary>
    /// Bytes each input byte may allocate on top of <see cref="AllocationBase"/>. A decoded value costs tens of bytes
    /// against at least two input bytes, so honest parsing stays far below this; a quadratic path does not.
    /// </summary>
    public const int AllocationPerInputByte = 128;

    /// <summary>Longest any one input may take (AFL's own -t timeout catches inputs that never return).</summary>
    public static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(2);

    /// <summary>A transaction id the UDP seeds carry, so mutations mostly reach past the "not ours" check.</summary>
    public const int UdpTransactionId = 0x0BADF00D;

    private static readonly Dictionary<string, Action<byte[]>> Targets = new(StringComparer.Ordinal)
    {
        ["bencode"] = Bencode,
        ["metainfo"] = Metainfo,
        ["peer-messages"] = PeerMessages,
        ["handshake"] = HandshakeTarget,
        ["extension-handshake"] = ExtensionHandshakeTarget,
        ["metadata-message"] = MetadataMessageTarget,
        ["pex-message"] = PexMessageTarget,
        ["http-tracker"] = HttpTracker,
        ["udp-tracker"] = UdpTracker,
        ["krpc"] = Krpc,
    };


    /// <summary>The targets' names, as given on the command line.</summary>
    public static IReadOnlyCollection<string> Names => Targets.Keys;

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>; throws on a crash or a broken budget.</summary>
    public static void Run(string target, ReadOnlySpan<byte> input)
    {
        if (!Targets.TryGetValue(target, out var body)) throw new ArgumentException($"No fuzz target '{target}'.", nameof(target));
        if (input.Length > MaxInputLength) return;
        var bytes = input.ToArray();
        Guard(() => body(bytes), bytes.Length);
    }

    /// <summary>Runs <paramref name="body"/> and throws <see cref="FuzzBudgetException"/> when it allocated or took too much.</summary>
    public static void Guard(Action body, int inputLength)
    {
        ArgumentNullException.ThrowIfNull(body);
        var budget = AllocationBase + ((long)AllocationPerInputByte * inputLength);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        body();
        var elapsed = Stopwatch.GetElapsedTime(started);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        if (allocated > budget)
        {
            throw new FuzzBudgetException($"{allocated:N0} bytes allocated for a {inputLength:N0}-byte input (budget {budget:N0}).");
        }

        if (elapsed > TimeBound) throw new FuzzBudgetException($"{elapsed.TotalMilliseconds:N0} ms for a {inputLength:N0}-byte input.");
    }

    /// <summary>A DHT datagram (BEP 5): decoding never throws; what decodes encodes and decodes back to the same message.</summary>
    private static void Krpc(byte[] input)
    {
        var status = Dht.KrpcCodec.TryDecode(input, out var message, out _);
        if (status != Dht.KrpcDecodeStatus.Ok)
        {
            if (message is not null) throw new FuzzInvariantException($"A message came with status {status}.");
            return;
        }
        if (message is Dht.KrpcQuery { Method: Dht.KrpcMethod.Unknown }) return; // never sent, only answered with 204
        var again = Dht.KrpcCodec.Encode(message!);
        if (Dht.KrpcCodec.TryDecode(again, out var back, out _) != Dht.KrpcDecodeStatus.Ok && again.Length <= Dht.KrpcCodec.MaxMessageLength)
            throw new FuzzInvariantException("A decoded KRPC message does not decode again after encoding.");
        switch (message, back)
        {
            case (Dht.KrpcResponse a, Dht.KrpcResponse b) when a.Values.Count != b.Values.Count || a.Nodes.Count != b.Nodes.Count || a.SenderId != b.SenderId:
                throw new FuzzInvariantException("A KRPC response changed on a round trip.");
            case (Dht.KrpcQuery a, Dht.KrpcQuery b) when a.Method != b.Method || a.InfoHash != b.InfoHash || a.Target != b.Target || a.Port != b.Port:
                throw new FuzzInvariantException("A KRPC query changed on a round trip.");
        }
        if (message is Dht.KrpcResponse r && (r.Values.Count > Dht.KrpcCodec.MaxValues || r.Nodes.Count > Dht.KrpcCodec.MaxNodes))
            throw new FuzzInvariantException("A KRPC response holds more than the caps.");
    }

    private static void Bencode(byte[] input)
    {
        BValue value;
        try
        {
            value = BencodeReader.Decode(input);
        }
        catch (BencodeException)
        {
            value = null!;
        }

        // The strict reader accepts only canonical bencoding, which encodes back to exactly the same bytes.
        if (value is not null && !BencodeWriter.Encode(value).AsSpan().SequenceEqual(input))
        {
            throw new FuzzInvariantException("A strictly decoded value does not encode back to its input.");
        }

        try
        {
            BencodeReader.DecodePrefix(input, out var consumed, new BencodeReaderOptions { RequireSortedKeys = false });
            if (consumed <= 0 || consumed > input.Length) throw new FuzzInvariantException($"DecodePrefix consumed {consumed} of {input.Length}.");
        }
        catch (BencodeException)
        {
        }
    }

    private static void Metainfo(byte[] input)
    {
        try
        {
            Check(TorrentMetainfo.Parse(input));
        }
        catch (MetainfoException)
        {
        }

        // The same bytes as an info dictionary fetched from peers (BEP 9).
        try
        {
            Check(TorrentMetainfo.FromInfoDictionary(input, [["http://tracker.invalid/announce"]]));
        }
        catch (MetainfoException)
        {
        }

        static void Check(TorrentMetainfo m)
        {
            if (m.PieceHashes.Length != m.PieceCount * 20) throw new FuzzInvariantException("Piece hashes do not match the piece count.");
            if (m.Files.Sum(f => f.Length) != m.TotalLength) throw new FuzzInvariantException("File lengths do not add up to the total.");
            var last = m.GetPieceLength(m.PieceCount - 1);
            if (last <= 0 || last > m.PieceLength) throw new FuzzInvariantException($"Last piece length {last}.");
            var paths = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var f in m.Files)
            {
                if (!paths.Add(f.Path)) throw new FuzzInvariantException($"Two files map to '{f.Path}'.");
                if (f.PathSegments.Any(s => s is "" or "." or ".." || s.Contains('/') || s.Contains('\\')))
                {
                    throw new FuzzInvariantException($"An unsafe path segment in '{f.Path}'.");
                }
            }
        }
    }

    private static void PeerMessages(byte[] input)
    {
        if (input.Length == 0) return;
        // The first byte picks where the bytes are cut into two segments, as a pipe hands them over, and whether the
        // bitfield limit is the default or that of a known piece count.
        var sequence = Split(input.AsMemory(1), input[0]);
        var limits = (input[0] & 1) == 0 ? FrameLimits.Default : FrameLimits.Default.ForPieceCount(input[0]);
        var reader = new SequenceReader<byte>(sequence);
        Span<byte> encoded = stackalloc byte[64];
        while (true)
        {
            var before = reader.Consumed;
            var status = PeerMessageReader.TryRead(ref reader, limits, out var message);
            if (status != FrameStatus.Complete)
            {
                if (reader.Consumed != before) throw new FuzzInvariantException($"{status} consumed input.");
                return;
            }

            if (reader.Consumed <= before) throw new FuzzInvariantException("A complete message consumed nothing.");
            var frame = sequence.Slice(before, reader.Consumed - before).ToArray();
            // The reader hands an unknown id 0xFF over as a keep-alive (callers ignore both): not one to encode back.
            if (!message.IsKnown || (message.Id == MessageId.KeepAlive && frame.Length != 4)) continue;
            // A known message encodes back to the frame it was read from.
            var buffer = message.EncodedLength <= encoded.Length ? encoded : new byte[message.EncodedLength];
            var n = message.Encode(buffer);
            if (!buffer[..n].SequenceEqual(frame)) throw new FuzzInvariantException($"{message.Id} does not encode back to its frame.");
        }
    }

    private static void HandshakeTarget(byte[] input)
    {
        var fromSpan = Handshake.TryParse(input, out var a);
        var sequence = Split(input, input.Length > 0 ? input[^1] : (byte)0);
        var fromSequence = Handshake.TryParse(sequence, out var b, out var consumed);
        if (fromSpan != fromSequence) throw new FuzzInvariantException($"Span says {fromSpan}, sequence says {fromSequence}.");
        if (fromSpan != HandshakeStatus.Complete) return;
        Span<byte> again = stackalloc byte[Handshake.Length];
        a.Encode(again);
        if (!again.SequenceEqual(input.AsSpan(0, Handshake.Length)) || !a.InfoHash.SequenceEqual(b.InfoHash))
        {
            throw new FuzzInvariantException("A handshake does not encode back to its bytes.");
        }

        if (sequence.Slice(0, consumed).Length != Handshake.Length)
        {
            throw new FuzzInvariantException("A handshake did not consume 68 bytes.");
        }
    }

    private static void ExtensionHandshakeTarget(byte[] input)
    {
        if (!ExtensionHandshake.TryParse(Split(input, input.Length > 0 ? input[^1] : (byte)0), out var parsed)) return;
        if (parsed is null) throw new FuzzInvariantException("TryParse returned true without a handshake.");
        // What we parsed we can send, and a peer reading it sees the same.
        if (!ExtensionHandshake.TryParse(parsed.Encode(), out var again) || again is null
            || again.MetadataSize != parsed.MetadataSize || again.ListenPort != parsed.ListenPort
            || again.RequestQueueSize != parsed.RequestQueueSize || !Equals(again.YourIp, parsed.YourIp)
            || again.Extensions.Count != parsed.Extensions.Count)
        {
            throw new FuzzInvariantException("An extension handshake does not survive encoding.");
        }
    }

    private static void MetadataMessageTarget(byte[] input)
    {
        if (!MetadataMessage.TryParse(Split(input, input.Length > 0 ? input[0] : (byte)0), out var message)) return;
        var body = new byte[message.BodyLength];
        var n = message.EncodeBody(body);
        if (n != body.Length || !MetadataMessage.TryParse(body, out var again)
            || again.Type != message.Type || again.Piece != message.Piece || again.TotalSize != message.TotalSize
            || !again.Data.ToArray().AsSpan().SequenceEqual(message.Data.ToArray()))
        {
            throw new FuzzInvariantException("A metadata message does not survive encoding.");
        }
    }

    private static void PexMessageTarget(byte[] input)
    {
        if (!PexMessage.TryParse(Split(input, input.Length > 0 ? input[0] : (byte)0), out var message)) return;
        var families = message!.Added.Select(p => p.EndPoint).Concat(message.Dropped).ToList();
        if (message.Added.Count > 2 * PexMessage.MaxPeersPerList || message.Dropped.Count > 2 * PexMessage.MaxPeersPerList
            || families.Any(e => e.Port is <= 0 or > 65535 || e.Address.IsIPv4MappedToIPv6))
        {
            throw new FuzzInvariantException("A PEX message past its caps, or with a bad port or a mapped address.");
        }
        // What was parsed fits BEP 11's caps, so it encodes, and parses back to the same peers, flags and order.
        if (!PexMessage.TryParse(message.Encode(), out var again)
            || !again!.Added.SequenceEqual(message.Added) || !again.Dropped.SequenceEqual(message.Dropped))
        {
            throw new FuzzInvariantException("A PEX message does not survive encoding.");
        }
    }

    private static void HttpTracker(byte[] input)
    {
        foreach (var status in (ReadOnlySpan<HttpStatusCode>)[HttpStatusCode.OK, HttpStatusCode.InternalServerError])
        {
            try
            {
                var d = HttpTrackerClient.ParseBody(input, status, "tracker.invalid");
                var announce = HttpTrackerClient.ParseAnnounce(d);
                if (announce.Interval <= TimeSpan.Zero || announce.Peers.Any(p => p.Port is <= 0 or > 65535))
                {
                    throw new FuzzInvariantException("An announce answer with a bad interval or port.");
                }

                HttpTrackerClient.ParseScrape(d);
            }
            catch (TrackerException)
            {
            }
        }
    }

    private static void UdpTracker(byte[] input)
    {
        foreach (var (action, minLength) in (ReadOnlySpan<(int, int)>)[(UdpTrackerClient.ActionConnect, 16), (UdpTrackerClient.ActionAnnounce, 20), (UdpTrackerClient.ActionScrape, 8)])
        {
            try
            {
                if (!UdpTrackerClient.IsAnswer(input, UdpTransactionId, action, minLength)) continue;
                if (action == UdpTrackerClient.ActionAnnounce)
                {
                    UdpTrackerClient.ParseAnnounce(input, 4);
                    UdpTrackerClient.ParseAnnounce(input, 16);
                }
                else if (action == UdpTrackerClient.ActionScrape)
                {
                    var stats = UdpTrackerClient.ParseScrape(input, ScrapeHashes.All);
                    if (stats.Count > (input.Length - 8) / 12) throw new FuzzInvariantException("More scrape entries than the answer holds.");
                }
            }
            catch (TrackerException)
            {
            }
        }
    }

    /// <summary>
    /// Built on first use, not in <see cref="FuzzTargets"/>' initialiser: the instrumented engine must not run before
    /// SharpFuzz has set up AFL's shared memory (it crashes the fork server), and Program reads <see cref="Names"/> first.
    /// </summary>
    private static class ScrapeHashes
    {
        public static readonly InfoHash[] All = Enumerable.Range(0, 74)
            .Select(i => new InfoHash(Enumerable.Repeat((byte)i, InfoHash.Length).ToArray())).ToArray();
    }

    /// <summary>The bytes as a sequence of two segments cut at <paramref name="cut"/> (modulo the length).</summary>
    private static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> bytes, byte cut)
    {
        if (bytes.Length < 2) return new ReadOnlySequence<byte>(bytes);
        var at = 1 + (cut % (bytes.Length - 1));
        var first = new Segment(bytes[..at], 0);
        var second = first.Append(bytes[at..]);
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

/// <summary>An input cost more memory or time than its size allows: unbounded allocation or a near-hang.</summary>
public sealed class FuzzBudgetException(string message) : Exception(message);

/// <summary>A parser accepted an input and then broke one of its own promises.</summary>
public sealed class FuzzInvariantException(string message) : Exception(message);
