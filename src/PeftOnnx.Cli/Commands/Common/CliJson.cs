using System.Text.Encodings.Web;
using System.Text.Json;
using PeftOnnx.Core.Json;

namespace PeftOnnx.Cli.Commands.Common;

/// <summary>JSON for result lines: the project's snake_case settings, one object per line.</summary>
internal static class CliJson
{
    public static JsonSerializerOptions Lines { get; } = new(PeftJson.Options.With(CliJsonContext.Default))
    {
        WriteIndented = false,
        // Paths and texts stay readable (no \u escaping of non-ASCII or '+').
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Line<T>(T value) => JsonSerializer.Serialize(value, Lines.TypeInfo<T>());
}
