using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace PeftOnnx.Training;

/// <summary>
/// Finds and replaces sub-modules by their dotted names, as PEFT's injection does with getattr/setattr:
/// the parent's field of the same name and its registration are swapped together.
/// </summary>
public static class ModuleSurgery
{
    /// <summary>Every module whose dotted name matches a PEFT target entry (equal, or ending with "." + entry).</summary>
    public static IReadOnlyList<(string Name, nn.Module Module)> FindTargets(nn.Module root, IEnumerable<string> targets, Func<nn.Module, bool> eligible)
    {
        var entries = targets.ToArray();
        return root.named_modules()
            .Where(m => m.name.Length > 0 && eligible(m.module) && entries.Any(t => Matches(m.name, t)))
            .ToList();
    }

    /// <summary>PEFT's target matching: the full name equals the entry or ends with "." + entry.</summary>
    public static bool Matches(string moduleName, string target) =>
        moduleName == target || moduleName.EndsWith("." + target, StringComparison.Ordinal);

    /// <summary>The module at <paramref name="dottedName"/> below <paramref name="root"/>.</summary>
    public static nn.Module Get(nn.Module root, string dottedName)
    {
        var module = root;
        foreach (var part in dottedName.Split('.'))
        {
            module = module.named_children().FirstOrDefault(c => c.name == part).module
                ?? throw new ArgumentException($"{root.GetType().Name} has no sub-module {dottedName} (no child {part}).");
        }
        return module;
    }

    /// <summary>Puts <paramref name="replacement"/> where <paramref name="dottedName"/> was (or into an empty slot of that name).</summary>
    public static void Replace(nn.Module root, string dottedName, nn.Module<Tensor, Tensor> replacement)
    {
        var split = dottedName.LastIndexOf('.');
        var parent = split < 0 ? root : Get(root, dottedName[..split]);
        var childName = dottedName[(split + 1)..];
        var field = parent.GetType().GetField(childName, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
            ?? throw new ArgumentException($"{parent.GetType().Name} has no slot named {childName}, so {dottedName} cannot be adapted.");
        if (!field.FieldType.IsInstanceOfType(replacement))
            throw new ArgumentException($"{dottedName} holds a {field.FieldType.Name}; a {replacement.GetType().Name} cannot take its place.");
        parent.register_module(childName, null!);
        parent.register_module(childName, replacement);
        field.SetValue(parent, replacement);
    }
}
