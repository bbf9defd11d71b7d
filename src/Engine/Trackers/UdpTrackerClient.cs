using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Trackers;

/// <summary>Timing of the UDP tracker protocol; tests shorten the retransmission base.</summary>
public sealed record UdpTrackerOptions
{
    /// <summary>First wait for an answer; the n-th retransmission waits Base * 2^n (BEP 15: 15 s).</summary>
    public TimeSpan RetransmitBase { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Highest n in Base * 2^n (BEP 15: 8).</summary>
    public int MaxRetransmits { get; init; } = 8;

    /// <summary>How long a connection id may be used (BEP 15: one minute).</summary>
    public TimeSpan ConnectionIdLifetime { get; init; } = TimeSpan.FromMinutes(1);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Which addresses the tracker's name may resolve to and be dialled at.</summary>
    public Connections.DestinationPolicy Destinations { get; init; } = Connections.DestinationPolicy.Unrestricted;
}

/// <summary>UDP tracker client (BEP 15): connect, announce, scrape, with retransmission and connection-id reuse.</summary>
public sealed class UdpTrackerClient : ITrackerClient
{
    private const long ProtocolId = 0x41727101980;
    internal const int ActionConnect = 0, ActionAnnounce = 1, ActionScrape = 2, ActionError = 3;
    private const int MaxDatagram = 2048;
    private const int MaxScrapeHashes = 74;

    private readonly UdpTrackerOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Socket? _socket;
    private long _connectionId;
    private long _connectionIdAt;
    private bool _hasConnectionId;

    public UdpTrackerClient(Uri uri, UdpTrackerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.Scheme != "udp" || uri.Port <= 0) throw new ArgumentException("Not a udp://host:port tracker URL.", nameof(uri));
        Uri = uri;
        _options = options ?? new UdpTrackerOptions();
    }

    public Uri Uri { get; }

    public bool CanScrape => true;

    public void Dispose()
    {
        _socket?.Dispose();
        _gate.Dispose();
    }

    public async ValueTask<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var send = ArrayPool<byte>.Shared.Rent(98);
        var receive = ArrayPool<byte>.Shared.Rent(MaxDatagram);
        try
        {
            var socket = await EnsureSocketAsync(cancellationToken).ConfigureAwait(false);
            var connectionId = await ConnectAsync(socket, send, receive, cancellationToken).ConfigureAwait(false);
            var tid = NewTransactionId();
            var s = send.AsSpan(0, 98);
            BinaryPrimitives.WriteInt64BigEndian(s, connectionId);
            BinaryPrimitives.WriteInt32BigEndian(s[8..], ActionAnnounce);
            BinaryPrimitives.WriteInt32BigEndian(s[12..], tid);
            request.InfoHash.CopyTo(s[16..]);
            if (request.PeerId.Length != 20) throw new ArgumentException("A peer id has 20 bytes.", nameof(request));
            request.PeerId.Span.CopyTo(s[36..]);
            BinaryPrimitives.WriteInt64BigEndian(s[56..], request.Downloaded);
            BinaryPrimitives.WriteInt64BigEndian(s[64..], request.Left);
            BinaryPrimitives.WriteInt64BigEndian(s[72..], request.Uploaded);
            BinaryPrimitives.WriteInt32BigEndian(s[80..], (int)request.Event);
            BinaryPrimitives.WriteInt32BigEndian(s[84..], 0); // IP: the sender's
            BinaryPrimitives.WriteUInt32BigEndian(s[88..], request.Key);
            BinaryPrimitives.WriteInt32BigEndian(s[92..], request.NumWant);
            BinaryPrimitives.WriteUInt16BigEndian(s[96..], (ushort)request.Port);

            var n = await ExchangeAsync(socket, send.AsMemory(0, 98), receive, tid, ActionAnnounce, 20, cancellationToken).ConfigureAwait(false);
            // Peers come in the address family the tracker was reached over.
            return ParseAnnounce(receive.AsSpan(0, n), socket.AddressFamily == AddressFamily.InterNetworkV6 ? 16 : 4);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(send);
            ArrayPool<byte>.Shared.Return(receive);
            _gate.Release();
        }
    }

    public async ValueTask<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken)
    {
        if (infoHashes.Count is 0 or > MaxScrapeHashes) throw new ArgumentException($"Scrape 1 to {MaxScrapeHashes} torrents at once.", nameof(infoHashes));
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var length = 16 + (20 * infoHashes.Count);
        var send = ArrayPool<byte>.Shared.Rent(length);
        var receive = ArrayPool<byte>.Shared.Rent(MaxDatagram);
        try
        {
            var socket = await EnsureSocketAsync(cancellationToken).ConfigureAwait(false);
            var connectionId = await ConnectAsync(socket, send, receive, cancellationToken).ConfigureAwait(false);
            var tid = NewTransactionId();
            var s = send.AsSpan(0, length);
            BinaryPrimitives.WriteInt64BigEndian(s, connectionId);
            BinaryPrimitives.WriteInt32BigEndian(s[8..], ActionScrape);
            BinaryPrimitives.WriteInt32BigEndian(s[12..], tid);
            for (var i = 0; i < infoHashes.Count; i++) infoHashes[i].CopyTo(s[(16 + (20 * i))..]);
            var n = await ExchangeAsync(socket, send.AsMemory(0, length), receive, tid, ActionScrape, 8, cancellationToken).ConfigureAwait(false);
            return ParseScrape(receive.AsSpan(0, n), infoHashes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(send);
            ArrayPool<byte>.Shared.Return(receive);
            _gate.Release();
        }
    }

    private async ValueTask<Socket> EnsureSocketAsync(CancellationToken cancellationToken)
    {
        if (_socket is not null) return _socket;
        IPAddress[] addresses;
        try
        {
            // Resolved and checked once, and the checked address is the one dialled (no second resolution to rebind).
            addresses = await _options.Destinations.FilterAsync(Uri.IdnHost, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new TrackerException(TrackerErrorKind.Network, $"Cannot resolve {Uri.Host}: {e.Message}", e);
        }
        catch (Connections.DestinationRefusedException e)
        {
            throw new TrackerException(TrackerErrorKind.Network, e.Message, e);
        }

        var address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new TrackerException(TrackerErrorKind.Network, $"{Uri.Host} has no address.");
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // Connected, so only the tracker's datagrams arrive and ICMP "port unreachable" surfaces as an error.
            await socket.ConnectAsync(new IPEndPoint(address, Uri.Port), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        return socket;
    }

    private async ValueTask<long> ConnectAsync(Socket socket, byte[] send, byte[] receive, CancellationToken cancellationToken)
    {
        var time = _options.TimeProvider;
        if (_hasConnectionId && time.GetElapsedTime(_connectionIdAt) < _options.ConnectionIdLifetime) return _connectionId;
        var tid = NewTransactionId();
        BinaryPrimitives.WriteInt64BigEndian(send, ProtocolId);
        BinaryPrimitives.WriteInt32BigEndian(send.AsSpan(8), ActionConnect);
        BinaryPrimitives.WriteInt32BigEndian(send.AsSpan(12), tid);
        await ExchangeAsync(socket, send.AsMemory(0, 16), receive, tid, ActionConnect, 16, cancellationToken).ConfigureAwait(false);
        _connectionId = BinaryPrimitives.ReadInt64BigEndian(receive.AsSpan(8));
        _connectionIdAt = time.GetTimestamp();
        _hasConnectionId = true;
        return _connectionId;
    }

    /// <summary>Sends and waits for the matching answer, retransmitting after Base * 2^n.</summary>
    private async ValueTask<int> ExchangeAsync(Socket socket, ReadOnlyMemory<byte> datagram, byte[] receive, int tid, int action, int minLength, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt <= _options.MaxRetransmits; attempt++)
        {
            var wait = _options.RetransmitBase * (1L << attempt);
            try
            {
                await socket.SendAsync(datagram, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                using var timeout = new CancellationTokenSource(wait, _options.TimeProvider);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                while (true)
                {
                    int n;
                    try
                    {
                        n = await socket.ReceiveAsync(receive, SocketFlags.None, linked.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        break; // retransmit
                    }

                    try
                    {
                        if (!IsAnswer(receive.AsSpan(0, n), tid, action, minLength)) continue;
                    }
                    catch (TrackerException) when (action != ActionConnect && BinaryPrimitives.ReadInt32BigEndian(receive) == ActionError)
                    {
                        // An error answer may mean our connection id expired on the tracker's side: ask for a new one.
                        _hasConnectionId = false;
                        throw;
                    }

                    return n;
                }
            }
            catch (SocketException e)
            {
                throw new TrackerException(TrackerErrorKind.Network, $"UDP tracker {Uri.Host}:{Uri.Port}: {e.SocketErrorCode}", e);
            }
        }

        _hasConnectionId = false;
        throw new TrackerException(TrackerErrorKind.Timeout, $"No answer from UDP tracker {Uri.Host}:{Uri.Port}.");
    }

    /// <summary>
    /// Judges a datagram: false when it is not the answer to transaction <paramref name="tid"/> (keep waiting), true
    /// when it is a well-formed answer to <paramref name="action"/>. Pure, so it can be tested and fuzzed alone.
    /// </summary>
    /// <exception cref="TrackerException">The tracker answered with an error, without data, or with nonsense.</exception>
    internal static bool IsAnswer(ReadOnlySpan<byte> packet, int tid, int action, int minLength)
    {
        if (packet.Length < 8 || BinaryPrimitives.ReadInt32BigEndian(packet[4..]) != tid) return false;
        var got = BinaryPrimitives.ReadInt32BigEndian(packet);
        if (got == ActionError)
        {
            throw new TrackerException(TrackerErrorKind.TrackerFailure, Encoding.UTF8.GetString(packet[8..]).TrimEnd('\0'));
        }

        if (got == action && packet.Length == 8 && action != ActionConnect)
        {
            // opentracker refuses a torrent it does not serve (whitelist) with a bare header.
            throw new TrackerException(TrackerErrorKind.TrackerFailure, "The tracker answered without data: the torrent is not served there.");
        }

        if (got != action || packet.Length < minLength)
        {
            throw new TrackerException(TrackerErrorKind.InvalidResponse, $"Unexpected UDP tracker answer (action {got}, {packet.Length} bytes).");
        }

        return true;
    }

    /// <summary>Reads an announce answer already judged by <see cref="IsAnswer"/> (at least 20 bytes).</summary>
    internal static AnnounceResponse ParseAnnounce(ReadOnlySpan<byte> r, int addressLength)
    {
        var peers = new List<IPEndPoint>();
        HttpTrackerClient.ReadCompactPeers(r[20..], addressLength, peers);
        var interval = BinaryPrimitives.ReadInt32BigEndian(r[8..]);
        return new AnnounceResponse
        {
            Interval = TimeSpan.FromSeconds(interval is > 0 and <= 86400 ? interval : 1800),
            Incomplete = Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(r[12..])),
            Complete = Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(r[16..])),
            Peers = peers,
        };
    }

    /// <summary>Reads a scrape answer already judged by <see cref="IsAnswer"/>: 12 bytes per torrent, in the order asked.</summary>
    internal static Dictionary<InfoHash, ScrapeStats> ParseScrape(ReadOnlySpan<byte> r, IReadOnlyList<InfoHash> infoHashes)
    {
        var result = new Dictionary<InfoHash, ScrapeStats>();
        for (var i = 0; i < infoHashes.Count && 8 + (12 * (i + 1)) <= r.Length; i++)
        {
            var e = r.Slice(8 + (12 * i), 12);
            result[infoHashes[i]] = new ScrapeStats(
                Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(e)),
                Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(e[4..])),
                Math.Max(0, BinaryPrimitives.ReadInt32BigEndian(e[8..])));
        }

        return result;
    }

    private static int NewTransactionId() => RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
}
