using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Files;
using PeftOnnx.Core.Json;
using PeftOnnx.Core.Models;
using PeftOnnx.Runtime.Sessions;
using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Runtime.Inference;

/// <summary>
/// A model folder on disk before anything is loaded: a bundle (bundle.json) or a pulled base model
/// (model.json, described as a feature-extraction bundle). The files the manifest names must be plain file names of
/// the folder and exist; a bundle's files must match the sha256 its bundle.json records (<see cref="BundleFiles"/>),
/// unless verification is skipped. A bundle that records no hashes (exported before they were recorded) is loaded
/// with a warning.
/// </summary>
public sealed class ModelFolder
{
    /// <summary>Largest ORT-format model read into memory: ONNX Runtime's flatbuffers are limited to 2 GiB.</summary>
    private const long MaxOrtModelBytes = int.MaxValue;

    /// <summary>A bundle being verified: the files read into memory (vocabulary, ORT-format model) are checked on those bytes.</summary>
    private bool _verifyOnRead;

    private ModelFolder(string directory, BundleManifest manifest, string modelPath, string vocabPath)
    {
        Directory = directory;
        Manifest = manifest;
        ModelPath = modelPath;
        VocabPath = vocabPath;
    }

    public string Directory { get; }

    public BundleManifest Manifest { get; }

    public string ModelPath { get; }

    public string VocabPath { get; }

    /// <summary>
    /// A session for this folder's model with <paramref name="settings"/>, optimization off for a model saved optimized.
    /// An ORT-format model is read once and runs from memory; its sha256 is checked beside the session build (both only
    /// read the bytes, and a start is that much shorter on two cores), and the session is handed out only once the check
    /// has passed, so nothing runs a changed model.
    /// </summary>
    public ModelSession CreateSession(SessionSettings settings, ILogger? logger)
    {
        var factory = new SessionFactory(logger);
        settings = settings with { ModelPreOptimized = Manifest.GraphOptimization == BundleManifest.ExtendedOptimization };
        if (!Manifest.IsOrtFormat)
            return factory.Create(ModelPath, settings);

        // Pinned: the session reads its weights in place (SessionFactory), so the array must not move while it lives.
        var bytes = RegularFile.ReadAllBytes(ModelPath, MaxOrtModelBytes, pinned: true);
        var check = _verifyOnRead
            ? Task.Run(() => BundleFiles.VerifyContent(Directory, Manifest, Manifest.Model, bytes))
            : Task.CompletedTask;
        ModelSession session;
        try
        {
            session = factory.Create(ModelPath, settings, bytes);
        }
        catch (Exception) when (Mismatch(check) is { } mismatch)
        {
            throw mismatch; // a changed file explains a failed load better than ONNX Runtime's parse error
        }
        try
        {
            check.GetAwaiter().GetResult();
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static InvalidDataException? Mismatch(Task check)
    {
        try
        {
            check.GetAwaiter().GetResult();
            return null;
        }
        catch (InvalidDataException e)
        {
            return e;
        }
    }

    /// <summary>Opens <paramref name="directory"/>; <paramref name="verify"/> false skips the sha256 check (`--skip-verify`).</summary>
    public static ModelFolder Open(string directory, bool verify = true, ILogger? logger = null)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Model folder {directory} does not exist; pass a bundle folder or a pulled base model (e.g. models/minilm-l6).");
        directory = Path.GetFullPath(directory);
        var bundlePath = Path.Combine(directory, BundleManifest.FileName);
        var modelPath = Path.Combine(directory, ModelManifest.FileName);
        BundleManifest manifest;
        var hint = "";
        var isBundle = File.Exists(bundlePath);
        if (isBundle)
        {
            manifest = PeftJson.Load<BundleManifest>(bundlePath);
            if (manifest.Format != BundleManifest.CurrentFormat)
                throw new InvalidDataException($"{bundlePath} has format '{manifest.Format}', this runtime reads '{BundleManifest.CurrentFormat}'; re-export the bundle.");
            if (manifest.GraphOptimization is { } optimization && optimization != BundleManifest.ExtendedOptimization)
                throw new InvalidDataException($"{bundlePath} has graph_optimization '{optimization}'; this runtime runs models saved at '{BundleManifest.ExtendedOptimization}' (or unoptimized, without the field); re-export the bundle.");
        }
        else if (File.Exists(modelPath))
        {
            var model = PeftJson.Load<ModelManifest>(modelPath);
            hint = $"; run `peftonnx models pull {model.Name}` first";
            manifest = BundleManifest.FromBaseModel(model);
        }
        else
        {
            throw new FileNotFoundException($"{directory} holds neither {BundleManifest.FileName} nor {ModelManifest.FileName}; pass a bundle folder or a base model folder such as models/minilm-l6.", bundlePath);
        }

        var folder = new ModelFolder(directory, manifest,
            BundleFiles.Resolve(directory, manifest.Model, "model"), BundleFiles.Resolve(directory, manifest.Tokenizer.Vocab, "tokenizer.vocab"));
        foreach (var file in new[] { folder.ModelPath, folder.VocabPath })
        {
            if (!File.Exists(file))
                throw new FileNotFoundException($"{file} is missing{hint}.", file);
        }
        if (isBundle && verify)
        {
            string[] read = File.Exists(Path.Combine(directory, SideGraphManifest.FileName))
                ? [manifest.Model, manifest.Tokenizer.Vocab, SideGraphManifest.FileName]
                : [manifest.Model, manifest.Tokenizer.Vocab];
            // Files the runtime reads into memory anyway are checked on those bytes, once, where they are read: the
            // vocabulary (LoadTokenizer) and an ORT-format model (CreateSession), both beside the session build.
            folder._verifyOnRead = true;
            string[] checkedOnRead = manifest.IsOrtFormat ? [manifest.Model, manifest.Tokenizer.Vocab] : [manifest.Tokenizer.Vocab];
            if (!BundleFiles.Verify(directory, manifest, read, checkedOnRead))
                logger?.LogWarning("{Manifest} records no file hashes (exported before bundles were sealed), so its files are not verified; re-export the bundle to add them", bundlePath);
        }
        return folder;
    }

    public BertTokenizer LoadTokenizer() => BertTokenizer.FromFile(VocabPath, Manifest.Tokenizer,
        _verifyOnRead ? bytes => BundleFiles.VerifyContent(Directory, Manifest, Manifest.Tokenizer.Vocab, bytes) : null);

    /// <summary>
    /// The session (<see cref="CreateSession"/>) and the tokenizer, loaded beside it on the thread pool: independent
    /// work, and a start is that much shorter on two cores. When both fail, the session's error is the one reported.
    /// </summary>
    public (ModelSession Session, BertTokenizer Tokenizer, long VocabularyMilliseconds) LoadSessionAndTokenizer(SessionSettings settings, ILogger? logger)
    {
        var vocabulary = Task.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var loaded = LoadTokenizer();
            return (Tokenizer: loaded, Milliseconds: clock.ElapsedMilliseconds);
        });
        ModelSession session;
        try
        {
            session = CreateSession(settings, logger);
        }
        catch
        {
            _ = vocabulary.ContinueWith(t => t.Exception, TaskScheduler.Default); // observed and dropped
            throw;
        }
        try
        {
            var (tokenizer, milliseconds) = vocabulary.GetAwaiter().GetResult();
            return (session, tokenizer, milliseconds);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
