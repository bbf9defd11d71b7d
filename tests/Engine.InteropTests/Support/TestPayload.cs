namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>
/// Files of random bytes from a fixed seed, laid out as a torrent's content folder, so every run
/// sends the same data and a download can be compared byte for byte.
/// </summary>
public sealed class TestPayload
{
    private TestPayload(string root, string name, IReadOnlyList<(string RelativePath, long Length)> files)
    {
        Root = root;
        Name = name;
        Files = files;
    }

    /// <summary>The folder that holds <see cref="Name"/> (a torrent's save path).</summary>
    public string Root { get; }

    /// <summary>The torrent's name: the content folder (multi-file) or the single file.</summary>
    public string Name { get; }

    public string ContentPath => Path.Combine(Root, Name);

    public IReadOnlyList<(string RelativePath, long Length)> Files { get; }

    public long TotalLength => Files.Sum(f => f.Length);

    /// <summary>A multi-file payload with odd sizes, so pieces straddle file boundaries.</summary>
    public static TestPayload MultiFileOddSizes(string root, int seed = 1, string name = "payload") =>
        Create(root, name, seed,
        [
            ("a.bin", 1_000_003),
            ("sub/b.bin", 77_777),
            ("sub/deeper/c.bin", 5),
            ("d.bin", 123_457),
            ("e.bin", 262_144 + 1),
        ]);

    /// <summary>
    /// <paramref name="count"/> files of odd, uneven sizes adding up to about <paramref name="totalBytes"/>, two of them
    /// empty, in a few folders: pieces straddle files and some pieces span several small ones.
    /// </summary>
    public static TestPayload ManyOddFiles(string root, int seed, int count, long totalBytes, string name = "payload")
    {
        var random = new Random(seed);
        var weights = Enumerable.Range(0, count).Select(_ => 0.02 + random.NextDouble()).ToArray();
        var scale = totalBytes / weights.Sum();
        var files = new List<(string, long)>(count);
        for (var i = 0; i < count; i++)
        {
            var length = i % 17 == 7 ? 0 : (long)(weights[i] * scale) | 1;
            files.Add(($"d{i % 4}/f{i:00}.bin", length));
        }
        return Create(root, name, seed, files);
    }

    public static TestPayload Create(string root, string name, int seed, IReadOnlyList<(string RelativePath, long Length)> files)
    {
        var random = new Random(seed);
        var buffer = new byte[64 * 1024];
        foreach (var (rel, length) in files)
        {
            var path = Path.Combine(root, name, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
            for (long left = length; left > 0;)
            {
                var n = (int)Math.Min(buffer.Length, left);
                random.NextBytes(buffer.AsSpan(0, n));
                fs.Write(buffer, 0, n);
                left -= n;
            }
        }
        return new TestPayload(root, name, files);
    }

    /// <summary>A single file of random bytes named <paramref name="name"/>.</summary>
    public static TestPayload SingleFile(string root, string name, long length, int seed = 7)
    {
        var random = new Random(seed);
        Directory.CreateDirectory(root);
        var buffer = new byte[64 * 1024];
        using (var fs = new FileStream(Path.Combine(root, name), FileMode.Create, FileAccess.Write))
        {
            for (long left = length; left > 0;)
            {
                var n = (int)Math.Min(buffer.Length, left);
                random.NextBytes(buffer.AsSpan(0, n));
                fs.Write(buffer, 0, n);
                left -= n;
            }
        }
        return new TestPayload(root, name, [("", length)]);
    }

    /// <summary>Asserts that <paramref name="otherRoot"/> holds the same files with the same bytes.</summary>
    public void AssertSameAs(string otherRoot)
    {
        foreach (var (rel, length) in Files)
        {
            var expected = rel.Length == 0 ? Path.Combine(Root, Name) : Path.Combine(Root, Name, rel);
            var actual = rel.Length == 0 ? Path.Combine(otherRoot, Name) : Path.Combine(otherRoot, Name, rel);
            Assert.True(File.Exists(actual), $"missing {actual}");
            Assert.Equal(length, new FileInfo(actual).Length);
            Assert.True(SameBytes(expected, actual), $"{actual} differs from {expected}");
        }
    }

    private static bool SameBytes(string a, string b)
    {
        using var fa = File.OpenRead(a);
        using var fb = File.OpenRead(b);
        var ba = new byte[64 * 1024];
        var bb = new byte[64 * 1024];
        while (true)
        {
            var na = fa.ReadAtLeast(ba, ba.Length, throwOnEndOfStream: false);
            var nb = fb.ReadAtLeast(bb, bb.Length, throwOnEndOfStream: false);
            if (na != nb || !ba.AsSpan(0, na).SequenceEqual(bb.AsSpan(0, nb))) return false;
            if (na == 0) return true;
        }
    }
}
