namespace TorrentEdge.Gateway.Proxy;

/// <summary>The Gateway's route table as data: which path prefix goes to which service.</summary>
public static class GatewayRoutes
{
    /// <summary>
    /// One route: a path pattern, the service (cluster) it goes to, and its precedence (lower wins). An
    /// <paramref name="ApiDocs"/> route exists only while <see cref="GatewayOptions.ApiDocs"/> is on (Development).
    /// </summary>
    public sealed record Route(string Id, string Path, string Service, int Order, bool WebSockets = false, bool ApiDocs = false);

    public const string Catalog = "catalog";
    public const string Analytics = "analytics";
    public const string Notifier = "notifier";

    /// <summary>Services the Gateway proxies to; each is a YARP cluster whose destinations come from service discovery.</summary>
    public static readonly IReadOnlyList<string> Services = [Catalog, Analytics, Notifier];

    public static readonly IReadOnlyList<Route> All =
    [
        // /api/statistics is more specific than /api, so it must win whatever the route ordering of the matcher.
        new("statistics", "/api/statistics/{**rest}", Analytics, Order: 0),
        new("api", "/api/{**rest}", Catalog, Order: 10),
        // Transmission's RPC (Catalog's facade for Transmission clients); qBittorrent's /api/v2 goes with /api.
        new("transmission", "/transmission/rpc/{**rest}", Catalog, Order: 0),
        new("hubs", "/hubs/{**rest}", Notifier, Order: 0, WebSockets: true),
        // Socket.IO (Engine.IO v4) at its clients' default path: long-polling and WebSocket, served by Notifier.
        new("socketio", "/socket.io/{**rest}", Notifier, Order: 0, WebSockets: true),
        // Catalog's OpenAPI document and the Scalar UI that reads it (Catalog serves Scalar in Development only).
        new("openapi", "/openapi/{**rest}", Catalog, Order: 0, ApiDocs: true),
        new("scalar", "/scalar/{**rest}", Catalog, Order: 0, ApiDocs: true),
    ];
}
