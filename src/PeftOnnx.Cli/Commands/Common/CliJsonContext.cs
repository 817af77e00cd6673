using System.Text.Json.Serialization;
using PeftOnnx.Cli.Commands.Embed;
using PeftOnnx.Cli.Commands.Eval;
using PeftOnnx.Cli.Commands.Tokenize;

namespace PeftOnnx.Cli.Commands.Common;

/// <summary>Source-generated JSON metadata for the lines the verbs print (Native AOT has no reflection).</summary>
[JsonSerializable(typeof(EvalCommand.EvalReport))]
[JsonSerializable(typeof(EvalCommand.MultiLabelEvalReport))]
[JsonSerializable(typeof(TokenizeCommand.TokenizeLine))]
[JsonSerializable(typeof(EmbedCommand.EmbedLine))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
