using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Tests.Storage;

public class AlignedBufferPoolTests
{
    private static unsafe long Address(AlignedBuffer buffer)
    {
        fixed (byte* p = buffer.Span) return (long)p;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(16 * 1024 + 13)]
    [InlineData(1024 * 1024)]
    public void Rent_AnyLength_StartsOnA4KiBBoundaryWithAtLeastThatLength(int length)
    {
        var pool = new AlignedBufferPool();

        var buffer = pool.Rent(length);

        Assert.Equal(0, Address(buffer) % DirectIo.Alignment);
        Assert.InRange(buffer.Capacity, length, Math.Max(DirectIo.Alignment, 2 * length));
        Assert.Equal(buffer.Capacity, buffer.Memory.Length);
    }

    [Fact]
    public void Return_ThenRentTheSameSize_ReusesTheBuffer()
    {
        var pool = new AlignedBufferPool();
        var first = pool.Rent(1024 * 1024);

        pool.Return(first);

        Assert.Same(first, pool.Rent(1000 * 1000));
    }

    [Fact]
    public void Return_BeyondTheRetainedBytes_DropsTheRest()
    {
        var pool = new AlignedBufferPool();
        const int size = 4 * 1024 * 1024;
        var keep = AlignedBufferPool.RetainedBytesPerSize / size;
        var rented = Enumerable.Range(0, keep + 3).Select(_ => pool.Rent(size)).ToList();

        foreach (var b in rented) pool.Return(b);
        var again = Enumerable.Range(0, keep + 3).Select(_ => pool.Rent(size)).ToList();

        Assert.Equal(keep, again.Count(rented.Contains));
    }

    [Fact]
    public void Return_ManySizes_KeepAtMostMaxRetainedBytesInAll()
    {
        var pool = new AlignedBufferPool();
        // 8 sizes from 256 KiB to 32 MiB, as many as each size may keep: far more than the total allows.
        var rented = Enumerable.Range(18, 8)
            .SelectMany(shift => Enumerable.Range(0, Math.Max(2, AlignedBufferPool.RetainedBytesPerSize >> shift)).Select(_ => pool.Rent(1 << shift)))
            .ToList();

        foreach (var b in rented) pool.Return(b);

        Assert.InRange(pool.RetainedBytes, 1, AlignedBufferPool.MaxRetainedBytes);
        Assert.True(rented.Sum(b => (long)b.Capacity) > AlignedBufferPool.MaxRetainedBytes);
    }
}
