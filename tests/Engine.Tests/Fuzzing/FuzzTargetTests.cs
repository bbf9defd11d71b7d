using TorrentEdge.Engine.Fuzzing;

namespace TorrentEdge.Engine.Tests.Fuzzing;

/// <summary>
/// The AFL fuzz targets (tests/Engine.Fuzzing) run in-process over their seed corpus and a fixed set of mutations, so a
/// parser change that crashes, breaks an invariant or blows a budget on a known input fails here, without AFL.
/// </summary>
public class FuzzTargetTests
{
    private const int MutationsPerTarget = 3000;

    public static TheoryData<string> Targets => new(FuzzTargets.Names);

    private static string CorpusOf(string target) => Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", target);

    [Theory]
    [MemberData(nameof(Targets))]
    public void Run_EverySeed_NoCrashInvariantOrBudgetBreak(string target)
    {
        var seeds = Directory.GetFiles(CorpusOf(target));

        Assert.True(seeds.Length >= 2, $"corpus/{target} holds {seeds.Length} seeds.");
        foreach (var seed in seeds)
        {
            var input = File.ReadAllBytes(seed);
            var e = Record.Exception(() => FuzzTargets.Run(target, input));
            Assert.True(e is null, $"{Path.GetFileName(seed)}: {e}");
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Run_SeededMutations_NoCrashInvariantOrBudgetBreak(string target)
    {
        var seeds = Directory.GetFiles(CorpusOf(target)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();
        // A fixed seed per target: a failure names an input that the next run makes again.
        var random = new Random(target.Sum(c => c));
        for (var i = 0; i < MutationsPerTarget; i++)
        {
            var input = Mutate(random, seeds[random.Next(seeds.Length)], seeds[random.Next(seeds.Length)]);
            var e = Record.Exception(() => FuzzTargets.Run(target, input));
            Assert.True(e is null, $"mutation {i} ({Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 256)))}): {e}");
        }
    }

    [Fact]
    public void Guard_BodyAllocatingPastTheBudget_ThrowsBudgetException()
    {
        var e = Assert.Throws<FuzzBudgetException>(() => FuzzTargets.Guard(() => GC.KeepAlive(new byte[FuzzTargets.AllocationBase + (129 * 100)]), 100));

        Assert.Contains("allocated", e.Message, StringComparison.Ordinal);
        FuzzTargets.Guard(() => GC.KeepAlive(new byte[100]), 100);
    }

    [Fact]
    public async Task Run_MetainfoInputThatOnceHung_Returns()
    {
        // The first crash the targets found: a 641-byte torrent that never finished parsing (see DuplicatePathTests).
        var input = File.ReadAllBytes(Path.Combine(CorpusOf("metainfo"), "crash-long-duplicate-names.torrent"));

        var run = Task.Run(() => FuzzTargets.Run("metainfo", input), TestContext.Current.CancellationToken);
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        Assert.Same(run, finished);
        await run;
    }

    /// <summary>AFL's havoc in miniature: flips, interesting values, inserts, deletes, truncation and splices.</summary>
    private static byte[] Mutate(Random random, byte[] seed, byte[] other)
    {
        var bytes = new List<byte>(seed);
        var steps = 1 + random.Next(8);
        for (var s = 0; s < steps; s++)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2 when bytes.Count > 0:
                    bytes[at] = "\0\u00ff\u007f\u0080:ield-0123456789"[random.Next(18)] is var c ? (byte)c : (byte)0;
                    break;
                case 3:
                    bytes.InsertRange(at, Enumerable.Range(0, 1 + random.Next(16)).Select(_ => (byte)random.Next(256)));
                    break;
                case 4 when bytes.Count > 0:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(16)));
                    break;
                case 5 when bytes.Count > 0:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 6 when other.Length > 0:
                    var from = random.Next(other.Length);
                    bytes.InsertRange(at, other.Skip(from).Take(1 + random.Next(64)));
                    break;
            }
        }

        return [.. bytes];
    }
}
