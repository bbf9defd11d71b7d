using System.Diagnostics;
using Confluent.Kafka;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.ServiceDefaults.Tests.Messaging;

/// <summary>Small bounded helpers shared by the messaging tests.</summary>
internal static class KafkaTestSupport
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > (timeout ?? Timeout))
            {
                throw new TimeoutException("Timed out waiting for " + what);
            }
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public static IProducer<string, string> Producer(EmbeddedKafka kafka)
    {
        KafkaNativeLibrary.EnsureLoaded();
        return new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, EnableIdempotence = true, Acks = Acks.All }).Build();
    }

    public static IConsumer<string?, byte[]> Consumer(EmbeddedKafka kafka, string groupId)
    {
        KafkaNativeLibrary.EnsureLoaded();
        return new ConsumerBuilder<string?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = groupId,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = 6000,
            HeartbeatIntervalMs = 500,
        }).Build();
    }

    /// <summary>Consumes until <paramref name="count"/> messages arrived or the timeout passed.</summary>
    public static List<ConsumeResult<string?, byte[]>> ConsumeMany(IConsumer<string?, byte[]> consumer, int count, TimeSpan? timeout = null)
    {
        var results = new List<ConsumeResult<string?, byte[]>>();
        var deadline = Stopwatch.StartNew();
        while (results.Count < count && deadline.Elapsed < (timeout ?? Timeout))
        {
            TestContext.Current.CancellationToken.ThrowIfCancellationRequested();
            ConsumeResult<string?, byte[]>? result;
            try
            {
                result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            }
            catch (ConsumeException ex) when (ex.Error.Code == ErrorCode.UnknownTopicOrPart)
            {
                // A topic auto-created by the first produce may not be known to this consumer yet.
                continue;
            }
            if (result is not null)
            {
                results.Add(result);
            }
        }
        return results;
    }

    /// <summary>Runs a process with a bounded wait; kills it by its own id if it overstays.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunProcessAsync(string file, IEnumerable<string> arguments, string? input = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + file);
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input);
                process.StandardInput.Close();
            }
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            cts.CancelAfter(timeout ?? Timeout);
            await process.WaitForExitAsync(cts.Token);
            return (process.ExitCode, await output, await error);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
