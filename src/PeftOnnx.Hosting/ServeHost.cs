using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using System.Reflection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PeftOnnx.Hosting.Http;
using PeftOnnx.Hosting.Ledger;
using PeftOnnx.Hosting.Metrics;
using PeftOnnx.Hosting.Outbox;
using PeftOnnx.Hosting.Queue;
using PeftOnnx.Hosting.Scoring;
using PeftOnnx.Hosting.Worker;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Inference;
using PeftOnnx.Runtime.Scoring;

namespace PeftOnnx.Hosting;

/// <summary>
/// Composes `peftonnx serve`: one Generic Host (ASP.NET Core) with the inbox worker, the queue worker and the HTTP API,
/// configured from appsettings.json, PEFTONNX_-prefixed environment variables (PEFTONNX_Worker__Inbox__0=...) and the
/// command line, in that order of precedence (last wins). Runs under systemd as a notify service when started by it.
/// </summary>
public static class ServeHost
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Builds the host and runs it until <paramref name="cancellationToken"/> fires or the process is asked to stop.</summary>
    public static async Task RunAsync(string[] args, IReadOnlyDictionary<string, string?> overrides, string? configFile, CancellationToken cancellationToken)
    {
        await using var app = Build(args, overrides, configFile);
        await app.RunAsync(cancellationToken);
    }

    /// <param name="args">Configuration-style arguments (--Worker:Outbox=/x), applied after the files and environment.</param>
    /// <param name="overrides">Settings from the `serve` command's options, applied last.</param>
    /// <param name="configFile">An extra JSON settings file (--config), applied after appsettings.json.</param>
    public static WebApplication Build(string[] args, IReadOnlyDictionary<string, string?> overrides, string? configFile = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = Directory.GetCurrentDirectory() });
        AddConfiguration(builder.Configuration, args, overrides, configFile);

        var worker = builder.Configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>() ?? new WorkerOptions();
        var http = builder.Configuration.GetSection(HttpApiOptions.Section).Get<HttpApiOptions>() ?? new HttpApiOptions();
        var queue = builder.Configuration.GetSection(QueueOptions.Section).Get<QueueOptions>() ?? new QueueOptions();
        worker.Validate();
        http.Validate();
        var apiKeys = http.Enabled ? ApiKeys.From(http) : null;
        if (worker.Inbox.Length == 0 && !queue.Enabled && !http.Enabled)
            throw new InvalidOperationException("nothing to serve: give an inbox (--inbox), a queue (--redis) or keep the HTTP API enabled.");
        if ((worker.Inbox.Length > 0 || queue.Enabled) && worker.Outbox is null)
            throw new InvalidOperationException("the inbox and queue workers need an outbox: pass --outbox <dir> (Worker:Outbox).");

        builder.Services.Configure<WorkerOptions>(builder.Configuration.GetSection(WorkerOptions.Section));
        builder.Services.Configure<HttpApiOptions>(builder.Configuration.GetSection(HttpApiOptions.Section));
        builder.Services.Configure<QueueOptions>(builder.Configuration.GetSection(QueueOptions.Section));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        builder.Services.AddSystemd();
        builder.Services.AddSingleton<HostingMetrics>();
        builder.Services.AddSingleton<Readiness>();
        AddScorer(builder.Services, worker);
        AddWorkers(builder.Services, worker, queue);
        AddHttp(builder, http);

        var app = builder.Build();
        var scorer = LoadScorer(app, worker, queue);
        app.Logger.LogInformation("Serving {ModelId}", scorer.ModelId);
        if (http.Enabled)
            MapHttp(app, http, apiKeys!);
        return app;
    }

    private static void AddConfiguration(ConfigurationManager configuration, string[] args, IReadOnlyDictionary<string, string?> overrides, string? configFile)
    {
        // Defaults under every other source: per-request framework logs are noise for a worker.
        configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Information", ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning" },
        });
        if (configFile is not null)
            configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        configuration.AddEnvironmentVariables("PEFTONNX_");
        configuration.AddCommandLine(args);
        configuration.AddInMemoryCollection(overrides);
    }

    private static void AddScorer(IServiceCollection services, WorkerOptions worker)
    {
        if (worker.Scorer == "hash")
        {
            services.AddSingleton<ITextScorer>(new HashTextScorer(HashTextScorer.DefaultLabels, TimeSpan.FromMilliseconds(worker.HashScorerDelayMs)));
        }
        else if (ScorerFactory.IsSideBundle(worker.Model!))
        {
            // One base session, adapters per text; the container owns (and disposes) the model.
            services.AddSingleton(sp => ScorerFactory.LoadSideModel(worker, sp.GetRequiredService<ILoggerFactory>().CreateLogger("PeftOnnx.Model")));
            services.AddSingleton<ITextScorer>(sp => ScorerFactory.CreateScorer(sp.GetRequiredService<SideModel>(), worker));
        }
        else
        {
            // The container owns (and disposes) the model; the scorer only borrows it.
            services.AddSingleton(sp => ScorerFactory.LoadModel(worker, sp.GetRequiredService<ILoggerFactory>().CreateLogger("PeftOnnx.Model")));
            services.AddSingleton<ITextScorer>(sp => ScorerFactory.CreateScorer(sp.GetRequiredService<OnnxModel>(), worker));
        }
    }

    private static void AddWorkers(IServiceCollection services, WorkerOptions worker, QueueOptions queue)
    {
        if (worker.Outbox is not null)
        {
            services.AddSingleton(_ => SqliteLedger.Open(worker.LedgerPath));
            services.AddSingleton<IResultWriter>(_ => worker.OutboxFormat == OutboxFormat.JsonFiles
                ? new JsonFileResultWriter(worker.ResultsPath)
                : new JsonlResultWriter(worker.ResultsPath));
        }
        if (worker.Inbox.Length > 0)
            services.AddHostedService<InboxWorker>();
        if (queue.Enabled)
            services.AddHostedService<QueueWorker>();
    }

    private static void AddHttp(WebApplicationBuilder builder, HttpApiOptions http)
    {
        if (!http.Enabled)
        {
            // The web host always starts a server; with the API off it gets a free loopback port and no endpoints.
            builder.WebHost.UseUrls();
            builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
            return;
        }
        if (string.IsNullOrEmpty(builder.Configuration["Urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
            builder.WebHost.UseUrls(DefaultUrl);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = http.MaxRequestBytes);
        builder.Services.AddSingleton(sp => new MicroBatcher(sp.GetRequiredService<ITextScorer>(), http, sp.GetRequiredService<HostingMetrics>()));
        // target_info on /metrics names the service (else "unknown_service:dotnet") and the build that serves.
        var version = typeof(ServeHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService("peftonnx", serviceVersion: version)).WithMetrics(metrics => metrics
            .AddMeter(HostingMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());
    }

    /// <summary>Loads the model before listening, so /readyz never says ready for a model that fails to load.</summary>
    private static ITextScorer LoadScorer(WebApplication app, WorkerOptions worker, QueueOptions queue)
    {
        try
        {
            var scorer = app.Services.GetRequiredService<ITextScorer>();
            // Inbox and queue documents name no adapter: they need a default where the bundle has none to fall back on.
            if (scorer is IRoutedTextScorer { RequiresAdapter: true } routed && (worker.Inbox.Length > 0 || queue.Enabled))
                throw new InvalidOperationException($"{worker.Model} keeps its classifiers in the adapters and serves {(routed.Adapters.Count == 0 ? "none yet" : string.Join(", ", routed.Adapters))}: set Worker:Adapter (--adapter) to the one that scores inbox and queue documents.");
            return scorer;
        }
        catch
        {
            // Release what was loaded (a model, a watched adapter folder) before reporting.
            app.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    private static void MapHttp(WebApplication app, HttpApiOptions http, ApiKeys apiKeys)
    {
        var urls = app.Configuration["Urls"] is { Length: > 0 } configured ? configured : app.Configuration["ASPNETCORE_URLS"] is { Length: > 0 } env ? env : DefaultUrl;
        if (!apiKeys.Required && !ListensOnLoopbackOnly(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
            app.Logger.LogWarning("The HTTP API listens on {Urls} without API keys: whoever reaches it can use it. Set --api-key-file (Http:ApiKeyFile).", urls);
        app.UseJsonErrorPages();
        app.UseApiKeys(apiKeys, http);
        app.MapPeftOnnxApi();
        app.MapPrometheusScrapingEndpoint("/metrics");
    }

    private static bool ListensOnLoopbackOnly(IEnumerable<string> urls) => urls.All(url =>
        Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
        && uri.IsLoopback);
}
