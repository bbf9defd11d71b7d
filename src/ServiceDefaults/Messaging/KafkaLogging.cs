using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Sends librdkafka's own log lines to ILogger instead of stderr.</summary>
internal static partial class KafkaLogging
{
    public static void Forward(ILogger logger, LogMessage message)
    {
        var level = message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical or SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        // Broker disconnects are routine (idle connections, rebalances); keep them out of warnings.
        if (message.Facility is "FAIL" && level > LogLevel.Information)
        {
            level = LogLevel.Information;
        }
        LogLibrdkafka(logger, level, message.Name, message.Facility, message.Message);
    }

    [LoggerMessage("librdkafka {Client} {Facility}: {Message}")]
    private static partial void LogLibrdkafka(ILogger logger, LogLevel level, string client, string facility, string message);
}
