namespace PeftOnnx.Tests;

/// <summary>
/// A program from PATH that a test needs and .ci/run installs (redis-server, chromium, clang). When it is missing the
/// test is skipped with the command that installs it, except under CI (CI=true), where that is an error: CI must run it.
/// </summary>
public static class RequiredTool
{
    /// <summary>The first of <paramref name="names"/> found on PATH; <paramref name="test"/> says what is skipped without it.</summary>
    public static string Find(string install, string test, params string[] names)
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => names.Select(name => Path.Combine(dir, name))).FirstOrDefault(File.Exists);
        if (found is not null)
            return found;
        var missing = $"{names[0]} is not on PATH (`{install}`; .ci/run does it)";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"{missing}, and CI must run the {test}.");
        throw new SkipException($"{missing}: {test} skipped.");
    }
}
