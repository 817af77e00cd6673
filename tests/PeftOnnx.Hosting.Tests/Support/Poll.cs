namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>Waits for a condition with a hard time bound, so a hang fails the test instead of blocking CI.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> describe, int intervalMs = 50)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:F0} s waiting for: {describe()}");
            await Task.Delay(intervalMs);
        }
    }
}
