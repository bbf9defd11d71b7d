using TorrentEdge.Analytics.Apis;
using TorrentEdge.Analytics.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDefaultAuthentication();
builder.AddAnalytics();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapStatisticsApi();

app.Run();
