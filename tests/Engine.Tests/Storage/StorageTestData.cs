using System.Security.Cryptography;
using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Tests.Storage;

/// <summary>A torrent's content and layout built from file lengths, plus a temporary root that deletes itself.</summary>
internal sealed class StorageTestData : IDisposable
{
    public StorageTestData(int pieceLength, params (string Path, long Length)[] files)
    {
        var total = files.Sum(f => f.Length);
        Content = new byte[total];
        new Random(1234).NextBytes(Content);
        var pieces = (int)((total + pieceLength - 1) / pieceLength);
        var hashes = new byte[pieces * 20];
        for (var p = 0; p < pieces; p++)
        {
            var start = p * pieceLength;
            var length = (int)Math.Min(pieceLength, total - start);
            SHA1.HashData(Content.AsSpan(start, length), hashes.AsSpan(p * 20, 20));
        }
        Layout = new StorageLayout(files.Select(f => new StorageFile(f.Path, f.Length)).ToArray(), pieceLength, hashes);
        Root = Path.Combine(Path.GetTempPath(), "te-storage-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public byte[] Content { get; }

    public StorageLayout Layout { get; }

    public string Root { get; }

    public byte[] Piece(int piece) =>
        Content.AsSpan((int)Layout.GetPieceOffset(piece), Layout.GetPieceLength(piece)).ToArray();

    public async Task WriteAllAsync(TorrentStorage storage, CancellationToken ct)
    {
        for (var p = 0; p < Layout.PieceCount; p++)
            await storage.WriteAsync(Layout.GetPieceOffset(p), Piece(p), ct);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (DirectoryNotFoundException) { }
    }
}
