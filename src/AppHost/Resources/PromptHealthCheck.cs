using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TorrentEdge.AppHost.Resources;

/// <summary>
/// An HTTP health check that notices a starting service promptly. Aspire checks a resource that is not yet healthy
/// again after 1, 2, 3, 4 and then every 5 seconds, so a service that turns healthy just after a check waits up to that
/// long to be seen, and its dependents wait with it: twice along Catalog, then everything else. On 2 cores that was
/// seconds of the suite's start-up. One call of this check instead asks every 100 ms for up to 3 seconds.
/// </summary>
public sealed class PromptHealthCheck(Func<Uri> baseAddress, string path, HttpClient http, TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        var uri = new Uri(baseAddress(), path);
        var started = time.GetTimestamp();
        var last = HealthCheckResult.Unhealthy($"{uri} was not asked");
        // At most Window / Step + 1 attempts, each bounded by RequestTimeout.
        for (var attempt = 0; attempt <= Window / Step; attempt++)
        {
            last = await AskAsync(uri, cancellationToken).ConfigureAwait(false);
            if (last.Status == HealthStatus.Healthy || time.GetElapsedTime(started) >= Window)
            {
                return last;
            }
            await Task.Delay(Step, time, cancellationToken).ConfigureAwait(false);
        }
        return last;
    }

    private async Task<HealthCheckResult> AskAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"{uri} answered {(int)response.StatusCode}");
        }
        catch (HttpRequestException e)
        {
            return HealthCheckResult.Unhealthy($"{uri}: {e.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{uri} did not answer within {RequestTimeout.TotalSeconds:0} s");
        }
    }
}

public static class PromptHealthCheckExtensions
{
    /// <summary>Like <c>WithHttpHealthCheck(path)</c> on the <c>http</c> endpoint, but notices a starting service within 100 ms.</summary>
    public static IResourceBuilder<T> WithPromptHttpHealthCheck<T>(this IResourceBuilder<T> builder, string path)
        where T : IResourceWithEndpoints
    {
        var endpoint = builder.GetEndpoint("http");
        var key = $"{builder.Resource.Name}_http_{path}_prompt_check";
        // Polling every 100 ms would otherwise log two lines a request on the AppHost's console.
        builder.ApplicationBuilder.Services.AddHttpClient(key).RemoveAllLoggers();
        builder.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(key,
            sp => new PromptHealthCheck(() => new Uri(endpoint.Url), path, sp.GetRequiredService<IHttpClientFactory>().CreateClient(key), TimeProvider.System),
            failureStatus: null, tags: null));
        return builder.WithHealthCheck(key);
    }
}
