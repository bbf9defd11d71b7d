using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
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
        var gate = new SemaphoreSlim(o.Concurrency);
        var clock = Stopwatch.StartNew();
        long lastHandshakeTicks = 0;
        using var holding = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var drains = new List<Task>(o.Connections);
        var connecting = new Task[o.Connections];
        for (var i = 0; i < o.Connections; i++)
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            var index = i;
            connecting[i] = Task.Run(async () =>
            {
                try
                {
                    var socket = await OpenAsync(target, sources.Length == 0 ? null : sources[index % sources.Length], opening, meta.InfoHash, ct).ConfigureAwait(false);
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
                finally
                {
                    gate.Release();
                }
            }, ct);
        }
        await Task.WhenAll(connecting).ConfigureAwait(false);
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

    private static async Task<Socket> OpenAsync(IPEndPoint target, IPAddress? source, byte[] opening, InfoHash infoHash, CancellationToken ct)
    {
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null) socket.Bind(new IPEndPoint(source, 0));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            await socket.ConnectAsync(target, timeout.Token).ConfigureAwait(false);
            var handshake = opening.AsSpan(0, Handshake.Length).ToArray();
            PeerId.Generate("-LG0001-").CopyTo(handshake.AsSpan(48, 20));
            await socket.SendAsync(handshake, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            var theirs = new byte[Handshake.Length];
            var got = 0;
            while (got < theirs.Length)
            {
                var n = await socket.ReceiveAsync(theirs.AsMemory(got), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0) throw new IOException("closed during the handshake");
                got += n;
            }
            if (Handshake.TryParse(theirs, out var hs) != HandshakeStatus.Complete || !hs.InfoHash.SequenceEqual(infoHash.ToArray()))
                throw new InvalidDataException("bad handshake");
            await socket.SendAsync(opening.AsMemory(Handshake.Length), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // Reads and discards whatever the engine sends (bitfield, unchoke, keep-alives); a close is a drop.
    private static async Task DrainAsync(Socket socket, CancellationToken ct, Action onDropped)
    {
        var buffer = new byte[4096];
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
