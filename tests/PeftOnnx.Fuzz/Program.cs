using System.Globalization;
using PeftOnnx.Fuzz;
using SharpFuzz;

// peftonnx-fuzz: see tests/PeftOnnx.Fuzz/README.md.
const string Usage = """
    usage: PeftOnnx.Fuzz list
           PeftOnnx.Fuzz seeds <corpus-dir> <repo-root>  rewrite the generated seeds (tests/PeftOnnx.Fuzz/corpus)
           PeftOnnx.Fuzz <target>                        afl++ persistent mode (input on stdin; run by scripts/fuzz.sh)
           PeftOnnx.Fuzz <target> --replay <file|dir>... one verdict per input; exit 1 if any crashes
           PeftOnnx.Fuzz <target> --campaign [--iterations N] [--seconds N] [--seed N] [--corpus DIR] [--findings DIR]
    """;

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}
if (args[0] == "list")
{
    foreach (var name in FuzzTargets.Names)
        Console.WriteLine($"{name,-16} {FuzzTargets.Create(name).Description}");
    return 0;
}
if (args[0] == "seeds" && args.Length == 3)
{
    SeedCorpus.Write(args[1], args[2]);
    return 0;
}
if (!FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"unknown target '{args[0]}'; targets: {string.Join(", ", FuzzTargets.Names)}.");
    return 2;
}

var target = FuzzTargets.Create(args[0]);
if (args.Length == 1)
{
    // afl++ feeds one input per iteration; an exception the target does not own escapes and afl records a crash.
    Fuzzer.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        try
        {
            target.Run(buffer.ToArray());
        }
        catch (Exception e) when (target.IsOwnFormatError(e))
        {
        }
    });
    return 0;
}

switch (args[1])
{
    case "--replay":
    {
        var crashes = 0;
        var files = args.Skip(2).SelectMany(a => Directory.Exists(a) ? Directory.EnumerateFiles(a).Order(StringComparer.Ordinal) : (IEnumerable<string>)[a]).ToList();
        foreach (var file in files)
        {
            var outcome = target.Check(File.ReadAllBytes(file));
            Console.WriteLine($"{file}: {(outcome.IsCrash ? "CRASH " + outcome.Error : outcome.IsRejected ? "rejected" : "accepted")}");
            crashes += outcome.IsCrash ? 1 : 0;
        }
        Console.WriteLine($"{files.Count} inputs, {crashes} crashes");
        return crashes == 0 ? 0 : 1;
    }
    case "--campaign":
    {
        long iterations = long.MaxValue;
        var seconds = double.PositiveInfinity;
        var seed = 1;
        var corpus = FuzzTargets.CorpusFolder(target.Name);
        var findings = Path.Combine("artifacts", "fuzz", target.Name);
        for (var i = 2; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--iterations": iterations = long.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--corpus": corpus = args[i + 1]; break;
                case "--findings": findings = args[i + 1]; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}\n{Usage}"); return 2;
            }
        }
        if (iterations == long.MaxValue && double.IsPositiveInfinity(seconds))
            seconds = 60;
        var seeds = Directory.Exists(corpus) ? Directory.EnumerateFiles(corpus).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList() : [];
        var result = new Campaign(target, seed).Run(seeds, iterations, TimeSpan.FromSeconds(seconds), findings);
        Console.WriteLine(result);
        foreach (var crash in result.Crashes)
            Console.WriteLine($"  CRASH {crash.Signature}: {crash.Message}");
        return result.Crashes.Count == 0 ? 0 : 1;
    }
    default:
        Console.Error.WriteLine(Usage);
        return 2;
}
