using System.Buffers;

namespace TorrentEdge.Gateway.Middleware;

/// <summary>
/// Gives every request a correlation id: the caller's <c>X-Correlation-Id</c> when it looks sane, a new one
/// otherwise. It travels to the backend as a request header, comes back as a response header, and sits in the
/// logging scope of everything the request logs.
/// </summary>
public sealed partial class CorrelationIdMiddleware(RequestDelegate next, ILogger<CorrelationIdMiddleware> logger)
{
    public const string HeaderName = "X-Correlation-Id";
    public const int MaxLength = 128;

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:");

    public Task InvokeAsync(HttpContext context)
    {
        var incoming = context.Request.Headers[HeaderName];
        string id;
        if (incoming.Count == 1 && IsSane(incoming[0]))
        {
            id = incoming[0]!;
        }
        else
        {
            id = Guid.NewGuid().ToString("N");
            if (incoming.Count > 0)
            {
                LogReplaced(logger, id);
            }
        }

        // The header YARP copies downstream is the one we settled on, never the caller's raw value.
        context.Request.Headers[HeaderName] = id;
        context.Items[HeaderName] = id;
        context.Response.OnStarting(static state =>
        {
            var (ctx, value) = ((HttpContext, string))state;
            ctx.Response.Headers[HeaderName] = value;
            return Task.CompletedTask;
        }, (context, id));

        return InvokeInScopeAsync(context, id);
    }

    private async Task InvokeInScopeAsync(HttpContext context, string id)
    {
        using (logger.BeginScope(new KeyValuePair<string, object>[] { new("CorrelationId", id) }))
        {
            await next(context).ConfigureAwait(false);
        }
    }

    /// <summary>Short, printable, and free of anything that could split a header or a log line.</summary>
    public static bool IsSane(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= MaxLength && !value.AsSpan().ContainsAnyExcept(Allowed);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replaced an unusable incoming correlation id with {CorrelationId}")]
    private static partial void LogReplaced(ILogger logger, string correlationId);
}
