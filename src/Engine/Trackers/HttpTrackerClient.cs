using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Trackers;

/// <summary>HTTP(S) tracker client (BEP 3, compact peers BEP 23, IPv6 peers BEP 7).</summary>
public sealed class HttpTrackerClient : ITrackerClient
{
    /// <summary>Larger answers are refused: a tracker response is a few KiB.</summary>
    public const int MaxResponseBytes = 2 * 1024 * 1024;

    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(30);

    // Some trackers write their dictionaries unsorted; nothing here is hashed, so order does not matter.
    private static readonly BencodeReaderOptions LenientOptions = new() { RequireSortedKeys = false };
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    /// <param name="uri">The announce URL (may already carry a query such as a passkey).</param>
    /// <param name="http">Shared client; its own Timeout is not relied upon.</param>
    /// <param name="timeout">Per-request limit (default 30 s).</param>
    public HttpTrackerClient(Uri uri, HttpClient http, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.Scheme is not ("http" or "https")) throw new ArgumentException("Not an HTTP tracker URL.", nameof(uri));
        Uri = uri;
        _http = http;
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
        ScrapeUri = GetScrapeUri(uri);
    }

    public Uri Uri { get; }

    /// <summary>The scrape URL by the usual convention ("announce" → "scrape" in the last path segment), or null.</summary>
    public Uri? ScrapeUri { get; }

    public bool CanScrape => ScrapeUri is not null;

    /// <summary>Nothing to release: the HttpClient is shared and owned by the caller.</summary>
    public void Dispose()
    {
    }

    public static Uri? GetScrapeUri(Uri announce)
    {
        // Work on the original text so a passkey query keeps its exact encoding.
        var text = announce.OriginalString;
        var query = text.IndexOf('?');
        var beforeQuery = query < 0 ? text : text[..query];
        var slash = beforeQuery.LastIndexOf('/');
        if (slash < 0 || slash < beforeQuery.IndexOf("//", StringComparison.Ordinal) + 2) return null;
        if (!beforeQuery.AsSpan(slash + 1).StartsWith("announce", StringComparison.Ordinal)) return null;
        return new Uri(string.Concat(text.AsSpan(0, slash + 1), "scrape", text.AsSpan(slash + 1 + "announce".Length)));
    }

    public async ValueTask<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken)
    {
        var sb = new StringBuilder(Uri.OriginalString);
        sb.Append(Uri.OriginalString.Contains('?') ? '&' : '?');
        sb.Append("info_hash=");
        Span<byte> hash = stackalloc byte[20];
        request.InfoHash.CopyTo(hash);
        AppendEscaped(sb, hash);
        sb.Append("&peer_id=");
        AppendEscaped(sb, request.PeerId.Span);
        sb.Append(CultureInfo.InvariantCulture, $"&port={request.Port}&uploaded={request.Uploaded}&downloaded={request.Downloaded}&left={request.Left}");
        sb.Append(CultureInfo.InvariantCulture, $"&compact=1&numwant={request.NumWant}&key={request.Key:x8}");
        var ev = request.Event switch
        {
            AnnounceEvent.Started => "started",
            AnnounceEvent.Completed => "completed",
            AnnounceEvent.Stopped => "stopped",
            _ => null,
        };
        if (ev is not null) sb.Append("&event=").Append(ev);
        if (!string.IsNullOrEmpty(request.TrackerId)) sb.Append("&trackerid=").Append(Uri.EscapeDataString(request.TrackerId));

        var d = await GetAsync(new Uri(sb.ToString()), cancellationToken).ConfigureAwait(false);
        return ParseAnnounce(d);
    }

    public async ValueTask<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken)
    {
        if (ScrapeUri is null) throw new TrackerException(TrackerErrorKind.NotSupported, $"{Uri} has no scrape URL.");
        var sb = new StringBuilder(ScrapeUri.OriginalString);
        var first = !ScrapeUri.OriginalString.Contains('?');
        Span<byte> hash = stackalloc byte[20];
        foreach (var h in infoHashes)
        {
            sb.Append(first ? '?' : '&').Append("info_hash=");
            first = false;
            h.CopyTo(hash);
            AppendEscaped(sb, hash);
        }

        var d = await GetAsync(new Uri(sb.ToString()), cancellationToken).ConfigureAwait(false);
        return ParseScrape(d);
    }

    /// <summary>Reads a scrape answer's "files"; entries that are not 20-byte keys with dictionaries are skipped.</summary>
    /// <exception cref="TrackerException">The answer has no "files" dictionary.</exception>
    internal static Dictionary<InfoHash, ScrapeStats> ParseScrape(BDictionary d)
    {
        var result = new Dictionary<InfoHash, ScrapeStats>();
        if (d.Get<BDictionary>("files") is not { } files) throw new TrackerException(TrackerErrorKind.InvalidResponse, "The scrape answer has no 'files'.");
        foreach (var (key, value) in files)
        {
            if (key.Length != 20 || value is not BDictionary s) continue;
            result[new InfoHash(key.Span)] = new ScrapeStats(
                (int)Math.Clamp(s.Get<BInteger>("complete")?.Value ?? 0, 0, int.MaxValue),
                (int)Math.Clamp(s.Get<BInteger>("downloaded")?.Value ?? 0, 0, int.MaxValue),
                (int)Math.Clamp(s.Get<BInteger>("incomplete")?.Value ?? 0, 0, int.MaxValue));
        }

        return result;
    }

    /// <summary>Percent-encodes raw bytes: unreserved characters stay, everything else becomes %XX.</summary>
    public static void AppendEscaped(StringBuilder sb, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append("0123456789ABCDEF"[b >> 4]).Append("0123456789ABCDEF"[b & 15]);
            }
        }
    }

    private async ValueTask<BDictionary> GetAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        byte[] body = [];
        var status = default(HttpStatusCode);
        // A connection reset before any answer is tried once more: opentracker now and then resets a fresh connection
        // under load (seen in the interop tests, 2 runs in 12), and a GET announce or scrape repeated is harmless.
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            try
            {
                using var req = new HttpRequestMessage(HttpMethod.Get, uri);
                // Announces are minutes apart, and trackers such as opentracker close the connection after
                // answering without saying so: a pooled connection reused later was reset mid-request.
                req.Headers.ConnectionClose = true;
                using var resp = await _http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                status = resp.StatusCode;
                if (resp.Content.Headers.ContentLength > MaxResponseBytes) throw new TrackerException(TrackerErrorKind.InvalidResponse, "The tracker's answer is too large.");
                using var stream = await resp.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                body = await ReadLimitedAsync(stream, timeout.Token).ConfigureAwait(false);
                break;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TrackerException(TrackerErrorKind.Timeout, $"No answer from {Uri.Host} within {_timeout.TotalSeconds:0} s.");
            }
            catch (HttpRequestException e) when (attempt == 1 && IsConnectionReset(e))
            {
            }
            catch (HttpRequestException e)
            {
                throw new TrackerException(TrackerErrorKind.Network, $"Cannot reach {Uri.Host}: {e.Message}", e);
            }
        }

        return ParseBody(body, status, Uri.Host);
    }

    private static bool IsConnectionReset(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionReset }) return true;
        }
        return false;
    }

    /// <summary>
    /// Decodes a tracker's HTTP answer: its dictionary, or the tracker's "failure reason" (even on an error status).
    /// Pure, so it can be tested and fuzzed without a server.
    /// </summary>
    /// <exception cref="TrackerException">The tracker failed, answered with an error status, or answered nonsense.</exception>
    internal static BDictionary ParseBody(byte[] body, HttpStatusCode status, string host)
    {
        BDictionary? d = null;
        try
        {
            d = BencodeReader.Decode(body, LenientOptions) as BDictionary;
        }
        catch (BencodeException e) when (status == HttpStatusCode.OK)
        {
            throw new TrackerException(TrackerErrorKind.InvalidResponse, $"The tracker's answer is not valid bencoding ({e.Error} at byte {e.Offset}).", e);
        }
        catch (BencodeException)
        {
        }

        if (d?.Get<BString>("failure reason") is { } failure) throw new TrackerException(TrackerErrorKind.TrackerFailure, failure.Text);
        if (status != HttpStatusCode.OK) throw new TrackerException(TrackerErrorKind.Network, $"HTTP {(int)status} from {host}.");
        return d ?? throw new TrackerException(TrackerErrorKind.InvalidResponse, "The tracker's answer is not a dictionary.");
    }

    private static async ValueTask<byte[]> ReadLimitedAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var ms = new MemoryStream();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16384);
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (ms.Length + n > MaxResponseBytes) throw new TrackerException(TrackerErrorKind.InvalidResponse, "The tracker's answer is too large.");
                ms.Write(buffer, 0, n);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }

        return ms.ToArray();
    }

    internal static AnnounceResponse ParseAnnounce(BDictionary d)
    {
        var peers = new List<IPEndPoint>();
        switch (d.TryGetValue("peers", out var p) ? p : null)
        {
            case BString compact:
                ReadCompactPeers(compact.Span, 4, peers);
                break;
            case BList list:
                foreach (var item in list)
                {
                    if (item is BDictionary pd && pd.Get<BString>("ip") is { } ip && pd.Get<BInteger>("port") is { Value: > 0 and <= 65535 } port
                        && IPAddress.TryParse(ip.Text, out var addr))
                    {
                        peers.Add(new IPEndPoint(addr, (int)port.Value));
                    }
                }

                break;
        }

        if (d.Get<BString>("peers6") is { } p6) ReadCompactPeers(p6.Span, 16, peers);

        var interval = d.Get<BInteger>("interval")?.Value;
        var min = d.Get<BInteger>("min interval")?.Value;
        return new AnnounceResponse
        {
            Interval = interval is > 0 ? TimeSpan.FromSeconds(Math.Min(interval.Value, 86400)) : DefaultInterval,
            MinInterval = min is > 0 ? TimeSpan.FromSeconds(Math.Min(min.Value, 86400)) : null,
            TrackerId = d.Get<BString>("tracker id")?.Text,
            Complete = ToCount(d.Get<BInteger>("complete")),
            Incomplete = ToCount(d.Get<BInteger>("incomplete")),
            WarningMessage = d.Get<BString>("warning message")?.Text,
            Peers = peers,
        };
    }

    private static int? ToCount(BInteger? v) => v is null ? null : (int)Math.Clamp(v.Value, 0, int.MaxValue);

    /// <summary>Reads BEP 23 compact peers: address bytes then a big-endian port, 6 or 18 bytes each.</summary>
    public static void ReadCompactPeers(ReadOnlySpan<byte> data, int addressLength, List<IPEndPoint> into)
    {
        var size = addressLength + 2;
        for (var i = 0; i + size <= data.Length; i += size)
        {
            var port = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i + addressLength, 2));
            if (port == 0) continue;
            into.Add(new IPEndPoint(new IPAddress(data.Slice(i, addressLength)), port));
        }
    }
}
