using System.Buffers;
using System.CommandLine;
using System.Text;

namespace PeftOnnx.Tests;

/// <summary>
/// The command lines a markdown file shows in its code blocks for one program, checked against the program's real
/// command tree so the docs and the CLI cannot drift: a concrete line must parse without errors; a synopsis line
/// ([optional], a|b, &lt;placeholder&gt;, T...) must name an existing verb and only options that verb has. Neither may
/// use an old spelling kept as a hidden alias.
/// </summary>
internal static class ReadmeCommandLines
{
    private static readonly SearchValues<char> SynopsisMarks = SearchValues.Create("[]|<>()");

    public sealed record Line(string Source, string Text, IReadOnlyList<string> Tokens)
    {
        public bool IsSynopsis => Tokens.Any(t => t.AsSpan().IndexOfAny(SynopsisMarks) >= 0 || t.EndsWith("...", StringComparison.Ordinal));

        public override string ToString() => $"{Source}: {Text}";
    }

    /// <summary>
    /// Lines of <paramref name="markdownPath"/>'s code blocks that start with <paramref name="program"/> (or one of
    /// <paramref name="launchers"/>, such as `dotnet run --project ... --`), with their continuation lines (after a
    /// trailing backslash, or indented) joined and `# comments` dropped; tokens are the arguments after the program.
    /// </summary>
    public static List<Line> Read(string markdownPath, string program, params string[] launchers)
    {
        var lines = new List<Line>();
        var inBlock = false;
        StringBuilder? current = null;
        var start = 0;
        var number = 0;
        void Close()
        {
            if (current is not null)
            {
                var text = current.ToString().Trim();
                lines.Add(new Line($"{Path.GetFileName(markdownPath)}:{start}", text, Split(text)));
            }
            current = null;
        }
        foreach (var raw in File.ReadLines(markdownPath))
        {
            number++;
            if (raw.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                Close();
                inBlock = !inBlock;
                continue;
            }
            if (!inBlock)
                continue;
            var line = StripComment(raw).TrimEnd();
            if (current is not null && line.Length > 0 && (current.ToString().EndsWith('\\') || char.IsWhiteSpace(line[0])))
            {
                current.Length -= current.ToString().EndsWith('\\') ? 1 : 0;
                current.Append(' ').Append(line.Trim());
                continue;
            }
            Close();
            var trimmed = line.TrimStart();
            var prefix = new[] { program }.Concat(launchers).FirstOrDefault(p => trimmed == p || trimmed.StartsWith(p + " ", StringComparison.Ordinal));
            if (prefix is null)
                continue;
            current = new StringBuilder(trimmed[prefix.Length..]);
            start = number;
        }
        Close();
        return lines;
    }

    /// <summary>What is wrong with <paramref name="line"/> against <paramref name="root"/>; empty when it matches.</summary>
    public static List<string> Problems(Line line, RootCommand root, Func<Option, IReadOnlyList<string>> legacyAliases)
    {
        var problems = new List<string>();
        if (!line.IsSynopsis)
        {
            var result = root.Parse([.. line.Tokens]);
            problems.AddRange(result.Errors.Select(e => e.Message));
            foreach (var option in result.CommandResult.Children.OfType<System.CommandLine.Parsing.OptionResult>())
            {
                if (option.IdentifierToken is { } token && legacyAliases(option.Option).Contains(token.Value))
                    problems.Add($"{token.Value} is an old spelling of {option.Option.Name}");
            }
            return problems;
        }
        var command = (Command)root;
        var ancestors = new List<Command> { root };
        foreach (var token in line.Tokens)
        {
            var sub = command.Subcommands.FirstOrDefault(c => c.Name == token || c.Aliases.Contains(token));
            if (sub is null)
                break;
            command = sub;
            ancestors.Add(sub);
        }
        if (command == root)
        {
            if (line.Tokens.Count > 0 && !line.Tokens[0].StartsWith('<'))
                problems.Add($"'{line.Tokens[0]}' is not a verb");
            return problems;
        }
        var options = command.Options.Concat(ancestors.SelectMany(c => c.Options).Where(o => o.Recursive)).ToList();
        foreach (var name in line.Tokens.SelectMany(OptionNames))
        {
            var option = options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));
            if (option is null)
                problems.Add($"'{command.Name}' has no option {name}");
            else if (legacyAliases(option).Contains(name))
                problems.Add($"{name} is an old spelling of {option.Name}");
        }
        return problems;
    }

    /// <summary>The option names in a synopsis token: "[--device", "(--text", "--json]", "-m".</summary>
    private static IEnumerable<string> OptionNames(string token) =>
        token.Trim('[', ']', '(', ')').Split('|')
            .Select(p => p.Trim('[', ']', '(', ')'))
            .Where(p => p.StartsWith('-') && p.Length > 1 && char.IsLetter(p.TrimStart('-')[0]) && !p.Contains(':') && !p.Contains('='));

    private static string StripComment(string line)
    {
        var quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
                quote = c == quote ? '\0' : quote;
            else if (c is '"' or '\'')
                quote = c;
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1])))
                return line[..i];
        }
        return line;
    }

    /// <summary>Splits like a shell: whitespace separates, quotes group (and are dropped).</summary>
    private static List<string> Split(string text)
    {
        var tokens = new List<string>();
        var token = new StringBuilder();
        var quote = '\0';
        var any = false;
        foreach (var c in text)
        {
            if (quote != '\0')
            {
                if (c == quote)
                    quote = '\0';
                else
                    token.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                any = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (any || token.Length > 0)
                    tokens.Add(token.ToString());
                token.Clear();
                any = false;
            }
            else
            {
                token.Append(c);
            }
        }
        if (any || token.Length > 0)
            tokens.Add(token.ToString());
        return tokens;
    }
}
