using PeftOnnx.Runtime.Documents;

namespace PeftOnnx.Runtime.Tests.Documents;

public sealed class DocumentWalkerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public void Walks_folders_recursively_in_a_stable_order_skipping_hidden_entries()
    {
        _folder.File("b.txt", "b");
        _folder.File("a.txt", "a");
        _folder.File("sub/z.md", "z");
        _folder.File("sub/deeper/y.html", "y");
        _folder.File("another/x.json", "{}");
        _folder.File(".git/config", "hidden");
        _folder.File(".hidden.txt", "hidden");

        var files = DocumentWalker.Walk([_folder.Path]).Select(f => Path.GetRelativePath(_folder.Path, f)).ToList();

        Assert.Equal(["a.txt", "b.txt", "another/x.json", "sub/z.md", "sub/deeper/y.html"], files);
    }

    [Fact]
    public void Files_and_missing_paths_pass_through_for_the_reader_to_report()
    {
        var file = _folder.File("one.txt", "1");
        var missing = Path.Combine(_folder.Path, "missing.txt");
        Assert.Equal([file, missing], DocumentWalker.Walk([file, missing]));
    }

    [Fact]
    public void Walking_is_lazy()
    {
        _folder.File("a.txt", "a");
        _folder.File("sub/b.txt", "b");
        using var walk = DocumentWalker.Walk([_folder.Path]).GetEnumerator();
        Assert.True(walk.MoveNext());
        Assert.EndsWith("a.txt", walk.Current);
        // Subfolders are listed only when the walk reaches them: a file added now is still found.
        _folder.File("sub/a-later.txt", "c");
        Assert.True(walk.MoveNext());
        Assert.EndsWith("sub/a-later.txt", walk.Current);
        Assert.True(walk.MoveNext());
        Assert.EndsWith("sub/b.txt", walk.Current);
    }

    public void Dispose() => _folder.Dispose();
}
