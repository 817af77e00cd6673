using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Runtime.CompilerServices;

namespace PeftOnnx.Cli.Commands.Common;

/// <summary>
/// Old option spellings kept for a release after a rename: they still parse (they are aliases of the renamed option),
/// but --help lists only the current names. Shared by `peftonnx` and `peftonnx-export` (linked into both).
/// </summary>
internal static class LegacyAliases
{
    private static readonly ConditionalWeakTable<Option, List<string>> Legacy = [];

    /// <summary>Adds <paramref name="aliases"/> to <paramref name="option"/> as spellings that --help does not show.</summary>
    public static TOption WithLegacyAlias<TOption>(this TOption option, params string[] aliases) where TOption : Option
    {
        ArgumentNullException.ThrowIfNull(option);
        var list = Legacy.GetOrCreateValue(option);
        foreach (var alias in aliases)
        {
            option.Aliases.Add(alias);
            list.Add(alias);
        }
        return option;
    }

    /// <summary>The legacy spellings of <paramref name="option"/> (empty for most options).</summary>
    public static IReadOnlyList<string> Of(Option option) => Legacy.TryGetValue(option, out var list) ? list : [];

    /// <summary>Makes <paramref name="root"/>'s --help (on every verb) leave the legacy spellings out.</summary>
    public static TCommand HideLegacyAliasesInHelp<TCommand>(this TCommand root) where TCommand : RootCommand
    {
        ArgumentNullException.ThrowIfNull(root);
        var help = root.Options.OfType<HelpOption>().Single();
        if (help.Action is HelpAction inner)
            help.Action = new HidingHelpAction(inner);
        return root;
    }

    /// <summary>Takes the legacy aliases off while the default help renders, and puts them back after.</summary>
    private sealed class HidingHelpAction : SynchronousCommandLineAction
    {
        private readonly HelpAction _inner;

        public HidingHelpAction(HelpAction inner) => _inner = inner;

        /// <summary>`verb --help` shows help even when required options are missing, as the default help does.</summary>
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var hidden = new List<(Option Option, string Alias)>();
            foreach (var option in Options(parseResult.RootCommandResult.Command))
            {
                foreach (var alias in Of(option))
                {
                    if (option.Aliases.Remove(alias))
                        hidden.Add((option, alias));
                }
            }
            try
            {
                return _inner.Invoke(parseResult);
            }
            finally
            {
                foreach (var (option, alias) in hidden)
                    option.Aliases.Add(alias);
            }
        }

        private static IEnumerable<Option> Options(Command command) =>
            command.Options.Concat(command.Subcommands.SelectMany(Options));
    }
}
