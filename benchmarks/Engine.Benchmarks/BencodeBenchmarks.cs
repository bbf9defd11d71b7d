using BenchmarkDotNet.Attributes;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Benchmarks;

/// <summary>Bencode decoding and encoding of a realistic 35-file .torrent, and full metainfo parsing (info-hash included).</summary>
[MemoryDiagnoser]
public class BencodeBenchmarks
{
    private byte[] _torrent = [];
    private BValue _decoded = null!;

    [GlobalSetup]
    public void Setup()
    {
        _torrent = SampleTorrent.Create();
        _decoded = BencodeReader.Decode(_torrent);
    }

    [Benchmark]
    public BValue Decode() => BencodeReader.Decode(_torrent);

    [Benchmark]
    public byte[] Encode() => BencodeWriter.Encode(_decoded);

    [Benchmark]
    public InfoHash ParseMetainfo() => TorrentMetainfo.Parse(_torrent).InfoHash;
}
