using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TorrentEdge.Gateway.Tests.Infrastructure;

/// <summary>What a backend saw of one proxied request.</summary>
public sealed record Echo(string Instance, string Path, string? CorrelationId, string? ForwardedFor, string? ForwardedHost, string? ForwardedProto, long BodyLength);

/// <summary>A stand-in service on real Kestrel at 127.0.0.1:0 that echoes what it received and can be made unhealthy.</summary>
public sealed class Backend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile bool _healthy = true;
    private int _requests;

    private Backend(string instance, WebApplication app)
    {
        Instance = instance;
        _app = app;
    }

    public string Instance { get; }

    public Uri Address { get; private set; } = null!;

    /// <summary>Requests answered other than health probes.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public bool Healthy
    {
        get => _healthy;
        set => _healthy = value;
    }

    public static Task<Backend> StartAsync(string instance, CancellationToken cancellationToken) => StartAsync(instance, 0, cancellationToken);

    /// <summary>On a chosen port: a service that comes up at an address the Gateway already knows.</summary>
    public static async Task<Backend> StartAsync(string instance, int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var backend = new Backend(instance, app);
        app.UseWebSockets();
        app.MapGet("/health", () => backend.Healthy ? Results.Ok("Healthy") : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        app.Map("/hubs/echo", backend.EchoWebSocketAsync);
        app.Map("/{**path}", (Delegate)backend.EchoAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        backend.Address = new Uri(address);
        return backend;
    }

    private async Task<IResult> EchoAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        long length = 0;
        var buffer = new byte[8192];
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            length += read;
        }
        var headers = context.Request.Headers;
        return Results.Json(new Echo(
            Instance,
            context.Request.Path + context.Request.QueryString,
            headers["X-Correlation-Id"].FirstOrDefault(),
            headers["X-Forwarded-For"].FirstOrDefault(),
            headers["X-Forwarded-Host"].FirstOrDefault(),
            headers["X-Forwarded-Proto"].FirstOrDefault(),
            length));
    }

    private async Task EchoWebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        Interlocked.Increment(ref _requests);
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[4096];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                return;
            }
            var reply = System.Text.Encoding.UTF8.GetBytes(Instance + ":" + System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count));
            await socket.SendAsync(reply, WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
