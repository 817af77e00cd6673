using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace PeftOnnx.Hosting.Http;

/// <summary>
/// Gives the error answers that no endpoint wrote (an unknown path, a wrong method) a JSON error body like every other
/// API error, instead of an empty one.
/// </summary>
public static class JsonStatusPages
{
    public static IApplicationBuilder UseJsonStatusPages(this IApplicationBuilder app) =>
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var status = http.Response.StatusCode;
            var request = $"{http.Request.Method} {http.Request.Path}";
            var error = status switch
            {
                StatusCodes.Status404NotFound => ApiError.Of("not_found",
                    $"nothing is served at {request}; the API has POST /v1/classify, POST /v1/embed, GET /v1/adapters, /healthz, /readyz and /metrics."),
                StatusCodes.Status405MethodNotAllowed => ApiError.Of("method_not_allowed", $"{request} is not allowed; /v1/classify and /v1/embed take POST, the rest GET."),
                _ => ApiError.Of($"http_{status}", $"{request}: {ReasonPhrases.GetReasonPhrase(status)}."),
            };
            await http.Response.WriteAsJsonAsync(error, ApiJson.Options);
        });
}
