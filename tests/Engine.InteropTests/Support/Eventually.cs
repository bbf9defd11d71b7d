namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>Bounded polling for conditions that have no event to await.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Not true within {timeout}: {describe()}");
            await Task.Delay(100, cancellationToken);
        }
    }
}
