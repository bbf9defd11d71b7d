using Scalar.AspNetCore;
using TorrentEdge.Catalog.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapCatalogApi();
if (app.Environment.IsDevelopment())
{
    app.MapScalarApiReference();
}

app.Run();
