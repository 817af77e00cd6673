using Xunit.Abstractions;

namespace PeftOnnx.Fuzz.Tests;

/// <summary>
/// The bounded CI fuzz run: a fixed-seed in-process campaign per target (a few thousand mutated inputs, a few seconds
/// each on two cores). Long campaigns: scripts/fuzz.sh.
/// </summary>
public sealed class FuzzCampaignTests(ITestOutputHelper output)
{
    private const int Executions = 4000;

    public static TheoryData<string> Targets() => [.. FuzzTargets.Names];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Bounded_campaign_finds_no_crash(string target)
    {
        var fuzz = FuzzTargets.Create(target);
        var seeds = FuzzTargets.Corpus(target).Select(s => s.Bytes).ToList();
        var result = new Campaign(fuzz, seed: 20261206).Run(seeds, Executions, TimeSpan.FromSeconds(60));
        output.WriteLine(result.ToString());
        Assert.True(result.Crashes.Count == 0,
            string.Join("\n", result.Crashes.Select(c => $"{c.Signature}: {c.Message}\n  input (base64): {Convert.ToBase64String(c.Input)}")));
        Assert.Equal(Executions, result.Executions);
    }
}
