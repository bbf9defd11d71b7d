using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Cli;

/// <summary>
/// <c>loadgen &lt;HOST:PORT&gt; &lt;file.torrent&gt;</c>: a connection load generator for the scale benchmark. Opens
/// --connections connections (from --sources consecutive addresses starting at --source-base, e.g. 127.0.0.2),
/// each doing the BitTorrent handshake, an empty bitfield and interested; holds them all open for --hold
/// seconds; reports handshakes per second and every error.
/// </summary>
internal static class LoadGenCommand
{
    public static async Task<int> RunAsync(CliOptions o, TextWriter output, CancellationToken ct)
    {
        var target = IPEndPoint.TryParse(o.Positional.ElementAtOrDefault(0) ?? "", out var ep) ? ep : throw new FormatException("loadgen needs HOST:PORT");
        var torrent = o.Positional.ElementAtOrDefault(1) ?? throw new FormatException("loadgen needs the .torrent file");
        var meta = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent, ct).ConfigureAwait(false));
        var opening = new byte[Handshake.Length + 5 + (meta.PieceCount + 7) / 8 + 5];
        // The handshake's peer id is written per connection (an engine drops a second connection from the same id).
        new Handshake(ReservedBits.None, meta.InfoHash, PeerId.Generate("-LG0001-")).Encode(opening);
        // Bitfield (all zero: we have nothing) and interested, sent right after the handshake.
        var bitfieldLength = (meta.PieceCount + 7) / 8;
        BinaryPrimitives.WriteInt32BigEndian(opening.AsSpan(Handshake.Length), 1 + bitfieldLength);
        opening[Handshake.Length + 4] = (byte)MessageId.Bitfield;
        var tail = opening.AsSpan(Handshake.Length + 5 + bitfieldLength);
        BinaryPrimitives.WriteInt32BigEndian(tail, 1);
        tail[4] = (byte)MessageId.Interested;

        var sources = Enumerable.Range(0, o.Sources).Select(i => Offset(o.SourceBase, i)).ToArray();
        var errors = new Dictionary<string, int>(StringComparer.Ordinal);
        var sockets = new Socket?[o.Connections];
        var dropped = 0;
        var handshakes = 0;
        var clock = Stopwatch.StartNew();
        long lastHandshakeTicks = 0;
        using var holding = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // One deadline for the whole connect phase (not a timer per connection: the generator must stay cheaper than the engine it measures).
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        connectTimeout.CancelAfter(TimeSpan.FromSeconds(15) + TimeSpan.FromMilliseconds(10.0 * o.Connections));
        var drains = new List<Task>(o.Connections);
        var next = -1;
        // --concurrency workers, each opening connections one after another until all are taken.
        async Task ConnectWorkerAsync()
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < o.Connections)
            {
                try
                {
                    var socket = await OpenAsync(target, sources.Length == 0 ? null : sources[index % sources.Length], opening, index, meta.InfoHash, connectTimeout.Token).ConfigureAwait(false);
                    sockets[index] = socket;
                    Interlocked.Increment(ref handshakes);
                    Interlocked.Exchange(ref lastHandshakeTicks, clock.ElapsedTicks);
                    var drain = DrainAsync(socket, holding.Token, () => Interlocked.Increment(ref dropped));
                    lock (drains) drains.Add(drain);
                }
                catch (Exception e) when (e is SocketException or IOException or TimeoutException or InvalidDataException or OperationCanceledException)
                {
                    var key = e is SocketException se ? se.SocketErrorCode.ToString() : e.GetType().Name + ": " + e.Message;
                    lock (errors) errors[key] = errors.GetValueOrDefault(key) + 1;
                }
            }
        }
        var workers = new Task[Math.Min(o.Concurrency, o.Connections)];
        for (var i = 0; i < workers.Length; i++) workers[i] = Task.Run(ConnectWorkerAsync, ct);
        await Task.WhenAll(workers).ConfigureAwait(false);
        var connectSeconds = Math.Max((double)Interlocked.Read(ref lastHandshakeTicks) / Stopwatch.Frequency, 1e-6);
        var rate = handshakes / connectSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"handshakes {handshakes} of {o.Connections} in {connectSeconds:0.000} s ({rate:0} per s), errors {errors.Values.Sum()}; holding {o.Hold.TotalSeconds:0.#} s"));
        try
        {
            await Task.Delay(o.Hold, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        var open = sockets.Count(s => s is not null) - Volatile.Read(ref dropped);
        await holding.CancelAsync().ConfigureAwait(false);
        foreach (var s in sockets) s?.Dispose();
        try
        {
            await Task.WhenAll(drains).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        var errorText = string.Join("; ", errors.Select(kv => $"{kv.Key} x{kv.Value}"));
        output.WriteLine($"held open {open}, dropped by the engine {dropped}{(errorText.Length > 0 ? ", errors: " + errorText : "")}");
        if (o.Json)
        {
            output.WriteLine(new JsonLine("loadgen").Add("connections", o.Connections).Add("handshakes", handshakes)
                .Add("connect_s", connectSeconds).Add("handshakes_per_s", rate).Add("errors", errors.Values.Sum())
                .Add("dropped", dropped).Add("held_open", open).Add("error_kinds", errorText).AddResources().ToString());
        }
        return handshakes == o.Connections && dropped == 0 ? 0 : 1;
    }

    private static IPAddress? Offset(IPAddress? first, int i)
    {
        if (first is null) return null;
        var bytes = first.GetAddressBytes();
        var value = BinaryPrimitives.ReadUInt32BigEndian(bytes) + (uint)i;
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    private static async Task<Socket> OpenAsync(IPEndPoint target, IPAddress? source, byte[] opening, int index, InfoHash infoHash, CancellationToken ct)
    {
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null)
            {
                // IP_BIND_ADDRESS_NO_PORT: the kernel picks the port at connect, without a search at bind time.
                if (OperatingSystem.IsLinux()) socket.SetRawSocketOption(0, 24, [1, 0, 0, 0]);
                socket.Bind(new IPEndPoint(source, 0));
            }
            await socket.ConnectAsync(target, ct).ConfigureAwait(false);
            var handshake = opening.AsSpan(0, Handshake.Length).ToArray();
            // A distinct peer id per connection (process id and index), without a random number per byte.
            var tail = handshake.AsSpan(48 + 8, 12);
            tail.Fill((byte)'0');
            Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId % 10_000_000:0000000}{index % 100_000:00000}"), tail);
            await socket.SendAsync(handshake, SocketFlags.None, ct).ConfigureAwait(false);
            var theirs = new byte[Handshake.Length];
            var got = 0;
            while (got < theirs.Length)
            {
                var n = await socket.ReceiveAsync(theirs.AsMemory(got), SocketFlags.None, ct).ConfigureAwait(false);
                if (n == 0) throw new IOException("closed during the handshake");
                got += n;
            }
            if (Handshake.TryParse(theirs, out var hs) != HandshakeStatus.Complete || !hs.InfoHash.SequenceEqual(infoHash.ToArray()))
                throw new InvalidDataException("bad handshake");
            await socket.SendAsync(opening.AsMemory(Handshake.Length), SocketFlags.None, ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // What the engine sends is thrown away, so every connection reads into the same scratch buffer.
    private static readonly byte[] DrainBuffer = new byte[4096];

    // Reads and discards whatever the engine sends (bitfield, unchoke, keep-alives); a close is a drop.
    private static async Task DrainAsync(Socket socket, CancellationToken ct, Action onDropped)
    {
        var buffer = DrainBuffer;
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
                if (n == 0)
                {
                    onDropped();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            if (!ct.IsCancellationRequested) onDropped();
        }
    }
}
