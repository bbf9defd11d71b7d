using TorrentEdge.Analytics.Apis;
using TorrentEdge.Analytics.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddAnalyticsAuthentication();
builder.AddAnalytics();

var app = builder.Build();

app.UseAnalyticsAuthentication();
app.MapDefaultEndpoints();
app.MapStatisticsApi();

app.Run();
