using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace TorrentEdge.Notifier.Extensions;

/// <summary>
/// JWT bearer validation for the hub. Configured from <c>Authentication:Schemes:Bearer</c> (Authority/Audience or signing keys:
/// the section ASP.NET Core binds by convention); the identity work in Catalog decides the issuer and keys and fills that section.
/// Without it, nothing is validated and the hub falls back to <c>?user=</c> in Development only.
/// </summary>
public static class NotifierAuthenticationExtensions
{
    public const string ConfigurationSection = "Authentication:Schemes:Bearer";

    public static bool IsConfigured(IConfiguration configuration) => configuration.GetSection(ConfigurationSection).Exists();

    public static IHostApplicationBuilder AddNotifierAuthentication(this IHostApplicationBuilder builder)
    {
        if (!IsConfigured(builder.Configuration))
        {
            return builder;
        }
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(o => o.Events = new JwtBearerEvents
            {
                // Browsers cannot set headers on WebSocket requests; SignalR sends the token as access_token instead.
                OnMessageReceived = context =>
                {
                    var token = context.Request.Query["access_token"];
                    if (!string.IsNullOrEmpty(token) && context.HttpContext.Request.Path.StartsWithSegments("/hubs"))
                    {
                        context.Token = token;
                    }
                    return Task.CompletedTask;
                },
            });
        builder.Services.AddAuthorization();
        return builder;
    }

    public static WebApplication UseNotifierAuthentication(this WebApplication app)
    {
        if (IsConfigured(app.Configuration))
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }
        return app;
    }
}
