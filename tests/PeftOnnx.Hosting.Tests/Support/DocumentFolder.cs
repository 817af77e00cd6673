namespace PeftOnnx.Hosting.Tests.Support;

/// <summary>Generates folders of small, distinct text documents (ids are their relative paths).</summary>
internal static class DocumentFolder
{
    private static readonly string[] Words =
        ["package", "kernel", "python", "library", "editor", "network", "daemon", "font", "game", "science", "shell", "graphics"];

    /// <summary>Writes <paramref name="count"/> documents in sub-folders of 100 and returns their ids.</summary>
    public static IReadOnlyList<string> Generate(string root, int count, int seed = 1)
    {
        var random = new Random(seed);
        var ids = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var id = $"batch{i / 100:D3}/doc{i:D5}.txt";
            var path = Path.Combine(root, id);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var words = Enumerable.Range(0, 8 + random.Next(24)).Select(_ => Words[random.Next(Words.Length)]);
            File.WriteAllText(path, $"document {i}: {string.Join(' ', words)}\n");
            ids.Add(id);
        }
        return ids;
    }
}
