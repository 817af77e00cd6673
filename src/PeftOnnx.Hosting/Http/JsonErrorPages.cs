using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace PeftOnnx.Hosting.Http;

/// <summary>
/// Gives the error answers that no endpoint wrote a JSON error body like every other API error, instead of an empty
/// one: an exception that escaped an endpoint (500, logged by the framework with its stack), an unknown path (404), a
/// wrong method (405).
/// </summary>
public static class JsonErrorPages
{
    public static IApplicationBuilder UseJsonErrorPages(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = async context =>
            {
                var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                await context.Response.WriteAsJsonAsync(ApiError.Of("internal_error",
                    $"{context.Request.Method} {context.Request.Path} failed: {error?.Message ?? "unknown error"} (the server log has the details)."), ApiJson.Error);
            },
        });
        return app.UseStatusCodePages(async context =>
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
            await http.Response.WriteAsJsonAsync(error, ApiJson.Error);
        });
    }
}
