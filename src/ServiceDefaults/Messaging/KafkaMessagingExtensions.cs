using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Registration of Kafka messaging for a service: the publisher, the MassTransit consumers and the subscriptions feeding them.</summary>
public static class KafkaMessagingExtensions
{
    /// <summary>
    /// Registers <see cref="IIntegrationEventPublisher"/> (idempotent producer, acks=all) against <c>ConnectionStrings:kafka</c>,
    /// and MassTransit's mediator with the service's consumers (<c>cfg =&gt; cfg.AddConsumer&lt;T&gt;()</c>). Call once per service;
    /// every <see cref="AddKafkaSubscription{TBuilder}"/> dispatches into this mediator by message type.
    /// </summary>
    public static TBuilder AddKafkaMessaging<TBuilder>(
        this TBuilder builder,
        Action<IMediatorRegistrationConfigurator>? configureConsumers = null,
        Action<KafkaMessagingOptions>? configure = null,
        string connectionName = KafkaMessagingOptions.DefaultConnectionName)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(MessagingRegistered)))
        {
            throw new InvalidOperationException("AddKafkaMessaging was already called; register every consumer of the service in that one call.");
        }
        services.AddSingleton<MessagingRegistered>();

        // Before any producer or consumer exists, so Confluent.Kafka loads the librdkafka that works here.
        KafkaNativeLibrary.EnsureLoaded();

        // Read when first needed, so configuration added after this call (tests, WebApplicationFactory) is seen.
        var optionsBuilder = services.AddOptions<KafkaMessagingOptions>()
            .Configure<IConfiguration>((o, configuration) =>
            {
                o.BootstrapServers ??= configuration.GetConnectionString(connectionName);
                o.ReadSettings(configuration);
            });
        if (configure is not null)
        {
            optionsBuilder.PostConfigure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<MessagingTelemetry>();
        services.TryAddSingleton<KafkaProducerHost>();
        services.TryAddSingleton<IIntegrationEventPublisher, KafkaIntegrationEventPublisher>();
        services.AddMediator(cfg => configureConsumers?.Invoke(cfg));
        return builder;
    }

    /// <summary>
    /// Consumes <paramref name="topic"/> as a member of <paramref name="groupId"/> and dispatches each message to the consumers given to
    /// <see cref="AddKafkaMessaging{TBuilder}"/>, with retry, commit after success and dead-lettering to <c>&lt;topic&gt;.dlq</c>.
    /// Adds a health check "kafka:&lt;topic&gt;/&lt;group&gt;" tagged "ready". Options can also be changed later with
    /// <c>services.Configure&lt;KafkaSubscriptionOptions&gt;(KafkaSubscriptionOptions.NameFor(topic, groupId), ...)</c>.
    /// </summary>
    public static TBuilder AddKafkaSubscription<TBuilder>(
        this TBuilder builder,
        string topic,
        string groupId,
        Action<KafkaSubscriptionOptions>? configure = null)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentException.ThrowIfNullOrEmpty(groupId);
        var services = builder.Services;
        if (!services.Any(d => d.ServiceType == typeof(MessagingRegistered)))
        {
            throw new InvalidOperationException("Call AddKafkaMessaging(cfg => cfg.AddConsumer<...>()) before AddKafkaSubscription.");
        }

        var name = KafkaSubscriptionOptions.NameFor(topic, groupId);
        services.AddOptions<KafkaSubscriptionOptions>(name).Configure(o =>
        {
            o.Topic = topic;
            o.GroupId = groupId;
            configure?.Invoke(o);
        });

        var state = new KafkaSubscriptionState(topic, groupId);
        services.AddSingleton(state);
        services.AddKeyedSingleton(name, state);
        services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<KafkaSubscriptionService>(
            sp, state, sp.GetRequiredService<IOptionsMonitor<KafkaSubscriptionOptions>>().Get(name)));

        services.AddHealthChecks().Add(new HealthCheckRegistration(
            "kafka:" + name,
            sp =>
            {
                var o = sp.GetRequiredService<IOptionsMonitor<KafkaSubscriptionOptions>>().Get(name);
                // Handling (with its retries) may legitimately keep the loop from polling up to max.poll.interval.
                var maxSilence = o.MaxPollInterval + o.PollTimeout + TimeSpan.FromSeconds(5);
                return new KafkaSubscriptionHealthCheck(state, maxSilence, sp.GetRequiredService<TimeProvider>());
            },
            failureStatus: null,
            tags: ["ready"]));
        return builder;
    }

    /// <summary>Marks that AddKafkaMessaging ran (MassTransit's mediator may be added only once).</summary>
    private sealed class MessagingRegistered;
}
