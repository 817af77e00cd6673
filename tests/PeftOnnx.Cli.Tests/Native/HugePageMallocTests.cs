using System.Diagnostics;
using PeftOnnx.Tests;
using Xunit.Abstractions;

namespace PeftOnnx.Cli.Tests.Native;

/// <summary>
/// src/PeftOnnx.Cli/Native/hugepage_malloc.c, the start-up hook of the Linux edge executable, linked here into a probe
/// program built with clang as the edge build links it: the probe mallocs 8 MiB and reports the flags of the mapping
/// that holds it (/proc/self/smaps) and the arguments it got. Huge-page advice ("hg") must be there after the re-exec,
/// with every argument intact, and absent when the user set GLIBC_TUNABLES (the opt-out).
/// </summary>
public sealed class HugePageMallocTests(ITestOutputHelper output) : IDisposable
{
    private const string Probe = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>

        int main(int argc, char **argv)
        {
            size_t size = 8u << 20;
            char *block = malloc(size);
            memset(block, 1, size);
            unsigned long address = (unsigned long)block;
            FILE *maps = fopen("/proc/self/smaps", "r");
            char line[1024];
            int holds = 0;
            while (fgets(line, sizeof line, maps))
            {
                unsigned long start, end;
                if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
                    holds = address >= start && address < end;
                else if (holds && strncmp(line, "VmFlags:", 8) == 0)
                    printf("flags:%s", line + 8);
            }
            for (int i = 1; i < argc; i++)
                printf("arg:%s\n", argv[i]);
            return 0;
        }
        """;

    private readonly TempFolder _folder = new("hugepage-malloc");

    [SkippableFact]
    public void Re_executes_with_huge_page_malloc_keeping_the_arguments()
    {
        var probe = Build();
        var run = Run(probe, tunables: null, "score", "two words", "--flag=1");
        Assert.Contains(" hg", run.Single(l => l.StartsWith("flags:", StringComparison.Ordinal)));
        Assert.Equal(["arg:score", "arg:two words", "arg:--flag=1"], run.Where(l => l.StartsWith("arg:", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public void Tunables_the_user_set_are_left_alone()
    {
        var probe = Build();
        var run = Run(probe, tunables: "", "x");
        Assert.DoesNotContain(" hg", run.Single(l => l.StartsWith("flags:", StringComparison.Ordinal)));
    }

    private string Build()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "glibc tunables are Linux-only");
        Skip.IfNot(File.Exists("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"), "this kernel has no transparent huge pages");
        var clang = RequiredTool.Find("sudo apt-get install -y clang", "huge-page malloc test (the edge build links with clang too)", "clang");

        var hook = Path.Combine(TestPaths.RepoRoot, "src", "PeftOnnx.Cli", "Native", "hugepage_malloc.c");
        var main = _folder.File("probe.c", Probe);
        var probe = _folder.Combine("probe");
        var (code, lines) = Execute(clang, null, "-O2", "-Wall", "-Werror", "-o", probe, main, hook);
        Assert.True(code == 0, string.Join('\n', lines));
        return probe;
    }

    private string[] Run(string probe, string? tunables, params string[] args)
    {
        var (code, lines) = Execute(probe, tunables, args);
        Assert.True(code == 0, string.Join('\n', lines));
        output.WriteLine($"GLIBC_TUNABLES {(tunables is null ? "unset" : $"'{tunables}'")}: {string.Join(" | ", lines)}");
        return lines;
    }

    private static (int Code, string[] Lines) Execute(string file, string? tunables, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment.Remove("GLIBC_TUNABLES");
        if (tunables is not null)
            info.Environment["GLIBC_TUNABLES"] = tunables;
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var text = stdout + stderr.GetAwaiter().GetResult();
        return (process.ExitCode, text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    public void Dispose() => _folder.Dispose();
}
