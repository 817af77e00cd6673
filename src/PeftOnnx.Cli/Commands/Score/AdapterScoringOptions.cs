using System.CommandLine;
using Microsoft.Extensions.Logging;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Runtime.Adapters;
using PeftOnnx.Runtime.Scoring;
using PeftOnnx.Runtime.Sessions;

namespace PeftOnnx.Cli.Commands.Score;

/// <summary>
/// `score` on a side-graph bundle: one base session, adapters from the bundle's adapters/ folder (or --adapters-dir);
/// documents are scored with --adapter, or the bundle's only adapter (<see cref="SideAdapterChoice"/>); with --route
/// folder a document under &lt;input&gt;/&lt;name&gt;/ uses adapter &lt;name&gt; when it is served, else that one.
/// </summary>
internal sealed class AdapterScoringOptions
{
    private readonly Option<string?> _adapter = new("--adapter") { Description = "Side or mixed bundle: the adapter to score with (adapters/<name>.onnx_adapter; default: the bundle's only adapter)." };
    private readonly Option<string?> _route = new("--route") { Description = "Per-document adapter routing: 'folder' = the first sub-folder below each input folder names the adapter." };
    private readonly Option<string?> _adaptersDir = new("--adapters-dir") { Description = "Folder of .onnx_adapter files (default: <bundle>/adapters); watched for new and removed files." };

    public AdapterScoringOptions()
    {
        _route.AcceptOnlyFromAmong("folder");
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_adapter);
        command.Options.Add(_route);
        command.Options.Add(_adaptersDir);
    }

    public bool Requested(ParseResult result) => result.GetValue(_adapter) is not null || result.GetValue(_route) is not null || result.GetValue(_adaptersDir) is not null;

    public ScoringModel Load(ParseResult result, string directory, IReadOnlyList<string> inputs, SessionSettings settings, ScorerOptions options, ILogger logger, bool verify)
    {
        if (options.ZeroShotLabels is not null)
            throw new UsageException($"--labels (zero-shot) is for a base model; {directory} is a side bundle whose adapters carry their own classifier.");
        var model = SideModel.Load(directory, settings, result.GetValue(_adaptersDir), watch: true, logger, verify);
        try
        {
            IAdapterRouter? router = result.GetValue(_route) is null
                ? null
                : new FolderAdapterRouter(inputs.Where(Directory.Exists), name => model.Registry.Adapters.ContainsKey(name));
            var adapter = SideAdapterChoice.Require(model, result.GetValue(_adapter));
            if (result.GetValue(_adapter) is null)
                logger.LogInformation("Scoring with adapter {Adapter}, the only one of {Bundle}", adapter, directory);
            return new ScoringModel(new SideTextScorer(model, adapter, options, router), model);
        }
        catch (AdapterNotFoundException e)
        {
            model.Dispose();
            throw new UsageException(e.Message);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
