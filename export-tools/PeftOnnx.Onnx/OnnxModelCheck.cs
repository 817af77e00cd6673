using Onnx;
using PeftOnnx.Onnx.Graph;

namespace PeftOnnx.Onnx;

/// <summary>
/// Structural checks run on every loaded model. Protobuf parses many broken files without an error (an empty file is a
/// valid empty message; a file cut at a field boundary parses too), so these catch what the parser cannot.
/// </summary>
internal static class OnnxModelCheck
{
    public static void Validate(ModelProto model, string path)
    {
        if (!model.HasIrVersion || model.IrVersion <= 0)
            throw Bad(path, "it has no ir_version (field 1 of ModelProto), so it is not an ONNX model");
        if (model.Graph is null)
            throw Bad(path, $"it has no graph (ir_version {model.IrVersion}); the file is truncated or not an ONNX model");
        if (model.OpsetImport.Count == 0)
            throw Bad(path, $"it has no opset_import (graph '{model.Graph.Name}' with {model.Graph.Node.Count} nodes); the file is probably truncated after the graph");
        foreach (var tensor in OnnxTensors.All(model))
            CheckTensorSize(tensor, path);
    }

    private static void CheckTensorSize(TensorProto tensor, string path)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            return; // checked when the side file is read
        var size = TensorElementTypes.ByteSize(tensor.DataType);
        if (size == 0)
            return; // STRING or a type newer than the pinned schema: nothing to compare
        long count;
        try
        {
            count = TensorData.ElementCount(tensor.Dims);
        }
        catch (Exception e) when (e is InvalidDataException or OverflowException)
        {
            throw Bad(path, $"tensor '{tensor.Name}' has an invalid shape [{string.Join(", ", tensor.Dims)}]: {e.Message}");
        }
        if (tensor.HasRawData)
        {
            if (tensor.RawData.Length != count * size)
            {
                throw Bad(path,
                    $"tensor '{tensor.Name}' ({TensorElementTypes.Name(tensor.DataType)} [{string.Join(", ", tensor.Dims)}]) needs {count * size} bytes of raw_data but has {tensor.RawData.Length}");
            }
            return;
        }
        var typed = tensor.FloatData.Count + tensor.Int32Data.Count + tensor.Int64Data.Count + tensor.DoubleData.Count + tensor.Uint64Data.Count;
        var perElement = tensor.DataType is (int)TensorProto.Types.DataType.Complex64 or (int)TensorProto.Types.DataType.Complex128 ? 2 : 1;
        if (typed != count * perElement)
        {
            throw Bad(path,
                $"tensor '{tensor.Name}' ({TensorElementTypes.Name(tensor.DataType)} [{string.Join(", ", tensor.Dims)}]) has {typed} values but its shape needs {count * perElement}");
        }
    }

    private static InvalidDataException Bad(string path, string what) => new($"{path} is not a valid ONNX model: {what}.");
}
