using System.Text.Json.Serialization;
using PeftOnnx.Core.Bundles;
using PeftOnnx.Core.Models;

namespace PeftOnnx.Core.Json;

/// <summary>
/// Source-generated JSON metadata for the manifests the runtime reads (Native AOT has no reflection). The generated
/// code sets a type's init-only properties in one object initializer, every one of them, so a property with a default
/// is declared <c>set</c>: then only the properties the file holds are assigned and the others keep their defaults.
/// </summary>
[JsonSerializable(typeof(BundleManifest))]
[JsonSerializable(typeof(ModelManifest))]
[JsonSerializable(typeof(SideGraphManifest))]
internal sealed partial class CoreJsonContext : JsonSerializerContext;
