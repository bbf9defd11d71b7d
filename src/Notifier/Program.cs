using TorrentEdge.Notifier.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNotifierAuthentication();
builder.AddNotifier();

var app = builder.Build();

app.UseNotifierAuthentication();
app.MapDefaultEndpoints();
app.MapNotifierHubs();

app.Run();
