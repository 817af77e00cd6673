using PeftOnnx.Runtime.Tokenization;

namespace PeftOnnx.Training.Data;

/// <summary>Train / dev (/ test) examples of one classification task, tokenized, with their label set.</summary>
public sealed class TaskData
{
    private TaskData(LabelSet labels, IReadOnlyList<TokenizedExample> train, IReadOnlyList<TokenizedExample> dev, IReadOnlyList<TokenizedExample>? test, bool devWasSplit)
    {
        Labels = labels;
        Train = train;
        Dev = dev;
        Test = test;
        DevWasSplit = devWasSplit;
    }

    public LabelSet Labels { get; }
    public IReadOnlyList<TokenizedExample> Train { get; }
    public IReadOnlyList<TokenizedExample> Dev { get; }
    public IReadOnlyList<TokenizedExample>? Test { get; }

    /// <summary>True when no dev file was given and dev was split off the training data.</summary>
    public bool DevWasSplit { get; }

    /// <summary>True when every document has a list of labels (sigmoid per label) instead of one class.</summary>
    public bool MultiLabel { get; private init; }

    /// <param name="devPath">Null: a seeded stratified split of <paramref name="devFraction"/> of the training data.</param>
    /// <param name="multiLabel">Rows must have "labels" lists (true) or one "label" (false); a mix is an error naming the row.</param>
    public static TaskData Load(string trainPath, string? devPath, string? testPath, BertTokenizer tokenizer, int maxLength, int seed, double devFraction = 0.1, bool multiLabel = false)
    {
        if (maxLength < 3)
            throw new ArgumentException($"--max-length should be at least 3 ([CLS] + one token + [SEP]), got {maxLength}.");
        var train = RequireMode(TextClassificationData.Read(trainPath), multiLabel);
        IReadOnlyList<LabeledText> dev;
        var split = devPath is null;
        if (split)
            (train, dev) = StratifiedSplit.Split(train, devFraction, seed);
        else
            dev = RequireMode(TextClassificationData.Read(devPath!), multiLabel);
        var labels = new LabelSet(train.SelectMany(r => r.Labels ?? [r.Label]));
        labels.RequireKnown(dev, devPath ?? "the dev split");
        var test = testPath is null ? null : RequireMode(TextClassificationData.Read(testPath), multiLabel);
        if (test is not null)
            labels.RequireKnown(test, testPath!);
        IReadOnlyList<TokenizedExample> Encode(IReadOnlyList<LabeledText> rows) =>
            rows.Select(r => multiLabel
                ? new TokenizedExample(tokenizer.Encode(r.Text, maxLength).Ids, -1, labels.IdsOf(r))
                : new TokenizedExample(tokenizer.Encode(r.Text, maxLength).Ids, labels.IdOf(r))).ToArray();
        return new TaskData(labels, Encode(train), Encode(dev), test is null ? null : Encode(test), split) { MultiLabel = multiLabel };
    }

    private static IReadOnlyList<LabeledText> RequireMode(IReadOnlyList<LabeledText> rows, bool multiLabel)
    {
        var wrong = rows.FirstOrDefault(r => (r.Labels is not null) != multiLabel);
        if (wrong is null)
            return rows;
        throw multiLabel
            ? new DatasetFormatException($"{wrong.Source} has one \"label\" ('{wrong.Label}'), but multi-label training (--multi-label) needs a \"labels\" list on every row, e.g. \"labels\": [\"{wrong.Label}\"]; drop --multi-label to train a single-label classifier.")
            : new DatasetFormatException($"{wrong.Source} has a \"labels\" list [{string.Join(", ", wrong.Labels!)}]: that is multi-label data; train it with --multi-label.");
    }
}
