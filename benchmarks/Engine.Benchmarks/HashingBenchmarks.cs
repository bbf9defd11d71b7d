using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;

namespace TorrentEdge.Engine.Benchmarks;

/// <summary>SHA-1 of one 1 MiB piece: the recheck and verify cost per piece (compare with `openssl speed -evp sha1`).</summary>
[MemoryDiagnoser]
public class HashingBenchmarks
{
    private readonly byte[] _piece = new byte[1 << 20];
    private readonly byte[] _hash = new byte[SHA1.HashSizeInBytes];

    [GlobalSetup]
    public void Setup() => new Random(3).NextBytes(_piece);

    [Benchmark]
    public int Sha1OneShot() => SHA1.HashData(_piece, _hash);

    /// <summary>Incremental hashing block by block (16 KiB), as a verifier fed by the network would.</summary>
    [Benchmark]
    public bool Sha1Incremental16KiBBlocks()
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        for (var offset = 0; offset < _piece.Length; offset += 16 * 1024) h.AppendData(_piece, offset, 16 * 1024);
        return h.TryGetHashAndReset(_hash, out _);
    }
}
