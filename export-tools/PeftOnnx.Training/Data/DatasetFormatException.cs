namespace PeftOnnx.Training.Data;

/// <summary>Training data that cannot be used as given; the message names the file, the line or entry, and the fix.</summary>
public sealed class DatasetFormatException : Exception
{
    public DatasetFormatException(string message) : base(message)
    {
    }

    public DatasetFormatException(string message, Exception inner) : base(message, inner)
    {
    }

    public DatasetFormatException()
    {
    }
}
