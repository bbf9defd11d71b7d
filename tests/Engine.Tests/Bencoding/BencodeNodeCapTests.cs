using System.Diagnostics;
using System.Text;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Tests.Bencoding;

/// <summary>The node cap: inputs that would multiply into memory are refused before anything is built.</summary>
public class BencodeNodeCapTests
{
    private const int TenMiB = 10 * 1024 * 1024;

    /// <summary><c>l</c>, then <c>le</c> pairs, then <c>e</c>: a list of empty lists exactly <paramref name="length"/> bytes long.</summary>
    private static byte[] LeBomb(int length, string prefix = "l", string suffix = "e")
    {
        var bytes = new byte[length];
        var head = Encoding.ASCII.GetBytes(prefix);
        var tail = Encoding.ASCII.GetBytes(suffix);
        head.CopyTo(bytes, 0);
        var body = length - head.Length - tail.Length;
        Assert.Equal(0, body % 2);
        for (var i = head.Length; i < head.Length + body; i += 2)
        {
            bytes[i] = (byte)'l';
            bytes[i + 1] = (byte)'e';
        }
        tail.CopyTo(bytes, length - tail.Length);
        return bytes;
    }

    [Fact]
    public void Decode_TenMiBLeBomb_RefusedQuicklyWithBoundedMemory()
    {
        var bomb = LeBomb(TenMiB);
        // Warm up the code path so the figures measure the decoder, not the JIT.
        Assert.Throws<BencodeException>(() => BencodeReader.Decode(LeBomb(64 * 1024)));

        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<BencodeException>(() => BencodeReader.Decode(bomb));
        clock.Stop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        TestContext.Current.TestOutputHelper?.WriteLine($"10 MiB le bomb: refused in {clock.Elapsed.TotalMilliseconds:F1} ms, {allocated} bytes allocated");
        Assert.Equal(BencodeError.TooManyNodes, error.Error);
        // Refused while counting, before any value is built: a few kilobytes for the exception, not megabytes.
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Decode_DensestInputUnderTheCap_AllocationBoundedByMaxNodes()
    {
        // The worst an accepted input can do: exactly MaxNodes values at 4 bytes each (4 MB of i10e).
        var input = Encoding.ASCII.GetBytes("l" + string.Concat(Enumerable.Repeat("i10e", BencodeReaderOptions.Default.MaxNodes - 1)) + "e");

        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var list = Assert.IsType<BList>(BencodeReader.Decode(input));
        clock.Stop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{input.Length} bytes, {list.Count + 1} values under the cap: decoded in {clock.Elapsed.TotalMilliseconds:F1} ms, {allocated} bytes allocated");
        Assert.True(allocated < 200L * 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void ParseTorrent_TenMiBLeBombInsideInfo_RefusedAsTooManyNodes()
    {
        var bomb = LeBomb(TenMiB, "d4:infol", "ee");

        var error = Assert.Throws<MetainfoException>(() => TorrentMetainfo.Parse(bomb));

        Assert.Equal(BencodeError.TooManyNodes, Assert.IsType<BencodeException>(error.InnerException).Error);
    }

    [Fact]
    public void Decode_AtAbsoluteCap_DecodesAndOneMoreIsRefused()
    {
        var options = new BencodeReaderOptions { MaxNodes = 3 };

        Assert.Equal(2, Assert.IsType<BList>(BencodeReader.Decode("li1ei2ee"u8.ToArray(), options)).Count);
        var error = Assert.Throws<BencodeException>(() => BencodeReader.Decode("li1ei2ei3ee"u8.ToArray(), options));
        Assert.Equal(BencodeError.TooManyNodes, error.Error);
        Assert.Equal(7, error.Offset);
    }

    [Fact]
    public void NodeLimit_Default_GrowsWithInputUpToAbsoluteMax()
    {
        var options = BencodeReaderOptions.Default;

        Assert.Equal(1024, options.NodeLimit(0));
        Assert.Equal(1024 + 250_000, options.NodeLimit(1_000_000));
        Assert.Equal(1_000_000, options.NodeLimit(64 * 1024 * 1024));
        Assert.Equal(10, new BencodeReaderOptions { MaxNodes = 10, BytesPerNode = 0 }.NodeLimit(TenMiB));
    }

    [Fact]
    public void Decode_ProportionalCap_RefusesDenseInputButNotStringsOfTheSameLength()
    {
        var options = new BencodeReaderOptions { MinNodes = 0, BytesPerNode = 4 };
        var dense = LeBomb(4096);
        Assert.Equal(BencodeError.TooManyNodes, Assert.Throws<BencodeException>(() => BencodeReader.Decode(dense, options)).Error);

        // 20-byte strings (piece hashes, say): 23 bytes per value, well inside the ratio.
        var strings = "l" + string.Concat(Enumerable.Repeat("20:" + new string('x', 20), 170)) + "e";
        Assert.Equal(170, Assert.IsType<BList>(BencodeReader.Decode(Encoding.ASCII.GetBytes(strings), options)).Count);
    }

    [Fact]
    public void Decode_SmallMessages_NotCountedAndUnaffected()
    {
        // Under 4 KiB an input cannot reach the floor of 1024 values, so the count is skipped altogether.
        var list = "l" + string.Concat(Enumerable.Repeat("i1e", 1000)) + "e";
        Assert.Equal(1000, Assert.IsType<BList>(BencodeReader.Decode(Encoding.ASCII.GetBytes(list))).Count);
    }

    [Fact]
    public void Decode_MalformedBomb_ReportsTheCapOrTheFirstError()
    {
        // Unterminated: the count reaches the cap before the missing end is noticed.
        var unterminated = LeBomb(TenMiB)[..^1];
        Assert.Equal(BencodeError.TooManyNodes, Assert.Throws<BencodeException>(() => BencodeReader.Decode(unterminated)).Error);
        // A bad byte early on is reported as itself, as before.
        var early = LeBomb(TenMiB);
        early[3] = (byte)'x';
        var error = Assert.Throws<BencodeException>(() => BencodeReader.Decode(early));
        Assert.Equal((BencodeError.UnexpectedByte, 3L), (error.Error, error.Offset));
    }

    [Fact]
    public void Decode_UnsortedDictionaryOfManyKeys_DecodesQuicklyAndStillFindsDuplicates()
    {
        // Keys in descending order: each one out of order. A scan for duplicates per key is quadratic (5e9 compares here).
        var lenient = new BencodeReaderOptions { RequireSortedKeys = false };
        var text = new StringBuilder("d");
        for (var i = 99_999; i >= 0; i--)
        {
            text.Append("6:k").Append(i.ToString("D5")).Append("i0e");
        }
        text.Append('e');
        var input = Encoding.ASCII.GetBytes(text.ToString());

        var clock = Stopwatch.StartNew();
        var dictionary = Assert.IsType<BDictionary>(BencodeReader.Decode(input, lenient));
        clock.Stop();

        Assert.Equal(100_000, dictionary.Count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
        var duplicate = Assert.Throws<BencodeException>(() => BencodeReader.Decode("d1:bi1e1:ai1e1:bi2ee"u8.ToArray(), lenient));
        Assert.Equal((BencodeError.DuplicateKey, 13L), (duplicate.Error, duplicate.Offset));
    }
}
