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

    /// <summary>
    /// An error librdkafka reports to the client. Without this handler librdkafka logs each one at error level itself,
    /// and while a broker is away that is every refused reconnect, once a second per broker; through the error callback
    /// it folds repeats ("N identical error(s) suppressed"), and only a fatal one is an error for us.
    /// </summary>
    public static void ForwardError(ILogger logger, Error error)
        => LogLibrdkafkaError(logger, error.IsFatal ? LogLevel.Error : LogLevel.Warning, error.Code, error.Reason);

    [LoggerMessage("librdkafka error {Code}: {Reason}")]
    private static partial void LogLibrdkafkaError(ILogger logger, LogLevel level, ErrorCode code, string reason);

    [LoggerMessage("librdkafka {Client} {Facility}: {Message}")]
    private static partial void LogLibrdkafka(ILogger logger, LogLevel level, string client, string facility, string message);
}
