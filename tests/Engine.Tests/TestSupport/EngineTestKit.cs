using System.Net;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.TestSupport;

/// <summary>A temporary folder per test class, deleted on dispose.</summary>
public abstract class TempFolderTest : IDisposable
{
    protected TempFolderTest(string prefix)
    {
        Root = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    protected string Root { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>Shared steps of the engine tests: make a torrent from random bytes, join engines in memory, wait for a state.</summary>
internal static class EngineTestKit
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The one in-memory network of the tests: every engine made here listens on it at an address of its own and dials
    /// through it, and scripted peers listen on it, so engines and peers meet with no socket and no hook into the engine.
    /// </summary>
    public static readonly InMemoryNetwork Network = new();

    /// <summary>Joins <paramref name="options"/> to <see cref="Network"/> at a fresh address and port (not 6881, which scripted peers use).</summary>
    public static EngineOptions OnNetwork(EngineOptions options)
    {
        var address = Network.NextAddress();
        return options with
        {
            ListenEndPoint = new IPEndPoint(address, 0),
            ListenerFactory = Network,
            ConnectionFactory = options.ConnectionFactory ?? Network.From(address),
        };
    }

    /// <summary>An engine on <see cref="Network"/>, listening.</summary>
    public static ClientEngine Started(EngineOptions options)
    {
        var engine = new ClientEngine(OnNetwork(options));
        engine.StartAsync().GetAwaiter().GetResult();
        return engine;
    }

    /// <summary>A single-file torrent of <paramref name="length"/> random bytes at <paramref name="path"/>.</summary>
    public static async Task<(TorrentMetainfo Meta, byte[] Data)> SingleFileAsync(string path, int length, int seed, CancellationToken ct, int pieceLength = 16 * 1024,
        bool isPrivate = false)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        await File.WriteAllBytesAsync(path, data, ct);
        var meta = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(path, new TorrentCreatorOptions { PieceLength = pieceLength, IsPrivate = isPrivate }, ct));
        return (meta, data);
    }

    /// <summary>
    /// An engine on its own <paramref name="network"/> at <paramref name="listen"/>, storing in memory, plaintext, with
    /// <paramref name="configure"/> applied (the peer-source tests: PEX, local discovery). Not started.
    /// </summary>
    public static ClientEngine InMemory(InMemoryNetwork network, InMemoryPieceStoreFactory stores, string listen, Func<EngineOptions, EngineOptions>? configure = null)
    {
        var ep = IPEndPoint.Parse(listen);
        var options = Plaintext with
        {
            ListenEndPoint = ep,
            ListenerFactory = network,
            ConnectionFactory = network.From(ep.Address),
            PieceStores = stores,
            DownloadDirectory = "/nonexistent-in-memory",
        };
        return new ClientEngine(configure is null ? options : configure(options));
    }

    public static ClientEngine NewEngine(string? resume = null, int maxActive = 3, TimeProvider? time = null) =>
        Started(Plaintext with { ResumeDirectory = resume, MaxActiveDownloads = maxActive, TimeProvider = time ?? TimeProvider.System });

    /// <summary>An engine on <see cref="Network"/>, with <paramref name="configure"/> applied to its options (before it joins the network).</summary>
    public static ClientEngine NewEngine(Func<EngineOptions, EngineOptions> configure) =>
        Started(configure(Plaintext));

    /// <summary>
    /// Test engines speak plaintext unless a test sets a policy: scripted peers speak the plain wire protocol, and the
    /// engine's default (prefer) would open every dial with an MSE handshake they cannot answer.
    /// </summary>
    private static EngineOptions Plaintext => new() { Encryption = TorrentEdge.Engine.Encryption.EncryptionPolicy.Disable };

    /// <summary>Makes <paramref name="torrent"/> dial <paramref name="to"/> through <see cref="Network"/>, as it would dial any peer it heard of.</summary>
    public static Task ConnectAsync(TorrentManager torrent, ClientEngine to)
    {
        torrent.AddPeer(to.ListenEndPoint ?? throw new InvalidOperationException("The engine does not listen."));
        return Task.CompletedTask;
    }

    public static async Task WaitForAsync(TorrentManager t, Func<TorrentStatus, bool> condition, CancellationToken ct, TimeSpan? bound = null)
    {
        var deadline = DateTime.UtcNow + (bound ?? Bound);
        while (!condition(t.Status))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(t.Status.ToString());
            await Task.Delay(20, ct);
        }
    }

    public static List<TorrentEvent> DrainEvents(ClientEngine engine)
    {
        var events = new List<TorrentEvent>();
        while (engine.Events.TryRead(out var e)) events.Add(e);
        return events;
    }
}
