namespace TorrentEdge.AppHost.Hosting;

/// <summary>Polls a service's /health until it answers 200, within a bound.</summary>
public sealed class HealthProbe(HttpClient http)
{
    public async Task<bool> IsHealthyAsync(Uri baseUrl, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            using var response = await http.GetAsync(new Uri(baseUrl, "/health"), timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>True once /health answers 200; false when <paramref name="timeout"/> passes or <paramref name="stillRunning"/> says the process died.</summary>
    public async Task<bool> WaitHealthyAsync(Uri baseUrl, TimeSpan timeout, Func<bool> stillRunning, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && stillRunning())
        {
            if (await IsHealthyAsync(baseUrl, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }
        return false;
    }
}
