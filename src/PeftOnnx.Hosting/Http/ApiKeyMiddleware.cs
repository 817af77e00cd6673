using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace PeftOnnx.Hosting.Http;

/// <summary>
/// Lets a request through when it carries an accepted API key (`Authorization: Bearer &lt;key&gt;` or `X-Api-Key:
/// &lt;key&gt;`) or asks for an open path (/healthz and /readyz unless Http:OpenHealth=false, /metrics with
/// Http:OpenMetrics=true); anything else gets 401 with a JSON error and `WWW-Authenticate: Bearer`. Without keys it is
/// not installed.
/// </summary>
public static class ApiKeyMiddleware
{
    public const string KeyHeader = "X-Api-Key";

    public static IApplicationBuilder UseApiKeys(this IApplicationBuilder app, ApiKeys keys, HttpApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(options);
        if (!keys.Required)
            return app;
        return app.Use(async (context, next) =>
        {
            if (IsOpen(context.Request.Path, options))
            {
                await next(context);
                return;
            }
            var (presented, header) = Presented(context.Request);
            if (presented is not null && keys.Accepts(presented))
            {
                await next(context);
                return;
            }
            var message = presented is null
                ? $"this server requires an API key: send \"Authorization: Bearer <key>\" or \"{KeyHeader}: <key>\"."
                : $"the API key sent in {header} is not accepted.";
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await context.Response.WriteAsJsonAsync(ApiError.Of("unauthorized", message), ApiJson.Error);
        });
    }

    private static bool IsOpen(PathString path, HttpApiOptions options) =>
        (options.OpenHealth && (path.Equals("/healthz", StringComparison.OrdinalIgnoreCase) || path.Equals("/readyz", StringComparison.OrdinalIgnoreCase)))
        || (options.OpenMetrics && path.Equals("/metrics", StringComparison.OrdinalIgnoreCase));

    private static (string? Key, string? Header) Presented(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            return BearerToken(authorization) is { } bearer
                ? (bearer, HeaderNames.Authorization)
                : ("", $"{HeaderNames.Authorization} (only the Bearer scheme is accepted)");
        }
        var key = request.Headers[KeyHeader].ToString();
        return key.Length > 0 ? (key, KeyHeader) : (null, null);
    }

    private static string? BearerToken(string authorization)
    {
        const string scheme = "Bearer ";
        return authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? authorization[scheme.Length..].Trim() : null;
    }
}
