using TorrentEdge.Notifier.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDefaultAuthentication();
builder.AddNotifier();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapNotifierHubs();

app.Run();
