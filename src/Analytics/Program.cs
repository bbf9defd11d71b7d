using TorrentEdge.Analytics.Apis;
using TorrentEdge.Analytics.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddAnalytics();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapStatisticsApi();

app.Run();
