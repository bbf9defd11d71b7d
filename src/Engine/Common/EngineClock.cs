namespace TorrentEdge.Engine.Common;

/// <summary>
/// Milliseconds on the engine's injected clock (<see cref="EngineOptions.TimeProvider"/>): the one time source of
/// bans, reconnect back-off, keep-alives, idle disconnects and resume saves, so that tests step a fake clock
/// instead of sleeping. Monotonic with the system clock; only differences mean anything.
/// </summary>
internal static class EngineClock
{
    public static long NowMilliseconds(this TimeProvider time) =>
        time.TimestampFrequency >= 1000 ? time.GetTimestamp() / (time.TimestampFrequency / 1000) : time.GetTimestamp() * 1000 / time.TimestampFrequency;
}
