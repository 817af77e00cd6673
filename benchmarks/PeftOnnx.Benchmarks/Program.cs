using BenchmarkDotNet.Running;

namespace PeftOnnx.Benchmarks;

/// <summary>Runs any benchmark class of this assembly: <c>dotnet run -c Release -- --filter '*Tokenizer*' --job short</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
