using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.ServiceDefaults.Tests.Messaging;

/// <summary>Kafka security settings pass from the <c>Kafka:</c> section to Confluent's clients (issue 16).</summary>
public sealed class KafkaClientSettingsTests
{
    private static IHost Build(EmbeddedKafka kafka, Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["ConnectionStrings:kafka"] = kafka.BootstrapServers });
        builder.AddKafkaMessaging();
        return builder.Build();
    }

    [Fact]
    public void ReadSettings_KafkaSection_SplitsSharedProducerAndConsumer()
    {
        using var kafka = EmbeddedKafka.Start();
        using var host = Build(kafka, new()
        {
            ["Kafka:security.protocol"] = "SASL_SSL",
            ["Kafka:sasl.mechanism"] = "SCRAM-SHA-512",
            ["Kafka:sasl.username"] = "catalog",
            ["Kafka:Producer:compression.type"] = "zstd",
            ["Kafka:Consumer:fetch.min.bytes"] = "1",
        });

        var options = host.Services.GetRequiredService<IOptions<KafkaMessagingOptions>>().Value;

        Assert.Equal("SASL_SSL", options.ClientSettings["security.protocol"]);
        Assert.Equal("SCRAM-SHA-512", options.ClientSettings["sasl.mechanism"]);
        Assert.Equal("catalog", options.ClientSettings["sasl.username"]);
        Assert.Equal("zstd", Assert.Single(options.ProducerSettings).Value);
        Assert.Equal("1", Assert.Single(options.ConsumerSettings).Value);
    }

    [Fact]
    public async Task Publish_SettingFromConfiguration_ReachesLibrdkafka()
    {
        using var kafka = EmbeddedKafka.Start();
        // A value librdkafka itself rejects: only a setting that reached it can fail this way.
        using var host = Build(kafka, new() { ["Kafka:security.protocol"] = "carrier-pigeon" });
        var publisher = host.Services.GetRequiredService<IIntegrationEventPublisher>();

        var refused = await Assert.ThrowsAnyAsync<Exception>(() =>
            publisher.PublishAsync("t", "k", new Probe(), TestContext.Current.CancellationToken));

        Assert.Contains("security.protocol", refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Publish_ReservedSettingFromConfiguration_RefusedWithItsName()
    {
        using var kafka = EmbeddedKafka.Start();
        using var host = Build(kafka, new() { ["Kafka:enable.idempotence"] = "false" });
        var publisher = host.Services.GetRequiredService<IIntegrationEventPublisher>();

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            publisher.PublishAsync("t", "k", new Probe(), TestContext.Current.CancellationToken));

        Assert.Contains("Kafka:enable.idempotence cannot be set", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ApplySettings_NothingConfigured_SocketTimeoutIs15SecondsNotLibrdkafkas60()
    {
        var config = new Confluent.Kafka.ConsumerConfig();

        new KafkaMessagingOptions().ApplySettings(config, new Dictionary<string, string>());

        Assert.Equal(15_000, config.SocketTimeoutMs);
    }

    [Fact]
    public void ApplySettings_SocketTimeoutConfigured_TheConfiguredValueWins()
    {
        var options = new KafkaMessagingOptions();
        options.ClientSettings["socket.timeout.ms"] = "45000";
        var config = new Confluent.Kafka.ProducerConfig();

        options.ApplySettings(config, options.ProducerSettings);

        Assert.Equal(45_000, config.SocketTimeoutMs);
    }

    private sealed record Probe : TorrentEdge.Contracts.IntegrationEvent;
}
