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

    /// <param name="devPath">Null: a seeded stratified split of <paramref name="devFraction"/> of the training data.</param>
    public static TaskData Load(string trainPath, string? devPath, string? testPath, BertTokenizer tokenizer, int maxLength, int seed, double devFraction = 0.1)
    {
        if (maxLength < 3)
            throw new ArgumentException($"--max-length should be at least 3 ([CLS] + one token + [SEP]), got {maxLength}.");
        var train = TextClassificationData.Read(trainPath);
        IReadOnlyList<LabeledText> dev;
        var split = devPath is null;
        if (split)
            (train, dev) = StratifiedSplit.Split(train, devFraction, seed);
        else
            dev = TextClassificationData.Read(devPath!);
        var labels = new LabelSet(train.Select(r => r.Label));
        labels.RequireKnown(dev, devPath ?? "the dev split");
        var test = testPath is null ? null : TextClassificationData.Read(testPath);
        if (test is not null)
            labels.RequireKnown(test, testPath!);
        IReadOnlyList<TokenizedExample> Encode(IReadOnlyList<LabeledText> rows) =>
            rows.Select(r => new TokenizedExample(tokenizer.Encode(r.Text, maxLength).Ids, labels.IdOf(r))).ToArray();
        return new TaskData(labels, Encode(train), Encode(dev), test is null ? null : Encode(test), split);
    }
}
