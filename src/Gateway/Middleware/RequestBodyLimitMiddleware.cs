using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace TorrentEdge.Gateway.Middleware;

/// <summary>
/// Refuses request bodies over <see cref="GatewayOptions.MaxRequestBodyBytes"/> with 413 problem details: at once
/// when Content-Length says so, and through Kestrel's per-request limit for chunked bodies.
/// </summary>
public sealed partial class RequestBodyLimitMiddleware(RequestDelegate next, IOptionsMonitor<GatewayOptions> options, ILogger<RequestBodyLimitMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context, IProblemDetailsService problemDetails)
    {
        var limit = options.CurrentValue.MaxRequestBodyBytes;
        if (context.Request.ContentLength is long length && length > limit)
        {
            LogTooLarge(logger, length, limit);
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            // The body is not read: closing the connection afterwards spares us draining it.
            context.Response.Headers.Connection = "close";
            await problemDetails.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status413PayloadTooLarge,
                    Title = "Request body too large",
                    Detail = $"The request body is {length} bytes; the limit is {limit} bytes.",
                },
            }).ConfigureAwait(false);
            return;
        }

        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        await next(context).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a request body of {Length} bytes (limit {Limit})")]
    private static partial void LogTooLarge(ILogger logger, long length, long limit);
}
